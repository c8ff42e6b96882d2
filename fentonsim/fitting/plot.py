"""Fit and residual figure: per experiment, data with the fitted curve above, weighted residuals below."""
from __future__ import annotations

from pathlib import Path

import numpy as np

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")


def plot_fit(result, path=None):
    """A matplotlib Figure (Agg): one column per experiment, one row per observable (measured points and the
    fitted curve, in the observable's units) and a last row of weighted residuals; saved to ``path`` if
    given."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    curves = result.curves
    observables = sorted({row[1] for curve in curves for row in curve["rows"]})
    n_rows = len(observables) + 1
    fig, axes = plt.subplots(n_rows, len(curves), figsize=(4.2 * len(curves), 2.4 * len(observables) + 1.8),
                             squeeze=False, gridspec_kw={"height_ratios": [3] * len(observables) + [2]},
                             sharex="col")
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(observables)}
    for c, curve in enumerate(curves):
        rows = curve["rows"]
        residual_axes = axes[-1, c]
        for r, name in enumerate(observables):
            ax = axes[r, c]
            mine = [i for i, row in enumerate(rows) if row[1] == name]
            units = result.spec.observables[name].units
            if c == 0:
                ax.set_ylabel(f"{name} [{units}]")
            if r == 0:
                ax.set_title(curve["name"])
            if not mine:
                ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes, color="0.5")
                continue
            t = np.array([rows[i][2] for i in mine])
            observed = np.array([rows[i][3] for i in mine])
            sigma = np.array([rows[i][4] for i in mine])
            fitted = curve["fitted"][mine]
            ax.plot(t, observed, "o", color=colours[name], markersize=3.5, label="measured")
            ax.plot(curve["time"], curve["smooth"][name], "-", color=colours[name], linewidth=1.3, label="fitted")
            residual_axes.plot(t, (fitted - observed) / sigma, "o", color=colours[name], markersize=3, label=name)
            if c == 0:
                ax.legend(fontsize=7)
        residual_axes.axhline(0.0, color="0.5", linewidth=0.8)
        residual_axes.set_xlabel("time [s]")
        if c == 0:
            residual_axes.set_ylabel("residual / σ")
            residual_axes.legend(fontsize=7)
    fig.suptitle(f"{result.network_name}: cost {result.cost:.4g}, {result.n_data} values, "
                 f"{len(result.parameters)} parameters", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=120)
    return fig


def plot_profile(profile, path=None):
    """The profile likelihood of one parameter (fentonsim.fitting.profile): Δχ² against its value, the
    threshold and the interval; log axis for a log-scale parameter. Saved to ``path`` if given."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    value, delta = np.asarray(profile["value"]), np.asarray(profile["delta_chi2"])
    ax.plot(value, delta, "o-", color=PALETTE[0], markersize=3.5)
    ax.axhline(profile["threshold"], color=PALETTE[5], linewidth=0.9, linestyle="--",
               label=f"Δχ² = {profile['threshold']:.2f}")
    for bound in (profile["ci_low"], profile["ci_high"]):
        if np.isfinite(bound):
            ax.axvline(bound, color="0.5", linewidth=0.8)
    if np.all(value > 0) and value.max() / value.min() > 3:
        ax.set_xscale("log")
    ax.set_xlabel(profile["parameter"])
    ax.set_ylabel("Δχ²")
    ax.legend(fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=120)
    return fig
