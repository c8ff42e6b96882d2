"""Sweep throughput: the issue's targets, measured side by side in one run.

1. Three catalysts (Fe, Cu, Mn, each with GSH) × 101 pH values from 5 to 8, 1 h each under the tme preset:
   warm wall time of the in-process batched backend (target < 2 s on 2 cores).
2. 1,000 conditions (iron, 40 pH × 25 H2O2 levels, 1 h): a Dask LocalCluster of 2 worker processes against
   the in-process backend (target ratio ≤ 1.5). The two results must be identical before times count.

Ratios are Dask time / in-process time (< 1.5 meets the target).
"""
from __future__ import annotations

import time

import numpy as np

from fentonsim.sweep import sweep


def _timed(function, repeats):
    samples, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - start)
    return result, float(np.min(samples)), float(np.median(samples))


def run(quick: bool = False) -> list[dict]:
    rows = []
    grid = {"pH": np.linspace(5.0, 8.0, 101)}
    catalysts = ["iron", "copper", "manganese"]
    sweep(catalysts, grid, conditions="tme", dose="20 uM", t_end="1 h", progress=False)  # compile / load
    _, best, median = _timed(lambda: sweep(catalysts, grid, conditions="tme", dose="20 uM", t_end="1 h",
                                           progress=False), 3 if quick else 7)
    rows.append({"case": "3 catalysts × 101 pH, 1 h, in process", "min_s": best, "median_s": median,
                 "per_condition_ms": median / 303 * 1e3,
                 "ratio": f"target < 2 s: {'met' if median < 2.0 else 'missed'}"})

    big = {"pH": np.linspace(5.0, 8.0, 40), "H2O2": np.geomspace(1e-6, 1e-3, 25)}
    kwargs = dict(conditions="tme", dose="20 uM", t_end="1 h", progress=False, chunk_size=125)
    sweep("iron", big, **kwargs)
    local, local_best, local_median = _timed(lambda: sweep("iron", big, **kwargs), 1 if quick else 3)
    rows.append({"case": "1,000 conditions, in process", "min_s": local_best, "median_s": local_median})
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        rows.append({"case": "1,000 conditions, Dask LocalCluster (2 workers)", "note": "not installed"})
        return rows
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        sweep("iron", {"pH": [6.5], "H2O2": [1e-4]}, backend="dask", client=client, **{
            k: v for k, v in kwargs.items() if k != "chunk_size"})  # warm the workers (imports, numba cache)
        remote, best, median = _timed(lambda: sweep("iron", big, backend="dask", client=client, **kwargs),
                                      1 if quick else 3)
    agrees = bool(np.array_equal(remote["oh_produced"].values, local["oh_produced"].values, equal_nan=True))
    rows.append({"case": "1,000 conditions, Dask LocalCluster (2 workers)", "min_s": best, "median_s": median,
                 "agrees": agrees, "slowdown": median / local_median,
                 "ratio": f"{median / local_median:.2f}× in-process (target ≤ 1.5)" if agrees else "",
                 "note": "warm workers; includes task transfer and result assembly"})
    return rows
