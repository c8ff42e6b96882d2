"""The law interpreter's operations that branch, as small compiled functions for generated law code.

fentonsim.native_laws writes a law program out as one statement per instruction. An operation that branches
(a power with its fast paths, min, max, a comparison, logic, piecewise) written inline as a conditional
expression becomes several basic blocks, and numba's own passes grow faster than linearly in the number of
blocks: a derivative table of 4,000 instructions took 20 s to compile inline and about 5 s with its power
calls made to a separate function. So the generated code calls these instead; they are compiled once and
cached, and LLVM still inlines them into the generated function, where the arithmetic is the interpreter's
(kernels/laws._program_value), operation for operation.
"""
from __future__ import annotations

import numpy as np

from .._jit import njit
from .laws import _power


@njit
def power(a, b):
    return _power(a, b)


@njit
def minimum(a, b):
    return a if a <= b else b


@njit
def maximum(a, b):
    return a if a >= b else b


@njit
def remainder(a, b):
    return np.fmod(a, b)


@njit
def greater(a, b):
    return 1.0 if a > b else 0.0


@njit
def greater_equal(a, b):
    return 1.0 if a >= b else 0.0


@njit
def less(a, b):
    return 1.0 if a < b else 0.0


@njit
def less_equal(a, b):
    return 1.0 if a <= b else 0.0


@njit
def equal(a, b):
    return 1.0 if a == b else 0.0


@njit
def not_equal(a, b):
    return 1.0 if a != b else 0.0


@njit
def logical_and(a, b):
    return 1.0 if a != 0.0 and b != 0.0 else 0.0


@njit
def logical_or(a, b):
    return 1.0 if a != 0.0 or b != 0.0 else 0.0


@njit
def logical_xor(a, b):
    return 1.0 if (a != 0.0) != (b != 0.0) else 0.0


@njit
def logical_not(a):
    return 1.0 if a == 0.0 else 0.0


@njit
def select(value, condition, otherwise):
    """piecewise: ``value`` unless ``condition`` is 0 (SELECT: a NaN condition keeps the value)."""
    return otherwise if condition == 0.0 else value
