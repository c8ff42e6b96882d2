"""``scipy.integrate.solve_ivp`` as an alternative ODE solver and test oracle.

The augmented system is the one the compiled integrator solves: species y
(n_s) followed by reaction extents (n_r) and exposures (n_s), with
d(extent)/dt = r(y) and d(exposure)/dt = y. The right-hand side and the
analytic Jacobian come from the same numba kernels, so only the integration
method differs. Inputs are handled by integrating segment by segment between
stop times and applying boluses between segments.
"""
from __future__ import annotations

import time as _time

import numpy as np
from scipy.integrate import solve_ivp

from .errors import SolverError
from .kernels import ode as ode_kernels
from .kernels.rosenbrock import apply_bolus


def _system(network, k, inputs, active):
    n_s, n_r = network.n_species, network.n_reactions
    idx, coef, stoich = network.reactant_idx, network.reactant_coef, network.net_stoich
    rates = np.empty(n_r)
    dydt = np.empty(n_s)
    drdx = np.empty(idx.shape)
    jac_s = np.empty((n_s, n_s))
    species_of_source = inputs.source_species

    def fun(t, z):
        y = z[:n_s]
        ode_kernels.rhs(y, k, idx, coef, stoich, rates, dydt)
        out = np.concatenate([dydt, rates, y])
        for j in np.flatnonzero(active):
            out[species_of_source[j]] += inputs.source_amplitude[j] * np.exp(
                -inputs.source_decay[j] * (t - inputs.source_start[j]))
        return out

    # The constant blocks and the positions of ∂r/∂x in the augmented Jacobian are set once;
    # each call only refreshes the state-dependent entries.
    full = np.zeros((2 * n_s + n_r, 2 * n_s + n_r))
    full[n_s + n_r:, :n_s] = np.eye(n_s)
    reaction_row, slot = np.nonzero(idx >= 0)
    species_col = idx[reaction_row, slot]

    def jac(t, z):
        y = z[:n_s]
        ode_kernels.rate_derivatives(y, k, idx, coef, drdx)
        ode_kernels.species_jacobian(drdx, idx, stoich, jac_s)
        full[:n_s, :n_s] = jac_s
        full[n_s + reaction_row, species_col] = drdx[reaction_row, slot]
        return full.copy()

    return fun, jac


def solve_with_scipy(network, k, y0, t_out, inputs, rtol, atol, method, t0):
    """Integrate with ``solve_ivp(method=...)``; returns an ODESolution (see deterministic.py)."""
    from .deterministic import COUNTER_NAMES, ODESolution

    n_s, n_r = network.n_species, network.n_reactions
    # Extents and exposures are outputs, not controlled quantities: a loose atol keeps them out of step control
    # in the way the compiled solver excludes them.
    atol_full = np.concatenate([atol, np.full(n_r + n_s, np.inf)])
    z = np.concatenate([y0, np.zeros(n_r + n_s)])
    for b in range(inputs.bolus_time.size):
        if inputs.bolus_time[b] <= t0:
            apply_bolus(z, inputs.bolus_species[b], inputs.bolus_amount[b])
    out = np.empty((t_out.size, z.size))
    counters = dict.fromkeys(COUNTER_NAMES, 0)
    counters["n_rejected"] = -1
    out[t_out <= t0] = z
    t = t0
    start = _time.perf_counter()
    for t_stop in inputs.stops:
        active = (inputs.source_start <= t) & (t < inputs.source_stop)
        fun, jac = _system(network, k, inputs, active)
        sol = solve_ivp(fun, (t, t_stop), z, method=method, rtol=rtol, atol=atol_full, jac=jac,
                        dense_output=True)
        if sol.status != 0:
            raise SolverError(f"scipy {method} failed between t = {t:g} s and {t_stop:g} s: {sol.message}",
                              time=float(sol.t[-1]), step=float("nan"))
        inside = (t_out > t) & (t_out < t_stop)
        if np.any(inside):
            out[inside] = sol.sol(t_out[inside]).T
        counters["n_steps"] += len(sol.t) - 1
        counters["n_rhs"] += int(sol.nfev)
        counters["n_jac"] += int(sol.njev)
        counters["n_lu"] += int(sol.nlu)
        z = sol.y[:, -1].copy()
        t = t_stop
        for b in range(inputs.bolus_time.size):
            if inputs.bolus_time[b] == t_stop:
                apply_bolus(z, inputs.bolus_species[b], inputs.bolus_amount[b])
        at_stop = t_out == t_stop
        out[at_stop] = z
    wall = _time.perf_counter() - start
    y = out[:, :n_s]
    worst = np.unravel_index(np.argmin(y + atol), y.shape)
    if y[worst] < -atol[worst[1]]:
        raise SolverError(
            f"scipy {method} returned a negative concentration of {network.species[worst[1]]} "
            f"({y[worst]:.3g} M at t = {t_out[worst[0]]:g} s, below −atol); it has no positivity "
            f"constraint. Tighten `atol` or use solver='rodas5p'.",
            time=float(t_out[worst[0]]), species=network.species[worst[1]])
    return ODESolution(t_out, np.clip(y, 0.0, None), out[:, n_s:n_s + n_r], out[:, n_s + n_r:], counters,
                       method, rtol, atol, wall, inputs)
