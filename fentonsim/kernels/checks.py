"""Input checks compiled to one pass each: a warm ODE solve of a Fenton network
takes a few hundred µs, and the numpy reductions these replace (min, max,
isfinite, diff) cost several µs of it.

Arrays are 1-D, contiguous float64; callers flatten (``reshape(-1)``) first.
"""
from __future__ import annotations

import numpy as np

from .._jit import njit


@njit
def all_finite_non_negative(values):
    """True when every entry is finite and ≥ 0 (NaN fails both comparisons)."""
    for i in range(values.shape[0]):
        value = values[i]
        if not (value >= 0.0 and value < np.inf):
            return False
    return True


@njit
def strictly_increasing_finite(values):
    """True when every entry is finite and each is larger than the one before."""
    previous = -np.inf
    for i in range(values.shape[0]):
        value = values[i]
        if not (value > previous and value < np.inf):
            return False
        previous = value
    return True
