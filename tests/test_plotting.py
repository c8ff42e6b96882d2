"""Every plotting function renders with the Agg backend, returns Axes, and labels axes with units."""
from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

import fentonsim  # noqa: E402
from fentonsim import plotting  # noqa: E402
from fentonsim.compare import compare  # noqa: E402

from conftest import MECHANISMS  # noqa: E402

IRON_GSH = [MECHANISMS / "iron.yaml", MECHANISMS / "glutathione.yaml"]
UNIT = re.compile(r"\[[^\]]+\]")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def ode():
    return fentonsim.simulate(IRON_GSH, conditions="tme", initial={"Fe+2": "20 uM"}, t_end=600)


@pytest.fixture(scope="module")
def ensemble():
    return fentonsim.simulate(IRON_GSH, "ssa", conditions="lysosome", initial={"Fe+2": "20 uM"}, runs=12,
                              seed=2, t_end=120, n_points=25)


def labelled(ax, title_part):
    """Title mentions ``title_part``; both axes have a label with a unit in brackets (pH is unitless)."""
    assert title_part in ax.get_title()
    for label in (ax.get_xlabel(), ax.get_ylabel()):
        assert label and (UNIT.search(label) or label in ("pH", "catalyst", "reaction")), label


def test_time_course(ode):
    ax = plotting.plot_time_course(ode, ["peroxide", "Fe(II)", "hydroxyl"])
    labelled(ax, "Time course")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["H₂O₂", "Fe(II)", "·OH"]
    assert ax.get_xlabel() == "time [s]" and ax.get_ylabel() == "concentration [M]"


def test_ensemble_fan_with_trajectories_and_with_streaming_statistics(ensemble):
    ax = plotting.plot_ensemble_fan(ensemble, "peroxide")
    labelled(ax, "Ensemble of 12 runs")
    assert len(ax.collections) == 2 and len(ax.lines) == 6  # two bands, five samples and the mean
    streaming = fentonsim.simulate(IRON_GSH, "ssa", conditions="lysosome", initial={"Fe+2": "20 uM"}, runs=12,
                                   seed=2, t_end=120, n_points=25, stats=True)
    ax = plotting.plot_ensemble_fan(streaming, "peroxide", count_axis=True)
    assert ax.get_ylabel() == "H₂O₂ [molecules]"


def test_comparison_bars_with_and_without_error_bars():
    ax = plotting.plot_comparison(compare(["iron", "copper"]), "oh_produced")
    labelled(ax, "total ·OH produced")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Fe²⁺", "Cu⁺"]
    assert len(ax.patches) == 4
    ensemble = compare(["iron"], ["lysosome"], stochastic=True, runs=4, t_end=30, volume="1 fL")
    ax = plotting.plot_comparison(ensemble, "oh_produced")
    assert "95 % CI" in ax.get_title() and len(ax.containers) >= 1


def test_ph_curve():
    values = xr.DataArray(np.array([[1e-6, 2e-6, 4e-6], [3e-6, 2e-6, 1e-6]]), dims=("catalyst", "pH"),
                          coords={"catalyst": ["iron", "copper"], "label": ("catalyst", ["Fe²⁺", "Cu⁺"]),
                                  "pH": [6.0, 6.5, 7.0]},
                          attrs={"units": "M", "long_name": "total ·OH produced"}, name="oh_produced")
    ax = plotting.plot_ph_curve(values)
    labelled(ax, "against pH")
    assert ax.get_ylabel() == "total ·OH produced [M]" and len(ax.lines) == 2


def test_heatmap():
    values = xr.DataArray(np.outer([1.0, 2.0, 3.0], [1e-6, 1e-5]), dims=("GSH", "pH"),
                          coords={"GSH": ("GSH", [0.0, 1e-3, 5e-3], {"units": "M"}), "pH": [6.5, 7.4]},
                          attrs={"units": "M", "long_name": "·OH escaping GSH"}, name="oh_escaping_gsh")
    ax = plotting.plot_heatmap(values)
    labelled(ax, "over pH × GSH")
    assert ax.get_ylabel() == "GSH [M]"
    colorbar = ax.figure.axes[-1]
    assert colorbar.get_ylabel() == "·OH escaping GSH [M]"


def test_flux_breakdown(ode):
    ax = plotting.plot_flux_breakdown(ode, "hydroxyl", top=3)
    labelled(ax, "Pathways making and consuming ·OH")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(label.startswith("F2-OH") for label in labels)  # FeOH+ pathway makes ·OH at pH 6.5
    assert any(label.startswith("G1") for label in labels)     # GSH takes it
    widths = [p.get_width() for p in ax.patches]
    assert max(widths) > 0 > min(widths)


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_save_figure_formats(ode, tmp_path, suffix):
    ax = plotting.plot_time_course(ode, "peroxide")
    path = plotting.save_figure(ax, tmp_path / f"fig.{suffix}")
    assert path.stat().st_size > 1000


def test_save_figure_rejects_unknown_format(ode, tmp_path):
    ax = plotting.plot_time_course(ode, "peroxide")
    with pytest.raises(fentonsim.ConditionsError, match="use .png, .svg or .pdf"):
        plotting.save_figure(ax, tmp_path / "fig.bmp")


def test_plots_refuse_the_wrong_input(ode):
    with pytest.raises(fentonsim.ConditionsError, match="needs a stochastic ensemble"):
        plotting.plot_ensemble_fan(ode, "peroxide")
    with pytest.raises(fentonsim.ConditionsError, match="not in the result"):
        plotting.plot_time_course(ode, "unobtainium")
