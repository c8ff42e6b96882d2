"""Exact SSA and tau-leaping for networks with general rate laws and state events (fentonsim.laws).

Propensities. A mass-action reaction keeps the combinatorial propensity of kernels/ssa.py,
a = c·Π n(n−1)… with c = k·(N_A V)^(1−m). A reaction with a general law r = k·g(x) has

    a(n) = N_A·V·k·g(c),   c = n / (N_A·V),

the rate equation's rate turned into events per second at the concentrations the counts stand for:
``c_base[j]`` holds N_A·V·k_j and the law program (kernels/laws.evaluate_programs, the interpreter the
ODE kernel runs) gives g. For an SBML model in molecule counts the importer's k = 1/(N_A·V·t_u) makes
this exactly the kinetic law evaluated on counts, the SBML stochastic convention. A law that reads
``time`` is refused by the caller (fentonsim.stochastic_laws): its propensity would change between
events, which exponential waiting times cannot represent.

A propensity that is negative or NaN on a reachable state stops the run with NEGATIVE_PROPENSITY and
``failure`` = (reaction, value, time); a firing that would make a count negative (a law that is
positive where its reactant is exhausted) with NEGATIVE_COUNT and (reaction, species, time). Nothing
is clipped.

Dependency graph. ``dep_ptr``/``dep_idx`` list, for each reaction, the reactions whose propensity its
firing changes: mass-action reactions with a changed reactant and general laws reading a changed
species (the STATE operands of their programs). Only those are recomputed after an event.

State events. Between two reaction events the counts are constant, so a trigger reading only the
state (and time through thresholds the caller turns into stops) is piecewise constant and changes
only at reaction events: after every event whose reaction changes a species some trigger reads
(``trigger_reader``), the triggers are evaluated and events fire at that exact instant, with SBML's
delays, priorities and persistence by kernels/laws._process_instant — the very code the ODE kernel
uses, run on the concentrations n/(N_A·V). Delayed executions are landed on exactly (the waiting time
is memoryless, so cutting it at the due time is exact). Assigned concentrations become counts
×N_A·V, rounded to the nearest integer when within 1e-9 relative of it (an SBML count) and
stochastically otherwise (mean kept, as for boluses); a negative assigned value stops the run with
NEGATIVE_ASSIGNMENT and (species, value, time).

Counts exactly. ``per_molar`` is (N_A·V, s): an imported SBML model in counts multiplies each species'
concentration by its own factor s (≈ N_A·V, but not bit-equal, and n/s·s is not always n in floating
point), so a law such as k·(100 − 2·P2) could give −1e−14 at P2 = 50 and a trigger P2 > 30 could hold at
P2 = 30. The concentration handed to the programs is therefore the double next to n/(N_A·V) for which
c·s is exactly n, where one exists (s = 0: no such correction). A trigger comparing ``time`` with T strictly
(``time > T``) turns true just after T: it is processed at the next double after T, after the outputs
at T are written, so right-continuous outputs stay right.

Tau-leaping (Cao, Gillespie & Petzold 2006, as kernels/ssa.tau_leap): critical reactions (fewer than
N_CRITICAL firings from exhausting a consumed species) fire exactly, the leap bounds the expected
relative change of every species a propensity reads, and a leap that would make a count negative is
undone and retried with half the step. CGP's g_i (the highest order of reaction in species i) becomes,
for general laws, the largest local elasticity |∂ln g/∂ln c_i| from the laws' exact derivative
programs (1 for a saturating Michaelis–Menten law, up to n for a Hill law), so the leap condition keeps
its meaning. Events are checked after every leap and fire at its end (a leap's time resolution).

Outputs, seeds, stop flag and counters follow kernels/ssa.py.
"""
from __future__ import annotations

import math

import numpy as np

from .._jit import call_one, njit, prange
from .laws import _next_due, _one_program, _process_instant, evaluate_programs
from .rng import exponential, stochastic_round, uniform
from .ssa import (C_EVENTS, C_LEAPS, C_REJECTED, C_SSA_STEPS, COUNT_LIMIT, COUNT_OVERFLOW, INTERRUPTED,
                  MAX_EVENTS_EXCEEDED, PROPENSITY_OVERFLOW, SSA_FALLBACK_FACTOR, SSA_FALLBACK_STEPS,
                  STOP_CHECK_INTERVAL, SUCCESS, _apply_boluses, _g_factor, _record_before, _stopped, _windowed,
                  apply_leap, leap_firings, leap_moments, propensity, start_trajectory)

DIRECT, TAU_LEAP = 0, 2
#: Status codes beyond kernels/ssa.py's (0–5); event failures are EVENT_BASE + a kernels/laws.py status.
NEGATIVE_PROPENSITY = 10
NEGATIVE_COUNT = 11
NEGATIVE_ASSIGNMENT = 12
EVENT_BASE = 20
#: failure[] entries: the reaction, species or event at fault; the value found; the time [s].
F_INDEX, F_VALUE, F_TIME = 0, 1, 2
N_FAILURE = 3
#: An assigned count within this relative distance of an integer is that integer (round-off of n/(N_A V)·N_A V).
INTEGER_TOLERANCE = 1e-9


@njit(inline="always")
def _propensity(j, is_law, c, slot_idx, slot_off, x, code, operand, constants, rate_start, native, conc, t, stack):
    """a_j [s⁻¹]: the falling factorial of kernels/ssa.py, or N_A·V·k·g(c) from reaction j's law program."""
    if not is_law[j]:
        return propensity(j, c, slot_idx, slot_off, x)
    if c[j] == 0.0:
        return 0.0  # a closed window or k = 0: never fires, whatever g would be
    if native[0]:
        return c[j] * call_one(native[1], j, conc, t, constants)
    return c[j] * _one_program(code, operand, constants, rate_start, j, conc, t, stack)


@njit(inline="always")
def _bad(value):
    """0 for a usable propensity, else the status it calls for."""
    if value >= 0.0:
        return SUCCESS if value < math.inf else PROPENSITY_OVERFLOW
    return NEGATIVE_PROPENSITY  # negative or NaN


@njit
def _all_propensities(t, is_law, c, slot_idx, slot_off, x, code, operand, constants, rate_start, native, conc, stack,
                      a, failure):
    """Every a_j; returns (status, a0)."""
    a0 = 0.0
    for j in range(a.size):
        value = _propensity(j, is_law, c, slot_idx, slot_off, x, code, operand, constants, rate_start, native, conc, t,
                            stack)
        status = _bad(value)
        if status != SUCCESS:
            failure[F_INDEX], failure[F_VALUE], failure[F_TIME] = j, value, t
            return status, a0
        a[j] = value
        a0 += value
    return SUCCESS, a0


@njit(inline="always")
def _concentration(n, per_molar):
    """n/(N_A·V) [M], moved by one ulp where that makes n·``per_molar[1]`` come out exactly n (module docstring)."""
    value = n / per_molar[0]
    exact = per_molar[1]
    if exact > 0.0 and value * exact != n:
        up = np.nextafter(value, math.inf)
        if up * exact == n:
            return up
        down = np.nextafter(value, -math.inf)
        if down * exact == n:
            return down
    return value


@njit(inline="always")
def _sync_concentrations(x, conc, per_molar):
    for i in range(conc.size):
        conc[i] = _concentration(x[i], per_molar)


@njit
def _to_count(value, state):
    """A non-negative molecule number for an assigned value×N_A·V (module docstring)."""
    nearest = math.floor(value + 0.5)
    if abs(value - nearest) <= INTEGER_TOLERANCE * max(1.0, abs(value)):
        return np.int64(nearest)
    return stochastic_round(value, state)


@njit
def _instant(t, x, conc, per_molar, ev, work, state, failure):
    """Run kernels/laws._process_instant at t on the concentrations and carry its assignments into the counts.

    Returns (status, changed): changed says some count was assigned (every propensity must be recomputed).
    """
    (code, operand, constants, trigger_start, assignment_start, assignment_target, event_assignments,
     event_priority, event_use_trigger_values, delay_start, event_persistent, event_interacts, signed) = ev
    (stack, clipped, trigger_values, was_true, assignment_values, pending, culprit, queue_time, queue_event,
     queue_values) = work
    status = _process_instant(t, conc, signed, clipped, code, operand, constants, trigger_start, assignment_start,
                              assignment_target, event_assignments, event_priority, event_use_trigger_values,
                              delay_start, event_persistent, event_interacts, stack, trigger_values, was_true,
                              assignment_values, pending, culprit, queue_time, queue_event, queue_values)
    if status != SUCCESS:
        failure[F_INDEX], failure[F_VALUE], failure[F_TIME] = culprit[0], np.nan, t
        return EVENT_BASE + status, False
    changed = False
    for i in range(conc.size):
        if conc[i] != _concentration(x[i], per_molar):
            value = conc[i] * per_molar[0]
            if not value >= 0.0:
                failure[F_INDEX], failure[F_VALUE], failure[F_TIME] = i, value, t
                return NEGATIVE_ASSIGNMENT, True
            if not value <= COUNT_LIMIT:
                failure[F_INDEX], failure[F_VALUE], failure[F_TIME] = i, value, t
                return COUNT_OVERFLOW, True
            x[i] = _to_count(value, state)
            conc[i] = _concentration(x[i], per_molar)
            changed = True
    return SUCCESS, changed


@njit
def _events_now(t, a0, a, c, x, conc, per_molar, is_law, slot_idx, slot_off, law, ev, work, state, failure):
    """The events of the instant t; every propensity anew if they assigned a count. Returns (status, a0)."""
    status, changed = _instant(t, x, conc, per_molar, ev, work, state, failure)
    if status == SUCCESS and changed:
        code, operand, constants, rate_start, stack, native_use, native_address = law
        native = (native_use, native_address)
        status, a0 = _all_propensities(t, is_law, c, slot_idx, slot_off, x, code, operand, constants, rate_start, native,
                                       conc, stack, a, failure)
    return status, a0


@njit(inline="always")
def _fire(j, x, conc, per_molar, change_ptr, change_idx, change_val, count, t, failure):
    """Fire reaction j ``count`` times; returns NEGATIVE_COUNT (and undoes nothing) if a count went below 0."""
    status = SUCCESS
    for p in range(change_ptr[j], change_ptr[j + 1]):
        i = change_idx[p]
        x[i] += count * change_val[p]
        conc[i] = _concentration(x[i], per_molar)
        if x[i] < 0 and status == SUCCESS:
            failure[F_INDEX], failure[F_VALUE], failure[F_TIME] = j, i, t
            status = NEGATIVE_COUNT
    return status


# The event loop allocates nothing: compiled without reference counting, its helpers' array parameters cost no
# atomic increments (they had been 40 % of an event's time, perf on the Michaelis–Menten chain).
@njit(_nrt=False)
def _direct(t, seg_end, max_steps, c, a, order, resort, x, conc, per_molar, is_law, slot_idx, slot_off, law,
            change_ptr, change_idx, change_val, dep_ptr, dep_idx, trigger_reader, ev, work, t_out, out_i, out_x,
            events, counters, used, max_events, state, stop, failure):
    """Gillespie's direct method from t until seg_end or ``max_steps`` events (kernels/ssa._direct_steps without
    the grouping, which general laws do not allow), with state events after each firing and delayed executions
    landed on. Returns (t, out_i, status, done), done when seg_end was reached."""
    code, operand, constants, rate_start, stack, native_use, native_address = law
    native = (native_use, native_address)
    n_r = a.size
    has_events = trigger_reader.size > 0 and ev[3].size > 1
    status, a0 = _all_propensities(t, is_law, c, slot_idx, slot_off, x, code, operand, constants, rate_start, native, conc,
                                   stack, a, failure)
    if status != SUCCESS:
        return t, out_i, status, False
    queue_time, queue_event = work[7], work[8]
    budget = min(max_steps, max_events - used)
    steps = 0
    until_resum = STOP_CHECK_INTERVAL
    done = False
    while True:
        if not a0 < math.inf:
            status = PROPENSITY_OVERFLOW
            break
        t_next = t + exponential(state) / a0 if a0 > 0.0 else math.inf
        due = _next_due(queue_time, queue_event) if has_events else math.inf
        if t_next >= seg_end and due >= seg_end:
            done = True
            break
        if due <= t_next:
            # A delayed execution comes first: the clock restarts after it (memoryless waiting times).
            out_i = _record_before(out_x, out_i, t_out, due, x)
            t = due
            status, a0 = _events_now(t, a0, a, c, x, conc, per_molar, is_law, slot_idx, slot_off, law, ev, work,
                                     state, failure)
            if status != SUCCESS:
                break
            continue
        if steps >= budget:
            if used + steps >= max_events:
                status = MAX_EVENTS_EXCEEDED
            break
        target = uniform(state) * a0
        p = 0
        j = order[0]
        cumulative = a[j]
        while cumulative <= target and p < n_r - 1:
            p += 1
            j = order[p]
            cumulative += a[j]
        if cumulative <= target or a[j] <= 0.0:
            a0 = 0.0
            for q in range(n_r):
                a0 += a[q]
            continue
        out_i = _record_before(out_x, out_i, t_out, t_next, x)
        t = t_next
        status = _fire(j, x, conc, per_molar, change_ptr, change_idx, change_val, 1, t, failure)
        if status != SUCCESS:
            break
        for d in range(dep_ptr[j], dep_ptr[j + 1]):
            q = dep_idx[d]
            new = _propensity(q, is_law, c, slot_idx, slot_off, x, code, operand, constants, rate_start, native, conc, t,
                              stack)
            status = _bad(new)
            if status != SUCCESS:
                failure[F_INDEX], failure[F_VALUE], failure[F_TIME] = q, new, t
                break
            a0 += new - a[q]
            a[q] = new
        if status != SUCCESS:
            break
        if resort and p > 0:
            order[p - 1], order[p] = j, order[p - 1]
        events[j] += 1
        steps += 1
        if has_events and trigger_reader[j]:
            status, a0 = _events_now(t, a0, a, c, x, conc, per_molar, is_law, slot_idx, slot_off, law, ev, work,
                                     state, failure)
            if status != SUCCESS:
                break
        until_resum -= 1
        if until_resum == 0:
            until_resum = STOP_CHECK_INTERVAL
            a0 = 0.0
            for q in range(n_r):
                a0 += a[q]
            if stop[0] != 0:
                status = INTERRUPTED
                break
    counters[C_EVENTS] += steps
    counters[C_SSA_STEPS] += steps
    return t, out_i, status, done


@njit
def _segment_start(t, b, c, c_base, window_start, window_stop, x, conc, per_molar, bolus_time, bolus_species,
                   bolus_count, ev, work, time_triggers, has_events, out_x, out_i, t_out, state, failure):
    """At a stop t: boluses, the windows, then the events this instant sets off (a bolus or ``time ≥ T``), and
    those of ``time > T`` just after t, once the outputs at t are written. Returns (status, t, b, out_i)."""
    b = _apply_boluses(b, t, bolus_time, bolus_species, bolus_count, x, state)
    _windowed(c, c_base, window_start, window_stop, t)
    _sync_concentrations(x, conc, per_molar)
    if not has_events:
        return SUCCESS, t, b, out_i
    # At t0 this fires the triggers that hold there but whose initial value is false (SBML, as the ODE kernel).
    status, _ = _instant(t, x, conc, per_molar, ev, work, state, failure)
    if status != SUCCESS or not time_triggers:
        return status, t, b, out_i
    after = np.nextafter(t, math.inf)
    out_i = _record_before(out_x, out_i, t_out, after, x)
    status, _ = _instant(after, x, conc, per_molar, ev, work, state, failure)
    return status, after, b, out_i


@njit
def _law_tau_leap(c, a, critical, fired, mu, sigma2, elasticity, drdx, x, conc, per_molar, is_law, slot_idx,
                  slot_off, law, deriv, watched, hor_order, hor_coef, epsilon, change_ptr, change_idx, change_val,
                  tau_cap, t, horizon_end, state, failure):
    """One Cao–Gillespie–Petzold leap attempt (module docstring). Returns (status, action, tau, horizon):
    action 0 leapt (counts and ``fired`` updated), 1 rejected (negative count; retry with τ′/2 = tau),
    2 too short (do exact steps), 3 nothing can fire."""
    code, operand, constants, rate_start, stack, native_use, native_address = law
    native = (native_use, native_address)
    deriv_reaction, deriv_species, deriv_start, ones_d = deriv
    n_x = mu.size
    status, a0 = _all_propensities(t, is_law, c, slot_idx, slot_off, x, code, operand, constants, rate_start, native, conc,
                                   stack, a, failure)
    if status != SUCCESS:
        return status, 0, 0.0, 0.0
    if a0 <= 0.0:
        return SUCCESS, 3, 0.0, 0.0
    a0_critical = leap_moments(a, x, change_ptr, change_idx, change_val, critical, mu, sigma2)
    for i in range(n_x):
        elasticity[i] = 0.0
    if deriv_reaction.size > 0:
        # |∂ln g/∂ln c_i| of every general law: the g_i of CGP's bound for the species a law reads.
        evaluate_programs(code, operand, constants, deriv_start, ones_d, conc, t, stack, drdx)
        for d in range(deriv_reaction.size):
            j = deriv_reaction[d]
            i = deriv_species[d]
            if is_law[j] and a[j] > 0.0 and not critical[j]:
                value = abs(drdx[d] * conc[i] * c[j] / a[j])
                if value > elasticity[i]:
                    elasticity[i] = value
    tau1 = tau_cap
    for i in range(n_x):
        if not watched[i]:
            continue
        n = float(x[i])
        g = max(_g_factor(hor_order[i], hor_coef[i], n) if hor_order[i] > 0 else 1.0, elasticity[i])
        bound = max(epsilon * n / g, 1.0)
        if mu[i] != 0.0:
            tau1 = min(tau1, bound / abs(mu[i]))
        if sigma2[i] > 0.0:
            tau1 = min(tau1, bound * bound / sigma2[i])
    if tau1 < SSA_FALLBACK_FACTOR / a0:
        return SUCCESS, 2, 0.0, 0.0
    horizon = horizon_end - t
    tau2 = exponential(state) / a0_critical if a0_critical > 0.0 else math.inf
    tau = min(tau1, tau2, horizon)
    if not leap_firings(a, critical, tau, tau2 <= tau1 and tau2 <= horizon, a0_critical, fired, state):
        failure[F_INDEX], failure[F_VALUE], failure[F_TIME] = -1, tau, t
        return COUNT_OVERFLOW, 0, 0.0, 0.0
    _, negative, overflow = apply_leap(fired, x, n_x, change_ptr, change_idx, change_val)
    if negative:
        return SUCCESS, 1, 0.5 * tau1, 0.0
    _sync_concentrations(x, conc, per_molar)
    if overflow:
        failure[F_INDEX], failure[F_VALUE], failure[F_TIME] = -1, np.nan, t
        return COUNT_OVERFLOW, 0, 0.0, 0.0
    return SUCCESS, 0, tau, horizon


@njit
def trajectory(method, c_base, window_start, window_stop, is_law, slot_idx, slot_off, law, deriv, change_ptr,
               change_idx, change_val, dep_ptr, dep_idx, trigger_reader, time_triggers, ev, initial_value, watched,
               hor_order, hor_coef, epsilon, per_molar, x, t0, t_out, stops, bolus_time, bolus_species, bolus_count,
               max_events,
               state, out_x, events, counters, stop, failure):
    """One trajectory by the direct method (``method`` DIRECT) or tau-leaping (TAU_LEAP); returns (status, t).

    ``x`` (n_x + 1,) int64 with x[n_x] = 1; outputs and limits as kernels/ssa.ssa_direct and tau_leap;
    ``failure`` (N_FAILURE,) as the module docstring says.
    """
    n_r = c_base.size
    n_x = x.size - 1
    n_e = ev[3].size - 1
    has_events = n_e > 0
    c = np.empty(n_r)
    a = np.empty(n_r)
    order = np.arange(n_r)
    conc = np.empty(n_x)
    n_a = ev[5].size
    queue = 256 if has_events else 0
    work = (np.empty(max(law[4].size, 1)), np.empty(n_x), np.empty(n_e), initial_value.copy(), np.empty(n_a),
            np.zeros(n_e, dtype=np.bool_), np.full(1, -1.0), np.full(queue, np.inf),
            np.full(queue, -1, dtype=np.int64), np.empty((queue, n_a)))
    critical = np.zeros(n_r, dtype=np.bool_)
    fired = np.zeros(n_r, dtype=np.int64)
    mu = np.empty(n_x)
    sigma2 = np.empty(n_x)
    elasticity = np.empty(n_x)
    drdx = np.empty(deriv[0].size)
    tau_cap = math.inf
    t = t0
    out_i = 0
    b = 0
    for seg in range(stops.size):
        seg_end = stops[seg]
        status, t, b, out_i = _segment_start(t, b, c, c_base, window_start, window_stop, x, conc, per_molar,
                                             bolus_time, bolus_species, bolus_count, ev, work, time_triggers,
                                             has_events, out_x, out_i, t_out, state, failure)
        if status != SUCCESS:
            return _stopped(status, t, out_i, out_x, x)
        if method == DIRECT:
            t, out_i, status, done = _direct(
                t, seg_end, 1 << 62, c, a, order, True, x, conc, per_molar, is_law, slot_idx, slot_off, law,
                change_ptr, change_idx, change_val, dep_ptr, dep_idx, trigger_reader, ev, work, t_out, out_i,
                out_x, events, counters, counters[C_EVENTS], max_events, state, stop, failure)
            if status != SUCCESS:
                return _stopped(status, t, out_i, out_x, x)
        else:
            while t < seg_end:
                out_i = _record_before(out_x, out_i, t_out, np.nextafter(t, math.inf), x)
                work_done = counters[C_LEAPS] + counters[C_SSA_STEPS] + counters[C_REJECTED]
                if work_done >= max_events:
                    return _stopped(MAX_EVENTS_EXCEEDED, t, out_i, out_x, x)
                if stop[0] != 0:
                    return _stopped(INTERRUPTED, t, out_i, out_x, x)
                # Leaps end at the next output, stop or delayed execution.
                horizon_end = seg_end
                if out_i < t_out.size and t < t_out[out_i] < horizon_end:
                    horizon_end = t_out[out_i]
                if has_events:
                    due = _next_due(work[7], work[8])
                    if due < horizon_end:
                        horizon_end = due
                status, action, tau, horizon = _law_tau_leap(
                    c, a, critical, fired, mu, sigma2, elasticity, drdx, x, conc, per_molar, is_law, slot_idx,
                    slot_off, law, deriv, watched, hor_order, hor_coef, epsilon, change_ptr, change_idx, change_val,
                    tau_cap, t, horizon_end, state, failure)
                if status != SUCCESS:
                    return _stopped(status, t, out_i, out_x, x)
                if action == 3:
                    if not has_events or horizon_end >= seg_end:
                        break
                    t = horizon_end  # nothing fires before the delayed execution
                elif action == 1:
                    counters[C_REJECTED] += 1
                    tau_cap = tau
                    continue
                elif action == 2:
                    t, out_i, status, done = _direct(
                        t, horizon_end, SSA_FALLBACK_STEPS, c, a, order, False, x, conc, per_molar, is_law, slot_idx,
                        slot_off, law, change_ptr, change_idx, change_val, dep_ptr, dep_idx, trigger_reader,
                        ev, work, t_out, out_i, out_x, events, counters, work_done, max_events, state, stop,
                        failure)
                    tau_cap = math.inf
                    if status != SUCCESS:
                        return _stopped(status, t, out_i, out_x, x)
                    if done:
                        t = horizon_end
                    else:
                        continue
                else:
                    tau_cap = math.inf
                    total = 0
                    for j in range(n_r):
                        events[j] += fired[j]
                        total += fired[j]
                    counters[C_EVENTS] += total
                    counters[C_LEAPS] += 1
                    t = horizon_end if tau == horizon else t + tau
                if has_events:
                    status, _ = _instant(t, x, conc, per_molar, ev, work, state, failure)
                    if status != SUCCESS:
                        return _stopped(status, t, out_i, out_x, x)
        out_i = _record_before(out_x, out_i, t_out, seg_end, x)
        t = seg_end
    b = _apply_boluses(b, t, bolus_time, bolus_species, bolus_count, x, state)
    if has_events:
        _sync_concentrations(x, conc, per_molar)
        status, _ = _instant(t, x, conc, per_molar, ev, work, state, failure)
        if status != SUCCESS:
            return _stopped(status, t, out_i, out_x, x)
    _record_before(out_x, out_i, t_out, math.inf, x)
    return SUCCESS, t


@njit(parallel=True)
def ensemble(method, first_index, seed, c_base, window_start, window_stop, is_law, slot_idx, slot_off, law, deriv,
             change_ptr, change_idx, change_val, dep_ptr, dep_idx, trigger_reader, time_triggers, ev, initial_value,
             watched, hor_order, hor_coef, epsilon, per_molar, x0_mean, t0, t_out, stops, bolus_time, bolus_species,
             bolus_count, max_events, out_x, events, counters, status, t_reached, failure, stop):
    """Trajectories ``first_index … first_index + B − 1`` in parallel, as kernels/ssa.ensemble (same streams,
    outputs and stop flag); ``failure`` (B, N_FAILURE) holds what stopped a run with a status of this module.

    ``law`` = (code, operand, constants, rate_start, stack, use?, address): fentonsim.laws programs, a stack
    of the programs' depth and the address of the generated propensity function (fentonsim.native_laws), which
    evaluates the rate programs instead of the interpreter when use? is true; ``deriv`` = (deriv_reaction, deriv_species, deriv_start, ones);
    ``ev`` = (code, operand, constants) and the event arrays of kernels/laws._process_instant, ``signed``
    last; ``initial_value`` (n_e,) bool the triggers' values before t0.
    The shared stack is copied per trajectory.
    """
    n_traj = out_x.shape[0]
    for b in prange(n_traj):
        if stop[0] != 0:
            status[b] = INTERRUPTED
            t_reached[b] = t0
            continue
        state, x = start_trajectory(seed, first_index + b, x0_mean, events[b], counters[b])
        for q in range(N_FAILURE):
            failure[b, q] = np.nan
        own = (law[0], law[1], law[2], law[3], law[4].copy(), law[5], law[6])
        s, tr = trajectory(method, c_base, window_start, window_stop, is_law, slot_idx, slot_off, own, deriv,
                           change_ptr, change_idx, change_val, dep_ptr, dep_idx, trigger_reader, time_triggers, ev,
                           initial_value, watched, hor_order, hor_coef, epsilon, per_molar, x, t0, t_out, stops,
                           bolus_time,
                           bolus_species, bolus_count, max_events, state, out_x[b], events[b], counters[b], stop,
                           failure[b])
        status[b] = s
        t_reached[b] = tr
