"""The SBML Discrete Stochastic Model Test Suite (Evans, Gillespie & Wilkinson 2008) through SBML import.

Each case is run with n = 10,000 exact SSA trajectories and checked as the suite prescribes: at every
output time, Z = √n (X̄ − μ)/σ must lie in `meanRange` (−3, 3) and Y = √(n/2) (S²/σ² − 1) in `sdRange`
(−5, 5), with μ and σ the published mean and sd. Even a correct simulator fails a time point now and
then (the suite's guide expects two or three Z and five or six Y failures in a full run), so each case
runs with three fixed seeds and passes when at least two of them pass every time point — the
three-seed rule. A convention error (rates per concentration instead of amount, a lost event, a wrong
local parameter) moves Z by tens at almost every point, so it fails all three.

One exception, with evidence. Y's range assumes the sample variance is spread as for normal data,
sd(Y) = 1. Case 00003 (birth 1, death 1.1, X₀ = 100) goes extinct with rare large survivors: its exact
distribution (a sum of 100 linear birth–death processes, known in closed form) has kurtosis κ = 15 at
t = 30 and 96 at t = 50, so sd(Y) = √((κ − 1)/2) = 2.6 and 6.9 there, and an exact simulator breaks
(−5, 5) for most seeds (16 of 20 seeds tried). For that case Y is divided by its exact sd before the
range check, and the whole distribution at t = 10, 30 and 50 is tested against the exact law with a
chi-square test — a stronger check than the suite's.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
from scipy import stats

import fentonsim
from conftest import SHARED, require_module

SUITE = SHARED / "validation" / "dsmts"
CASES = sorted(p.name for p in SUITE.iterdir() if p.is_dir()) if SUITE.is_dir() else []
RUNS = 10_000
# Seeds 1–3 were used until the direct method began drawing reactions by group (2026-11-30): with the new
# streams seeds 1 and 2 both put one Z of case 00003 at 3.2–3.4. Over 200 seeds that case fails the
# per-seed rule 3.5 % of the time with the direct method and 4.0 % with the next-reaction method, and
# 10⁶ runs put every mean within ±1 SE — chance, not bias; test_00003_mean_has_no_bias_at_high_power
# below keeps the high-power check.
SEEDS = (11, 12, 13)


def read_settings(case):
    settings = {}
    for line in (SUITE / case / f"{case}-settings.txt").read_text().splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            settings[key.strip()] = value.strip()
    return settings


def parse_range(text):
    low, high = text.strip("() ").split(",")
    return float(low), float(high)


def statistics(dataset, variable):
    """Ensemble mean and sd of ``variable`` in the model's units (molecules here)."""
    species = [str(s) for s in dataset.species.values]
    if variable in species:
        per_molar = dataset.attrs["molecules_per_molar"]
        return (dataset.concentration_mean.sel(species=variable).values * per_molar,
                dataset.concentration_sd.sel(species=variable).values * per_molar)
    return (dataset.observed_mean.sel(observable=variable).values,
            dataset.observed_sd.sel(observable=variable).values)


def z_and_y(mean, sd, mu, sigma, n):
    """The suite's statistics; where σ = 0 the simulation must match exactly (0, else infinite)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, np.sqrt(n) * (mean - mu) / sigma, np.where(mean == mu, 0.0, np.inf))
        y = np.where(sigma > 0, np.sqrt(n / 2) * (sd ** 2 / sigma ** 2 - 1), np.where(sd == 0, 0.0, np.inf))
    return z, y


#: Linear birth–death cases whose Y needs its exact spread: (birth rate, death rate, X₀) [s⁻¹, s⁻¹, molecules].
HEAVY_TAILED = {"00003": (1.0, 1.1, 100)}


def birth_death_pmf(birth, death, x0, t, n_max=4096):
    """Exact distribution of a linear birth–death process from x0 at time t, P(X = 0 … n_max − 1).

    One ancestor leaves 0 with probability α and j ≥ 1 with (1 − α)(1 − β)β^(j−1) (Kendall 1948);
    x0 independent ancestors add, which the FFT convolution does.
    """
    growth = math.exp((birth - death) * t)
    alpha = death * (growth - 1) / (birth * growth - death)
    beta = birth * (growth - 1) / (birth * growth - death)
    one = np.empty(n_max)
    one[0] = alpha
    one[1:] = (1 - alpha) * (1 - beta) * beta ** np.arange(n_max - 1)
    return np.clip(np.fft.irfft(np.fft.rfft(one, 2 * n_max) ** x0, 2 * n_max)[:n_max], 0.0, None)


def y_spread(case, times):
    """sd of Y under the exact law, √((κ − 1)/2), at each time (1 for cases not in HEAVY_TAILED)."""
    if case not in HEAVY_TAILED:
        return np.ones(times.size)
    out = np.ones(times.size)
    for i, t in enumerate(times):
        if t > 0:
            p = birth_death_pmf(*HEAVY_TAILED[case], t)
            x = np.arange(p.size)
            mean = p @ x
            var = p @ (x - mean) ** 2
            out[i] = math.sqrt(((p @ (x - mean) ** 4) / var ** 2 - 1) / 2)
    return out


def failures(case, seed):
    """(Z failures, Y failures, description) of one seed of ``case``."""
    settings = read_settings(case)
    model = fentonsim.load(SUITE / case / f"{case}-sbml-l3v1.xml")
    expected = np.genfromtxt(SUITE / case / f"{case}-results.csv", delimiter=",", names=True)
    dataset = fentonsim.simulate(model, method="ssa", runs=RUNS, seed=seed, t_end=float(settings["duration"]),
                                 n_points=int(settings["steps"]) + 1, stats=True)
    assert np.allclose(dataset.time.values, expected["time"])
    z_low, z_high = parse_range(settings["meanRange"])
    y_low, y_high = parse_range(settings["sdRange"])
    n_z = n_y = 0
    notes = []
    spread = y_spread(case, expected["time"])
    for variable in (v.strip() for v in settings["variables"].split(",")):
        mean, sd = statistics(dataset, variable)
        z, y = z_and_y(mean, sd, expected[f"{variable}mean"], expected[f"{variable}sd"], RUNS)
        y = y / spread
        bad_z = (z <= z_low) | (z >= z_high)
        bad_y = (y <= y_low) | (y >= y_high)
        n_z += int(bad_z.sum())
        n_y += int(bad_y.sum())
        notes.append(f"{variable}: max|Z| {np.max(np.abs(z)):.2f}, max|Y| {np.max(np.abs(y)):.2f}")
    return n_z, n_y, "; ".join(notes)


@pytest.mark.slow
@pytest.mark.skipif(not CASES, reason=f"the DSMTS cases are not at {SUITE}")
@pytest.mark.parametrize("case", CASES)
def test_dsmts_case_passes_the_three_seed_rule(case):
    """At least two of three seeds put every Z in (−3, 3) and every Y in (−5, 5) with 10,000 runs."""
    require_module("libsbml", "sbml")
    results = [failures(case, seed) for seed in SEEDS]
    passed = [n_z == 0 and n_y == 0 for n_z, n_y, _ in results]
    report = " | ".join(f"seed {s}: {n_z} Z and {n_y} Y failures ({notes})"
                        for s, (n_z, n_y, notes) in zip(SEEDS, results))
    if os.environ.get("FENTONSIM_DSMTS_REPORT"):
        print(f"\nDSMTS {case}: {report}")
    assert sum(passed) >= 2, f"DSMTS {case} fails the three-seed rule: {report}"


def test_dsmts_cases_are_present_in_ci():
    """CI runs beside ../shared, so the suite must be found there (a silent skip would hide a broken path)."""
    if os.environ.get("CI"):
        assert len(CASES) >= 29, f"expected the DSMTS cases at {SUITE}, found {len(CASES)}"


@pytest.mark.slow
@pytest.mark.skipif("00003" not in CASES, reason=f"DSMTS case 00003 is not at {SUITE}")
@pytest.mark.parametrize("t", [10, 30, 50])
def test_heavy_tailed_case_matches_the_exact_distribution(t):
    """Case 00003's counts at time t follow Kendall's exact birth–death law (chi-square, p > 1e-4)."""
    require_module("libsbml", "sbml")
    model = fentonsim.load(SUITE / "00003" / "00003-sbml-l3v1.xml")
    dataset = fentonsim.simulate(model, method="ssa", runs=RUNS, seed=11, t_eval=[0.0, float(t)])
    counts = dataset["count"].values[:, -1, 0]
    p = birth_death_pmf(*HEAVY_TAILED["00003"], t)
    expected = p * RUNS
    observed = np.bincount(counts, minlength=p.size)[:p.size].astype(float)
    # Pool the tail so every bin expects at least 5 runs.
    edges = [0]
    total = 0.0
    for i, e in enumerate(expected):
        total += e
        if total >= 5:
            edges.append(i + 1)
            total = 0.0
    edges[-1] = p.size
    obs = np.add.reduceat(observed, edges[:-1])
    obs[-1] += np.count_nonzero(counts >= p.size)
    exp = np.add.reduceat(expected, edges[:-1])
    chi2 = float(((obs - exp) ** 2 / exp).sum())
    assert stats.chi2.sf(chi2, obs.size - 1) > 1e-4, f"chi2 {chi2:.1f} on {obs.size - 1} dof"


@pytest.mark.slow
@pytest.mark.skipif("00003" not in CASES, reason=f"the DSMTS cases are not at {SUITE}")
def test_00003_mean_has_no_bias_at_high_power():
    """Birth–death near criticality (λ = 1, μ = 1.1), where birth and death share one propensity group:
    with 200,000 direct-method runs the mean stays within 4 SE of the exact mean at every time, a
    test √20 times more sensitive to a bias than the suite's 10,000-run rule."""
    require_module("libsbml", "sbml")
    runs = 200_000
    model = fentonsim.load(SUITE / "00003" / "00003-sbml-l3v1.xml")
    expected = np.genfromtxt(SUITE / "00003" / "00003-results.csv", delimiter=",", names=True)
    dataset = fentonsim.simulate(model, method="ssa", runs=runs, seed=2026, t_end=50.0, n_points=51, stats=True,
                                 ssa_algorithm="direct")
    mean, _ = statistics(dataset, "X")
    z, _ = z_and_y(mean[1:], np.zeros(50), expected["Xmean"][1:], expected["Xsd"][1:], runs)
    assert np.max(np.abs(z)) < 4.0, f"max |Z| {np.max(np.abs(z)):.2f}"
