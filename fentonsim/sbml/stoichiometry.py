"""Stoichiometries of SBML species references: attributes, Level 2 ``stoichiometryMath``, and Level 3 species
references whose id an initial assignment, an assignment rule or nothing at all (then it keeps its value) sets.

A stoichiometry is either a number, fixed for the whole run (constants folded in at import), or an expression
in the model's units that changes with time or the state. SBML's rule for a changing one is the same as for a
fixed one, applied at every instant: a reaction of rate v changes species S at (Σ products s − Σ reactants s)·v
(times S's conversion factor). The importer then splits such a reaction per species (``<reaction>__<species>``,
as for non-whole stoichiometries) with the law multiplied by that change, which is exact.

A species reference that a rate rule or events drive is a state variable of its own (the importer's
parameter states), read as a symbol, and so also a varying stoichiometry.
"""
from __future__ import annotations

from ..expression import op, substitute


def is_varying(value) -> bool:
    """Whether a stoichiometry (or a net change) is an expression rather than a number."""
    return isinstance(value, tuple)


def add(a, b):
    """a + b for stoichiometries: a number when both are numbers, else an expression."""
    if not (is_varying(a) or is_varying(b)):
        return a + b
    return op("plus", *(_as_expr(v) for v in (a, b) if is_varying(v) or v != 0))


def net_change(reactants, products, sid, factor=1.0):
    """(Σ products − Σ reactants)·factor for species ``sid``: a number, or an expression when either side
    varies."""
    produced, consumed = products.get(sid, 0), reactants.get(sid, 0)
    if not (is_varying(produced) or is_varying(consumed)):
        return (produced - consumed) * factor
    change = op("minus", _as_expr(produced), _as_expr(consumed))
    return change if factor == 1.0 else op("times", _as_expr(factor), change)


def stoichiometry(reader, ref, where, reaction):
    """The stoichiometry of species reference ``ref`` of ``reaction``: a number, or an expression in model units
    (constants substituted) when it changes during the run. ``reader`` is the importer's model reader."""
    model = reader.model
    sid = ref.getSpecies()
    if hasattr(ref, "isSetStoichiometryMath") and ref.isSetStoichiometryMath():
        element = ref.getStoichiometryMath()
        what = f"stoichiometryMath of `{sid}` in {where}"
        if not element.isSetMath():
            raise reader.error(f"{what} has no math", reaction)
        raw = reader.expand(reader.math(element, what), what, reaction)
        return _value(reader, raw, what, reaction)
    if model.getLevel() == 3 and ref.isSetId():
        rid = ref.getId()
        what = f"stoichiometry `{rid}` of `{sid}` in {where}"
        if rid in reader.rules:
            return _value(reader, reader.expand(("sym", rid), what, reaction), what, reaction)
        if rid in reader.parameter_states:
            return ("sym", rid)  # a state variable of its own: a rate rule or events drive it
        if rid in reader.rate_rules or rid in _event_targets(model):
            setter = "a rate rule" if rid in reader.rate_rules else "an event"
            raise reader.error(f"{what} is set by {setter} but has no value to start from", reaction)
        if rid in reader.values:
            # Its attribute, or the initial assignment that sets it once at t0: nothing changes it later.
            return reader.values[rid]
    return ref.getStoichiometry() if (model.getLevel() == 2 or ref.isSetStoichiometry()) else 1.0


def reference(model, rid):
    """The Level 3 species reference of id ``rid`` in ``model``, or None."""
    if model.getLevel() != 3 or not rid:
        return None
    ref = model.getSpeciesReference(rid)
    # libsbml also answers with a reference that has no id but names species `rid`.
    return ref if ref is not None and ref.isSetId() and ref.getId() == rid else None


def _value(reader, raw, what, element):
    value = reader.arithmetic(lambda: substitute(raw, reader.constants), what, raw, element)
    return value[1] if value[0] == "num" else value


def _as_expr(value):
    return value if is_varying(value) else ("num", float(value))


def _event_targets(model):
    return {model.getEvent(i).getEventAssignment(j).getVariable()
            for i in range(model.getNumEvents()) for j in range(model.getEvent(i).getNumEventAssignments())}
