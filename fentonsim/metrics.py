"""·OH metrics of a simulation result: what a chemist compares between catalysts.

``metrics(ds)`` takes a result of :func:`fentonsim.simulate` (ODE, or a stochastic
ensemble that kept its trajectories) and returns an ``xarray.Dataset`` of
scalars — one value per run for an ensemble — each with ``units`` and
``long_name``:

==========================  =====  ==========================================================
variable                    unit   meaning
==========================  =====  ==========================================================
``oh_produced``             M      total ·OH made by reactions, Σ extent × (positive) stoichiometry —
                                   exact from the integrated fluxes (ODE) or counted events (SSA)
``oh_exposure``             M s    ∫[·OH] dt over the run (ODE: integrated with the solution;
                                   SSA: trapezoid over the output times)
``oh_peak``                 M      highest [·OH] at an output time
``t_oh_peak``               s      when it occurred
``oh_steady``               M      mean [·OH] over the second half of the run (the quasi-steady level)
``h2o2_consumed``           M      gross H2O2 (peroxide pool) consumed by reactions
``oh_per_h2o2``             1      ``oh_produced / h2o2_consumed`` (·OH yield per H2O2 used)
``oh_per_metal``            1      ``oh_produced / dose`` (turnovers per metal ion; only with ``dose``)
``gsh_depleted``            M      glutathione pool at the start minus at the end (with GSH)
``oh_escaping_gsh``         M      ·OH consumed by anything but GSH (what probes and targets can see;
                                   with GSH) — GSH scavenging is what "GSH depletion boosts ·OH" is about
``t_half_h2o2``             s      first time the peroxide pool falls to half its start (NaN: never)
``probe_<read-out>``        M      probe product at the end when its probe was dosed:
                                   ``probe_hydroxyterephthalate`` (HTA-2), ``probe_DMPO_OH``,
                                   ``probe_methylene_blue_OH``, ``probe_TMB_oxidised``
==========================  =====  ==========================================================

For stochastic ensembles the [·OH]-curve metrics (``oh_exposure``, ``oh_peak``,
``t_oh_peak``, ``oh_steady``) are NaN: trajectories are recorded at output times only,
between which a radical living nanoseconds comes and goes unseen; ``oh_produced``
counts every event and is exact.

``summarize`` turns per-run metrics into mean and a confidence interval of the
mean (Student t).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from .errors import ConditionsError

HYDROXYL, PEROXIDE, GLUTATHIONE = "hydroxyl", "peroxide", "glutathione"
#: Probe read-outs: product species → (precursor, metric name). A probe counts when its precursor was dosed.
PROBES = {"HTA-2": ("TA-2", "probe_hydroxyterephthalate"), "DMPO-OH": ("DMPO", "probe_DMPO_OH"),
          "MBOH*+": ("MB+", "probe_methylene_blue_OH"), "TMB*+": ("TMB", "probe_TMB_oxidised")}
#: Metrics that need [·OH] between events; a stochastic run only has it at output times, where a radical that
#: lives nanoseconds is almost never seen, so these are NaN for ensembles (oh_produced is exact there).
CONTINUOUS_ONLY = ("oh_exposure", "oh_peak", "t_oh_peak", "oh_steady")

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
}


def _first_crossing(time, values, level):
    """First time ``values`` falls to ``level`` (linear interpolation between outputs), NaN if never."""
    below = np.flatnonzero(values <= level)
    if below.size == 0:
        return np.nan
    i = below[0]
    if i == 0:
        return float(time[0])
    t0, t1, v0, v1 = time[i - 1], time[i], values[i - 1], values[i]
    return float(t0 + (t1 - t0) * (v0 - level) / (v0 - v1))


def _trapezoid(time, values):
    return np.trapezoid(values, time, axis=-1) if hasattr(np, "trapezoid") else np.trapz(values, time, axis=-1)


def _per_trajectory(time, conc, produced, consumed, oh, h2o2, gsh, probes, exposure=None, oh_to_gsh=None):
    """Metrics of one trajectory: conc (n_out, n_s) [M]; produced/consumed (n_s,) [M]; probes name → index;
    oh_to_gsh [M] ·OH consumed by reactions that also consume GSH."""
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
    peak = int(np.argmax(c_oh))
    out = {
        "oh_produced": produced[oh],
        "oh_exposure": total_exposure,
        "oh_peak": max(c_oh[peak], 0.0),
        "t_oh_peak": time[peak],
        "oh_steady": late / (time[-1] - half),
        "h2o2_consumed": consumed[h2o2],
        "oh_per_h2o2": produced[oh] / consumed[h2o2] if consumed[h2o2] > 0 else np.nan,
        "t_half_h2o2": _first_crossing(time, conc[:, h2o2], 0.5 * conc[0, h2o2]) if conc[0, h2o2] > 0 else np.nan,
    }
    if gsh is not None:
        out["gsh_depleted"] = conc[0, gsh] - conc[-1, gsh]
        out["oh_escaping_gsh"] = consumed[oh] - oh_to_gsh
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

    def row(self, time, conc, extent_or_events, exposure=None, scale=1.0):
        """Metrics of one trajectory from its final extents (or event counts / ``scale`` = N_A·V)."""
        total = np.asarray(extent_or_events, dtype=float) / scale
        return _per_trajectory(time, conc, total @ self.making, total @ self.using, self.oh, self.h2o2, self.gsh,
                               self.probes, exposure=exposure, oh_to_gsh=total @ self.scavenging)


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


def ode_metrics(species, net_stoich, time, concentration, extent, exposure, atol, dose=None) -> dict:
    """Metrics of ODE runs from arrays: concentration and exposure (n_c, n_out, n_s), extent (n_c, n_out, n_r).

    Returns name → array (n_c,), as :func:`metrics` would give for each run (used by sweeps).
    """
    # Probes count when any condition doses them, so every condition reports the same variables.
    layout = _Layout(species, net_stoich, np.nanmax(concentration[:, 0], axis=0))
    rows = [layout.row(time, concentration[c], extent[c, -1], exposure=exposure[c])
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
        data = ode_metrics(species, ds["net_stoich"].values, time, ds["concentration"].values[None],
                           ds["extent"].values[None], ds["exposure"].values[None], ds.attrs.get("atol", 0.0), dose)
        complete = None
    else:
        if "events" not in ds:
            raise ConditionsError("metrics of an ensemble need its trajectories: simulate with stats=False "
                                  "(streaming statistics keep only means)")
        complete = np.flatnonzero(ds["status"].values == 0)
        if complete.size == 0:
            raise ConditionsError("no run of the ensemble completed; metrics need complete runs")
        conc = ds["concentration"].values
        layout = _Layout(species, ds["net_stoich"].values, np.nanmax(conc[:, 0, :], axis=0))
        nv = float(ds.attrs["molecules_per_molar"])
        rows = [layout.row(time, conc[r], ds["events"].values[r], scale=nv) for r in complete]
        data = {name: np.array([row[name] for row in rows], dtype=float) for name in rows[0]}
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
                                                      "method": ds.attrs.get("method", "")})


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
