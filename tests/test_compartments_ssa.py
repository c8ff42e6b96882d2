"""Stochastic simulation of several compartments (fentonsim.stochastic_compartments): molecules counted in
their own compartment, reactions at their own compartment's volume, transport one molecule per firing.

Oracles: the binomial law of independent molecules hopping between two compartments (first-order and passive
exchange), the chemical master equation of 2A → B in a lysosome-sized volume, the rate equations where counts
are large, and the Poisson and binomial laws of inputs and of a clamped bath. Every statistical test has a
fixed seed and compares its m statistics at family-wise level ALPHA with Bonferroni: a statistic fails beyond
norm.isf(ALPHA / (2m)) standard errors, so a correct implementation fails a test with probability below ALPHA,
while a wrong volume or a transport fired as two independent channels moves a statistic by far more.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import linalg, stats

import fentonsim as fs
from conftest import require_module
from fentonsim import Bolus, Source
from fentonsim.constants import AVOGADRO
from fentonsim.errors import ConditionsError
from fentonsim.stochastic import build_problem

ALPHA = 1e-4


def z_limit(m: int) -> float:
    """Two-sided Bonferroni limit for m statistics at family-wise level ALPHA."""
    return float(stats.norm.isf(ALPHA / (2 * m)))


def variance_se(variance, fourth, runs):
    """Standard error of the sample variance (ddof 1) of ``runs`` draws with central moments ``variance``
    and ``fourth``."""
    return np.sqrt((fourth - variance ** 2 * (runs - 3) / (runs - 1)) / runs)


def binomial_moments(n, p):
    """Variance and fourth central moment of Binomial(n, p)."""
    var = n * p * (1 - p)
    return var, var * (1 + 3 * (n - 2) * p * (1 - p))


def cell(tmp_path, name, compartments, species, reactions=(), transport=()):
    """A mechanism file: ``compartments`` {name: volume}, ``species`` [YAML entries], reactions and transport
    [YAML flow mappings]."""
    lines = [f"name: {name}", "compartments:"]
    lines += [f"  - {{name: {c}, volume: {v}}}" for c, v in compartments.items()]
    lines += ["species:"] + [f"  - {s}" for s in species]
    lines += ["reactions:" if reactions else "reactions: []"] + [f"  - {r}" for r in reactions]
    if transport:
        lines += ["transport:"] + [f"  - {t}" for t in transport]
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


V_X, V_Y = 5e-15, 1e-15  # L
K_XY, K_YX = 0.4, 0.1  # s⁻¹


@pytest.fixture(scope="module")
def exchange(tmp_path_factory):
    """A@x ⇌ A@y by first-order transport both ways, x five times the volume of y."""
    return cell(tmp_path_factory.mktemp("exchange"), "exchange", {"x": "5 fL", "y": "1 fL"},
                ["{name: A@x, composition: {C: 1}}", "{name: A@y, composition: {C: 1}}"],
                transport=[f"{{id: Txy, species: A, from: x, to: y, k: {K_XY} 1/s}}",
                           f"{{id: Tyx, species: A, from: y, to: x, k: {K_YX} 1/s}}"])


def in_y(t):
    """Probability that a molecule starting in x is in y at t (two-state master equation)."""
    return K_XY / (K_XY + K_YX) * (1 - np.exp(-(K_XY + K_YX) * np.asarray(t)))


@pytest.mark.parametrize("algorithm", ["direct", "next-reaction"])
def test_first_order_exchange_is_binomial_and_conserves_every_molecule(exchange, algorithm):
    """400 molecules start in x; each hops x → y at k_xy and back at k_yx independently, so n_y(t) is
    Binomial(400, p(t)). Every trajectory keeps exactly 400 molecules at every output time (a transport moves
    one molecule per firing), and the ensemble mean and variance of n_y at five times match the binomial's."""
    n, runs = 400, 2000
    t = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0])
    ds = fs.simulate(exchange, "ssa", t_eval=t, runs=runs, seed=11, ssa_algorithm=algorithm,
                     initial={"A@x": n / (AVOGADRO * V_X)})
    counts = ds["count"].values
    assert np.all(counts[:, 0] == [n, 0])
    assert np.all(counts.sum(axis=2) == n)
    p = in_y(t[1:])
    var, fourth = binomial_moments(n, p)
    y = counts[:, 1:, 1]
    limit = z_limit(2 * p.size)
    assert np.all(np.abs(y.mean(axis=0) - n * p) / np.sqrt(var / runs) < limit)
    assert np.all(np.abs(y.var(axis=0, ddof=1) - var) / variance_se(var, fourth, runs) < limit)


def test_tau_leaping_exchange_agrees_with_the_ssa_and_a_drain_stays_non_negative(exchange, tmp_path):
    """With 10⁵ molecules tau-leaping leaps (far fewer steps than events), conserves the molecules of every
    trajectory exactly, and its mean n_y agrees with the SSA's at five times within the two ensembles' standard
    errors plus the explicit leap's bias (at most about λτ/(2e) of the relaxation's amplitude with λτ ≈ ε;
    allowed: ε times it). A one-way drain run until x is empty never leaves a count negative."""
    n, runs, epsilon = 100_000, 200, 0.03
    t = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
    initial = {"A@x": n / (AVOGADRO * V_X)}
    leap = fs.simulate(exchange, "tau-leap", t_eval=t, runs=runs, seed=5, epsilon=epsilon, initial=initial)
    exact = fs.simulate(exchange, "ssa", t_eval=t, runs=runs, seed=6, initial=initial)
    assert leap.attrs["n_leaps"] > 0 and leap.attrs["n_ssa_steps"] + leap.attrs["n_leaps"] < leap.attrs["n_events"] / 50
    counts = leap["count"].values
    assert counts.min() >= 0 and np.all(counts.sum(axis=2) == n)
    a, b = leap["count"].values[:, :, 1], exact["count"].values[:, :, 1]
    se = np.sqrt(a.var(axis=0, ddof=1) / runs + b.var(axis=0, ddof=1) / runs)
    bias = epsilon * n * K_XY / (K_XY + K_YX)
    assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < z_limit(t.size) * se + bias)

    drain = cell(tmp_path, "drain", {"x": "5 fL", "y": "1 fL"},
                 ["{name: A@x, composition: {C: 1}}", "{name: A@y, composition: {C: 1}}"],
                 transport=["{id: T, species: A, from: x, to: y, k: 1 1/s}"])
    ds = fs.simulate(drain, "tau-leap", t_eval=np.linspace(0, 20, 11), runs=100, seed=2,
                     initial={"A@x": 20_000 / (AVOGADRO * V_X)})
    counts = ds["count"].values
    assert counts.min() >= 0 and np.all(counts.sum(axis=2) == 20_000)
    assert np.all(counts[:, -1, 0] == 0) and ds.attrs["n_leaps"] > 0


def test_passive_transport_reaches_the_ode_equilibrium_with_binomial_spread(tmp_path):
    """Passive transport P·A between x (4 fL) and y (1 fL) fires x → y at (P·A/V_x)·n_x and back at
    (P·A/V_y)·n_y. At t ≫ 1/λ the SSA's mean [A@y] equals the ODE's equilibrium concentration, and n_y has
    the binomial spread of 600 independent molecules each in y with probability V_y/(V_x + V_y) — which the
    ODE's loss/gain channels fired separately would not give (their n_y gains independently of n_x's losses)."""
    path = cell(tmp_path, "passive", {"x": "4 fL", "y": "1 fL"},
                ["{name: A@x, composition: {C: 1}}", "{name: A@y, composition: {C: 1}}"],
                transport=["{id: P, species: A, from: x, to: y, permeability-area: 2 fL/s}"])
    n, runs, v_x, v_y = 600, 2000, 4e-15, 1e-15
    t = np.array([0.0, 8.0, 10.0, 12.0])  # λ = P·A·(1/V_x + 1/V_y) = 2.5 s⁻¹: e^(−λt) < 3e-9
    initial = {"A@x": n / (AVOGADRO * v_x)}
    ds = fs.simulate(path, "ssa", t_eval=t, runs=runs, seed=4, initial=initial)
    ode = fs.simulate(path, t_eval=t, initial=initial, rtol=1e-10, atol=1e-24)
    c_eq = ode.concentration.sel(species="A@y").values[1:]
    np.testing.assert_allclose(c_eq, n / (AVOGADRO * (v_x + v_y)), rtol=1e-8)
    q = v_y / (v_x + v_y)
    var, fourth = binomial_moments(n, q)
    y = ds["count"].sel(species="A@y").values[:, 1:]
    limit = z_limit(2 * (t.size - 1))
    mean_conc = ds.concentration.sel(species="A@y").values[:, 1:].mean(axis=0)
    assert np.all(np.abs(mean_conc - c_eq) / (np.sqrt(var / runs) / (AVOGADRO * v_y)) < limit)
    assert np.all(np.abs(y.var(axis=0, ddof=1) - var) / variance_se(var, fourth, runs) < limit)
    assert np.all(ds["count"].values.sum(axis=2) == n)


def dimer_mean_var(n0, c, t):
    """Mean and variance of n_A at times ``t`` for 2A → B with propensity c·n(n−1) (master equation)."""
    states = np.arange(n0, -1, -2)
    a = c * states * (states - 1.0)
    generator = np.diag(-a) + np.diag(a[:-1], -1)  # probability flows from n to n − 2
    p0 = np.zeros(states.size)
    p0[0] = 1.0
    out = np.array([linalg.expm(generator * s) @ p0 for s in t])
    mean = out @ states
    return mean, out @ states ** 2 - mean ** 2


def test_reactions_count_in_their_own_compartment(tmp_path):
    """2A → B in a 0.05 fL lysosome fires at k·n(n−1)/(N_A·V_lys): from 30 molecules its mean n_A follows the
    chemical master equation at three times (with the cytosol's volume instead the statistic would be
    hundreds of standard errors off, checked too). Beside it, A + B → C in a 20 fL cytosol with ~10⁴
    molecules follows the rate equations: the SSA mean is within its standard error plus 0.1 % (the O(1/n)
    gap between the SSA mean and the rate equations) of the ODE at three times."""
    v_lys, v_cyt, k_dimer, k_bind = 0.05e-15, 20e-15, 1e7, 1e5
    path = cell(tmp_path, "two", {"lys": "0.05 fL", "cyt": "20 fL"},
                [f"{{name: {s}, composition: {{C: {n}}}}}" for s, n in
                 (("A@lys", 1), ("B@lys", 2), ("A@cyt", 1), ("B@cyt", 2), ("C@cyt", 3))],
                [f"{{id: dimer, equation: 2 A@lys => B@lys, rate: {{k: {k_dimer} M^-1 s^-1}}}}",
                 f"{{id: bind, equation: A@cyt + B@cyt => C@cyt, rate: {{k: {k_bind} M^-1 s^-1}}}}"],
                ["{id: export, species: B, from: lys, to: cyt, k: 0.5 1/s}"])
    n0, runs = 30, 1000
    t = np.array([0.05, 0.2, 1.0, 3.0, 10.0])
    initial = {"A@lys": n0 / (AVOGADRO * v_lys), "A@cyt": 1e-6, "B@cyt": 1e-6}
    ds = fs.simulate(path, "ssa", t_eval=t, runs=runs, seed=8, initial=initial)
    limit = z_limit(t.size)
    mean, var = dimer_mean_var(n0, k_dimer / (AVOGADRO * v_lys), t[:3])
    lys = ds["count"].sel(species="A@lys").values[:, :3]
    z = np.abs(lys.mean(axis=0) - mean) / np.sqrt(var / runs)
    assert np.all(z < limit), z
    wrong, _ = dimer_mean_var(n0, k_dimer / (AVOGADRO * v_cyt), t[:3])
    assert np.max(np.abs(lys.mean(axis=0) - wrong) / np.sqrt(var / runs)) > 100 * limit

    ode = fs.simulate(path, t_eval=t, initial=initial, rtol=1e-10, atol=1e-22).concentration.sel(species="C@cyt")
    cyt = ds.concentration.sel(species="C@cyt").values[:, 2:]
    se = cyt.std(axis=0, ddof=1) / math.sqrt(runs)
    expected = ode.values[2:]
    assert cyt.mean() > 0 and np.all(np.abs(cyt.mean(axis=0) - expected) < limit * se + 1e-3 * expected)


def test_inputs_and_a_clamped_bath_are_counted_in_their_compartments(tmp_path):
    """Concentrations in M become molecules in the species' own compartment: a clamped 1 µM bath of 10 fL
    feeding a 1 fL cytosol at k = 0.01 s⁻¹ delivers Poisson(k·V_out·[A]·N_A·t) molecules; a 1 µM bolus into the
    cytosol adds 602.2 (stochastically rounded); 1 µM of A in a 0.05 fL lysosome is 30.11 molecules on average,
    each decaying at k·[H⁺@lys] with the lysosome's clamped H⁺; a zero-order source of 10 nM/s into the
    lysosome delivers Poisson(3.011) in 10 s. Means and variances match those laws."""
    v_out, v_cyt, v_lys = 10e-15, 1e-15, 0.05e-15
    path = cell(tmp_path, "inputs", {"out": "10 fL", "cyt": "1 fL", "lys": "0.05 fL"},
                ["{name: A@out, composition: {C: 1}, buffered: 1 uM}", "{name: A@cyt, composition: {C: 1}}",
                 "{name: A@lys, composition: {C: 1}}", "{name: B@lys, composition: {C: 1}}",
                 "{name: C@lys, composition: {C: 1}}",
                 "{name: H+@lys, composition: {H: 1}, charge: 1, buffered: 10 uM}"],
                ["{id: acid, equation: A@lys + H+@lys => B@lys + H+@lys, rate: {k: 1e4 M^-1 s^-1}}"],
                ["{id: uptake, species: A, from: out, to: cyt, k: 0.01 1/s}"])
    runs = 4000
    t = np.array([0.0, 1.0, 3.0, 10.0])
    ds = fs.simulate(path, "ssa", t_eval=t, runs=runs, seed=21, initial={"A@lys": 1e-6},
                     boluses=[Bolus("A@cyt", 1e-6, 2.0)], sources=[Source.zero_order("C@lys", 1e-8, 0.0, 10.0)])
    checks = []  # (samples, mean, variance)
    influx = 0.01 * v_out * 1e-6 * AVOGADRO  # molecules s⁻¹
    bolus = 1e-6 * AVOGADRO * v_cyt
    rounding = (bolus % 1) * (1 - bolus % 1)
    cyt = ds["count"].sel(species="A@cyt").values
    checks.append((cyt[:, 1], influx * 1.0, influx * 1.0))
    checks.append((cyt[:, 2], influx * 3.0 + bolus, influx * 3.0 + rounding))
    n0 = 1e-6 * AVOGADRO * v_lys
    f = n0 % 1
    lys = ds["count"].sel(species="A@lys").values
    for i, s in enumerate(t):
        p = math.exp(-1e4 * 1e-5 * s)
        # Start Binomial-thinned from floor(n0) + Bernoulli(f): mean n0·p, variance n0·p(1−p) + f(1−f)·p².
        checks.append((lys[:, i], n0 * p, n0 * p * (1 - p) + f * (1 - f) * p * p))
    source = 1e-8 * 10.0 * AVOGADRO * v_lys
    checks.append((ds["count"].sel(species="C@lys").values[:, -1], source, source))
    limit = z_limit(2 * len(checks))
    for samples, mean, var in checks:
        assert abs(samples.mean() - mean) / math.sqrt(var / runs) < limit, (mean, samples.mean())
    # Variances where the law is Poisson (fourth central moment λ + 3λ²).
    for samples, lam in ((cyt[:, 1], influx), (ds["count"].sel(species="C@lys").values[:, -1], source)):
        assert abs(samples.var(ddof=1) - lam) / variance_se(lam, lam + 3 * lam ** 2, runs) < limit


@st.composite
def compartment_networks(draw):
    """2–4 compartments of 0.1–5 fL holding A, B (one C atom) and D (two), with A ⇌ B and 2A → D inside some,
    random first-order or passive transport of A, B or D between random pairs, and a few hundred molecules."""
    n = draw(st.integers(2, 4))
    volumes = [draw(st.floats(0.1, 5.0)) for _ in range(n)]
    reactions = []
    for c in range(n):
        if draw(st.booleans()):
            forward, back = draw(st.floats(0.1, 2.0)), draw(st.floats(0.1, 2.0))
            reactions.append(f"{{id: iso{c}, equation: A@c{c} <=> B@c{c}, rate: {{k: {forward!r} 1/s}}, "
                             f"reverse-rate: {{k: {back!r} 1/s}}}}")
        if draw(st.booleans()):
            reactions.append(f"{{id: dim{c}, equation: 2 A@c{c} => D@c{c}, "
                             f"rate: {{k: {draw(st.floats(1e6, 1e8))!r} M^-1 s^-1}}}}")
    transport = []
    for i in range(draw(st.integers(1, 5))):
        a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        value = draw(st.floats(0.05, 2.0))
        constant = f"permeability-area: {value!r} fL/s" if draw(st.booleans()) else f"k: {value!r} 1/s"
        transport.append(f"{{id: T{i}, species: {draw(st.sampled_from('ABD'))}, from: c{a}, to: c{b}, {constant}}}")
    initial = {f"{x}@c{c}": draw(st.integers(0, 300)) / (AVOGADRO * volumes[c] * 1e-15) for c in range(n) for x in "AB"}
    return volumes, reactions, transport, initial


@settings(max_examples=15, deadline=None, derandomize=True)
@given(compartment_networks(), st.sampled_from(["ssa", "tau-leap"]))
def test_random_compartment_networks_conserve_carbon_in_every_trajectory(tmp_path_factory, network, method):
    """Whatever the volumes, reactions and transport, every trajectory (SSA, or tau-leaping from 100× more
    molecules) keeps its carbon —
    Σ over compartments of n_A + n_B + 2·n_D molecules — exactly at every output time, no count goes
    negative, and count(t_end) = count(0) + events·net_stoich."""
    volumes, reactions, transport, initial = network
    if method == "tau-leap":  # enough molecules for leaps, not only the exact steps near zero
        initial = {name: 100 * value for name, value in initial.items()}
    path = cell(tmp_path_factory.mktemp("random"), "random", {f"c{c}": f"{v!r} fL" for c, v in enumerate(volumes)},
                [f"{{name: {x}@c{c}, composition: {{C: {2 if x == 'D' else 1}}}}}" for c in range(len(volumes))
                 for x in "ABD"], reactions, transport)
    ds = fs.simulate(path, method, t_eval=np.linspace(0, 5, 6), runs=4, seed=3, initial=initial)
    counts = ds["count"].values
    carbon = np.array([2 if name.startswith("D@") else 1 for name in ds.species.values])
    assert counts.min() >= 0
    assert np.all(counts @ carbon == (counts[:, :1] @ carbon))
    np.testing.assert_array_equal(counts[:, -1], counts[:, 0] + ds.events.values @ ds.net_stoich.values)


def test_result_schema_and_molecule_bookkeeping(exchange):
    """An ensemble reports concentrations per the species' own compartment (count / (N_A·V_own)), with the
    `compartment` coordinates of the ODE result and NaN for the one-volume attributes; a transport's gain row
    reports its channel's firings, so in molecules count(t_end) = count(0) + events·net_stoich exactly per run
    and `produced` is events × positive stoichiometry / (N_A·V_own); streaming statistics use the same
    per-compartment scale."""
    initial = {"A@x": 2e-7}
    ds = fs.simulate(exchange, "ssa", t_end=4, n_points=5, runs=8, seed=1, initial=initial)
    assert list(ds.compartment.values) == ["x", "y"]
    np.testing.assert_allclose(ds.compartment_volume.values, [V_X, V_Y], rtol=1e-15)
    assert math.isnan(ds.attrs["volume_L"]) and math.isnan(ds.attrs["molecules_per_molar"])
    nv = AVOGADRO * np.array([V_X, V_Y])
    counts = ds["count"].values
    np.testing.assert_allclose(ds.concentration.values, counts / nv, rtol=1e-15)
    events = ds.events.to_pandas()
    assert (events["Txy/gain"] == events["Txy"]).all() and (events["Tyx/gain"] == events["Tyx"]).all()
    assert events["Txy"].min() > 0
    np.testing.assert_array_equal(counts[:, -1], counts[:, 0] + ds.events.values @ ds.net_stoich.values)
    produced = ds.events.values @ np.clip(ds.net_stoich.values, 0, None) / nv
    np.testing.assert_allclose(ds.produced.values, produced, rtol=1e-15)
    np.testing.assert_array_equal(ds.n_events.values, events[["Txy", "Tyx"]].sum(axis=1))

    streamed = fs.simulate(exchange, "ssa", t_end=4, n_points=5, runs=8, seed=1, initial=initial, stats=True)
    np.testing.assert_allclose(streamed.concentration_mean.values, ds.concentration.values.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(streamed.produced_mean.values, produced.mean(axis=0), rtol=1e-12)


def test_cli_reports_the_compartment_volumes(exchange, tmp_path, capsys):
    """`fentonsim simulate --method ssa` on a multi-compartment mechanism writes the usual ensemble CSV and
    names each compartment's volume instead of one V."""
    from fentonsim.cli import main

    out = tmp_path / "runs.csv"
    assert main(["simulate", str(exchange), "--method", "ssa", "--runs", "2", "--t-end", "1", "--n-points", "3",
                 "--initial", "A@x=0.2 uM", "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0] == "run,time,A@x,A@y"
    assert "V = 5e-15 L (x), 1e-15 L (y)" in capsys.readouterr().out


def test_stochastic_sweep_of_compartments_keeps_amounts(exchange):
    """A stochastic sweep with full output runs a multi-compartment mechanism: each point's mean amount
    V_x·[A@x] + V_y·[A@y] stays its initial amount at every time (conserved per trajectory, so in the mean);
    asking for ·OH metrics instead is the metrics' own error."""
    from fentonsim.sweep import sweep

    ds = sweep(str(exchange), {"A@x": [1e-7, 3e-7]}, method="ssa", t_end=2, n_points=3, runs=10, output="full",
               progress=False)
    assert np.all(ds.status.values == 0)
    amount = ds.concentration.values @ np.array([V_X, V_Y])
    initial = ds.concentration.values[:, 0] @ np.array([V_X, V_Y])
    np.testing.assert_allclose(amount, initial[:, None] * np.ones(3), rtol=1e-12)
    with pytest.raises(ConditionsError, match="has no `hydroxyl`"):
        sweep(str(exchange), {"A@x": [1e-7]}, method="ssa", t_end=2, n_points=3, runs=2, progress=False)


def test_refusals_name_their_reason(exchange, tmp_path):
    """What the compartment SSA cannot count exactly is refused in one line naming why: transport channels
    whose constants no longer carry one flux, a reaction spanning volumes that is no transport, a compartment
    of varying size, and an SBML model whose transport is a general law."""
    network = fs.compile_network(fs.load(exchange))
    k = np.array(network.rate_constants())
    y0 = np.zeros(network.n_species)
    t = np.array([0.0, 1.0])
    bad = k.copy()
    bad[network.reaction_ids.index("Txy")] *= 2
    with pytest.raises(ConditionsError, match=r"^transport `Txy`: the constants of `Txy` \(0\.8\) and `Txy/gain` "
                                              r"\(2\) no longer carry one flux"):
        build_problem(network, bad, y0, t, None)
    spanning = dataclasses.replace(network, transport_of={})
    with pytest.raises(ConditionsError, match="reaction `Txy/gain` has species in compartments of different"):
        build_problem(spanning, k, y0, t, None)
    varying = dataclasses.replace(network, compartment_volumes=(V_X, math.nan))
    with pytest.raises(ConditionsError, match="`A@y` has no constant volume to count its molecules in "
                                              r"\(compartment `y` changes size\)"):
        build_problem(varying, k, y0, t, None)

    require_module("libsbml", "sbml")
    species = "".join(f'<species id="{s}" compartment="{c}" initialConcentration="0" hasOnlySubstanceUnits="false" '
                      'boundaryCondition="false" constant="false"/>' for s, c in (("A", "out"), ("B", "cyt")))
    sbml = sbml_model(tmp_path / "uptake.xml", "uptake", "mole", {"out": 5, "cyt": 1}, species,
                      sbml_reaction("T", {"A": 1}, {"B": 1},
                                    "<apply><times/><cn>0.1</cn><ci>A</ci><ci>out</ci></apply>"))
    with pytest.raises(ConditionsError, match=r"cannot take `uptake`: it has general rate laws \(.*\) and "
                                              r"compartments \(out, cyt\) of their own volumes") as info:
        fs.simulate(sbml, "ssa", t_end=1, n_points=2)
    assert "\n" not in str(info.value)


def sbml_model(path, model_id, substance, sizes, species, reactions, parameters=""):
    """Write an SBML L3V2 model in ``substance``, litre and second: compartments {id: size}, then the given
    species, parameter and reaction elements."""
    compartments = "".join(f'<compartment id="{c}" spatialDimensions="3" size="{v}" constant="true"/>'
                           for c, v in sizes.items())
    path.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="{model_id}" substanceUnits="{substance}" timeUnits="second" volumeUnits="litre" extentUnits="{substance}">
    <listOfCompartments>{compartments}</listOfCompartments>
    <listOfSpecies>{species}</listOfSpecies>
    <listOfParameters>{parameters}</listOfParameters>
    <listOfReactions>{reactions}</listOfReactions>
  </model>
</sbml>
""", encoding="utf-8")
    return path


def sbml_reaction(rid, reactants, products, mathml):
    """An irreversible SBML reaction: {species: stoichiometry} each side, kinetic law in MathML."""
    def refs(side):
        return "".join(f'<speciesReference species="{s}" stoichiometry="{n}" constant="true"/>'
                       for s, n in side.items())
    return (f'<reaction id="{rid}" reversible="false"><listOfReactants>{refs(reactants)}</listOfReactants>'
            f'<listOfProducts>{refs(products)}</listOfProducts><kineticLaw>'
            f'<math xmlns="http://www.w3.org/1998/Math/MathML">{mathml}</math></kineticLaw></reaction>')


def _sbml_dimerisation(x, product, compartment):
    """2x → product with law k·x·(x − 1)/size, in items."""
    return sbml_reaction(f"dim{x}", {x: 2}, {product: 1},
                         f'<apply><times/><ci>k</ci><ci>{x}</ci><apply><minus/><ci>{x}</ci><cn>1</cn></apply>'
                         f'<apply><divide/><cn>1</cn><ci>{compartment}</ci></apply></apply>')


def test_sbml_reactions_in_two_volumes_agree_with_libroadrunner_gillespie(tmp_path):
    """An SBML model in items with 2A → B in a compartment of size 1 and 2C → D in one of size 20 (laws
    k·x(x−1)/size, so C dimerises 20× slower): fentonsim's SSA means of A and C at three times agree with
    libRoadRunner's Gillespie ensemble (two-sample z) and with the master equation of each compartment's
    own volume."""
    require_module("libsbml", "sbml")
    roadrunner = require_module("roadrunner", "peers")
    species = "".join(f'<species id="{s}" compartment="{c}" initialAmount="{n}" hasOnlySubstanceUnits="true" '
                      'boundaryCondition="false" constant="false"/>'
                      for s, c, n in (("A", "small", 40), ("B", "small", 0), ("C", "big", 40), ("D", "big", 0)))
    path = sbml_model(tmp_path / "two.xml", "two", "item", {"small": 1, "big": 20}, species,
                      _sbml_dimerisation("A", "B", "small") + _sbml_dimerisation("C", "D", "big"),
                      '<parameter id="k" value="0.01" constant="true"/>')
    t, runs = np.array([1.0, 5.0, 20.0]), 2000
    ours = fs.simulate(path, "ssa", t_eval=np.concatenate([[0.0], t]), runs=runs, seed=12)
    ours = ours["count"].sel(species=["A", "C"]).values[:, 1:]
    rr = roadrunner.RoadRunner(str(path))
    rr.setIntegrator("gillespie")
    theirs = []
    for seed in range(runs):
        rr.reset()
        rr.integrator.seed = seed + 1
        theirs.append(rr.simulate(0, 20, 21, ["time", "A", "C"])[t.astype(int), 1:])
    theirs = np.array(theirs)
    limit = z_limit(3 * 2 * t.size)
    se = np.sqrt(ours.var(axis=0, ddof=1) / runs + theirs.var(axis=0, ddof=1) / runs)
    assert np.all(np.abs(ours.mean(axis=0) - theirs.mean(axis=0)) / se < limit)
    for j, size in enumerate((1.0, 20.0)):
        mean, var = dimer_mean_var(40, 0.01 / size, t)
        for sample in (ours, theirs):
            assert np.all(np.abs(sample[:, :, j].mean(axis=0) - mean) / np.sqrt(var / runs) < limit)


def test_counts_metrics_and_fan_charts_scale_each_species_by_its_own_compartment(exchange, tmp_path):
    """Readers of a result that turn M back into molecules use each species' own compartment: the CSV of an SBML
    model in items reports counts (streaming means equal to the mean counts, in a compartment of size 20 as
    in one of size 1); ·OH metrics of an ensemble divide each reaction's events by N_A·V of the compartment it
    changes (all ·OH, made in the size-20 compartment, equals its final concentration there); and a fan chart
    on a count axis plots counts."""
    require_module("libsbml", "sbml")
    species = "".join(f'<species id="{s}" compartment="{c}" initialAmount="{n}" hasOnlySubstanceUnits="true" '
                      'boundaryCondition="false" constant="false"/>'
                      for s, c, n in (("X", "small", 50), ("peroxide", "big", 300), ("hydroxyl", "big", 0)))
    path = sbml_model(tmp_path / "oh.xml", "oh", "item", {"small": 1, "big": 20}, species,
                      sbml_reaction("make", {"peroxide": 1}, {"hydroxyl": 1}, "<apply><times/><cn>0.2</cn>"
                                                                              "<ci>peroxide</ci></apply>")
                      + sbml_reaction("use", {"X": 1}, {}, "<apply><times/><cn>0.1</cn><ci>X</ci></apply>"))
    t = np.linspace(0, 5, 6)
    kept = fs.simulate(path, "ssa", t_eval=t, runs=30, seed=4)
    streamed = fs.simulate(path, "ssa", t_eval=t, runs=30, seed=4, stats=True)
    from fentonsim.tables import csv_rows

    header, rows = csv_rows(streamed)
    table = np.array(rows)
    for name in ("X", "peroxide", "hydroxyl"):
        np.testing.assert_allclose(table[:, header.index(f"{name}_mean")],
                                   kept["count"].sel(species=name).values.mean(axis=0), rtol=1e-12)
    oh = fs.metrics(kept)["oh_produced"].values
    np.testing.assert_allclose(oh, kept.concentration.sel(species="hydroxyl").values[:, -1], rtol=1e-12)
    assert oh.min() > 0

    from fentonsim import plotting

    ds = fs.simulate(exchange, "ssa", t_end=4, n_points=5, runs=6, seed=1, initial={"A@x": 2e-7})
    ax = plotting.plot_ensemble_fan(ds, "A@y", count_axis=True)
    mean = next(line for line in ax.get_lines() if line.get_label() == "mean")
    np.testing.assert_allclose(mean.get_ydata(), ds["count"].sel(species="A@y").values.mean(axis=0), rtol=1e-12)
