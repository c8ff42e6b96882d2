"""Import an SBML Level 2 or 3 model as a fentonsim :class:`Mechanism`.

What is supported, and how it maps (anything else is refused with an
:class:`SBMLError` naming the element — a model is never simulated wrongly):

- **One compartment** holding every species, of constant size in litres (or
  metre³, or a scaled litre). A size may be missing only when no value needs
  it (all species amounts, the compartment in no formula); 1 L is then used.
- **Species** given as amounts or concentrations, ``hasOnlySubstanceUnits``
  true or false, initial values from attributes or initial assignments.
  Boundary and constant species keep their initial value; they become
  clamped (``buffered``) species whose values are folded into the rate laws.
- **Parameters**, global and local, constant or set by an assignment rule or
  initial assignment that depends on constants only.
- **Kinetic laws** that are one mass-action term (or, for a reversible
  reaction, k₁·Π reactants − k₂·Π products: two directions): a product or quotient of
  numbers, parameters, compartment sizes and species to positive integer
  powers, at most three molecules in all. A law's order in each consumed
  species must equal the species' stoichiometry, which is what makes the law
  mass action; species that appear in the law without being consumed are
  catalysts (reactant and product). Factors ``(X - 1)`` and ``(X - 2)`` next to
  ``X`` — the falling factorial stochastic models write for ``2X`` or ``3X`` —
  are recognised; the SSA then uses c·n(n−1)…, the ODE the mass-action limit
  k·[X]² (a warning says so). A plain power of an amount (``k*X*X`` with X
  in ``hasOnlySubstanceUnits``) gets the propensity c·n² the SBML test suite's
  stochastic semantics prescribe; a power of a concentration is a
  deterministic rate law, whose stochastic reading is the chemical master
  equation's falling factorial (Gillespie 1977), as for fentonsim's own
  mechanisms and exports.
- **Assignment rules** to species or parameters not used by any kinetic law
  become observables (derived outputs); initial values follow them.
- **Events** without delay whose trigger is ``time >= T`` (or ``>``, ``<=``,
  ``<`` the other way round) with T > 0 a constant, assigning species a
  constant (an :class:`~fentonsim.inputs.Assignment`) or ``X ± constant``
  (a :class:`~fentonsim.inputs.Bolus`).

Units: values are converted to fentonsim's M, s and L from the model's
substance (mole, item or scaled mole), volume and time units; a model without
units is read as mole, litre, second. A model in items (molecule counts) is
flagged ``counts``: results report counts, and its ODE absolute tolerance is
10⁻⁶ molecules.

Stochastic semantics follow the SBML test suite: species are amounts and the
propensity is the kinetic law evaluated on them. With the law K·Π q_i^ν_i
(q_i the symbol's value: an amount, or a concentration amount/V), the rate
constant in fentonsim's convention is k = K·(s/(V·t_u))·Π (V·g_i/s)^ν_i with s
the moles per model substance unit, V the volume [L], t_u the seconds per
model time unit and g_i 1 for amounts, 1/V_model for concentrations; for
counts (s = 1/N_A) the SSA propensity c = k·(N_A V)^(1−order) is then exactly
the law evaluated on counts.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from ..constants import AVOGADRO, STANDARD_TEMPERATURE
from ..errors import MechanismError
from ..expression import affine, evaluate, num, op, substitute, sym, symbols, to_text
from ..inputs import Assignment, Bolus
from ..mechanism.schema import Branch, Defaults, Location, Mechanism, Observable, RateLaw, Reaction, Species

MAX_ORDER = 3
COUNT_ATOL = 1e-6  # molecules


class SBMLError(MechanismError):
    """An SBML file cannot be read, or uses a construct fentonsim does not simulate."""


def _libsbml():
    try:
        import libsbml
    except ImportError:  # pragma: no cover - depends on the environment
        raise SBMLError("reading SBML needs python-libsbml; install it with `pip install \"fentonsim[sbml]\"`") \
            from None
    return libsbml


# ----------------------------------------------------------------------------- math


def _ast_to_expr(node, lib, where):
    """A fentonsim.expression tree from a libsbml AST node (``where`` names the element for errors)."""
    t = node.getType()
    children = [node.getChild(i) for i in range(node.getNumChildren())]
    if t in (lib.AST_INTEGER, lib.AST_REAL, lib.AST_REAL_E, lib.AST_RATIONAL):
        return num(node.getValue())
    if t == lib.AST_NAME:
        return sym(node.getName())
    if t == lib.AST_NAME_TIME:
        return sym("time")
    if t == lib.AST_NAME_AVOGADRO:
        return num(AVOGADRO)
    if t == lib.AST_CONSTANT_E:
        return num(math.e)
    if t == lib.AST_CONSTANT_PI:
        return num(math.pi)
    simple = {lib.AST_PLUS: "plus", lib.AST_MINUS: "minus", lib.AST_TIMES: "times", lib.AST_DIVIDE: "divide",
              lib.AST_POWER: "power", lib.AST_FUNCTION_POWER: "power", lib.AST_FUNCTION_EXP: "exp",
              lib.AST_FUNCTION_LN: "ln", lib.AST_FUNCTION_ABS: "abs"}
    args = [_ast_to_expr(c, lib, where) for c in children]
    if t in simple:
        if t == lib.AST_PLUS and not args:
            return num(0.0)
        if t == lib.AST_TIMES and not args:
            return num(1.0)
        return op(simple[t], *args)
    if t == lib.AST_FUNCTION_LOG:
        # log with one child is base 10; with two the first is the base.
        if len(args) == 1:
            return op("log10", args[0])
        return op("divide", op("ln", args[1]), op("ln", args[0]))
    if t == lib.AST_FUNCTION_ROOT:
        if len(args) == 1:
            return op("sqrt", args[0])
        return op("power", args[1], op("divide", num(1.0), args[0]))
    relational = {lib.AST_RELATIONAL_GEQ: "geq", lib.AST_RELATIONAL_GT: "gt", lib.AST_RELATIONAL_LEQ: "leq",
                  lib.AST_RELATIONAL_LT: "lt"}
    if t in relational and len(args) == 2:
        return ("rel", relational[t], tuple(args))
    formula = lib.formulaToL3String(node) or node.getName() or "?"
    raise SBMLError(f"{where} uses `{formula}`, which fentonsim does not support (supported: numbers, names, "
                    "+ - * /, power, exp, ln, log, root, abs; triggers time >= T)")


# ----------------------------------------------------------------------------- units

_KIND_FACTORS = {  # unit kind -> (dimension, factor to mol, L or s)
    "mole": ("substance", 1.0), "item": ("substance", 1.0 / AVOGADRO),
    "litre": ("volume", 1.0), "liter": ("volume", 1.0), "second": ("time", 1.0),
}


def _unit_factor(model, unit_id, dimension, lib, where):
    """Factor converting one ``unit_id`` of ``dimension`` to mol, L or s (None when unset)."""
    if not unit_id:
        return None
    if unit_id in _KIND_FACTORS:
        kind_dimension, factor = _KIND_FACTORS[unit_id]
        if kind_dimension == dimension:
            return factor
    definition = model.getUnitDefinition(unit_id)
    if definition is not None:
        factor, dims = 1.0, {}
        for i in range(definition.getNumUnits()):
            unit = definition.getUnit(i)
            kind = lib.UnitKind_toString(unit.getKind())
            exponent = unit.getExponentAsDouble()
            base = unit.getMultiplier() * 10.0 ** unit.getScale()
            if kind in _KIND_FACTORS:
                d, f = _KIND_FACTORS[kind]
                dims[d] = dims.get(d, 0.0) + exponent
                factor *= (base * f) ** exponent
            elif kind == "metre":
                dims["volume"] = dims.get("volume", 0.0) + exponent / 3.0
                factor *= (base * 10.0) ** exponent  # 1 m = 10 dm, and 1 dm³ = 1 L
            elif kind == "dimensionless":
                factor *= base ** exponent
            else:
                dims[kind] = exponent
        if {k: v for k, v in dims.items() if v} == {dimension: 1.0}:
            return factor
    raise SBMLError(f"{where}: unit `{unit_id}` is not a {dimension} unit fentonsim can convert "
                    f"(expected {'mole or item' if dimension == 'substance' else 'litre or metre^3' if dimension == 'volume' else 'second'}, "
                    "possibly scaled)")


# ----------------------------------------------------------------------------- the model


class _Reader:
    """One pass over a libsbml Model, collecting a Mechanism."""

    def __init__(self, doc, path, lib):
        self.lib = lib
        self.path = str(path)
        self.model = doc.getModel()
        self.warnings = []

    def error(self, message, element=None):
        line = element.getLine() if element is not None and element.getLine() > 0 else None
        return SBMLError(message, self.path, line)

    def where(self, element, kind):
        return f"{kind} `{element.getId()}`" if element.getId() else kind

    def math(self, element, kind):
        if not element.isSetMath():
            raise self.error(f"{self.where(element, kind)} has no math", element)
        try:
            return _ast_to_expr(element.getMath(), self.lib, self.where(element, kind))
        except SBMLError as exc:
            raise self.error(exc.message, element) from None

    # -- units and compartment

    def read_units(self):
        m = self.model
        self.substance = _unit_factor(m, m.getSubstanceUnits() if m.isSetSubstanceUnits() else "", "substance",
                                      self.lib, "model substanceUnits")
        if self.model.getLevel() == 2:
            self.substance = _unit_factor(m, "substance", "substance", self.lib, "model") if \
                m.getUnitDefinition("substance") is not None else 1.0
        extent = _unit_factor(m, m.getExtentUnits(), "substance", self.lib, "model extentUnits") \
            if m.getLevel() == 3 and m.isSetExtentUnits() else None
        if self.substance is None:
            self.substance = extent if extent is not None else 1.0
            if extent is None and not any(m.getSpecies(i).isSetSubstanceUnits() for i in range(m.getNumSpecies())):
                self.warnings.append(f"{self.path}: warning: no substance units; read as mole")
        if extent is not None and not math.isclose(extent, self.substance, rel_tol=1e-12):
            raise self.error("model extentUnits differ from substanceUnits; conversion factors are not supported",
                             m)
        time_unit = m.getTimeUnits() if m.getLevel() == 3 and m.isSetTimeUnits() else (
            "time" if m.getUnitDefinition("time") is not None else "")
        self.time_factor = _unit_factor(m, time_unit, "time", self.lib, "model timeUnits") or 1.0
        self.volume_unit = m.getVolumeUnits() if m.getLevel() == 3 and m.isSetVolumeUnits() else (
            "volume" if m.getUnitDefinition("volume") is not None else "")
        declared = {_unit_factor(m, m.getSpecies(i).getSubstanceUnits(), "substance", self.lib,
                                 f"species `{m.getSpecies(i).getId()}`")
                    for i in range(m.getNumSpecies()) if m.getSpecies(i).isSetSubstanceUnits()}
        if len(declared) == 1 and (m.getLevel() == 2 or not m.isSetSubstanceUnits()):
            self.substance = declared.pop()  # every species says it, the model-wide default does not
        for i in range(m.getNumSpecies()):
            s = m.getSpecies(i)
            if s.isSetSubstanceUnits() and s.getSubstanceUnits():
                factor = _unit_factor(m, s.getSubstanceUnits(), "substance", self.lib, f"species `{s.getId()}`")
                if not math.isclose(factor, self.substance, rel_tol=1e-12):
                    raise self.error(f"species `{s.getId()}` has substance units `{s.getSubstanceUnits()}`, "
                                     "unlike the model; mixed substance units are not supported", s)
            if m.getLevel() == 3 and s.isSetConversionFactor():
                raise self.error(f"species `{s.getId()}` has a conversion factor; not supported", s)
        if m.getLevel() == 3 and m.isSetConversionFactor():
            raise self.error("the model has a conversion factor; not supported", m)

    def read_compartment(self, used_symbols):
        m = self.model
        if m.getNumCompartments() == 0:
            raise self.error("the model has no compartment; species need one", m)
        holding = {m.getSpecies(i).getCompartment() for i in range(m.getNumSpecies())}
        for cid in holding:
            if m.getCompartment(cid) is None:
                species = next(m.getSpecies(i) for i in range(m.getNumSpecies())
                               if m.getSpecies(i).getCompartment() == cid)
                raise self.error(f"species `{species.getId()}` is in compartment `{cid}`, which is not defined",
                                 species)
        if len(holding) > 1:
            raise self.error(f"species are spread over compartments {', '.join(sorted(holding))}; fentonsim "
                             "simulates one well-mixed volume", m)
        compartment = m.getCompartment(holding.pop()) if holding else m.getCompartment(0)
        self.compartment_id = compartment.getId()
        if compartment.isSetSpatialDimensions() and compartment.getSpatialDimensionsAsDouble() != 3:
            raise self.error(f"compartment `{self.compartment_id}` has {compartment.getSpatialDimensionsAsDouble():g} "
                             "spatial dimensions; fentonsim needs a volume", compartment)
        if not compartment.getConstant():
            raise self.error(f"compartment `{self.compartment_id}` has a varying size; not supported", compartment)
        unit = compartment.getUnits() if compartment.isSetUnits() else self.volume_unit
        self.volume_factor = _unit_factor(m, unit, "volume", self.lib,
                                          f"compartment `{self.compartment_id}`") or 1.0
        needs_size = self.compartment_id in used_symbols or any(
            not m.getSpecies(i).getHasOnlySubstanceUnits() or m.getSpecies(i).isSetInitialConcentration()
            for i in range(m.getNumSpecies()))
        if m.getInitialAssignment(self.compartment_id) is not None:
            raise self.error(f"compartment `{self.compartment_id}` gets its size from an initial assignment; "
                             "give it a constant `size`", compartment)
        sized = compartment.isSetSize()
        if not sized:
            if needs_size:
                raise self.error(f"compartment `{self.compartment_id}` has no size, but the model needs one "
                                 "(concentrations or the compartment in a formula); give it a `size`", compartment)
            self.warnings.append(f"{self.path}: warning: compartment `{self.compartment_id}` has no size; using 1 L "
                                 "(it does not affect this model, whose species are all amounts)")
            self.size = 1.0
        else:
            self.size = compartment.getSize()
        for i in range(m.getNumCompartments()):
            other = m.getCompartment(i)
            if other.getId() != self.compartment_id and other.getId() in used_symbols:
                raise self.error(f"compartment `{other.getId()}` appears in a formula but holds no species; "
                                 "fentonsim simulates one volume", other)

    # -- values

    def collect(self):
        m = self.model
        self.read_units()
        rules, self.rule_elements = {}, {}
        for i in range(m.getNumRules()):
            rule = m.getRule(i)
            if rule.isAssignment():
                rules[rule.getVariable()] = self.math(rule, f"assignment rule for `{rule.getVariable()}`")
                self.rule_elements[rule.getVariable()] = rule
            else:
                kind = "rate rule" if rule.isRate() else "algebraic rule"
                target = f" for `{rule.getVariable()}`" if rule.isRate() else ""
                raise self.error(f"{kind}{target}: only assignment rules are supported", rule)
        self.rules = rules
        self.laws = {}  # reaction id -> kinetic law, parsed once
        for i in range(m.getNumReactions()):
            reaction = m.getReaction(i)
            if reaction.isSetKineticLaw() and reaction.getKineticLaw().isSetMath():
                self.laws[reaction.getId()] = self.math(reaction.getKineticLaw(),
                                                        f"kinetic law of reaction `{reaction.getId()}`")
        used = set().union(*(symbols(expr) for expr in self.laws.values()))
        for expr in rules.values():
            used |= symbols(expr)
        self.read_compartment(used)

        # Initial values in model units: parameters, compartment, species symbols (amount or concentration).
        values = {}
        for i in range(m.getNumParameters()):
            p = m.getParameter(i)
            if p.isSetValue():
                values[p.getId()] = p.getValue()
        values[self.compartment_id] = self.size
        self.species = [m.getSpecies(i) for i in range(m.getNumSpecies())]
        for s in self.species:
            if s.isSetInitialAmount():
                amount = s.getInitialAmount()
                values[s.getId()] = amount if s.getHasOnlySubstanceUnits() else amount / self.size
            elif s.isSetInitialConcentration():
                conc = s.getInitialConcentration()
                values[s.getId()] = conc * self.size if s.getHasOnlySubstanceUnits() else conc
        initial_assignments = {}
        for i in range(m.getNumInitialAssignments()):
            ia = m.getInitialAssignment(i)
            initial_assignments[ia.getSymbol()] = (self.math(ia, f"initial assignment to `{ia.getSymbol()}`"), ia)
        pending = {**{k: (e, self.rule_elements[k]) for k, e in rules.items()}, **initial_assignments}
        # Rules and initial assignments may refer to each other: evaluate until nothing changes.
        for _ in range(len(pending) + 1):
            progressed = False
            for name, (expr, element) in list(pending.items()):
                needed = symbols(expr) - {"time"}
                if needed <= set(values):
                    values[name] = float(evaluate(substitute(expr, {"time": 0.0}), values))
                    del pending[name]
                    progressed = True
            if not progressed:
                break
        for name, (expr, element) in pending.items():
            missing = sorted(symbols(expr) - set(values) - {"time"})
            raise self.error(f"the value of `{name}` depends on undefined or circular ids: {', '.join(missing)}",
                             element)
        for s in self.species:
            if s.getId() not in values:
                raise self.error(f"species `{s.getId()}` has no initial amount or concentration", s)
        self.values = values
        # Species are called by their SBML names when every species has a distinct one (as fentonsim's own
        # exports do, so names survive a round trip), else by their ids.
        names = [s.getName() for s in self.species]
        use_names = all(names) and len(set(names)) == len(names) and not (set(names) & (set(values) - {
            s.getId() for s in self.species}))
        self.name_of = {s.getId(): (s.getName() if use_names else s.getId()) for s in self.species}
        self.volume_L = self.size * self.volume_factor
        if not (self.volume_L > 0 and math.isfinite(self.volume_L)):
            raise self.error(f"compartment `{self.compartment_id}` must have a positive size, found {self.size}",
                             m.getCompartment(self.compartment_id))

        # Constants: parameters (global), the compartment, boundary/constant species, and rule variables
        # whose expressions reduce to numbers.
        self.state_species = {s.getId() for s in self.species
                              if not (s.getBoundaryCondition() or s.getConstant()) and s.getId() not in rules}
        self.constants = {k: v for k, v in values.items() if k not in self.state_species}
        for name, expr in rules.items():
            if symbols(self.expand(expr)) & (self.state_species | {"time"}):
                del self.constants[name]
        events_touch = set()
        for i in range(m.getNumEvents()):
            ev = m.getEvent(i)
            for j in range(ev.getNumEventAssignments()):
                events_touch.add(ev.getEventAssignment(j).getVariable())
        for name in events_touch - self.state_species:
            self.constants.pop(name, None)

    def expand(self, expr, depth=0):
        """``expr`` with assignment-rule variables replaced by their formulas."""
        if depth > 50:
            raise self.error("assignment rules refer to each other in a cycle", self.model)
        names = symbols(expr) & set(self.rules)
        for name in names:
            expr = _replace(expr, name, self.expand(self.rules[name], depth + 1))
        return expr

    # -- species, reactions, rules, events

    def to_molar(self, species, value):
        """A species value in model units (amount, or concentration if not hasOnlySubstanceUnits) -> M."""
        amount = value if species.getHasOnlySubstanceUnits() else value * self.size
        return amount * self.substance / self.volume_L

    def symbol_scale(self, species):
        """Factor from the species' concentration [M] to its symbol's value in model units."""
        amount_per_molar = self.volume_L / self.substance
        return amount_per_molar if species.getHasOnlySubstanceUnits() else amount_per_molar / self.size

    def build_species(self):
        out = []
        self.by_id = {s.getId(): s for s in self.species}
        in_reactions = set()
        for i in range(self.model.getNumReactions()):
            r = self.model.getReaction(i)
            for j in range(r.getNumReactants()):
                in_reactions.add(r.getReactant(j).getSpecies())
            for j in range(r.getNumProducts()):
                in_reactions.add(r.getProduct(j).getSpecies())
        for s in self.species:
            if s.getId() in self.rules and s.getId() not in in_reactions:
                continue  # an assignment-rule species is an observable, not a clamped input
            concentration = self.to_molar(s, self.values[s.getId()])
            note = f"SBML species `{s.getId()}`" + (f" ({s.getName()})" if s.getName() else "")
            name = self.name_of[s.getId()]
            if s.getId() in self.state_species:
                out.append(Species(name, 0, (), note=note, location=Location(self.path, s.getLine() or None)))
            else:
                out.append(Species(name, 0, (), buffered=float(concentration), note=note,
                                   location=Location(self.path, s.getLine() or None)))
        return tuple(out)

    def build_reaction(self, reaction):
        m = self.model
        rid = reaction.getId()
        where = f"reaction `{rid}`"
        if m.getLevel() == 3 and m.getVersion() == 1 and reaction.isSetFast() and reaction.getFast():
            raise self.error(f"{where} is `fast`; fast reactions are not supported", reaction)
        if not reaction.isSetKineticLaw() or not reaction.getKineticLaw().isSetMath():
            raise self.error(f"{where} has no kinetic law", reaction)
        law = reaction.getKineticLaw()
        local = {}
        for i in range(law.getNumParameters()):
            p = law.getParameter(i)
            local[p.getId()] = p.getValue()
        if hasattr(law, "getNumLocalParameters"):
            for i in range(law.getNumLocalParameters()):
                p = law.getLocalParameter(i)
                local[p.getId()] = p.getValue()
        expr = self.expand(self.laws[rid])
        expr = substitute(expr, {**self.constants, **local})

        def side(getter, count, role):
            terms = {}
            for i in range(count):
                ref = getter(i)
                sid = ref.getSpecies()
                if sid not in self.by_id:
                    raise self.error(f"{where} lists {role} `{sid}`, which is not a species of the model", reaction)
                if hasattr(ref, "isSetStoichiometryMath") and ref.isSetStoichiometryMath():
                    raise self.error(f"{where}: stoichiometryMath for `{sid}` is not supported", reaction)
                if m.getLevel() == 3 and ref.isSetId() and (ref.getId() in self.rules or not ref.getConstant()):
                    raise self.error(f"{where}: variable stoichiometry of `{sid}` is not supported", reaction)
                nu = ref.getStoichiometry() if (m.getLevel() == 2 or ref.isSetStoichiometry()) else 1.0
                if nu != int(nu) or nu < 0:
                    raise self.error(f"{where}: stoichiometry of `{sid}` is {nu:g}; fentonsim needs whole "
                                     "numbers of molecules", reaction)
                terms[sid] = terms.get(sid, 0) + int(nu)
            return {k: v for k, v in terms.items() if v}

        reactants = side(reaction.getReactant, reaction.getNumReactants(), "reactant")
        products = side(reaction.getProduct, reaction.getNumProducts(), "product")
        fail = (lambda msg: self.error(f"kinetic law of {where}: {msg}", law))
        reverse = None
        if (reaction.getReversible() and expr[0] == "op" and expr[1] == "minus" and len(expr[2]) == 2):
            # A reversible mass-action law k1·Π reactants − k2·Π products: two directions of one reaction.
            coefficient, powers, offsets = _mass_action(expr[2][0], self.state_species, fail)
            reverse = _mass_action(expr[2][1], self.state_species, fail)
            if reverse[2] or offsets:
                raise fail("falling factorials in a reversible law are not supported")
            for sid, nu in products.items():
                if sid not in self.state_species:
                    raise fail(f"boundary species `{sid}` on the product side of a reversible law is not supported")
                if reverse[1].get(sid, 0) != nu:
                    raise fail(f"the reverse term ({to_text(expr[2][1])}) has order {reverse[1].get(sid, 0)} in "
                               f"`{sid}`, a product of stoichiometry {nu}; it must be mass action in the products")
            if set(reverse[1]) - set(products) or set(powers) - set(reactants):
                raise fail("species outside the reaction's reactants and products appear in a reversible law")
        else:
            coefficient, powers, offsets = _mass_action(expr, self.state_species, fail)
        if coefficient < 0 or (reverse is not None and reverse[0] < 0):
            raise self.error(f"kinetic law of {where} is negative ({to_text(expr)}); a law must be one mass-action "
                             "term, or k1·reactants − k2·products for a reversible reaction", law)
        for sid, nu in reactants.items():
            if sid in self.state_species and powers.get(sid, 0) != nu:
                raise self.error(
                    f"kinetic law of {where} ({to_text(expr)}) has order {powers.get(sid, 0)} in `{sid}`, which "
                    f"the reaction consumes {nu} at a time; fentonsim needs mass-action laws (order = "
                    "stoichiometry) so that the stochastic and deterministic models agree", law)
        # Species in the law that the reaction does not consume act as catalysts: reactant and product.
        for sid, nu in powers.items():
            if sid not in reactants:
                reactants[sid] = nu
                products[sid] = products.get(sid, 0) + nu
        for terms in (powers,) + (() if reverse is None else (reverse[1],)):
            order = sum(terms.values())
            if order > MAX_ORDER or len(terms) > MAX_ORDER:
                raise self.error(f"kinetic law of {where} ({to_text(expr)}) has order {order} in {len(terms)} "
                                 f"species; at most {MAX_ORDER} molecules may meet", law)
        g = {sid: 1.0 / self.size if not self.by_id[sid].getHasOnlySubstanceUnits() else 1.0
             for sid in set(powers) | set(() if reverse is None else reverse[1])}
        for sid in offsets:
            if g[sid] != 1.0:
                raise self.error(f"kinetic law of {where}: `{sid} - n` with `{sid}` a concentration in a "
                                 "compartment of size ≠ 1 is not a falling factorial", law)

        def rate_constant(coef, terms):
            k = coef * self.substance / (self.volume_L * self.time_factor)
            for sid, nu in terms.items():
                k *= (self.volume_L * g[sid] / self.substance) ** nu
            return RateLaw("constant", float(k), STANDARD_TEMPERATURE)

        name = self.name_of
        orders = tuple((name[sid], 0.0) for sid in reactants if sid not in self.state_species)
        reactant_terms = tuple(sorted((name[sid], nu) for sid, nu in reactants.items()))
        product_terms = tuple(sorted((name[sid], nu) for sid, nu in products.items() if nu))
        if offsets:
            self.warnings.append(f"{self.path}:{reaction.getLine()}: warning: {where} writes a falling factorial; "
                                 "the SSA uses it exactly, the ODE integrates its mass-action limit k·[X]^n")
        powered = [powers] + ([] if reverse is None else [reverse[1]])
        return Reaction(
            id=rid, reactants=reactant_terms, branches=(Branch(rid, product_terms),),
            rate=rate_constant(coefficient, powers),
            reverse_rate=None if reverse is None else rate_constant(reverse[0], reverse[1]), orders=orders,
            duplicate=True, note=f"SBML kinetic law: {to_text(expr)}",
            propensity="power" if any(nu > 1 and sid not in offsets and self.by_id[sid].getHasOnlySubstanceUnits()
                                      for terms in powered for sid, nu in terms.items()) else "falling-factorial",
            location=Location(self.path, reaction.getLine() or None))

    def build_observables(self):
        observables = []
        for name, element in self.rule_elements.items():
            if name in self.constants:
                continue
            expr = substitute(self.expand(self.rules[name]), self.constants)
            state = sorted(symbols(expr) - {"time"})
            expr = _rename(expr, {sid: self.name_of[sid] for sid in state})
            scale = tuple((self.name_of[sid], self.symbol_scale(self.by_id[sid])) for sid in state)
            observables.append(Observable(self.name_of.get(name, name), expr, scale, self.value_units(name)))
        for s in self.species:
            if s.getId() not in self.state_species and s.getId() not in self.rule_elements:
                observables.append(Observable(self.name_of[s.getId()], num(self.values[s.getId()]), (),
                                              self.value_units(s.getId())))
        return tuple(observables)

    def value_units(self, name):
        substance = "item" if math.isclose(self.substance, 1.0 / AVOGADRO) else (
            "mol" if self.substance == 1.0 else f"{self.substance:g} mol")
        species = self.by_id.get(name)
        if species is None:
            return "model units"
        volume = "L" if self.volume_factor == 1.0 else f"{self.volume_factor:g} L"
        return substance if species.getHasOnlySubstanceUnits() else f"{substance}/{volume}"

    def build_events(self):
        events = []
        m = self.model
        for i in range(m.getNumEvents()):
            ev = m.getEvent(i)
            where = self.where(ev, "event")
            if ev.isSetDelay():
                raise self.error(f"{where} has a delay; events with delays are not supported", ev)
            if not ev.isSetTrigger() or not ev.getTrigger().isSetMath():
                raise self.error(f"{where} has no trigger", ev)
            trigger = substitute(self.expand(self.math(ev.getTrigger(), f"trigger of {where}")), self.constants)
            time = _trigger_time(trigger)
            if time is None:
                raise self.error(f"trigger of {where} is `{to_text(trigger)}`; "
                                 "only time triggers `time >= T` with a constant T are supported "
                                 "(state-dependent triggers are not)", ev)
            time *= self.time_factor
            if not time > 0:
                raise self.error(f"trigger of {where} fires at t = {time:g} s; only events after the start "
                                 "(T > 0) are supported", ev)
            for j in range(ev.getNumEventAssignments()):
                assignment = ev.getEventAssignment(j)
                target = assignment.getVariable()
                if target not in self.state_species:
                    raise self.error(f"{where} assigns `{target}`; events may only assign species that reactions "
                                     "change (assigning parameters, compartments or boundary species is not "
                                     "supported)", assignment)
                species = self.by_id[target]
                expr = substitute(self.expand(self.math(assignment, f"assignment to `{target}` in {where}")),
                                  self.constants)
                linear = affine(expr)
                name = self.name_of[target]
                if linear is not None and not linear[1]:
                    events.append(Assignment(name, max(self.to_molar(species, linear[0]), 0.0), time))
                elif linear is not None and linear[1] == {target: 1.0} and linear[0] >= 0:
                    events.append(Bolus(name, self.to_molar(species, linear[0]), time))
                else:
                    raise self.error(f"{where} sets `{target}` = {to_text(expr)}; supported: a constant, or "
                                     f"`{target}` plus a non-negative constant", assignment)
        return tuple(events)


def _replace(expr, name, replacement):
    if expr[0] == "sym":
        return replacement if expr[1] == name else expr
    if expr[0] in ("op", "rel"):
        return (expr[0], expr[1], tuple(_replace(a, name, replacement) for a in expr[2]))
    return expr


def _rename(expr, mapping):
    if expr[0] == "sym":
        return ("sym", mapping.get(expr[1], expr[1]))
    if expr[0] in ("op", "rel"):
        return (expr[0], expr[1], tuple(_rename(a, mapping) for a in expr[2]))
    return expr


def _trigger_time(trigger):
    """T for a trigger ``time >= T`` (or ``>``, or ``T <= time`` …) with T a number; else None."""
    if trigger[0] != "rel":
        return None
    left, right = trigger[2]
    if trigger[1] in ("geq", "gt") and left == ("sym", "time") and right[0] == "num":
        return right[1]
    if trigger[1] in ("leq", "lt") and right == ("sym", "time") and left[0] == "num":
        return left[1]
    return None


def _mass_action(expr, species, error):
    """(coefficient, {species: power}, {species: offsets}) of a single mass-action term.

    Factors are numbers, species to positive integer powers, and (X − m) for
    a falling factorial; any other structure raises ``error(message)``.
    """
    coefficient, powers, offsets = 1.0, {}, {}

    def visit(node, exponent):
        nonlocal coefficient
        kind = node[0]
        if kind == "num":
            coefficient *= node[1] ** exponent
            return
        if kind == "sym":
            if node[1] not in species:
                raise error(f"`{node[1]}` is not a constant or a species" + (
                    " (time-dependent laws are not mass action)" if node[1] == "time" else ""))
            if exponent < 0:
                raise error(f"divides by species `{node[1]}`; not mass action")
            powers[node[1]] = powers.get(node[1], 0) + exponent
            return
        if kind != "op":
            raise error("comparison in a kinetic law")
        name, args = node[1], node[2]
        if name == "times":
            for a in args:
                visit(a, exponent)
        elif name == "divide":
            visit(args[0], exponent)
            visit(args[1], -exponent)
        elif name == "power":
            if args[1][0] != "num" or args[1][1] != int(args[1][1]) or (args[0][0] == "sym" and args[1][1] < 1):
                raise error(f"power `{to_text(node)}` needs a positive whole exponent")
            visit(args[0], exponent * int(args[1][1]))
        elif (name == "minus" and len(args) == 2 and args[0][0] == "sym" and args[0][1] in species
              and args[1][0] == "num" and args[1][1] in (1.0, 2.0) and exponent == 1):
            offsets.setdefault(args[0][1], []).append(int(args[1][1]))
        else:
            raise error(f"`{to_text(node)}` is not a product of constants and species (a single mass-action "
                        "term); sums, differences and functions of species are not supported")

    visit(expr, 1)
    for sid, offs in offsets.items():
        power = powers.get(sid, 0)
        if sorted(offs) != list(range(1, len(offs) + 1)) or power != 1:
            raise error(f"factors of `{sid}` are not a falling factorial {sid}*({sid}-1)…")
        powers[sid] = power + len(offs)
    return coefficient, powers, offsets


def import_sbml(path) -> Mechanism:
    """Read the SBML file ``path`` as a :class:`Mechanism` (see the module docstring).

    Raises
    ------
    SBMLError
        The file is missing, not XML, not valid SBML, or uses an unsupported
        construct; the message names the element and line.
    """
    lib = _libsbml()
    path = Path(path)
    if not path.is_file():
        raise SBMLError(f"no such file: {path}")
    doc = lib.readSBMLFromFile(str(path))
    _raise_document_errors(doc, path, lib)
    if doc.getModel() is None:
        raise SBMLError("the document has no <model>", str(path))
    # Only packages the file declares count (libsbml attaches plugins on its own); layout and render are
    # drawing information and change nothing, and extended math is caught construct by construct.
    namespaces = doc.getNamespaces()
    uris = [namespaces.getURI(i) for i in range(namespaces.getLength())] if namespaces is not None else []
    packages = sorted({uri.split("/")[6] for uri in uris
                       if uri.startswith("http://www.sbml.org/sbml/level3/") and len(uri.split("/")) > 6
                       and uri.split("/")[6] not in ("core", "layout", "render", "extendedmath")})
    if packages:
        raise SBMLError(f"SBML packages {', '.join(packages)} are not supported", str(path))
    if doc.getModel().getNumFunctionDefinitions():
        props = lib.ConversionProperties()
        props.addOption("expandFunctionDefinitions", True)
        if doc.convert(props) != lib.LIBSBML_OPERATION_SUCCESS:
            raise SBMLError("cannot expand the model's function definitions", str(path))
    reader = _Reader(doc, path, lib)
    reader.collect()
    species = reader.build_species()
    events = reader.build_events()
    reactions = tuple(reader.build_reaction(reader.model.getReaction(i))
                      for i in range(reader.model.getNumReactions()))
    observables = reader.build_observables()
    counts = math.isclose(reader.substance, 1.0 / AVOGADRO)
    model = reader.model
    mechanism = Mechanism(
        name=model.getId() or model.getName() or path.stem, species=species, reactions=reactions,
        defaults=Defaults(volume=reader.volume_L, atol=COUNT_ATOL / (AVOGADRO * reader.volume_L) if counts else None,
                          initial=tuple((reader.name_of[s.getId()], float(reader.to_molar(s, reader.values[s.getId()])))
                                        for s in reader.species if s.getId() in reader.state_species)),
        description=f"Imported from SBML Level {model.getLevel()} Version {model.getVersion()}: {path.name}"
                    + (f" ({model.getName()})" if model.getName() else ""),
        events=events, observables=observables, counts=counts, files=(str(path),))
    return dataclasses.replace(mechanism, warnings=tuple(reader.warnings))


def _raise_document_errors(doc, path, lib):
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= lib.LIBSBML_SEV_ERROR:
            message = err.getMessage().strip().replace("\n", " ")
            raise SBMLError(f"invalid SBML: {message}", str(path), err.getLine() or None)
