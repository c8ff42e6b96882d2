"""Parse and format reaction equations such as ``"Fe+2 + H2O2 => Fe+3 + OH- + HO*"``.

Grammar: ``side ARROW side`` where ARROW is ``=>`` (irreversible) or ``<=>``
(reversible), and a side is terms joined by `` + `` (a plus sign with white
space on both sides, because species names such as ``Fe+2`` contain ``+``).
A term is an optional positive integer coefficient followed by white space and
a species name; a name is any run of non-space characters. Repeated species on
one side are summed (``A + A`` is ``2 A``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import FentonsimError

_SPLIT_PLUS = re.compile(r"\s+\+\s+")
_WRONG_ARROWS = ("<->", "->", "-->", "→", "⇌", "<=", "=")


class EquationError(FentonsimError):
    """An equation string is malformed (the loader adds file and line)."""


@dataclass(frozen=True)
class Equation:
    """A parsed equation: sides as tuples of (species name, positive coefficient)."""

    reactants: tuple[tuple[str, int], ...]
    products: tuple[tuple[str, int], ...]
    reversible: bool


def _parse_side(text: str, which: str, equation: str) -> tuple[tuple[str, int], ...]:
    text = text.strip()
    if not text:
        return ()
    coefficients: dict[str, int] = {}
    for term in _SPLIT_PLUS.split(text):
        parts = term.split()
        if len(parts) == 1:
            coefficient, name = 1, parts[0]
        elif len(parts) == 2 and parts[0].isdigit():
            coefficient, name = int(parts[0]), parts[1]
        else:
            raise EquationError(
                f"cannot read term `{term}` on the {which} side of `{equation}`; expected "
                "`NAME` or `N NAME` with N a positive integer, terms joined by ` + ` (spaces around +)"
            )
        if coefficient == 0:
            raise EquationError(f"coefficient 0 for `{name}` in `{equation}`; omit the species instead")
        if name in ("+", "=>", "<=>") or name.startswith("+"):
            raise EquationError(f"stray `{name}` on the {which} side of `{equation}`")
        coefficients[name] = coefficients.get(name, 0) + coefficient
    return tuple(coefficients.items())


def parse_equation(equation: str) -> Equation:
    """Parse ``equation`` into an :class:`Equation`.

    Raises
    ------
    EquationError
        With the offending term and what was expected.
    """
    if not isinstance(equation, str) or not equation.strip():
        raise EquationError(f"expected an equation such as `A + B => C`, found `{equation!r}`")
    # `<=>` contains `=>`, so arrows are counted as whole white-space-separated tokens.
    tokens = equation.split()
    n_reversible, n_forward = tokens.count("<=>"), tokens.count("=>")
    if n_reversible + n_forward != 1:
        found = [t for t in tokens if t in _WRONG_ARROWS]
        hint = f" (found `{found[0]}`)" if found else ""
        raise EquationError(
            f"`{equation}` must contain exactly one arrow `=>` (irreversible) or `<=>` "
            f"(reversible) with spaces around it{hint}"
        )
    arrow = "<=>" if n_reversible else "=>"
    left, _, right = f" {' '.join(tokens)} ".partition(f" {arrow} ")
    if not left.strip() and not right.strip():
        raise EquationError(f"`{equation}` has no species on either side")
    return Equation(
        reactants=_parse_side(left, "left", equation),
        products=_parse_side(right, "right", equation),
        reversible=arrow == "<=>",
    )


def format_side(terms) -> str:
    """Inverse of the side parser: ``(("HO*", 2),)`` -> ``"2 HO*"``."""
    return " + ".join(name if coef == 1 else f"{coef} {name}" for name, coef in terms)


def format_equation(reactants, products, reversible: bool = False) -> str:
    """Canonical equation string; ``parse_equation(format_equation(...))`` round-trips."""
    arrow = "<=>" if reversible else "=>"
    left, right = format_side(reactants), format_side(products)
    return f"{left} {arrow} {right}".strip()
