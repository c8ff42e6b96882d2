"""Global sensitivities (fentonsim.global_sensitivity): Sobol' indices and Morris screening against models whose
answer is known in closed form, the iron and copper catalysts at small N (shapes, determinism, reactions that
cannot run), and refusals. Statistical tolerances are multiples of the bootstrap standard errors."""
from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from fentonsim import ConditionsError, simulate
from fentonsim.global_sensitivity import global_sensitivity, ranked_rows
from toy import toy_network

pytest.importorskip("SALib")

T_END = 100.0  # s
#: (low, high) of each toy constant [s⁻¹]: A → ·OH, B → ·OH, C → ·OH.
RANGES = {"T1": (1e-3, 1e-2), "T2": (1e-4, 1e-2), "T3": (1e-3, 1e-1)}
#: Bootstrap standard errors of slack: |estimate − exact| ≤ Z_TOL·SE + FLOOR (SE = half-width / z_0.975).
Z_TOL, FLOOR = 4.0, 1e-3


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """Three first-order channels to ·OH with documented ranges (an inert `peroxide` lets ·OH metrics run):
    ·OH produced by t = A0(1 − e^(−k1 t)) + B0(1 − e^(−k2 t)) + C0(1 − e^(−k3 t))."""
    directory = tmp_path_factory.mktemp("gsa")
    species = {"A": {"X": 1}, "B": {"X": 1}, "C": {"X": 1}, "hydroxyl": {"X": 1}, "peroxide": {"X": 2}}
    reactions = [(f"{s} => hydroxyl", f"{np.sqrt(lo * hi):.6g} s^-1", f"uncertainty: {{range: [{lo}, {hi}]}}")
                 for s, (lo, hi) in zip("ABC", RANGES.values())]
    toy_network(directory, species, reactions, name="gsatoy")
    return str(directory / "gsatoy.yaml")


def standard_error(conf, level=0.95):
    return conf / norm.ppf(0.5 + level / 2)


def channel_variance(low, high, amount):
    """Var of amount·(1 − e^(−k T_END)) for k log-uniform on [low, high] (quadrature over u ∈ [0, 1])."""
    def y(u):
        return amount * (1 - np.exp(-low * (high / low) ** u * T_END))
    mean = integrate.quad(y, 0, 1)[0]
    return integrate.quad(lambda u: (y(u) - mean) ** 2, 0, 1)[0]


def test_sobol_one_influential_constant_has_s1_and_st_of_one(toy):
    """With only A present (B0 = C0 = 0), ln(·OH) depends on k1 alone: S1 ≈ ST ≈ 1 for T1 within 4 bootstrap
    standard errors at every N of the convergence check (64, 128, 256), and T2, T3 — reactions that cannot
    run — have S1 = ST = 0 exactly (their runs are bit-identical)."""
    ds = global_sensitivity(toy, [None], "sobol", 256, initial={"A": 1e-3}, t_end=T_END, seed=3)
    assert list(ds.n.values) == [64, 128, 256]
    cell = ds.sel(model="gsatoy", condition="condition 1")
    for name in ("S1", "ST"):
        estimate = cell[name].sel(reaction="T1").values
        se = standard_error(cell[f"{name}_conf"].sel(reaction="T1").values)
        assert np.all(np.abs(estimate - 1) <= Z_TOL * se + FLOOR), (name, estimate, se)
        assert np.all(cell[name].sel(reaction=["T2", "T3"]).values == 0)
    assert list(ds.n_runs.sel(model="gsatoy").values) == [64 * 5, 128 * 5, 256 * 5]


def test_sobol_matches_the_variance_shares_of_an_additive_model(toy):
    """Linear scale with A0 = B0 = 1 mM: ·OH = f1(k1) + f2(k2) is additive, so S1_i = ST_i = Var f_i / Σ Var f_j,
    each Var from quadrature of the closed form over the log-uniform range. At N = 1024 every estimate is within
    4 bootstrap standard errors (+1e-3) of its exact value, and C (C0 = 0) has exactly 0."""
    ds = global_sensitivity(toy, [None], "sobol", 1024, scale="linear", initial={"A": 1e-3, "B": 1e-3},
                            t_end=T_END, seed=1)
    v1, v2 = channel_variance(*RANGES["T1"], 1e-3), channel_variance(*RANGES["T2"], 1e-3)
    exact = {"T1": v1 / (v1 + v2), "T2": v2 / (v1 + v2)}
    cell = ds.isel(model=0, condition=0, n=-1)
    for reaction, share in exact.items():
        for name in ("S1", "ST"):
            estimate = float(cell[name].sel(reaction=reaction))
            se = standard_error(float(cell[f"{name}_conf"].sel(reaction=reaction)))
            assert abs(estimate - share) <= Z_TOL * se + FLOOR, (reaction, name, estimate, share, se)
    assert float(cell.S1.sel(reaction="T3")) == 0 and float(cell.ST.sel(reaction="T3")) == 0
    assert ds.attrs["scale"] == "linear" and ds.S1.attrs["units"] == "1"


def test_morris_effects_lie_between_the_extremes_of_the_derivative(toy):
    """Morris on ln(·OH) with only A: each elementary effect of T1 is a secant of the smooth y(u) =
    ln(A0(1 − e^(−k(u)T))), k(u) = low·(high/low)^u, so mu* lies between min and max of |dy/du| over [0, 1]
    (dy/du = ln(high/low)·kT·e^(−kT)/(1 − e^(−kT))), and mu_star_per_ln_k = mu*/ln(high/low); T2 and T3,
    which cannot run, have mu* = sigma = 0 exactly."""
    ds = global_sensitivity(toy, [None], "morris", 16, initial={"A": 1e-3}, t_end=T_END, seed=0)
    low, high = RANGES["T1"]
    k = low * (high / low) ** np.linspace(0, 1, 2001)
    slope = np.log(high / low) * k * T_END * np.exp(-k * T_END) / (1 - np.exp(-k * T_END))
    cell = ds.isel(model=0, condition=0).sel(reaction="T1")
    assert np.all((cell.mu_star.values >= slope.min() * (1 - 1e-9)) & (cell.mu_star.values <= slope.max() * (1 + 1e-9)))
    np.testing.assert_allclose(cell.mu_star_per_ln_k.values, cell.mu_star.values / np.log(high / low))
    rest = ds.isel(model=0, condition=0).sel(reaction=["T2", "T3"])
    assert np.all(rest.mu_star.values == 0) and np.all(rest.sigma.values == 0)
    assert np.all(cell.sigma_conf.values > 0) and np.all(cell.mu_star_conf.values > 0)


def test_elementary_effects_are_salibs():
    """The trajectory bootstrap of sigma resamples fentonsim's own elementary effects: on a SALib Morris design
    of 5 factors (20 trajectories) with y = x0² + 3·x1·x2 − x3, their mean, mean absolute value and standard
    deviation (ddof 1) equal SALib's mu, mu* and sigma to 1e-12, and the effect of x4 (absent) is 0."""
    from SALib.analyze import morris as analyse
    from SALib.sample import morris as sample
    from fentonsim.global_sensitivity import elementary_effects

    problem = {"num_vars": 5, "names": list("abcde"), "bounds": [[0.0, 1.0]] * 5}
    x = sample.sample(problem, 20, num_levels=4, seed=7)
    y = x[:, 0] ** 2 + 3 * x[:, 1] * x[:, 2] - x[:, 3]
    effects = elementary_effects(x, y)
    reference = analyse.analyze(problem, x, y, num_levels=4, seed=7)
    np.testing.assert_allclose(effects.mean(axis=0), reference["mu"], atol=1e-12)
    np.testing.assert_allclose(np.abs(effects).mean(axis=0), reference["mu_star"], atol=1e-12)
    np.testing.assert_allclose(effects.std(axis=0, ddof=1), reference["sigma"], atol=1e-12)
    assert np.all(effects[:, 4] == 0) and np.allclose(effects[:, 3], -1)


@pytest.fixture(scope="module")
def metals():
    """Morris (n = 8) on the iron and copper catalysts with GSH depleted, at tme and normal, 10 min."""
    return global_sensitivity(("iron", "copper"), ("tme", "normal"), "morris", 8, t_end="10 min",
                              initial={"GSH": 0}, seed=5)


def test_metal_smoke_shapes_and_factors(metals):
    """Dims (model 2, condition 2, reaction = the union of both catalysts' ranged constants, n = 2, 4, 8);
    each catalyst's indices are finite exactly on its own factors (NaN on the other's), with mu* ≥ 0 and
    the ranking of ranked_rows by mu*, largest first."""
    ds = metals
    assert ds.sizes["model"] == 2 and ds.sizes["condition"] == 2 and list(ds.n.values) == [2, 4, 8]
    for model in ("iron", "copper"):
        own = ds.is_factor.sel(model=model).values
        mu = ds.mu_star.sel(model=model).values
        assert np.all(np.isfinite(mu[:, own])) and np.all(np.isnan(mu[:, ~own]))
        assert np.all(mu[:, own] >= 0)
        rows = ranked_rows(ds, model, "tme")
        assert len(rows) == own.sum()
        assert [r["mu_star"] for r in rows] == sorted((r["mu_star"] for r in rows), reverse=True)
    assert ds.is_factor.sel(model="copper", reaction="C1") and not ds.is_factor.sel(model="iron", reaction="C1")


def test_metal_reactions_that_cannot_run_have_zero_mu_star(metals):
    """Without GSH, a factor whose network reactions all have extent exactly 0 in a default run (their
    reactants are never made: the glutathione chemistry) has mu* == 0 and sigma == 0 exactly; there is at
    least one such factor per catalyst, and at least one factor with mu* > 0."""
    from fentonsim.catalysts import parse_catalyst
    from fentonsim.problem import resolve_model

    for model in ("iron", "copper"):
        catalyst = parse_catalyst(model)
        files = [str(f) for f in catalyst.files]
        network = resolve_model(files)
        run = simulate(files, conditions="tme", initial={"GSH": 0, catalyst.species: 20e-6}, t_end=600)
        extent = run.extent.isel(time=-1).values
        factors = [str(r) for r in metals.reaction.values if metals.is_factor.sel(model=model, reaction=r)]
        dead = [r for r in factors if all(extent[i] == 0 for i, source in enumerate(network.source_reaction)
                                          if source == r)]
        assert dead, model
        cell = metals.sel(model=model, condition="tme")
        assert np.all(cell.mu_star.sel(reaction=dead).values == 0), dead
        assert np.all(cell.sigma.sel(reaction=dead).values == 0), dead
        assert float(cell.mu_star.isel(n=-1).max()) > 0


def test_same_seed_same_result_other_seed_other_design():
    """The seed fixes design and bootstrap: two runs with seed 2 give identical indices and runs; seed 3 gives
    other runs (iron alone, Sobol' n = 8, 10 min)."""
    kwargs = dict(t_end="10 min", initial={"GSH": 0})
    a = global_sensitivity("iron", "tme", "sobol", 8, seed=2, **kwargs)
    b = global_sensitivity("iron", "tme", "sobol", 8, seed=2, **kwargs)
    c = global_sensitivity("iron", "tme", "sobol", 8, seed=3, **kwargs)
    for name in ("S1", "ST", "S1_conf", "ST_conf", "metric_value"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    assert not np.array_equal(a.metric_value.values, c.metric_value.values)


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="fast"), "unknown global sensitivity method `fast`"),
    (dict(method="sobol", n=100), "power of 2"),
    (dict(method="morris", n=2), "at least 4"),
    (dict(scale="ln"), "`scale`"),
    (dict(rates={"NOPE": 1.0}), "NOPE"),
    (dict(metric="nope"), "unknown metric `nope`"),
    (dict(num_levels=3), "`num_levels`"),
    (dict(ph=[6.5, 7.4]), "one per condition"),
])
def test_bad_arguments_are_refused(kwargs, message):
    """Bad methods, sample sizes, scales, overrides and metrics are ConditionsErrors naming the argument,
    raised before any run."""
    with pytest.raises(ConditionsError, match=message):
        global_sensitivity("iron", "tme", **{"method": "morris", **kwargs})


def test_missing_salib_names_the_extra(monkeypatch):
    """Without SALib the error is one line naming the `analysis` extra to install."""
    monkeypatch.setitem(sys.modules, "SALib", None)
    with pytest.raises(ConditionsError, match=r"pip install 'fentonsim\[analysis\]'") as info:
        global_sensitivity("iron", "tme")
    assert "\n" not in str(info.value)


def test_tornado_orders_bars_by_magnitude_and_skips_nan():
    """plot_tornado draws the `top` largest |values| from the top down, signed bars in two colours, NaN left
    out (plot_global_sensitivity's bars: test_global_tornado_follows_the_ranking)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr
    from fentonsim.plotting import PALETTE, plot_tornado

    values = xr.DataArray([0.1, -0.5, np.nan, 0.3, 0.0], dims="reaction",
                          coords={"reaction": ["a", "b", "c", "d", "e"]}, attrs={"long_name": "s", "units": "1"})
    ax = plot_tornado(values, top=3)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    positions = [t for t in ax.get_yticks()]
    ordered = [label for _, label in sorted(zip(positions, labels), reverse=True)]
    assert ordered == ["b", "d", "a"]
    widths = {label: patch.get_width() for label, patch in zip(ordered, sorted(ax.patches, key=lambda p: -p.get_y()))}
    assert widths == {"b": -0.5, "d": 0.3, "a": 0.1}
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches}
    assert colours == {PALETTE[0].lower(), PALETTE[5].lower()}
    plt.close("all")


def test_global_tornado_follows_the_ranking(toy):
    """The tornado of a Sobol' result lists the model's factors from the largest ST down, as ranked_rows does:
    each wide bar is that factor's ST and the narrow inner bar on the same row its S1 (the legend names
    both)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from fentonsim.plotting import plot_global_sensitivity

    ds = global_sensitivity(toy, [None], "sobol", 64, scale="linear", initial={"A": 1e-3, "B": 1e-3}, t_end=T_END)
    ax = plot_global_sensitivity(ds)
    labels = [t.get_text() for _, t in sorted(zip(ax.get_yticks(), ax.get_yticklabels()), key=lambda p: -p[0])]
    rows = ranked_rows(ds)
    assert labels == [r["reaction"] for r in rows] and len(labels) == 3
    centre = lambda patch: patch.get_y() + patch.get_height() / 2  # noqa: E731
    wide = sorted((p for p in ax.patches if p.get_height() == pytest.approx(0.7)), key=lambda p: -centre(p))
    inner = sorted((p for p in ax.patches if p.get_height() == pytest.approx(0.25)), key=lambda p: -centre(p))
    assert len(wide) == len(inner) == 3
    for row, outer, s1 in zip(rows, wide, inner):
        assert centre(s1) == pytest.approx(centre(outer))
        assert outer.get_width() == pytest.approx(row["ST"]) and s1.get_width() == pytest.approx(row["S1"])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [ds.ST.attrs["long_name"], ds.S1.attrs["long_name"]]
    plt.close("all")


@pytest.mark.parametrize("scale", ["log", "linear"])
def test_a_metric_that_is_zero_in_every_run_gives_nan_indices_and_a_warning(toy, scale):
    """With no A, B or C nothing makes ·OH: the metric is 0 in every run. Its indices are NaN with a
    RuntimeWarning and the reason in `failed_cells`, on either scale (once mu* = sigma = 0 for every factor —
    "no effect" — even on the log scale, where ln 0 is no number)."""
    with pytest.warns(RuntimeWarning, match=r"left NaN for gsatoy at condition 1 \(the metric is 0 in every run\)"):
        ds = global_sensitivity(toy, [None], "morris", 4, scale=scale, t_end=T_END)
    assert np.all(ds.metric_value.values[0, 0, :16] == 0)
    cell = ds.isel(model=0, condition=0)
    assert np.all(np.isnan(cell.mu_star.values)) and np.all(np.isnan(cell.sigma.values))
    assert "0 in every run" in ds.attrs["failed_cells"]


def test_the_cli_prints_why_indices_are_nan(toy, capsys):
    """`fentonsim sensitivity --global` on a run that makes no ·OH prints the reason as one `warning:` line on
    stdout (once it printed a table of zeros)."""
    from fentonsim.cli import main

    assert main(["sensitivity", toy, "--global", "morris", "--samples", "4", "--t-end", "100"]) == 0
    out = capsys.readouterr().out
    assert "warning: global sensitivity left NaN for gsatoy at condition 1 (the metric is 0 in every run)" in out


def test_morris_agrees_with_local_sensitivities_where_ln_oh_is_nearly_log_linear():
    """Iron catalyst at tme (10 min): for its three most influential factors (F2, FP2, FP1), whose elementary
    effects barely spread (sigma ≲ 1 % of mu* … 5 %), mu* — the mean secant of ln ·OH across each range —
    equals the local |∂ln ·OH/∂ln k| at the default constants (fs.sensitivities, all branches of the reaction)
    times ln(high/low), within 3·sigma + the bootstrap half-width of mu* (measured: 1e-3, 4e-3, 2e-3 against
    bounds of 0.019, 0.020, 0.005). Two independent methods, one answer."""
    from fentonsim import sensitivities
    from fentonsim.catalysts import parse_catalyst

    factors = ["F2", "FP2", "FP1"]
    result = global_sensitivity("iron", "tme", "morris", 8, t_end="10 min", seed=1)
    assert [r["reaction"] for r in ranked_rows(result)][:3] == factors
    cell = result.isel(model=0, condition=0, n=-1)
    local = sensitivities([str(f) for f in parse_catalyst("iron").files], [f"rate:{r}" for r in factors],
                          conditions="tme", initial={"Fe+2": 20e-6}, t_end=600, n_points=2, extents=True)
    normalised = local.oh_produced_sensitivity.values[-1] / local.oh_produced.values[-1]
    for reaction, value in zip(factors, normalised):
        x = cell.sel(reaction=reaction)
        expected = abs(value) * np.log(float(x.k_high / x.k_low))
        assert abs(float(x.mu_star) - expected) <= 3 * float(x.sigma) + float(x.mu_star_conf), (reaction, expected)
        assert float(x.sigma) < 0.06 * float(x.mu_star)
