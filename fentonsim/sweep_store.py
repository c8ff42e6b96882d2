"""Resumable on-disk storage of a sweep: one file per finished chunk, written atomically, checked on reuse.

Layout of a store directory:

``manifest.json``       the sweep's fingerprint (a hash of everything that determines its numbers) and
                        its chunks (lists of condition indices); written atomically, validated on reopening
``chunk-<i>.npz``       the arrays of chunk i (see fentonsim.sweep_worker) plus a ``store-meta`` entry: the
                        sweep's fingerprint, the chunk index, its condition indices and the sha256 of the
                        arrays; written to a temporary name and renamed, so a file that exists is complete
``result.nc``           the assembled Dataset (NetCDF 3), written at the end, atomically

Reopening a store with the same fingerprint skips every chunk already on disk whose record matches — an
interrupted sweep (Ctrl-C, a killed process or worker) resumes where it stopped and recomputes nothing that is
good. A chunk file that was damaged (zeroed, truncated), renamed onto another chunk's name or copied from another
sweep fails its check and is recomputed with a RuntimeWarning naming it, so a resumed sweep never returns other
numbers than a fresh one. A store holding a different sweep's chunks or result is refused rather than mixed; one
holding only another sweep's manifest (a sweep that failed before its first chunk) is taken over.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np

from .errors import ConditionsError
from .tables import atomic_output

MANIFEST, RESULT = "manifest.json", "result.nc"
#: Name of the npz entry holding a chunk's record; has no "__", so it never collides with an encoded array name.
META = "store-meta"


def fingerprint(description) -> str:
    """sha256 of a JSON-serialisable description of the sweep."""
    return hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode()).hexdigest()


def _atomic_write(path: Path, write) -> None:
    with atomic_output(path, binary=True) as fh:
        write(fh)


def _checksum(record: dict, arrays: dict) -> str:
    """sha256 of the record (fingerprint, chunk, conditions) and of every array's name, dtype, shape and bytes.

    The record is hashed too, so editing it (to pass a chunk off as another) breaks the checksum. Bytes are taken
    in C order, which is what np.load gives back whatever order the array was saved in."""
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode())
    for name in sorted(arrays):
        value = np.asarray(arrays[name])
        digest.update(json.dumps([name, value.dtype.str, list(value.shape)]).encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


class _BadChunk(Exception):
    """A chunk file that must not be used; the message says why."""


class ChunkStore:
    """The chunks of one sweep under ``directory`` (created if needed)."""

    def __init__(self, directory, key: str, chunks):
        self.directory = Path(directory)
        self.key = key
        self.chunks = [[int(c) for c in chunk] for chunk in chunks]
        # Arrays checked by done() and handed out by load(): the check reads the whole file, so read it once —
        # and what load() returns is then exactly what was checked, even if the file changes in between.
        self._checked = {}
        if self.directory.exists() and not self.directory.is_dir():
            raise ConditionsError(f"sweep store `{self.directory}` exists and is not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = self.directory / MANIFEST
        if manifest.exists():
            stored = self._read_manifest(manifest)
            if stored is None or stored["fingerprint"] != key:
                # A manifest alone (a sweep that failed before its first chunk, or a damaged manifest next to
                # nothing) holds no numbers: taking it over loses nothing and lets the sweep be retried in place.
                # (_read_manifest already refused a damaged manifest next to results.)
                kept = self._kept_files()
                if kept:
                    raise ConditionsError(
                        f"sweep store `{self.directory}` holds a different sweep (other models, grid or settings) "
                        f"and its results ({', '.join(p.name for p in kept[:3])}{', …' if len(kept) > 3 else ''}); "
                        "use a new directory or delete this one")
            elif stored["chunks"] != self.chunks:
                raise ConditionsError(
                    f"sweep store `{self.directory}`: `{manifest}` records other chunks than this sweep's although "
                    "its fingerprint matches, so it was edited or damaged; delete the manifest to resume (every "
                    "chunk file is checked against this sweep before reuse) or use a new directory")
            else:
                return
        text = json.dumps({"fingerprint": key, "chunks": self.chunks}).encode()
        _atomic_write(manifest, lambda fh: fh.write(text))

    def _read_manifest(self, manifest: Path):
        """The validated manifest {"fingerprint": str, "chunks": [[int]]}; None if it cannot be used as one, unless
        the directory holds results, in which case a ConditionsError says what is wrong and what to do."""
        try:
            stored = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            problem = f"is not readable JSON (truncated or overwritten? {error})"
        else:
            problem = self._manifest_problem(stored)
            if problem is None:
                return stored
        if self._kept_files():
            raise ConditionsError(
                f"sweep store `{self.directory}`: manifest `{manifest}` {problem}; delete the manifest to resume "
                "this sweep (every chunk file is checked against the sweep before reuse, and any other is "
                "recomputed) or use a new directory")
        return None

    @staticmethod
    def _manifest_problem(stored):
        if not isinstance(stored, dict) or set(stored) != {"fingerprint", "chunks"}:
            return "is not a sweep manifest (expected an object with `fingerprint` and `chunks`)"
        if not isinstance(stored["fingerprint"], str) or not stored["fingerprint"]:
            return "has no valid `fingerprint` (expected a non-empty string)"
        chunks = stored["chunks"]
        if not (isinstance(chunks, list) and all(isinstance(c, list) for c in chunks)
                and all(isinstance(i, int) and not isinstance(i, bool) for c in chunks for i in c)):
            return "has no valid `chunks` (expected lists of condition indices)"
        return None

    def _kept_files(self) -> list:
        """The files worth keeping: chunks and the result (temporary files of interrupted writes are not)."""
        return sorted(self.directory.glob("chunk-*.npz")) + [p for p in (self.directory / RESULT,) if p.exists()]

    def _path(self, index: int) -> Path:
        return self.directory / f"chunk-{index:06d}.npz"

    def _record(self, index: int) -> dict:
        return {"fingerprint": self.key, "chunk": int(index), "conditions": self.chunks[index]}

    def _read(self, index: int) -> dict:
        """The arrays of chunk ``index`` after checking its record and checksum; _BadChunk says why not."""
        path = self._path(index)
        try:
            with np.load(path, allow_pickle=False) as data:
                files = list(data.files)
                arrays = {k: data[k] for k in files if k != META}
                meta = str(data[META][()]) if META in files else None
        except Exception as error:  # any failure to parse means a damaged file; KeyboardInterrupt still stops
            raise _BadChunk(f"is unreadable ({type(error).__name__}: {error})") from None
        if meta is None:
            raise _BadChunk("carries no checksum (damaged, or written by an older fentonsim)")
        try:
            meta = json.loads(meta)
            record = {k: meta[k] for k in ("fingerprint", "chunk", "conditions")}
            stored_sum = meta["sha256"]
        except (ValueError, TypeError, KeyError):
            raise _BadChunk("has a malformed record") from None
        if record["fingerprint"] != self.key:
            raise _BadChunk("belongs to a different sweep")
        if record["chunk"] != index or record["conditions"] != self.chunks[index]:
            raise _BadChunk(f"holds chunk {record['chunk']}, not chunk {index} (renamed or swapped)")
        if _checksum(record, arrays) != stored_sum:
            raise _BadChunk("fails its checksum (its numbers were altered)")
        return {k.replace("__", ":"): v for k, v in arrays.items()}

    def done(self, index: int) -> bool:
        """Whether chunk ``index`` is stored and passes its check; a file that fails is reported (RuntimeWarning
        naming it) and counts as not done, so the sweep recomputes it and overwrites it."""
        path = self._path(index)
        if not path.exists():
            return False
        try:
            self._checked[index] = self._read(index)
        except _BadChunk as bad:
            warnings.warn(f"sweep store: chunk file `{path}` {bad}; recomputing chunk {index}", RuntimeWarning,
                          stacklevel=2)
            return False
        return True

    def save(self, index: int, arrays: dict) -> None:
        self._checked.pop(index, None)
        encoded = {k.replace(":", "__"): np.asarray(v) for k, v in arrays.items()}
        if META in encoded:
            raise ValueError(f"`{META}` is reserved for the store's record")
        record = self._record(index)
        meta = json.dumps({**record, "sha256": _checksum(record, encoded)})
        _atomic_write(self._path(index), lambda fh: np.savez(fh, **encoded, **{META: np.array(meta)}))

    def load(self, index: int) -> dict:
        """The checked arrays of chunk ``index``; a file that fails its check is refused (ConditionsError naming
        it) — call done() first to have it recomputed instead."""
        if index in self._checked:
            return self._checked.pop(index)
        try:
            return self._read(index)
        except _BadChunk as bad:
            raise ConditionsError(f"sweep store: chunk file `{self._path(index)}` {bad}; delete it and rerun the "
                                  "sweep to recompute it") from None

    def write_result(self, dataset) -> Path:
        path = self.directory / RESULT
        content = netcdf3_bytes(dataset)
        _atomic_write(path, lambda fh: fh.write(content))
        return path


def netcdf3_bytes(dataset) -> bytes:
    """``dataset`` as NetCDF-3 bytes (scipy's writer, no extra dependency).

    Raises
    ------
    ConditionsError
        When a dimension is empty (a model whose species are all clamped or rule-defined has no
        ``species`` to integrate): NetCDF-3 writes such a file but cannot read it back.
    """
    empty = [str(name) for name, size in dataset.sizes.items() if size == 0]
    if empty:
        raise ConditionsError(f"the result has an empty `{empty[0]}` dimension (a model without integrated species "
                              "has no species to store), which a NetCDF-3 file cannot hold readably; simulate the "
                              "model and write its table (CSV) instead")
    return dataset.to_netcdf(engine="scipy")
