"""·OH metrics: exact bookkeeping from fluxes, analytic half-lives, and ensemble means with honest intervals."""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

import fentonsim
from fentonsim.metrics import metrics, summarize

from conftest import MECHANISMS

IRON = MECHANISMS / "iron.yaml"
IRON_GSH = [IRON, MECHANISMS / "glutathione.yaml"]


@pytest.fixture(scope="module")
def fenton_acid():
    """1 mM Fe(II) with 1 µM H2O2 at pH 3, 25 °C: H2O2 decays pseudo-first-order through F1 (55 M⁻¹ s⁻¹)."""
    return fentonsim.simulate(IRON, ph=3.0, temperature=298.15, initial={"Fe+2": 1e-3, "H2O2": 1e-6},
                              t_end=60.0, n_points=601, rtol=1e-9)


def test_oh_produced_is_the_flux_through_hydroxyl_making_reactions(fenton_acid):
    """oh_produced equals Σ extent × stoichiometry over the reactions that make ·OH (F1-OH, F2-OH, X1)."""
    m = metrics(fenton_acid)
    extent = fenton_acid["extent"].isel(time=-1)
    making = fenton_acid["net_stoich"].sel(species="hydroxyl").clip(min=0)
    assert float(m["oh_produced"]) == pytest.approx(float((extent * making).sum()), rel=1e-12)
    assert float(m["oh_produced"]) > 0.99e-6 * 0.9  # nearly every H2O2 gave one ·OH


def test_half_life_of_h2o2_matches_pseudo_first_order_fenton(fenton_acid):
    """t½ = ln 2 / (k_app·[Fe(II)]) with k_app the effective F1 + F2 constant at pH 3 (Fe(II) in 1000× excess);
    agreement within 2 % (the radical side reactions regenerate or consume a little H2O2)."""
    k = fenton_acid["rate_constant"]
    k_app = float(k.sel(reaction=[r for r in k.reaction.values if str(r)[:3] in ("F1-", "F2-")]).sum())
    expected = math.log(2) / (k_app * 1e-3)
    assert float(metrics(fenton_acid)["t_half_h2o2"]) == pytest.approx(expected, rel=0.02)


def test_exposure_is_the_integral_of_the_hydroxyl_curve(fenton_acid):
    """oh_exposure (integrated with the solution) agrees with a trapezoid over 601 output times within 1 %."""
    oh = fenton_acid["concentration"].sel(species="hydroxyl").values
    t = fenton_acid["time"].values
    trapezoid = float(np.sum((oh[1:] + oh[:-1]) / 2 * np.diff(t)))
    assert float(metrics(fenton_acid)["oh_exposure"]) == pytest.approx(trapezoid, rel=0.01)


def test_yield_per_h2o2_and_per_metal_are_ratios_of_the_totals(fenton_acid):
    m = metrics(fenton_acid, dose=1e-3)
    assert float(m["oh_per_h2o2"]) == pytest.approx(float(m["oh_produced"] / m["h2o2_consumed"]))
    assert float(m["oh_per_metal"]) == pytest.approx(float(m["oh_produced"]) / 1e-3)
    for name, variable in m.data_vars.items():
        assert variable.attrs["units"] and variable.attrs["long_name"], name


def test_gsh_scavenging_splits_hydroxyl_consumption():
    """With GSH, ·OH consumed = scavenged by GSH + escaping GSH; 5 mM GSH takes > 99 % of it (k ≈ 1.3e10)."""
    ds = fentonsim.simulate(IRON_GSH, ph=6.5, initial={"Fe+2": 2e-5, "H2O2": 1e-4, "GSH": 5e-3}, t_end=600)
    m = metrics(ds)
    consumed = float((ds["extent"].isel(time=-1) * ds["net_stoich"].sel(species="hydroxyl").clip(max=0)).sum())
    assert 0 <= float(m["oh_escaping_gsh"]) < 0.01 * -consumed
    assert float(m["gsh_depleted"]) > 0


def test_probe_readout_appears_only_when_the_probe_was_dosed():
    files = [IRON, MECHANISMS / "probes.yaml"]
    with_ta = metrics(fentonsim.simulate(files, ph=6.5, initial={"Fe+2": 2e-5, "H2O2": 1e-4, "TA-2": 5e-4},
                                         t_end=60))
    without = metrics(fentonsim.simulate(files, ph=6.5, initial={"Fe+2": 2e-5, "H2O2": 1e-4}, t_end=60))
    assert float(with_ta["probe_hydroxyterephthalate"]) > 0
    assert "probe_hydroxyterephthalate" not in without


def test_ensemble_oh_produced_agrees_with_the_ode_within_its_confidence():
    """SSA mean ·OH produced (40 runs, 1 fL) vs the ODE: within 4 standard errors (mean → ODE for large N·V),
    and the per-run curve metrics are NaN rather than a misleading 0 (radicals unseen between outputs)."""
    kwargs = dict(conditions="lysosome", initial={"Fe+2": "20 uM"}, t_end=300)
    ode = float(metrics(fentonsim.simulate(IRON_GSH, **kwargs))["oh_produced"])
    ens = metrics(fentonsim.simulate(IRON_GSH, "ssa", runs=40, seed=3, volume="1 fL", n_points=11, **kwargs))
    values = ens["oh_produced"].values
    standard_error = values.std(ddof=1) / math.sqrt(values.size)
    assert abs(values.mean() - ode) < 4 * standard_error + 1e-3 * ode
    assert np.all(np.isnan(ens["oh_exposure"].values))


def test_summarize_gives_student_t_interval():
    values = xr.Dataset({"x": (("run",), np.array([1.0, 2.0, 3.0, 4.0]), {"units": "M", "long_name": "x"})})
    s = summarize(values, confidence=0.95)
    half = 3.182446305284263 * np.std([1, 2, 3, 4], ddof=1) / 2  # t(0.975, 3) · sd / √4
    np.testing.assert_allclose(s["x"].values, [2.5, 2.5 - half, 2.5 + half])
    assert s["x"].attrs["units"] == "M"


def test_metrics_refuse_results_they_cannot_measure():
    streaming = fentonsim.simulate(IRON, "ssa", runs=4, stats=True, volume="1 fL", ph=6.5,
                                   initial={"Fe+2": 2e-5, "H2O2": 1e-4}, t_end=10)
    with pytest.raises(fentonsim.ConditionsError, match="stats=False"):
        metrics(streaming)
    no_fluxes = fentonsim.simulate(IRON, ph=6.5, initial={"Fe+2": 2e-5, "H2O2": 1e-4}, t_end=10, fluxes=False)
    with pytest.raises(fentonsim.ConditionsError, match="fluxes=True"):
        metrics(no_fluxes)
    with pytest.raises(fentonsim.ConditionsError, match="positive"):
        metrics(fentonsim.simulate(IRON, ph=6.5, t_end=1), dose=-1)
