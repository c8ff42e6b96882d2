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
import os
from pathlib import Path

import numba
from llvmlite import ir
from numba.core.caching import FunctionCache
from numba.extending import intrinsic

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


_REAL = numba.types.float64
_POINTER = numba.types.CPointer(_REAL)
#: C signatures of the generated law code (fentonsim.native_laws), called by address from the kernels:
#: program_table(x, t, constants, scale, out) and program_value(index, x, t, constants) -> value, every
#: array a pointer to its first float64.
TABLE_SIGNATURE = numba.types.void(_POINTER, _REAL, _POINTER, _POINTER, _POINTER)
ONE_SIGNATURE = _REAL(numba.types.int64, _POINTER, _REAL, _POINTER)


#: How generated law code is compiled (part of its cache key: fentonsim.native_laws).
NATIVE_OPTIONS = {"cache": True, "nopython": True, "error_model": "numpy", "_nrt": False}


def _native(signature):
    return numba.cfunc(signature, **NATIVE_OPTIONS)


native_table = _native(TABLE_SIGNATURE)
native_one = _native(ONE_SIGNATURE)


def _data(context, builder, array_type, array):
    return context.make_array(array_type)(context, builder, array).data


def _require_contiguous(*array_types):
    # The generated code indexes a bare pointer: a strided view would be read wrongly, so refuse to compile.
    for array_type in array_types:
        if not (isinstance(array_type, numba.types.Array) and array_type.layout == "C"
                and array_type.dtype == _REAL and array_type.ndim == 1):
            raise numba.core.errors.TypingError(f"native law code takes C-contiguous 1-D float64 arrays, "
                                                f"found {array_type}")


@intrinsic
def call_table(typingctx, address, x, t, constants, scale, out):
    """Inside a kernel: the generated program_table at ``address`` (an int64 from fentonsim.native_laws) on
    C-contiguous float64 arrays x, constants, scale, out and the float t. The kernel takes the address, not a
    function object: an integer keeps one compiled kernel for every model and passes through parallel loops."""
    _require_contiguous(x, constants, scale, out)
    signature = numba.types.void(address, x, _REAL, constants, scale, out)

    def codegen(context, builder, sig, args):
        double, pointer = ir.DoubleType(), ir.DoubleType().as_pointer()
        function_type = ir.FunctionType(ir.VoidType(), [pointer, double, pointer, pointer, pointer])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        builder.call(function, [_data(context, builder, sig.args[1], args[1]), args[2],
                                _data(context, builder, sig.args[3], args[3]),
                                _data(context, builder, sig.args[4], args[4]),
                                _data(context, builder, sig.args[5], args[5])])
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def call_one(typingctx, address, index, x, t, constants):
    """Inside a kernel: the value the generated program_value at ``address`` gives for (index, x, t,
    constants), as :func:`call_table`."""
    _require_contiguous(x, constants)
    signature = _REAL(address, index, x, _REAL, constants)

    def codegen(context, builder, sig, args):
        double, pointer = ir.DoubleType(), ir.DoubleType().as_pointer()
        function_type = ir.FunctionType(double, [ir.IntType(64), pointer, double, pointer])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        return builder.call(function, [args[1], _data(context, builder, sig.args[2], args[2]), args[3],
                                       _data(context, builder, sig.args[4], args[4])])

    return signature, codegen

def native_cache_dir() -> Path:
    """Where generated law modules are written (numba caches their machine code beside them):
    ``$NUMBA_CACHE_DIR/fentonsim_native`` when numba's cache is redirected, else
    ``$XDG_CACHE_HOME/fentonsim/native`` (``~/.cache/fentonsim/native``)."""
    if numba.config.CACHE_DIR:
        directory = Path(numba.config.CACHE_DIR) / "fentonsim_native"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        directory = Path(base) / "fentonsim" / "native"
    directory.mkdir(parents=True, exist_ok=True)
    return directory
