"""·OH metrics of a simulation result: what a chemist compares between catalysts.

``metrics(ds)`` takes a result of :func:`fentonsim.simulate` (ODE, or a stochastic
ensemble that kept its trajectories) and returns an ``xarray.Dataset`` of
scalars — one value per run for an ensemble — each with ``units`` and
``long_name``:

==========================  =====  ==========================================================
variable                    unit   meaning — and how exact (ODE; SSA below)
==========================  =====  ==========================================================
``oh_produced``             M      total ·OH made by reactions, Σ extent × (positive) stoichiometry —
                                   exact: from the fluxes integrated with the solution
``oh_exposure``             M s    ∫[·OH] dt over the run — exact: integrated with the solution
``oh_peak``                 M      highest [·OH] — dense output on the metric grid (points 12 % apart in
                                   time), refined by the parabola through the three samples around the
                                   maximum (agrees with a 4,000-point log-spaced solution to 1e-4)
``t_oh_peak``               s      when it occurred (as ``oh_peak``); on a flat quasi-steady plateau (iron:
                                   constant to 1e-4 from 0.1 µs to 0.1 ms) the time is ill-conditioned
``oh_steady``               M      mean [·OH] over the second half of the run (the quasi-steady level) —
                                   exact: difference of the integrated exposure at t_end and t_end/2
``h2o2_consumed``           M      gross H2O2 (peroxide pool) consumed by reactions — exact (fluxes)
``oh_per_h2o2``             1      ``oh_produced / h2o2_consumed`` (·OH yield per H2O2 used) — exact
``oh_per_metal``            1      ``oh_produced / dose`` (turnovers per metal ion; only with ``dose``) — exact
``gsh_depleted``            M      glutathione pool at the start minus at the end (with GSH) — exact
``oh_escaping_gsh``         M      ·OH consumed by anything but GSH (what probes and targets can see;
                                   with GSH) — GSH scavenging is what "GSH depletion boosts ·OH" is
                                   about — exact (fluxes)
``t_half_h2o2``             s      first time the peroxide pool falls to half its start (NaN: never) —
                                   crossing of the dense output on the metric grid, located by a cubic
                                   through the four samples around it (≪ 1 % of the time)
``o2_consumed``             M      O2 used by the chemistry, net (consumed minus produced by reactions other
                                   than the supply exchange) — exact (fluxes); with O2 integrated
``o2_supplied``             M      net O2 the supply delivered (exchange reactions: those that change
                                   nothing but O2) — exact (fluxes); with O2 integrated
``o2_min``                  M      lowest [O2] of the run (how close the chemistry came to anoxia) — on
                                   the metric grid (ODE) or the output samples (SSA)
``probe_<read-out>``        M      probe product at the end when its probe was dosed —
                                   exact: ``probe_hydroxyterephthalate`` (HTA-2), ``probe_DMPO_OH``,
                                   ``probe_methylene_blue_OH``, ``probe_TMB_oxidised``
==========================  =====  ==========================================================

None of the ODE metrics depends on the output sampling (``n_points``, ``t_eval`` between its
first and last time). The curve metrics use the *metric grid* of the result
(``metric_time``, ``metric_concentration``, ``metric_exposure``; fentonsim.deterministic):
the integrator's own dense output (order 4 for RODAS5P) evaluated at the first and last output
time, at t_end/2 and on a geometric grid of 20 points per decade from 10⁻¹² of the span (and after
each input time), which is fixed by the span and the inputs alone. The step sequence does not
depend on the output times, so a run gives the same metrics at 61 or 3,601 output points, and
a sweep point (fentonsim.sweep, the same grid in the batched kernel) the same as
:func:`fentonsim.simulate`. A result without a metric grid (written by an older version) falls
back to the output samples with linear interpolation. The metrics Dataset's attribute
``curve_metrics_basis`` says which: "dense output on the metric grid" or "output samples
(linear interpolation)" (always the latter for ensembles).

For stochastic ensembles everything but the event counts comes from the output samples:
``oh_produced``, ``h2o2_consumed``, ``oh_per_h2o2``, ``oh_per_metal`` and
``oh_escaping_gsh`` count every event and are exact; ``t_half_h2o2`` is the first crossing
between output samples (linear interpolation, so resolved only to the output spacing: use
enough ``n_points``), and ``gsh_depleted`` and the probes are the counts at the first and last
output time. The [·OH]-curve metrics (``oh_exposure``, ``oh_peak``, ``t_oh_peak``,
``oh_steady``) are NaN: trajectories are recorded at output times only, between which a
radical living nanoseconds comes and goes unseen.

``summarize`` turns per-run metrics into mean and a confidence interval of the
mean (Student t).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from .errors import ConditionsError
from .results import species_molecules_per_molar

HYDROXYL, PEROXIDE, GLUTATHIONE, OXYGEN = "hydroxyl", "peroxide", "glutathione", "O2"
#: Probe read-outs: product species → (precursor, metric name). A probe counts when its precursor was dosed.
PROBES = {"HTA-2": ("TA-2", "probe_hydroxyterephthalate"), "DMPO-OH": ("DMPO", "probe_DMPO_OH"),
          "MBOH*+": ("MB+", "probe_methylene_blue_OH"), "TMB*+": ("TMB", "probe_TMB_oxidised")}
#: Metrics that need [·OH] between events; a stochastic run only has it at output times, where a radical that
#: lives nanoseconds is almost never seen, so these are NaN for ensembles (oh_produced is exact there).
CONTINUOUS_ONLY = ("oh_exposure", "oh_peak", "t_oh_peak", "oh_steady")
#: The ``curve_metrics_basis`` attribute of a metrics Dataset: where t½, the peak and the window means came from.
DENSE_BASIS = "dense output on the metric grid"
SAMPLED_BASIS = "output samples (linear interpolation)"

DESCRIPTIONS = {
    "oh_produced": ("M", "total ·OH produced"),
    "oh_exposure": ("M s", "·OH exposure ∫[·OH]dt"),
    "oh_peak": ("M", "peak [·OH]"),
    "t_oh_peak": ("s", "time of peak [·OH]"),
    "oh_steady": ("M", "mean [·OH] over the second half"),
    "h2o2_consumed": ("M", "H2O2 consumed"),
    "oh_per_h2o2": ("1", "·OH per H2O2 consumed"),
    "oh_per_metal": ("1", "·OH per metal ion"),
    "gsh_depleted": ("M", "GSH depleted"),
    "oh_escaping_gsh": ("M", "·OH escaping GSH"),
    "t_half_h2o2": ("s", "time to consume half the H2O2"),
    "o2_consumed": ("M", "O2 consumed by the chemistry"),
    "o2_supplied": ("M", "O2 supplied"),
    "o2_min": ("M", "lowest O2"),
}


def _first_crossing(time, values, level, refine=False):
    """First time ``values`` falls to ``level``, NaN if never: between the two samples that bracket it,
    linearly, or with ``refine`` (samples of a smooth solution) where the cubic through the four samples
    around the bracket (fewer at the ends) meets the level."""
    below = np.flatnonzero(values <= level)
    if below.size == 0:
        return np.nan
    i = below[0]
    if i == 0:
        return float(time[0])
    t0, t1, v0, v1 = float(time[i - 1]), float(time[i]), float(values[i - 1]), float(values[i])
    linear = (v0 - level) / (v0 - v1)
    if not refine or time.size < 3:
        return t0 + (t1 - t0) * linear
    lo, hi = max(i - 2, 0), min(i + 2, time.size)
    # Scalar arithmetic throughout: a sweep locates thousands of these, and numpy's fitting costs 60 µs each.
    x = [(float(t) - t0) / (t1 - t0) for t in time[lo:hi]]  # the bracket is [0, 1]
    z = _bracketed_root(x, [float(v) - level for v in values[lo:hi]], linear)
    return t0 + (t1 - t0) * z


def _bracketed_root(x, f, guess):
    """A root in [0, 1] of the polynomial through (x_k, f_k), which has f > 0 at x = 0 and f ≤ 0 at x = 1
    (both among the nodes): Newton's method kept inside the shrinking bracket by bisection."""
    m = len(x)
    c = list(f)  # Newton's divided differences
    for j in range(1, m):
        for k in range(m - 1, j - 1, -1):
            c[k] = (c[k] - c[k - 1]) / (x[k] - x[k - j])
    lo, hi, z = 0.0, 1.0, min(max(guess, 0.0), 1.0)
    for _ in range(60):
        value, slope = c[m - 1], 0.0
        for k in range(m - 2, -1, -1):
            slope = slope * (z - x[k]) + value
            value = value * (z - x[k]) + c[k]
        if value > 0.0:
            lo = z
        else:
            hi = z
        if value == 0.0 or hi - lo <= 1e-13:
            break
        step = z - value / slope if slope != 0.0 else -1.0
        z = step if lo < step < hi else 0.5 * (lo + hi)
    return z


def _peak(time, values, refine=False):
    """(time, value) of the largest sample; with ``refine``, of the vertex of the parabola through it and its
    neighbours when that lies between them (samples of a smooth solution)."""
    i = int(np.argmax(values))
    t_peak, peak = float(time[i]), float(values[i])
    if not refine or i == 0 or i == values.size - 1:
        return t_peak, peak
    t0, t2, v0, v2 = float(time[i - 1]), float(time[i + 1]), float(values[i - 1]), float(values[i + 1])
    # Only between neighbours of comparable spacing (not across the gap from t0 to the first geometric point).
    if not (v0 < peak and v2 < peak and 0.25 <= (t2 - t_peak) / (t_peak - t0) <= 4.0):
        return t_peak, peak
    d1, d2 = (peak - v0) / (t_peak - t0), (v2 - peak) / (t2 - t_peak)
    curvature = (d2 - d1) / (t2 - t0)  # p(t) = v0 + d1·(t − t0) + curvature·(t − t0)(t − t_peak)
    if not curvature < 0.0:
        return t_peak, peak
    vertex = 0.5 * (t0 + t_peak) - d1 / (2.0 * curvature)
    if not t0 < vertex < t2:
        return t_peak, peak
    return vertex, max(v0 + d1 * (vertex - t0) + curvature * (vertex - t0) * (vertex - t_peak), peak)


def _trapezoid(time, values):
    return np.trapezoid(values, time, axis=-1) if hasattr(np, "trapezoid") else np.trapz(values, time, axis=-1)


def _per_trajectory(time, conc, produced, consumed, oh, h2o2, gsh, probes, exposure=None, oh_to_gsh=None,
                    refine=False, oxygen=None):
    """Metrics of one trajectory: conc (n_out, n_s) [M]; produced/consumed (n_s,) [M]; probes name → index;
    oh_to_gsh [M] ·OH consumed by reactions that also consume GSH; ``oxygen``: (O2 index, O2 consumed by
    the chemistry [M], O2 supplied [M]) when O2 is integrated; ``refine``: time/conc/exposure are the
    metric grid of a continuous solution (crossings and the peak are interpolated, not read off samples)."""
    c_oh = conc[:, oh]
    half = time[-1] / 2.0
    if exposure is not None:
        total_exposure = exposure[-1, oh]
        late = total_exposure - np.interp(half, time, exposure[:, oh])
    else:
        total_exposure = _trapezoid(time, c_oh)
        grid = np.union1d(time[time >= half], [half])
        late = _trapezoid(grid, np.interp(grid, time, c_oh))
    # The integrator keeps concentrations within atol of non-negative; a radical that is never made can
    # integrate to −1e-30 M s, which is round-off, not a result.
    total_exposure, late = max(total_exposure, 0.0), max(late, 0.0)
    t_peak, peak = _peak(time, c_oh, refine)
    out = {
        "oh_produced": produced[oh],
        "oh_exposure": total_exposure,
        "oh_peak": max(peak, 0.0),
        "t_oh_peak": t_peak,
        "oh_steady": late / (time[-1] - half),
        "h2o2_consumed": consumed[h2o2],
        "oh_per_h2o2": produced[oh] / consumed[h2o2] if consumed[h2o2] > 0 else np.nan,
        "t_half_h2o2": (_first_crossing(time, conc[:, h2o2], 0.5 * conc[0, h2o2], refine) if conc[0, h2o2] > 0
                        else np.nan),
    }
    if gsh is not None:
        out["gsh_depleted"] = conc[0, gsh] - conc[-1, gsh]
        out["oh_escaping_gsh"] = consumed[oh] - oh_to_gsh
    if oxygen is not None:
        o2, o2_consumed, o2_supplied = oxygen
        out["o2_consumed"], out["o2_supplied"], out["o2_min"] = o2_consumed, o2_supplied, float(np.min(conc[:, o2]))
    for name, index in probes.items():
        out[name] = conc[-1, index]
    return out


class _Layout:
    """Where the metrics' species sit in a network's state, and which reactions make, use and scavenge ·OH."""

    def __init__(self, species, net_stoich, first_concentration):
        names = list(species)
        self.oh = _index(names, HYDROXYL)
        self.h2o2 = _index(names, PEROXIDE)
        self.gsh = names.index(GLUTATHIONE) if GLUTATHIONE in names else None
        self.probes = {PROBES[p][1]: names.index(p) for p in PROBES
                       if p in names and PROBES[p][0] in names and first_concentration[names.index(PROBES[p][0])] > 0}
        stoich = np.asarray(net_stoich, dtype=float)
        self.making, self.using = np.clip(stoich, 0, None), np.clip(-stoich, 0, None)
        # ·OH taken by a reaction that also takes GSH is scavenged: those reactions' ·OH use, per extent.
        self.scavenging = (self.using[:, self.oh] * (self.using[:, self.gsh] > 0) if self.gsh is not None
                           else np.zeros(stoich.shape[0]))
        # O2 supply: reactions that change nothing but O2 (a preset's gas or tissue exchange) against the chemistry.
        self.o2 = names.index(OXYGEN) if OXYGEN in names else None
        if self.o2 is not None:
            others = np.delete(stoich, self.o2, axis=1)
            exchange = (stoich[:, self.o2] != 0) & ~np.any(others != 0, axis=1)
            self.o2_chemistry = np.where(exchange, 0.0, -stoich[:, self.o2])
            self.o2_exchange = np.where(exchange, stoich[:, self.o2], 0.0)

    def row(self, time, conc, extent_or_events, exposure=None, scale=1.0, refine=False):
        """Metrics of one trajectory from its final extents (or event counts / ``scale`` = N_A·V)."""
        total = np.asarray(extent_or_events, dtype=float) / scale
        oxygen = (None if self.o2 is None else
                  (self.o2, float(total @ self.o2_chemistry), float(total @ self.o2_exchange)))
        return _per_trajectory(time, conc, total @ self.making, total @ self.using, self.oh, self.h2o2, self.gsh,
                               self.probes, exposure=exposure, oh_to_gsh=total @ self.scavenging, refine=refine,
                               oxygen=oxygen)


def _events_per_extent(ds):
    """Events per M of extent of each reaction of ensemble ``ds``: N_A·V of the compartment whose species it
    changes (every reaction changes species of one compartment, fentonsim.compartments); N_A·V for one volume."""
    nv = species_molecules_per_molar(ds)
    if np.all(nv == nv[0]):
        return float(nv[0])
    changed = ds["net_stoich"].values != 0
    return np.array([nv[np.flatnonzero(row)[0]] if row.any() else 1.0 for row in changed])


def _index(names, name):
    if name not in names:
        raise ConditionsError(f"the result has no `{name}` (species: {', '.join(names)}); ·OH metrics need the "
                              "ROS core (ros_core.yaml) in the model")
    return names.index(name)


def _round_off_to_zero(data, atol):
    # Amounts below the absolute tolerance are integration round-off (±1e-26 M of a radical that was never
    # made), not results: report them as 0.
    floor = float(np.min(np.atleast_1d(atol)))
    for name, values in data.items():
        if DESCRIPTIONS.get(name, ("M",))[0] in ("M", "M s"):
            values[np.abs(values) < floor] = 0.0


def ode_metrics(species, net_stoich, time, concentration, extent, exposure, atol, dose=None,
                metric_time=None, metric_concentration=None, metric_exposure=None) -> dict:
    """Metrics of ODE runs from arrays: concentration and exposure (n_c, n_out, n_s), extent (n_c, n_out, n_r);
    and, when the solver evaluated it, the metric grid: metric_time (n_m,), metric_concentration and
    metric_exposure (n_c, n_m, n_s) (fentonsim.deterministic), which the curve metrics then use.

    Returns name → array (n_c,), as :func:`metrics` would give for each run (used by sweeps, which pass the
    batch's metric grid: a sweep point reports what simulate() reports).
    """
    refine = metric_time is not None and metric_concentration is not None and metric_exposure is not None
    if refine:
        time, concentration, exposure = metric_time, metric_concentration, metric_exposure
    # Probes count when any condition doses them, so every condition reports the same variables.
    layout = _Layout(species, net_stoich, np.nanmax(concentration[:, 0], axis=0))
    rows = [layout.row(time, concentration[c], extent[c, -1], exposure=exposure[c], refine=refine)
            if np.all(np.isfinite(concentration[c])) else None for c in range(concentration.shape[0])]
    template = next((r for r in rows if r is not None), None)
    if template is None:
        return {}
    data = {name: np.array([np.nan if r is None else r[name] for r in rows], dtype=float) for name in template}
    _round_off_to_zero(data, atol)
    if dose is not None:
        data["oh_per_metal"] = data["oh_produced"] / dose
    return data


def metrics(ds: xr.Dataset, dose=None) -> xr.Dataset:
    """·OH metrics of a result (table in the module docstring).

    Parameters
    ----------
    ds : xarray.Dataset
        A result of ``fentonsim.simulate``: an ODE run with fluxes (the default), or a
        stochastic ensemble with its trajectories (``stats=False``).
    dose : float, optional
        Metal dose [M] for ``oh_per_metal``.

    Returns
    -------
    xarray.Dataset
        Scalar variables, or variables over ``run`` for an ensemble.

    Raises
    ------
    ConditionsError
        For a result without the fluxes or trajectories the metrics need, or without ·OH.
    """
    if dose is not None and not dose > 0:
        raise ConditionsError(f"`dose` must be a positive concentration in M, found {dose!r}")
    species, time = list(ds["species"].values), ds["time"].values
    ensemble = ds.attrs.get("method") != "ode"
    if not ensemble:
        if "extent" not in ds:
            raise ConditionsError("metrics need the integrated fluxes: simulate with fluxes=True (the default)")
        dense = ({"metric_time": ds["metric_time"].values,
                  "metric_concentration": ds["metric_concentration"].values[None],
                  "metric_exposure": ds["metric_exposure"].values[None]}
                 if "metric_concentration" in ds and "metric_exposure" in ds else {})
        data = ode_metrics(species, ds["net_stoich"].values, time, ds["concentration"].values[None],
                           ds["extent"].values[None], ds["exposure"].values[None], ds.attrs.get("atol", 0.0), dose,
                           **dense)
        complete = None
        basis = DENSE_BASIS if dense else SAMPLED_BASIS
    else:
        if "events" not in ds:
            raise ConditionsError("metrics of an ensemble need its trajectories: simulate with stats=False "
                                  "(streaming statistics keep only means)")
        complete = np.flatnonzero(ds["status"].values == 0)
        if complete.size == 0:
            raise ConditionsError("no run of the ensemble completed; metrics need complete runs")
        conc = ds["concentration"].values
        layout = _Layout(species, ds["net_stoich"].values, np.nanmax(conc[:, 0, :], axis=0))
        nv = _events_per_extent(ds)
        rows = [layout.row(time, conc[r], ds["events"].values[r], scale=nv) for r in complete]
        data = {name: np.array([row[name] for row in rows], dtype=float) for name in rows[0]}
        basis = SAMPLED_BASIS
        for name in CONTINUOUS_ONLY:
            data[name] = np.full_like(data[name], np.nan)
        if dose is not None:
            data["oh_per_metal"] = data["oh_produced"] / dose
    variables = {}
    for name, values in data.items():
        unit, long_name = describe(name)
        variables[name] = (("run",), values, {"units": unit, "long_name": long_name}) if ensemble else \
            ((), values[0], {"units": unit, "long_name": long_name})
    coords = {"run": ("run", ds["run"].values[complete])} if ensemble else {}
    return xr.Dataset(variables, coords=coords, attrs={"mechanism": ds.attrs.get("mechanism", ""),
                                                      "pH": ds.attrs.get("pH"),
                                                      "method": ds.attrs.get("method", ""),
                                                      "curve_metrics_basis": basis})


def describe(name: str) -> tuple[str, str]:
    """(units, long name) of a metric."""
    return DESCRIPTIONS.get(name, ("M", name[6:].replace("_", " ") + " formed (probe read-out)"))


def summarize(values: xr.Dataset, confidence: float = 0.95) -> xr.Dataset:
    """Mean and confidence interval of per-run metrics.

    Returns a Dataset with the same variables over a ``statistic`` dimension
    (``mean``, ``ci_low``, ``ci_high``): the Student-t interval of the mean over
    runs. A result without runs (ODE) gives the value three times.
    """
    if not 0 < confidence < 1:
        raise ConditionsError(f"`confidence` must be between 0 and 1, found {confidence!r}")
    from scipy import stats

    out = {}
    for name, da in values.data_vars.items():
        if "run" in da.dims and da.sizes["run"] > 1:
            x = da.values[np.isfinite(da.values)]
            mean = float(np.mean(x)) if x.size else np.nan
            half = (float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * np.std(x, ddof=1) / np.sqrt(x.size))
                    if x.size > 1 else np.nan)
            triple = [mean, mean - half, mean + half]
        else:
            v = float(da.values.reshape(-1)[0])
            triple = [v, v, v]
        out[name] = (("statistic",), np.array(triple), dict(da.attrs))
    return xr.Dataset(out, coords={"statistic": ["mean", "ci_low", "ci_high"]},
                      attrs={**values.attrs, "confidence": confidence})
