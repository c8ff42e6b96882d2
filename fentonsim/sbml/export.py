"""Export a Network at fixed conditions to SBML Level 3 Version 2 (no libsbml needed).

SBML has no notion of pH speciation, so the exported model is the network's
rate equations at one set of conditions: every reaction gets its effective
rate constant (speciation fractions, temperature and clamped species folded
in) as a parameter, and each speciation pool is one SBML species holding the
pool total. The model notes say so.

Conventions: one compartment ``cell`` of the given volume [L] (a multi-compartment
network: one per compartment, of its volume); species in concentration
(hasOnlySubstanceUnits false) [M]; kinetic laws in extent per time,
``V · k · Π [x]^ν`` [mol s⁻¹] with V the volume of the species the reaction
changes (a transport channel changes one), the same rate convention as the ODE
and SSA cores, so simulators that read the file integrate the same equations.

With ``amounts=True`` the model is written for stochastic simulators, as the
SBML test suite's stochastic cases are: species are molecule counts
(substance unit ``item``, hasOnlySubstanceUnits true), each reaction has its
stochastic constant c = k·(N_A·V)^(1−order) [s⁻¹] and its kinetic law is the
propensity written out, ``c · A · B`` or ``c · A · (A − 1)`` for 2A — the
falling factorial fentonsim's SSA uses, so every tool fires the same events.

A reaction with a general rate law (fentonsim.laws: r = k·g) is written as ``V · k · g`` with g's
expression in MathML (fentonsim.sbml.mathml), the species its law reads but does not change listed as
modifiers; with ``amounts=True`` as the propensity fentonsim's SSA uses, ``c · g(n/(N_A·V))`` with
c = N_A·V·k and each species' count divided by the parameter ``N_A_V``. Networks whose state variables are
not all concentrations, or with events triggered by the state, are refused.

Numbers are written to round-trip exactly, except subnormal ones (non-zero but
below 2.2e-308 in magnitude): libsbml rejects those as "not a double", so they
are written as 0 — a rate constant that small is 0 for any simulation.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from ..constants import AVOGADRO
from ..errors import ConditionsError
from ..expression import symbols
from . import mathml

SBML_NS = "http://www.sbml.org/sbml/level3/version2/core"
MATHML_NS = mathml.MATHML_NS
XHTML_NS = "http://www.w3.org/1999/xhtml"
FENTONSIM_NS = "https://github.com/fentonsim/fentonsim/sbml-annotation"


def sbml_double(value: float) -> str:
    """``value`` as SBML writes a double: exact round-trip text, subnormal magnitudes as 0."""
    value = float(value)
    return "0.0" if 0.0 < abs(value) < np.finfo(float).tiny else repr(value)


def sbml_id(name: str, prefix: str, taken: set) -> str:
    """A valid, unique SBML SId for ``name`` (letters, digits, underscores; readable)."""
    readable = name.replace("+", "p").replace("-", "m").replace("*", "_rad")
    base = prefix + re.sub(r"[^A-Za-z0-9_]", "_", readable)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _unit_definitions(model):
    units = ET.SubElement(model, "listOfUnitDefinitions")

    def define(uid, *parts):
        unit_def = ET.SubElement(units, "unitDefinition", id=uid)
        lst = ET.SubElement(unit_def, "listOfUnits")
        for kind, exponent, scale in parts:
            ET.SubElement(lst, "unit", kind=kind, exponent=str(exponent), scale=str(scale), multiplier="1")

    define("per_second", ("second", -1, 0))
    define("per_molar_per_second", ("litre", 1, 0), ("mole", -1, 0), ("second", -1, 0))
    define("per_molar2_per_second", ("litre", 2, 0), ("mole", -2, 0), ("second", -1, 0))
    define("molar_per_second", ("mole", 1, 0), ("litre", -1, 0), ("second", -1, 0))
    return {0: "molar_per_second", 1: "per_second", 2: "per_molar_per_second", 3: "per_molar2_per_second"}


def _single_operand_unwrapped(math, product):
    """A product of one factor is written as that factor: ``<apply><times/>x</apply>`` is valid MathML, but
    some readers (GillesPy2) refuse a one-argument times — a zero-order law such as the O2 supply has one."""
    operands = list(product)[1:]
    if len(operands) == 1:
        math.remove(product)
        math.append(operands[0])


def _math(parent, factors):
    """<math><apply><times/> factors… </apply></math>; factors are (id, power) pairs."""
    math = ET.SubElement(parent, f"{{{MATHML_NS}}}math")
    product = ET.SubElement(math, f"{{{MATHML_NS}}}apply")
    ET.SubElement(product, f"{{{MATHML_NS}}}times")
    for identifier, power in factors:
        if power == 1:
            ET.SubElement(product, f"{{{MATHML_NS}}}ci").text = f" {identifier} "
        else:
            pw = ET.SubElement(product, f"{{{MATHML_NS}}}apply")
            ET.SubElement(pw, f"{{{MATHML_NS}}}power")
            ET.SubElement(pw, f"{{{MATHML_NS}}}ci").text = f" {identifier} "
            ET.SubElement(pw, f"{{{MATHML_NS}}}cn", {"type": "integer"}).text = f" {power} "
    _single_operand_unwrapped(math, product)


def _propensity_math(parent, c_id, factors):
    """<math> c · Π n(n−1)…(n−ν+1) </math>; factors are (species id, ν) pairs."""
    math = ET.SubElement(parent, f"{{{MATHML_NS}}}math")
    product = ET.SubElement(math, f"{{{MATHML_NS}}}apply")
    ET.SubElement(product, f"{{{MATHML_NS}}}times")
    ET.SubElement(product, f"{{{MATHML_NS}}}ci").text = f" {c_id} "
    for identifier, nu in factors:
        for m in range(nu):
            if m == 0:
                ET.SubElement(product, f"{{{MATHML_NS}}}ci").text = f" {identifier} "
                continue
            minus = ET.SubElement(product, f"{{{MATHML_NS}}}apply")
            ET.SubElement(minus, f"{{{MATHML_NS}}}minus")
            ET.SubElement(minus, f"{{{MATHML_NS}}}ci").text = f" {identifier} "
            ET.SubElement(minus, f"{{{MATHML_NS}}}cn", {"type": "integer"}).text = f" {m} "
    _single_operand_unwrapped(math, product)


def _law_math(parent, tree, factors, ids, count_scale):
    """<math> Π factors · g </math>, g = ``tree`` with each species name written as its SBML id (``ids``) or,
    with ``count_scale`` (the N_A·V parameter of a model in counts), as id / count_scale."""
    def symbol(name, where):
        if count_scale is None:
            ET.SubElement(where, f"{{{MATHML_NS}}}ci").text = f" {ids[name]} "
            return
        quotient = ET.SubElement(where, f"{{{MATHML_NS}}}apply")
        ET.SubElement(quotient, f"{{{MATHML_NS}}}divide")
        ET.SubElement(quotient, f"{{{MATHML_NS}}}ci").text = f" {ids[name]} "
        ET.SubElement(quotient, f"{{{MATHML_NS}}}ci").text = f" {count_scale} "

    math = ET.SubElement(parent, f"{{{MATHML_NS}}}math")
    product = ET.SubElement(math, f"{{{MATHML_NS}}}apply")
    ET.SubElement(product, f"{{{MATHML_NS}}}times")
    for identifier in factors:
        ET.SubElement(product, f"{{{MATHML_NS}}}ci").text = f" {identifier} "
    mathml.write(product, tree, symbol)


def _exportable_laws(network):
    """network.laws when SBML export can write them (None for mass action); else ConditionsError."""
    laws = network.laws
    if laws is None:
        return None
    if laws.event_names:
        raise ConditionsError(f"SBML export cannot take `{network.name}`: its events triggered by the state "
                              f"({', '.join(laws.event_names[:5])}) are not exported")
    if laws.signed.any() or len(laws.trees) != network.n_reactions:
        signed = [name for name, flag in zip(network.species, laws.signed) if flag]
        raise ConditionsError(f"SBML export cannot take `{network.name}`: its state variables "
                              f"({', '.join(signed[:5]) or 'some'}) are not all concentrations (an imported "
                              "model's quantities and rules are not exported)")
    return laws


def _compartments(network) -> dict:
    """{compartment: volume [L]} of a multi-compartment network (empty for one volume); a varying size or a
    reaction changing species of two compartments (never compiled from a mechanism file) is refused."""
    if not network.compartments:
        return {}
    places = dict(zip(network.compartments, network.compartment_volumes))
    varying = sorted(name for name, size in places.items() if not np.isfinite(size))
    if varying:
        raise ConditionsError(f"SBML export cannot take `{network.name}`: compartment `{varying[0]}` has no one "
                              "size (it varies) or holds no species of its own")
    for i, rid in enumerate(network.reaction_ids):
        if len({network.compartments[j] for j in np.flatnonzero(network.net_stoich[i])}) > 1:
            raise ConditionsError(f"SBML export cannot take `{network.name}`: reaction `{rid}` changes species "
                                  "of two compartments")
    return places


def export_sbml(network, k, y0, *, volume: float = 1.0, pH: float | None = None,
                temperature: float | None = None, amounts: bool = False, references=None, rate_overrides="") -> str:
    """SBML L3V2 text of ``network`` with effective constants ``k`` and initial state ``y0``.

    Parameters
    ----------
    network : Network
    k : array_like, shape (n_r,)
        Effective rate constants [M^(1−order) s⁻¹] at the chosen conditions.
    y0 : array_like, shape (n_s,)
        Initial concentrations [M].
    volume : float
        Compartment volume [L] (a multi-compartment network writes its own volumes).
    pH, temperature : float, optional
        Recorded in the notes (the constants already include their effect).
    amounts : bool
        Write molecule counts and propensities for stochastic simulators (see
        the module docstring); initial counts are y0·N_A·V rounded to integers.
    references : mapping of str to str, optional
        Literature reference of each network reaction id, written as the
        reaction's annotation (``<fentonsim:reference>``) and notes.
    rate_overrides : str
        Run-time rate constants folded into ``k`` ("F1 = 70 M^-1 s^-1; …"), recorded in the notes.
    """
    laws = _exportable_laws(network)
    if amounts:
        network.require_one_volume("SBML export with molecule counts", "counts are per one volume")
    places = _compartments(network)
    references = dict(references or {})
    k = np.asarray(k, dtype=float)
    y0 = np.asarray(y0, dtype=float)
    molecules_per_molar = AVOGADRO * float(volume)
    ET.register_namespace("", SBML_NS)
    ET.register_namespace("fentonsim", FENTONSIM_NS)
    sbml = ET.Element(f"{{{SBML_NS}}}sbml", level="3", version="2")
    taken: set = set()
    substance = "item" if amounts else "mole"
    model = ET.SubElement(sbml, "model", id=sbml_id(network.name, "", set()), name=network.name,
                          substanceUnits=substance, timeUnits="second", volumeUnits="litre",
                          extentUnits=substance)
    notes = ET.SubElement(model, "notes")
    body = ET.SubElement(notes, f"{{{XHTML_NS}}}body")
    conditions = ", ".join(x for x in (f"pH {pH:g}" if pH is not None else "",
                                       f"T {temperature:g} K" if temperature is not None else "") if x)
    ET.SubElement(body, f"{{{XHTML_NS}}}p").text = (
        f"Exported by fentonsim from mechanism '{network.name}' (sha256 {network.mechanism_sha256}) "
        f"at {conditions or 'the mechanism defaults'}"
        + (f" with the rate constants {rate_overrides}" if rate_overrides else "")
        + ". Acid-base speciation, temperature and clamped species are folded into the rate constants at "
        "these conditions; speciation pools are single species holding the pool total. "
        + ("Species are molecule counts; kinetic laws are propensities c * n(n-1)... with "
           "c = k (N_A V)^(1 - order)." if amounts else
           "Rate convention: r = k * prod([x]^nu), kinetic law = volume * r."))
    k_units = _unit_definitions(model)
    compartments = ET.SubElement(model, "listOfCompartments")
    compartment_ids = {}
    for name, size in (places or {"": float(volume)}).items():
        cid = "cell" if not name else sbml_id(name, "c_", taken)
        compartment_ids[name] = cid
        ET.SubElement(compartments, "compartment", id=cid, **({"name": name} if name else {}), spatialDimensions="3",
                      size=sbml_double(size), units="litre", constant="true")
    taken.add("cell")
    species_ids = [sbml_id(name, "s_", taken) for name in network.species]
    species_compartment = [compartment_ids[c] for c in (network.compartments or ("",) * network.n_species)]
    listing = ET.SubElement(model, "listOfSpecies")
    for sid, name, value, place in zip(species_ids, network.species, y0, species_compartment):
        initial = ({"initialAmount": sbml_double(np.round(value * molecules_per_molar))} if amounts
                   else {"initialConcentration": sbml_double(value)})
        ET.SubElement(listing, "species", id=sid, name=name, compartment=place, **initial,
                      substanceUnits=substance, hasOnlySubstanceUnits="true" if amounts else "false",
                      boundaryCondition="false", constant="false")
    parameters = ET.SubElement(model, "listOfParameters")
    general = set(laws.general_reactions) if laws is not None else set()
    if amounts and general:
        count_scale = sbml_id("N_A_V", "", taken)
        ET.SubElement(parameters, "parameter", id=count_scale, value=sbml_double(molecules_per_molar),
                      constant="true")
    reactions = ET.SubElement(model, "listOfReactions")
    for i, rid in enumerate(network.reaction_ids):
        reaction_id = sbml_id(rid, "r_", taken)
        k_id = sbml_id(f"k_{rid}", "", taken)
        order = int(network.order[i])
        units = {}
        if rid in general:
            # k·g with g a general law: k's unit depends on g's (not recorded in the file).
            value = float(k[i]) * (molecules_per_molar if amounts else 1.0)
        elif amounts:
            value, units = float(k[i]) * molecules_per_molar ** (1 - order), {"units": "per_second"}
        else:
            value, units = float(k[i]), {"units": k_units.get(order, "dimensionless")}
        ET.SubElement(parameters, "parameter", id=k_id, value=sbml_double(value), constant="true", **units)
        reaction = ET.SubElement(reactions, "reaction", id=reaction_id, name=network.equations[i],
                                 reversible="false")
        if references.get(rid):
            reaction_notes = ET.SubElement(reaction, "notes")
            ET.SubElement(reaction_notes, f"{{{XHTML_NS}}}p").text = f"Reference: {references[rid]}"
            annotation = ET.SubElement(reaction, "annotation")
            ET.SubElement(annotation, f"{{{FENTONSIM_NS}}}reference").text = references[rid]
        consumed = {}
        for j, nu in zip(network.reactant_idx[i], network.reactant_coef[i]):
            if j >= 0:
                consumed[int(j)] = int(nu)
        if rid in general:  # a general law's reactants are its net losses (it has no mass-action slots)
            consumed = {int(j): int(-network.net_stoich[i, j]) for j in np.flatnonzero(network.net_stoich[i] < 0)}
        produced = {}
        for j in range(network.n_species):
            made = int(network.net_stoich[i, j]) + consumed.get(j, 0)
            if made > 0:
                produced[j] = made
        for tag, entries in (("listOfReactants", consumed), ("listOfProducts", produced)):
            if entries:
                lst = ET.SubElement(reaction, tag)
                for j, nu in entries.items():
                    ET.SubElement(lst, "speciesReference", species=species_ids[j], stoichiometry=str(nu),
                                  constant="true")
        if rid in general:
            tree = laws.trees[i]
            index = {name: j for j, name in enumerate(network.species)}
            read = sorted(index[name] for name in symbols(tree) if name in index)
            modifiers = [j for j in read if network.net_stoich[i, j] == 0]
            if modifiers:
                lst = ET.SubElement(reaction, "listOfModifiers")
                for j in modifiers:
                    ET.SubElement(lst, "modifierSpeciesReference", species=species_ids[j])
            law = ET.SubElement(reaction, "kineticLaw")
            changed = {species_compartment[j] for j in np.flatnonzero(network.net_stoich[i])} or {"cell"}
            _law_math(law, tree, [k_id] if amounts else [changed.pop(), k_id],
                      {name: species_ids[j] for name, j in index.items()}, count_scale if amounts else None)
            continue
        law = ET.SubElement(reaction, "kineticLaw")
        if amounts:
            _propensity_math(law, k_id, [(species_ids[j], nu) for j, nu in consumed.items()])
        else:
            # Extent per time in the volume of the species the reaction changes (fentonsim.compartments).
            changed = {species_compartment[j] for j in np.flatnonzero(network.net_stoich[i])} or {"cell"}
            _math(law, [(changed.pop(), 1), (k_id, 1)] + [(species_ids[j], nu) for j, nu in consumed.items()])
    ET.indent(sbml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(sbml, encoding="unicode") + "\n"


def reaction_references(mechanism, network) -> dict:
    """Network reaction id -> reference text (citation and DOI where the mechanism lists them)."""
    table = {r.key: r for r in mechanism.references}
    out = {}
    for rid, source in zip(network.reaction_ids, network.source_reaction):
        ref = mechanism.reaction(source).ref
        if not ref:
            continue
        entry = table.get(ref)
        if entry is None:
            out[rid] = ref
        else:
            out[rid] = f"{entry.citation}" + (f" doi:{entry.doi}" if entry.doi else "") + f" [{ref}]"
    return out


def export_model(model, *, conditions=None, ph=None, temperature=None, volume=None, initial=None, buffered=None,
                 parameter_set=None, rates=None, amounts=False) -> str:
    """SBML L3V2 text of a mechanism (file, Mechanism) at the given conditions.

    Conditions resolve as in :func:`fentonsim.simulate` (explicit arguments over the preset over the
    mechanism defaults); the initial concentrations are the preset's and ``initial``'s.
    """
    from ..problem import format_rates, resolve_mechanism, resolve_model, resolve_run

    mechanism = resolve_mechanism(model, parameter_set)
    network = resolve_model(mechanism)
    run = resolve_run(network, conditions, ph, temperature, initial, buffered, volume, rates)
    return export_sbml(network, run.k, run.y0, volume=run.volume, pH=run.pH, temperature=run.temperature,
                       amounts=amounts, references=reaction_references(mechanism, network),
                       rate_overrides=format_rates(run.rates, network.rate_orders))
