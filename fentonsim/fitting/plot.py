"""Fit and residual figure: per experiment, data with the fitted curve above, weighted residuals below."""
from __future__ import annotations

from pathlib import Path

import numpy as np

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")


def plot_fit(result, path=None):
    """A matplotlib Figure (Agg) with two rows of axes per experiment column; saved to ``path`` if given."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    curves = result.curves
    fig, axes = plt.subplots(2, len(curves), figsize=(4.2 * len(curves), 5.6), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1]}, sharex="col")
    observables = sorted({row[1] for curve in curves for row in curve["rows"]})
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(observables)}
    for c, curve in enumerate(curves):
        top, bottom = axes[0, c], axes[1, c]
        rows = curve["rows"]
        for name in observables:
            mine = [i for i, row in enumerate(rows) if row[1] == name]
            if not mine:
                continue
            t = np.array([rows[i][2] for i in mine])
            observed = np.array([rows[i][3] for i in mine])
            sigma = np.array([rows[i][4] for i in mine])
            fitted = curve["fitted"][mine]
            units = result.spec.observables[name].units
            top.plot(t, observed, "o", color=colours[name], markersize=3.5, label=f"{name} [{units}] measured")
            top.plot(curve["time"], curve["smooth"][name], "-", color=colours[name], linewidth=1.3,
                     label=f"{name} fitted")
            bottom.plot(t, (fitted - observed) / sigma, "o", color=colours[name], markersize=3)
        bottom.axhline(0.0, color="0.5", linewidth=0.8)
        top.set_title(curve["name"])
        bottom.set_xlabel("time [s]")
        if c == 0:
            top.set_ylabel("observable")
            bottom.set_ylabel("residual / σ")
        top.legend(fontsize=7)
    fig.suptitle(f"{result.network_name}: cost {result.cost:.4g}, {result.n_data} values, "
                 f"{len(result.parameters)} parameters", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=120)
    return fig
