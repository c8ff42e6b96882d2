"""Markdown reaction tables for mechanisms/README.md (``fentonsim table FILE...``).

One row per reaction, listed under the file that defines it (an included
file's reactions appear once, under that file): equation, k with its unit as
written (2k for self-reactions tabulated that way), activation energy,
where the constant was measured (pH, T, medium), source and evidence flag.
"""
from __future__ import annotations

from pathlib import Path

from ..constants import GAS_CONSTANT
from ..units import format_dims, rate_constant_dims
from .equation import format_equation
from .overrides import rate_order
from .schema import Mechanism, Reaction

EVIDENCE_MARK = {"confirmed": "✔", "unconfirmed": "~", None: ""}
HEADER = ("| id | reaction | k (25 °C unless T_ref) | Ea/R [K] | measured at | source | evidence |\n"
          "|---|---|---|---|---|---|---|")


def _num(x: float) -> str:
    """Compact scientific notation a chemist reads at a glance: 55, 0.013, 2.7e8."""
    if x == 0 or 1e-2 <= abs(x) < 1e4:
        return f"{x:.6g}"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _equation(reaction: Reaction) -> str:
    if not reaction.is_branched:
        return format_equation(reaction.reactants, reaction.branches[0].products, reaction.reversible)
    parts = []
    for b in reaction.branches:
        law = f"{b.fraction:g}"
        if b.per_pH:
            law += f" {b.per_pH:+g}·(pH−{b.pH_ref:g})"
        if b.per_K:
            law += f" {b.per_K:+g}·(T−{b.T_ref:g} K)"
        parts.append(f"{format_equation(reaction.reactants, b.products)} ({law})")
    return "<br>".join(parts)


def _rate(mechanism: Mechanism, reaction: Reaction) -> str:
    rate = reaction.rate
    unit = format_dims(rate_constant_dims(rate_order(mechanism, reaction.id)))
    scale = 2.0 if reaction.tabulated_2k else 1.0
    text = f"{_num(rate.k * scale)} {unit}" + (" (2k)" if reaction.tabulated_2k else "")
    if rate.T_ref != 298.15:
        text += f" at {rate.T_ref:g} K"
    if rate.factors:
        text += " × " + "·".join(f"[{name}]^{exp:g}" for name, exp in rate.factors)
    if reaction.reverse_rate is not None:
        text += f"; reverse {_num(reaction.reverse_rate.k)}"
    if reaction.uncertainty is not None:
        u = reaction.uncertainty
        if u.low is not None:
            text += f" (range {_num(u.low * scale)}–{_num(u.high * scale)})"
        elif u.factor is not None:
            text += f" (×/÷ {u.factor:g})"
        elif u.log10_sd is not None:
            text += f" (σlog {u.log10_sd:g})"
    return text


def _validity(reaction: Reaction) -> str:
    v = reaction.validity
    if v is None:
        return ""
    parts = []
    if v.pH is not None:
        parts.append(f"pH {v.pH[0]:g}" + (f"–{v.pH[1]:g}" if v.pH[1] != v.pH[0] else ""))
    if v.T is not None:
        parts.append(f"{v.T[0]:g}" + (f"–{v.T[1]:g}" if v.T[1] != v.T[0] else "") + " K")
    if v.medium:
        parts.append(v.medium)
    return "; ".join(parts)


def _source(mechanism: Mechanism, reaction: Reaction) -> str:
    refs = {r.key: r for r in mechanism.references}
    ref = refs.get(reaction.ref)
    if ref is None:
        return reaction.ref or ""
    return ref.citation


def reaction_table(mechanism: Mechanism, path: str | Path | None = None) -> str:
    """Markdown table of the reactions of ``mechanism`` defined in ``path`` (default: all)."""
    rows = [HEADER]
    for r in mechanism.reactions:
        if path is not None and Path(r.location.path or "").resolve() != Path(path).resolve():
            continue
        ea = f"{r.rate.Ea / GAS_CONSTANT:.0f}" if r.rate.Ea else ""
        rows.append("| " + " | ".join(_cell(x) for x in (
            r.id, _equation(r), _rate(mechanism, r), ea, _validity(r), _source(mechanism, r),
            EVIDENCE_MARK.get(r.evidence, "")
        )) + " |")
    return "\n".join(rows)


def tables_markdown(paths) -> str:
    """A section per file: its name, description and the reactions it defines."""
    from .load import load_mechanism

    sections = []
    for path in paths:
        mechanism = load_mechanism(path)
        sections.append(f"### `{Path(path).name}`\n\n{mechanism.description}\n\n{reaction_table(mechanism, path)}")
    return "\n\n".join(sections) + "\n"
