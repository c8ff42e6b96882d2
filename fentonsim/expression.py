"""Small arithmetic expressions: the math of SBML rules, events and kinetic laws.

An expression is a tree of tuples, built by the SBML importer and never
by ``eval``:

- ``("num", value)`` — a number;
- ``("sym", name)`` — a named value (species, parameter, compartment, ``time``);
- ``("op", name, (args…))`` — an operator or function from :data:`OPERATORS`;
- ``("rel", name, (left, right))`` — a comparison from :data:`RELATIONS` (event triggers).

Trees are hashable and print in infix form, so they can sit in frozen
dataclasses and in the canonical mechanism text.
"""
from __future__ import annotations

import numpy as np

#: Operators and functions, with the numpy function evaluating them on arrays.
OPERATORS = {
    "plus": lambda *a: sum(a[1:], a[0]),
    "minus": lambda a, b=None: -a if b is None else a - b,
    "times": lambda *a: np.prod(np.broadcast_arrays(*a), axis=0) if len(a) > 1 else a[0],
    "divide": lambda a, b: a / b,
    "power": lambda a, b: np.power(a, b),
    "exp": np.exp,
    "ln": np.log,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "abs": np.abs,
}

RELATIONS = {"geq": (np.greater_equal, ">="), "gt": (np.greater, ">"), "leq": (np.less_equal, "<="),
             "lt": (np.less, "<")}

_INFIX = {"plus": " + ", "minus": " - ", "times": " * ", "divide": " / ", "power": "^"}


def num(value) -> tuple:
    return ("num", float(value))


def sym(name: str) -> tuple:
    return ("sym", name)


def op(name: str, *args) -> tuple:
    return ("op", name, tuple(args))


def symbols(expr) -> set[str]:
    """Names an expression refers to."""
    if expr[0] == "sym":
        return {expr[1]}
    if expr[0] in ("op", "rel"):
        return set().union(*(symbols(a) for a in expr[2]))
    return set()


def evaluate(expr, values):
    """Value of ``expr`` with ``values`` (name → number or array); arrays broadcast.

    Raises
    ------
    KeyError
        Naming the first symbol without a value.
    """
    kind = expr[0]
    if kind == "num":
        return expr[1]
    if kind == "sym":
        return values[expr[1]]
    if kind == "rel":
        return RELATIONS[expr[1]][0](*(evaluate(a, values) for a in expr[2]))
    return OPERATORS[expr[1]](*(evaluate(a, values) for a in expr[2]))


def substitute(expr, values):
    """``expr`` with the symbols in ``values`` replaced by numbers, and constant parts folded."""
    kind = expr[0]
    if kind == "num":
        return expr
    if kind == "sym":
        return num(values[expr[1]]) if expr[1] in values else expr
    args = tuple(substitute(a, values) for a in expr[2])
    if kind == "op" and all(a[0] == "num" for a in args):
        return num(OPERATORS[expr[1]](*(a[1] for a in args)))
    return (kind, expr[1], args)


def affine(expr):
    """``(constant, {symbol: coefficient})`` when ``expr`` is affine in its symbols, else None."""
    kind = expr[0]
    if kind == "num":
        return expr[1], {}
    if kind == "sym":
        return 0.0, {expr[1]: 1.0}
    if kind == "rel":
        return None
    name, args = expr[1], [affine(a) for a in expr[2]]
    if any(a is None for a in args):
        return None
    if name == "plus" or (name == "minus" and len(args) == 2):
        sign = [1.0] + [1.0 if name == "plus" else -1.0] * (len(args) - 1)
        constant, coefficients = 0.0, {}
        for s, (c, coef) in zip(sign, args):
            constant += s * c
            for key, value in coef.items():
                coefficients[key] = coefficients.get(key, 0.0) + s * value
        return constant, coefficients
    if name == "minus":
        c, coef = args[0]
        return -c, {k: -v for k, v in coef.items()}
    if name == "times":
        variable = [a for a in args if a[1]]
        if len(variable) > 1:
            return None
        factor = float(np.prod([a[0] for a in args if not a[1]]))
        if not variable:
            return factor, {}
        c, coef = variable[0]
        return factor * c, {k: factor * v for k, v in coef.items()}
    if name == "divide" and not args[1][1] and args[1][0] != 0:
        c, coef = args[0]
        return c / args[1][0], {k: v / args[1][0] for k, v in coef.items()}
    return None


def to_text(expr) -> str:
    """Infix text, fully parenthesised where it matters (``2 * X``, ``exp(-k * t)``)."""
    kind = expr[0]
    if kind == "num":
        value = expr[1]
        return repr(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)
    if kind == "sym":
        return expr[1]
    name, args = expr[1], expr[2]
    if kind == "rel":
        return f"{to_text(args[0])} {RELATIONS[name][1]} {to_text(args[1])}"
    if name in _INFIX and (len(args) > 1):
        return "(" + _INFIX[name].join(to_text(a) for a in args) + ")"
    if name == "minus":
        return f"(-{to_text(args[0])})"
    return f"{name}(" + ", ".join(to_text(a) for a in args) + ")"
