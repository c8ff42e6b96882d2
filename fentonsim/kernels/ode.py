"""Deterministic rate equations from the Network arrays.

The one rate convention (mechanism/schema.py): reaction i proceeds at
r_i = k_i · Π_j x_j^ν_ij over its reactants (``reactant_idx``/``reactant_coef``)
and dx/dt = net_stoichᵀ · r. The Jacobian is analytic:
∂r_i/∂x_j = ν_ij · r_i / x_j, computed without the division so that it is
exact when x_j = 0.

Shapes: x (n_s,) [M]; k (n_r,) [M^(1−order) s⁻¹]; reactant_idx and
reactant_coef (n_r, 3); net_stoich (n_r, n_s); rates (n_r,) [M s⁻¹];
dxdt (n_s,) [M s⁻¹]; jac (n_s, n_s) [s⁻¹], jac[a, b] = ∂(dx_a/dt)/∂x_b.
"""
from __future__ import annotations

import numpy as np

from .._jit import njit


@njit(inline='always')
def reaction_rates(x, k, reactant_idx, reactant_coef, rates):
    """Fill ``rates`` with r_i = k_i·Π x^ν (negative x, from round-off, count as 0)."""
    n_r, width = reactant_idx.shape
    for i in range(n_r):
        r = k[i]
        for slot in range(width):
            j = reactant_idx[i, slot]
            if j < 0:
                break
            xj = x[j] if x[j] > 0.0 else 0.0
            nu = reactant_coef[i, slot]
            if nu == 1:
                r *= xj
            elif nu == 2:
                r *= xj * xj
            else:
                r *= xj * xj * xj
        rates[i] = r


@njit
def rhs(x, k, reactant_idx, reactant_coef, net_stoich, rates, dxdt):
    """Fill ``dxdt`` with net_stoichᵀ·r; ``rates`` is work space (and holds r after)."""
    reaction_rates(x, k, reactant_idx, reactant_coef, rates)
    n_r, n_s = net_stoich.shape
    for a in range(n_s):
        dxdt[a] = 0.0
    for i in range(n_r):
        r = rates[i]
        if r == 0.0:
            continue
        for a in range(n_s):
            nu = net_stoich[i, a]
            if nu != 0:
                dxdt[a] += nu * r


@njit(inline='always')
def rate_derivatives(x, k, reactant_idx, reactant_coef, drdx):
    """Fill ``drdx`` (n_r, 3) with ∂r_i/∂x_j for j = reactant_idx[i, slot] [s⁻¹].

    Stored per reactant slot rather than as a dense (n_r, n_s) matrix: a
    reaction depends only on its ≤ 3 reactants, so this is the whole of ∂r/∂x.
    """
    n_r, width = reactant_idx.shape
    for i in range(n_r):
        for slot in range(width):
            j = reactant_idx[i, slot]
            if j < 0:
                drdx[i, slot] = 0.0
                continue
            # d/dx_j of x_j^ν = ν·x_j^(ν−1); the other reactants enter as they are.
            d = k[i] * reactant_coef[i, slot]
            for other in range(width):
                m = reactant_idx[i, other]
                if m < 0:
                    break
                xm = x[m] if x[m] > 0.0 else 0.0
                power = reactant_coef[i, other] - (1 if other == slot else 0)
                for _ in range(power):
                    d *= xm
            drdx[i, slot] = d


@njit
def species_jacobian(drdx, reactant_idx, net_stoich, jac):
    """Fill ``jac`` (n_s, n_s) with net_stoichᵀ·∂r/∂x from ``rate_derivatives``' output."""
    n_r, width = reactant_idx.shape
    n_s = net_stoich.shape[1]
    for a in range(n_s):
        for b in range(n_s):
            jac[a, b] = 0.0
    for i in range(n_r):
        for slot in range(width):
            j = reactant_idx[i, slot]
            if j < 0:
                break
            d = drdx[i, slot]
            if d == 0.0:
                continue
            for a in range(n_s):
                nu = net_stoich[i, a]
                if nu != 0:
                    jac[a, j] += nu * d


@njit
def jacobian(x, k, reactant_idx, reactant_coef, net_stoich, jac):
    """Fill ``jac`` (n_s, n_s) with ∂(dx/dt)/∂x, analytic, exact at x = 0."""
    drdx = np.empty(reactant_idx.shape)
    rate_derivatives(x, k, reactant_idx, reactant_coef, drdx)
    species_jacobian(drdx, reactant_idx, net_stoich, jac)


@njit
def stoichiometry_csr(net_stoich):
    """Sparse rows of net_stoich: (row_start (n_r+1,), species (nnz,), coefficient (nnz,) float64).

    A reaction changes 2–5 species, so the per-step kernels walk these lists
    instead of the dense (n_r, n_s) matrix.
    """
    n_r, n_s = net_stoich.shape
    nnz = 0
    for i in range(n_r):
        for a in range(n_s):
            if net_stoich[i, a] != 0:
                nnz += 1
    row_start = np.zeros(n_r + 1, dtype=np.int64)
    species = np.empty(nnz, dtype=np.int64)
    coefficient = np.empty(nnz)
    position = 0
    for i in range(n_r):
        for a in range(n_s):
            if net_stoich[i, a] != 0:
                species[position] = a
                coefficient[position] = net_stoich[i, a]
                position += 1
        row_start[i + 1] = position
    return row_start, species, coefficient


@njit(inline='always')
def rhs_sparse(x, k, reactant_idx, reactant_coef, row_start, species, coefficient, rates, dxdt):
    """:func:`rhs` over the sparse stoichiometry of :func:`stoichiometry_csr`."""
    reaction_rates(x, k, reactant_idx, reactant_coef, rates)
    for a in range(dxdt.shape[0]):
        dxdt[a] = 0.0
    for i in range(rates.shape[0]):
        r = rates[i]
        for p in range(row_start[i], row_start[i + 1]):
            dxdt[species[p]] += coefficient[p] * r


@njit(inline='always')
def species_jacobian_sparse(drdx, reactant_idx, row_start, species, coefficient, jac):
    """:func:`species_jacobian` over the sparse stoichiometry of :func:`stoichiometry_csr`."""
    n_r, width = reactant_idx.shape
    n_s = jac.shape[0]
    for a in range(n_s):
        for b in range(n_s):
            jac[a, b] = 0.0
    for i in range(n_r):
        for slot in range(width):
            j = reactant_idx[i, slot]
            if j < 0:
                break
            d = drdx[i, slot]
            for p in range(row_start[i], row_start[i + 1]):
                jac[species[p], j] += coefficient[p] * d


def rhs_alloc(x, k, network):
    """Convenience wrapper: dx/dt [M s⁻¹], shape (n_s,), for the Network's arrays."""
    rates = np.empty(network.n_reactions)
    dxdt = np.empty(network.n_species)
    rhs(np.asarray(x, dtype=float), np.asarray(k, dtype=float), network.reactant_idx, network.reactant_coef,
        network.net_stoich, rates, dxdt)
    return dxdt


def jacobian_alloc(x, k, network):
    """Convenience wrapper: Jacobian [s⁻¹], shape (n_s, n_s), for the Network's arrays."""
    jac = np.empty((network.n_species, network.n_species))
    jacobian(np.asarray(x, dtype=float), np.asarray(k, dtype=float), network.reactant_idx,
             network.reactant_coef, network.net_stoich, jac)
    return jac
