"""Where measured laws hold, and the caveats of a run outside them.

A branch fraction may be a linear *yield law* in pH and temperature (fentonsim.mechanism.schema
``Branch``: terephthalate's 2-hydroxyterephthalate yield). Such a law is a fit to measurements over a
range, which the reaction states with ``validity: {pH: [lo, hi], T: [lo, hi]}``; outside it the law is
extrapolated linearly, which fentonsim never does silently:

* :func:`yield_law_warnings` gives one line per law evaluated outside its stated range — or depending on
  pH or temperature with no stated range for it;
* :func:`fentonsim.simulate` stores those lines in the result attribute ``validity_warnings`` (lines
  joined by "\\n", "" when none; schema in fentonsim.results) and issues each as a
  :class:`ValidityWarning`;
* :func:`validity_warnings` reads them back from a result (what the compare layer and the CLI print).

Example line::

    yield law of P-TA (branches P-TA-HTA, P-TA-other; Charbouillot2011) applied outside its stated
    validity: T = 310.15 K (37 °C) outside 278.15–303.15 K (5–30 °C); extrapolated linearly
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

#: Result attribute holding the caveats (str; one per line; "" when none).
VALIDITY_ATTRIBUTE = "validity_warnings"
#: Ranges are compared with this slack, so that 25 °C given as 298.15 K counts as inside [278.15, 298.15].
_SLACK = 1e-9


class ValidityWarning(UserWarning):
    """A measured law (a yield law) was evaluated outside the range it was measured over."""


@dataclass(frozen=True)
class YieldLaw:
    """A reaction whose branch fractions vary with pH or temperature, and where they were measured.

    ``pH`` and ``T`` [K] are (low, high) or None when the mechanism states no range; ``varies_pH`` and
    ``varies_T`` say which the fractions depend on.
    """

    reaction: str
    branches: tuple
    varies_pH: bool
    varies_T: bool
    pH: tuple | None = None
    T: tuple | None = None
    ref: str | None = None


def yield_laws(mechanism) -> tuple:
    """The :class:`YieldLaw` of every reaction of ``mechanism`` with a pH- or temperature-dependent branch."""
    laws = []
    for reaction in mechanism.reactions:
        varying = [b for b in reaction.branches if b.varies]
        if not varying:
            continue
        validity = reaction.validity
        laws.append(YieldLaw(
            reaction.id, tuple(b.id for b in reaction.branches),
            varies_pH=any(b.per_pH != 0.0 for b in varying), varies_T=any(b.per_K != 0.0 for b in varying),
            pH=None if validity is None or validity.pH is None else tuple(float(v) for v in validity.pH),
            T=None if validity is None or validity.T is None else tuple(float(v) for v in validity.T),
            ref=reaction.ref))
    return tuple(laws)


def _celsius(kelvin: float) -> str:
    return f"{kelvin - 273.15:.3g} °C"


def yield_law_warnings(laws, pH: float, temperature: float) -> list[str]:
    """One line per yield law of ``laws`` applied at ``pH`` and ``temperature`` [K] outside its stated
    validity range, or depending on a variable for which it states none (module docstring)."""
    lines = []
    for law in laws:
        problems = []
        if law.pH is not None:
            low, high = law.pH
            if not low - _SLACK <= pH <= high + _SLACK:
                problems.append(f"pH {pH:g} outside {low:g}–{high:g}")
        elif law.varies_pH:
            problems.append(f"pH {pH:g} with no stated pH range")
        if law.T is not None:
            low, high = law.T
            if not low - _SLACK <= temperature <= high + _SLACK:
                problems.append(f"T = {temperature:.2f} K ({_celsius(temperature)}) outside {low:.2f}–{high:.2f} K "
                                f"({_celsius(low)}–{_celsius(high)})")
        elif law.varies_T:
            problems.append(f"T = {temperature:.2f} K with no stated temperature range")
        if problems:
            source = f"branches {', '.join(law.branches)}" + (f"; {law.ref}" if law.ref else "")
            lines.append(f"yield law of {law.reaction} ({source}) applied outside its stated validity: "
                         f"{', '.join(problems)}; extrapolated linearly")
    return lines


def warn_validity(lines, stacklevel: int = 3) -> None:
    """Issue each caveat line as a :class:`ValidityWarning`."""
    for line in lines:
        warnings.warn(line, ValidityWarning, stacklevel=stacklevel)


def validity_warnings(dataset) -> list[str]:
    """The caveats of a result (``dataset.attrs["validity_warnings"]``) as a list of lines; [] when none or
    for a result written before the attribute existed."""
    text = dataset.attrs.get(VALIDITY_ATTRIBUTE, "") if hasattr(dataset, "attrs") else ""
    return [line for line in str(text).split("\n") if line.strip()]
