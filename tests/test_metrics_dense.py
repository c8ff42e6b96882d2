"""Metrics from the solution, not the samples: the ODE curve metrics (t½ of H2O2, the ·OH peak, the
late-window mean) come from the integrator's dense output on the result's metric grid
(fentonsim.deterministic.metric_times), so they do not depend on how many output points were asked for,
and a sweep point reports what simulate() reports."""
from __future__ import annotations

import numpy as np
import pytest

import fentonsim
from conftest import MECHANISMS
from fentonsim import metrics, simulate
from fentonsim.deterministic import metric_times, solve_ode
from fentonsim.kernels import rosenbrock
from fentonsim.metrics import _first_crossing
from fentonsim.problem import resolve_model, resolve_run
from fentonsim.sweep import sweep

IRON = [MECHANISMS / "iron.yaml", MECHANISMS / "glutathione.yaml"]
RUN = dict(conditions="tme", initial={"Fe+2": "20 uM"}, t_end="1 h")
CURVE_METRICS = ("t_half_h2o2", "oh_peak", "t_oh_peak", "oh_steady", "oh_exposure")


@pytest.fixture(scope="module")
def network():
    return resolve_model(IRON)


@pytest.fixture(scope="module")
def by_points(network):
    """The iron/tme run (what `fentonsim compare` runs) at 61 … 3,601 output points."""
    return {n: metrics(simulate(network, n_points=n, **RUN)) for n in (61, 121, 201, 1001, 3601)}


def test_half_life_does_not_depend_on_output_points(by_points):
    """t½(H2O2) of one run agrees within 1 % (in fact to round-off) at 121 and 3,601 output points, and at
    every other sampling (linear interpolation between outputs once gave 16 s at 121 points and 5.1 s at
    3,601)."""
    t_half = {n: float(m["t_half_h2o2"]) for n, m in by_points.items()}
    assert t_half[121] == pytest.approx(t_half[3601], rel=0.01)
    for n, value in t_half.items():
        assert value == pytest.approx(t_half[3601], rel=1e-9), n


def test_curve_metrics_do_not_depend_on_output_points(by_points):
    """The ·OH peak, its time, the late-window mean and the exposure are the same at every sampling."""
    for name in CURVE_METRICS:
        values = np.array([float(m[name]) for m in by_points.values()])
        np.testing.assert_allclose(values, values[-1], rtol=1e-9, err_msg=name)


def test_half_life_matches_a_finely_sampled_solution(network, by_points):
    """The crossing located on the metric grid is the solution's: within 1e-4 of the crossing read off
    outputs 10 µs apart around it."""
    run = resolve_run(network, "tme", initial={"Fe+2": 20e-6})
    t_half = float(by_points[121]["t_half_h2o2"])
    t = np.concatenate([[0.0], np.linspace(0.95 * t_half, 1.05 * t_half, 20001), [3600.0]])
    h2o2 = solve_ode(network, run.k, run.y0, t).concentration[:, network.species.index("peroxide")]
    assert _first_crossing(t, h2o2, 0.5 * h2o2[0]) == pytest.approx(t_half, rel=1e-4)


def test_peak_matches_a_finely_sampled_solution(network, by_points):
    """oh_peak is the solution's maximum [·OH] (to 1e-4), found although no output point comes near it."""
    run = resolve_run(network, "tme", initial={"Fe+2": 20e-6})
    t = np.concatenate([[0.0], np.geomspace(1e-12, 3600.0, 4001)])
    oh = solve_ode(network, run.k, run.y0, t).concentration[:, network.species.index("hydroxyl")]
    assert float(by_points[61]["oh_peak"]) == pytest.approx(oh.max(), rel=1e-4)


def test_sweep_point_reports_what_simulate_reports(by_points):
    """A sweep point (batched kernel, its own n_points) gives the t½ and peak simulate() gives."""
    result = sweep("iron", {"pH": [6.5]}, conditions="tme", dose="20 uM", t_end="1 h", n_points=61,
                   progress=False)
    for name in ("t_half_h2o2", "oh_peak", "t_oh_peak", "oh_steady"):
        got = float(result[name].sel(pH=6.5))
        assert got == pytest.approx(float(by_points[121][name]), rel=1e-9), name


def test_metric_grid_depends_only_on_span_and_inputs():
    """The grid is fixed by the first and last output time and the input times, not by n_points; it holds
    the ends and t_end/2 exactly, and restarts after an input time."""
    a = metric_times(np.linspace(0.0, 3600.0, 61))
    b = metric_times(np.linspace(0.0, 3600.0, 3601))
    np.testing.assert_array_equal(a, b)
    assert a[0] == 0.0 and a[-1] == 3600.0 and 1800.0 in a
    assert np.all(np.diff(a) > 0) and a[1] == pytest.approx(3600e-12)
    with_bolus = metric_times(np.linspace(0.0, 3600.0, 61), stops=[600.0, 3600.0])
    assert 600.0 in with_bolus and np.any((with_bolus > 600.0) & (with_bolus < 600.0 + 1e-6))


def test_conditions_do_not_recompile_the_kernel(network):
    """Evaluating the metric grid adds output rows, not kernel versions: new conditions and samplings
    reuse the compiled integrator."""
    simulate(network, n_points=61, **RUN)
    before = len(rosenbrock.integrate_rodas5p.signatures)
    for n, ph in ((31, 5.5), (3601, 7.4)):
        simulate(network, n_points=n, ph=ph, **RUN)
    assert len(rosenbrock.integrate_rodas5p.signatures) == before


def test_scipy_solver_gets_the_same_metric_grid(network, by_points):
    """An oracle solver (LSODA) evaluates its own interpolant on the same grid: t½ agrees to its tolerance."""
    ds = simulate(network, n_points=31, solver="LSODA", rtol=1e-8, **RUN)
    assert float(metrics(ds)["t_half_h2o2"]) == pytest.approx(float(by_points[121]["t_half_h2o2"]), rel=1e-4)


def test_results_without_metric_grid_fall_back_to_samples(network):
    """A result without the metric grid (an older file) still gets metrics, from its output samples."""
    ds = simulate(network, n_points=121, **RUN)
    old = ds.drop_vars(["metric_concentration", "metric_exposure", "metric_time"])
    h2o2 = ds["concentration"].sel(species="peroxide").values
    sampled = _first_crossing(ds["time"].values, h2o2, 0.5 * h2o2[0])
    assert float(metrics(old)["t_half_h2o2"]) == pytest.approx(sampled, rel=1e-12)
    assert float(fentonsim.metrics(old)["oh_produced"]) == float(metrics(ds)["oh_produced"])
    assert metrics(old).attrs["curve_metrics_basis"] == "output samples (linear interpolation)"
    assert metrics(ds).attrs["curve_metrics_basis"] == "dense output on the metric grid"


def test_ensembles_say_their_half_life_comes_from_output_samples():
    """Stochastic runs are recorded at output times only: each run's t½ is the linear crossing between its
    output samples, and the metrics say so (``curve_metrics_basis``); event counts stay exact."""
    ds = simulate(MECHANISMS / "iron.yaml", "ssa", runs=3, seed=4, t_end=60, n_points=31, volume=1e-16, ph=6.5,
                  initial={"Fe(II)": "10 uM", "H2O2": "100 uM"})
    values = metrics(ds)
    assert values.attrs["curve_metrics_basis"] == "output samples (linear interpolation)"
    for run in range(3):
        h2o2 = ds["concentration"].sel(species="peroxide").values[run]
        expected = _first_crossing(ds["time"].values, h2o2, 0.5 * h2o2[0])
        np.testing.assert_equal(float(values["t_half_h2o2"][run]), expected)
    assert np.all(np.isnan(values["oh_peak"].values))
