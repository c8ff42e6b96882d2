"""The only module that imports numba.

Kernels are compiled with ``cache=True`` (a second process loads machine code
from disk instead of recompiling) and ``nogil=True`` (ensembles and sweeps can
run them on all cores). Small helpers are declared with ``inline="always"``: a
call between compiled functions increments and decrements the reference count
of every array argument atomically, which cost more than the helpers'
arithmetic (5× per integrator step, measured). Inlining still leaves some of
those counts (an inlined helper's array parameters are new references), so the
innermost loops of the Rosenbrock step write their arithmetic out. Setting
``NUMBA_DISABLE_JIT=1`` runs them as plain Python, for debugging and coverage.

Numba keys a cached kernel by its own bytecode only: a kernel whose callee in another module changed (an
inlined helper, the law interpreter) would load its old machine code from disk — after a ``git pull`` into
an editable install, a silently wrong answer. So the cache key here also carries a digest of every kernel
source file (kernels/*.py and this module): any change to any of them recompiles every kernel once.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numba
from numba.core.caching import FunctionCache

JIT_DISABLED = bool(numba.config.DISABLE_JIT)
prange = numba.prange
#: Inside a kernel, ``literally(x)`` makes numba compile one version per value of the argument x. Callers
#: pass a constant from compiled code; a call from Python works too but costs milliseconds of dispatch,
#: so Python calls compiled entry points instead (see kernels/rosenbrock.py on the method).
literally = numba.literally


def sources_digest(package: Path) -> str:
    """sha256 over the kernel sources of ``package`` (the fentonsim directory): _jit.py and kernels/*.py, in name
    order."""
    digest = hashlib.sha256()
    for path in [package / "_jit.py", *sorted((package / "kernels").glob("*.py"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


#: What every cached kernel's key carries besides its own bytecode (module docstring).
SOURCES_DIGEST = sources_digest(Path(__file__).resolve().parent)


class _KernelCache(FunctionCache):
    """numba's on-disk cache with SOURCES_DIGEST in each entry's key."""

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), SOURCES_DIGEST)


def njit(function=None, **options):
    """``numba.njit`` with fentonsim's defaults (cache keyed by the kernel sources, nogil, no fastmath)."""
    settings = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}
    settings.update(options)

    def compile(f):
        dispatcher = numba.njit(**settings)(f)
        if settings["cache"] and not JIT_DISABLED:
            dispatcher._cache = _KernelCache(dispatcher.py_func)  # what Dispatcher.enable_caching sets
        return dispatcher

    return compile if function is None else compile(function)


def get_threads() -> int:
    """The number of threads parallel kernels launched from the calling thread use (numba's setting is per
    thread: a kernel run in another thread must be given it, see fentonsim.stochastic._interruptible)."""
    return numba.get_num_threads()


def set_threads(n: int) -> int:
    """Use at most ``n`` threads in parallel kernels (a sweep worker that shares cores with others); returns
    the number set."""
    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    return n

