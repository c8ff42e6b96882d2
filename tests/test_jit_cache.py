"""The on-disk kernel cache (fentonsim/_jit.py) is keyed by every kernel source, not only by a kernel's own
bytecode: a change to a callee in another module must not load stale machine code."""
from __future__ import annotations

import importlib
import pkgutil
import shutil
from pathlib import Path

import numpy as np
import pytest

import fentonsim
from fentonsim import _jit, kernels
from fentonsim.kernels import checks

PACKAGE = Path(fentonsim.__file__).resolve().parent

pytestmark = pytest.mark.skipif(_jit.JIT_DISABLED, reason="NUMBA_DISABLE_JIT: nothing is compiled or cached")


def test_every_cached_kernel_uses_the_source_keyed_cache():
    """Each compiled function of fentonsim.kernels carries the cache whose key includes SOURCES_DIGEST."""
    dispatchers = []
    for info in pkgutil.iter_modules(kernels.__path__):
        module = importlib.import_module(f"fentonsim.kernels.{info.name}")
        dispatchers += [value for value in vars(module).values()
                        if hasattr(value, "py_func") and value.py_func.__module__ == module.__name__]
    assert len(dispatchers) > 50
    assert all(isinstance(d._cache, _jit._KernelCache) for d in dispatchers)


def test_the_cache_key_ends_with_the_digest_of_the_kernel_sources():
    """A compiled signature's index key is numba's key plus SOURCES_DIGEST."""
    checks.strictly_increasing_finite(np.array([0.0, 1.0]))
    dispatcher = checks.strictly_increasing_finite
    key = dispatcher._cache._index_key(dispatcher.signatures[0], dispatcher.targetctx.codegen())
    assert key[-1] == _jit.SOURCES_DIGEST == _jit.sources_digest(PACKAGE)


def test_changing_any_kernel_source_changes_the_digest(tmp_path):
    """A copy of the sources has the same digest; one edited byte in one kernel module (here the law
    interpreter, which laws_ssa's cached event loop calls) gives another, so every kernel recompiles."""
    copy = tmp_path / "fentonsim"
    (copy / "kernels").mkdir(parents=True)
    shutil.copy(PACKAGE / "_jit.py", copy / "_jit.py")
    for path in (PACKAGE / "kernels").glob("*.py"):
        shutil.copy(path, copy / "kernels" / path.name)
    assert _jit.sources_digest(copy) == _jit.SOURCES_DIGEST
    laws = copy / "kernels" / "laws.py"
    laws.write_text(laws.read_text() + "\n# edited\n")
    assert _jit.sources_digest(copy) != _jit.SOURCES_DIGEST
