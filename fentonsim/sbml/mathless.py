"""SBML Level 3 Version 2 elements whose math is optional and missing: they carry no information, so they are
dropped before the model is read (the SBML Test Suite's cases 01234–01243, 01552–01557, 01600–01602 and 01657
fix this reading), each with a warning naming its line.

Dropped: assignment, rate and algebraic rules, initial assignments, event assignments, event delays and
priorities, and stoichiometryMath. Elements whose math is required to simulate at all — kinetic laws and
event triggers — are not dropped: the importer refuses them by name. In Level 2 and L3V1 math is required
everywhere, and a file lacking it never gets this far (libsbml reports it as invalid).
"""
from __future__ import annotations


def drop(model, path):
    """Remove ``model``'s elements with optional math that have none; returns one warning per element."""
    warnings = []

    def note(kind, element):
        line = element.getLine() if element is not None and element.getLine() > 0 else None
        where = f"{path}:{line}" if line else str(path)
        warnings.append(f"{where}: warning: {kind} has no math and is ignored")

    for i in reversed(range(model.getNumRules())):
        rule = model.getRule(i)
        if not rule.isSetMath():
            target = f" for `{rule.getVariable()}`" if rule.getVariable() else ""
            note(f"{rule.getElementName()}{target}", rule)
            model.removeRule(i)
    for i in reversed(range(model.getNumInitialAssignments())):
        assignment = model.getInitialAssignment(i)
        if not assignment.isSetMath():
            note(f"initial assignment to `{assignment.getSymbol()}`", assignment)
            model.removeInitialAssignment(i)
    for i in range(model.getNumEvents()):
        event = model.getEvent(i)
        name = f"event `{event.getId()}`" if event.getId() else "an event"
        for j in reversed(range(event.getNumEventAssignments())):
            assignment = event.getEventAssignment(j)
            if not assignment.isSetMath():
                note(f"assignment to `{assignment.getVariable()}` in {name}", assignment)
                event.removeEventAssignment(j)
        if event.isSetDelay() and not event.getDelay().isSetMath():
            note(f"delay of {name}", event.getDelay() if event.getDelay().getLine() else event)
            event.unsetDelay()
        if event.isSetPriority() and not event.getPriority().isSetMath():
            note(f"priority of {name}", event.getPriority() if event.getPriority().getLine() else event)
            event.unsetPriority()
    for i in range(model.getNumReactions()):
        reaction = model.getReaction(i)
        refs = [reaction.getReactant(j) for j in range(reaction.getNumReactants())] + [
            reaction.getProduct(j) for j in range(reaction.getNumProducts())]
        for ref in refs:
            if (hasattr(ref, "isSetStoichiometryMath") and ref.isSetStoichiometryMath()
                    and not ref.getStoichiometryMath().isSetMath()):
                note(f"stoichiometryMath of `{ref.getSpecies()}` in reaction `{reaction.getId()}`", ref)
                ref.unsetStoichiometryMath()
    return warnings
