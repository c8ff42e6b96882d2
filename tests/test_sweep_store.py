"""The sweep store cannot lie: a damaged, truncated, swapped or foreign chunk file is detected and recomputed (so a
resumed sweep equals a fresh one exactly), a damaged manifest is a clear ConditionsError, and a sweep that failed
before storing anything can be retried in place."""
from __future__ import annotations

import json
import shutil
import sys
import warnings

import numpy as np
import pytest
import xarray as xr

import fentonsim
from fentonsim import sweep_worker
from fentonsim.sweep import sweep
from fentonsim.sweep_store import MANIFEST, RESULT, ChunkStore, fingerprint

KEY = fingerprint({"sweep": "a"})
OTHER_KEY = fingerprint({"sweep": "b"})
CHUNKS = [[0, 1], [2], [3, 4]]
GRID = {"pH": [6.0, 6.5, 7.0, 7.4]}
KWARGS = dict(conditions="tme", dose="20 uM", t_end=30, chunk_size=1)


def arrays(index: int) -> dict:
    """Chunk-like arrays (names with ":" as sweep_worker writes them) whose numbers differ per chunk."""
    n = len(CHUNKS[index])
    return {"metric:oh_produced": np.arange(n, dtype=float) + 10.0 * index + 0.1,
            "metric:oh_peak": np.full((n, 3), index, dtype=np.float32),
            "status": np.zeros(n, dtype=np.int8)}


def store_with_chunks(directory, key=KEY, chunks=CHUNKS) -> ChunkStore:
    store = ChunkStore(directory, key, chunks)
    for i in range(len(chunks)):
        store.save(i, arrays(i))
    return store


def assert_same_arrays(got: dict, expected: dict):
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name].dtype == value.dtype, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def zero(path):
    path.write_bytes(bytes(path.stat().st_size))


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def empty(path):
    path.write_bytes(b"")


def alter_numbers(path):
    """Rewrite the npz with every number doubled but every other entry (the store's record included) kept: a
    well-formed file whose numbers are not the ones computed."""
    with np.load(path) as data:
        entries = {k: data[k] for k in data.files}
    for name, value in entries.items():
        if value.dtype.kind == "f":
            entries[name] = value * 2 + 1
    with open(path, "wb") as fh:
        np.savez(fh, **entries)


def strip_record(path):
    """Keep only the arrays, as a store written before chunks carried a record did."""
    with np.load(path) as data:
        entries = {k: data[k] for k in data.files if k.startswith("metric") or k == "status"}
    with open(path, "wb") as fh:
        np.savez(fh, **entries)


DAMAGES = [zero, truncate, empty, alter_numbers, strip_record]


# --- ChunkStore on its own -----------------------------------------------------------------------------------


def test_saved_chunks_round_trip_exactly_and_are_done_when_reopened(tmp_path):
    """What save() stores, load() returns bit for bit (dtypes and ":" names kept), in this store and in a store
    reopened on the same directory for the same sweep — without any warning."""
    store_with_chunks(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reopened = ChunkStore(tmp_path, KEY, CHUNKS)
        for i in range(len(CHUNKS)):
            assert reopened.done(i)
            assert_same_arrays(reopened.load(i), arrays(i))
        assert not ChunkStore(tmp_path / "new", KEY, CHUNKS).done(0)


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__)
def test_a_damaged_chunk_is_not_done_and_is_named(tmp_path, damage):
    """A chunk file zeroed, truncated, emptied, with altered numbers or without its record is not done (so the
    sweep recomputes it) and a RuntimeWarning names it; load() refuses it, naming it; the other chunks stay done
    and recomputing it makes it good again."""
    store_with_chunks(tmp_path)
    path = tmp_path / "chunk-000001.npz"
    damage(path)
    store = ChunkStore(tmp_path, KEY, CHUNKS)
    with pytest.warns(RuntimeWarning, match="chunk-000001.npz"):
        assert not store.done(1)
    with pytest.raises(fentonsim.ConditionsError, match="chunk-000001.npz"):
        store.load(1)
    assert store.done(0) and store.done(2)
    store.save(1, arrays(1))
    assert store.done(1)
    assert_same_arrays(store.load(1), arrays(1))


def test_swapped_chunks_are_not_done(tmp_path):
    """Two chunk files exchanged (each a good file of this sweep under the other's name) are both rejected: a chunk
    records its own index and condition indices."""
    store_with_chunks(tmp_path)
    a, b = tmp_path / "chunk-000000.npz", tmp_path / "chunk-000002.npz"
    a.rename(tmp_path / "swap")
    b.rename(a)
    (tmp_path / "swap").rename(b)
    store = ChunkStore(tmp_path, KEY, CHUNKS)
    for i, name in ((0, a.name), (2, b.name)):
        with pytest.warns(RuntimeWarning, match=f"{name}.*swapped"):
            assert not store.done(i)
    assert store.done(1)


def test_a_chunk_of_another_sweep_is_not_done(tmp_path):
    """A chunk file copied from a store of another sweep (same chunk index and conditions, other fingerprint) is
    rejected as foreign."""
    store_with_chunks(tmp_path / "mine")
    store_with_chunks(tmp_path / "other", key=OTHER_KEY)
    shutil.copy(tmp_path / "other" / "chunk-000001.npz", tmp_path / "mine" / "chunk-000001.npz")
    store = ChunkStore(tmp_path / "mine", KEY, CHUNKS)
    with pytest.warns(RuntimeWarning, match="chunk-000001.npz.*different sweep"):
        assert not store.done(1)


def test_a_chunk_whose_conditions_differ_is_not_done(tmp_path):
    """A chunk is tied to its condition indices, not only to its position."""
    store_with_chunks(tmp_path)
    store = ChunkStore(tmp_path / "regrouped", KEY, [[0], [1, 2], [3, 4]])
    shutil.copy(tmp_path / "chunk-000000.npz", tmp_path / "regrouped" / "chunk-000000.npz")
    with pytest.warns(RuntimeWarning, match="chunk-000000.npz"):
        assert not store.done(0)


@pytest.mark.parametrize("text", ['{"fingerprint": "', "", "\x00" * 40, "[1, 2]", '{"fingerprint": 3, "chunks": []}',
                                  '{"fingerprint": "%s"}' % KEY, '{"fingerprint": "%s", "chunks": [1]}' % KEY],
                         ids=["truncated", "empty", "zeros", "list", "bad-fingerprint", "no-chunks", "bad-chunks"])
def test_a_damaged_manifest_next_to_results_is_a_clear_error(tmp_path, text):
    """An unreadable or malformed manifest in a store holding chunks is a ConditionsError naming the manifest and
    saying what to do — never a bare JSONDecodeError, never a silent overwrite."""
    store_with_chunks(tmp_path)
    (tmp_path / MANIFEST).write_text(text, encoding="utf-8")
    with pytest.raises(fentonsim.ConditionsError, match=r"manifest\.json.*delete the manifest"):
        ChunkStore(tmp_path, KEY, CHUNKS)


def test_manifest_chunks_must_match_the_sweep(tmp_path):
    """A manifest with this sweep's fingerprint but other chunks (edited by hand) is refused."""
    store_with_chunks(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"fingerprint": KEY, "chunks": [[0], [1, 2], [3, 4]]}))
    with pytest.raises(fentonsim.ConditionsError, match="other chunks"):
        ChunkStore(tmp_path, KEY, CHUNKS)


@pytest.mark.parametrize("text", [None, '{"fingerprint": "'], ids=["other-sweep", "truncated"])
def test_a_manifest_alone_is_taken_over(tmp_path, text):
    """A directory holding only a manifest (of another sweep, or a damaged one) — a sweep that failed before its
    first chunk — holds nothing worth keeping: the new sweep replaces the manifest instead of being refused."""
    ChunkStore(tmp_path, OTHER_KEY, [[0]])
    (tmp_path / ".chunk-000000.npz.abc.tmp").write_bytes(b"partial")  # left by a killed write: not a result
    if text is not None:
        (tmp_path / MANIFEST).write_text(text, encoding="utf-8")
    store = ChunkStore(tmp_path, KEY, CHUNKS)
    assert json.loads((tmp_path / MANIFEST).read_text()) == {"fingerprint": KEY, "chunks": CHUNKS}
    store.save(0, arrays(0))
    assert ChunkStore(tmp_path, KEY, CHUNKS).done(0)


@pytest.mark.parametrize("kept", ["chunk-000000.npz", RESULT])
def test_another_sweeps_results_are_never_taken_over(tmp_path, kept):
    """A store holding another sweep's chunk or result is refused, with a message naming what it holds."""
    other = ChunkStore(tmp_path, OTHER_KEY, [[0]])
    if kept == RESULT:
        other.write_result(xr.Dataset({"x": ("i", [1.0])}))
    else:
        other.save(0, {"status": np.zeros(1, dtype=np.int8)})
    with pytest.raises(fentonsim.ConditionsError, match=f"holds a different sweep.*{kept}"):
        ChunkStore(tmp_path, KEY, CHUNKS)


# --- Through sweep(..., store=) ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh():
    """The tiny sweep (iron, 4 pH, one condition per chunk) computed without a store."""
    return sweep("iron", GRID, **KWARGS)


@pytest.fixture
def count_chunks(monkeypatch):
    """Patch the sweep's run_chunk to record the condition indices of every chunk it computes."""
    computed = []
    real = sweep_worker.run_chunk
    module = sys.modules["fentonsim.sweep"]  # the attribute fentonsim.sweep is the function
    monkeypatch.setattr(module, "run_chunk",
                        lambda task: computed.append([p["index"] for p in task["points"]]) or real(task))
    return computed


def store_warnings(record) -> list:
    return [str(w.message) for w in record if "sweep store" in str(w.message)]


def test_resuming_a_good_store_recomputes_nothing_and_warns_nothing(tmp_path, fresh, count_chunks):
    """Rerun on a complete store, the sweep loads every chunk, computes none and equals the fresh sweep."""
    sweep("iron", GRID, store=tmp_path, **KWARGS)
    count_chunks.clear()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        resumed = sweep("iron", GRID, store=tmp_path, **KWARGS)
    assert count_chunks == [] and store_warnings(record) == []
    xr.testing.assert_identical(resumed.drop_attrs(), fresh.drop_attrs())


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__)
def test_a_resumed_sweep_recomputes_a_damaged_chunk(tmp_path, fresh, count_chunks, damage):
    """A damaged chunk file is recomputed (and only it), with a warning naming it; the resumed sweep equals the
    fresh one exactly, as does the result file it rewrites."""
    sweep("iron", GRID, store=tmp_path, **KWARGS)
    damage(tmp_path / "chunk-000002.npz")
    count_chunks.clear()
    with pytest.warns(RuntimeWarning, match="chunk-000002.npz"):
        resumed = sweep("iron", GRID, store=tmp_path, **KWARGS)
    assert count_chunks == [[2]]
    xr.testing.assert_identical(resumed.drop_attrs(), fresh.drop_attrs())
    stored = xr.open_dataset(tmp_path / RESULT, engine="scipy")
    np.testing.assert_array_equal(stored["oh_produced"].values, fresh["oh_produced"].values)


def test_a_resumed_sweep_recomputes_swapped_chunks(tmp_path, fresh, count_chunks):
    """Two chunk files exchanged between runs are both recomputed; the numbers stay where they belong."""
    sweep("iron", GRID, store=tmp_path, **KWARGS)
    a, b = tmp_path / "chunk-000000.npz", tmp_path / "chunk-000003.npz"
    a.rename(tmp_path / "swap")
    b.rename(a)
    (tmp_path / "swap").rename(b)
    count_chunks.clear()
    with pytest.warns(RuntimeWarning, match="swapped"):
        resumed = sweep("iron", GRID, store=tmp_path, **KWARGS)
    assert sorted(count_chunks) == [[0], [3]]
    xr.testing.assert_identical(resumed.drop_attrs(), fresh.drop_attrs())


def test_a_resumed_sweep_recomputes_a_chunk_of_another_sweep(tmp_path, fresh, count_chunks):
    """A chunk file copied in from a store of another sweep (same grid, other H2O2) is recomputed."""
    sweep("iron", GRID, store=tmp_path / "mine", **KWARGS)
    sweep("iron", {**GRID, "H2O2": [2e-5]}, store=tmp_path / "other", **KWARGS)
    shutil.copy(tmp_path / "other" / "chunk-000001.npz", tmp_path / "mine" / "chunk-000001.npz")
    count_chunks.clear()
    with pytest.warns(RuntimeWarning, match="chunk-000001.npz.*different sweep"):
        resumed = sweep("iron", GRID, store=tmp_path / "mine", **KWARGS)
    assert count_chunks == [[1]]
    xr.testing.assert_identical(resumed.drop_attrs(), fresh.drop_attrs())


def test_a_truncated_manifest_is_refused_then_resumed_once_deleted(tmp_path, fresh, count_chunks):
    """A truncated manifest is a ConditionsError naming it (not a JSONDecodeError); deleting it as the message says
    resumes the sweep, which reuses every good chunk and equals the fresh sweep."""
    sweep("iron", GRID, store=tmp_path, **KWARGS)
    manifest = tmp_path / MANIFEST
    manifest.write_bytes(manifest.read_bytes()[:20])
    with pytest.raises(fentonsim.ConditionsError, match=r"manifest\.json.*delete the manifest"):
        sweep("iron", GRID, store=tmp_path, **KWARGS)
    manifest.unlink()
    count_chunks.clear()
    resumed = sweep("iron", GRID, store=tmp_path, **KWARGS)
    assert count_chunks == []
    xr.testing.assert_identical(resumed.drop_attrs(), fresh.drop_attrs())


def test_a_failed_sweep_can_be_retried_in_place(tmp_path, fresh, monkeypatch):
    """A sweep that fails before its first chunk leaves only a manifest; a corrected sweep (here: another t_end)
    runs in the same directory. Once that one has stored results, a third sweep there is refused."""
    module = sys.modules["fentonsim.sweep"]
    real = module.run_chunk

    def failing(task):
        raise fentonsim.SolverError("diverged")

    monkeypatch.setattr(module, "run_chunk", failing)
    with pytest.raises(fentonsim.SolverError):
        sweep("iron", GRID, store=tmp_path, **{**KWARGS, "t_end": 31})
    assert [p.name for p in tmp_path.iterdir()] == [MANIFEST]
    monkeypatch.setattr(module, "run_chunk", real)
    retried = sweep("iron", GRID, store=tmp_path, **KWARGS)
    xr.testing.assert_identical(retried.drop_attrs(), fresh.drop_attrs())
    with pytest.raises(fentonsim.ConditionsError, match="holds a different sweep"):
        sweep("iron", GRID, store=tmp_path, **{**KWARGS, "t_end": 31})
