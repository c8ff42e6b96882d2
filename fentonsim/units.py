"""Table-driven unit conversion to fentonsim's canonical units.

Canonical units: concentration M (mol L⁻¹), time s, molar energy J mol⁻¹,
temperature K, volume L. A unit string is a product of symbols with integer
or decimal exponents, written ``M^-1 s^-1``, ``M-1 s-1``, ``M⁻¹ s⁻¹``,
``1/(M*s)`` or ``kJ/mol``. A quantity is a bare number (interpreted in the
file's default unit for that dimension) or a string ``"<number> <unit>"``.

Dimensions are vectors of exponents over the base quantities
(amount [mol], volume [L], time [s], energy [J], temperature [K], mass [g]).
Lengths are volumes to the power 1/3 (1 L = 1 dm³, so the canonical length is the
decimetre): ``m^2/g`` or ``L m^-2 s^-1`` (nanoparticle surfaces, fentonsim.mechanism.particles)
check against the same vectors. Millimetres have no symbol: ``mm`` would read too much like ``mM``.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

from .errors import UnitError

BASE_NAMES = ("mol", "L", "s", "J", "K", "g")


@dataclass(frozen=True)
class Unit:
    """A unit: ``value_in_canonical = value * factor``; ``dims`` over BASE_NAMES."""

    factor: float
    dims: tuple[float, ...]

    def __mul__(self, other: "Unit") -> "Unit":
        return Unit(self.factor * other.factor, tuple(a + b for a, b in zip(self.dims, other.dims)))

    def __pow__(self, exponent: float) -> "Unit":
        return Unit(self.factor**exponent, tuple(a * exponent for a in self.dims))


def _dims(mol=0, L=0, s=0, J=0, K=0, g=0) -> tuple[float, ...]:
    return (float(mol), float(L), float(s), float(J), float(K), float(g))


DIMENSIONLESS = _dims()
AMOUNT = _dims(mol=1)
CONCENTRATION = _dims(mol=1, L=-1)
TIME = _dims(s=1)
MOLAR_ENERGY = _dims(mol=-1, J=1)
TEMPERATURE = _dims(K=1)
VOLUME = _dims(L=1)
CONCENTRATION_RATE = _dims(mol=1, L=-1, s=-1)
FREQUENCY = _dims(s=-1)
MASS = _dims(g=1)
LENGTH = _dims(L=1 / 3)
AREA = _dims(L=2 / 3)

_MICRO = ("u", "µ", "μ")  # ASCII u, MICRO SIGN, GREEK SMALL LETTER MU

_SYMBOLS: dict[str, Unit] = {
    "M": Unit(1.0, CONCENTRATION),
    "mM": Unit(1e-3, CONCENTRATION),
    "nM": Unit(1e-9, CONCENTRATION),
    "pM": Unit(1e-12, CONCENTRATION),
    "mol": Unit(1.0, AMOUNT),
    "mmol": Unit(1e-3, AMOUNT),
    "nmol": Unit(1e-9, AMOUNT),
    "pmol": Unit(1e-12, AMOUNT),
    "s": Unit(1.0, TIME),
    "ms": Unit(1e-3, TIME),
    "ns": Unit(1e-9, TIME),
    "min": Unit(60.0, TIME),
    "h": Unit(3600.0, TIME),
    "J": Unit(1.0, _dims(J=1)),
    "kJ": Unit(1e3, _dims(J=1)),
    "cal": Unit(4.184, _dims(J=1)),
    "kcal": Unit(4184.0, _dims(J=1)),
    "K": Unit(1.0, TEMPERATURE),
    "L": Unit(1.0, VOLUME),
    "mL": Unit(1e-3, VOLUME),
    "nL": Unit(1e-9, VOLUME),
    "pL": Unit(1e-12, VOLUME),
    "fL": Unit(1e-15, VOLUME),
    "g": Unit(1.0, MASS),
    "kg": Unit(1e3, MASS),
    "mg": Unit(1e-3, MASS),
    "ng": Unit(1e-9, MASS),
    "m": Unit(10.0, LENGTH),   # 1 m = 10 dm, and dm is L^(1/3)
    "dm": Unit(1.0, LENGTH),
    "cm": Unit(0.1, LENGTH),
    "nm": Unit(1e-8, LENGTH),
}
for _prefix in _MICRO:
    _SYMBOLS[_prefix + "M"] = Unit(1e-6, CONCENTRATION)
    _SYMBOLS[_prefix + "mol"] = Unit(1e-6, AMOUNT)
    _SYMBOLS[_prefix + "s"] = Unit(1e-6, TIME)
    _SYMBOLS[_prefix + "L"] = Unit(1e-6, VOLUME)
    _SYMBOLS[_prefix + "g"] = Unit(1e-6, MASS)
    _SYMBOLS[_prefix + "m"] = Unit(1e-5, LENGTH)

#: Offset temperature scales accepted for temperature *values* only.
_CELSIUS = ("°C", "degC", "C")

_SUPERSCRIPTS = str.maketrans("⁻⁺⁰¹²³⁴⁵⁶⁷⁸⁹·×", "-+0123456789**")
_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")
#: Largest unit exponent accepted. Rate constants need |1 − order| plus power-law exponents, far below this;
#: an exponent like 1e6 is a typo, and prefixes raised that far overflow a double.
MAX_UNIT_EXPONENT = 30.0
# Exponents may use e-notation only so that `M^-1e6` is reported as an exponent out of range, not a symbol.
_FACTOR = re.compile(r"^([A-Za-zµμ°]+)(?:\^?([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?))?$")


def known_symbols() -> list[str]:
    """Accepted unit symbols for error messages (micro written as u; µ and μ work too)."""
    return sorted(s for s in _SYMBOLS if not s.startswith(("µ", "μ")))


def _parse_product(text: str, original: str) -> Unit:
    unit = Unit(1.0, DIMENSIONLESS)
    for token in re.split(r"[\s*]+", text.strip()):
        if token in ("", "1"):
            continue
        match = _FACTOR.match(token)
        if match is None or match.group(1) not in _SYMBOLS:
            symbol = token if match is None else match.group(1)
            raise UnitError(
                f"unknown unit `{symbol}` in `{original}`; expected symbols from "
                f"{', '.join(known_symbols())} (u, µ or μ for micro) with exponents like `M^-1 s^-1`"
            )
        exponent = float(match.group(2)) if match.group(2) else 1.0
        if abs(exponent) > MAX_UNIT_EXPONENT:
            raise UnitError(f"exponent {match.group(2)} of `{match.group(1)}` in `{original}` is out of range; "
                            f"expected at most {MAX_UNIT_EXPONENT:g} in magnitude, as in `M^-1 s^-1`")
        try:
            unit = unit * (_SYMBOLS[match.group(1)] ** exponent)
        except OverflowError:
            unit = Unit(math.inf, unit.dims)
    if not (math.isfinite(unit.factor) and unit.factor > 0):
        raise UnitError(f"unit `{original}` has a scale factor beyond what a double holds; expected a unit "
                        "with moderate prefixes and exponents such as `M^-1 s^-1`")
    return unit


def parse_unit(text: str, *, original: "str | None" = None) -> Unit:
    """Parse a unit string such as ``"M^-1 s^-1"`` or ``"kJ/mol"``.

    ``original`` is the text to quote in error messages (the whole quantity, e.g. ``"5 kg"``; default ``text``).

    Raises
    ------
    UnitError
        If a symbol is unknown or the string has more than one ``/``.
    """
    if not isinstance(text, str) or not text.strip():
        raise UnitError(f"expected a unit string such as `M^-1 s^-1`, found `{text!r}`")
    original = text if original is None else original
    normalised = text.translate(_SUPERSCRIPTS).strip()
    if normalised.count("/") > 1:
        raise UnitError(f"unit `{original}` has more than one `/`; write it as `M^-1 s^-1`")
    numerator, _, denominator = normalised.partition("/")
    unit = _parse_product(numerator, original)
    if denominator:
        denominator = denominator.strip()
        if denominator.startswith("(") and denominator.endswith(")"):
            denominator = denominator[1:-1]
        unit = unit * (_parse_product(denominator, original) ** -1.0)
    return unit


def format_dims(dims: tuple[float, ...]) -> str:
    """Human-readable canonical unit for ``dims``, e.g. ``M^-1 s^-1``."""
    mol, litre, sec, joule, kelvin, gram = dims
    parts = []
    # Express amount/volume pairs as molar concentration where possible; a volume that is not a whole power
    # of L is a length (surfaces), shown in the canonical decimetres so that the text parses back to the value.
    conc = -litre if mol != 0 else 0.0
    whole = abs(litre - round(litre)) < 1e-9
    litres = litre if mol == 0 and whole else 0.0
    decimetre = 3 * litre if mol == 0 and not whole else 0.0
    rest_mol = mol - conc
    for name, exponent in (("M", conc), ("mol", rest_mol), ("g", gram), ("L", litres), ("dm", decimetre), ("J", joule), ("K", kelvin),
                           ("s", sec)):
        if abs(exponent) < 1e-12:
            continue
        exp_text = f"{exponent:g}"
        parts.append(name if exp_text == "1" else f"{name}^{exp_text}")
    return " ".join(parts) if parts else "1 (dimensionless)"


def rate_constant_dims(order: float) -> tuple[float, ...]:
    """Dimension of a rate constant for total ``order``: M^(1-order) s^-1."""
    conc = 1.0 - order
    return _dims(mol=conc, L=-conc, s=-1)


def _same_dims(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(math.isclose(x, y, abs_tol=1e-9) for x, y in zip(a, b))


def parse_quantity(value, dims: tuple[float, ...], default_unit: "str | Unit", what: str) -> float:
    """Convert ``value`` to canonical units for a quantity of dimension ``dims``.

    Parameters
    ----------
    value : float or int or str
        A bare number (taken in ``default_unit``) or ``"<number> <unit>"``.
    dims : tuple of float
        Expected dimension (see module docstring).
    default_unit : str or Unit
        Unit of a bare number, from the file's ``units`` header.
    what : str
        Description of the quantity for error messages, e.g. "`k` of reaction F1".

    Returns
    -------
    float
        The value in canonical units (M, s, J/mol, K, L or a product of them).

    Raises
    ------
    UnitError
        If the value is not a finite number, the unit is unknown, or its
        dimension differs from ``dims``.
    """
    if isinstance(value, bool):
        raise UnitError(f"{what}: expected a number, found boolean `{value}`")
    if isinstance(value, numbers.Real):  # numpy integers and floats too (a t_eval from np.arange)
        try:
            number, unit_text = float(value), None
        except OverflowError:  # an int of hundreds of digits
            raise UnitError(f"{what}: expected a finite number, found a {len(str(value))}-digit integer") from None
    elif isinstance(value, str):
        match = _NUMBER.match(value.translate(str.maketrans("−", "-")))
        if match is None:
            lowered = value.strip().lower()
            if lowered in ("nan", ".nan", "inf", "-inf", ".inf", "-.inf", "infinity"):
                raise UnitError(f"{what}: expected a finite number, found `{value}`")
            raise UnitError(f"{what}: expected a number with an optional unit such as `63 M^-1 s^-1`, found `{value}`")
        number = float(match.group(1))
        unit_text = match.group(2) or None
    else:
        raise UnitError(f"{what}: expected a number, found {type(value).__name__} `{value!r}`")
    if not math.isfinite(number):
        raise UnitError(f"{what}: expected a finite number, found `{value}`")
    if unit_text is None and isinstance(default_unit, Unit):
        unit, unit_text = default_unit, "the file's default units"
    else:
        unit_text = default_unit if unit_text is None else unit_text
        if unit_text.strip() in _CELSIUS and _same_dims(dims, TEMPERATURE):
            return number + 273.15
        try:
            unit = parse_unit(unit_text, original=value if isinstance(value, str) else None)
        except UnitError as exc:  # name the quantity: `unknown unit kg` alone does not say which argument
            raise UnitError(f"{what}: {exc}") from None
    if not _same_dims(unit.dims, dims):
        given = f" (in `{value}`)" if isinstance(value, str) else ""
        raise UnitError(
            f"{what}: unit `{unit_text}`{given} has dimension {format_dims(unit.dims)}, "
            f"expected {format_dims(dims)}"
        )
    converted = number * unit.factor
    # Overflow only: values that underflow stay this function's result (tests/test_units.py holds it for any
    # finite x); FileReader.quantity refuses them in files, where the number was meant to be non-zero.
    if not math.isfinite(converted):
        raise UnitError(f"{what}: `{value}` is infinite in canonical units ({format_dims(dims)}); "
                        "expected a value a double can hold")
    return converted


#: The rule for bare numbers (no unit) given where a dimensioned quantity is expected: they are taken in the
#: canonical unit (K, M), except where that reading is almost certainly a mistake, which is refused with
#: advice — a temperature below 200 K (`37` means 37 °C to a chemist, 37 K to a parser) and a concentration
#: above 10 M (`20` means 20 µM, not 20 M; water itself is 55 M). With a unit, any value is taken as written.
MIN_BARE_TEMPERATURE_K = 200.0
MAX_BARE_CONCENTRATION_M = 10.0


class Canonical(float):
    """A value in canonical units that already passed :func:`user_quantity` (what it returns): handing it on to
    another function that checks user input must not apply the bare-number rule again — `'11 M'` or
    `'-100 °C'`, written with their units, are not bare numbers once converted."""

    __slots__ = ()


def _is_bare(value) -> bool:
    if isinstance(value, (bool, Canonical)):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, str) and (match := _NUMBER.match(value)) is not None and not match.group(2)


def user_quantity(value, dims: tuple[float, ...], default_unit: "str | Unit", what: str, *,
                  bare_rule: bool = True) -> float:
    """:func:`parse_quantity` for a value a user typed, with the bare-number rule above (``bare_rule=False``
    for models whose species are molecule counts, where 150 means 150 molecules).

    Returns
    -------
    Canonical
        The value in canonical units, marked as checked so that passing it on does not apply the rule again.

    Raises
    ------
    UnitError
        For a bare temperature below 200 K or a bare concentration above 10 M, with the unit to write.
    """
    number = parse_quantity(value, dims, default_unit, what)
    if bare_rule and _is_bare(value):
        if _same_dims(dims, TEMPERATURE) and number < MIN_BARE_TEMPERATURE_K:
            raise UnitError(f"{what}: a bare {value} is read as {number:g} K, below {MIN_BARE_TEMPERATURE_K:g} K; "
                            f"write the unit, e.g. '{value} °C' or '{number + 273.15:g} K'")
        if _same_dims(dims, CONCENTRATION) and number > MAX_BARE_CONCENTRATION_M:
            raise UnitError(f"{what}: a bare {value} is read as {number:g} M, above {MAX_BARE_CONCENTRATION_M:g} M; "
                            f"write the unit, e.g. '{value} uM' or '{value} M'")
    return Canonical(number)


def format_concentration(value: float) -> str:
    """A concentration [M] in the largest of M, mM, µM, nM that keeps it ≥ 1 ("50 µM"); 0 as "0"."""
    for scale, unit in ((1.0, "M"), (1e-3, "mM"), (1e-6, "µM"), (1e-9, "nM")):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return "0" if value == 0 else f"{value:.3g} M"
