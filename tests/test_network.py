"""The compiled Network: array shapes and dtypes, immutability, conservation,
stable hashing, vectorised rate constants and initial states from conditions."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from conftest import MECHANISMS
from fentonsim import ConditionsError, compile_network, load_conditions, load_mechanism

IRON = MECHANISMS / "iron.yaml"


@pytest.fixture(scope="module")
def iron():
    return compile_network(load_mechanism(IRON))


def test_shapes_and_dtypes(iron):
    """Arrays have the documented shapes and dtypes."""
    n_r, n_s = iron.n_reactions, iron.n_species
    assert iron.reactant_idx.shape == (n_r, 3) and iron.reactant_idx.dtype == np.int32
    assert iron.reactant_coef.shape == (n_r, 3) and iron.reactant_coef.dtype == np.int32
    assert iron.net_stoich.shape == (n_r, n_s) and iron.net_stoich.dtype == np.int64
    assert iron.order.dtype == np.int8 and np.all(iron.order == iron.reactant_coef.sum(axis=1))
    assert iron.k_ref.shape == iron.Ea.shape == iron.T_ref.shape == iron.branch_fraction.shape == (n_r,)
    assert iron.form_power.shape == (n_r, len(iron.form_names))
    assert iron.buffered_power.shape == (n_r, len(iron.buffered_names))
    assert np.all((iron.reactant_idx == -1) == (iron.reactant_coef == 0))


def test_arrays_are_read_only(iron):
    """The Network cannot be changed after compilation."""
    with pytest.raises(ValueError):
        iron.k_ref[0] = 1.0
    with pytest.raises(AttributeError):
        iron.name = "other"


def test_conservation_rows_are_conserved(iron):
    """conservation @ net_stoich.T == 0, and total iron is one of the rows."""
    assert np.all(iron.conservation @ iron.net_stoich.T == 0)
    fe = iron.conservation[iron.conservation_names.index("Fe")]
    for name in ("Fe(II)", "Fe(III)", "FeO+2"):
        assert fe[iron.species.index(name)] == 1
    assert fe[iron.species.index("peroxide")] == 0


def test_stoichiometry_matches_equations(iron):
    """Fenton F1-OH consumes one Fe(II) and one peroxide and makes Fe(III) and ·OH."""
    row = dict(zip(iron.species, iron.net_stoich[iron.reaction_ids.index("F1-OH")]))
    assert row == {"Fe(II)": -1, "peroxide": -1, "Fe(III)": 1, "hydroxyl": 1, "FeO+2": 0, "superoxide": 0,
                   "CO3*-": 0, "O2": 0, "Fe(OH)3(s)": 0}


def test_hash_is_stable_and_content_based():
    """Loading the same file twice gives the same sha256; different chemistry a different one."""
    a = compile_network(load_mechanism(IRON)).mechanism_sha256
    b = compile_network(load_mechanism(IRON)).mechanism_sha256
    c = compile_network(load_mechanism(MECHANISMS / "ros_core.yaml")).mechanism_sha256
    assert a == b != c and len(a) == 64


def test_vectorised_rate_constants_match_scalar_calls(iron):
    """k for 2,000 (pH, T) pairs at once equals one call per condition."""
    rng = np.random.default_rng(7)
    pH = rng.uniform(3, 9, 2000)
    T = rng.uniform(278, 318, 2000)
    k = iron.rate_constants(pH=pH, temperature=T)
    assert k.shape == (2000, iron.n_reactions)
    for i in range(0, 2000, 97):
        np.testing.assert_allclose(k[i], iron.rate_constants(pH=pH[i], temperature=T[i]), rtol=1e-13)


@given(st.floats(min_value=0, max_value=14), st.floats(min_value=250, max_value=400))
def test_rate_constants_finite_and_non_negative(pH, T):
    """For any pH in [0, 14] and T in 250–400 K every effective k is finite and ≥ 0."""
    net = _cached()
    k = net.rate_constants(pH=pH, temperature=T)
    assert np.all(np.isfinite(k)) and np.all(k >= 0)


_NET = []


def _cached():
    if not _NET:
        _NET.append(compile_network(load_mechanism(IRON)))
    return _NET[0]


@pytest.mark.parametrize("bad", [{"pH": -1}, {"pH": 15}, {"pH": float("nan")}, {"temperature": 0},
                                 {"temperature": -5}])
def test_bad_conditions_rejected(iron, bad):
    """pH outside 0–14 and non-positive temperatures raise ConditionsError."""
    with pytest.raises(ConditionsError):
        iron.rate_constants(**bad)


def test_unknown_buffered_override_rejected(iron):
    """Overriding a concentration the mechanism does not clamp names the valid ones."""
    with pytest.raises(ConditionsError, match="O2"):
        iron.rate_constants(pH=7, buffered={"GSH": 1e-3})


def test_initial_state_from_conditions(iron):
    """Initial concentrations map forms to pools, add up, and reject unknown names."""
    x0 = iron.initial_state(**{"Fe+2": 1e-5, "H2O2": 1e-4, "HO2-": 1e-6})
    assert x0[iron.species_index("Fe(II)")] == 1e-5
    assert x0[iron.species_index("peroxide")] == pytest.approx(1.01e-4)
    with pytest.raises(ConditionsError, match="not a state variable"):
        iron.initial_state(**{"GSH": 1e-3})
    with pytest.raises(ConditionsError, match="finite and ≥ 0"):
        iron.initial_state(**{"H2O2": -1.0})


def test_condition_presets_load():
    """The shipped presets give pH 6.5 / 7.4 / 5.0 with sources and canonical units."""
    tme = load_conditions(MECHANISMS / "conditions" / "tme.yaml")
    normal = load_conditions(MECHANISMS / "conditions" / "normal.yaml")
    lyso = load_conditions(MECHANISMS / "conditions" / "lysosome.yaml")
    assert (tme.pH, normal.pH, lyso.pH) == (6.5, 7.4, 5.0)
    assert tme.initial["H2O2"] == pytest.approx(1e-4) and tme.temperature == pytest.approx(310.15)
    assert lyso.volume == pytest.approx(1e-16)
    assert "initial.H2O2" in tme.sources
    assert tme.initial["O2"] == pytest.approx(50e-6) and tme.rates == {"O2X-in": 0.1, "O2X-out": 0.1}
    assert "tissue-like supply" in tme.oxygen and "oxygen.transfer" in tme.sources
    net = compile_network(load_mechanism(IRON))
    assert net.rate_constants(pH=tme.pH, temperature=tme.temperature, buffered=dict(tme.buffered),
                              reference=dict(tme.rates)).shape == (net.n_reactions,)
