"""One chunk of a sweep: conditions of one mechanism, run in one batched compiled call.

``run_chunk(task)`` is what every backend executes — in process, in a process pool or on a Dask
worker — so the numbers cannot depend on the backend. The chunk becomes a fentonsim.problem.Problem,
the object simulate() runs too (the model's events, tolerances and rate constants applied the same
way). A task is a plain dict (picklable):

``files``          mechanism files (str), merged
``parameter_set``  name or None
``preset``         condition preset name/path or None
``boluses``        Bolus/Assignment inputs of every point (after the model's own events)
``sources``        Source inputs of every point
``points``         list of dicts: ``pH``, ``temperature`` [K], ``volume`` [L], ``initial`` {species: M},
                   ``buffered`` {species: M}, ``rates`` {reaction id: k} (on k, no recompilation),
                   ``index`` (global condition index, seeds stochastic runs)
``settings``       method, t_end [s], n_points, rtol, atol, output ("metrics" or "full"), runs, seed,
                   threads (0: all); each point also carries ``metal_dose`` [M] (or None) for ·OH per metal

It returns a dict of arrays over the chunk's points: ``metric:<name>`` (n,) — or (n, 3) mean/ci_low/ci_high
for stochastic sweeps — ``status`` (n,) and, for full output, ``concentration`` (n, n_out, n_s).
"""
from __future__ import annotations

import warnings

import numpy as np

from ._jit import set_threads
from .errors import ConditionsError
from .metrics import HYDROXYL, metrics, summarize
from .problem import (batch_metrics, build_problem, condition_dataset, resolve_model, run_condition, solve_batch,
                      time_grid)
from .validity import ValidityWarning

STATUS_OK, STATUS_FAILED = 0, 1


def network_for(task):
    """The task's compiled network (cached in fentonsim.problem by the mechanism's canonical digest)."""
    files = tuple(task["files"])
    return resolve_model(list(files) if len(files) > 1 else files[0], task["parameter_set"])


def stochastic_seed(seed: int, index: int) -> int:
    """The seed of condition ``index``: depends only on (seed, index), so every backend draws the same runs."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 64:
        # numpy's SeedSequence would say only "expected non-negative integer" (an internal error at the CLI)
        raise ConditionsError(f"`seed` must be an integer between 0 and 2**64 − 1, found {seed!r}")
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def task_problem(task):
    """The chunk as a fentonsim.problem.Problem: its points resolved against the task's preset."""
    settings = task["settings"]
    points = [{"pH": p.get("pH"), "temperature": p.get("temperature"), "initial": p.get("initial"),
               "buffered": p.get("buffered"), "volume": p.get("volume"), "rates": p.get("rates"),
               "metal_dose": p.get("metal_dose")} for p in task["points"]]
    seeds = [stochastic_seed(settings["seed"], p["index"]) for p in task["points"]]
    return build_problem(network_for(task), points, conditions=task["preset"],
                         t_out=time_grid(settings["t_end"], settings["n_points"]), rtol=settings["rtol"],
                         atol=settings["atol"], seeds=seeds, boluses=task.get("boluses", ()),
                         sources=task.get("sources", ()))


def run_chunk(task) -> dict:
    settings = task["settings"]
    if settings.get("threads"):
        set_threads(settings["threads"])
    problem = task_problem(task)
    if settings["method"] == "ode":
        return _ode_chunk(problem, settings)
    return _stochastic_chunk(problem, settings)


def _ode_chunk(problem, settings):
    batch = solve_batch(problem)
    # The batch evaluates the same metric grid as simulate() (fentonsim.problem), so a sweep point reports
    # the metrics simulate() reports for that condition, whatever n_points.
    # A full-output sweep of a model without ·OH (an SBML model, a probe test) keeps its concentrations; asking
    # for metrics of such a model is the error batch_metrics raises.
    wanted = settings["output"] == "metrics" or HYDROXYL in problem.network.species
    out = {f"metric:{name}": values for name, values in (batch_metrics(problem, batch).items() if wanted else ())}
    out["status"] = np.where(batch.status == 0, STATUS_OK, STATUS_FAILED).astype(np.int8)
    if settings["output"] == "full":
        out["concentration"] = batch.concentration
    return out


def _stochastic_chunk(problem, settings):
    rows, status, full = [], [], []
    # As for the ODE: a full-output sweep of a model without ·OH (a multi-compartment or SBML model) keeps its
    # concentrations; asking such a model for metrics is the error metrics() raises.
    wanted = settings["output"] == "metrics" or HYDROXYL in problem.network.species
    for i in range(problem.n_conditions):
        solution = run_condition(problem, i, settings["method"], runs=settings["runs"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ValidityWarning)  # the sweep collects them (sweep.py)
            ds = condition_dataset(problem, i, settings["method"], solution)
        complete = bool(np.all(ds["status"].values == 0))
        status.append(STATUS_OK if complete else STATUS_FAILED)
        dose = problem.metal_dose[i]
        if wanted:
            summary = summarize(metrics(ds, float(dose) if np.isfinite(dose) else None))
            rows.append({name: summary[name].values for name in summary.data_vars})
        if settings["output"] == "full":
            full.append(np.nanmean(ds["concentration"].values, axis=0))
    names = list(rows[0]) if rows else []
    out = {f"metric:{name}": np.array([row.get(name, np.full(3, np.nan)) for row in rows]) for name in names}
    out["status"] = np.array(status, dtype=np.int8)
    if full:
        out["concentration"] = np.array(full)
    return out
