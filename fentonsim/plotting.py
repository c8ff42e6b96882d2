"""Plots of results: functions that take a Dataset (or DataArray) and return matplotlib Axes.

Every function draws on ``ax`` if given (else a new figure), labels each axis
with its quantity and unit, titles the plot, and uses the Okabe–Ito
colour-blind-safe palette. Save with :func:`save_figure` (PNG, SVG or PDF).
Nothing here is a method on the result: results stay plain xarray objects.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .decomposition import STEPS, decomposition_rows
from .errors import ConditionsError
from .results import species_molecules_per_molar

#: Okabe & Ito (2008) colour-blind-safe palette (black last: reference lines).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FORMATS = ("png", "svg", "pdf")

#: Readable names of state variables in labels.
DISPLAY = {"hydroxyl": "·OH", "peroxide": "H₂O₂", "superoxide": "HO₂·/O₂·⁻", "glutathione": "GSH",
           "Fe(II)": "Fe(II)", "Fe(III)": "Fe(III)"}


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    return ax


def _name(species: str) -> str:
    return DISPLAY.get(species, species)


def _species_list(ds, species):
    names = list(ds["species"].values)
    chosen = names if species is None else [species] if isinstance(species, str) else list(species)
    unknown = [s for s in chosen if s not in names]
    if unknown:
        raise ConditionsError(f"species {', '.join(unknown)} not in the result; it has {', '.join(names)}")
    return chosen


def _title(ds, what):
    attrs = ds.attrs
    parts = [what, attrs.get("mechanism", "")]
    if "pH" in attrs:
        parts.append(f"pH {attrs['pH']:g}")
    if "temperature_K" in attrs:
        parts.append(f"{attrs['temperature_K'] - 273.15:.0f} °C")
    return " — ".join(p for p in parts[:2] if p) + (f" ({', '.join(parts[2:])})" if len(parts) > 2 else "")


def plot_time_course(ds, species=None, ax=None, log_time=True, log_concentration=True, run=0):
    """Concentrations against time on log axes (one line per species).

    Parameters
    ----------
    ds : xarray.Dataset
        A result of fentonsim.simulate (ODE, one run of an ensemble, or ensemble means).
    species : str or sequence of str, optional
        State variables to draw (default: all).
    log_time, log_concentration : bool
        Logarithmic axes (the first output time, usually 0, is dropped on a log time axis).
    run : int
        Which trajectory of an ensemble that kept them.
    """
    ax = _axes(ax)
    names = _species_list(ds, species)
    if "concentration" in ds:
        conc = ds["concentration"]
        if "run" in conc.dims:
            conc = conc.isel(run=run)
    elif "concentration_mean" in ds:
        conc = ds["concentration_mean"]
    else:
        raise ConditionsError("the result has no concentrations to plot")
    time = ds["time"].values
    keep = time > 0 if log_time else np.ones_like(time, dtype=bool)
    for i, name in enumerate(names):
        y = conc.sel(species=name).values[keep]
        if log_concentration:
            y = np.where(y > 0, y, np.nan)
        ax.plot(time[keep], y, color=PALETTE[i % len(PALETTE)], label=_name(name))
    ax.set_xscale("log" if log_time else "linear")
    ax.set_yscale("log" if log_concentration else "linear")
    ax.set_xlabel("time [s]")
    ax.set_ylabel("concentration [M]")
    ax.set_title(_title(ds, "Time course"))
    ax.legend(fontsize="small", ncols=2 if len(names) > 6 else 1)
    return ax


def plot_ensemble_fan(ds, species, ax=None, bands=((0.05, 0.95), (0.25, 0.75)), samples=5, count_axis=False):
    """Ensemble fan chart of one species: quantile bands, the mean and a few sample trajectories.

    Works with kept trajectories (quantiles computed here) and with streaming statistics (the
    P² quantiles the run recorded; the nearest recorded probabilities are used, and no samples).
    ``count_axis`` labels the y axis in molecules instead of M.
    """
    ax = _axes(ax)
    _species_list(ds, species)
    if "run" not in ds.dims:
        raise ConditionsError("a fan chart needs a stochastic ensemble (method='ssa', 'tau-leap' or 'auto')")
    time = ds["time"].values
    # Counts per the species' own compartment (one volume: the run's).
    scale = (float(species_molecules_per_molar(ds)[list(ds["species"].values).index(species)]) if count_axis
             else 1.0)
    if "concentration" in ds:
        traj = ds["concentration"].sel(species=species).values * scale
        mean = np.nanmean(traj, axis=0)
        quantile = lambda q: np.nanquantile(traj, q, axis=0)  # noqa: E731
    else:
        recorded = ds["quantile"].values
        table = ds["concentration_quantile"].sel(species=species).values * scale
        mean = ds["concentration_mean"].sel(species=species).values * scale
        quantile = lambda q: table[int(np.argmin(np.abs(recorded - q)))]  # noqa: E731
        traj = None
    colour = PALETTE[0]
    for (low, high), alpha in zip(bands, np.linspace(0.2, 0.45, len(bands))):
        ax.fill_between(time, quantile(low), quantile(high), color=colour, alpha=float(alpha), linewidth=0,
                        label=f"{low:.0%}–{high:.0%} of runs")
    if traj is not None:
        for r in range(min(samples, traj.shape[0])):
            ax.plot(time, traj[r], color=PALETTE[1], linewidth=0.7, alpha=0.8,
                    label="sample runs" if r == 0 else None)
    ax.plot(time, mean, color=PALETTE[7], linewidth=1.5, label="mean")
    ax.set_xlabel("time [s]")
    ax.set_ylabel(f"{_name(species)} [{'molecules' if count_axis else 'M'}]")
    ax.set_title(_title(ds, f"Ensemble of {ds.sizes['run']} runs: {_name(species)}"))
    ax.legend(fontsize="small")
    return ax


def plot_comparison(result, metric="oh_produced", ax=None, log=None):
    """Grouped bars of a metric: catalysts on the x axis, one bar per condition, CI error bars for ensembles.

    ``result`` is a Dataset from :func:`fentonsim.compare.compare`; error bars span its 5–95 % band over the
    rate-constant uncertainty (``range_<metric>``) when present, and black diamonds mark the value with each
    catalyst's alternative oxidant parameter set (``alternative_<metric>``). Each bar is labelled with its value;
    ``log`` (default: when positive values span more than a factor 100) uses a logarithmic axis.
    """
    ax = _axes(ax)
    if metric not in result:
        raise ConditionsError(f"unknown metric `{metric}`; available: {', '.join(result.data_vars)}")
    values = result[metric]
    n_cat, n_cond = result.sizes["catalyst"], result.sizes["condition"]
    width = 0.8 / n_cond
    x = np.arange(n_cat)
    drawn = []
    for j in range(n_cond):
        v = values.values[:, j]
        height = v[:, 0] if v.ndim == 2 else v
        errors = None
        if v.ndim == 2:
            errors = np.vstack([height - v[:, 1], v[:, 2] - height])
        elif f"range_{metric}" in result:
            band = result[f"range_{metric}"].values[:, j]  # (catalyst, quantile 5/50/95 %)
            errors = np.clip(np.vstack([height - band[:, 0], band[:, -1] - height]), 0.0, None)
            errors = np.where(np.isfinite(errors), errors, 0.0)
        label = f"{result['condition'].values[j]} (pH {result['pH'].values[j]:g})"
        positions = x + (j - (n_cond - 1) / 2) * width
        bars = ax.bar(positions, height, width, yerr=errors, capsize=3, color=PALETTE[j % len(PALETTE)],
                      label=label)
        ax.bar_label(bars, labels=[f"{h:.2g}" if np.isfinite(h) and h > 0 else "" for h in height],
                     fontsize="x-small", padding=2)
        drawn.append((positions, height))
        if f"alternative_{metric}" in result:
            alternative = result[f"alternative_{metric}"].values[:, j]
            shown = np.where(np.isfinite(alternative) & (alternative > 0), alternative, np.nan)
            ax.scatter(positions, shown, marker="D", s=22, color="black", zorder=3,
                       label="other oxidant (parameter set)" if j == 0 else None)
    every = values.values[..., 0] if values.ndim == 3 else values.values
    if f"alternative_{metric}" in result:
        every = np.concatenate([np.ravel(every), np.ravel(result[f"alternative_{metric}"].values)])
    positive = every[np.isfinite(every) & (every > 0)]
    if log is None:
        log = positive.size > 1 and positive.max() / positive.min() > 100
    if log and positive.size:
        ax.set_yscale("log")
        ax.set_ylim(positive.min() / 5, positive.max() * 5)
    # A zero (or missing) bar is invisible, on a log axis especially: say so at the axis floor.
    floor = ax.get_ylim()[0]
    for positions, height in drawn:
        for xpos, h in zip(positions, height):
            if not (np.isfinite(h) and h > 0):
                ax.text(xpos, floor, "0" if h == 0 else "n/a", ha="center", va="bottom", fontsize="x-small")
    ax.set_xticks(x, [str(v) for v in result["label"].values])
    ax.set_xlabel("catalyst")
    ax.set_ylabel(f"{values.attrs['long_name']} [{values.attrs['units']}]")
    dose = result.attrs.get("dose_M")
    t_end = result.attrs.get("t_end_s")
    band = (f"bars: 5–95 % over {result.attrs['uncertainty_samples']} rate-constant samples"
            if f"range_{metric}" in result and result.attrs.get("uncertainty_samples") else "")
    detail = ", ".join(p for p in (f"dose {dose * 1e6:g} µM" if dose else "",
                                   f"{t_end / 60:g} min" if t_end else "",
                                   "SSA mean, 95 % CI" if result.attrs.get("method") == "ssa" else "ODE", band) if p)
    ax.set_title(f"{values.attrs['long_name']} by catalyst\n({detail})", fontsize="medium")
    ax.legend(title="condition", fontsize="small")
    return ax


def plot_decomposition(result, metric="oh_produced", ax=None):
    """Factors by which each step from the reference to the target condition changes ``metric``
    (pH alone, H2O2, GSH, the rest; fentonsim.compare.STEPS), one group of bars per catalyst, log axis.

    A step whose metric is 0 on both sides has no factor and is marked "0 → 0"; an infinite factor
    (0 before, non-zero after) "0 → ≠0"; a factor ≤ 0 (the metric changes sign or falls to 0, which a log
    axis cannot show) is written out at the line ×1.
    """
    ax = _axes(ax)
    rows = decomposition_rows(result, metric)
    if not rows:
        raise ConditionsError(f"the result has no decomposition of `{metric}` (compare two conditions)")
    steps = [label for label, _, _ in STEPS]
    n_steps = len(steps)
    width = 0.8 / n_steps
    x = np.arange(len(rows))
    finite = [f for _, _, factors, _ in rows for f in factors if np.isfinite(f) and f > 0]
    low = min(finite + [0.5]) / 3
    high = max(finite + [2.0]) * 3
    for j, step in enumerate(steps):
        factors = np.array([r[2][j] for r in rows])
        positions = x + (j - (n_steps - 1) / 2) * width
        shown = np.where(np.isfinite(factors) & (factors > 0), factors, np.nan)
        bars = ax.bar(positions, shown - 1.0, width, bottom=1.0, color=PALETTE[j % len(PALETTE)],
                      label=step, hatch="//" if j == n_steps - 1 else None)
        ax.bar_label(bars, labels=[f"×{f:.2g}" if np.isfinite(f) and f > 0 else "" for f in factors],
                     fontsize="xx-small", padding=1)
        for xpos, f in zip(positions, factors):
            if not (np.isfinite(f) and f > 0):
                text = "0 → 0" if np.isnan(f) else ("0 → ≠0" if np.isinf(f) else f"×{f:.2g}")
                ax.text(xpos, 1.0, text, ha="center", va="bottom", fontsize="xx-small", rotation=90)
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.set_xlim(-0.5, len(rows) - 0.5)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(x, [r[0] for r in rows])
    ax.set_xlabel("catalyst")
    target, reference = result["condition"].values[:2]
    ax.set_ylabel(f"factor on {result[metric].attrs['long_name']}")
    ax.set_title(f"{reference} → {target}: what each difference does")
    ax.legend(title="step", fontsize="x-small")
    return ax


def plot_ph_curve(values, ax=None):
    """A metric against pH, one line per catalyst (or other non-pH dimension).

    ``values`` is a DataArray with a ``pH`` dimension (and at most one other), carrying ``units`` and
    ``long_name`` attributes, e.g. from :func:`fentonsim.compare.ph_curve`.
    """
    ax = _axes(ax)
    if "pH" not in values.dims:
        raise ConditionsError(f"a pH curve needs a `pH` dimension; found {', '.join(values.dims)}")
    others = [d for d in values.dims if d != "pH"]
    if len(others) > 1:
        raise ConditionsError(f"a pH curve takes one line dimension besides pH; found {', '.join(others)}")
    ph = values["pH"].values
    if others:
        dim = others[0]
        for i, key in enumerate(values[dim].values):
            ax.plot(ph, values.sel({dim: key}).values, marker="o", markersize=3, color=PALETTE[i % len(PALETTE)],
                    label=str(values["label"].values[i]) if "label" in values.coords else str(key))
        ax.legend(fontsize="small")
    else:
        ax.plot(ph, values.values, marker="o", markersize=3, color=PALETTE[0])
    ax.set_xlabel("pH")
    ax.set_ylabel(f"{values.attrs.get('long_name', values.name)} [{values.attrs.get('units', '?')}]")
    ax.set_yscale("log" if np.all(values.values[np.isfinite(values.values)] > 0) else "linear")
    ax.set_title(f"{values.attrs.get('long_name', values.name)} against pH")
    return ax


def plot_heatmap(values, ax=None, log_color=True):
    """A metric over two conditions (e.g. pH × H2O2 or pH × GSH) as a coloured grid with a colour bar.

    ``values`` is a 2-D DataArray; each coordinate should carry a ``units`` attribute (pH has none).
    """
    import matplotlib.colors as mcolors

    ax = _axes(ax)
    if values.ndim != 2:
        raise ConditionsError(f"a heatmap needs a 2-D DataArray, found dimensions {', '.join(values.dims)}")
    ydim, xdim = values.dims
    x, y = values[xdim].values, values[ydim].values
    data = values.values
    positive = data[np.isfinite(data) & (data > 0)]
    norm = mcolors.LogNorm(positive.min(), positive.max()) if log_color and positive.size and \
        positive.min() < positive.max() else None
    mesh = ax.pcolormesh(x, y, data, shading="nearest", cmap="cividis", norm=norm)
    bar = ax.figure.colorbar(mesh, ax=ax)
    bar.set_label(f"{values.attrs.get('long_name', values.name)} [{values.attrs.get('units', '?')}]")
    for dim, setter in ((xdim, ax.set_xlabel), (ydim, ax.set_ylabel)):
        unit = values[dim].attrs.get("units")
        setter(f"{dim} [{unit}]" if unit else dim)
    ax.set_title(f"{values.attrs.get('long_name', values.name)} over {xdim} × {ydim}")
    return ax


def plot_flux_breakdown(ds, species="hydroxyl", ax=None, top=8):
    """Which reactions make and consume ``species`` over the run: horizontal bars of ∫ rate × stoichiometry.

    Production is positive, consumption negative; the ``top`` largest pathways each way are shown,
    the rest summed as "other". Needs an ODE result with fluxes (the default).
    """
    ax = _axes(ax)
    if "extent" not in ds:
        raise ConditionsError("a flux breakdown needs the integrated fluxes of an ODE run (fluxes=True)")
    _species_list(ds, species)
    contribution = (ds["extent"].isel(time=-1) * ds["net_stoich"].sel(species=species)).values
    labels = [f"{rid}: {eq}" for rid, eq in zip(ds["reaction"].values, ds["equation"].values)]
    bars = []
    for sign in (1, -1):
        idx = [i for i in np.argsort(-sign * contribution) if sign * contribution[i] > 0]
        shown, rest = idx[:top], idx[top:]
        bars += [(labels[i], contribution[i]) for i in shown]
        if rest:
            bars.append((f"other ({len(rest)} reactions)", float(contribution[rest].sum())))
    if not bars:
        raise ConditionsError(f"no reaction made or consumed {species} in this run")
    names, amounts = zip(*bars)
    y = np.arange(len(bars))[::-1]
    ax.barh(y, amounts, color=[PALETTE[0] if a > 0 else PALETTE[5] for a in amounts])
    ax.set_yticks(y, names, fontsize="small")
    ax.axvline(0.0, color=PALETTE[7], linewidth=0.8)
    ax.set_xscale("symlog", linthresh=max(1e-30, float(np.min(np.abs(amounts))) or 1e-30))
    ax.set_xlabel(f"{_name(species)} made (+) or consumed (−) [M]")
    ax.set_ylabel("reaction")
    ax.set_title(_title(ds, f"Pathways making and consuming {_name(species)}"))
    return ax


def plot_tornado(values, ax=None, errors=None, inner=None, top=12, title=None, empty="no finite value"):
    """Tornado chart: one horizontal bar per parameter, largest |value| at the top (``top`` of them).

    Parameters
    ----------
    values : xarray.DataArray
        One dimension (its coordinate labels the bars); ``long_name`` and ``units`` label the x axis.
        Positive bars are blue, negative vermillion (a signed local ∂ln y/∂ln k), NaN entries are left out.
    errors : xarray.DataArray, optional
        Half-widths of each bar's interval (bootstrap confidence intervals of global indices), as error bars.
    inner : xarray.DataArray, optional
        A second value per parameter drawn as a narrow black bar inside the first (S1 inside ST).
    title : str, optional
    empty : str
        What the panel says when no value is finite.
    """
    ax = _axes(ax)
    if values.ndim != 1:
        raise ConditionsError(f"a tornado chart takes values over one dimension, found {values.dims}")
    dim = values.dims[0]
    data = np.asarray(values.values, dtype=float)
    order = [i for i in np.argsort(-np.abs(np.nan_to_num(data, nan=-np.inf))) if np.isfinite(data[i])][:top]
    labels = [str(v) for v in values[dim].values]
    y = np.arange(len(order))[::-1]
    shown = data[order]
    xerr = None if errors is None else np.nan_to_num(np.asarray(errors.values, dtype=float)[order])
    ax.barh(y, shown, height=0.7, xerr=xerr, capsize=2, color=[PALETTE[0] if v >= 0 else PALETTE[5] for v in shown],
            label=values.attrs.get("long_name", values.name))
    if inner is not None:
        ax.barh(y, np.asarray(inner.values, dtype=float)[order], height=0.25, color=PALETTE[7],
                label=inner.attrs.get("long_name", inner.name))
        ax.legend(fontsize="x-small", loc="lower right")
    ax.set_yticks(y, [labels[i] for i in order], fontsize="small")
    ax.axvline(0.0, color=PALETTE[7], linewidth=0.8)
    unit = values.attrs.get("units")
    name = values.attrs.get("long_name", values.name or "")
    ax.set_xlabel(f"{name} [{unit}]" if unit else name, fontsize="small")
    if not order:
        ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center", fontsize="small")
    ax.set_title(title if title is not None else name, fontsize="small")
    return ax


def plot_global_sensitivity(result, model=None, condition=None, ax=None, top=12):
    """Tornado chart of a :func:`fentonsim.global_sensitivity.global_sensitivity` result for one model and
    condition at its largest N: Morris mu* with its bootstrap interval, or Sobol' ST with its interval and S1
    as the inner bar. Defaults: the first model and condition."""
    model = str(result.model.values[0]) if model is None else model
    condition = str(result.condition.values[0]) if condition is None else condition
    cell = result.sel(model=model, condition=condition).isel(n=-1)
    cell = cell.isel(reaction=np.flatnonzero(cell["is_factor"].values))
    n = int(result.n.values[-1])
    what = "trajectories" if result.attrs["method"] == "morris" else "base samples"
    title = (f"{model} at {condition}: {result.attrs['method'].capitalize()}, N = {n} {what}, "
             f"{'ln ' if result.attrs['scale'] == 'log' else ''}{result.attrs['metric']}")
    if result.attrs["method"] == "morris":
        return plot_tornado(cell["mu_star"], ax=ax, errors=cell["mu_star_conf"], top=top, title=title)
    return plot_tornado(cell["ST"], ax=ax, errors=cell["ST_conf"], inner=cell["S1"], top=top, title=title)


def save_figure(figure, path) -> Path:
    """Save ``figure`` (a Figure or an Axes) to ``path``; the suffix picks PNG, SVG or PDF."""
    from .tables import atomic_output

    figure = getattr(figure, "figure", figure)
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ConditionsError(f"figure format `{path.suffix}` is not supported; use .png, .svg or .pdf")
    with atomic_output(path, binary=True) as fh:
        # The Creator mark lets a later run recognise the file as its own (fentonsim.tables.check_output); PDF
        # keeps its metadata at the end of the file, past what the check reads, so it is not marked.
        figure.savefig(fh, format=fmt, dpi=150, metadata={"Creator": "fentonsim"} if fmt in ("png", "svg") else None)
    return path
