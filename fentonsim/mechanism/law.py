"""General rate laws as written in mechanism files: parsing and dimensional analysis.

A reaction may give ``law:`` — the factor g in r = k·g — instead of proceeding by mass action::

    - id: NZ1
      equation: H2O2 + TMB => oxTMB + H2O
      rate: {k: 3.8e4 s^-1}                        # k_cat
      law: "[Fe3O4] * [TMB] / (Km_TMB + [TMB])"   # g [M]: so k is in s^-1
      law-constants: {Km_TMB: 0.098 mM}

Syntax: ``[X]`` is the concentration of integrated species X [M] (brackets, so that names such as
``Fe+2`` or ``O2-`` read unambiguously); bare names are the law's constants (``law-constants``, each a
number with its unit, or dimensionless) or ``time`` [s]; numbers; ``+ - * / ^`` and parentheses;
comparisons ``< <= > >= == !=``; functions exp, ln, log10, sqrt, abs, min, max, floor, ceil, sin, cos, tan,
sinh, cosh, tanh and ``piecewise(value1, condition1, …, otherwise)``. Helpers for the usual laws:
``mm(S, Km)`` = S/(Km + S) (Michaelis–Menten saturation), ``hill(S, K, n)`` = Sⁿ/(Kⁿ + Sⁿ),
``inhibit(I, Ki)`` = 1/(1 + I/Ki) (non-competitive inhibition factor) — written out as expressions, so
their derivatives are exact like the rest.

Dimensions are checked: terms of a sum and the arms of min, max, piecewise and comparisons must agree,
function arguments and exponents must be dimensionless (an exponent must be a number), and the law must
have the dimension of a concentration power M^m, which fixes the unit of k (M^(1−m) s⁻¹, as for a
mass-action reaction of order m).
"""
from __future__ import annotations

import math
import re

from ..expression import num, op, sym, symbols
from ..units import CONCENTRATION, DIMENSIONLESS, TIME, format_dims, parse_unit

_TOKEN = re.compile(r"""\s*(?:
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | \[(?P<species>[^\[\]]+)\]
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|==|!=|[-+*/^(),<>])
)""", re.X)

_FUNCTIONS = {"exp": 1, "ln": 1, "log10": 1, "sqrt": 1, "abs": 1, "floor": 1, "ceil": 1, "sin": 1, "cos": 1,
              "tan": 1, "sinh": 1, "cosh": 1, "tanh": 1, "arcsin": 1, "arccos": 1, "arctan": 1, "arcsinh": 1,
              "arccosh": 1, "arctanh": 1, "not": 1, "and": -1, "or": -1, "xor": -1, "min": -1, "max": -1,
              "piecewise": -1, "mm": 2, "hill": 3, "inhibit": 2}
_RELATIONS = {"<": "lt", "<=": "leq", ">": "gt", ">=": "geq", "==": "eq", "!=": "neq"}


class LawSyntaxError(ValueError):
    """A law that does not parse or whose dimensions do not agree (the caller adds file and line)."""


def _tokens(text):
    position, out = 0, []
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise LawSyntaxError(f"cannot read `{text[position:position + 12].strip()}` at character {position + 1}")
        kind = match.lastgroup
        out.append((kind, match.group(kind).strip() if kind == "species" else match.group(kind)))
        position = match.end()
    return out


class _Parser:
    """Recursive descent: comparison < sum < product < unary < power < atom."""

    def __init__(self, text):
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.species, self.names = set(), set()

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        token = self.peek()
        if token[0] is None or (value is not None and token[1] != value):
            found = "the end" if token[0] is None else f"`{token[1]}`"
            raise LawSyntaxError(f"expected {f'`{value}`' if value else 'more'} but found {found}")
        self.i += 1
        return token

    def parse(self):
        if not self.tokens:
            raise LawSyntaxError("the law is empty")
        expr = self.comparison()
        if self.peek()[0] is not None:
            raise LawSyntaxError(f"unexpected `{self.peek()[1]}`")
        return expr

    def comparison(self):
        left = self.sum()
        kind, value = self.peek()
        if kind == "op" and value in _RELATIONS:
            self.take()
            return ("rel", _RELATIONS[value], (left, self.sum()))
        return left

    def sum(self):
        expr = self.product()
        while self.peek() in (("op", "+"), ("op", "-")):
            operator = self.take()[1]
            expr = op("plus" if operator == "+" else "minus", expr, self.product())
        return expr

    def product(self):
        expr = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            operator = self.take()[1]
            expr = op("times" if operator == "*" else "divide", expr, self.unary())
        return expr

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return op("minus", self.unary())
        if self.peek() == ("op", "+"):
            self.take()
            return self.unary()
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() == ("op", "^"):
            self.take()
            return op("power", base, self.unary())  # right-associative: a^b^c = a^(b^c)
        return base

    def atom(self):
        kind, value = self.take()
        if kind == "number":
            return num(float(value))
        if kind == "species":
            self.species.add(value)
            return sym(value)
        if kind == "op" and value == "(":
            expr = self.comparison()
            self.take(")")
            return expr
        if kind == "name":
            if self.peek() == ("op", "("):
                return self.call(value)
            if value in _FUNCTIONS:
                raise LawSyntaxError(f"function `{value}` needs its arguments in parentheses")
            self.names.add(value)
            return sym(value)
        raise LawSyntaxError(f"unexpected `{value}`")

    def call(self, name):
        if name not in _FUNCTIONS:
            raise LawSyntaxError(f"unknown function `{name}` (known: {', '.join(sorted(_FUNCTIONS))})")
        self.take("(")
        args = [self.comparison()]
        while self.peek() == ("op", ","):
            self.take()
            args.append(self.comparison())
        self.take(")")
        arity = _FUNCTIONS[name]
        if arity > 0 and len(args) != arity:
            raise LawSyntaxError(f"`{name}` takes {arity} argument{'s' if arity > 1 else ''}, found {len(args)}")
        if name == "mm":
            return op("divide", args[0], op("plus", args[1], args[0]))
        if name == "hill":
            s, k, n = args
            return op("divide", op("power", s, n), op("plus", op("power", k, n), op("power", s, n)))
        if name == "inhibit":
            return op("divide", num(1.0), op("plus", num(1.0), op("divide", args[0], args[1])))
        if name == "piecewise" and len(args) < 2:
            raise LawSyntaxError("`piecewise` takes value, condition pairs and an optional otherwise value")
        return op(name, *args)


def parse_law(text: str):
    """(tree, species named in brackets, constant names) of a law (module docstring for the syntax).

    Raises
    ------
    LawSyntaxError
        Naming what could not be read.
    """
    if not isinstance(text, str):
        raise LawSyntaxError(f"a law is text such as \"[S] / (Km + [S])\", found {text!r}")
    parser = _Parser(text)
    tree = parser.parse()
    parser.names.discard("time")
    return tree, parser.species, parser.names


def parse_constant(value, what: str):
    """(value in canonical units, dims) of a law constant: a bare number (dimensionless) or "<number> <unit>"."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise LawSyntaxError(f"{what} must be a number with its unit, such as `0.1 mM`, found `{value}`")
    if isinstance(value, (int, float)):
        return float(value), DIMENSIONLESS
    match = re.match(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$", value)
    if match is None:
        raise LawSyntaxError(f"{what} must be a number with its unit, such as `0.1 mM`, found `{value}`")
    number, unit_text = float(match.group(1)), match.group(2)
    if not unit_text:
        return number, DIMENSIONLESS
    unit = parse_unit(unit_text, original=value)
    return number * unit.factor, unit.dims


def _same(a, b):
    return all(math.isclose(x, y, abs_tol=1e-9) for x, y in zip(a, b))


def law_dims(expr, dims_of) -> tuple:
    """Dimensions of ``expr`` given ``dims_of`` (symbol → dims), checking that they agree (module docstring).

    Raises
    ------
    LawSyntaxError
        Naming the operation whose dimensions disagree.
    """
    kind = expr[0]
    if kind == "num":
        return DIMENSIONLESS
    if kind == "sym":
        return dims_of[expr[1]]
    name, args = expr[1], expr[2]
    if kind == "rel":
        left, right = (law_dims(a, dims_of) for a in args)
        if not _same(left, right):
            raise LawSyntaxError(f"a comparison sets {format_dims(left)} against {format_dims(right)}")
        return DIMENSIONLESS
    dims = [law_dims(a, dims_of) for a in args]
    if name in ("plus", "minus", "min", "max"):
        for d in dims[1:]:
            if not _same(d, dims[0]):
                raise LawSyntaxError(f"`{name}` of {format_dims(dims[0])} and {format_dims(d)}")
        return dims[0]
    if name == "times":
        return tuple(sum(column) for column in zip(*dims))
    if name == "divide":
        return tuple(a - b for a, b in zip(dims[0], dims[1]))
    if name == "power":
        if not _same(dims[1], DIMENSIONLESS):
            raise LawSyntaxError(f"an exponent must be dimensionless, found {format_dims(dims[1])}")
        if _same(dims[0], DIMENSIONLESS):
            return DIMENSIONLESS
        if args[1][0] != "num":
            raise LawSyntaxError("a quantity with a unit may only be raised to a number (its unit would vary)")
        return tuple(d * args[1][1] for d in dims[0])
    if name == "piecewise":
        values = [dims[i] for i in range(0, len(args) - 1, 2)] + ([dims[-1]] if len(args) % 2 else [])
        for d in values[1:]:
            if not _same(d, values[0]):
                raise LawSyntaxError(f"the values of `piecewise` are {format_dims(values[0])} and {format_dims(d)}")
        return values[0]
    for d in dims:
        if not _same(d, DIMENSIONLESS):
            raise LawSyntaxError(f"the argument of `{name}` must be dimensionless, found {format_dims(d)}")
    return DIMENSIONLESS


def concentration_order(dims) -> float:
    """m when ``dims`` is M^m; else LawSyntaxError."""
    m = dims[0]
    if _same(dims, tuple(m * c for c in CONCENTRATION)):
        return m
    raise LawSyntaxError(f"the law has unit {format_dims(dims)}; it must be a power of M (mol/L), so that "
                         "k·law is a rate in M/s")


#: Dimensions of ``time`` in a law.
TIME_DIMS = TIME


def law_order(tree, constants) -> float:
    """Concentration order m of a law whose dimensions were checked on load (``constants`` as stored in
    ``Reaction.law_constants``): its k is in M^(1−m) s⁻¹."""
    names = {name for name, _, _ in constants}
    dims_of = {name: CONCENTRATION for name in symbols(tree) - names - {"time"}}
    dims_of.update({name: dims for name, _, dims in constants}, time=TIME)
    return concentration_order(law_dims(tree, dims_of))


def law_text(expr, species) -> str:
    """The law as mechanism-file text: species in brackets, numbers in full precision."""
    kind = expr[0]
    if kind == "num":
        return repr(float(expr[1]))
    if kind == "sym":
        return f"[{expr[1]}]" if expr[1] in species else expr[1]
    name, args = expr[1], expr[2]
    text = [law_text(a, species) for a in args]
    if kind == "rel":
        symbol = {v: k for k, v in _RELATIONS.items()}[name]
        return f"({text[0]} {symbol} {text[1]})"
    infix = {"plus": " + ", "times": " * ", "divide": " / ", "power": "^"}
    if name in infix and len(args) > 1:
        return "(" + infix[name].join(text) + ")"
    if name == "minus":
        return f"(-{text[0]})" if len(args) == 1 else f"({text[0]} - {text[1]})"
    return f"{name}(" + ", ".join(text) + ")"
