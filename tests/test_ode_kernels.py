"""Rate-equation kernels: the one rate convention, an exact analytic Jacobian,
and no recompilation when rate constants or states change."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conftest import MECHANISMS
from fentonsim import compile_network, load_mechanism
from fentonsim._jit import JIT_DISABLED
from fentonsim.kernels import ode


#: State variables of the iron network (the hypothesis strategies draw one state of this length).
N_IRON = compile_network(load_mechanism(MECHANISMS / "iron.yaml")).n_species


@pytest.fixture(scope="module")
def iron():
    return compile_network(load_mechanism(MECHANISMS / "iron.yaml"))


def reference_rhs(x, k, net):
    """Plain numpy statement of r = k·Π x^ν and dx/dt = net_stoichᵀ r."""
    r = k.copy()
    for i in range(net.n_reactions):
        for j, nu in zip(net.reactant_idx[i], net.reactant_coef[i]):
            if j >= 0:
                r[i] *= x[j] ** nu
    return net.net_stoich.T @ r


def test_self_reaction_convention():
    """For 2 A => P with k, dA/dt = -2k[A]^2 and dP/dt = k[A]^2."""
    idx = np.array([[0, -1, -1]], dtype=np.int32)
    coef = np.array([[2, 0, 0]], dtype=np.int32)
    stoich = np.array([[-2, 1]], dtype=np.int64)
    rates, dxdt = np.empty(1), np.empty(2)
    ode.rhs(np.array([3e-3, 0.0]), np.array([5.5e9]), idx, coef, stoich, rates, dxdt)
    assert dxdt[0] == pytest.approx(-2 * 5.5e9 * 9e-6) and dxdt[1] == pytest.approx(5.5e9 * 9e-6)


@settings(max_examples=60)
@given(st.lists(st.floats(min_value=0, max_value=1e-2), min_size=N_IRON, max_size=N_IRON),
       st.floats(min_value=3, max_value=9))
def test_rhs_matches_reference(x, pH):
    """The compiled RHS equals the numpy statement of the convention on the iron network."""
    net = _iron()
    x = np.array(x)
    k = net.rate_constants(pH=pH)
    np.testing.assert_allclose(ode.rhs_alloc(x, k, net), reference_rhs(x, k, net), rtol=1e-12, atol=1e-300)


@settings(max_examples=40)
@given(st.lists(st.floats(min_value=1e-9, max_value=1e-3), min_size=N_IRON, max_size=N_IRON),
       st.floats(min_value=3, max_value=9))
def test_jacobian_matches_finite_differences(x, pH):
    """Each Jacobian column equals a central difference of the RHS (to 1e-6 of the largest entry:
    rows sum large opposite terms, so cancellation rules out an element-wise relative test)."""
    net = _iron()
    x = np.array(x)
    k = net.rate_constants(pH=pH)
    jac = ode.jacobian_alloc(x, k, net)
    for b in range(net.n_species):
        h = 1e-4 * x[b]
        up, down = x.copy(), x.copy()
        up[b] += h
        down[b] -= h
        column = (ode.rhs_alloc(up, k, net) - ode.rhs_alloc(down, k, net)) / (2 * h)
        scale = np.abs(jac).max() * 1e-6 + 1e-300
        np.testing.assert_allclose(jac[:, b], column, rtol=1e-5, atol=scale)


def test_jacobian_exact_at_zero(iron):
    """At x = 0 a first-order dependence survives: d(dx/dt)/dx for 2 A is 0, for A + B is k·[B]."""
    x = np.zeros(iron.n_species)
    x[iron.species_index("peroxide")] = 1e-4
    x[iron.species_index("O2")] = 258e-6
    k = iron.rate_constants(pH=7.4)
    jac = ode.jacobian_alloc(x, k, iron)
    fe2, h2o2 = iron.species_index("Fe(II)"), iron.species_index("peroxide")
    fenton = sum(k[iron.reaction_ids.index(r)] for r in ("F1-OH", "F1-ferryl", "F2-OH", "F2-ferryl"))
    # Fe(II) is consumed by F1/F2 (first order in Fe(II) at fixed peroxide) and by autoxidation F10 (at fixed O2).
    autox = k[iron.reaction_ids.index("F10")] * 258e-6
    assert jac[fe2, fe2] == pytest.approx(-(fenton * 1e-4 + autox), rel=1e-12)
    assert jac[h2o2, fe2] == pytest.approx(-fenton * 1e-4, rel=1e-12)


def test_conservation_along_rhs(iron):
    """conservation · dx/dt = 0 at any state: the total iron is never created or destroyed."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.uniform(0, 1e-4, iron.n_species)
        d = ode.rhs_alloc(x, iron.rate_constants(pH=rng.uniform(4, 8)), iron)
        assert abs(iron.conservation @ d).max() <= 1e-12 * np.abs(d).max()


@pytest.mark.skipif(JIT_DISABLED, reason="NUMBA_DISABLE_JIT is set: nothing is compiled")
def test_no_recompilation_when_k_or_x_change(iron):
    """New rate constants, states and conditions reuse the compiled signature of the first call."""
    x = np.full(iron.n_species, 1e-5)
    ode.rhs_alloc(x, iron.rate_constants(pH=7.0), iron)
    ode.jacobian_alloc(x, iron.rate_constants(pH=7.0), iron)
    n_rhs, n_jac = len(ode.rhs.signatures), len(ode.jacobian.signatures)
    for pH in (5.0, 6.5, 7.4):
        x = np.full(iron.n_species, 1e-5 * pH)
        ode.rhs_alloc(x, iron.rate_constants(pH=pH), iron)
        ode.jacobian_alloc(x, iron.rate_constants(pH=pH, temperature=300.0), iron)
    other = compile_network(load_mechanism(MECHANISMS / "ros_core.yaml"))
    ode.rhs_alloc(np.full(other.n_species, 1e-6), other.rate_constants(pH=6.5), other)
    assert len(ode.rhs.signatures) == n_rhs
    assert len(ode.jacobian.signatures) == n_jac


_NET = []


def _iron():
    if not _NET:
        _NET.append(compile_network(load_mechanism(MECHANISMS / "iron.yaml")))
    return _NET[0]


@settings(max_examples=40)
@given(st.lists(st.floats(min_value=0, max_value=1e-2), min_size=N_IRON, max_size=N_IRON),
       st.floats(min_value=3, max_value=9))
def test_slot_form_matches_reference(x, pH):
    """The integrator's branch-free form — reactions grouped by reactants (rate_groups), products over
    three slots, f = weights·r and a Jacobian gathered through jacobian_structure — gives the
    reference kernels' right-hand side and Jacobian."""
    net = _iron()
    x = np.array(x)
    k = net.rate_constants(pH=pH)
    slots = ode.reactant_slots(net.reactant_idx, net.reactant_coef, net.n_species)
    live = np.ones(net.n_reactions, dtype=bool)
    group_of, group_slots = ode.rate_groups(slots, live, np.arange(net.n_species), net.n_species)
    assert group_of.min() == 0 and len(group_slots) < net.n_reactions  # iron has branches to merge
    weights = np.zeros((net.n_species, len(group_slots)))
    np.add.at(weights.T, group_of, k[:, None] * net.net_stoich)
    clipped = np.append(x, 1.0)
    factors = clipped[group_slots]
    rates = factors.prod(axis=1)
    # Grouping sums k·ν before multiplying, so compare against the size of the terms, not of their
    # (possibly cancelling) sum.
    reaction_rates = k * clipped[slots].prod(axis=1)
    scale = np.abs(net.net_stoich.T) @ reaction_rates
    assert np.all(np.abs(weights @ rates - ode.rhs_alloc(x, k, net)) <= 1e-12 * scale + 1e-300)
    dslot = np.stack([factors[:, 1] * factors[:, 2], factors[:, 0] * factors[:, 2],
                      factors[:, 0] * factors[:, 1]], axis=1).reshape(-1)
    position, start, source, coefficient = ode.jacobian_structure(weights, group_slots)
    jac = np.zeros(net.n_species * net.n_species)
    for e in range(position.size):
        jac[position[e]] = np.dot(coefficient[start[e]:start[e + 1]], dslot[source[start[e]:start[e + 1]]])
    terms = np.zeros(net.n_species * net.n_species)
    for e in range(position.size):
        terms[position[e]] = np.dot(np.abs(coefficient[start[e]:start[e + 1]]), dslot[source[start[e]:start[e + 1]]])
    reference = ode.jacobian_alloc(x, k, net).reshape(-1)
    assert np.all(np.abs(jac - reference) <= 1e-12 * terms + 1e-300)