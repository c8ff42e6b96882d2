"""Dense LU factorisation with partial pivoting, for the small systems of the
stiff integrator (n ≲ 100). Hand-written so that it runs inside nopython and
prange code without allocating and without a LAPACK call per step. The
integrator writes the matching solve out in its stage loop (see
kernels/rosenbrock.py on reference counts).

Shapes: a (n, n) float64, factorised in place; pivots (n,) int64.
"""
from __future__ import annotations

import numpy as np

from .._jit import njit


@njit(inline='always')
def lu_factor(a, pivots):
    """Factorise ``a`` in place (L unit-lower, U upper with 1/U_ii stored on the diagonal);
    return False when singular or non-finite."""
    n = a.shape[0]
    for col in range(n):
        best = col
        largest = abs(a[col, col])
        for row in range(col + 1, n):
            value = abs(a[row, col])
            if value > largest:
                largest = value
                best = row
        if not (largest > 0.0) or not np.isfinite(largest):
            return False
        pivots[col] = best
        if best != col:
            for j in range(n):
                swap = a[col, j]
                a[col, j] = a[best, j]
                a[best, j] = swap
        inverse_pivot = 1.0 / a[col, col]
        # The diagonal keeps its reciprocal: the solve then multiplies instead of dividing
        # (a chain of n dependent divisions dominated small solves).
        a[col, col] = inverse_pivot
        for row in range(col + 1, n):
            factor = a[row, col] * inverse_pivot
            a[row, col] = factor
            if factor != 0.0:
                for j in range(col + 1, n):
                    a[row, j] -= factor * a[col, j]
    return True

