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


@njit
def live_subsystem(k, reactant_idx, net_stoich, seeded):
    """(live species (n_s,) bool, live reactions (n_r,) bool) of a network from a seed.

    A reaction is live when k > 0 and every reactant is live; a species is
    live when ``seeded`` (non-zero initially or fed by an input) or produced by
    a live reaction. Everything else has rate or concentration exactly 0 for
    all time, whatever the solver, so the integrators can leave it out: Fenton
    mechanisms carry carbonate, GSH and probe chemistry that a given condition
    often does not switch on.
    """
    n_r, width = reactant_idx.shape
    n_s = net_stoich.shape[1]
    live_species = seeded.copy()
    live_reactions = np.zeros(n_r, dtype=np.bool_)
    changed = True
    while changed:
        changed = False
        for i in range(n_r):
            if live_reactions[i] or not k[i] > 0.0:
                continue
            runs = True
            for slot in range(width):
                j = reactant_idx[i, slot]
                if j < 0:
                    break
                if not live_species[j]:
                    runs = False
                    break
            if not runs:
                continue
            live_reactions[i] = True
            changed = True
            for a in range(n_s):
                if net_stoich[i, a] > 0:
                    live_species[a] = True
    return live_species, live_reactions


@njit
def rate_groups(slots, live_reactions, position, n_live):
    """Group the live reactions by their reactants, in the live subsystem's numbering.

    slots (n_r, 3) from :func:`reactant_slots` (padding n_s); position (n_s,) the live index of
    each species (−1 if not live); n_live the number of live species. Returns group_of (n_r,)
    int64 — the group of each live reaction, −1 for the others — and group_slots (n_g, 3) int64,
    each group's reactant slots in ascending order with padding n_live. Reactions in one group
    have the same product Π x and differ only in k and products (branches such as
    Fe(II) + H2O2 → Fe(III) + ·OH + OH⁻ and → FeO²⁺ + H2O).
    """
    n_r = slots.shape[0]
    n_s = position.shape[0]
    group_of = np.full(n_r, -1, dtype=np.int64)
    keys = np.empty((n_r, 3), dtype=np.int64)
    n_groups = 0
    for i in range(n_r):
        if not live_reactions[i]:
            continue
        first = position[slots[i, 0]] if slots[i, 0] < n_s else n_live
        second = position[slots[i, 1]] if slots[i, 1] < n_s else n_live
        third = position[slots[i, 2]] if slots[i, 2] < n_s else n_live
        # Three compare-and-swaps sort the key (cheaper to compile than a library sort).
        if first > second:
            first, second = second, first
        if second > third:
            second, third = third, second
        if first > second:
            first, second = second, first
        found = -1
        for g in range(n_groups):
            if keys[g, 0] == first and keys[g, 1] == second and keys[g, 2] == third:
                found = g
                break
        if found < 0:
            found = n_groups
            keys[found, 0] = first
            keys[found, 1] = second
            keys[found, 2] = third
            n_groups += 1
        group_of[i] = found
    return group_of, keys[:n_groups].copy()


@njit
def jacobian_structure(weights, slots):
    """The Jacobian of f = weights·r, r_g = Π over slots, as sums over slot derivatives, for
    filling it by gathering.

    weights (n_s, n_g) float; slots (n_g, 3), padding ≥ n_s. Entry e of the structurally
    non-zero entries sits at flat index ``position[e]`` (= a·n_s + b) of the (n_s, n_s)
    Jacobian and equals Σ_p coefficient[p]·dslot[source[p]] for p in start[e]:start[e+1], with
    dslot the (3·n_g,) slot derivatives (∂r_g/∂(slot s) at 3·g + s) and the coefficients
    weights[a, g]. A gather writes each entry once; the scatter it replaces added into the
    same entries again and again.
    """
    n_s, n_g = weights.shape
    capacity = 3 * n_g * n_s
    flat = np.empty(capacity, dtype=np.int64)
    source = np.empty(capacity, dtype=np.int64)
    coefficient = np.empty(capacity)
    n_terms = 0
    for g in range(n_g):
        for s in range(3):
            b = slots[g, s]
            if b >= n_s:
                continue
            for a in range(n_s):
                if weights[a, g] != 0.0:
                    flat[n_terms] = a * n_s + b
                    source[n_terms] = 3 * g + s
                    coefficient[n_terms] = weights[a, g]
                    n_terms += 1
    # Bucket the terms by Jacobian entry (a counting sort: n_s² buckets, no library sort to compile).
    count = np.zeros(n_s * n_s + 1, dtype=np.int64)
    for t in range(n_terms):
        count[flat[t] + 1] += 1
    position = np.empty(n_s * n_s, dtype=np.int64)
    start = np.empty(n_s * n_s + 1, dtype=np.int64)
    n_entries = 0
    start[0] = 0
    for entry in range(n_s * n_s):
        if count[entry + 1] > 0:
            position[n_entries] = entry
            start[n_entries + 1] = start[n_entries] + count[entry + 1]
            count[entry + 1] = n_entries  # from here on: the entry's number
            n_entries += 1
    fill = start[:n_entries].copy()
    gathered_source = np.empty(n_terms, dtype=np.int64)
    gathered_coefficient = np.empty(n_terms)
    for t in range(n_terms):
        e = count[flat[t] + 1]
        gathered_source[fill[e]] = source[t]
        gathered_coefficient[fill[e]] = coefficient[t]
        fill[e] += 1
    return position[:n_entries].copy(), start[:n_entries + 1].copy(), gathered_source, gathered_coefficient

