"""The compiled Rosenbrock integrators (Rodas5P, Rodas4): accuracy against closed-form solutions in
units of the tolerance, exact inputs (boluses, sources), integrated extents and
exposures, mass balance, failure reporting, batches, and no recompilation."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import MECHANISMS
from fentonsim import Bolus, ConditionsError, Source, SolverError, compile_network, load_mechanism, solve_ode
from fentonsim import solve_ode_batch
from fentonsim.deterministic import ROSENBROCK_SOLVERS
from fentonsim._jit import JIT_DISABLED
from fentonsim.kernels import rosenbrock
from fentonsim.kernels.ode import live_subsystem
from strategies import mechanisms
from toy import toy_network

TOLERANCES = [1e-4, 1e-6, 1e-8, 1e-10]


def error_in_tolerance_units(y, reference, rtol, atol):
    """max |y − y_ref| / (atol + rtol·|y_ref|): the accuracy measure the targets use."""
    return float(np.max(np.abs(y - reference) / (atol + rtol * np.abs(reference))))


@pytest.fixture(scope="module")
def first_order(tmp_path_factory):
    return toy_network(tmp_path_factory.mktemp("first"), {"A": {"X": 1}, "B": {"X": 1}}, [("A => B", "0.01 s^-1")])


@pytest.fixture(scope="module")
def bimolecular(tmp_path_factory):
    return toy_network(tmp_path_factory.mktemp("bi"), {"A": {"X": 1}, "B": {"Y": 1}, "C": {"X": 1, "Y": 1}},
                       [("A + B => C", "1e4 M^-1 s^-1")])


@pytest.fixture(scope="module")
def self_reaction(tmp_path_factory):
    return toy_network(tmp_path_factory.mktemp("self"), {"A": {"X": 1}, "P": {"X": 2}},
                       [("2 A => P", "5e9 M^-1 s^-1")])


@pytest.fixture(scope="module")
def iron():
    return compile_network(load_mechanism(MECHANISMS / "iron.yaml"))


@pytest.mark.parametrize("solver", ROSENBROCK_SOLVERS)
@pytest.mark.parametrize("rtol", TOLERANCES)
def test_first_order_decay_within_tolerance(first_order, rtol, solver):
    """A → B: [A] = A0·e^(−kt); error, extent and exposure within 5 tolerance units."""
    k, a0 = 0.01, 1e-3
    t = np.linspace(0, 500, 51)
    atol = 1e-6 * rtol * a0
    sol = solve_ode(first_order, [k], [a0, 0.0], t, rtol=rtol, atol=atol, solver=solver)
    exact = a0 * np.exp(-k * t)
    assert error_in_tolerance_units(sol.concentration[:, 0], exact, rtol, atol) < 5
    assert error_in_tolerance_units(sol.concentration[:, 1], a0 - exact, rtol, atol) < 5
    assert error_in_tolerance_units(sol.extent[:, 0], a0 - exact, rtol, atol) < 5
    exposure = a0 / k * -np.expm1(-k * t)
    assert error_in_tolerance_units(sol.exposure[:, 0], exposure, rtol, atol * t[-1]) < 5


@pytest.mark.parametrize("solver", ROSENBROCK_SOLVERS)
@pytest.mark.parametrize("rtol", TOLERANCES)
def test_bimolecular_within_tolerance(bimolecular, rtol, solver):
    """A + B → C with A0 ≠ B0: A(t) = Δ/(1 − (B0/A0)·e^(−Δkt)), Δ = A0 − B0."""
    k, a0, b0 = 1e4, 2e-3, 1e-3
    t = np.linspace(0, 0.5, 41)
    atol = 1e-6 * rtol * b0
    sol = solve_ode(bimolecular, [k], [a0, b0, 0.0], t, rtol=rtol, atol=atol, solver=solver)
    delta = a0 - b0
    exact_a = delta / (1 - (b0 / a0) * np.exp(-delta * k * t))
    assert error_in_tolerance_units(sol.concentration[:, 0], exact_a, rtol, atol) < 5
    assert error_in_tolerance_units(sol.concentration[:, 1], exact_a - delta, rtol, atol) < 5
    assert error_in_tolerance_units(sol.concentration[:, 2], a0 - exact_a, rtol, atol) < 5


@pytest.mark.parametrize("solver", ROSENBROCK_SOLVERS)
@pytest.mark.parametrize("rtol", TOLERANCES)
def test_self_reaction_within_tolerance(self_reaction, rtol, solver):
    """2A → P with r = k[A]²: A(t) = A0/(1 + 2kA0t), P = (A0 − A)/2 — the 2k convention end to end."""
    k, a0 = 5e9, 1e-6
    t = np.linspace(0, 1e-2, 41)
    atol = 1e-6 * rtol * a0
    sol = solve_ode(self_reaction, [k], [a0, 0.0], t, rtol=rtol, atol=atol, solver=solver)
    exact = a0 / (1 + 2 * k * a0 * t)
    assert error_in_tolerance_units(sol.concentration[:, 0], exact, rtol, atol) < 5
    assert error_in_tolerance_units(sol.concentration[:, 1], (a0 - exact) / 2, rtol, atol) < 5
    assert error_in_tolerance_units(sol.extent[:, 0], (a0 - exact) / 2, rtol, atol) < 5


@pytest.mark.parametrize("solver, order", [("rodas4", 4), ("rodas5p", 5)])
def test_order_of_accuracy(self_reaction, solver, order):
    """On 2A → P the global error falls as (steps)^−p with p the method's order: the fitted slope of
    log error against log steps over rtol 1e-5 … 1e-10 lies within [p − 0.5, p + 1.5] (the upper
    margin covers the start-up steps, which do not grow with the tolerance)."""
    k, a0, t = 5e9, 1e-6, np.array([0.0, 1e-2])
    exact = a0 / (1 + 2 * k * a0 * t[-1])
    steps, errors = [], []
    for rtol in (1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10):
        sol = solve_ode(self_reaction, [k], [a0, 0.0], t, rtol=rtol, atol=1e-30, solver=solver)
        steps.append(sol.counters["n_steps"])
        errors.append(abs(sol.concentration[-1, 0] - exact) / exact)
    slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert order - 0.5 < slope < order + 1.5


def test_bolus_lands_exactly_and_is_right_continuous(first_order):
    """A bolus of A at t = 100 s: the output at 100 s includes it and the decay restarts from there."""
    k, a0, dose = 0.01, 1e-3, 5e-4
    t = np.linspace(0, 300, 31)
    sol = solve_ode(first_order, [k], [a0, 0.0], t, boluses=[Bolus("A", dose, 100.0)], rtol=1e-10, atol=1e-20)
    exact = a0 * np.exp(-k * t) + np.where(t >= 100, dose * np.exp(-k * (t - 100)), 0.0)
    np.testing.assert_allclose(sol.concentration[:, 0], exact, rtol=1e-8)
    assert sol.concentration[10, 0] == pytest.approx(a0 * math.exp(-1) + dose, rel=1e-8)


def test_species_that_cannot_form_stay_exactly_zero(tmp_path):
    """Species and reactions outside the live subsystem (no initial amount, no input, no running
    producer, or k = 0) are exactly 0 in concentrations and extents; a bolus brings them to life, and
    then the result matches scipy's LSODA, which integrates every species."""
    net = toy_network(tmp_path, {"A": {"X": 1}, "B": {"X": 1}, "C": {"Y": 1}, "D": {"X": 1, "Y": 1},
                                 "E": {"X": 1}},
                      [("A => B", "0.01 s^-1"), ("B + C => D", "1e3 M^-1 s^-1"), ("A => E", "0.01 s^-1")])
    k = np.array([0.01, 1e3, 0.0])
    y0 = np.array([1e-3, 0.0, 0.0, 0.0, 0.0])
    live_species, live_reactions = live_subsystem(k, net.reactant_idx, net.net_stoich, y0 > 0)
    assert [s for s, live in zip(net.species, live_species) if live] == ["A", "B"]
    assert live_reactions.tolist() == [True, False, False]
    t = np.linspace(0, 200, 21)
    sol = solve_ode(net, k, y0, t, rtol=1e-10, atol=1e-20)
    assert np.all(sol.concentration[:, 2:] == 0.0) and np.all(sol.extent[:, 1:] == 0.0)
    np.testing.assert_allclose(sol.concentration[:, 1], 1e-3 * -np.expm1(-0.01 * t), rtol=1e-8)
    dosed = dict(boluses=[Bolus("C", 2e-4, 50.0)], rtol=1e-10, atol=1e-20)
    ours = solve_ode(net, k, y0, t, **dosed)
    oracle = solve_ode(net, k, y0, t, solver="LSODA", **dosed)
    assert np.all(ours.concentration[t < 50, 3] == 0.0) and np.all(ours.concentration[t > 50, 3] > 0.0)
    np.testing.assert_allclose(ours.concentration, oracle.concentration, rtol=1e-6, atol=1e-14)


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf])
def test_bad_rate_constants_are_named_not_dropped(first_order, bad):
    """A NaN, negative or infinite k is an error naming the reaction (single and batch), not a reaction
    the live-subsystem reduction silently leaves out."""
    t = np.linspace(0, 10, 3)
    with pytest.raises(ConditionsError, match="reaction `T1`"):
        solve_ode(first_order, [bad], [1e-3, 0.0], t)
    with pytest.raises(ConditionsError, match=r"reaction `T1` \(condition 1\)"):
        solve_ode_batch(first_order, [[0.01], [bad]], [1e-3, 0.0], t)


def test_zero_and_first_order_sources(first_order):
    """Sources into A with decay k: zero order R/k·(1 − e^(−kt)); first-order reservoir
    λ·S/(k − λ)·(e^(−λt) − e^(−kt)), and each stop time hit exactly."""
    k, rate, reservoir, lam = 0.01, 1e-7, 1e-4, 0.002
    t = np.linspace(0, 600, 61)
    sol = solve_ode(first_order, [k], [0.0, 0.0], t, rtol=1e-10, atol=1e-20,
                    sources=[Source.zero_order("A", rate, stop=300.0), Source.first_order("A", reservoir, lam)])
    zero = np.where(t <= 300, rate / k * -np.expm1(-k * t),
                    rate / k * -np.expm1(-k * 300) * np.exp(-k * (t - 300)))
    first = lam * reservoir / (k - lam) * (np.exp(-lam * t) - np.exp(-k * t))
    np.testing.assert_allclose(sol.concentration[:, 0], zero + first, rtol=1e-8, atol=1e-18)


def test_source_quantities_accept_units():
    """Source and bolus quantities take unit strings and reject nonsense with the argument named."""
    s = Source.zero_order("H2O2", "1 uM/s", start="1 min", stop="1 h")
    assert (s.amplitude, s.start, s.stop) == (pytest.approx(1e-6), 60.0, 3600.0)
    assert Bolus("Fe(II)", "50 uM", "10 min").amount == pytest.approx(5e-5)
    with pytest.raises(ConditionsError, match="stop"):
        Source.zero_order("A", 1e-6, start=10, stop=5)
    with pytest.raises(ConditionsError, match="rate_constant"):
        Source.first_order("A", 1e-4, 0.0)
    with pytest.raises(Exception, match="amount"):
        Bolus("A", "5 s")


def test_mass_balance_along_iron_solution(iron):
    """concentration(t) = y0 + extentᵀ·net_stoich + delivered, and the element totals
    (conservation rows) stay constant: extents are exact, and clipping hid nothing."""
    k = iron.rate_constants(pH=6.5, temperature=310.15)
    y0 = iron.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-3})
    t = np.linspace(0, 3600, 61)
    sol = solve_ode(iron, k, y0, t, rtol=1e-8, atol=1e-20)
    predicted = y0 + sol.extent @ np.asarray(iron.net_stoich, dtype=float)
    np.testing.assert_allclose(sol.concentration, predicted, rtol=1e-6, atol=1e-12)
    totals = sol.concentration @ np.asarray(iron.conservation, dtype=float).T
    np.testing.assert_allclose(totals, np.broadcast_to(totals[0], totals.shape), rtol=1e-10, atol=1e-16)
    assert np.all(sol.concentration >= 0)


def test_scipy_solvers_agree(iron):
    """LSODA, BDF and Radau (same compiled RHS and Jacobian) agree with rodas5p to their tolerance."""
    k = iron.rate_constants(pH=6.5, temperature=310.15)
    y0 = iron.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-3})
    t = np.linspace(0, 600, 13)
    reference = solve_ode(iron, k, y0, t, rtol=1e-10, atol=1e-22)
    for solver in ("LSODA", "BDF", "Radau"):
        other = solve_ode(iron, k, y0, t, rtol=1e-7, atol=1e-20, solver=solver)
        big = reference.concentration > 1e-12
        np.testing.assert_allclose(other.concentration[big], reference.concentration[big], rtol=1e-4,
                                   err_msg=solver)
        np.testing.assert_allclose(other.extent[-1], reference.extent[-1], rtol=1e-4, atol=1e-14, err_msg=solver)


def test_step_limit_raises_with_location(iron):
    """Exceeding max_steps raises SolverError naming the time reached and the step size."""
    k = iron.rate_constants(pH=6.5)
    y0 = iron.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-3})
    with pytest.raises(SolverError, match=r"stopped at t = .*step size") as info:
        solve_ode(iron, k, y0, [0, 3600], max_steps=20)
    assert 0 <= info.value.time < 3600 and info.value.step > 0


def test_blow_up_fails_cleanly(tmp_path):
    """dA/dt = k·Q·A² (2 A + Q → 3 A with Q clamped) blows up at t = 1/(k·Q·A0): the solver
    stops there with a SolverError naming A, instead of returning NaN or garbage."""
    net = toy_network(tmp_path, {"A": {"X": 1}, "Q": {"X": 1, "buffered": "1 M"}},
                      [("2 A + Q => 3 A", "1 M^-2 s^-1")])
    a0 = 1.0
    with pytest.raises(SolverError, match="species limiting the step: A") as info:
        solve_ode(net, net.rate_constants(), [a0], [0.0, 2.0], rtol=1e-6, atol=1e-12)
    assert info.value.time == pytest.approx(1.0 / a0, rel=0.01)
    assert info.value.species == "A"


def test_bad_arguments_are_named(first_order):
    """Tolerances, times and shapes are checked with the argument in the message."""
    for kwargs, fragment in [({"rtol": 0}, "rtol"), ({"rtol": 1e-15}, "rtol"), ({"atol": -1}, "atol"),
                             ({"atol": [1, 2, 3]}, "atol"), ({"solver": "euler"}, "solver"),
                             ({"max_steps": 0}, "max_steps")]:
        with pytest.raises(ConditionsError, match=fragment):
            solve_ode(first_order, [0.01], [1e-3, 0], [0, 1], **kwargs)
    with pytest.raises(ConditionsError, match="increasing"):
        solve_ode(first_order, [0.01], [1e-3, 0], [0, 2, 1])
    with pytest.raises(ConditionsError, match="shape"):
        solve_ode(first_order, [0.01, 1.0], [1e-3, 0], [0, 1])
    with pytest.raises(ConditionsError, match="non-negative"):
        solve_ode(first_order, [0.01], [-1e-3, 0], [0, 1])
    with pytest.raises(ConditionsError, match="outside"):
        solve_ode(first_order, [0.01], [1e-3, 0], [0, 1], boluses=[Bolus("A", 1e-3, 5.0)])
    with pytest.raises(ConditionsError, match="not a state variable"):
        solve_ode(first_order, [0.01], [1e-3, 0], [0, 1], boluses=[Bolus("Z", 1e-3, 0.5)])


def test_batch_equals_single_solves(iron):
    """solve_ode_batch (prange over conditions) returns exactly what one-at-a-time solves return."""
    pH = np.linspace(5.0, 8.0, 7)
    k = iron.rate_constants(pH=pH, temperature=310.15)
    y0 = iron.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-3})
    t = np.linspace(0, 1800, 11)
    batch = solve_ode_batch(iron, k, y0, t, rtol=1e-8, atol=1e-20, boluses=[Bolus("H2O2", 1e-4, 900.0)])
    assert np.all(batch.status == 0)
    for i in range(pH.size):
        single = solve_ode(iron, k[i], y0, t, rtol=1e-8, atol=1e-20, boluses=[Bolus("H2O2", 1e-4, 900.0)])
        np.testing.assert_array_equal(batch.concentration[i], single.concentration)
        np.testing.assert_array_equal(batch.extent[i], single.extent)


def test_batch_reports_failures_without_nan_leaking(iron):
    """With raise_on_failure=False a failed condition is NaN and flagged; the others are intact."""
    k = np.vstack([iron.rate_constants(pH=6.5)] * 2)
    y0 = iron.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-3})
    batch = solve_ode_batch(iron, k, y0, [0, 3600], max_steps=20, raise_on_failure=False)
    assert np.all(batch.status == rosenbrock.MAX_STEPS_EXCEEDED)
    assert np.all(np.isnan(batch.concentration))
    with pytest.raises(SolverError, match="2 of 2 conditions failed"):
        solve_ode_batch(iron, k, y0, [0, 3600], max_steps=20)


@pytest.mark.skipif(JIT_DISABLED, reason="signatures exist only when numba compiles")
def test_no_recompilation_when_conditions_change(iron, first_order):
    """New rate constants, initial values, output grids (a strided view too), inputs and even another
    network reuse the compiled integrator: the number of compiled signatures does not grow."""
    k = iron.rate_constants(pH=6.5)
    y0 = iron.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-3})
    solve_ode(iron, k, y0, [0, 10])
    before = len(rosenbrock.integrate_rodas5p.signatures), len(rosenbrock.integrate.signatures)
    solve_ode(iron, iron.rate_constants(pH=7.4, temperature=300.0), y0 * 2, np.linspace(0, 60, 7),
              boluses=[Bolus("H2O2", 1e-4, 30.0)], sources=[Source.zero_order("H2O2", 1e-8)])
    solve_ode(first_order, [0.5], [1.0, 0.0], [0, 1, 2], rtol=1e-9)
    solve_ode(iron, k, y0, np.linspace(0, 60, 13)[::2])  # a strided view of output times
    # Neither the entry point nor the core behind it (one version per method: the method is a
    # compile-time constant there) compiled anything new.
    assert (len(rosenbrock.integrate_rodas5p.signatures), len(rosenbrock.integrate.signatures)) == before


@pytest.mark.skipif(JIT_DISABLED, reason="signatures exist only when numba compiles")
def test_no_recompilation_for_read_only_or_broadcast_inputs(iron):
    """Read-only rate constants and initial values, a one-condition batch (whose broadcast y0 is a
    read-only view) and a batch with and without boluses or sources reach the kernels as the same
    array types, so none of them compiles a new version."""
    k = iron.rate_constants(pH=6.5)
    y0 = iron.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-3})
    solve_ode(iron, k, y0, [0, 10])
    solve_ode_batch(iron, np.stack([k, k]), y0, [0, 10])
    before = len(rosenbrock.integrate_rodas5p.signatures), len(rosenbrock.integrate_batch_rodas5p.signatures)
    frozen_k, frozen_y0 = k.copy(), y0.copy()
    frozen_k.setflags(write=False)
    frozen_y0.setflags(write=False)
    solve_ode(iron, frozen_k, frozen_y0, [0, 10])
    solve_ode_batch(iron, k[None, :], y0, [0, 10])
    solve_ode_batch(iron, np.stack([k, k]), y0, [0, 10], boluses=[Bolus("H2O2", 1e-4, 5.0)])
    solve_ode_batch(iron, np.stack([k, k]), y0, [0, 10], sources=[Source.zero_order("H2O2", 1e-8)])
    assert (len(rosenbrock.integrate_rodas5p.signatures),
            len(rosenbrock.integrate_batch_rodas5p.signatures)) == before


def test_fluxes_off_gives_the_same_concentrations(iron):
    """fluxes=False skips extents and exposures without changing the concentrations."""
    k = iron.rate_constants(pH=6.5)
    y0 = iron.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-3})
    t = np.linspace(0, 600, 7)
    with_fluxes = solve_ode(iron, k, y0, t, rtol=1e-8)
    without = solve_ode(iron, k, y0, t, rtol=1e-8, fluxes=False)
    np.testing.assert_array_equal(with_fluxes.concentration, without.concentration)
    assert without.extent is None and without.exposure is None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mechanisms(), st.data())
def test_generated_networks_stay_non_negative_and_conserve(mechanism, data):
    """On hypothesis-generated networks (k from 1e-3 to 1e10, mixed orders, speciation pools) every
    concentration returned stays ≥ −atol and each element and charge total is conserved — so no
    negative excursion was hidden by clipping. Generated networks fed by clamped reservoirs can be
    genuinely explosive or need more than the step budget; then a SolverError with a time inside the
    span is the correct outcome, never NaN."""
    network = compile_network(mechanism)
    pH = data.draw(st.floats(min_value=2, max_value=12))
    y0 = np.array(data.draw(st.lists(st.floats(min_value=0, max_value=1e-2), min_size=network.n_species,
                                     max_size=network.n_species)))
    k = network.rate_constants(pH=pH)
    atol = 1e-14
    try:
        sol = solve_ode(network, k, y0, np.linspace(0, 10, 11), rtol=1e-6, atol=atol, max_steps=20_000)
    except SolverError as error:
        assert 0 <= error.time <= 10 and error.step >= 0 and error.species in network.species + ("unknown",)
        return
    assert np.all(np.isfinite(sol.concentration)) and np.all(sol.concentration >= -atol)
    totals = sol.concentration @ np.asarray(network.conservation).T
    scale = np.abs(np.asarray(network.conservation)) @ np.maximum(y0, sol.concentration.max(axis=0))
    drift = np.abs(totals - totals[0])
    assert np.all(drift <= 1e-6 * scale + 1e3 * atol), (drift.max(axis=0), scale)


def test_batch_bolus_amounts_follow_the_callers_order(first_order):
    """Per-condition bolus_amount columns follow the order the boluses were given in, even when
    that is not time order."""
    boluses = [Bolus("A", 1e-4, 200.0), Bolus("A", 1e-4, 100.0)]
    amounts = np.array([[3e-4, 1e-5], [2e-5, 5e-4]])
    t = np.linspace(0, 300, 7)
    batch = solve_ode_batch(first_order, [[0.01], [0.01]], [1e-3, 0.0], t, boluses=boluses,
                            bolus_amount=amounts, rtol=1e-9, atol=1e-20)
    for i in range(2):
        single = solve_ode(first_order, [0.01], [1e-3, 0.0], t, rtol=1e-9, atol=1e-20,
                           boluses=[Bolus("A", amounts[i, 0], 200.0), Bolus("A", amounts[i, 1], 100.0)])
        np.testing.assert_array_equal(batch.concentration[i], single.concentration)
