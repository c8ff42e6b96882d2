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

import math

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
    "min": lambda *a: np.minimum.reduce(np.broadcast_arrays(*a)) if len(a) > 1 else a[0],
    "max": lambda *a: np.maximum.reduce(np.broadcast_arrays(*a)) if len(a) > 1 else a[0],
    # piecewise(v1, c1, v2, c2, …, otherwise): the first vi whose ci holds (SBML's order), else otherwise.
    "piecewise": lambda *a: _piecewise(a),
    # Logic on conditions (relations give booleans, numbers count as true when non-zero).
    "and": lambda *a: np.logical_and.reduce(np.broadcast_arrays(*a)) if len(a) > 1 else np.asarray(a[0], bool),
    "or": lambda *a: np.logical_or.reduce(np.broadcast_arrays(*a)) if len(a) > 1 else np.asarray(a[0], bool),
    "xor": lambda *a: np.logical_xor.reduce(np.broadcast_arrays(*a)) if len(a) > 1 else np.asarray(a[0], bool),
    "not": np.logical_not,
    "floor": np.floor,
    # rem(a, b): the remainder of a/b truncated toward zero, with a's sign (SBML L3V2; C's fmod, exact).
    "rem": np.fmod,
    "ceil": np.ceil,
    "factorial": lambda a: _factorial(a),
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "arcsinh": np.arcsinh, "arccosh": np.arccosh,
    "arctanh": np.arctanh,
}

#: Functions whose value changes only in jumps: their derivative is 0 wherever it exists.
STEP_FUNCTIONS = ("and", "or", "xor", "not", "floor", "ceil")


def _factorial(a):
    """x! = Γ(x + 1) (SBML's factorial; numbers only: laws with a varying factorial are refused)."""
    return np.vectorize(lambda v: math.gamma(v + 1.0), otypes=[float])(a)

RELATIONS = {"geq": (np.greater_equal, ">="), "gt": (np.greater, ">"), "leq": (np.less_equal, "<="),
             "lt": (np.less, "<"), "eq": (np.equal, "=="), "neq": (np.not_equal, "!=")}


def _piecewise(args):
    """piecewise(v1, c1, …, otherwise) on numbers or arrays (conditions evaluated to booleans)."""
    pairs = [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]
    result = args[-1] if len(args) % 2 else np.nan
    for value, condition in reversed(pairs):
        result = np.where(condition, value, result)
    return result[()] if isinstance(result, np.ndarray) and result.ndim == 0 else result

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


# ---- Exact derivatives, for the Jacobians of general rate laws (fentonsim.laws).

def _is_num(expr, value=None) -> bool:
    return expr[0] == "num" and (value is None or expr[1] == value)


def _plus(*terms):
    terms = [t for t in terms if not _is_num(t, 0.0)]
    numbers = [t[1] for t in terms if t[0] == "num"]
    others = [t for t in terms if t[0] != "num"]
    constant = sum(numbers)
    if constant != 0.0 or not others:
        others.append(num(constant))
    return others[0] if len(others) == 1 else op("plus", *others)


def _times(*factors):
    if any(_is_num(f, 0.0) for f in factors):
        return num(0.0)
    constant = float(np.prod([f[1] for f in factors if f[0] == "num"])) if factors else 1.0
    others = [f for f in factors if f[0] != "num"]
    if constant != 1.0 or not others:
        others.insert(0, num(constant))
    return others[0] if len(others) == 1 else op("times", *others)


def _negate(expr):
    return num(-expr[1]) if expr[0] == "num" else _times(num(-1.0), expr)


def _divide(a, b):
    if _is_num(a, 0.0):
        return num(0.0)
    if _is_num(b, 1.0):
        return a
    return op("divide", a, b)


def derivative(expr, name: str):
    """∂expr/∂name as a tree, exact (symbolic rules; zeros and ones folded away).

    Relations and the conditions of ``piecewise`` are piecewise constant, so their derivative is 0
    almost everywhere and the pieces are differentiated one by one; ``abs``, ``min`` and ``max`` take
    the derivative of the active branch (at a tie, the first argument's). ``power(a, b)`` with b free of
    ``name`` is b·a^(b−1)·a'; otherwise a^b·(b'·ln a + b·a'/a).
    """
    kind = expr[0]
    if kind == "num" or kind == "rel" or name not in symbols(expr):
        return num(0.0)
    if kind == "sym":
        return num(1.0)
    fn, args = expr[1], expr[2]
    d = [derivative(a, name) for a in args]
    if fn == "plus":
        return _plus(*d)
    if fn == "minus":
        return _negate(d[0]) if len(args) == 1 else _plus(d[0], _negate(d[1]))
    if fn == "times":
        return _plus(*(_times(*(args[:i] + (d[i],) + args[i + 1:])) for i in range(len(args)) if not _is_num(d[i], 0.0)))
    if fn == "divide":
        a, b = args
        if _is_num(d[1], 0.0):
            return _divide(d[0], b)  # a constant denominator: no quotient rule, a shorter program
        numerator = _plus(_times(d[0], b), _negate(_times(a, d[1])))
        return _divide(numerator, op("power", b, num(2.0)))
    if fn == "power":
        a, b = args
        if name not in symbols(b):
            exponent = _plus(b, num(-1.0))
            if _is_num(exponent, 0.0):
                return _times(b, d[0])
            return _times(b, a if _is_num(exponent, 1.0) else op("power", a, exponent), d[0])
        return _times(expr, _plus(_times(d[1], op("ln", a)), _divide(_times(b, d[0]), a)))
    if fn == "exp":
        return _times(expr, d[0])
    if fn == "ln":
        return _divide(d[0], args[0])
    if fn == "log10":
        return _divide(d[0], _times(num(math.log(10.0)), args[0]))
    if fn == "sqrt":
        return _divide(d[0], _times(num(2.0), expr))
    if fn == "abs":
        return op("piecewise", d[0], ("rel", "geq", (args[0], num(0.0))), _negate(d[0]))
    if fn == "rem":
        a, b = args
        ratio = op("divide", a, b)
        truncated = op("piecewise", op("floor", ratio), ("rel", "geq", (ratio, num(0.0))), op("ceil", ratio))
        return _plus(d[0], _negate(_times(truncated, d[1])))
    if fn in ("min", "max"):
        if len(args) == 1:
            return d[0]
        relation = "leq" if fn == "min" else "geq"
        rest = op(fn, *args[1:]) if len(args) > 2 else args[1]
        return op("piecewise", d[0], ("rel", relation, (args[0], rest)), derivative(rest, name))
    if fn in STEP_FUNCTIONS:
        return num(0.0)
    inner = d[0]
    chain = {
        "sin": lambda a: op("cos", a), "cos": lambda a: _negate(op("sin", a)),
        "tan": lambda a: op("divide", num(1.0), op("power", op("cos", a), num(2.0))),
        "sinh": lambda a: op("cosh", a), "cosh": lambda a: op("sinh", a),
        "tanh": lambda a: op("minus", num(1.0), op("power", op("tanh", a), num(2.0))),
        "arcsin": lambda a: op("divide", num(1.0), op("sqrt", op("minus", num(1.0), op("power", a, num(2.0))))),
        "arccos": lambda a: _negate(op("divide", num(1.0), op("sqrt", op("minus", num(1.0), op("power", a, num(2.0)))))),
        "arctan": lambda a: op("divide", num(1.0), op("plus", num(1.0), op("power", a, num(2.0)))),
        "arcsinh": lambda a: op("divide", num(1.0), op("sqrt", op("plus", op("power", a, num(2.0)), num(1.0)))),
        "arccosh": lambda a: op("divide", num(1.0), op("sqrt", op("minus", op("power", a, num(2.0)), num(1.0)))),
        "arctanh": lambda a: op("divide", num(1.0), op("minus", num(1.0), op("power", a, num(2.0)))),
    }
    if fn in chain:
        return _times(chain[fn](args[0]), inner)
    if fn == "piecewise":
        pieces = list(args)
        for i in range(0, len(pieces) - 1, 2):
            pieces[i] = derivative(pieces[i], name)
        if len(pieces) % 2:
            pieces[-1] = derivative(pieces[-1], name)
        return op("piecewise", *pieces)
    raise ValueError(f"no derivative rule for `{fn}`")
