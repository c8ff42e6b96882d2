"""Write simulation results as CSV tables.

Layouts (values are concentrations in M — or molecule counts for a model whose
species are counts, such as an SBML model in items — times in s):

- a deterministic result, or a stochastic result with one run: ``time,<species>…``;
- a stochastic result with streaming statistics: ``time,<species>_mean,<species>_sd…``;
- a stochastic result with several runs kept: ``run,time,<species>…`` (long format).

Files are written atomically: to a temporary file beside the target, then
renamed, so an interrupted write never leaves a truncated table.
"""
from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ConditionsError
from .results import species_molecules_per_molar


def csv_rows(dataset):
    """(header, rows) of ``dataset`` in the layout the module docstring describes.

    Observables (imported SBML assignment rules, fentonsim.observables) follow the species as extra
    columns, in their own units.
    """
    species = [str(s) for s in dataset.species.values]
    observables = [str(o) for o in dataset.observable.values] if "observable" in dataset.coords else []
    time = dataset.time.values
    # A count model reports counts, each in its species' own compartment.
    scale = species_molecules_per_molar(dataset) if dataset.attrs.get("counts") else 1.0
    if "concentration_mean" in dataset:
        header = ["time"] + [f"{s}_{stat}" for s in species + observables for stat in ("mean", "sd")]
        mean, sd = dataset.concentration_mean.values * scale, dataset.concentration_sd.values * scale
        if observables:
            mean = np.concatenate([mean, dataset.observed_mean.values], axis=-1)
            sd = np.concatenate([sd, dataset.observed_sd.values], axis=-1)
        rows = [[time[i]] + [v for pair in zip(mean[i], sd[i]) for v in pair] for i in range(time.size)]
        return header, rows
    values = dataset.concentration.values * scale
    if dataset.attrs.get("counts") and "count" in dataset:  # exact integers, not count/(N_A V)·(N_A V)
        values = np.where(dataset["count"].values < 0, np.nan, dataset["count"].values)
    if observables:
        values = np.concatenate([values, dataset.observed.values], axis=-1)
    names = species + observables
    if values.ndim == 2:
        return ["time"] + names, [[time[i], *values[i]] for i in range(time.size)]
    if values.shape[0] == 1:
        return ["time"] + names, [[time[i], *values[0, i]] for i in range(time.size)]
    header = ["run", "time"] + names
    rows = [[r, time[i], *values[r, i]] for r in range(values.shape[0]) for i in range(time.size)]
    return header, rows


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(path, binary=False):
    """A text file (UTF-8; or ``binary``) at ``path`` that appears only complete: written beside it, then renamed."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise ConditionsError(f"cannot write `{path}`: directory `{path.parent}` does not exist")
    if path.is_dir():  # appeared since check_output (e.g. `sweep --store X --out X` created it)
        raise ConditionsError(f"output `{path}` is a directory; expected a file name such as "
                              f"`{path / 'result'}{path.suffix or ''}`")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with (os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", newline="", encoding="utf-8")) as fh:
            yield fh
        # mkstemp makes the file 0600; an output should have the permissions any new file gets here (the umask).
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


#: How each kind of output fentonsim writes begins (or what its first 64 KiB contain): an existing file that
#: shows none of them was not written by fentonsim and is not overwritten without asking.
_SIGNATURES = {".csv": (b"time,", b"run,time,", b"rank,parameter,", b"rank,model,condition,"),
               ".nc": (b"fentonsim",), ".xml": (b"Exported by fentonsim",), ".sbml": (b"Exported by fentonsim",),
               # Figures: the Creator mark fentonsim.plotting.save_figure writes (PNG text chunk, SVG metadata).
               ".png": (b"tEXtCreator\x00fentonsim",), ".svg": (b"<dc:title>fentonsim</dc:title>",)}


def _written_by_fentonsim(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    marks = _SIGNATURES.get(path.suffix.lower(), ())
    return any(head.startswith(m) if m.endswith(b",") else m in head for m in marks)


def check_output(path, *, inputs=(), overwrite=False, directory=False) -> Path:
    """Refuse an output path before any work is done: a directory where a file is expected (or the reverse),
    a missing or unwritable parent directory, one of the run's ``inputs``, a special file, or an existing file
    fentonsim did not write (unless ``overwrite``).

    Raises
    ------
    ConditionsError
        Naming the path, what was expected and what was found.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ConditionsError(f"cannot write `{path}`: directory `{parent}` does not exist")
    if not os.access(parent, os.W_OK):
        raise ConditionsError(f"cannot write `{path}`: directory `{parent}` is not writable")
    if directory:
        if path.exists() and not path.is_dir():
            raise ConditionsError(f"output `{path}` exists and is not a directory; expected a directory for the "
                                  "outputs (give a new name)")
        return path
    if path.is_dir():
        raise ConditionsError(f"output `{path}` is a directory; expected a file name such as `{path / 'result'}`"
                              f"{path.suffix or ''}")
    for source in inputs:
        try:
            same = Path(source).exists() and path.exists() and os.path.samefile(source, path)
        except OSError:
            same = False
        if same:
            raise ConditionsError(f"output `{path}` is an input of this run (`{source}`); writing it would destroy "
                                  "the input — give another output name")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise ConditionsError(f"output `{path}` exists and is not a regular file; give another name")
        if not overwrite and not _written_by_fentonsim(path):
            raise ConditionsError(f"output `{path}` exists and was not written by fentonsim; give another name or "
                                  "pass --overwrite")
        if not os.access(path, os.W_OK):
            raise ConditionsError(f"cannot write `{path}`: the file is read-only")
    return path


def write_csv(dataset, path) -> Path:
    """Write ``dataset`` to ``path`` (see the module docstring); returns the path."""
    header, rows = csv_rows(dataset)
    with atomic_output(path) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_format(v) for v in row])
    return Path(path)


def _format(value):
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))
