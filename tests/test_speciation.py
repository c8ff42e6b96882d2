"""Acid–base speciation: ``fentonsim.speciation.fractions`` against Henderson–Hasselbalch
and its closed forms, van 't Hoff temperature shifts of pKa, and the pH-dependent
Fe(II) + H2O2 constant of the shipped iron mechanism."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from fentonsim import compile_network, load_mechanism
from fentonsim.speciation import fractions, pka_at

MECHANISMS = Path(__file__).resolve().parent.parent / "mechanisms"

# Independent constants for the oracles (CODATA 2018 gas constant).
R = 8.314462618
STANDARD_T = 298.15

ph_values = st.floats(min_value=-5.0, max_value=20.0, allow_nan=False, allow_infinity=False)
pka_values = st.floats(min_value=-5.0, max_value=20.0, allow_nan=False, allow_infinity=False)
pka_lists = st.lists(pka_values, min_size=1, max_size=5)
temperatures = st.floats(min_value=250.0, max_value=400.0, allow_nan=False, allow_infinity=False)
enthalpies = st.floats(min_value=-2e5, max_value=2e5, allow_nan=False, allow_infinity=False)


# ------------------------------------------------------------------ fractions


@given(ph_values, pka_values)
def test_one_pka_is_henderson_hasselbalch(pH, pKa):
    """With one pKa, α_base/α_acid == 10**(pH − pKa) (relative 1e-9)."""
    acid, base = fractions([pKa], pH)
    assert math.isclose(base / acid, 10.0 ** (pH - pKa), rel_tol=1e-9)


@given(ph_values, pka_lists)
def test_fractions_sum_to_one(pH, pkas):
    """Fractions of m+1 forms lie in [0, 1] and sum to 1 for any pH and pKa values."""
    alpha = fractions(pkas, pH)
    assert alpha.shape == (len(pkas) + 1,)
    assert np.all((alpha >= 0) & (alpha <= 1))
    assert math.isclose(alpha.sum(), 1.0, rel_tol=1e-12)


@given(st.floats(0.0, 14.0), st.floats(0.0, 14.0), st.floats(0.0, 14.0))
def test_two_pkas_closed_form(pH, pKa1, pKa2):
    """Two pKa: α = (H², K1·H, K1·K2)/(H² + K1·H + K1·K2) with H = 10^−pH, K = 10^−pKa (relative 1e-9)."""
    H, K1, K2 = 10.0 ** -pH, 10.0 ** -pKa1, 10.0 ** -pKa2
    denominator = H * H + K1 * H + K1 * K2
    expected = (H * H / denominator, K1 * H / denominator, K1 * K2 / denominator)
    alpha = fractions([pKa1, pKa2], pH)
    for got, want in zip(alpha, expected):
        assert math.isclose(got, want, rel_tol=1e-9)


@given(pka_lists, ph_values, ph_values)
def test_fractions_monotone_in_ph(pkas, pH_a, pH_b):
    """The most protonated fraction never increases with pH, the least protonated never decreases."""
    low, high = sorted((pH_a, pH_b))
    alpha_low, alpha_high = fractions(pkas, low), fractions(pkas, high)
    assert alpha_low[0] >= alpha_high[0] * (1 - 1e-12)
    assert alpha_high[-1] >= alpha_low[-1] * (1 - 1e-12)


@given(pka_lists)
def test_fractions_vectorised_over_ph(pkas):
    """On an increasing pH grid, α of the most protonated form is non-increasing, and rows match scalar calls."""
    grid = np.linspace(-2.0, 16.0, 37)
    alpha = fractions(np.broadcast_to(pkas, (grid.size, len(pkas))), grid)
    assert alpha.shape == (grid.size, len(pkas) + 1)
    assert np.all(np.diff(alpha[:, 0]) <= 1e-12 * alpha[:-1, 0])
    np.testing.assert_allclose(alpha[7], fractions(pkas, grid[7]), rtol=1e-12)


# ------------------------------------------------------------------ van 't Hoff


@given(pka_values, temperatures, temperatures)
def test_zero_enthalpy_gives_no_shift(pKa, T_ref, T):
    """dH = 0: pKa(T) == pKa at every temperature."""
    assert pka_at(pKa, 0.0, T_ref, T) == pKa


@given(pka_values, st.floats(1.0, 2e5), temperatures, temperatures)
def test_positive_enthalpy_lowers_pka_on_heating(pKa, dH, T_ref, T):
    """dH > 0 (endothermic dissociation): pKa falls above T_ref and rises below it, as the docstring's
    pKa(T) = pKa + dH/(R ln10)·(1/T − 1/T_ref) states."""
    shifted = float(pka_at(pKa, dH, T_ref, T))
    if T > T_ref:
        assert shifted <= pKa
    elif T < T_ref:
        assert shifted >= pKa
    else:
        assert shifted == pKa


@given(pka_values, enthalpies, temperatures, temperatures)
def test_van_t_hoff_equation(pKa, dH, T_ref, T):
    """ln K(T) − ln K(T_ref) == −dH/R·(1/T − 1/T_ref) with K = 10^−pKa (van 't Hoff, absolute 1e-9)."""
    shifted = float(pka_at(pKa, dH, T_ref, T))
    ln_ratio = -(shifted - pKa) * math.log(10.0)
    assert math.isclose(ln_ratio, -dH / R * (1.0 / T - 1.0 / T_ref), rel_tol=1e-9, abs_tol=1e-9)


def test_pka_at_broadcasts():
    """pka_at broadcasts arrays of pKa, dH, T_ref and temperature."""
    out = pka_at(np.array([[4.0, 9.0]]), np.array([[0.0, 5e4]]), 298.15, np.array([[298.15], [310.15]]))
    assert out.shape == (2, 2)
    assert out[0, 0] == out[1, 0] == 4.0 and out[0, 1] == 9.0 and out[1, 1] < 9.0


# ------------------------------------------------------------------ the iron mechanism

# Apparent second-order constant of Fe(II) + H2O2 (dossier table): Millero & Sotolongo 1989 GCA 53:1867
# via speciation 55·αFe2+ + 5.9e6·αFeOH+ (pKa of Fe2+ hydrolysis 9.5, 298.15 K).
DOSSIER = [(5.0, 2.4e2), (6.5, 5.9e3), (7.4, 4.7e4)]
K_FE2, K_FEOH, PKA_FE2, PKA_H2O2 = 55.0, 5.9e6, 9.5, 11.65


@pytest.fixture(scope="module")
def iron():
    """The compiled network of the shipped iron mechanism (which includes ros_core.yaml)."""
    return compile_network(load_mechanism(MECHANISMS / "iron.yaml"))


def _alpha_base(pH: float, pKa: float) -> float:
    """Fraction of the deprotonated form of a one-pKa pair, from Henderson–Hasselbalch."""
    return 1.0 / (1.0 + 10.0 ** (pKa - pH))


@pytest.mark.parametrize("pH", [5.0, 6.5, 7.4])
def test_iron_group_fractions(iron, pH):
    """Network.group_fractions gives α(FeOH+) = 1/(1 + 10^(9.5 − pH)) for Fe(II), each group summing to 1."""
    alpha = iron.group_fractions(pH, STANDARD_T)
    assert alpha.shape == (1, len(iron.group_names), iron.group_pka.shape[1] + 1)
    fe2 = iron.group_names.index("Fe(II)")
    assert math.isclose(alpha[0, fe2, 1], _alpha_base(pH, PKA_FE2), rel_tol=1e-12)
    assert math.isclose(alpha[0, fe2, 0], 1.0 - _alpha_base(pH, PKA_FE2), rel_tol=1e-12)
    assert alpha[0, fe2, 2] == 0.0  # padding beyond the group's two forms
    np.testing.assert_allclose(alpha.sum(axis=-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("pH, dossier", DOSSIER)
def test_iron_apparent_fenton_constant(iron, pH, dossier):
    """Apparent Fe(II) + H2O2 constant k(F1-OH) + k(F2) == 55·α(Fe+2) + 5.9e6·α(FeOH+) at 298.15 K,
    and within 30 % of the dossier value (Millero & Sotolongo 1989 GCA 53:1867)."""
    k = iron.rate_constants(pH, STANDARD_T)
    ids = iron.reaction_ids
    apparent = k[ids.index("F1-OH")] + k[ids.index("F2-OH")]
    # Every channel of F1 and F2 together (the ferryl branch has fraction 0 in the default set).
    assert apparent == sum(k[i] for i, source in enumerate(iron.source_reaction) if source in ("F1", "F2"))

    alpha_feoh = _alpha_base(pH, PKA_FE2)
    oracle = K_FE2 * (1.0 - alpha_feoh) + K_FEOH * alpha_feoh
    # The state variables are the pool totals Fe(II) and peroxide, so the network's constant also
    # carries α(H2O2) = 1 − α(HO2-) (pKa 11.65): exact with it, within 1e-4 relative without it.
    alpha_h2o2 = 1.0 - _alpha_base(pH, PKA_H2O2)
    assert math.isclose(apparent, oracle * alpha_h2o2, rel_tol=1e-9)
    assert math.isclose(apparent, oracle, rel_tol=1e-4)
    assert abs(apparent - dossier) <= 0.3 * dossier
