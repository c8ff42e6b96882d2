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
"""
from __future__ import annotations

import numba

JIT_DISABLED = bool(numba.config.DISABLE_JIT)
prange = numba.prange
#: Inside a kernel, ``literally(x)`` makes numba compile one version per value of the argument x. Callers
#: pass a constant from compiled code; a call from Python works too but costs milliseconds of dispatch,
#: so Python calls compiled entry points instead (see kernels/rosenbrock.py on the method).
literally = numba.literally


def njit(function=None, **options):
    """``numba.njit`` with fentonsim's defaults (cache, nogil, no fastmath)."""
    settings = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}
    settings.update(options)
    if function is None:
        return lambda f: numba.njit(**settings)(f)
    return numba.njit(**settings)(function)


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

