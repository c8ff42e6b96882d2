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



@njit(inline='always')
def lu_solve_row(lu, pivots, rhs, row_index):
    """Solve lu·x = rhs[row_index] in place, with ``lu_factor``'s output (row swaps, then forward and back
    substitution; the diagonal holds 1/U_ii). The mass-action integrator writes this loop out instead, for
    the reference counts; the general-law kernel, dominated by its law programs, calls it."""
    n = lu.shape[0]
    for row in range(n):
        p = pivots[row]
        if p != row:
            swap = rhs[row_index, row]
            rhs[row_index, row] = rhs[row_index, p]
            rhs[row_index, p] = swap
    for row in range(n):
        total = rhs[row_index, row]
        for j in range(row):
            total -= lu[row, j] * rhs[row_index, j]
        rhs[row_index, row] = total
    for row in range(n - 1, -1, -1):
        total = rhs[row_index, row]
        for j in range(row + 1, n):
            total -= lu[row, j] * rhs[row_index, j]
        rhs[row_index, row] = total * lu[row, row]
