"""Compartments of an imported SBML model: which volume each species is a concentration of.

The semantics (fentonsim.compartments states them for every mechanism): each species' state is its
concentration [M] in its own compartment. An SBML kinetic law is in substance per time, so a reaction
changes species S at d[S]/dt = ν_S·L·s/(V_S·t_u) (s moles per substance unit, V_S the volume of S's
compartment in litres, t_u seconds per time unit). A reaction whose changed species all sit in volumes of
one size is a plain reaction with that volume; one that moves matter between volumes of different sizes
becomes one general-law reaction per species it changes (the importer's scaled reactions), each with its
own V_S. A kinetic-law symbol of a species in compartment C reads its amount (c·V_C/s) or its
concentration (amount / size of C), per ``hasOnlySubstanceUnits``.

:func:`read_layout` checks the compartments and says where each species lives; every construct it cannot
simulate exactly is refused with the file:line of the element.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..constants import STANDARD_TEMPERATURE
from ..expression import derivative, num, op, substitute, sym, symbols
from ..mechanism.schema import Branch, Compartment, Location, RateLaw, Reaction


@dataclass
class Layout:
    """Where the species of a model live.

    ``main`` is the compartment whose volume is the model's reference (``defaults.volume``): the first one
    holding a species. ``of_species`` maps species id to compartment id; ``factor`` gives litres per unit of
    each compartment's size; ``amounts`` are compartments of 0 dimensions without a size, whose species are
    amounts (SBML gives a point no size to divide by; its size is read as 1 and may not appear in a formula);
    ``dimensions`` the spatial dimensions.
    """

    main: str | None
    of_species: dict = field(default_factory=dict)
    factor: dict = field(default_factory=dict)
    amounts: set = field(default_factory=set)
    dimensions: dict = field(default_factory=dict)
    varying: dict = field(default_factory=dict)  # compartment id -> {"rate rule", "assignment rule", "event"}

    @property
    def holding(self) -> list:
        """Compartments holding species, in the order of their first species."""
        return list(dict.fromkeys(self.of_species.values()))

    @property
    def several(self) -> bool:
        """Whether the mechanism records its compartments: several hold species, or one changes size."""
        return len(self.holding) > 1 or bool(set(self.holding) & set(self.varying))


def _changed_by(model):
    """{compartment id: {how its size changes}} for compartments a rule or an event sets."""
    out = {}
    for i in range(model.getNumRules()):
        rule = model.getRule(i)
        if model.getCompartment(rule.getVariable()) is not None and (rule.isRate() or rule.isAssignment()):
            out.setdefault(rule.getVariable(), set()).add("rate rule" if rule.isRate() else "assignment rule")
    for i in range(model.getNumEvents()):
        event = model.getEvent(i)
        for j in range(event.getNumEventAssignments()):
            assignment = event.getEventAssignment(j)
            if model.getCompartment(assignment.getVariable()) is not None:
                out.setdefault(assignment.getVariable(), set()).add("event")
    return out


def read_layout(reader, used_symbols) -> Layout:
    """The :class:`Layout` of ``reader.model``; refuses (``reader.error``) what cannot be simulated exactly.

    ``used_symbols`` are the ids that kinetic laws and rules read.
    """
    m = reader.model
    layout = Layout(main=None)
    for i in range(m.getNumSpecies()):
        s = m.getSpecies(i)
        cid = s.getCompartment()
        if m.getCompartment(cid) is None:
            raise reader.error(f"species `{s.getId()}` is in compartment `{cid}`, which is not defined", s)
        layout.of_species[s.getId()] = cid
    holding = layout.holding
    layout.main = holding[0] if holding else (m.getCompartment(0).getId() if m.getNumCompartments() else None)
    changed = _changed_by(m)
    initial = {m.getInitialAssignment(i).getSymbol() for i in range(m.getNumInitialAssignments())}
    for i in range(m.getNumCompartments()):
        compartment = m.getCompartment(i)
        cid = compartment.getId()
        dimensions = compartment.getSpatialDimensionsAsDouble() if compartment.isSetSpatialDimensions() else 3.0
        if cid in holding or cid in used_symbols or cid in changed:
            if dimensions not in (0.0, 1.0, 2.0, 3.0):
                raise reader.error(f"compartment `{cid}` has {dimensions:g} spatial dimensions; expected 0, 1, 2 "
                                   "or 3", compartment)
        layout.dimensions[cid] = dimensions
        if cid in changed:
            layout.varying[cid] = changed[cid]
        if dimensions == 3.0:
            unit = compartment.getUnits() if compartment.isSetUnits() else reader.volume_unit
            layout.factor[cid] = reader.unit_factor(unit, "volume", f"compartment `{cid}`", compartment) or 1.0
        else:
            # A surface, line or point: concentrations are amounts per its size (SBML's rule for every
            # dimension), so the size stands in for the volume in the model's own unit of size. Values in
            # the model's units are exact; fentonsim's "M" then means mol per that unit.
            layout.factor[cid] = 1.0
            if cid in holding:
                reader.warnings.append(f"{reader.path}:{compartment.getLine()}: warning: compartment `{cid}` has "
                                       f"{dimensions:g} spatial dimensions; its size is used as the volume "
                                       "(concentrations are per unit of its size, not per litre)")
        if compartment.isSetSize() or cid in initial or "assignment rule" in changed.get(cid, ()):
            continue
        species = [m.getSpecies(j) for j in range(m.getNumSpecies())
                   if m.getSpecies(j).getCompartment() == cid]
        if dimensions == 0.0 and cid not in used_symbols:
            # A point has no size: its species are amounts (symbols and initial values alike).
            if any(s.isSetInitialConcentration() for s in species):
                raise reader.error(f"compartment `{cid}` has 0 dimensions and no size, but species in it give an "
                                   "initial concentration; expected initial amounts", compartment)
            layout.amounts.add(cid)
            continue
        if cid in used_symbols or any(not s.getHasOnlySubstanceUnits() or s.isSetInitialConcentration()
                                      for s in species):
            raise reader.error(f"compartment `{cid}` has no size, but the model needs one (concentrations or the "
                               "compartment in a formula); give it a `size`", compartment)
        if species:
            reader.warnings.append(f"{reader.path}: warning: compartment `{cid}` has no size; using 1 L (it does "
                                   "not affect this model, whose species are all amounts)")
        layout.amounts.add(cid)
    return layout


def replace_all(expr, mapping):
    """``expr`` with the symbols in ``mapping`` replaced; the replacements are inserted, not walked."""
    if not mapping:
        return expr
    if expr[0] == "sym":
        return mapping.get(expr[1], expr)
    if expr[0] in ("op", "rel"):
        return (expr[0], expr[1], tuple(replace_all(a, mapping) for a in expr[2]))
    return expr


def check_sizes(reader, layout, values, skip=()) -> None:
    """Refuse a compartment holding species whose size (after initial assignments) is not positive; those in
    ``skip`` are not known yet."""
    for cid in layout.holding:
        if cid in skip:
            continue
        size = values.get(cid)
        if size is None or not (size > 0 and math.isfinite(size) and math.isfinite(size * layout.factor[cid])):
            raise reader.error(f"compartment `{cid}` has size {size}; expected a positive finite size",
                               reader.model.getCompartment(cid))


def described(reader, layout):
    """The mechanism's :class:`~fentonsim.mechanism.schema.Compartment` records: one per compartment holding
    species when there are several or one changes size (a single constant volume stays ``defaults.volume``,
    as before). A varying size is reported by the observable named after the compartment."""
    holding = layout.holding
    if not layout.several:
        return ()
    out = []
    for cid in holding:
        element = reader.model.getCompartment(cid)
        note = f"SBML compartment `{cid}`" + (f" ({element.getName()})" if element.getName() else "")
        if layout.dimensions[cid] != 3.0:
            note += f", {layout.dimensions[cid]:g} spatial dimensions (volume in its own unit of size)"
        varying = cid in layout.varying
        out.append(Compartment(cid, float(reader.values[cid] * layout.factor[cid]), note=note,
                               size=cid if varying else "", size_unit=layout.factor[cid] if varying else 1.0,
                               location=Location(reader.path, element.getLine() or None)))
    return tuple(out)


class VaryingSizes:
    """Methods of the SBML reader for compartments whose size a rule or an event changes.

    A species' state stays its concentration [M] in its own compartment, now of size V(t). Amounts are
    what reactions move, so a reaction changes species S at ν_S·L·s/(f·V(t)·t_u) (f litres per unit of size)
    and a size that changes continuously dilutes or concentrates S at −[S]·(dV/dt)/V (a ``dilution_<S>``
    reaction): together d(c·V)/dt = ν·L·s/(f·t_u), amounts change only by reactions. An event that sets V
    keeps amounts too, so it multiplies the concentrations in that compartment by V_before/V_after (extra
    assignments of the same event), except of species the event sets itself, which take the set value.
    A rate rule on a concentration in such a compartment gives d[S]/dt itself, so it is left undiluted; on
    an amount (``hasOnlySubstanceUnits``) it gives dn/dt, so it is divided by V(t) and diluted.
    """

    def in_varying(self, species) -> bool:
        return self.compartment_of(species) in self.layout.varying

    def size_expr(self, cid):
        """Size of compartment ``cid`` over time in model units, as an expression of the state."""
        how = self.layout.varying.get(cid, ())
        if not how:
            return num(float(self.values[cid]))
        if "assignment rule" not in how:
            return sym(cid)  # a state variable: the rate rule's or the events' (see rate_rule_targets)
        element = self.rule_elements[cid]
        where = f"assignment rule for compartment `{cid}`"
        raw = self.expand(self.rules[cid], where, element)
        expr = self.arithmetic(lambda: substitute(raw, self.constants), where, raw, element)
        state = sorted(symbols(expr) - {"time"} - self.parameter_states)
        if state:
            # dV/dt needs their derivatives, which reactions do not give as one expression (and a species of
            # its own compartment would make the size a function of itself).
            raise self.error(f"{where} reads {', '.join(state)}, which change over time other than by rate "
                             "rules or events on parameters; only sizes given by time, constants and such "
                             "parameters are supported", element)
        return self.law_in_state_units(expr, self.error(f"{where} reads a value that is not known over time",
                                                        element))

    def size_rate_expr(self, cid):
        """dV/dt of compartment ``cid`` [model units s⁻¹] as an expression of the state, or None when only
        events change it."""
        how = self.layout.varying.get(cid, ())
        if "rate rule" in how:
            return self.rate_of(cid)
        if "assignment rule" in how:
            # The chain rule over time (law_in_state_units wrote model time as s / t_u) and the rate-rule
            # parameters the rule reads (size_expr refuses any other varying symbol).
            size = self.size_expr(cid)
            terms = [derivative(size, "time")] + [op("times", derivative(size, name), self.rate_of(name))
                                                  for name in sorted(symbols(size) & set(self.rate_rules))]
            return op("plus", *terms) if len(terms) > 1 else terms[0]
        return None

    def rate_of(self, var):
        """d(var)/dt [model units s⁻¹] of a rate-rule variable, as an expression of the state."""
        element = self.rate_rule_elements[var]
        where = f"rate rule for `{var}`"
        raw = self.expand(self.rate_rules[var], where, element)
        expr = self.arithmetic(lambda: substitute(raw, self.constants), where, raw, element)
        rate = self.law_in_state_units(expr, self.error(f"{where} reads a value that is not known over time",
                                                        element))
        return rate if self.time_factor == 1 else op("times", num(1.0 / self.time_factor), rate)

    def symbol_factor(self, species):
        """F with the species' symbol (model units) = F·[S] ([S] its state in M)."""
        if not self.in_varying(species):
            return num(self.symbol_scale(species))
        cid = self.compartment_of(species)
        per_size = self.layout.factor[cid] / self.substance  # concentration symbol per M
        if not self.amounts(species):
            return num(per_size)
        return op("times", num(per_size), self.size_expr(cid))

    def clamped_varying(self):
        """Boundary or constant concentration species in compartments of varying size: SBML keeps their amount,
        so their concentration is not a constant."""
        if "_clamped_varying" not in self.__dict__:
            self._clamped_varying = {s.getId() for s in self.species
                                     if s.getId() not in self.state_species and s.getId() not in self.rules
                                     and self.in_varying(s) and not self.amounts(s)}
        return self._clamped_varying

    def clamped_symbol(self, species):
        """The symbol of a boundary or constant species: its value, or for a concentration in a compartment of
        varying size its amount (kept) over the size."""
        value = num(float(self.values[species.getId()]))
        if species.getId() not in self.clamped_varying():
            return value
        cid = self.compartment_of(species)
        return op("divide", num(float(self.values[species.getId()] * self.values[cid])), self.size_expr(cid))

    def amount_rate_rule(self, var, g):
        """(law, k) of a rate rule dn/dt = g on an amount in a compartment of varying size: its state
        c = n·s/(f·V) changes by g·s/(f·V·t_u), and by the dilution reaction."""
        cid = self.compartment_of(self.model.getSpecies(var))
        return op("divide", g, self.size_expr(cid)), self.substance / (self.layout.factor[cid] * self.time_factor)

    def dilution_reactions(self, taken):
        """One ``dilution_<S>`` reaction per state species S in a compartment whose size changes continuously:
        d[S]/dt = −[S]·(dV/dt)/V."""
        out = []
        for s in self.species:
            sid = s.getId()
            # A rate rule on a concentration gives d[S]/dt itself; on an amount, dn/dt (so c still dilutes).
            if sid not in self.state_species or (sid in self.rate_rules and not self.amounts(s)) \
                    or not self.in_varying(s):
                continue
            cid = self.compartment_of(s)
            rate = self.size_rate_expr(cid)
            if rate is None:
                continue
            name = self.name_of[sid]
            rid = f"dilution_{name}"
            while rid in taken:
                rid += "_"
            taken.add(rid)
            law = op("minus", op("divide", op("times", sym(name), rate), self.size_expr(cid)))
            out.append(Reaction(id=rid, reactants=(), branches=(Branch(rid, ((name, 1),)),),
                                rate=RateLaw("constant", 1.0, STANDARD_TEMPERATURE), duplicate=True,
                                note=f"dilution of `{sid}` by the changing size of compartment `{cid}`", law=law,
                                law_checked=False, location=Location(self.path, s.getLine() or None)))
        return tuple(out)

    def rescalings(self, assignments, event):
        """(state name, value) assignments of ``event`` that add to or replace its ``assignments`` (state name,
        value), which may change compartment sizes — directly, or through parameters an assignment-rule size
        reads: the concentrations in a resized compartment scale by V_before/V_after (amounts are kept)."""
        assigned = dict(assignments)
        resized = {}
        for cid, how in self.layout.varying.items():
            before = self.size_expr(cid)
            if not symbols(before) & set(assigned):
                continue
            resized[cid] = (before, replace_all(before, assigned))
        sized = set(resized) | {self.compartment_of(s) for s in self.species
                                if self.name_of[s.getId()] in assigned and self.in_varying(s) and self.amounts(s)}
        if sized and self.trigger_time_values(event) and (event.isSetDelay() or self.model.getNumEvents() > 1):
            # Its values would be computed with the size at the trigger, but converted at the execution, when
            # the size may differ (a delay, or another event first).
            raise self.error(f"{self.where(event, 'event')} computes at its trigger time a value that depends on "
                             f"the size of compartment `{sorted(sized)[0]}` (a size or an amount in it), and "
                             "executes later or among other events; not supported", event)
        out = []
        for s in self.species:
            name, cid = self.name_of[s.getId()], self.compartment_of(s)
            if cid not in resized or s.getId() not in self.state_species:
                continue
            if name in assigned:
                if self.amounts(s):
                    raise self.error(f"{self.where(event, 'event')} sets the amount `{s.getId()}` together with "
                                     f"the size of its compartment `{cid}`; not supported", event)
            # Every state is a concentration (amounts' too: n·s/(f·V)), so all scale alike. A concentration the
            # same event sets is set in the compartment as it was (SBML computes every assignment from the state
            # before the event: case 01779), so its amount is value·V_before and it scales like the rest.
            before, after = resized[cid]
            value = assigned.get(name, sym(name))
            out.append((name, op("divide", op("times", value, before), after)))
        return out
