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


# Branch-free form used by the integrator's inner loops. Each reaction's
# reactants are written as three slots, a reactant of coefficient ν taking ν
# slots, unused slots pointing at an extra state entry held at 1.0. Then
# r_i = k_i·x[s0]·x[s1]·x[s2] with no loop over coefficients, and the product
# rule over the slots gives ∂r/∂x exactly (2A → … contributes 2k[A] because A
# fills two slots).

@njit
def reactant_slots(reactant_idx, reactant_coef, n_species):
    """(n_r, 3) int64 slot table; padding points at index ``n_species``."""
    n_r, width = reactant_idx.shape
    slots = np.full((n_r, 3), n_species, dtype=np.int64)
    for i in range(n_r):
        position = 0
        for slot in range(width):
            j = reactant_idx[i, slot]
            if j < 0:
                break
            for _ in range(reactant_coef[i, slot]):
                slots[i, position] = j
                position += 1
    return slots


@njit(inline='always')
def clip_state(x, x_clipped):
    """x_clipped[:n_s] = max(x, 0) (round-off negatives count as 0); x_clipped[n_s] stays 1."""
    for i in range(x.shape[0]):
        x_clipped[i] = x[i] if x[i] > 0.0 else 0.0


@njit(inline='always')
def slot_rates(x_clipped, k, slots, rates):
    """r_i = k_i·x[s0]·x[s1]·x[s2] [M s⁻¹] over the slot table."""
    for i in range(k.shape[0]):
        rates[i] = k[i] * x_clipped[slots[i, 0]] * x_clipped[slots[i, 1]] * x_clipped[slots[i, 2]]


@njit(inline='always')
def slot_derivatives(x_clipped, k, slots, dslot):
    """dslot[i, s] = ∂r_i/∂(slot s) [s⁻¹]; summed over slots sharing a species it is ∂r_i/∂x_j."""
    for i in range(k.shape[0]):
        a = x_clipped[slots[i, 0]]
        b = x_clipped[slots[i, 1]]
        c = x_clipped[slots[i, 2]]
        dslot[i, 0] = k[i] * b * c
        dslot[i, 1] = k[i] * a * c
        dslot[i, 2] = k[i] * a * b


@njit(inline='always')
def slot_jacobian(dslot, slots, row_start, species, coefficient, jac):
    """jac (n_s, n_s) = net_stoichᵀ·∂r/∂x from slot derivatives (padding slots skipped)."""
    n_s = jac.shape[0]
    for a in range(n_s):
        for b in range(n_s):
            jac[a, b] = 0.0
    for i in range(slots.shape[0]):
        for s in range(3):
            j = slots[i, s]
            if j >= n_s:
                continue
            d = dslot[i, s]
            for p in range(row_start[i], row_start[i + 1]):
                jac[species[p], j] += coefficient[p] * d
