"""``fentonsim.fit``: least squares over several experiments, multi-start, Fisher-information intervals.

Each start runs scipy's trust-region-reflective ``least_squares`` within the bounds, with the exact
Jacobian of fentonsim.fitting.objective (forward sensitivities, chain rule through the observables). Start 0
is the model's own constants (or the given ``start`` values); starts 1… are a seeded Latin hypercube over
the bounds in the fitted scale (log-uniform for ln k and ln c0). The best start is kept.

Confidence intervals come from the Fisher information at the optimum in the fitted scale:
Cov = s²·(JᵀJ)⁻¹ (pseudo-inverse), with s² = Σ r²_data/(n − p) and Student-t quantiles when the noise is
unknown (no observable has a ``sigma``), or s² = 1 and normal quantiles when every observable has its
``sigma`` (a mix is refused). Intervals of ln θ map to asymmetric intervals of θ. They are local
(linearised) intervals; :func:`profile` gives the profile-likelihood interval of one parameter.

Identifiability warnings (:class:`IdentifiabilityWarning`, also in ``FitResult.warnings``): a
near-singular information matrix (smallest/largest eigenvalue below 1e-10: a direction the data do not
see), a parameter whose interval spans more than a factor of 10 either way (ln scale) or is wider than its
bounds (linear scale), a correlation beyond ±0.95, an estimate on a bound. When the best start did not
converge (``least_squares`` success False, e.g. its evaluation budget ran out) a :class:`ConvergenceWarning`
says the intervals are not valid; it is the first of ``FitResult.warnings``.
"""
from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import numpy as np

from ..errors import ConditionsError, SolverError
from ..problem import resolve_mechanism, resolve_model
from .objective import Objective
from .priors import literature, prior_of
from .result import FitResult
from .spec import FitSpec, read_spec

#: Thresholds of the identifiability warnings (module docstring).
EIGEN_RATIO = 1e-10
LOG_WIDTH = math.log(10.0)
CORRELATION = 0.95
DEFAULT_TOLERANCE = 1e-10


class IdentifiabilityWarning(UserWarning):
    """The data do not determine a fitted parameter (or a combination of them) well."""


class ConvergenceWarning(UserWarning):
    """The optimiser stopped before converging (e.g. its evaluation budget ran out): the estimates are not an
    optimum and their intervals are not valid."""


def _form_notes(spec, network) -> list[str]:
    """A note per observable entry that names one form of a speciation pool: the pool's total is what is
    observed (fentonsim.fitting.spec)."""
    notes = []
    for name, observable in spec.observables.items():
        for species, _ in observable.species:
            pool = network.pool_of_form.get(species)
            if pool is not None and pool != species:
                notes.append(f"observable `{name}` names `{species}`, a form of the pool `{pool}`: the pool's "
                             f"total is used (name `{pool}` to say so)")
    return notes


def _mechanism(spec):
    if isinstance(spec.model, (str, Path, list, tuple)):
        return resolve_mechanism(spec.model, spec.parameter_set)
    return getattr(spec.model, "reactions", None) and spec.model


def _priors(objective, mechanism):
    priors, missing = {}, []
    for j, f in enumerate(objective.free):
        if f.kind != "rate":
            continue
        prior = prior_of(mechanism.reaction(f.target)) if mechanism is not None else None
        if prior is None or not f.log:
            missing.append(f.name)
            continue
        priors[j] = prior
    return priors, missing


def _starts(objective, n, seed):
    import scipy.stats.qmc
    lower, upper = objective.bounds_x()
    x0 = objective.start_x()
    starts = [x0]
    if n > 1:
        finite = np.isfinite(lower) & np.isfinite(upper)
        sampler = scipy.stats.qmc.LatinHypercube(d=len(x0), seed=np.random.default_rng(seed))
        unit = sampler.random(n - 1)
        for u in unit:
            x = x0.copy()
            x[finite] = lower[finite] + u[finite] * (upper[finite] - lower[finite])
            starts.append(x)
    return starts


def load_spec(path) -> FitSpec:
    """A FitSpec from a fentonsim fit specification (``kind: fit``) or a PEtab v1 problem file
    (``format_version: 1``; fentonsim.fitting.petab)."""
    from ..mechanism.yamlio import read_mapping
    from .petab import read_petab

    return read_petab(path) if "format_version" in read_mapping(Path(path)) else read_spec(path)


def fit(spec, *, starts=1, seed=0, priors=None, max_nfev=200, tolerance=DEFAULT_TOLERANCE, confidence=0.95,
        atol=None, curve_points=200) -> FitResult:
    """Fit the constants of ``spec`` to its experiments (module docstring).

    Parameters
    ----------
    spec : FitSpec, str or Path
        A :class:`fentonsim.fitting.FitSpec`, a fit specification file (fentonsim.fitting.spec) or a PEtab v1
        problem file (fentonsim.fitting.petab).
    starts : int, default 1
        Optimisations: the model's constants, then seeded Latin-hypercube points within the bounds.
    seed : int
        Seed of the Latin hypercube.
    priors : bool, optional
        Gaussian priors on ln k from the documented uncertainties (fentonsim.fitting.priors); default: the
        spec's ``priors``.
    max_nfev : int
        Residual evaluations per start.
    tolerance : float
        ``ftol``, ``xtol`` and ``gtol`` of least_squares.
    confidence : float
        Level of the intervals (0.95: 95 %).
    atol : float, optional
        Absolute tolerance [M] of the integrations (default: fentonsim.simulate's).
    curve_points : int
        Points of each experiment's fitted curve in the result.

    Returns
    -------
    FitResult
    """
    import scipy.optimize  # here, not at import: scipy.stats alone is a third of a second on `import fentonsim`
    import scipy.stats

    if isinstance(spec, (str, Path)):
        spec = load_spec(spec)
    if not isinstance(spec, FitSpec):
        raise ConditionsError(f"`spec` must be a FitSpec or a fit specification file, found {spec!r}")
    if isinstance(starts, bool) or not isinstance(starts, (int, np.integer)) or starts < 1:
        raise ConditionsError(f"`starts` must be a positive integer, found {starts!r}")
    if not 0 < confidence < 1:
        raise ConditionsError(f"`confidence` must be between 0 and 1, found {confidence!r}")
    clock = time.perf_counter()
    network = resolve_model(spec.model, spec.parameter_set)
    mechanism = _mechanism(spec)
    objective = Objective(spec, network, atol=atol)
    notes = _form_notes(spec, network)
    notes += [f"the start of `{name}` (the model's value) lies outside its bounds; it started on the nearest "
              "bound" for name in objective.clipped]
    use_priors = spec.priors if priors is None else priors
    if use_priors:
        if mechanism is None:
            raise ConditionsError("priors need the model's mechanism (a file or Mechanism), not a compiled Network")
        if not objective.sigma_known:
            raise ConditionsError("priors need `sigma` for every observable: without the noise level the weight "
                                  "of the data against the documented uncertainties is arbitrary")
        objective.priors, missing = _priors(objective, mechanism)
        objective._prior_index = sorted(objective.priors)
        if missing:
            notes.append(f"no documented uncertainty, so no prior: {', '.join(missing)}")
    lower, upper = objective.bounds_x()
    runs = []
    for x0 in _starts(objective, int(starts), seed):
        before = objective.n_evaluations
        solution = scipy.optimize.least_squares(objective.residuals, x0, jac=objective.jacobian,
                                                bounds=(lower, upper), method="trf", ftol=tolerance, xtol=tolerance,
                                                gtol=tolerance, max_nfev=max_nfev, x_scale="jac")
        runs.append((solution, x0, objective.n_evaluations - before))
    costs = np.array([r[0].cost for r in runs])
    best, x0_best, _ = runs[int(np.argmin(costs))]
    x = best.x
    residuals, jac, model = objective.evaluate(x)
    if np.isnan(model).any():
        raise SolverError(f"the model could not be integrated at any of the {len(runs)} start(s) or at the best "
                          "parameters found; tighten the bounds or give better starting values")
    p = len(objective.free)
    n = objective.n_data
    data_r = residuals[:n]
    dof = n - p
    if objective.sigma_known:
        variance, quantile = 1.0, scipy.stats.norm.ppf(0.5 + confidence / 2)
    else:
        if dof <= 0:
            raise ConditionsError(f"{n} measured values cannot fit {p} parameters with an unknown noise level; "
                                  "give `sigma` for every observable or measure more points")
        variance = float(data_r @ data_r) / dof
        quantile = scipy.stats.t.ppf(0.5 + confidence / 2, dof)
    # Known noise (always so with priors): Cov = (JᵀJ)⁻¹; estimated noise: Cov = s²·(JᵀJ)⁻¹.
    information = jac.T @ jac / variance
    covariance, se, singular = _covariance(information)
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = covariance / np.outer(np.sqrt(np.diag(covariance)), np.sqrt(np.diag(covariance)))
    theta = objective.from_x(x)
    half = quantile * se
    low_x, high_x = x - half, x + half
    ci_low = np.array([math.exp(v) if f.log else v for f, v in zip(objective.free, low_x)])
    ci_high = np.array([math.exp(v) if f.log and v < 700 else (math.inf if f.log else v)
                        for f, v in zip(objective.free, high_x)])
    if not best.success:
        stopped = (f"the optimiser stopped before converging ({str(best.message).rstrip('.')}): the estimates are "
                   "not an optimum and their intervals are not valid; give starts nearer the optimum or allow "
                   "more evaluations (max_nfev)")
        warnings.warn(stopped, ConvergenceWarning, stacklevel=2)
    messages = _identifiability(objective, x, se, quantile, correlation, singular, lower, upper)
    for message in messages:
        warnings.warn(message, IdentifiabilityWarning, stacklevel=2)
    if not best.success:
        messages.insert(0, stopped)
    literature_values = np.array([
        literature(mechanism, f.target) if f.kind == "rate" else
        (objective.experiments[f.experiment or 0].initial.get(f.target, math.nan) if f.kind == "initial" else math.nan)
        for f in objective.free])
    curves = _curves(objective, theta, model, curve_points)
    return FitResult(
        parameters=tuple(objective.names), kinds=tuple(f.kind for f in objective.free),
        log=tuple(f.log for f in objective.free), estimate=theta, x=x, standard_error=se, ci_low=ci_low,
        ci_high=ci_high, confidence=confidence, correlation=correlation, covariance=covariance,
        literature=literature_values, lower=np.array([f.lower for f in objective.free]),
        upper=np.array([f.upper for f in objective.free]), cost=float(best.cost), residuals=data_r,
        n_data=n, dof=dof, residual_variance=variance, sigma_known=objective.sigma_known,
        n_evaluations=objective.n_evaluations, n_failures=objective.n_failures,
        start_costs=costs, success=bool(best.success), message=str(best.message), warnings=tuple(messages),
        notes=tuple(notes), curves=curves, wall_time_s=time.perf_counter() - clock, spec=spec,
        objective=objective, network_name=network.name)


def _covariance(information):
    """(covariance, standard errors, singular?) from the Fisher information, judged and inverted on its
    unit-diagonal scaling: entries of very different units (ln k next to an offset in M) must not make a
    well-determined problem look singular. An entry the data do not touch, or one in a null direction of the
    scaled information (eigenvalue ≤ EIGEN_RATIO), has an infinite standard error."""
    diagonal = np.diag(information).copy()
    seen = diagonal > 0
    scale = np.where(seen, 1.0 / np.sqrt(np.where(seen, diagonal, 1.0)), 0.0)
    scaled = information * np.outer(scale, scale)
    values, vectors = np.linalg.eigh(scaled[np.ix_(seen, seen)])
    null = vectors[:, values <= EIGEN_RATIO * max(values[-1], 0.0)] if values.size else np.zeros((0, 0))
    covariance = np.outer(scale, scale) * np.linalg.pinv(scaled, rcond=EIGEN_RATIO, hermitian=True)
    se = np.sqrt(np.clip(np.diag(covariance), 0, None))
    unseen = ~seen
    if null.size:
        unseen[np.flatnonzero(seen)[np.abs(null).max(axis=1) > 1e-3]] = True
    se = np.where(unseen, np.inf, se)
    return covariance, se, bool(unseen.any())


def _identifiability(objective, x, se, quantile, correlation, singular, lower, upper):
    messages = []
    names = objective.names
    if singular:
        messages.append("the Fisher information is (near) singular: the data do not determine every fitted "
                        "parameter; the intervals of those marked inf are unbounded")
    for j, f in enumerate(objective.free):
        if not np.isfinite(se[j]):
            continue
        if f.log and quantile * se[j] > LOG_WIDTH:
            messages.append(f"`{f.name}` is poorly identified: its interval spans more than a factor of 10 "
                            f"either way (sd of ln θ {se[j]:.2g})")
        elif not f.log and quantile * se[j] > 0.5 * (upper[j] - lower[j]):
            messages.append(f"`{f.name}` is poorly identified: its interval is wider than its allowed range")
        span = upper[j] - lower[j]
        if np.isfinite(span) and (x[j] - lower[j] < 1e-6 * span or upper[j] - x[j] < 1e-6 * span):
            messages.append(f"`{f.name}` ended on a bound of its range; its interval is not meaningful")
    p = len(names)
    for a in range(p):
        for b in range(a + 1, p):
            if np.isfinite(correlation[a, b]) and abs(correlation[a, b]) > CORRELATION:
                messages.append(f"`{names[a]}` and `{names[b]}` are correlated ({correlation[a, b]:+.3f}): the "
                                "data determine a combination of them better than each")
    return messages


def _curves(objective, theta, model, points):
    """Per experiment: the measured values with the fitted ones and a smooth fitted curve."""
    curves = []
    start = 0
    rows = objective.rows()
    for e, experiment in enumerate(objective.experiments):
        mine = [r for r in rows if r[0] == e]
        fitted = model[start:start + len(mine)]
        start += len(mine)
        t_end = float(np.max(experiment.time))
        grid = np.linspace(0.0, t_end, points)
        smooth = objective.curves(theta, e, grid)
        curves.append({"name": experiment.name, "rows": mine, "fitted": np.asarray(fitted), "time": grid,
                       "smooth": smooth})
    return curves


def profile_threshold(confidence, dof=None) -> float:
    """The Δχ² below which a profiled value lies inside the interval: χ²₁(confidence) with σ known (``dof``
    None), F(1, dof)(confidence) = t(dof)² with s² estimated from the residuals — the same quantile as the
    Fisher interval's Student t, so both intervals agree where the model is linear."""
    import scipy.stats

    if dof is None:
        return float(scipy.stats.chi2.ppf(confidence, 1))
    return float(scipy.stats.t.ppf(0.5 + confidence / 2, dof) ** 2)


def profile(result: FitResult, parameter: str, n_points=15, span=None, max_nfev=100):
    """Profile likelihood of ``parameter``: fix it on a grid in its fitted scale (± ``span``, default 4
    standard errors, clipped to the bounds), refit the others from the optimum, and report
    Δχ² = 2·(cost − cost_min)/s² and the interval where Δχ² ≤ χ²₁(confidence) (σ known) or
    F(1, n − p)(confidence) (s² estimated; :func:`profile_threshold`).

    Returns
    -------
    dict with ``value`` (natural units), ``delta_chi2``, ``threshold``, ``ci_low``, ``ci_high`` (NaN when the
    profile does not cross the threshold inside the grid: the interval is open on that side).
    """
    import scipy.optimize

    objective = result.objective
    names = list(result.parameters)
    parameter = parameter if parameter in names else f"rate:{parameter}"  # a bare reaction id
    if parameter not in names:
        raise ConditionsError(f"unknown fitted parameter `{parameter.removeprefix('rate:')}`; fitted: "
                              f"{', '.join(names)}")
    j = names.index(parameter)
    lower, upper = objective.bounds_x()
    width = span if span is not None else 4 * result.standard_error[j]
    if not np.isfinite(width) or width <= 0:
        width = 1.0
    grid = np.linspace(max(result.x[j] - width, lower[j]), min(result.x[j] + width, upper[j]), n_points)
    keep = [i for i in range(len(names)) if i != j]
    costs = np.empty(n_points)
    order = np.argsort(np.abs(grid - result.x[j]))  # outwards from the optimum, warm-starting each point
    previous = {}
    for i in order:
        def full(z, value=grid[i]):
            x = result.x.copy()
            x[keep] = z
            x[j] = value
            return x
        neighbour = min(previous, key=lambda k: abs(grid[k] - grid[i])) if previous else None
        z0 = previous[neighbour] if neighbour is not None else result.x[keep]
        if keep:
            solution = scipy.optimize.least_squares(
                lambda z: objective.residuals(full(z)), z0, jac=lambda z: objective.jacobian(full(z))[:, keep],
                bounds=(lower[keep], upper[keep]), method="trf", max_nfev=max_nfev, x_scale="jac")
            costs[i], previous[i] = solution.cost, solution.x
        else:
            costs[i] = 0.5 * float(objective.residuals(full(np.empty(0))) @ objective.residuals(full(np.empty(0))))
            previous[i] = np.empty(0)
    delta = 2.0 * (costs - result.cost) / result.residual_variance
    threshold = profile_threshold(result.confidence, None if result.sigma_known else result.dof)
    centre = int(np.argmin(np.abs(grid - result.x[j])))

    def crossing(indices):
        for a, b in zip(indices[:-1], indices[1:]):
            if delta[b] > threshold >= delta[a]:
                return grid[a] + (threshold - delta[a]) * (grid[b] - grid[a]) / (delta[b] - delta[a])
        return math.nan

    low = crossing(list(range(centre, -1, -1)))
    high = crossing(list(range(centre, n_points)))
    back = (lambda v: math.exp(v)) if result.log[j] else (lambda v: v)
    return {"parameter": parameter, "value": np.array([back(v) for v in grid]), "delta_chi2": delta,
            "threshold": threshold, "ci_low": back(low) if np.isfinite(low) else math.nan,
            "ci_high": back(high) if np.isfinite(high) else math.nan}
