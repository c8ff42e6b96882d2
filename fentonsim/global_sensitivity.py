"""Global sensitivities over the documented rate-constant ranges: Morris screening and Sobol indices.

:func:`global_sensitivity` asks which uncertain constants drive a metric (default: the total ·OH produced,
``fentonsim.compare.DEFAULT_METRIC``) of each model at each condition when every constant with a documented
``range`` (and, with ``include_factors=True``, a ``factor``) varies over that range at once — the question local
derivatives (fentonsim.sensitivity) answer only at the default constants.

Factors and design
------------------
Each model's factors are the reactions of its own mechanism with a documented range (fentonsim.sampling
``mechanism_ranges``; constants fixed by ``rates`` or ``parameter_set`` are not sampled). A factor's unit
coordinate u ∈ [0, 1] maps to k = low·(high/low)^u [M^(1−m) s⁻¹]: log-uniform within the range, as the
uncertainty bands of fentonsim.compare and fentonsim.uncertainty sample it. Designs and estimators are
SALib's (the ``analysis`` extra): Morris trajectories (``SALib.sample.morris``, ``num_levels`` levels, r
trajectories of D + 1 runs) with ``SALib.analyze.morris``; Sobol' indices from Saltelli's scheme on a
scrambled Sobol' sequence (``SALib.sample.sobol``, N base samples of D + 2 runs, first and total order)
with ``SALib.analyze.sobol`` (Jansen's total-order and Saltelli 2010's first-order estimators). Every run
of one model at one condition goes through fentonsim.sweep as one chunk: one batched kernel launch.

Output y
--------
``scale="log"`` (default) analyses y = ln(metric): the catalysts' ·OH spans orders of magnitude over the
ranges, and a log output makes the indices compare relative changes. ``scale="linear"`` analyses the metric
in its own unit (M for ·OH produced).

Convergence
-----------
The design at N contains the designs at N/4 and N/2 as prefixes (the first trajectories; the first base
points of the Sobol' sequence), so the indices are computed at each of them from the same runs: the
``n`` dimension. Indices that still move between N/2 and N beyond their confidence intervals have not settled.

Result (an ``xarray.Dataset``)
------------------------------
Dimensions ``model``, ``condition``, ``reaction`` (union of every model's factors, sorted) and ``n`` (Morris
trajectories or Sobol' base samples used). A reaction a model lacks is NaN for it.

Morris: ``mu``, ``mu_star`` [y per unit range: the change of ln(metric) — or of the metric in its unit
with ``scale="linear"`` — when u moves across its whole range, i.e. k from low to high], ``sigma`` (same
unit: spread of the elementary effects; large = nonlinear or interacting), ``mu_star_conf`` and
``sigma_conf`` (half-widths of the ``conf_level`` bootstrap intervals, resampling elementary effects
(SALib) or whole trajectories (sigma)), and ``mu_star_per_ln_k`` = mu_star / ln(high/low) [y per unit ln k],
comparable with the local |∂ln y/∂ln k| of fentonsim.sensitivity when y is ln(metric).

Sobol': ``S1``, ``ST`` [1, fractions of Var(y)] and ``S1_conf``, ``ST_conf`` (bootstrap half-widths).

Also ``metric_value`` (model, condition, run) [metric unit], the metric of every run in the order of the
model's design (NaN past a model's runs); coordinates ``k_low``, ``k_high`` [M^(1−m) s⁻¹] (reaction),
``is_factor`` (model, reaction: sampled for that model), ``n_runs`` (model, n: runs per condition) and ``pH``
(condition; NaN where neither ``ph`` nor the preset sets it); attributes ``method``, ``metric``,
``metric_units``, ``scale``, ``seed``, ``conf_level``,
``n_bootstrap``, ``num_levels`` (Morris), ``design``, ``t_end_s``, ``dose_M``, ``wall_time_s`` and
``failed_cells`` (cells left NaN, each with its reason: failed runs, a metric that is 0 in every run, or a
log scale over values ≤ 0; a RuntimeWarning names them too). A cell whose runs all give the same nonzero
value has mu* = sigma = 0 exactly (nothing moves it) and S1 = ST = NaN (no variance to share).
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np
import xarray as xr

from .catalysts import DEFAULT_DOSE
from .compare import DEFAULT_METRIC
from .errors import ConditionsError
from .metrics import DESCRIPTIONS, describe
from .problem import resolve_conditions, resolve_mechanism
from .sampling import mechanism_ranges
from .sweep import _model_spec, sweep
from .units import CONCENTRATION, TIME, parse_quantity, user_quantity

__all__ = ["METHODS", "global_sensitivity", "ranked_rows", "require_salib"]

METHODS = ("morris", "sobol")
SCALES = ("log", "linear")
#: Default N per method: Morris trajectories (each D + 1 runs), Sobol' base samples (each D + 2 runs).
DEFAULT_N = {"morris": 32, "sobol": 256}
DEFAULT_BOOTSTRAP = 200
#: Most runs one analysis may ask for (per model and condition): beyond it a typo in N, not a wish.
MAX_RUNS = 2_000_000


def require_salib():
    """Import SALib or raise a one-line ConditionsError naming the extra that installs it."""
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise ConditionsError("global sensitivities need SALib: pip install 'fentonsim[analysis]'") from None


def _models(models) -> dict:
    """{name: model reference as fentonsim.sweep takes it} from a catalyst, a path, a list of them or a dict."""
    if isinstance(models, dict):
        items = {str(k): v for k, v in models.items()}
    else:
        items = {}
        for m in (models if isinstance(models, (list, tuple)) else [models]):
            name = _model_spec(m)[2]
            if name in items:
                raise ConditionsError(f"model `{name}` is given twice")
            items[name] = m
    if not items:
        raise ConditionsError("give at least one model")
    return items


def _levels(method, n) -> list[int]:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ConditionsError(f"`n` must be an integer, found {n!r}")
    n = int(n)
    if method == "sobol":
        if n < 8 or n & (n - 1):
            raise ConditionsError(f"`n` (Sobol' base samples) must be a power of 2 and at least 8, found {n}; "
                                  "the Sobol' sequence is balanced only at powers of 2")
        return [n // 4, n // 2, n]
    if n < 4:
        raise ConditionsError(f"`n` (Morris trajectories) must be at least 4, found {n}")
    return sorted({max(2, n // 4), max(2, n // 2), n})


def _design(method, n_vars, n, num_levels, seed):
    """Unit-cube design (runs, D) from SALib; the prefixes of :func:`_levels` are designs of their own."""
    problem = {"num_vars": n_vars, "names": [f"x{i}" for i in range(n_vars)], "bounds": [[0.0, 1.0]] * n_vars}
    if method == "morris":
        from SALib.sample import morris
        return problem, morris.sample(problem, n, num_levels=num_levels, seed=seed)
    from SALib.sample import sobol
    return problem, sobol.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)


def _morris(problem, x, y, num_levels, n_bootstrap, conf_level, seed) -> dict:
    """SALib's Morris estimates plus a trajectory bootstrap of sigma (SALib gives mu* intervals only)."""
    from SALib.analyze import morris
    from scipy.stats import norm

    result = morris.analyze(problem, x, y, num_resamples=n_bootstrap, conf_level=conf_level,
                            num_levels=num_levels, seed=seed)
    effects = elementary_effects(x, y)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, effects.shape[0], size=(n_bootstrap, effects.shape[0]))
    sigma_boot = np.std(effects[picks], axis=1, ddof=1)
    z = norm.ppf(0.5 + conf_level / 2)
    return {"mu": np.asarray(result["mu"]), "mu_star": np.asarray(result["mu_star"]),
            "sigma": np.asarray(result["sigma"]), "mu_star_conf": np.asarray(result["mu_star_conf"]),
            "sigma_conf": z * np.std(sigma_boot, axis=0, ddof=1)}


def elementary_effects(x, y) -> np.ndarray:
    """Morris elementary effects (trajectory, factor) [y per unit coordinate] of a trajectory design ``x``
    (runs, D) in unit coordinates and its outputs ``y``: consecutive runs of a trajectory differ in one factor."""
    d = x.shape[1]
    xs = x.reshape(-1, d + 1, d)
    dx = np.diff(xs, axis=1)
    factor = np.argmax(np.abs(dx), axis=2)
    step = np.take_along_axis(dx, factor[..., None], axis=2)[..., 0]
    effects = np.empty((xs.shape[0], d))
    np.put_along_axis(effects, factor, np.diff(y.reshape(-1, d + 1), axis=1) / step, axis=1)
    return effects


def _sobol(problem, y, n_bootstrap, conf_level, seed) -> dict:
    from SALib.analyze import sobol

    result = sobol.analyze(problem, y, calc_second_order=False, num_resamples=n_bootstrap, conf_level=conf_level,
                           seed=seed)
    return {name: np.asarray(result[name]) for name in ("S1", "S1_conf", "ST", "ST_conf")}


MORRIS_VARIABLES = ("mu", "mu_star", "sigma", "mu_star_conf", "sigma_conf")
SOBOL_VARIABLES = ("S1", "S1_conf", "ST", "ST_conf")


def global_sensitivity(models=("iron", "copper"), conditions=("tme",), method="morris", n=None, *,
                       metric=DEFAULT_METRIC, scale="log", dose=DEFAULT_DOSE, t_end="1 h", ph=None,
                       temperature=None, initial=None, rates=None, parameter_set=None, include_factors=False,
                       num_levels=4, n_bootstrap=DEFAULT_BOOTSTRAP, conf_level=0.95, seed=0,
                       progress=False) -> xr.Dataset:
    """Morris or Sobol' indices of ``metric`` to every documented-uncertain rate constant (module docstring).

    Parameters
    ----------
    models : catalyst, path, list of them, or dict name → model
        As fentonsim.sweep takes them: ``"iron"`` is the iron catalyst (with glutathione, dosed with ``dose``),
        ``"file.yaml:Fe+2"`` a file's catalyst, a ``.yaml``/``.xml`` path a mechanism as written.
    conditions : sequence of str or Conditions
        Condition presets or files, one ``condition`` each (a single name is one condition).
    method : {"morris", "sobol"}
    n : int, optional
        Morris trajectories (default 32; D + 1 runs each) or Sobol' base samples (a power of 2 ≥ 8, default
        256; D + 2 runs each). Indices are also reported at N/4 and N/2 (``n`` dimension).
    metric : str
        A fentonsim.metrics variable (default ``oh_produced``, M).
    scale : {"log", "linear"}
        Analyse ln(metric) or the metric itself.
    dose : float or str
        Metal dose [M] of catalyst models.
    t_end : float or str
        Simulated time [s].
    ph : float or sequence of float, optional
        pH for every condition, or one per condition, replacing the presets'.
    temperature : float or str, optional
        Temperature [K] for every run.
    initial : mapping, optional
        Initial concentrations [M] for every run (``{"GSH": 0}``).
    rates : mapping, optional
        Rate constants fixed for every model that has the reaction (not sampled).
    parameter_set : str, optional
        A parameter set applied to the models that define it (its constants are not sampled).
    include_factors : bool
        Also sample constants documented with a ``factor`` f over [k/f, k·f].
    num_levels : int
        Morris grid levels (even, ≥ 4).
    n_bootstrap : int
        Bootstrap resamples of the confidence intervals.
    conf_level : float
        Confidence level of the ``*_conf`` half-widths (0.95).
    seed : int
        Seed of the design and of the bootstrap: the same seed gives the same Dataset.
    progress : bool, optional
        The sweeps' progress bars.

    Returns
    -------
    xarray.Dataset
        As the module docstring describes.

    Raises
    ------
    ConditionsError
        SALib missing (install the ``analysis`` extra), no documented range to sample, a bad N, method or
        scale, or bad conditions.
    """
    start = time.perf_counter()
    require_salib()
    if method not in METHODS:
        raise ConditionsError(f"unknown global sensitivity method `{method}`; expected one of {', '.join(METHODS)}")
    if scale not in SCALES:
        raise ConditionsError(f"`scale` must be one of {', '.join(SCALES)}, found {scale!r}")
    if isinstance(num_levels, bool) or not isinstance(num_levels, (int, np.integer)) or num_levels < 4 \
            or num_levels % 2:
        raise ConditionsError(f"`num_levels` must be an even integer ≥ 4, found {num_levels!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 10:
        raise ConditionsError(f"`n_bootstrap` must be an integer ≥ 10, found {n_bootstrap!r}")
    if not 0 < conf_level < 1:
        raise ConditionsError(f"`conf_level` must lie strictly between 0 and 1, found {conf_level!r}")
    if not isinstance(metric, str) or not (metric in DESCRIPTIONS or metric.startswith("probe_")):
        raise ConditionsError(f"unknown metric `{metric}`; choose one of {', '.join(DESCRIPTIONS)}")
    n = DEFAULT_N[method] if n is None else n
    levels = _levels(method, n)
    model_refs = _models(models)
    condition_list = [conditions] if isinstance(conditions, str) or not isinstance(conditions, (list, tuple)) \
        else list(conditions)
    if not condition_list:
        raise ConditionsError("give at least one condition preset")
    presets = [resolve_conditions(c) for c in condition_list]
    ph_list = _per_condition(ph, len(presets))
    t_end_s = parse_quantity(t_end, TIME, "s", "`t_end`")
    dose_m = user_quantity(dose, CONCENTRATION, "M", "`dose`")
    fixed = dict(rates or {})

    factors = {}
    for name, ref in model_refs.items():
        files = list(_model_spec(ref)[0])
        mechanism = resolve_mechanism(files)
        own_sets = {p.name for p in mechanism.parameter_sets}
        excluded = set(fixed)
        if parameter_set is not None and parameter_set in own_sets:
            excluded |= {rid for p in mechanism.parameter_sets if p.name == parameter_set for rid, _ in p.overrides}
        ranges = {rid: r for rid, r in mechanism_ranges([mechanism], include_factors).items() if rid not in excluded}
        if not ranges:
            raise ConditionsError(f"model `{name}` has no reaction with a documented uncertainty range to sample"
                                  + ("" if include_factors else " (factors too: include_factors=True)"))
        factors[name] = (sorted(ranges), ranges, {r.id for r in mechanism.reactions},
                         parameter_set if parameter_set in own_sets else None)
    if parameter_set is not None and all(f[3] is None for f in factors.values()):
        raise ConditionsError(f"unknown parameter set `{parameter_set}`: no model defines it")
    unknown = sorted(set(fixed) - set().union(*(f[2] for f in factors.values())))
    if unknown:
        raise ConditionsError(f"`rates` names {', '.join(unknown)}, which no model has")
    designs = {}
    for name, (ids, ranges, _, _) in factors.items():
        runs = (levels[-1] * (len(ids) + (1 if method == "morris" else 2)))
        if runs > MAX_RUNS:
            raise ConditionsError(f"`n` = {n} needs {runs:,} runs of `{name}` per condition, more than "
                                  f"{MAX_RUNS:,}; use a smaller n")
        problem, unit = _design(method, len(ids), levels[-1], num_levels, seed)
        low = np.log([ranges[r][0] for r in ids])
        high = np.log([ranges[r][1] for r in ids])
        designs[name] = (problem, unit, np.exp(low + unit * (high - low)))

    names = list(model_refs)
    all_ids = sorted(set().union(*(f[0] for f in factors.values())))
    max_runs = max(d[1].shape[0] for d in designs.values())
    variables = MORRIS_VARIABLES if method == "morris" else SOBOL_VARIABLES
    out = {v: np.full((len(names), len(presets), len(all_ids), len(levels)), np.nan) for v in variables}
    values = np.full((len(names), len(presets), max_runs), np.nan)
    failed = []
    for j, preset in enumerate(presets):
        points = []
        for name in names:
            ids, _, own, own_set = factors[name]
            base = {"model": name, **{key: value for key, value in (initial or {}).items()}}
            if ph_list[j] is not None:
                base["pH"] = ph_list[j]
            if temperature is not None:
                base["temperature"] = temperature
            if own_set is not None:
                base["parameter_set"] = own_set
            base.update({f"rate:{rid}": v for rid, v in fixed.items() if rid in own})
            for row in designs[name][2]:
                points.append({**base, **{f"rate:{rid}": float(k) for rid, k in zip(ids, row)}})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # failed runs: reported per cell below
            result = sweep(model_refs, points=points, conditions=preset, dose=dose_m, t_end=t_end_s, n_points=2,
                           chunk_size=max_runs, progress=progress)
        if metric not in result:
            raise ConditionsError(f"metric `{metric}` is not measured for these models; available: "
                                  f"{', '.join(v for v in result.data_vars if v != 'status')}")
        column = result[metric].values
        offset = 0
        for i, name in enumerate(names):
            problem, unit, _ = designs[name]
            y = column[offset:offset + unit.shape[0]].astype(float)
            offset += unit.shape[0]
            values[i, j, :y.size] = y
            rows = [all_ids.index(r) for r in factors[name][0]]
            for level_index, level in enumerate(levels):
                size = level * (problem["num_vars"] + (1 if method == "morris" else 2))
                cell, why = _analyse(method, problem, unit[:size], y[:size], scale, num_levels, n_bootstrap,
                                     conf_level, seed)
                if cell is None:
                    if level == levels[-1]:
                        failed.append(f"{name} at {preset.name or f'condition {j + 1}'} ({why})")
                    continue
                for v in variables:
                    out[v][i, j, rows, level_index] = cell[v]
    if failed:
        warnings.warn(f"global sensitivity left NaN for {'; '.join(failed)}", RuntimeWarning, stacklevel=2)
    return _dataset(method, names, presets, ph_list, all_ids, levels, factors, designs, out, values, dict(
        metric=metric, scale=scale, seed=seed, conf_level=conf_level, n_bootstrap=n_bootstrap,
        num_levels=num_levels, t_end_s=t_end_s, dose_M=dose_m, failed="; ".join(failed),
        include_factors=include_factors, start=start))


def _per_condition(ph, count):
    if ph is None:
        return [None] * count
    if isinstance(ph, (int, float, np.number)):
        return [float(ph)] * count
    values = [float(v) for v in ph]
    if len(values) != count:
        raise ConditionsError(f"`ph` gives {len(values)} values for {count} conditions; give one, or one per "
                              "condition")
    return values


def _analyse(method, problem, unit, y, scale, num_levels, n_bootstrap, conf_level, seed):
    """(indices of one cell, None) or (None, why they cannot be computed: failed runs, a metric identically 0,
    a log scale over values ≤ 0). The checks come before the constant-output shortcut: ln 0 is no number, and a
    metric that is 0 in every run (nothing made, or not measured) says nothing about the factors."""
    if not np.all(np.isfinite(y)):
        return None, "failed runs"
    if np.all(y == 0):
        return None, "the metric is 0 in every run"
    if scale == "log":
        if np.any(y <= 0):
            return None, "the metric is ≤ 0 in some runs, which a log scale cannot take: use scale='linear'"
        y = np.log(y)
    if np.all(y == y[0]):
        # Nothing moves the output: no effect at all (Morris), no variance to apportion (Sobol').
        d = problem["num_vars"]
        if method == "morris":
            return {v: np.zeros(d) for v in MORRIS_VARIABLES}, None
        return {v: np.full(d, np.nan) for v in SOBOL_VARIABLES}, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if method == "morris":
            return _morris(problem, unit, y, num_levels, n_bootstrap, conf_level, seed), None
        return _sobol(problem, y, n_bootstrap, conf_level, seed), None


def _dataset(method, names, presets, ph_list, all_ids, levels, factors, designs, out, values, info):
    unit, long_name = describe(info["metric"])
    y_unit = "1 (ln of the metric)" if info["scale"] == "log" else unit
    dims = ("model", "condition", "reaction", "n")
    per_range = f"{y_unit} per unit range (k from low to high)"
    attrs = {
        "mu": {"units": per_range, "long_name": "Morris mean elementary effect"},
        "mu_star": {"units": per_range, "long_name": "Morris mean absolute elementary effect (mu*)"},
        "sigma": {"units": per_range, "long_name": "Morris standard deviation of the elementary effects"},
        "mu_star_conf": {"units": per_range, "long_name": "half-width of mu*'s bootstrap interval"},
        "sigma_conf": {"units": per_range, "long_name": "half-width of sigma's bootstrap interval (trajectories)"},
        "S1": {"units": "1", "long_name": "first-order Sobol' index"},
        "ST": {"units": "1", "long_name": "total-order Sobol' index"},
        "S1_conf": {"units": "1", "long_name": "half-width of S1's bootstrap interval"},
        "ST_conf": {"units": "1", "long_name": "half-width of ST's bootstrap interval"},
    }
    low = np.array([next(f[1][r][0] for f in factors.values() if r in f[1]) for r in all_ids])
    high = np.array([next(f[1][r][1] for f in factors.values() if r in f[1]) for r in all_ids])
    per_run = 1 if method == "morris" else 2
    data = {name: (dims, array, attrs[name]) for name, array in out.items()}
    if method == "morris":
        data["mu_star_per_ln_k"] = (dims, out["mu_star"] / np.log(high / low)[None, None, :, None], {
            "units": f"{y_unit} per unit ln k", "long_name": "mu* / ln(high/low): comparable with |dln y/dln k|"})
    data["metric_value"] = (("model", "condition", "run"), values, {"units": unit, "long_name": long_name})
    coords = {
        "model": ("model", names),
        "condition": ("condition", [p.name or f"condition {j + 1}" for j, p in enumerate(presets)]),
        "pH": ("condition", np.array([v if v is not None else (p.pH if p.pH is not None else np.nan)
                                      for v, p in zip(ph_list, presets)], dtype=float)),
        "reaction": ("reaction", all_ids),
        "k_low": ("reaction", low, {"units": "M^(1-order) s^-1"}),
        "k_high": ("reaction", high, {"units": "M^(1-order) s^-1"}),
        "n": ("n", levels, {"long_name": "Morris trajectories" if method == "morris" else "Sobol' base samples"}),
        "n_runs": (("model", "n"), np.array([[level * (len(factors[m][0]) + per_run) for level in levels]
                                             for m in names]), {"long_name": "model runs per condition"}),
        "run": ("run", np.arange(values.shape[-1])),
        "is_factor": (("model", "reaction"), np.array([[r in factors[m][1] for r in all_ids] for m in names]),
                      {"long_name": "the reaction is one of the model's sampled factors"}),
    }
    design = ("Morris trajectories (SALib), " if method == "morris" else
              "Saltelli scheme on a scrambled Sobol' sequence (SALib), first and total order, ") + \
        "log-uniform within each documented range"
    return xr.Dataset(data, coords=coords, attrs={
        "method": method, "metric": info["metric"], "metric_units": unit, "scale": info["scale"],
        "seed": info["seed"], "conf_level": info["conf_level"], "n_bootstrap": info["n_bootstrap"],
        "num_levels": info["num_levels"] if method == "morris" else 0, "design": design,
        "include_factors": int(info["include_factors"]), "t_end_s": info["t_end_s"], "dose_M": info["dose_M"],
        "failed_cells": info["failed"], "wall_time_s": time.perf_counter() - info["start"]})


def ranked_rows(result: xr.Dataset, model=None, condition=None) -> list[dict]:
    """Rows of one model × condition at the largest n, most influential first (mu* for Morris, ST for
    Sobol'); reactions the model lacks are left out. Defaults: the first model and condition."""
    model = str(result.model.values[0]) if model is None else model
    condition = str(result.condition.values[0]) if condition is None else condition
    cell = result.sel(model=model, condition=condition).isel(n=-1)
    names = MORRIS_VARIABLES + ("mu_star_per_ln_k",) if result.attrs["method"] == "morris" else SOBOL_VARIABLES
    key = "mu_star" if result.attrs["method"] == "morris" else "ST"
    rows = []
    for r, reaction in enumerate(map(str, cell.reaction.values)):
        if not bool(cell["is_factor"].values[r]):
            continue
        row = {name: float(cell[name].values[r]) for name in names}
        rows.append({"model": model, "condition": condition, "reaction": reaction,
                     "k_low": float(cell.k_low.values[r]), "k_high": float(cell.k_high.values[r]), **row})
    rows.sort(key=lambda row: -row[key] if math.isfinite(row[key]) else math.inf)
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows

