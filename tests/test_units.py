"""The unit table: every accepted symbol converts to canonical units (M, s, J/mol, K, L)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from fentonsim.errors import UnitError
from fentonsim.units import (CONCENTRATION, MOLAR_ENERGY, TEMPERATURE, TIME, VOLUME, parse_quantity,
                             parse_unit, rate_constant_dims)

TABLE = [
    ("1 M", CONCENTRATION, 1.0), ("1 mM", CONCENTRATION, 1e-3), ("1 uM", CONCENTRATION, 1e-6),
    ("1 µM", CONCENTRATION, 1e-6), ("1 μM", CONCENTRATION, 1e-6), ("1 nM", CONCENTRATION, 1e-9),
    ("1 pM", CONCENTRATION, 1e-12), ("1 s", TIME, 1.0), ("1 ms", TIME, 1e-3), ("1 min", TIME, 60.0),
    ("1 h", TIME, 3600.0), ("1 kJ/mol", MOLAR_ENERGY, 1e3), ("1 kcal/mol", MOLAR_ENERGY, 4184.0),
    ("1 J/mol", MOLAR_ENERGY, 1.0), ("300 K", TEMPERATURE, 300.0), ("37 °C", TEMPERATURE, 310.15),
    ("1 L", VOLUME, 1.0), ("1 mL", VOLUME, 1e-3), ("1 µL", VOLUME, 1e-6), ("1 fL", VOLUME, 1e-15),
    ("1 M^-1 s^-1", rate_constant_dims(2), 1.0), ("1 M-1 s-1", rate_constant_dims(2), 1.0),
    ("1 M⁻¹ s⁻¹", rate_constant_dims(2), 1.0), ("1 1/(M*s)", rate_constant_dims(2), 1.0),
    ("1 mM^-1 s^-1", rate_constant_dims(2), 1e3), ("1 M^-2 s^-1", rate_constant_dims(3), 1.0),
    ("1 s^-1", rate_constant_dims(1), 1.0), ("1 min^-1", rate_constant_dims(1), 1 / 60),
    ("1 uM^-1 min^-1", rate_constant_dims(2), 1e6 / 60), ("1 M s^-1", rate_constant_dims(0), 1.0),
]


@pytest.mark.parametrize("text, dims, expected", TABLE)
def test_unit_table(text, dims, expected):
    """Each unit in the documented table converts to the canonical value."""
    assert math.isclose(parse_quantity(text, dims, "M", text), expected, rel_tol=1e-12)


def test_bare_number_uses_default_unit():
    """A bare number takes the file's default unit."""
    assert parse_quantity(5, CONCENTRATION, "mM", "x") == pytest.approx(5e-3)


@pytest.mark.parametrize("text, dims", [("1 M^-1 s^-1", rate_constant_dims(1)), ("1 s", CONCENTRATION),
                                        ("1 kJ", MOLAR_ENERGY), ("5 mL", TIME)])
def test_wrong_dimension_is_rejected(text, dims):
    """A unit of the wrong dimension is an error naming both dimensions."""
    with pytest.raises(UnitError, match="has dimension .* expected"):
        parse_quantity(text, dims, "M", "q")


@pytest.mark.parametrize("text", ["1 furlong", "abc", "1 M/s/s", "nan", "inf"])
def test_garbage_is_rejected(text):
    """Unknown symbols, non-numbers and non-finite values are rejected."""
    with pytest.raises(UnitError):
        parse_quantity(text, CONCENTRATION, "M", "q")


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
       st.sampled_from(["M", "mM", "uM", "nM", "pM"]))
def test_concentration_scaling(value, unit):
    """`"<x> <prefix>M"` equals x times the prefix factor, for any finite x."""
    factor = parse_unit(unit).factor
    assert parse_quantity(f"{value!r} {unit}", CONCENTRATION, "M", "q") == pytest.approx(value * factor, rel=1e-12)


@given(st.integers(min_value=-3, max_value=3), st.integers(min_value=-3, max_value=3))
def test_exponent_spellings_agree(a, b):
    """`M^a s^b`, `M{a} s{b}` and superscripts parse to the same unit."""
    sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    forms = [f"M^{a} s^{b}", f"M{a:+d} s{b:+d}", f"M{str(a).translate(sup)} s{str(b).translate(sup)}"]
    units = [parse_unit(f) for f in forms]
    assert all(u.dims == units[0].dims and u.factor == units[0].factor for u in units)
