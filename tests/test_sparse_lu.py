"""The sparse LU of the general-law integrator (kernels/linalg.py): a static minimum-degree order, the exact
fill for it, threshold pivoting that hands a bad pivot to the dense factorisation, and solutions equal to a
dense solver's."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

import fentonsim as fs
from fentonsim.kernels.linalg import (PIVOT_THRESHOLD, elimination_pattern, lu_factor, lu_solve_row,
                                      sparse_lu_factor, sparse_lu_solve_row)

from test_laws import _sbml


def _factor_and_solve(matrix, rhs):
    """(factorised, solution) with the sparse path; the matrix is copied into an array whose entries outside
    the filled pattern are NaN, so that reading one would spoil the answer."""
    structure = matrix != 0.0
    order, lower_start, lower_rows, upper_start, upper_cols, filled = elimination_pattern(structure)
    work = np.where(filled, matrix, np.nan)
    ok = sparse_lu_factor(work, order, lower_start, lower_rows, upper_start, upper_cols)
    x = rhs.reshape(1, -1).copy()
    if ok:
        sparse_lu_solve_row(work, order, lower_start, lower_rows, upper_start, upper_cols, x, 0)
    return ok, x[0], work, filled


@st.composite
def sparse_systems(draw):
    """A diagonally dominant n × n matrix (n ≤ 14) of random sparsity and signs, and a right-hand side."""
    n = draw(st.integers(1, 14))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    density = draw(st.floats(0.0, 0.6))
    rng = np.random.default_rng(seed)
    matrix = np.where(rng.random((n, n)) < density, rng.normal(size=(n, n)), 0.0)
    np.fill_diagonal(matrix, 0.0)
    matrix[np.diag_indices(n)] = (np.abs(matrix).sum(axis=0) + rng.uniform(0.1, 2.0, n)) * rng.choice([-1, 1], n)
    return matrix, rng.normal(size=n)


@settings(max_examples=300, deadline=None)
@given(sparse_systems())
def test_sparse_solution_equals_a_dense_solvers_and_reads_only_the_filled_pattern(system):
    """Column-diagonally-dominant matrices (the step matrix I/(hγ) − J of a small step) factorise without a
    pivot failing the threshold; the solution equals numpy's to 1e-10, although every entry outside the
    filled pattern is NaN (so none was read), and no factor entry lies outside it."""
    matrix, rhs = system
    ok, x, work, filled = _factor_and_solve(matrix, rhs)
    assert ok
    np.testing.assert_allclose(x, np.linalg.solve(matrix, rhs), rtol=1e-10, atol=1e-12)
    assert np.all(np.isfinite(work[filled])) and np.all(np.isnan(work[~filled]))


def test_a_chain_factorises_without_fill():
    """A cascade S0 → S1 → … → S20 (lower bidiagonal Jacobian) has no fill: the filled pattern is the matrix's,
    so the factorisation costs O(n) where the dense one costs n³/3."""
    n = 21
    structure = np.eye(n, dtype=bool) | np.eye(n, k=-1, dtype=bool)
    *_, filled = elimination_pattern(structure)
    assert np.array_equal(filled, structure)


def test_an_arrow_matrix_is_ordered_to_avoid_fill():
    """An arrow matrix (one hub species coupled to all others: a common catalyst) fills in completely when the
    hub is eliminated first; minimum degree leaves it to the last two (then a tie) and there is no fill."""
    n = 12
    structure = np.eye(n, dtype=bool)
    structure[0, :] = structure[:, 0] = True
    order, *_, filled = elimination_pattern(structure)
    assert 0 in order[-2:]
    assert np.array_equal(filled, structure)


def test_a_pivot_below_the_threshold_is_refused_and_the_dense_factorisation_solves_it():
    """|pivot| < PIVOT_THRESHOLD × the largest entry below it: sparse_lu_factor reports failure (it would
    amplify round-off) and lu_factor, with row exchanges, solves the same system exactly."""
    small = 0.5 * PIVOT_THRESHOLD
    matrix = np.array([[small, 1.0], [1.0, 1.0]])
    rhs = np.array([1.0, 2.0])
    ok, *_ = _factor_and_solve(matrix, rhs)
    assert not ok
    lu = matrix.copy()
    pivots = np.empty(2, dtype=np.int64)
    assert lu_factor(lu, pivots)
    x = rhs.reshape(1, -1).copy()
    lu_solve_row(lu, pivots, x, 0)
    np.testing.assert_allclose(x[0], np.linalg.solve(matrix, rhs), rtol=1e-14)


def test_steps_whose_matrix_fails_the_threshold_still_follow_the_closed_form(tmp_path):
    """A → 20 B at k1·A·exp(zero·B) (first order, but a general law), B → ∅ at k2·B, k1 ≫ k2: once A is spent
    the steps grow past 1/(γ·k1), the step matrix's pivot for A falls below 0.1 × the 20·k1 under it and
    every such step is factorised densely. A and B still follow A0·e^(−k1 t) and 20·k1·A0·(e^(−k1 t) − e^(−k2 t))/(k2 − k1)."""
    k1, k2, a0 = 50.0, 0.01, 1e-3
    path = _sbml(tmp_path / "fanout.xml", [("A", a0, False), ("B", 0.0, False)],
                 [("R1", {"A": 1}, {"B": 20}, "cell * k1 * A * exp(zero * B)"),
                  ("R2", {"B": 1}, {}, "cell * k2 * B")],
                 parameters=[("k1", k1), ("k2", k2), ("zero", 0.0)])
    network = fs.compile_network(fs.load(path))
    assert network.has_general_laws
    # The step matrix at a late step (h = 10 s) fails the threshold: the dense fallback is exercised.
    h, gamma = 10.0, 0.25
    jac = np.array([[-k1, 0.0], [20 * k1, -k2]])
    ok, *_ = _factor_and_solve(np.eye(2) / (h * gamma) - jac, np.ones(2))
    assert not ok
    t = np.linspace(0.0, 300.0, 61)
    result = fs.simulate(path, t_eval=t, rtol=1e-9)["concentration"]
    exact_a = a0 * np.exp(-k1 * t)
    exact_b = 20 * k1 * a0 * (np.exp(-k1 * t) - np.exp(-k2 * t)) / (k2 - k1)
    np.testing.assert_allclose(result.sel(species="A").values, exact_a, rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(result.sel(species="B").values, exact_b, rtol=1e-6, atol=1e-15)
