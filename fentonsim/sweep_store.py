"""Resumable on-disk storage of a sweep: one file per finished chunk, written atomically.

Layout of a store directory:

``manifest.json``       the sweep's fingerprint (a hash of everything that determines its numbers) and
                        its chunks (lists of condition indices); written once, atomically
``chunk-<i>.npz``       the arrays of chunk i (see fentonsim.sweep_worker), written to a temporary
                        name and renamed, so a file that exists is complete
``result.nc``           the assembled Dataset (NetCDF 3), written at the end, atomically

Reopening a store with the same fingerprint skips every chunk already on disk — an interrupted sweep
(Ctrl-C, a killed process or worker) resumes where it stopped and recomputes nothing; a store holding a
different sweep is refused rather than mixed.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ConditionsError

MANIFEST, RESULT = "manifest.json", "result.nc"


def fingerprint(description) -> str:
    """sha256 of a JSON-serialisable description of the sweep."""
    return hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode()).hexdigest()


def _atomic_write(path: Path, write) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as fh:
            write(fh)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class ChunkStore:
    """The chunks of one sweep under ``directory`` (created if needed)."""

    def __init__(self, directory, key: str, chunks):
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise ConditionsError(f"sweep store `{self.directory}` exists and is not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = self.directory / MANIFEST
        if manifest.exists():
            stored = json.loads(manifest.read_text(encoding="utf-8"))
            if stored.get("fingerprint") != key:
                raise ConditionsError(
                    f"sweep store `{self.directory}` holds a different sweep (other models, grid or settings); "
                    "use a new directory or delete this one")
        else:
            text = json.dumps({"fingerprint": key, "chunks": [list(map(int, c)) for c in chunks]}).encode()
            _atomic_write(manifest, lambda fh: fh.write(text))

    def _path(self, index: int) -> Path:
        return self.directory / f"chunk-{index:06d}.npz"

    def done(self, index: int) -> bool:
        return self._path(index).exists()

    def save(self, index: int, arrays: dict) -> None:
        _atomic_write(self._path(index), lambda fh: np.savez(fh, **{k.replace(":", "__"): v for k, v in arrays.items()}))

    def load(self, index: int) -> dict:
        with np.load(self._path(index)) as data:
            return {k.replace("__", ":"): data[k] for k in data.files}

    def write_result(self, dataset) -> Path:
        path = self.directory / RESULT
        _atomic_write(path, lambda fh: fh.write(dataset.to_netcdf(engine="scipy")))
        return path
