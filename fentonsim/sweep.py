"""``fentonsim.sweep``: many conditions, batched, on one machine or a Dask cluster.

A sweep runs every combination of the ``grid`` values (or an explicit list of ``points``) and returns an
``xarray.Dataset`` with one dimension per swept variable. Grid keys:

=====================  =============================================================================
``model``              names of ``models`` (when several are given, this dimension comes first)
``pH``                 pH values
``temperature``        K (numbers) or quantities ("37 °C")
``volume``             L, stochastic sweeps only
``parameter_set``      alternative parameter sets of the mechanism
``rate:<id>``          rate-constant overrides of reaction <id> (M^(1−m) s⁻¹), as ``simulate(rates=)``
``buffered:<name>``    clamped concentrations [M] (O2, HCO3- held at a value, a clamped pool's total)
``<species>``          anything else is an initial concentration [M] (H2O2, GSH, Fe+2, a pool or a form)
=====================  =============================================================================

Conditions that share a mechanism (model and parameter set) are integrated together in one compiled
parallel loop (fentonsim.sweep_worker), in chunks; rate-constant overrides act on k, so a sweep over
constants (or uncertainty samples) is one batch like a sweep over pH. Backends: ``"batch"`` (in process, all cores in
each chunk), ``"process"`` (a process pool) and ``"dask"`` (``dask.distributed``: the given ``client``, or a
LocalCluster started and stopped here). The numbers do not depend on the backend or the chunking: ODE
conditions are independent, and stochastic condition i is seeded from (seed, i).

``store`` makes a sweep resumable (fentonsim.sweep_store): chunks are saved as they finish and skipped when
the same sweep is run again.

Output: ``output="metrics"`` (default) keeps the ·OH metrics (fentonsim.metrics) — plus ``statistic``
(mean, ci_low, ci_high) for stochastic sweeps — so memory does not grow with time points; ``"full"`` adds
``concentration`` over (..., time, species) for a single model. A ``status`` variable (0 ok, 1 failed:
NaN values) covers every condition. ODE metrics come from the batch's dense output on the same metric grid
simulate() uses (fentonsim.deterministic), so a sweep point reports what simulate() reports for that
condition, at any ``n_points``. The attribute ``validity_warnings`` lists the distinct yield-law caveats of
the points (fentonsim.validity; lines joined by "\\n", "" when none), as simulate() records them per run.
"""
from __future__ import annotations

import itertools
import logging
import math
import os
import time
from pathlib import Path

import numpy as np
import xarray as xr

from .catalysts import DEFAULT_DOSE, NANOMATERIALS, Catalyst, parse_catalyst
from .errors import ConditionsError
from .metrics import describe
from .problem import resolve_conditions
from .progress import bar as progress_bar
from .simulate import METHODS
from .sweep_store import ChunkStore, fingerprint
from .sweep_worker import network_for, run_chunk
from .units import CONCENTRATION, TEMPERATURE, TIME, VOLUME, parse_quantity, user_quantity
from .validity import VALIDITY_ATTRIBUTE, yield_law_warnings
from .version import __version__

BACKENDS = ("batch", "process", "dask")
#: Conditions a sweep accepts (checked before any list is built): 10⁷ conditions of metrics are ~1 GB of results
#: and days of ODE solves on a workstation — a larger grid is a typo in a step or range.
MAX_CONDITIONS = 10_000_000
OUTPUTS = ("metrics", "full")
DEFAULT_CHUNK = 256
RESERVED = ("model", "pH", "temperature", "volume", "parameter_set")


MODEL_SUFFIXES = (".yaml", ".yml", ".xml", ".sbml")


def _is_catalyst_ref(model) -> bool:
    """A built-in catalyst name, a Catalyst, or FILE.yaml:SPECIES — as opposed to a mechanism path."""
    if isinstance(model, Catalyst):
        return True
    if not isinstance(model, str):
        return False
    if not model.endswith(MODEL_SUFFIXES) and ":" not in model:
        return True
    return ":" in model and model.rpartition(":")[0].endswith(MODEL_SUFFIXES)


def _model_spec(model):
    """(files, dose species or None, name) of a catalyst reference or a mechanism path / list of paths."""
    if _is_catalyst_ref(model):
        catalyst = parse_catalyst(model)
        if catalyst.name in NANOMATERIALS and catalyst == NANOMATERIALS[catalyst.name]:
            # A sweep's dose is molar; for a solid that would silently mean formula units (fentonsim.dosing).
            raise ConditionsError(f"`{catalyst.name}` is a nanomaterial dosed by mass, which sweeps do not take; "
                                  "compare it (`fentonsim compare --catalyst "
                                  f"{catalyst.name} --dose {catalyst.name}=50ug/mL`) or sweep its mechanism file "
                                  f"with `{catalyst.species}` in formula units [M]")
        return tuple(str(f) for f in catalyst.files), catalyst.species, catalyst.name
    files = tuple(str(f) for f in (model if isinstance(model, (list, tuple)) else [model]))
    for f in files:
        if not Path(f).exists():
            raise ConditionsError(f"model file `{f}` not found")
    return files, None, "+".join(Path(f).stem for f in files)


def _model_specs(models):
    """{name: spec} and whether ``model`` is a dimension: a dict, or a list of catalyst references, is."""
    if isinstance(models, dict):
        return {str(name): _model_spec(m) for name, m in models.items()}, True
    if isinstance(models, (list, tuple)) and models and all(_is_catalyst_ref(m) for m in models):
        specs = {}
        for m in models:
            spec = _model_spec(m)
            if spec[2] in specs:
                raise ConditionsError(f"model `{spec[2]}` is given twice")
            specs[spec[2]] = spec
        return specs, True
    return {None: _model_spec(models)}, False


def _values(key, values):
    values = list(np.atleast_1d(values)) if not isinstance(values, (list, tuple)) else list(values)
    if not values:
        raise ConditionsError(f"grid `{key}` has no values")
    if key == "pH":
        try:
            out = [float(v) for v in values]
        except (TypeError, ValueError):
            raise ConditionsError(f"grid `pH` values must be numbers, found {values}") from None
        bad = [v for v in out if not 0 <= v <= 14]
        if bad:
            raise ConditionsError(f"grid `pH` must lie between 0 and 14, found {bad[0]:g}")
        return out
    if key == "temperature":
        return [user_quantity(v, TEMPERATURE, "K", "grid `temperature`") for v in values]
    if key == "volume":
        return [parse_quantity(v, VOLUME, "L", "grid `volume`") for v in values]
    if key == "parameter_set":
        return [None if v in (None, "", "default") else str(v) for v in values]
    if key.startswith("rate:"):
        # A number is in canonical units; a string keeps its unit for the worker to check against the order.
        out = []
        for v in values:
            try:
                out.append(float(v))
            except (TypeError, ValueError):
                out.append(str(v))
        # A coordinate holds one type: with any quantity written out, every value is kept as text.
        return [str(v) for v in out] if any(isinstance(v, str) for v in out) else out
    out = [user_quantity(v, CONCENTRATION, "M", f"grid `{key}`") for v in values]
    if any(v < 0 for v in out):
        raise ConditionsError(f"grid `{key}` concentrations must be ≥ 0")
    return out


def _point(assignment, dose_species, dose):
    """A worker point from {grid key: value}: conditions plus the mechanism-defining keys, and the metal
    dose of this point (for ·OH per metal) when the model is a catalyst."""
    point = {"initial": {}, "buffered": {}, "rates": {}, "parameter_set": None}
    if dose_species is not None:
        point["initial"][dose_species] = dose
    for key, value in assignment.items():
        if key in ("pH", "temperature", "volume", "parameter_set", "model"):
            point[key] = value
        elif key.startswith("rate:"):
            point["rates"][key[5:]] = value
        elif key.startswith("buffered:"):
            point["buffered"][key[9:]] = value
        else:
            point["initial"][key] = value
    point["metal_dose"] = point["initial"].get(dose_species) if dose_species is not None else None
    return point


def sweep(models, grid=None, *, points=None, method="ode", conditions=None, dose=None, t_end="1 h",
          n_points=61, rtol=1e-6, atol=None, output="metrics", runs=20, seed=0, backend="batch", client=None,
          n_workers=None, chunk_size=None, store=None, progress=None, boluses=(), sources=()) -> xr.Dataset:
    """Run ``models`` over the ``grid`` (Cartesian product) or the explicit ``points`` (module docstring).

    Parameters
    ----------
    models : model, list of catalysts, or dict of models
        A catalyst (``"iron"``: its file with glutathione, dosed with ``dose``; ``FILE.yaml:SPECIES``), or a
        mechanism path or list of paths merged into one model. A list of catalysts, or a dict name → model,
        sweeps several models along a leading ``model`` dimension.
    grid : mapping of str to sequence
        Swept values per key, in dimension order.
    points : sequence of mappings, optional
        Explicit conditions instead of a grid (dimension ``point``; each key becomes a coordinate).
    method : {"ode", "ssa", "tau-leap", "auto"}
    conditions : str or path, optional
        Condition preset applied under every point (``"tme"``): its pH, T, H2O2, GSH, O2, HCO3-.
    dose : float or str, default "20 uM"
        Metal dose [M] of catalyst models (a grid axis named after the metal species overrides it);
        ``oh_per_metal`` divides by each point's dose and is NaN for models without a dosed metal.
    output : {"metrics", "full"}
    runs, seed : stochastic sweeps: trajectories per condition and the base seed.
    backend : {"batch", "process", "dask"}
    client : dask.distributed.Client, optional
        Use this cluster (backend "dask"); otherwise a LocalCluster of ``n_workers`` (default 2) is started.
    chunk_size : int, optional
        Conditions per task (default: each mechanism's conditions in chunks of 256).
    store : path, optional
        Directory that makes the sweep resumable.
    progress : bool, optional
        tqdm progress bar (default: when stderr is a terminal).
    boluses, sources : sequences of fentonsim.Bolus / fentonsim.Source
        Inputs applied at every point, after the model's own events at equal times (as simulate()).

    Returns
    -------
    xarray.Dataset
        Metric variables (units, long_name) over the swept dimensions; ``status``; attrs ``n_conditions``,
        ``backend``, ``wall_time_s``, ``method``, ``validity_warnings`` and the settings.
    """
    start = time.perf_counter()
    if method not in METHODS:
        raise ConditionsError(f"unknown method `{method}`; expected one of {', '.join(METHODS)}")
    if backend not in BACKENDS:
        raise ConditionsError(f"unknown backend `{backend}`; expected one of {', '.join(BACKENDS)}")
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer))
                                  or n_workers < 1):
        raise ConditionsError(f"`workers` must be a positive integer, found {n_workers!r}")
    if output not in OUTPUTS:
        raise ConditionsError(f"unknown output `{output}`; expected one of {', '.join(OUTPUTS)}")
    if (grid is None) == (points is None):
        raise ConditionsError("give either `grid` (a Cartesian product) or `points` (a list of conditions)")
    specs, named = _model_specs(models)
    dose_m = user_quantity(DEFAULT_DOSE if dose is None else dose, CONCENTRATION, "M", "`dose`")
    if not dose_m > 0:
        raise ConditionsError(f"`dose` must be positive, found {dose!r}")
    preset = None if conditions is None else conditions
    if preset is not None:
        resolve_conditions(preset)  # fail early on an unknown preset
    t_end_s = parse_quantity(t_end, TIME, "s", "`t_end`")

    # Conditions: a Cartesian product (dims = grid keys) or a list (dim "point").
    if grid is not None:
        grid = dict(grid)
        if "model" in grid:
            raise ConditionsError("give models through `models` (a dict adds the `model` dimension), not the grid")
        axes = {"model": list(specs)} if named else {}
        axes.update({key: _values(key, values) for key, values in grid.items()})
        dims = list(axes)
        shape = tuple(len(v) for v in axes.values())
        if math.prod(shape) > MAX_CONDITIONS:
            raise ConditionsError(f"the grid has {math.prod(shape):,} conditions ({' × '.join(map(str, shape))}), more "
                                  f"than a sweep takes ({MAX_CONDITIONS:,}); use fewer values per axis")
        assignments = [dict(zip(dims, combo)) for combo in itertools.product(*axes.values())]
    else:
        assignments = []
        for p in points:
            p = dict(p)
            if named and p.get("model") not in specs:
                raise ConditionsError(f"point {p} needs a `model` among {', '.join(specs)}")
            assignments.append({k: (_values(k, [v])[0] if k != "model" else v) for k, v in p.items()})
        dims, shape, axes = ["point"], (len(assignments),), None
    if method == "ode" and any("volume" in a for a in assignments):
        raise ConditionsError("`volume` is a stochastic setting; sweep it with method='ssa' (or tau-leap/auto)")

    # Group by mechanism: model and parameter set decide the compiled network (rates act on k).
    groups = {}
    for index, assignment in enumerate(assignments):
        name = assignment.get("model") if named else None
        files, dose_species, _ = specs[name]
        point = _point(assignment, dose_species, dose_m)
        key = (name, point["parameter_set"])
        point["index"] = index
        groups.setdefault(key, []).append(point)
    settings = {"method": method, "t_end": t_end_s, "n_points": int(n_points), "rtol": float(rtol),
                "atol": atol, "output": output, "runs": int(runs), "seed": int(seed),
                "threads": 1 if backend in ("process", "dask") else 0}
    if output == "full" and len(specs) > 1:
        raise ConditionsError("output='full' needs a single model (species differ between models); "
                              "use output='metrics' or sweep each model")
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise ConditionsError(f"`chunk_size` must be a positive integer, found {chunk_size!r}")
    size = int(chunk_size or DEFAULT_CHUNK)
    tasks = []
    for (name, parameter_set), members in groups.items():
        files = specs[name][0]
        for offset in range(0, len(members), size):
            chunk = members[offset:offset + size]
            tasks.append({"files": files, "parameter_set": parameter_set, "preset": preset,
                          "boluses": tuple(boluses), "sources": tuple(sources),
                          "points": [{k: v for k, v in p.items() if k != "parameter_set"} for p in chunk],
                          "settings": settings})
    chunk_indices = [[p["index"] for p in t["points"]] for t in tasks]

    chunk_store = None
    if store is not None:
        from .models import load
        # Everything that decides the numbers: every file each model reads (includes too), the resolved
        # preset (its values, not its name), the conditions and the settings — but not the backend.
        description = {"models": {str(k): [v[0], v[1]] for k, v in specs.items()},
                       "mechanisms": {str(k): [_file_digest(f) for f in load(list(v[0])).files]
                                      for k, v in specs.items()},
                       "assignments": assignments, "dose": dose_m,
                       "inputs": [repr(i) for i in tuple(boluses) + tuple(sources)],
                       "settings": {k: v for k, v in settings.items() if k != "threads"},
                       "preset": repr(resolve_conditions(preset)) if preset is not None else "",
                       "chunks": chunk_indices}
        chunk_store = ChunkStore(store, fingerprint(description), chunk_indices)
    results = _execute(tasks, chunk_store, backend, client, n_workers, progress)
    dataset = _assemble(results, chunk_indices, dims, shape, axes, assignments, len(assignments), settings)
    dataset.attrs.update({"fentonsim_version": __version__, "n_conditions": len(assignments), "backend": backend,
                          "method": method,
                          "conditions": "" if preset is None else str(preset), "t_end_s": t_end_s,
                          "dose_M": dose_m if dose_m is not None else 0.0, "runs": runs if method != "ode" else 0,
                          # NetCDF-3 attributes hold 32-bit integers; a larger seed is kept exactly as text.
                          "seed": seed if -2 ** 31 <= seed < 2 ** 31 else str(seed), "n_chunks": len(tasks), "wall_time_s": time.perf_counter() - start,
                          VALIDITY_ATTRIBUTE: _validity_lines(tasks)})
    if chunk_store is not None:
        chunk_store.write_result(dataset)
    return dataset


#: At most this many distinct caveat lines in a sweep's ``validity_warnings`` (then a count of the rest).
MAX_VALIDITY_LINES = 20


def _validity_lines(tasks) -> str:
    """The distinct yield-law caveats (fentonsim.validity) of every swept point, as simulate() would record them
    for each point, lines joined by "\\n" ("" when none)."""
    lines = []
    for task in tasks:
        network = network_for(task)
        if not network.yield_laws:
            continue
        preset = resolve_conditions(task["preset"])
        for point in task["points"]:
            pH = next(v for v in (point.get("pH"), preset.pH, network.defaults.pH) if v is not None)
            T = next(v for v in (point.get("temperature"), preset.temperature, network.defaults.temperature)
                     if v is not None)
            lines += [line for line in yield_law_warnings(network.yield_laws, float(pH), float(T))
                      if line not in lines]
    if len(lines) > MAX_VALIDITY_LINES:
        lines = lines[:MAX_VALIDITY_LINES] + [f"… and {len(lines) - MAX_VALIDITY_LINES} more"]
    return "\n".join(lines)


def _file_digest(path) -> str:
    return fingerprint(Path(path).read_text(encoding="utf-8"))


def _execute(tasks, chunk_store, backend, client, n_workers, progress):
    """Run the tasks not already stored; returns {task index: arrays}."""
    results = {}
    pending = []
    for i in range(len(tasks)):
        if chunk_store is not None and chunk_store.done(i):
            results[i] = chunk_store.load(i)
        else:
            pending.append(i)
    bar = progress_bar(len(tasks), progress, unit="chunk", desc="sweep")
    bar.update(len(tasks) - len(pending))

    def finish(i, arrays):
        if chunk_store is not None:
            chunk_store.save(i, arrays)
        results[i] = arrays
        bar.update(1)

    try:
        if backend == "batch":
            for i in pending:
                finish(i, run_chunk(tasks[i]))
        elif backend == "process":
            _run_process_pool(tasks, pending, n_workers, finish)
        else:
            _run_dask(tasks, pending, client, n_workers, finish)
    finally:
        bar.close()
    return results


def _run_process_pool(tasks, pending, n_workers, finish):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Spawned, not forked: a forked child of a process whose numba threads are running can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n_workers or os.cpu_count() or 1, mp_context=context) as pool:
        futures = {pool.submit(run_chunk, tasks[i]): i for i in pending}
        for future in as_completed(futures):
            finish(futures[future], future.result())


def _run_dask(tasks, pending, client, n_workers, finish):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConditionsError("backend='dask' needs dask.distributed: pip install -e '.[distributed]'") from None
    own = client is None
    if own:
        # Dask's scheduler and workers log INFO lines (startup, addresses, shutdown) that bury the result;
        # they pass only when the caller turned fentonsim's logger to INFO (the CLI's --verbose).
        verbose = logging.getLogger("fentonsim").isEnabledFor(logging.INFO)
        cluster = LocalCluster(n_workers=n_workers or 2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=False if verbose else logging.WARNING)
        client = Client(cluster)
    try:
        # A task lost with a killed worker is rerun on another (Dask reschedules it); retries also cover
        # transient exceptions.
        futures = {client.submit(run_chunk, tasks[i], pure=False, retries=2): i for i in pending}
        for future in as_completed(list(futures)):
            finish(futures[future], future.result())
    finally:
        if own:
            client.close()
            cluster.close()


def _assemble(results, chunk_indices, dims, shape, axes, assignments, n, settings) -> xr.Dataset:
    metric_names, width, full = [], None, None
    for arrays in results.values():
        for key, value in arrays.items():
            if key.startswith("metric:") and key[7:] not in metric_names:
                metric_names.append(key[7:])
                width = value.shape[1:] if width is None else width
            if key == "concentration":
                full = value.shape[1:]
    flat = {name: np.full((n,) + tuple(width or ()), np.nan) for name in metric_names}
    status = np.ones(n, dtype=np.int8)
    concentration = None if full is None else np.full((n,) + full, np.nan)
    for i, indices in enumerate(chunk_indices):
        arrays = results[i]
        for name in metric_names:
            if f"metric:{name}" in arrays:
                flat[name][indices] = arrays[f"metric:{name}"]
        status[indices] = arrays["status"]
        if concentration is not None and "concentration" in arrays:
            concentration[indices] = arrays["concentration"]
    stochastic = bool(width)
    extra = ("statistic",) if stochastic else ()
    variables = {}
    for name in metric_names:
        unit, long_name = describe(name)
        variables[name] = (tuple(dims) + extra, flat[name].reshape(shape + tuple(width or ())),
                           {"units": unit, "long_name": long_name})
    variables["status"] = (tuple(dims), status.reshape(shape), {"units": "1", "long_name": "0 ok, 1 failed (NaN)"})
    coords = {}
    if axes is not None:
        for key, values in axes.items():
            coords[key] = (key, np.array(values, dtype=_coord_dtype(key, values)), _coord_attrs(key))
        if "parameter_set" in coords:
            coords["parameter_set"] = ("parameter_set", [v or "default" for v in axes["parameter_set"]])
        if "model" in coords:
            coords["model"] = ("model", [str(v) for v in axes["model"]])
    else:
        coords["point"] = ("point", np.arange(n))
        for key in sorted({k for a in assignments for k in a}):
            missing = {"model": "", "parameter_set": "default"}.get(key, np.nan)
            values = [a.get(key, missing) for a in assignments]
            if key == "parameter_set":
                values = [v or "default" for v in values]
            coords[key] = ("point", np.array(values, dtype=_coord_dtype(key, values)), _coord_attrs(key))
    if stochastic:
        coords["statistic"] = ("statistic", ["mean", "ci_low", "ci_high"])
    if concentration is not None:
        n_out = concentration.shape[1]
        coords["time"] = ("time", np.linspace(0.0, settings["t_end"], n_out), {"units": "s"})
        variables["concentration"] = (tuple(dims) + ("time", "species"),
                                      concentration.reshape(shape + concentration.shape[1:]),
                                      {"units": "M", "long_name": "concentration"})
    dataset = xr.Dataset(variables, coords=coords)
    failed = int((status != 0).sum())
    if failed:
        import warnings
        warnings.warn(f"{failed} of {n} sweep conditions failed (status 1, values NaN)", RuntimeWarning, stacklevel=3)
    return dataset


def _coord_dtype(key, values):
    text = key in ("model", "parameter_set") or any(isinstance(v, str) for v in values)
    return object if text else float


def _coord_attrs(key):
    if key == "pH" or key == "model" or key == "parameter_set":
        return {}
    if key == "temperature":
        return {"units": "K"}
    if key == "volume":
        return {"units": "L"}
    if key.startswith("rate:"):
        return {"units": "M^(1-m) s^-1", "long_name": f"rate constant of {key[5:]}"}
    return {"units": "M", "long_name": f"initial {key}" if not key.startswith("buffered:") else f"clamped {key[9:]}"}


def parse_range(text: str) -> list[float]:
    """CLI grid values: ``start:stop:step`` of plain numbers in canonical units (stop included), or a comma
    list whose values may carry units (``10 uM,100 uM``)."""
    text = text.strip()
    if ":" in text and "," not in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ConditionsError(f"expected START:STOP:STEP, found `{text}`")
        try:
            start, stop, step = (float(p) for p in parts)
        except ValueError:
            raise ConditionsError(f"`{text}`: START:STOP:STEP takes plain numbers in canonical units (M, K, s); "
                                  "use a comma list for values with units") from None
        if not step > 0 or stop < start:
            raise ConditionsError(f"`{text}`: need STEP > 0 and STOP ≥ START")
        count = (stop - start) / step + 1e-9
        if not math.isfinite(count) or count >= MAX_CONDITIONS:
            raise ConditionsError(f"`{text}` has {count:.3g} values, more than a sweep takes ({MAX_CONDITIONS:,}); "
                                  "use a larger STEP")
        n = int(math.floor(count)) + 1
        return [round(start + i * step, 12) for i in range(n)]
    return [v.strip() for v in text.split(",") if v.strip()]
