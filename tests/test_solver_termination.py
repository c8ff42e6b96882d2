"""Every solver path ends: the scipy-backed ODE solvers and tau-leaping stop on overflow, NaN or their step
budget with the documented SolverError (time reached, step, limiting species) or a trajectory status, instead
of running forever or raising a bare ValueError.

Each case runs in a fresh interpreter with a timeout (run_isolated), so a regression that hangs fails its test
instead of CI; the child prints its findings as JSON on its last line.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fentonsim import simulate
from fentonsim.stochastic import COUNT_OVERFLOW, PROPENSITY_OVERFLOW, STATUS_NAMES
from toy import toy_network

TESTS = Path(__file__).resolve().parent
#: Wall time allowed per isolated run [s]; the runs take about a second once the kernels are compiled.
TIMEOUT_S = 60
SCIPY_SOLVERS = ("LSODA", "BDF", "Radau")


def run_isolated(code, **values):
    """Run ``code`` (with ``values`` bound as variables) in a fresh interpreter and return its last printed line
    as JSON. A run that does not end within TIMEOUT_S is killed and fails the test."""
    preamble = "".join(f"{name} = {value!r}\n" for name, value in values.items())
    script = preamble + textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT_S,
                              cwd=TESTS, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the run did not end within {TIMEOUT_S} s")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


#: Child code: solve the ODE of a toy network and report the SolverError raised (or anything else).
SOLVE_TOY = """
import json, math, warnings
from pathlib import Path
import numpy as np
import fentonsim
from toy import toy_network
warnings.simplefilter("ignore")
net = toy_network(Path(directory), species, reactions)
try:
    fentonsim.solve_ode(net, net.rate_constants(), y0, t_out, solver=solver, rtol=1e-6, atol=1e-12)
    report = {"raised": None}
except fentonsim.SolverError as error:
    report = {"raised": "SolverError", "message": str(error), "time": error.time, "step": error.step,
              "species": error.species}
except Exception as error:
    report = {"raised": type(error).__name__, "message": str(error)}
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def compiled_kernels(tmp_path_factory):
    """Compile (or load) the tau-leaping kernel here, so that the isolated runs load it from numba's disk cache
    and their timeout measures the run, not a cold compilation."""
    net = toy_network(tmp_path_factory.mktemp("warm"), {"A": {"X": 1}, "B": {"X": 1}}, [("A => B", "0.1 s^-1")])
    simulate(net, "tau-leap", t_end=1, n_points=2, initial={"A": 1e-6}, volume=1e-15, runs=1)


@pytest.mark.parametrize("solver", SCIPY_SOLVERS)
def test_scipy_solvers_stop_with_location_when_a_rate_constant_is_huge(tmp_path, solver):
    """A + B → C with k = 1e300 M⁻¹ s⁻¹ cannot be integrated: LSODA used to take zero-length steps forever,
    Radau to raise a bare ValueError and BDF to name no species. Each now raises SolverError at t = 0 naming A
    (the largest |∂f/∂y|, k·[B]) in the compiled solvers' words."""
    report = run_isolated(SOLVE_TOY, directory=str(tmp_path), solver=solver,
                          species={"A": {"X": 1}, "B": {"Y": 1}, "C": {"X": 1, "Y": 1}},
                          reactions=[("A + B => C", "1e300 M^-1 s^-1")], y0=[1e-3, 2e-3, 0.0], t_out=[0.0, 10.0])
    assert report["raised"] == "SolverError", report
    assert report["time"] == 0.0 and report["species"] == "A"
    assert f"(scipy {solver}) failed at t = 0 s of 10 s" in report["message"]
    assert "species limiting the step: A" in report["message"]


@pytest.mark.parametrize("solver", SCIPY_SOLVERS)
def test_scipy_solvers_refuse_rates_that_overflow_at_the_start(tmp_path, solver):
    """2 A → P with k = 1e300 M⁻¹ s⁻¹ and [A] = 1e5 M has an infinite rate at t = 0: SolverError naming A and
    the overflow, before any step."""
    report = run_isolated(SOLVE_TOY, directory=str(tmp_path), solver=solver,
                          species={"A": {"X": 1}, "P": {"X": 2}}, reactions=[("2 A => P", "1e300 M^-1 s^-1")],
                          y0=[1e5, 0.0], t_out=[0.0, 1.0])
    assert report["raised"] == "SolverError", report
    assert report["time"] == 0.0 and report["species"] == "A"
    assert "non-finite" in report["message"] and "overflow" in report["message"]


@pytest.mark.parametrize("solver", SCIPY_SOLVERS)
def test_scipy_solvers_stop_where_the_solution_blows_up(tmp_path, solver):
    """dA/dt = k·Q·A² (2 A + Q → 3 A, Q clamped) blows up at t = 1/(k·Q·A0) = 1 s: the scipy solvers stop
    there with SolverError naming A, as rodas5p does (test_integrator.test_blow_up_fails_cleanly)."""
    report = run_isolated(SOLVE_TOY, directory=str(tmp_path), solver=solver,
                          species={"A": {"X": 1}, "Q": {"X": 1, "buffered": "1 M"}},
                          reactions=[("2 A + Q => 3 A", "1 M^-2 s^-1")], y0=[1.0], t_out=[0.0, 2.0])
    assert report["raised"] == "SolverError", report
    assert report["time"] == pytest.approx(1.0, rel=0.01)
    assert report["species"] == "A" and "species limiting the step: A" in report["message"]


#: Child code: the iron mechanism through solve_with_scipy with a step budget.
SCIPY_BUDGET = """
import json, warnings
import numpy as np
import fentonsim
from fentonsim import scipy_solvers
from fentonsim.inputs import compile_inputs
warnings.simplefilter("ignore")
scipy_solvers.RHS_PER_STEP = rhs_per_step
net = fentonsim.compile_network(fentonsim.load("iron"))
k = net.rate_constants(pH=6.5)
y0 = net.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-3})
t_out = np.array([0.0, 3600.0])
inputs = compile_inputs(net, (), (), 0.0, 3600.0)
try:
    scipy_solvers.solve_with_scipy(net, k, y0, t_out, inputs, 1e-6, np.full(net.n_species, 1e-20), solver, 0.0,
                                   max_steps=max_steps)
    report = {"raised": None}
except fentonsim.SolverError as error:
    report = {"raised": "SolverError", "message": str(error), "time": error.time, "step": error.step,
              "species": error.species, "known": error.species in net.species}
except Exception as error:
    report = {"raised": type(error).__name__, "message": str(error)}
print(json.dumps(report))
"""


@pytest.mark.parametrize("solver", SCIPY_SOLVERS)
def test_max_steps_bounds_the_scipy_solvers(solver):
    """With max_steps = 20 the iron run (hundreds of steps) stops with SolverError: the step limit, the time
    reached inside the span, the last step and a species of the network."""
    report = run_isolated(SCIPY_BUDGET, solver=solver, max_steps=20, rhs_per_step=50)
    assert report["raised"] == "SolverError", report
    assert "stopped at t = " in report["message"] and "the step limit was reached" in report["message"]
    assert "Raise `max_steps`" in report["message"]
    assert 0 < report["time"] < 3600 and report["step"] > 0 and report["known"]


@pytest.mark.parametrize("solver", SCIPY_SOLVERS)
def test_right_hand_side_evaluations_are_bounded_too(solver):
    """With one right-hand-side evaluation allowed per step of max_steps, a run stops on the evaluation budget
    inside a step (what catches a step that never returns) with the same kind of SolverError."""
    report = run_isolated(SCIPY_BUDGET, solver=solver, max_steps=20, rhs_per_step=1)
    assert report["raised"] == "SolverError", report
    assert "the evaluation limit was reached" in report["message"] and report["known"]
    assert 0 <= report["time"] < 3600


#: Child code: a tau-leaping ensemble of a toy network; reports statuses, times reached and the warning.
TAU_LEAP_TOY = """
import json, warnings
from pathlib import Path
import numpy as np
import fentonsim
from fentonsim import Source
from toy import toy_network
net = toy_network(Path(directory), species, reactions)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ds = fentonsim.simulate(net, "tau-leap", t_end=10, n_points=3, runs=2, seed=7, initial=initial, volume=volume,
                            sources=[Source.zero_order(*s) for s in sources], max_events=max_events)
print(json.dumps({"status": ds.status.values.tolist(), "t_reached": ds.t_reached.values.tolist(),
                  "steps": int(ds.attrs["n_leaps"] + ds.attrs["n_ssa_steps"] + ds.attrs["n_rejected_leaps"]),
                  "late_counts": ds["count"].values[:, 1:].tolist(),
                  "warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]}))
"""


def test_tau_leaping_stops_when_propensities_overflow(tmp_path, compiled_kernels):
    """A → B with k = 1e300 s⁻¹ and 6e11 molecules has an infinite propensity: tau-leaping used to loop
    forever at t = 0. Both runs now stop at once with PROPENSITY_OVERFLOW, rows after t = 0 marked −1, and
    simulate warns with the status name, as for the other incomplete runs."""
    report = run_isolated(TAU_LEAP_TOY, directory=str(tmp_path), species={"A": {"X": 1}, "B": {"X": 1}},
                          reactions=[("A => B", "1e300 s^-1")], initial={"A": 1e-3}, volume=1e-9, sources=[],
                          max_events=100_000_000)
    assert report["status"] == [PROPENSITY_OVERFLOW] * 2
    assert report["t_reached"] == [0.0, 0.0]
    assert np.all(np.array(report["late_counts"]) == -1)
    assert any(STATUS_NAMES[PROPENSITY_OVERFLOW] in w and "2 of 2 runs are incomplete" in w
               for w in report["warnings"]), report["warnings"]


def test_tau_leaping_stops_when_a_leap_would_overflow_the_counts(tmp_path, compiled_kernels):
    """A zero-order source of 1e290 M/s would fire ~1e299 molecules in one leap (an endless Poisson draw, an
    int64 overflow): both runs stop at t = 0 with COUNT_OVERFLOW instead."""
    report = run_isolated(TAU_LEAP_TOY, directory=str(tmp_path), species={"A": {"X": 1}, "B": {"X": 1}},
                          reactions=[("A => B", "0.1 s^-1")], initial={}, volume=1e-15, sources=[("B", 1e290)],
                          max_events=100_000_000)
    assert report["status"] == [COUNT_OVERFLOW] * 2
    assert report["t_reached"] == [0.0, 0.0]
    assert any(STATUS_NAMES[COUNT_OVERFLOW] in w for w in report["warnings"]), report["warnings"]
