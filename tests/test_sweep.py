"""Sweeps: grids and point lists, identical numbers on every backend and chunking, resumable storage,
a Dask cluster that loses a worker mid-way, and uncertainty propagation."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

import numpy as np
import pytest
import xarray as xr

import fentonsim
from fentonsim import sweep_worker
from fentonsim.cli import main
from fentonsim.metrics import metrics
from fentonsim.sweep import parse_range, sweep
from fentonsim.uncertainty import latin_hypercube, propagate

from conftest import MECHANISMS, require_module

PH = [5.0, 6.0, 6.5, 7.4]


@pytest.fixture(scope="module")
def reference():
    """Two catalysts × 4 pH × 2 H2O2 levels under the tme preset, in process."""
    return sweep(["iron", "copper"], {"pH": PH, "H2O2": [1e-5, 1e-4]}, conditions="tme", dose="20 uM",
                 t_end=600)


def test_grid_dimensions_coordinates_and_units(reference):
    assert dict(reference["oh_produced"].sizes) == {"model": 2, "pH": 4, "H2O2": 2}
    assert list(reference["model"].values) == ["iron", "copper"]
    assert reference["H2O2"].attrs["units"] == "M" and reference["oh_produced"].attrs["units"] == "M"
    assert np.all(reference["status"].values == 0) and reference.attrs["n_conditions"] == 16


def test_each_cell_equals_a_single_simulation(reference):
    """The batched integration gives what simulate() gives for the same conditions (to 1e-9 relative)."""
    ds = fentonsim.simulate([MECHANISMS / "copper.yaml", MECHANISMS / "glutathione.yaml"], conditions="tme",
                            ph=6.0, initial={"Cu+": 20e-6, "H2O2": 1e-5}, t_end=600, n_points=61)
    expected = metrics(ds, dose=20e-6)
    for name in ("oh_produced", "oh_escaping_gsh", "gsh_depleted", "oh_per_metal"):
        got = float(reference[name].sel(model="copper", pH=6.0, H2O2=1e-5))
        assert got == pytest.approx(float(expected[name]), rel=1e-9), name


def test_chunking_does_not_change_numbers(reference):
    again = sweep(["iron", "copper"], {"pH": PH, "H2O2": [1e-5, 1e-4]}, conditions="tme", dose="20 uM",
                  t_end=600, chunk_size=3)
    assert again.attrs["n_chunks"] == 6
    xr.testing.assert_identical(again.drop_attrs(), reference.drop_attrs())


@pytest.mark.slow
def test_process_backend_gives_identical_numbers(reference):
    other = sweep(["iron", "copper"], {"pH": PH, "H2O2": [1e-5, 1e-4]}, conditions="tme", dose="20 uM",
                  t_end=600, backend="process", n_workers=2, chunk_size=4)
    xr.testing.assert_identical(other.drop_attrs(), reference.drop_attrs())


def test_points_list_and_rate_overrides():
    """Explicit points: dimension `point`, each key a coordinate; a rate override changes only its point."""
    points = [{"pH": 6.5}, {"pH": 6.5, "rate:F1": 76.0}, {"pH": 7.4, "H2O2": 5e-5}]
    r = sweep("iron", points=points, conditions="tme", dose="20 uM", t_end=60)
    assert r.sizes["point"] == 3 and np.isnan(float(r["rate:F1"][0])) and float(r["rate:F1"][1]) == 76.0
    assert float(r["oh_produced"][1]) > float(r["oh_produced"][0])


def test_full_output_keeps_time_courses():
    r = sweep(MECHANISMS / "iron.yaml", {"pH": [6.5, 7.4], "Fe+2": [1e-5, 2e-5], "H2O2": [1e-4]},
              output="full", t_end=60, n_points=7)
    assert r["concentration"].dims == ("pH", "Fe+2", "H2O2", "time", "species")
    assert r["concentration"].shape[-2] == 7


def test_stochastic_sweep_is_seeded_by_condition_index():
    """Condition i draws from (seed, i): the same numbers whatever the chunking, with a CI per metric."""
    kwargs = dict(method="ssa", runs=5, seed=4, conditions="lysosome", dose="20 uM", t_end=30)
    a = sweep("iron", {"pH": [5.0, 6.0, 7.0]}, chunk_size=1, **kwargs)
    b = sweep("iron", {"pH": [5.0, 6.0, 7.0]}, **kwargs)
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    assert list(a["statistic"].values) == ["mean", "ci_low", "ci_high"]
    assert sweep_worker.stochastic_seed(4, 0) != sweep_worker.stochastic_seed(4, 1)


def test_interrupted_sweep_resumes_without_recomputing(tmp_path, monkeypatch, reference):
    """A sweep killed after two chunks keeps them on disk; rerun, it computes only the rest, and the result
    equals the uninterrupted one. A store holding another sweep is refused."""
    grid = {"pH": PH, "H2O2": [1e-5, 1e-4]}
    kwargs = dict(conditions="tme", dose="20 uM", t_end=600, chunk_size=3, store=tmp_path / "store")
    calls = []
    real = sweep_worker.run_chunk

    def interrupted(task):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(task)
        return real(task)

    module = sys.modules["fentonsim.sweep"]  # the attribute fentonsim.sweep is the function
    monkeypatch.setattr(module, "run_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep(["iron", "copper"], grid, **kwargs)
    assert len(list((tmp_path / "store").glob("chunk-*.npz"))) == 2
    counted = []
    monkeypatch.setattr(module, "run_chunk", lambda task: counted.append(task) or real(task))
    resumed = sweep(["iron", "copper"], grid, **kwargs)
    assert len(counted) == 6 - 2
    xr.testing.assert_identical(resumed.drop_attrs(), reference.drop_attrs())
    stored = xr.open_dataset(tmp_path / "store" / "result.nc", engine="scipy")
    np.testing.assert_array_equal(stored["oh_produced"].values, reference["oh_produced"].values)
    with pytest.raises(fentonsim.ConditionsError, match="holds a different sweep"):
        sweep(["iron"], grid, **kwargs)


@pytest.mark.slow
def test_dask_cluster_losing_a_worker_still_completes_identically(tmp_path, reference):
    """On a 2-worker LocalCluster, SIGKILL one worker once the first chunk is stored: Dask reruns its tasks on
    the survivor (and the restarted worker), and the result is complete and equal to the in-process one."""
    require_module("distributed", "distributed")
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    store = tmp_path / "store"
    killed = []

    def kill_one_worker():
        deadline = time.time() + 120
        while time.time() < deadline and not list(store.glob("chunk-*.npz")):
            time.sleep(0.05)
        pids = client.run(os.getpid)
        pid = next(iter(pids.values()))
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    try:
        result = sweep(["iron", "copper"], {"pH": PH, "H2O2": [1e-5, 1e-4]}, conditions="tme", dose="20 uM",
                       t_end=600, chunk_size=1, backend="dask", client=client, store=store)
    finally:
        killer.join(timeout=5)
        client.close()
        cluster.close()
    assert killed, "the worker was never killed"
    assert np.all(result["status"].values == 0)
    xr.testing.assert_identical(result.drop_attrs(), reference.drop_attrs())


def test_bad_sweeps_are_refused():
    with pytest.raises(fentonsim.ConditionsError, match="unknown backend"):
        sweep("iron", {"pH": [7]}, backend="gpu")
    with pytest.raises(fentonsim.ConditionsError, match="between 0 and 14"):
        sweep("iron", {"pH": [15]})
    with pytest.raises(fentonsim.ConditionsError, match="stochastic setting"):
        sweep("iron", {"volume": ["1 fL"]})
    with pytest.raises(fentonsim.ConditionsError, match="single model"):
        sweep(["iron", "copper"], {"pH": [7]}, output="full")
    with pytest.raises(fentonsim.ConditionsError, match="either `grid`"):
        sweep("iron")
    with pytest.raises(fentonsim.ConditionsError, match="not found"):
        sweep("nowhere.yaml", {"pH": [7]})


def test_parse_range_includes_the_stop():
    assert parse_range("4:8:0.05")[-1] == 8.0 and len(parse_range("4:8:0.05")) == 81
    assert parse_range("1e-5, 1e-4") == ["1e-5", "1e-4"]
    with pytest.raises(fentonsim.ConditionsError):
        parse_range("8:4:0.5")


def test_cli_writes_netcdf_and_a_timing_line(tmp_path, capsys):
    out = tmp_path / "s.nc"
    assert main(["sweep", "iron", "--ph", "6:7:0.5", "--h2o2", "1e-5,1e-4", "--conditions", "tme",
                 "--t-end", "60", "--no-progress", "--out", str(out)]) == 0
    line = capsys.readouterr().out
    assert "6 conditions (pH 3 × H2O2 2)" in line and "batch backend" in line
    ds = xr.open_dataset(out, engine="scipy")
    assert ds["oh_produced"].shape == (3, 2)


def test_latin_hypercube_uses_every_stratum_once():
    """Each constant's range is cut into n equal-probability (log) strata and each is sampled exactly once."""
    ranges = {"A": (1.0, 100.0), "B": (5e3, 1e4)}
    samples = latin_hypercube(ranges, 20, seed=3)
    for rid, (low, high) in ranges.items():
        u = np.log([s[rid] for s in samples] / np.float64(low)) / np.log(high / low)
        assert sorted(np.floor(u * 20).astype(int)) == list(range(20))


def test_uncertainty_propagation_reports_spread_and_ratio():
    r = propagate(("iron", "copper"), ph=(6.5, 7.4), n_samples=4, t_end=60, seed=1)
    assert r["oh_produced"].dims == ("sample", "catalyst", "pH") and r["oh_produced"].shape == (4, 2, 2)
    np.testing.assert_allclose(r["ratio"].values,
                               r["oh_produced"].sel(catalyst="copper") / r["oh_produced"].sel(catalyst="iron"))
    assert "F1" in r["reaction"].values and "C1" in r["reaction"].values
    low, high = r["k_low"].sel(reaction="F1"), r["k_high"].sel(reaction="F1")
    assert np.all((r["k_sampled"].sel(reaction="F1") >= low) & (r["k_sampled"].sel(reaction="F1") <= high))
    q = r["ratio_quantiles"].values
    assert np.all(q[0] <= q[1]) and np.all(q[1] <= q[2])


def test_metal_per_point_dose_and_probe_presence_do_not_depend_on_the_grid_order():
    """·OH per metal divides by each point's own metal dose (a grid axis overrides `dose`; 0 gives NaN), and a
    probe read-out exists whenever any point doses the probe, whatever the order of the grid."""
    r = sweep("iron", {"Fe+2": [0.0, 1e-5, 5e-5]}, conditions="tme", t_end=60)
    per_metal = r["oh_per_metal"].values
    assert np.isnan(per_metal[0])
    np.testing.assert_allclose(per_metal[1:], r["oh_produced"].values[1:] / [1e-5, 5e-5])
    files = [MECHANISMS / "iron.yaml", MECHANISMS / "glutathione.yaml", MECHANISMS / "probes.yaml"]
    for order in ([0.0, 1e-3], [1e-3, 0.0]):
        out = sweep(files, {"TA-2": order, "Fe+2": [2e-5]}, conditions="tme", t_end=60)
        assert "probe_hydroxyterephthalate" in out and "oh_per_metal" not in out


def test_store_refuses_a_sweep_whose_conditions_file_changed(tmp_path):
    preset = tmp_path / "my.yaml"
    preset.write_text("kind: conditions\nname: mine\npH: 6.5\ninitial: {H2O2: 100 uM}\n", encoding="utf-8")
    kwargs = dict(conditions=preset, t_end=30, store=tmp_path / "store")
    sweep("iron", {"pH": [6.5, 7.0]}, **kwargs)
    preset.write_text("kind: conditions\nname: mine\npH: 6.5\ninitial: {H2O2: 1 uM}\n", encoding="utf-8")
    with pytest.raises(fentonsim.ConditionsError, match="holds a different sweep"):
        sweep("iron", {"pH": [6.5, 7.0]}, **kwargs)


def test_cli_sweep_errors_are_one_line(tmp_path, capsys):
    out = str(tmp_path / "x.nc")
    for argv, message in ((["--ph", "abc"], "must be numbers"), (["--h2o2", "10uM:100uM:10uM"], "plain numbers"),
                          (["--ph", "6.5", "--chunk-size", "-1"], "positive integer")):
        assert main(["sweep", "iron", *argv, "--no-progress", "--out", out]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert main(["sweep", "iron", "--ph", "6.5", "--grid", "rate:F1=63 M^-1 s^-1,76 M^-1 s^-1", "--t-end", "10",
                 "--no-progress", "--out", out]) == 0


def test_compare_refuses_an_unknown_rate_id():
    with pytest.raises(fentonsim.ConditionsError, match="F1O"):
        fentonsim.compare(["iron"], rates={"F1O": 1e6})
