"""Expression trees (fentonsim.expression) written as content MathML, for SBML export of general rate laws.

Each operator maps to its MathML element (``ceil`` → ``<ceiling/>``, ``sqrt`` → ``<root/>``, ``log10`` →
``<log/>`` with base 10, ``min``/``max`` as in SBML L3V2); ``time`` is SBML's time csymbol. A symbol is
written through ``symbol(name, parent)``, so the caller decides what a name becomes (an SBML id, or a
species count divided by N_A·V for a model in molecule counts). The importer (fentonsim.sbml.importer) reads
every element written here back to the same tree.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..expression import OPERATORS, RELATIONS

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
TIME_URL = "http://www.sbml.org/sbml/symbols/time"

#: Operators whose MathML element has another name (the rest keep theirs).
_ELEMENT = {"ceil": "ceiling", "sqrt": "root", "log10": "log"}


def _element(parent, tag, text=None, **attributes):
    node = ET.SubElement(parent, f"{{{MATHML_NS}}}{tag}", attributes)
    if text is not None:
        node.text = f" {text} "
    return node


def number(parent, value: float) -> None:
    """``<cn>`` of a float, written to round-trip (repr); NaN and infinities as MathML's constants."""
    if value != value:
        _element(parent, "notanumber")
    elif value in (float("inf"), float("-inf")):
        if value > 0:
            _element(parent, "infinity")
        else:
            negative = _element(parent, "apply")
            _element(negative, "minus")
            _element(negative, "infinity")
    else:
        # libsbml rejects subnormal numbers as "not a double"; one that small is 0 to any simulation.
        _element(parent, "cn", repr(float(value) if abs(value) >= 2.2250738585072014e-308 else 0.0))


def write(parent, expr, symbol) -> None:
    """Append ``expr`` to ``parent`` as MathML; ``symbol(name, parent)`` writes a named value (not ``time``)."""
    kind = expr[0]
    if kind == "num":
        number(parent, expr[1])
        return
    if kind == "sym":
        if expr[1] == "time":
            _element(parent, "csymbol", "time", encoding="text", definitionURL=TIME_URL)
        else:
            symbol(expr[1], parent)
        return
    name, args = expr[1], expr[2]
    if kind == "rel":
        if name not in RELATIONS:
            raise ValueError(f"no MathML for the relation `{name}`")
    elif name not in OPERATORS:
        raise ValueError(f"no MathML for the operator `{name}`")
    if name == "piecewise":
        piecewise = _element(parent, "piecewise")
        for i in range(0, len(args) - 1, 2):
            piece = _element(piecewise, "piece")
            write(piece, args[i], symbol)
            write(piece, args[i + 1], symbol)
        if len(args) % 2:
            write(_element(piecewise, "otherwise"), args[-1], symbol)
        return
    apply = _element(parent, "apply")
    _element(apply, _ELEMENT.get(name, name))
    if name == "log10":
        number(_element(apply, "logbase"), 10.0)
    for argument in args:
        write(apply, argument, symbol)


def math(parent, expr, symbol):
    """``<math>`` holding ``expr`` under ``parent``; returns the element."""
    root = _element(parent, "math")
    write(root, expr, symbol)
    return root
