"""LU factorisations for the small systems of the stiff integrators (n ≲ 100), hand-written so that they
run inside nopython and prange code without allocating and without a LAPACK call per step:

* dense, with partial pivoting (``lu_factor``); the mass-action integrator writes the matching solve out
  in its stage loop (see kernels/rosenbrock.py on reference counts);
* sparse, over a static elimination order with threshold pivoting (``elimination_pattern``,
  ``sparse_lu_factor``), for the general-law kernel, whose networks are often chains and cascades; the
  values stay in the dense array, only the loops follow the pattern, so the dense factorisation is the
  fallback on the same storage.

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


#: Threshold partial pivoting: a static pivot is kept while |pivot| ≥ this × the largest entry below it in
#: its column (the u = 0.1 of MA48 and UMFPACK), which bounds element growth the way partial pivoting does.
#: A step matrix failing it is factorised by ``lu_factor`` instead.
PIVOT_THRESHOLD = 0.1


@njit
def elimination_pattern(structure):
    """The static elimination order and fill-in of a sparse n × n matrix whose structural non-zeros are
    ``structure`` (n, n) bool (the diagonal is always included).

    Returns (order (n,), lower_start (n + 1,), lower_rows, upper_start (n + 1,), upper_cols, filled (n, n)
    bool): pivots are taken in ``order`` (minimum degree on the symmetrised pattern, ties to the lowest
    index); step k eliminates column order[k] from rows lower_rows[lower_start[k]:lower_start[k + 1]] and
    updates, in each, the columns upper_cols[upper_start[k]:upper_start[k + 1]] (all later in the order);
    ``filled`` is the pattern with its fill-in, the only entries the factorisation touches. Stiff
    networks of chemistry are sparse (a reaction couples a few species): chains and cascades factorise
    with no fill at all, where the dense factorisation spends n³/3 operations on zeros."""
    n = structure.shape[0]
    filled = structure.copy()
    for a in range(n):
        filled[a, a] = True
    graph = filled | filled.T
    eliminated = np.zeros(n, dtype=np.bool_)
    order = np.empty(n, dtype=np.int64)
    for k in range(n):
        best = -1
        best_degree = n + 1
        for a in range(n):
            if eliminated[a]:
                continue
            degree = 0
            for b in range(n):
                if b != a and not eliminated[b] and graph[a, b]:
                    degree += 1
            if degree < best_degree:
                best_degree = degree
                best = a
        order[k] = best
        eliminated[best] = True
        for a in range(n):
            if eliminated[a] or not graph[a, best]:
                continue
            for b in range(n):
                if not eliminated[b] and graph[best, b]:
                    graph[a, b] = True
    # Exact (unsymmetric) fill for that order.
    done = np.zeros(n, dtype=np.bool_)
    lower_start = np.zeros(n + 1, dtype=np.int64)
    upper_start = np.zeros(n + 1, dtype=np.int64)
    lower = np.empty(n * n, dtype=np.int64)
    upper = np.empty(n * n, dtype=np.int64)
    n_lower = 0
    n_upper = 0
    for k in range(n):
        p = order[k]
        done[p] = True
        for r in range(n):
            if not done[r] and filled[r, p]:
                lower[n_lower] = r
                n_lower += 1
        for c in range(n):
            if not done[c] and filled[p, c]:
                upper[n_upper] = c
                n_upper += 1
        for e in range(lower_start[k], n_lower):
            for f in range(upper_start[k], n_upper):
                filled[lower[e], upper[f]] = True
        lower_start[k + 1] = n_lower
        upper_start[k + 1] = n_upper
    return order, lower_start, lower[:n_lower].copy(), upper_start, upper[:n_upper].copy(), filled


@njit(inline='always')
def sparse_lu_factor(a, order, lower_start, lower_rows, upper_start, upper_cols):
    """Factorise ``a`` (n, n) in place over ``elimination_pattern``'s order and fill, without row exchanges
    (L unit-lower in pivot order, 1/U_ii on the diagonal, as ``lu_factor``); entries outside the filled
    pattern are neither read nor written. Return False when a pivot fails PIVOT_THRESHOLD or is not finite:
    the caller then rebuilds the matrix and calls ``lu_factor``."""
    ok = True
    k = 0
    # No return inside the loop: an early return from an inlined function keeps reference counts.
    while ok and k < order.shape[0]:
        p = order[k]
        pivot = a[p, p]
        largest = 0.0
        for e in range(lower_start[k], lower_start[k + 1]):
            value = abs(a[lower_rows[e], p])
            if value > largest:
                largest = value
        if not (abs(pivot) >= PIVOT_THRESHOLD * largest and pivot != 0.0 and np.isfinite(pivot)
                and np.isfinite(largest)):
            ok = False
        else:
            inverse_pivot = 1.0 / pivot
            a[p, p] = inverse_pivot
            for e in range(lower_start[k], lower_start[k + 1]):
                r = lower_rows[e]
                factor = a[r, p] * inverse_pivot
                a[r, p] = factor
                if factor != 0.0:
                    for f in range(upper_start[k], upper_start[k + 1]):
                        c = upper_cols[f]
                        a[r, c] -= factor * a[p, c]
        k += 1
    return ok


@njit(inline='always')
def sparse_lu_solve_row(lu, order, lower_start, lower_rows, upper_start, upper_cols, rhs, row_index):
    """Solve lu·x = rhs[row_index] in place with ``sparse_lu_factor``'s output."""
    n = order.shape[0]
    for k in range(n):
        p = order[k]
        value = rhs[row_index, p]
        if value != 0.0:
            for e in range(lower_start[k], lower_start[k + 1]):
                r = lower_rows[e]
                rhs[row_index, r] -= lu[r, p] * value
    for k in range(n - 1, -1, -1):
        p = order[k]
        total = rhs[row_index, p]
        for f in range(upper_start[k], upper_start[k + 1]):
            c = upper_cols[f]
            total -= lu[p, c] * rhs[row_index, c]
        rhs[row_index, p] = total * lu[p, p]
