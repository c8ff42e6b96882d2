"""SBML algebraic rules 0 = f(…) turned into the assignment rules they are equivalent to, where that is exact.

An algebraic rule determines one variable that nothing else determines (SBML L3V2 §4.9.4 and §4.11.5): a
species, parameter, compartment or species reference with ``constant="false"`` that no assignment or rate
rule sets and, for a species, that reactions do not change (a species in a reaction changes with it unless it
is a boundary species). Which variable a rule determines is fixed by the structure of all the rules together:
the rules and their unknowns must pair off one to one. This module finds that pairing by peeling — a rule
left with a single unsolved unknown must determine it, in every pairing there is — and solves each rule for
its unknown when the rule is linear in it: f = a·x + b with a and b free of x, so x = −b/a exactly. The
coefficient ``a`` must be a non-zero constant once the model's constants are known (the importer checks it
with :func:`check_coefficient`); a coefficient that varies could pass through zero, where the DAE changes
index and the formula would divide by zero.

Refused, with the rule named: a rule nonlinear in its unknown (x², exp(x), x inside a condition), a rule
with no unknown left (the system is overdetermined), rules whose unknowns cannot be paired uniquely (two
unknowns in one rule and no other rule fixing either: underdetermined, or a simultaneous system).
"""
from __future__ import annotations

from ..expression import _divide, _negate, _plus, _times, num, op, substitute, symbols, to_text


class AlgebraicRefusal(Exception):
    """A set of algebraic rules that cannot be turned exactly into assignment rules; ``index`` is the
    position of the rule at fault in the list given to :func:`solve`."""

    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.message, self.index = message, index


def linear_in(expr, name):
    """``(a, b)`` with expr = a·name + b identically and neither a nor b containing ``name``; None when
    ``expr`` is not linear in ``name`` (or its structure does not show it: only sums, differences, products
    with one factor containing ``name`` and quotients by expressions free of it are looked through)."""
    if name not in symbols(expr):
        return num(0.0), expr
    kind = expr[0]
    if kind == "sym":
        return num(1.0), num(0.0)
    if kind != "op":
        return None
    fn, args = expr[1], expr[2]
    if fn == "plus" or fn == "minus":
        parts = [linear_in(a, name) for a in args]
        if any(p is None for p in parts):
            return None
        if fn == "minus":
            if len(parts) == 1:
                return _negate(parts[0][0]), _negate(parts[0][1])
            return _plus(parts[0][0], _negate(parts[1][0])), _plus(parts[0][1], _negate(parts[1][1]))
        return _plus(*(a for a, _ in parts)), _plus(*(b for _, b in parts))
    if fn == "times":
        holding = [i for i, a in enumerate(args) if name in symbols(a)]
        if len(holding) != 1:
            return None
        inner = linear_in(args[holding[0]], name)
        if inner is None:
            return None
        others = args[:holding[0]] + args[holding[0] + 1:]
        return _times(inner[0], *others), _times(inner[1], *others)
    if fn == "divide" and name not in symbols(args[1]):
        inner = linear_in(args[0], name)
        if inner is None:
            return None
        return _divide(inner[0], args[1]), _divide(inner[1], args[1])
    return None


def solve(rules, candidates):
    """{unknown: (formula, coefficient, index)}: each unknown's formula −b/a from rule ``index`` of
    ``rules`` (expressions f of 0 = f, assignment rules already substituted), and the coefficient a that
    :func:`check_coefficient` must find constant and non-zero. ``candidates`` are the ids an algebraic rule
    may determine. Raises :class:`AlgebraicRefusal` (see the module docstring)."""
    unknowns = [symbols(f) & set(candidates) for f in rules]
    solved, pending = {}, list(range(len(rules)))
    while pending:
        progressed = False
        for i in list(pending):
            left = unknowns[i] - set(solved)
            if not left:
                raise AlgebraicRefusal(
                    f"algebraic rule 0 = {_short(rules[i])} has no variable left to determine "
                    f"({_which(unknowns[i], solved)}); the model's algebraic rules are overdetermined", i)
            if len(left) > 1:
                continue
            (x,) = left
            parts = linear_in(rules[i], x)
            if parts is None:
                raise AlgebraicRefusal(
                    f"algebraic rule 0 = {_short(rules[i])} determines `{x}` but is not linear in it; only rules "
                    "linear in their variable (a·x + b, a constant) are solved exactly", i)
            a, b = parts
            solved[x] = (op("divide", _negate(b), a), a, i)
            pending.remove(i)
            progressed = True
        if not progressed:
            i = pending[0]
            left = sorted(unknowns[i] - set(solved))
            raise AlgebraicRefusal(
                f"algebraic rule 0 = {_short(rules[i])} has several variables it could determine "
                f"({', '.join(left)}) and no other rule fixes which; an underdetermined or simultaneous "
                "system of algebraic rules is not supported", i)
    return solved


def check_coefficient(name, coefficient, constants):
    """None when ``coefficient`` (of ``name`` in its rule) is a non-zero finite constant given ``constants``
    (id → number), else the reason it is not."""
    value = substitute(coefficient, constants)
    if value[0] != "num":
        return (f"the coefficient of `{name}` ({_short(value)}) varies; only a constant coefficient keeps "
                "the rule solvable everywhere")
    if not (value[1] != 0 and abs(value[1]) < float("inf")):
        return f"the coefficient of `{name}` is {value[1]:g}; the rule does not determine it"
    return None


def candidates(model, rule_targets):
    """Ids an algebraic rule of libsbml ``model`` may determine: non-constant species not changed by reactions,
    non-constant parameters, compartments and (Level 3) species references with an id, minus the
    ``rule_targets`` that assignment and rate rules set."""
    changed = set()
    out = set()
    for i in range(model.getNumReactions()):
        reaction = model.getReaction(i)
        refs = [reaction.getReactant(j) for j in range(reaction.getNumReactants())] + [
            reaction.getProduct(j) for j in range(reaction.getNumProducts())]
        for ref in refs:
            changed.add(ref.getSpecies())
            if model.getLevel() == 3 and ref.isSetId() and not ref.getConstant():
                out.add(ref.getId())
    for i in range(model.getNumSpecies()):
        s = model.getSpecies(i)
        if not s.getConstant() and (s.getBoundaryCondition() or s.getId() not in changed):
            out.add(s.getId())
    for i in range(model.getNumParameters()):
        if not model.getParameter(i).getConstant():
            out.add(model.getParameter(i).getId())
    for i in range(model.getNumCompartments()):
        if not model.getCompartment(i).getConstant():
            out.add(model.getCompartment(i).getId())
    return out - set(rule_targets)


def _which(names, solved):
    named = sorted(names)
    if not named:
        return "it reads no variable that may change"
    return "its variables " + ", ".join(f"`{n}`" for n in named) + " are set by other algebraic rules"


def _short(expr):
    text = to_text(expr)
    return text if len(text) <= 80 else text[:77] + "..."
