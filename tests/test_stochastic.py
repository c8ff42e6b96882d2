"""The stochastic core: exact SSA (direct and next-reaction) and tau-leaping against closed-form and
master-equation distributions, the SSA-to-ODE limit, inputs, guards, reproducibility across threads
and chunking, streaming statistics and invariants on generated networks.

Statistical checks use fixed seeds and tolerances of Z_LIMIT standard errors, so a correct
implementation fails with probability below 1e-4 per check, and a wrong convention (a factor 2 in a
self-reaction, a missed bolus) moves the statistic by tens of standard errors.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy import linalg, stats

import fentonsim
from fentonsim import Bolus, ConditionsError, Source, compile_network, run_stochastic, simulate
from fentonsim._jit import JIT_DISABLED
from fentonsim.constants import AVOGADRO
from fentonsim.kernels import stats as stats_kernels
from fentonsim.stochastic import live_reactions
from strategies import mechanisms
from toy import toy_network

Z_LIMIT = 4.5
METHODS = [("ssa", "direct"), ("ssa", "next-reaction")]


def volume_for(molecules_per_molar):
    return molecules_per_molar / AVOGADRO


@pytest.fixture(scope="module")
def decay(tmp_path_factory):
    return toy_network(tmp_path_factory.mktemp("decay"), {"A": {"X": 1}, "B": {"X": 1}}, [("A => B", "0.1 s^-1")])


@pytest.fixture(scope="module")
def dimerisation(tmp_path_factory):
    return toy_network(tmp_path_factory.mktemp("dimer"), {"A": {"X": 1}, "P": {"X": 2}},
                       [("2 A => P", "1e9 M^-1 s^-1")])


@pytest.fixture(scope="module")
def isomerisation(tmp_path_factory):
    return toy_network(tmp_path_factory.mktemp("iso"), {"A": {"X": 1}, "B": {"X": 1}},
                       [("A => B", "1 s^-1"), ("B => A", "0.5 s^-1")])


@pytest.fixture(scope="module")
def binding(tmp_path_factory):
    return toy_network(tmp_path_factory.mktemp("bind"), {"A": {"X": 1}, "B": {"Y": 1}, "C": {"X": 1, "Y": 1}},
                       [("A + B => C", "1e6 M^-1 s^-1"), ("C => A + B", "0.2 s^-1")])


@pytest.mark.skipif(JIT_DISABLED, reason="signatures exist only when numba compiles")
def test_streaming_statistics_compile_once_for_one_reaction_networks(binding, decay):
    """A one-reaction network makes the per-reaction validity mask a no-op broadcast; it still reaches
    the statistics kernels as the same array type, so they compile nothing new."""
    t = np.linspace(0, 5.0, 6)
    run_stochastic(binding, [1e6, 0.2], [1e-6, 1.5e-6, 0.0], t, volume=volume_for(1e9), runs=4, seed=1, stats=True)
    before = len(stats_kernels.welford.signatures), len(stats_kernels.p2_update.signatures)
    run_stochastic(decay, [0.1], [1e-7, 0.0], t, volume=volume_for(1e9), runs=4, seed=1, stats=True)
    assert (len(stats_kernels.welford.signatures), len(stats_kernels.p2_update.signatures)) == before


def z_score(observed, expected, standard_error):
    return np.max(np.abs(np.asarray(observed) - expected) / standard_error)


@pytest.mark.parametrize("method,algorithm", METHODS)
def test_first_order_decay_is_binomial(decay, method, algorithm):
    """A → B from 100 molecules: A(t) ~ Binomial(100, e^(−kt)); the ensemble mean and variance match
    within Z_LIMIT standard errors at every output time."""
    n0, k, runs = 100, 0.1, 4000
    nv = 1e9
    t = np.linspace(0, 20, 11)
    sol = run_stochastic(decay, [k], [n0 / nv, 0.0], t, volume=volume_for(nv), method=method, runs=runs, seed=11,
                         ssa_algorithm=algorithm)
    a = sol.counts[:, :, 0].astype(float)
    p = np.exp(-k * t)[1:]
    mean, var = n0 * p, n0 * p * (1 - p)
    assert z_score(a.mean(axis=0)[1:], mean, np.sqrt(var / runs)) < Z_LIMIT
    # Variance of the sample variance: (μ4 − σ⁴(n−3)/(n−1))/n with the binomial fourth central moment.
    mu4 = n0 * p * (1 - p) * (1 + 3 * (n0 - 2) * p * (1 - p))
    se_var = np.sqrt((mu4 - var ** 2 * (runs - 3) / (runs - 1)) / runs)
    assert z_score(a.var(axis=0, ddof=1)[1:], var, se_var) < Z_LIMIT
    assert np.all(sol.counts[:, :, 0] + sol.counts[:, :, 1] == n0)


@pytest.mark.parametrize("method,algorithm", METHODS)
def test_birth_death_reaches_the_poisson_distribution(decay, method, algorithm):
    """∅ → A (zero-order source, λ molecules/s) and A → B (μ = 0.1 s⁻¹): after ten relaxation times A
    is Poisson(λ/μ); chi-square over bins with ≥ 5 expected counts gives p > 1e-4."""
    nv, lam, mu, runs = 1e9, 3.0, 0.1, 3000
    t = np.array([0.0, 100.0])
    sol = run_stochastic(decay, [mu], [0.0, 0.0], t, volume=volume_for(nv), method=method, runs=runs, seed=5,
                         ssa_algorithm=algorithm, sources=[Source.zero_order("A", lam / nv)])
    samples = sol.counts[:, -1, 0]
    mean = lam / mu * (1 - math.exp(-mu * 100.0))
    support = np.arange(0, int(5 * mean) + 10)
    inner = support[runs * stats.poisson.pmf(support, mean) >= 5][1:-1]   # the tails take the rest
    lo, hi = inner[0] - 1, inner[-1] + 1
    observed = np.array([np.sum(samples <= lo)] + [np.sum(samples == n) for n in inner] + [np.sum(samples >= hi)])
    expected = runs * np.concatenate([[stats.poisson.cdf(lo, mean)], stats.poisson.pmf(inner, mean),
                                      [stats.poisson.sf(hi - 1, mean)]])
    assert expected.min() >= 5
    assert stats.chisquare(observed, expected).pvalue > 1e-4


def master_equation_2a(n0, c, t):
    """P(A = n, t) for 2A → P with propensity c·n(n−1), by the matrix exponential of the CME."""
    states = np.arange(n0, -1, -2)
    generator = np.zeros((states.size, states.size))
    for i, n in enumerate(states):
        rate = c * n * (n - 1)
        generator[i, i] -= rate
        if i + 1 < states.size:
            generator[i + 1, i] += rate
    p0 = np.zeros(states.size)
    p0[0] = 1.0
    return states, linalg.expm(generator * t) @ p0


@pytest.mark.parametrize("method,algorithm", METHODS)
def test_dimerisation_matches_the_chemical_master_equation(dimerisation, method, algorithm):
    """2A → P from 30 molecules with r = k[A]²: the propensity is k·n(n−1)/(N_A V) (no factor ½), so
    the SSA distribution of A at t matches the CME built with c = k/(N_A V); chi-square p > 1e-4. The
    factor-½ convention would shift the mean by more than 20 standard errors."""
    n0, k, nv, runs, t_check = 30, 1e9, 1e10, 4000, 2.0
    c = k / nv
    sol = run_stochastic(dimerisation, [k], [n0 / nv, 0.0], [0.0, t_check], volume=volume_for(nv), method=method,
                         runs=runs, seed=3, ssa_algorithm=algorithm)
    states, probability = master_equation_2a(n0, c, t_check)
    samples = sol.counts[:, -1, 0]
    keep = runs * probability >= 5
    observed = np.array([np.sum(samples == n) for n in states[keep]] + [np.sum(~np.isin(samples, states[keep]))])
    expected = runs * np.append(probability[keep], 1 - probability[keep].sum())
    assert stats.chisquare(observed, expected).pvalue > 1e-4
    mean = (states * probability).sum()
    sd = math.sqrt((states ** 2 * probability).sum() - mean ** 2)
    assert abs(samples.mean() - mean) < Z_LIMIT * sd / math.sqrt(runs)
    assert np.all(sol.counts[:, :, 0] + 2 * sol.counts[:, :, 1] == n0)


@pytest.mark.parametrize("network_name", ["dimerisation", "binding"])
def test_ssa_mean_converges_to_the_ode_as_volume_grows(request, network_name):
    """Nonlinear networks: the SSA mean deviates from the rate equations by an O(1/N) bias plus noise.
    The deviation, measured in units of the ODE value, shrinks as N_A·V grows 100-fold and at the
    largest volume is within Z_LIMIT standard errors plus 0.2 %."""
    network = request.getfixturevalue(network_name)
    k = network.rate_constants()
    t = np.linspace(0, 2.0, 5)
    deviations = []
    for molecules in (30, 300, 3000):
        nv = molecules / 1e-6
        y0 = np.zeros(network.n_species)
        y0[0] = 1e-6
        if network_name == "binding":
            y0[1] = 1.5e-6
            k = np.array([1e6, 0.2])
            t = np.linspace(0, 5.0, 5)
        else:
            k = np.array([1e5])
        ode = fentonsim.solve_ode(network, k, y0, t, rtol=1e-10, atol=1e-20).concentration[-1, 0]
        runs = 2000
        sol = run_stochastic(network, k, y0, t, volume=volume_for(nv), runs=runs, seed=17)
        final = sol.counts[:, -1, 0] / nv
        se = final.std(ddof=1) / math.sqrt(runs)
        deviations.append((abs(final.mean() - ode) / ode, se / ode))
    assert deviations[-1][0] < Z_LIMIT * deviations[-1][1] + 2e-3
    assert deviations[0][0] > deviations[-1][0]


def test_tau_leaping_with_large_counts_takes_far_fewer_steps_and_matches_the_ode(binding):
    """A + B ⇌ C with every species ≥ 10⁴ molecules: tau-leaping takes ≥ 50× fewer steps than the
    exact SSA fires events, its mean is within 2 % of the ODE, and no count goes negative."""
    nv = 1e5 / 1e-6
    y0 = np.array([1e-6, 1.5e-6, 0.5e-6])
    k = np.array([1e6, 0.2])
    t = np.linspace(0, 20.0, 5)
    ode = fentonsim.solve_ode(binding, k, y0, t, rtol=1e-10, atol=1e-20).concentration
    exact = run_stochastic(binding, k, y0, t, volume=volume_for(nv), method="ssa", runs=4, seed=1)
    leap = run_stochastic(binding, k, y0, t, volume=volume_for(nv), method="tau-leap", runs=40, seed=1)
    assert leap.counts.min() >= 1e4
    steps = (leap.counters[1] + leap.counters[2]) / leap.runs
    events = exact.counters[0] / exact.runs
    assert events / steps >= 50, (events, steps)
    mean = leap.counts.mean(axis=0) / nv
    assert np.max(np.abs(mean[1:] - ode[1:]) / ode[1:]) < 0.02


def test_tau_leaping_keeps_counts_non_negative_when_species_run_out(decay):
    """A → B with few molecules left: critical reactions fire one at a time, counts never go negative,
    and the total is conserved in every run."""
    nv = 1e9
    sol = run_stochastic(decay, [5.0], [2e4 / nv, 0.0], np.linspace(0, 5, 21), volume=volume_for(nv),
                         method="tau-leap", runs=50, seed=2)
    assert sol.counts.min() >= 0
    assert np.all(sol.counts.sum(axis=2) == 20000)
    assert sol.counts[:, -1, 0].max() < 10


def test_auto_chooses_by_estimated_events_and_records_why(decay):
    """method='auto' runs SSA for few events and tau-leaping for many; the result says which and why."""
    small = simulate(decay, "auto", t_end=10, n_points=3, initial={"A": 1e-6}, volume=1e-16, runs=2)
    large = simulate(decay, "auto", t_end=10, n_points=3, initial={"A": 1e-3}, volume=1e-12, runs=2)
    assert small.attrs["method"] == "ssa" and "exact SSA" in small.attrs["method_reason"]
    assert large.attrs["method"] == "tau-leap" and "tau-leaping" in large.attrs["method_reason"]
    assert large.attrs["method_requested"] == "auto"
    assert large.attrs["n_leaps"] > 0


def test_ensembles_are_bit_identical_across_threads_and_chunking(binding):
    """Each trajectory depends only on (seed, index): 1 or 2 threads and any block size give
    identical counts, events and streaming statistics."""
    import numba

    nv = 1e3 / 1e-6
    y0 = np.array([1e-6, 1.5e-6, 0.0])
    k = np.array([1e6, 0.2])
    t = np.linspace(0, 5.0, 6)
    results = []
    original = numba.get_num_threads()
    try:
        for threads, block in ((1, None), (2, None), (2, 7)):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            full = run_stochastic(binding, k, y0, t, volume=volume_for(nv), runs=50, seed=99, block_size=block)
            streamed = run_stochastic(binding, k, y0, t, volume=volume_for(nv), runs=50, seed=99, stats=True,
                                      block_size=block or 16)
            results.append((full.counts, full.events, streamed.count_mean, streamed.count_sd,
                            streamed.count_quantiles))
    finally:
        numba.set_num_threads(original)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    trajectory_0 = run_stochastic(binding, k, y0, t, volume=volume_for(nv), runs=1, seed=99)
    np.testing.assert_array_equal(trajectory_0.counts[0], results[0][0][0])


def test_different_seeds_give_different_trajectories(binding):
    """Two seeds give different ensembles; the same seed gives the same one."""
    args = dict(volume=volume_for(1e9), runs=5)
    y0, k, t = [1e-6, 1.5e-6, 0.0], [1e6, 0.2], [0, 1, 2]
    a = run_stochastic(binding, k, y0, t, seed=1, **args).counts
    b = run_stochastic(binding, k, y0, t, seed=2, **args).counts
    c = run_stochastic(binding, k, y0, t, seed=1, **args).counts
    assert not np.array_equal(a, b) and np.array_equal(a, c)


def test_streaming_statistics_match_stored_trajectories(binding):
    """Streaming mean and sd equal those of the stored trajectories to round-off; each P² quantile
    lies between the exact sample quantiles at p ± 0.03."""
    nv = 300 / 1e-6
    y0, k, t = [1e-6, 1.5e-6, 0.0], [1e6, 0.2], np.linspace(0, 5, 6)
    full = run_stochastic(binding, k, y0, t, volume=volume_for(nv), runs=3000, seed=8)
    streamed = run_stochastic(binding, k, y0, t, volume=volume_for(nv), runs=3000, seed=8, stats=True,
                              quantiles=(0.1, 0.5, 0.9), block_size=256)
    counts = full.counts.astype(float)
    np.testing.assert_allclose(streamed.count_mean, counts.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(streamed.count_sd, counts.std(axis=0, ddof=1), rtol=1e-9, atol=1e-12)
    for qi, p in enumerate((0.1, 0.5, 0.9)):
        low = np.quantile(counts[:, 1:], max(p - 0.03, 0), axis=0)
        high = np.quantile(counts[:, 1:], min(p + 0.03, 1), axis=0)
        estimate = streamed.count_quantiles[qi, 1:]
        assert np.all((estimate >= low - 1e-9) & (estimate <= high + 1e-9)), p
    np.testing.assert_allclose(streamed.events_mean, full.events.mean(axis=0), rtol=1e-12)
    assert np.all(streamed.n_valid == 3000)


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=60))
@settings(max_examples=50, deadline=None)
def test_p2_quantiles_with_few_observations_are_exact_and_otherwise_bracketed(values):
    """With ≤ 5 observations P² returns the exact quantile; with more, its estimate lies within the
    observed range and the markers stay sorted."""
    data = np.array(values)[:, None]
    valid = np.ones_like(data, dtype=bool)
    probabilities = np.array([0.25, 0.5, 0.75])
    seen = np.zeros(1, dtype=np.int64)
    heights = np.zeros((3, 1, 5))
    positions, desired = np.zeros_like(heights), np.zeros_like(heights)
    stats_kernels.p2_update(data, valid, probabilities, seen, heights, positions, desired)
    estimate = stats_kernels.p2_estimates(probabilities, seen, heights)[:, 0]
    if data.size <= 5:
        np.testing.assert_allclose(estimate, np.quantile(data[:, 0], probabilities))
    else:
        assert np.all(estimate >= data.min()) and np.all(estimate <= data.max())
        assert np.all(np.diff(heights[:, 0, :], axis=1) >= 0)


@pytest.mark.parametrize("method,algorithm", METHODS + [("tau-leap", "direct")])
def test_bolus_fires_exactly_at_its_time(decay, method, algorithm):
    """A bolus of 500 molecules of A at t = 5 s with no A before: A is 0 at every output before 5 s,
    the output at 5 s includes the bolus, and A + B = 500 afterwards."""
    nv = 1e9
    t = np.array([0.0, 2.0, 4.999999, 5.0, 6.0, 10.0])
    sol = run_stochastic(decay, [0.1], [0.0, 0.0], t, volume=volume_for(nv), method=method, runs=20, seed=4,
                         ssa_algorithm=algorithm, boluses=[Bolus("A", 500 / nv, 5.0)])
    assert np.all(sol.counts[:, :3, :] == 0)
    assert np.all(sol.counts[:, 3, 0] == 500)
    assert np.all(sol.counts[:, 3:, :].sum(axis=2) == 500)


def test_zero_order_source_delivers_a_poisson_number_within_its_window(decay):
    """A zero-order source of rate ρ between 2 s and 6 s delivers Poisson(4ρ) molecules, all of them
    by 6 s and none before 2 s (A → B with k = 0 keeps every molecule)."""
    nv, rho, runs = 1e9, 50.0, 2000
    t = np.array([0.0, 1.999, 6.0, 8.0])
    sol = run_stochastic(decay, [0.0], [0.0, 0.0], t, volume=volume_for(nv), runs=runs, seed=6,
                         sources=[Source.zero_order("A", rho / nv, start=2.0, stop=6.0)])
    a = sol.counts[:, :, 0]
    assert np.all(a[:, :2] == 0) and np.array_equal(a[:, 2], a[:, 3])
    assert z_score(a[:, 2].mean(), 4 * rho, math.sqrt(4 * rho / runs)) < Z_LIMIT
    assert z_score(a[:, 2].var(ddof=1), 4 * rho, 4 * rho * math.sqrt(2 / runs)) < Z_LIMIT


def test_first_order_source_releases_a_binomial_number_from_its_reservoir(decay):
    """A first-order source of N = 400 molecules with k = 0.2 s⁻¹ delivers Binomial(N, 1 − e^(−kt)) by t."""
    nv, n, kr, runs = 1e9, 400, 0.2, 2000
    t = np.array([0.0, 3.0, 10.0])
    sol = run_stochastic(decay, [0.0], [0.0, 0.0], t, volume=volume_for(nv), runs=runs, seed=7,
                         sources=[Source.first_order("A", n / nv, kr)])
    p = 1 - np.exp(-kr * t[1:])
    a = sol.counts[:, 1:, 0]
    assert z_score(a.mean(axis=0), n * p, np.sqrt(n * p * (1 - p) / runs)) < Z_LIMIT


def test_ssa_of_a_huge_system_is_refused_up_front_with_the_estimate(decay):
    """SSA of 1 mM in 1 µL (~6e14 molecules) is refused before running, naming the estimated event
    count and the alternatives."""
    with pytest.raises(ConditionsError, match=r"about 6\.\d+e\+14 events.*tau-leap.*ode"):
        simulate(decay, "ssa", t_end=100, initial={"A": 1e-3}, volume=1e-6)


def test_counts_beyond_int64_are_refused(decay):
    """Molar amounts in litres would overflow 64-bit counts: refused with advice to use the ODE."""
    with pytest.raises(ConditionsError, match="64-bit counts.*ode"):
        simulate(decay, "tau-leap", t_end=1, initial={"A": 10.0}, volume=1e3)


def test_max_events_stops_runs_cleanly_with_a_status(decay):
    """A tau-leaping run that reaches its step limit (max_events) stops with status 1, keeps its rows
    up to the time reached (later rows NaN / −1) and warns; nothing hangs."""
    with pytest.warns(RuntimeWarning, match="stopped at max_events"):
        ds = simulate(decay, "tau-leap", t_end=100, n_points=11, initial={"A": 1e-6}, volume=1e-15, runs=2,
                      max_events=50)
    assert np.all(ds.status.values == 1)
    assert ds.attrs["n_leaps"] + ds.attrs["n_ssa_steps"] == 2 * 50
    reached = ds.t_reached.values
    assert np.all(reached < 100)
    for run in range(2):
        before = ds.time.values < reached[run]
        assert np.all(np.isfinite(ds.concentration.values[run][before]))
        assert np.all(np.isnan(ds.concentration.values[run][~before]))
        assert np.all(ds["count"].values[run][~before] == -1)


def test_time_budget_leaves_unrun_trajectories_marked(decay):
    """With a tiny time budget, the first block runs and later ones are marked not run (status 3)."""
    sol = run_stochastic(decay, [0.1], [1e-6, 0.0], [0, 10], volume=1e-15, runs=64, stats=True, block_size=16,
                         time_budget_s=1e-9, seed=1)
    assert np.count_nonzero(sol.status == 0) == 16 and np.all(sol.status[16:] == 3)
    assert np.all(sol.n_valid == 16)


def test_dataset_schema_and_exact_event_bookkeeping(decay):
    """The Dataset has the documented variables and attributes; for every run the final counts equal
    the initial counts plus events·net_stoich exactly, and n_events sums the events."""
    ds = simulate(decay, "ssa", t_end=10, n_points=5, initial={"A": "1 uM"}, volume="1 fL", runs=3, seed=2)
    for name in ("concentration", "count", "events", "produced", "n_events", "status", "t_reached",
                 "net_stoich", "rate_constant"):
        assert name in ds and "units" in ds[name].attrs
    for name in ("method", "algorithm", "runs", "seed", "volume_L", "n_events", "wall_time_s",
                 "estimated_events_per_run", "propensity_convention", "mechanism_sha256"):
        assert name in ds.attrs
    counts = ds["count"].values
    change = ds.events.values @ ds.net_stoich.values
    np.testing.assert_array_equal(counts[:, -1], counts[:, 0] + change)
    np.testing.assert_array_equal(ds.n_events.values, ds.events.values.sum(axis=1))
    assert ds.attrs["n_events"] == int(ds.n_events.sum())
    nv = ds.attrs["molecules_per_molar"]
    np.testing.assert_allclose(ds.concentration.values, counts / nv)
    np.testing.assert_allclose(ds.produced.sel(species="B").values, ds.events.values[:, 0] / nv)


def test_streaming_dataset_has_statistics_not_trajectories(decay):
    """With stats=True the Dataset holds mean, sd and quantiles in M and no per-run concentrations."""
    ds = simulate(decay, "ssa", t_end=10, n_points=5, initial={"A": "1 uM"}, volume="1 fL", runs=50, stats=True,
                  quantiles=(0.5,))
    assert "concentration" not in ds and ds.concentration_quantile.shape == (1, 5, 2)
    assert ds.concentration_mean.attrs["units"] == "M" and ds.attrs["statistics"] == "streaming"
    assert float(ds.concentration_mean.isel(time=0, species=0)) == pytest.approx(1e-6, rel=1e-3)


@pytest.mark.parametrize("bad, message", [
    (dict(runs=0), "`runs` must be an integer"),
    (dict(seed=-1), "`seed` must be an integer"),
    (dict(volume=-1.0), "`volume` must be positive"),
    (dict(volume="1 s"), "volume"),
    (dict(epsilon=2.0), "`epsilon`"),
    (dict(max_events=0), "`max_events`"),
    (dict(ssa_algorithm="fast"), "ssa_algorithm"),
    (dict(stats=True, quantiles=(1.5,)), "quantiles"),
])
def test_bad_stochastic_arguments_name_the_argument(decay, bad, message):
    """Each bad argument raises a FentonsimError naming it."""
    with pytest.raises(fentonsim.FentonsimError, match=message):
        simulate(decay, bad.pop("method", "ssa"), t_end=1, n_points=2, initial={"A": 1e-9}, **{"volume": 1e-15, **bad})


def test_branches_sharing_reactants_form_one_group_and_split_in_proportion_to_their_constants(tmp_path):
    """A → B (k = 1) and A → C (k = 3) share one propensity group in the direct method; each A molecule
    becomes C with probability 3/4, so C's final count is Binomial(n0, 3/4) and the event counts per
    reaction add up to it exactly. The dependency graph maps onto groups, dead constants join none."""
    network = toy_network(tmp_path, {"A": {"X": 1}, "B": {"X": 1}, "C": {"X": 1}},
                          [("A => B", "1 s^-1"), ("A => C", "3 s^-1"), ("B => C", "0 s^-1")])
    n0, nv, runs = 200, 1e9, 2000
    problem = fentonsim.stochastic.build_problem(network, [1.0, 3.0, 0.0], [n0 / nv, 0.0, 0.0], [0.0, 50.0],
                                                 volume_for(nv))
    groups = problem.groups
    assert groups.n_groups == 1 and sorted(groups.member.tolist()) == [0, 1]
    assert groups.n_live == 1 and groups.dense[:2].all()
    sol = run_stochastic(network, [1.0, 3.0, 0.0], [n0 / nv, 0.0, 0.0], [0.0, 50.0], volume=volume_for(nv),
                         method="ssa", runs=runs, seed=5, ssa_algorithm="direct")
    c_final = sol.counts[:, -1, 2].astype(float)
    assert np.all(sol.counts[:, -1, 0] == 0)
    assert np.array_equal(sol.events[:, 1], sol.counts[:, -1, 2]) and np.all(sol.events[:, 2] == 0)
    p = 0.75
    assert abs(c_final.mean() - n0 * p) / math.sqrt(n0 * p * (1 - p) / runs) < Z_LIMIT


def test_dead_reactions_are_found_by_reachability():
    """A reaction whose reactant can never appear, or whose constant is 0, is dead; one fed by a live
    reaction is live."""
    reactant_idx = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 0, 0]])
    reactant_coef = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]])
    changes = np.array([[-1, 1, 0], [0, -1, 0], [0, 0, -1], [-1, 0, 1]])
    live = live_reactions(reactant_idx, reactant_coef, changes, np.array([1.0, 1.0, 1.0, 0.0]), [5.0, 0, 0], [])
    assert live.tolist() == [True, True, False, False]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mechanisms(max_reactions=6), st.data())
def test_generated_networks_keep_counts_non_negative_and_conserve_elements(mechanism, data):
    """On hypothesis-generated networks, SSA and tau-leaping trajectories never hold negative counts
    and conserve every element and charge total exactly (integer arithmetic), or stop cleanly at
    max_events."""
    network = compile_network(mechanism)
    pH = data.draw(st.floats(min_value=2, max_value=12))
    molecules = np.array(data.draw(st.lists(st.integers(0, 2000), min_size=network.n_species,
                                            max_size=network.n_species)), dtype=float)
    nv = 1e9
    k = np.minimum(network.rate_constants(pH=pH), 1e12)
    method = data.draw(st.sampled_from(["ssa", "tau-leap"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            sol = run_stochastic(network, k, molecules / nv, np.linspace(0, 1, 6), volume=volume_for(nv),
                                 method=method, runs=3, seed=1, max_events=200_000)
        except ConditionsError as error:
            assert "max_events" in str(error) or "64-bit" in str(error)
            return
    counts = sol.counts
    complete = sol.status == 0
    assert np.all(counts[complete] >= 0)
    conservation = np.asarray(network.conservation)
    if conservation.size:
        totals = np.einsum("rts,cs->rtc", counts[complete].astype(float), conservation)
        np.testing.assert_array_equal(totals, np.broadcast_to(totals[:, :1], totals.shape))


@pytest.mark.skipif(JIT_DISABLED, reason="the stop flag is read by the compiled kernels")
@pytest.mark.parametrize("method, algorithm", [*METHODS, ("tau-leap", "direct")])
def test_ctrl_c_ends_a_running_ensemble_within_a_second(isomerisation, method, algorithm):
    """SIGINT while the kernel runs trajectories that would take hours raises KeyboardInterrupt in under
    a second: the kernel reads a stop flag every ~1,000 events instead of deferring the signal to its end."""
    import os
    import signal
    import threading
    import time

    k, y0 = isomerisation.rate_constants(), np.zeros(2)
    y0[0] = 2e5 / (AVOGADRO * 1e-15)  # 2×10⁵ molecules in 1 fL: ~3×10⁸ events per trajectory-second
    sent = []

    def interrupt():
        time.sleep(1.0)
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_stochastic(isomerisation, k, y0, [0.0, 1e8], volume=1e-15, method=method, ssa_algorithm=algorithm,
                       runs=4, seed=1, max_events=10 ** 18)
    assert sent, "the ensemble ended before the interrupt: the test no longer exercises a running kernel"
    assert time.perf_counter() - sent[0] < 1.0


def test_kernel_thread_keeps_the_callers_thread_limit():
    """Ensembles run in a worker thread (so Ctrl-C can stop them), and numba's thread count is a per-thread
    setting: a limit set by the caller (a sweep worker's share of the cores, a one-thread benchmark) must
    hold inside the worker. Before the fix the worker used every core whatever the caller had set."""
    import numpy as np

    from fentonsim._jit import get_threads, set_threads
    from fentonsim.stochastic import _interruptible

    before = get_threads()
    seen = []
    try:
        for limit in (1, before):
            set_threads(limit)
            _interruptible(lambda: seen.append(get_threads()), np.zeros(1, dtype=np.int64))
    finally:
        set_threads(before)
    assert seen == [1, before]
