"""Write simulation results as CSV tables.

Layouts (values are concentrations in M, times in s):

- a deterministic result, or a stochastic result with one run: ``time,<species>…``;
- a stochastic result with streaming statistics: ``time,<species>_mean,<species>_sd…``;
- a stochastic result with several runs kept: ``run,time,<species>…`` (long format).

Files are written atomically: to a temporary file beside the target, then
renamed, so an interrupted write never leaves a truncated table.
"""
from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ConditionsError


def csv_rows(dataset):
    """(header, rows) of ``dataset`` in the layout the module docstring describes."""
    species = [str(s) for s in dataset.species.values]
    time = dataset.time.values
    if "concentration_mean" in dataset:
        header = ["time"] + [f"{s}_{stat}" for s in species for stat in ("mean", "sd")]
        mean, sd = dataset.concentration_mean.values, dataset.concentration_sd.values
        rows = [[time[i]] + [v for pair in zip(mean[i], sd[i]) for v in pair] for i in range(time.size)]
        return header, rows
    values = dataset.concentration.values
    if values.ndim == 2:
        return ["time"] + species, [[time[i], *values[i]] for i in range(time.size)]
    if values.shape[0] == 1:
        return ["time"] + species, [[time[i], *values[0, i]] for i in range(time.size)]
    header = ["run", "time"] + species
    rows = [[r, time[i], *values[r, i]] for r in range(values.shape[0]) for i in range(time.size)]
    return header, rows


def write_csv(dataset, path) -> Path:
    """Write ``dataset`` to ``path`` (see the module docstring); returns the path."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise ConditionsError(f"cannot write `{path}`: directory `{path.parent}` does not exist")
    header, rows = csv_rows(dataset)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_format(v) for v in row])
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def _format(value):
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))
