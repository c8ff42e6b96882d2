"""One chunk of a sweep: conditions of one mechanism, run in one batched compiled call.

``run_chunk(task)`` is what every backend executes — in process, in a process pool or on a Dask
worker — so the numbers cannot depend on the backend. A task is a plain dict (picklable):

``files``          mechanism files (str), merged
``parameter_set``  name or None
``rates``          ((reaction id, k), ...) overrides
``preset``         condition preset name/path or None
``points``         list of dicts: ``pH``, ``temperature`` [K], ``volume`` [L], ``initial`` {species: M},
                   ``buffered`` {species: M}, ``index`` (global condition index, seeds stochastic runs)
``settings``       method, t_end [s], n_points, rtol, atol, output ("metrics" or "full"), runs, seed,
                   threads (0: all); each point also carries ``metal_dose`` [M] (or None) for ·OH per metal

It returns a dict of arrays over the chunk's points: ``metric:<name>`` (n,) — or (n, 3) mean/ci_low/ci_high
for stochastic sweeps — ``status`` (n,) and, for full output, ``concentration`` (n, n_out, n_s).
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from ._jit import set_threads
from .deterministic import solve_ode_batch
from .metrics import metrics, ode_metrics, summarize
from .simulate import resolve_conditions, resolve_model, resolve_run, simulate, time_grid
from .validity import ValidityWarning

STATUS_OK, STATUS_FAILED = 0, 1


@functools.lru_cache(maxsize=64)
def _network(files: tuple, parameter_set, rates: tuple):
    return resolve_model(list(files) if len(files) > 1 else files[0], parameter_set, dict(rates))


def network_for(task):
    return _network(tuple(task["files"]), task["parameter_set"], tuple(task["rates"]))


def stochastic_seed(seed: int, index: int) -> int:
    """The seed of condition ``index``: depends only on (seed, index), so every backend draws the same runs."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def run_chunk(task) -> dict:
    settings = task["settings"]
    if settings.get("threads"):
        set_threads(settings["threads"])
    network = network_for(task)
    if settings["method"] == "ode":
        return _ode_chunk(network, task, settings)
    return _stochastic_chunk(network, task, settings)


def _ode_chunk(network, task, settings):
    preset = resolve_conditions(task["preset"])  # parsed once per chunk, not per point
    runs = [resolve_run(network, preset, p.get("pH"), p.get("temperature"), p.get("initial"),
                        p.get("buffered"), None) for p in task["points"]]
    t_out = time_grid(settings["t_end"], settings["n_points"])
    atol = settings["atol"] if settings["atol"] is not None else (
        network.defaults.atol if network.defaults.atol is not None else 1e-20)
    batch = solve_ode_batch(network, np.array([r.k for r in runs]), np.array([r.y0 for r in runs]), t_out,
                            rtol=settings["rtol"], atol=atol, raise_on_failure=False, metric_grid=True)
    # The batch evaluates the same metric grid as simulate() (fentonsim.deterministic), so a sweep point reports
    # the metrics simulate() reports for that condition, whatever n_points.
    data = ode_metrics(network.species, network.net_stoich, batch.time, batch.concentration, batch.extent,
                       batch.exposure, atol, metric_time=batch.metric_time,
                       metric_concentration=batch.metric_concentration, metric_exposure=batch.metric_exposure)
    dose = np.array([p.get("metal_dose") or np.nan for p in task["points"]], dtype=float)
    if np.any(np.isfinite(dose)) and "oh_produced" in data:
        with np.errstate(divide="ignore", invalid="ignore"):
            data["oh_per_metal"] = np.where(dose > 0, data["oh_produced"] / dose, np.nan)
    out = {f"metric:{name}": values for name, values in data.items()}
    out["status"] = np.where(batch.status == 0, STATUS_OK, STATUS_FAILED).astype(np.int8)
    if settings["output"] == "full":
        out["concentration"] = batch.concentration
    return out


def _stochastic_chunk(network, task, settings):
    rows, status, full = [], [], []
    preset = resolve_conditions(task["preset"])
    for point in task["points"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ValidityWarning)  # the sweep collects them (sweep.py)
            ds = simulate(network, settings["method"], conditions=preset, ph=point.get("pH"),
                          temperature=point.get("temperature"), initial=point.get("initial"),
                          buffered=point.get("buffered"), volume=point.get("volume"), t_end=settings["t_end"],
                          n_points=settings["n_points"], runs=settings["runs"],
                          seed=stochastic_seed(settings["seed"], point["index"]))
        complete = bool(np.all(ds["status"].values == 0))
        status.append(STATUS_OK if complete else STATUS_FAILED)
        summary = summarize(metrics(ds, point.get("metal_dose") or None))
        rows.append({name: summary[name].values for name in summary.data_vars})
        if settings["output"] == "full":
            full.append(np.nanmean(ds["concentration"].values, axis=0))
    names = list(rows[0])
    out = {f"metric:{name}": np.array([row.get(name, np.full(3, np.nan)) for row in rows]) for name in names}
    out["status"] = np.array(status, dtype=np.int8)
    if full:
        out["concentration"] = np.array(full)
    return out
