"""scipy's implicit solvers (LSODA, BDF, Radau of ``scipy.integrate``) as alternative ODE solvers and test oracles.

The augmented system is the one the compiled integrator solves: species y
(n_s) followed by reaction extents (n_r) and exposures (n_s), with
d(extent)/dt = r(y) and d(exposure)/dt = y. The right-hand side and the
analytic Jacobian come from the same numba kernels, so only the integration
method differs. Inputs are handled by integrating segment by segment between
stop times and applying boluses between segments.

Every run ends: the solver is stepped here rather than through ``solve_ivp`` so that
``max_steps`` bounds the steps (and RHS_PER_STEP·max_steps the right-hand-side
evaluations) over the whole integration, a state or step that becomes non-finite stops it
and a step that no longer advances time counts as failed — with LSODA a rate constant of
1e300 otherwise gives steps of zero length forever. Every stop raises SolverError with the
time reached, the last step tried and the limiting species, as the compiled solvers do.
"""
from __future__ import annotations

import math
import time as _time

import numpy as np
from scipy.integrate import BDF, LSODA, OdeSolution as DenseOutput, Radau

from .errors import ConditionsError, SolverError
from .kernels import ode as ode_kernels
from .kernels.rosenbrock import apply_bolus
from .solution import COUNTER_NAMES, DEFAULT_MAX_STEPS, ODESolution


_METHODS = {"LSODA": LSODA, "BDF": BDF, "Radau": Radau}
#: Right-hand-side evaluations allowed per step of ``max_steps``. A step takes a few (Radau: up to ~20 with its
#: Newton iterations and retries); the bound only catches a step that never returns from inside the solver.
RHS_PER_STEP = 50


class _Abandon(Exception):
    """Raised from the right-hand side to leave a step the evaluation budget no longer allows."""


class _Tracker:
    """Counts right-hand-side evaluations against the budget and remembers the last trial point and the last
    non-finite derivative, which say where and why a failed run stopped."""

    def __init__(self, max_rhs):
        self.max_rhs = max_rhs
        self.n_rhs = 0
        self.last_t = math.nan
        self.nonfinite = None  # (t, y, f) of the latest evaluation with a non-finite derivative

    def count(self, t, z, out, n_s):
        self.n_rhs += 1
        self.last_t = t
        if not np.isfinite(out[:n_s]).all():
            self.nonfinite = (t, z[:n_s].copy(), out[:n_s].copy())
        if self.n_rhs > self.max_rhs:
            raise _Abandon


def _system(network, k, inputs, active, tracker=None):
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
        if tracker is not None:
            tracker.count(t, z, out, n_s)
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


def _limiting_species(network, k, y, nonfinite):
    """The species with a non-finite value or derivative, else the one with the largest |∂f_a/∂y_a| at ``y`` —
    the compiled solvers' choice when they stop (kernels/rosenbrock.py ``_stiffest_species``)."""
    if network.n_species == 0:
        return "unknown"
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size == 0 and nonfinite is not None:
        bad = np.flatnonzero(~np.isfinite(nonfinite[2]))
    if bad.size:
        return network.species[bad[0]]
    jac = np.empty((network.n_species, network.n_species))
    with np.errstate(all="ignore"):
        ode_kernels.jacobian(np.ascontiguousarray(y, dtype=float), k, network.reactant_idx, network.reactant_coef,
                             network.net_stoich, jac)
    rows = np.flatnonzero(~np.isfinite(jac).all(axis=1))
    return network.species[rows[0] if rows.size else int(np.argmax(np.abs(np.diag(jac))))]


def _stop_error(kind, method, t_reached, t_end, h, name, rtol, detail):
    """SolverError in the words of deterministic._failure_error, for the ways a scipy run can stop."""
    where = f"ODE integration (scipy {method})"
    if kind == "limit":
        return SolverError(
            f"{where} stopped at t = {t_reached:.6g} s of {t_end:g} s: {detail} (step size {h:.3g} s; species "
            f"limiting the step: {name}). Raise `max_steps`, loosen `rtol` (now {rtol:g}) or check the rate "
            f"constants.", time=t_reached, step=h, species=name)
    if kind == "non-finite":
        return SolverError(
            f"{where} failed at t = {t_reached:.6g} s of {t_end:g} s: the solution or its derivative became "
            f"non-finite ({detail}; step size {h:.3g} s; species limiting the step: {name}). Check the rate "
            f"constants of the reactions of {name} and its initial value.", time=t_reached, step=h, species=name)
    return SolverError(
        f"{where} failed at t = {t_reached:.6g} s of {t_end:g} s: the tolerance could not be met ({detail}; step "
        f"size fell to {h:.3g} s; species limiting the step: {name}). Loosen `rtol`/`atol` for {name} or check "
        f"its rate constants and initial value.", time=t_reached, step=h, species=name)


def _step_tried(solver, tracker, t_before):
    """The last step size tried [s]: BDF's and Radau's own, else how far past ``t_before`` the last evaluation was."""
    h = getattr(solver, "h_abs", math.nan)
    return h if math.isfinite(h) else max(tracker.last_t - t_before, 0.0)


def _integrate_segment(solver_class, fun, jac, t, t_stop, z, rtol, atol_full, tracker, budget):
    """Step one segment; returns (solver, dense output, steps taken, failure). ``failure`` is None or
    (kind, time reached, step tried, state reached, detail) for _stop_error, and the dense output None then."""
    n_steps = 0
    # Overflow and NaN inside scipy's step are reported below with where they happened, not as warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        solver = solver_class(fun, t, z, t_stop, rtol=rtol, atol=atol_full, jac=jac)
        ts, interpolants = [t], []
        while solver.status == "running":
            if n_steps >= budget:
                h = solver.step_size if solver.step_size is not None else math.nan
                return solver, None, n_steps, ("limit", solver.t, h, solver.y, "the step limit was reached")
            t_before, y_before = solver.t, solver.y.copy()
            tracker.nonfinite = None
            try:
                message = solver.step()
            except _Abandon:
                return solver, None, n_steps, (
                    "limit", t_before, _step_tried(solver, tracker, t_before), y_before,
                    f"the evaluation limit was reached ({tracker.max_rhs} right-hand-side evaluations, "
                    f"{RHS_PER_STEP} per step of `max_steps`)")
            except ValueError as exc:  # a LinAlgError too: scipy's LU refuses infinities
                return solver, None, n_steps, ("non-finite", t_before, _step_tried(solver, tracker, t_before),
                                               y_before, f"scipy: {exc}")
            n_steps += 1
            trial = _step_tried(solver, tracker, t_before)
            if solver.status == "failed":
                kind = "tolerance" if tracker.nonfinite is None else "non-finite"
                detail = f"scipy: {str(message).rstrip('.')}"
                return solver, None, n_steps, (kind, t_before, trial, y_before, detail)
            if not (math.isfinite(solver.t) and np.isfinite(solver.y).all()):
                return solver, None, n_steps, ("non-finite", t_before, solver.t - t_before, solver.y,
                                               "in the state reached")
            if solver.t == t_before and solver.status == "running":
                # LSODA returns "successful" steps of zero length once its step size underflows.
                return solver, None, n_steps, ("tolerance", t_before, trial, y_before,
                                               "the step no longer advances time")
            ts.append(solver.t)
            interpolants.append(solver.dense_output())
    try:
        dense = DenseOutput(ts, interpolants, alt_segment=solver_class in (BDF, LSODA))
    except TypeError:  # scipy < 1.11 has no alt_segment
        dense = DenseOutput(ts, interpolants)
    return solver, dense, n_steps, None


def solve_with_scipy(network, k, y0, t_out, inputs, rtol, atol, method, t0, max_steps=DEFAULT_MAX_STEPS):
    """Integrate with scipy's ``method`` solver; returns an ODESolution (see deterministic.py).

    ``max_steps`` bounds the steps over the whole integration, and RHS_PER_STEP·max_steps the right-hand-side
    evaluations. Raises SolverError (time reached, step, limiting species) when a budget runs out, the
    solver fails, a step no longer advances time or the solution becomes non-finite.
    """

    if isinstance(max_steps, bool) or not (isinstance(max_steps, (int, np.integer)) and max_steps > 0):
        raise ConditionsError(f"`max_steps` must be a positive integer, found {max_steps!r}")
    solver_class = _METHODS[method]
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
    tracker = _Tracker(RHS_PER_STEP * int(max_steps))
    start = _time.perf_counter()
    for t_stop in inputs.stops:
        active = (inputs.source_start <= t) & (t < inputs.source_stop)
        fun, jac = _system(network, k, inputs, active, tracker)
        with np.errstate(over="ignore", invalid="ignore"):
            start_ok = np.isfinite(fun(t, z)[:n_s]).all()
        if not start_ok:
            name = _limiting_species(network, k, z[:n_s], tracker.nonfinite)
            raise _stop_error("non-finite", method, t, t_out[-1], 0.0, name, rtol,
                              f"the rates overflow at the state at t = {t:g} s")
        solver, dense, taken, failure = _integrate_segment(solver_class, fun, jac, t, t_stop, z, rtol, atol_full,
                                                           tracker, int(max_steps) - counters["n_steps"])
        counters["n_steps"] += taken
        if failure is not None:
            kind, t_reached, h, y_reached, detail = failure
            name = _limiting_species(network, k, y_reached[:n_s], tracker.nonfinite)
            raise _stop_error(kind, method, float(t_reached), t_out[-1], float(h), name, rtol, detail)
        inside = (t_out > t) & (t_out < t_stop)
        if np.any(inside):
            out[inside] = dense(t_out[inside]).T
        counters["n_rhs"] += int(solver.nfev)
        counters["n_jac"] += int(solver.njev)
        counters["n_lu"] += int(solver.nlu)
        z = solver.y.copy()
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
