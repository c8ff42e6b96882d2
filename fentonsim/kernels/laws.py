"""Rosenbrock integration of networks with general rate laws (r_i = k_i·g_i(x, t), fentonsim.laws).

The laws arrive as postfix programs (fentonsim.laws: opcodes, operands, a constant pool and program
offsets) run by :func:`evaluate_programs`, so this module is compiled once for every model; mass-action
networks keep the specialised kernel of kernels/rosenbrock.py, which this one follows step for step
(same methods, step controller, error norm, boluses, sources, dense output and status codes; the
per-step helpers are shared). What differs:

* f(y) = Σ_i k_i·ν_i·g_i(x) with x = max(y, 0), every reaction evaluated by its program, and the
  Jacobian J = Σ_i k_i·ν_i ⊗ ∂g_i/∂x from the exact derivative programs (only the non-zero ones);
* no live-subsystem reduction: a general law may be non-zero where every reactant is 0;
* ∂f/∂t includes the laws that read t, so time-dependent laws keep the method's order;
* quadratures are the reactions' extents ∫ k_i·g_i dt [M] and exposures ∫ y dt [M s].

Argument shapes as in kernels/rosenbrock.integrate, with (code, operand, constants, rate_start,
deriv_reaction, deriv_species, deriv_start, time_start, stack_size, signed) in place of
(reactant_idx, reactant_coef), and after the event tables ``native`` = (use?, rates, derivatives): when
use? is true the rate and derivative tables are evaluated by the generated functions at those addresses
(fentonsim.native_laws: the same arithmetic compiled from the programs) instead of the interpreter. ``signed`` (n_s,) bool marks the
state variables that may be negative (quantities of an imported SBML model other than concentrations, whose rules may drive them below 0):
they are neither floored at 0 in the laws nor a reason to reject a step. The others are concentrations,
treated as in kernels/rosenbrock.py.
"""
from __future__ import annotations

import numpy as np

from .._jit import call_table, literally, njit, prange
from .linalg import elimination_pattern, lu_factor, lu_solve_row, sparse_lu_factor, sparse_lu_solve_row
from .tableaus import NAMES, RODAS4, RODAS5P
from .rosenbrock import (EPS, FAIL_SPECIES, FAIL_STEP, FAIL_TIME, SUCCESS, _add_sources,
                         _advance, _after_acceptance, _apply_boluses, _dense_output, _dense_weights,
                         _limit_step, _method_constants, _record_failure, _retry_factor,
                         _source_time_derivative, _step_end, _step_matrix, _stiffest_species, _store_counters,
                         _weighted_rms)

# Opcodes: fentonsim.laws holds the same table.
CONST, STATE, TIME = 0, 1, 2
ADD, SUB, MUL, DIV, POW, NEG = 10, 11, 12, 13, 14, 15
EXP, LN, LOG10, SQRT, ABS, NOT, FLOOR, CEIL = 20, 21, 22, 23, 24, 25, 26, 27
MIN, MAX, REM = 30, 31, 32
GT, GEQ, LT, LEQ, EQ, NEQ, AND, OR, XOR = 40, 41, 42, 43, 44, 45, 46, 47, 48
SELECT = 50
SIN, COS, TAN, SINH, COSH, TANH, ASIN, ACOS, ATAN, ASINH, ACOSH, ATANH = 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71
# Fused `push leaf; binary op` (constant: ADD_C … POW_C, state variable: ADD_S … POW_S, in the order ADD, SUB,
# MUL, DIV, POW): the top of the stack OP the operand's constant or state value.
ADD_C, ADD_S = 80, 85


#: Status codes beyond kernels/rosenbrock.py's (SUCCESS 0, MAX_STEPS_EXCEEDED 1, STEP_TOO_SMALL 2).
EVENTS_IN_DOUBT = 4  # events of equal (or no) priority firing together and setting the same variable
EVENT_CASCADE = 5  # events kept triggering each other at one instant (more than MAX_EVENT_ROUNDS rounds)
EVENT_QUEUE_FULL = 6  # more than QUEUE_SIZE delayed executions pending at once
EVENT_REPEATED = 7  # an event triggered again at one instant before its pending execution ran
MAX_EVENT_ROUNDS = 1000
QUEUE_SIZE = 256
#: Points per step at which triggers are checked (the last is the step's end).
SAMPLES = 8
#: Fraction of a step skipped past a comparison's crossing that fired no event (against round-off chatter).
GUARD = 1e-9


@njit(inline='always')
def _power(a, b):
    """a ** b; squares and reciprocals, which fill the derivative programs (quotient rule), as a multiplication
    or a division instead of a call to pow (which had been 5–8 % of a step)."""
    if b == 2.0:
        return a * a
    if b == -1.0:
        return 1.0 / a
    return a ** b


@njit(inline='always')
def _program_value(code, operand, constants, start, stop, x, t, stack):
    """Value of the program code[start:stop] (non-empty) at state x [M] and time t [s]."""
    top = 0
    for pc in range(start, stop):
        opcode = code[pc]
        if opcode == CONST:
            stack[top] = constants[operand[pc]]
            top += 1
        elif opcode == STATE:
            stack[top] = x[operand[pc]]
            top += 1
        elif opcode == TIME:
            stack[top] = t
            top += 1
        elif opcode >= ADD_C:
            kind = opcode - ADD_C
            if kind < 5:
                b = constants[operand[pc]]
            else:
                b = x[operand[pc]]
                kind -= 5
            a = stack[top - 1]
            if kind == 2:
                stack[top - 1] = a * b
            elif kind == 0:
                stack[top - 1] = a + b
            elif kind == 3:
                stack[top - 1] = a / b
            elif kind == 1:
                stack[top - 1] = a - b
            else:
                stack[top - 1] = _power(a, b)
        elif opcode < EXP:
            if opcode == NEG:
                stack[top - 1] = -stack[top - 1]
                continue
            top -= 1
            a = stack[top - 1]
            b = stack[top]
            if opcode == ADD:
                stack[top - 1] = a + b
            elif opcode == SUB:
                stack[top - 1] = a - b
            elif opcode == MUL:
                stack[top - 1] = a * b
            elif opcode == DIV:
                stack[top - 1] = a / b
            else:
                stack[top - 1] = _power(a, b)
        elif opcode < MIN:
            a = stack[top - 1]
            if opcode == EXP:
                stack[top - 1] = np.exp(a)
            elif opcode == LN:
                stack[top - 1] = np.log(a)
            elif opcode == LOG10:
                stack[top - 1] = np.log10(a)
            elif opcode == SQRT:
                stack[top - 1] = np.sqrt(a)
            elif opcode == ABS:
                stack[top - 1] = abs(a)
            elif opcode == NOT:
                stack[top - 1] = 1.0 if a == 0.0 else 0.0
            elif opcode == FLOOR:
                stack[top - 1] = np.floor(a)
            else:
                stack[top - 1] = np.ceil(a)
        elif opcode < SELECT:
            top -= 1
            a = stack[top - 1]
            b = stack[top]
            if opcode == MIN:
                value = a if a <= b else b
            elif opcode == MAX:
                value = a if a >= b else b
            elif opcode == REM:
                value = np.fmod(a, b)
            elif opcode == GT:
                value = 1.0 if a > b else 0.0
            elif opcode == GEQ:
                value = 1.0 if a >= b else 0.0
            elif opcode == LT:
                value = 1.0 if a < b else 0.0
            elif opcode == LEQ:
                value = 1.0 if a <= b else 0.0
            elif opcode == EQ:
                value = 1.0 if a == b else 0.0
            elif opcode == NEQ:
                value = 1.0 if a != b else 0.0
            elif opcode == AND:
                value = 1.0 if a != 0.0 and b != 0.0 else 0.0
            elif opcode == OR:
                value = 1.0 if a != 0.0 or b != 0.0 else 0.0
            else:
                value = 1.0 if (a != 0.0) != (b != 0.0) else 0.0
            stack[top - 1] = value
        elif opcode == SELECT:
            top -= 2
            otherwise = stack[top + 1]
            condition = stack[top]
            if condition == 0.0:
                stack[top - 1] = otherwise
        else:
            a = stack[top - 1]
            if opcode == SIN:
                value = np.sin(a)
            elif opcode == COS:
                value = np.cos(a)
            elif opcode == TAN:
                value = np.tan(a)
            elif opcode == SINH:
                value = np.sinh(a)
            elif opcode == COSH:
                value = np.cosh(a)
            elif opcode == TANH:
                value = np.tanh(a)
            elif opcode == ASIN:
                value = np.arcsin(a)
            elif opcode == ACOS:
                value = np.arccos(a)
            elif opcode == ATAN:
                value = np.arctan(a)
            elif opcode == ASINH:
                value = np.arcsinh(a)
            elif opcode == ACOSH:
                value = np.arccosh(a)
            else:
                value = np.arctanh(a)
            stack[top - 1] = value
    return stack[0]


# The interpreter allocates nothing: compiled without reference counting (_nrt=False), a call costs no atomic
# increments on its array arguments, and the callers' own counts are left to them.
@njit(_nrt=False)
def evaluate_programs(code, operand, constants, starts, scale, x, t, stack, out):
    """out[p] = scale[p] × (value of program p, code[starts[p]:starts[p + 1]]) at state x [M] and time t [s];
    an empty program is 0. One call runs a whole table (every rate, or every derivative): the interpreter
    is compiled once, and the cost of a call between compiled functions is paid once per table."""
    for program in range(out.shape[0]):
        start = starts[program]
        stop = starts[program + 1]
        out[program] = 0.0 if start == stop else scale[program] * _program_value(code, operand, constants, start,
                                                                                stop, x, t, stack)


@njit(_nrt=False)
def _one_program(code, operand, constants, starts, index, x, t, stack):
    """Value of program ``index`` of the table ``starts`` (0 when empty)."""
    start = starts[index]
    stop = starts[index + 1]
    return 0.0 if start == stop else _program_value(code, operand, constants, start, stop, x, t, stack)


@njit(inline='always')
def law_rates(code, operand, constants, rate_start, k, x, t, stack, rates):
    """rates[i] = k_i·g_i(x, t) [M s⁻¹]."""
    evaluate_programs(code, operand, constants, rate_start, k, x, t, stack, rates)


@njit(inline='always')
def _clip(y, signed, x):
    """x = y, with the concentrations that cannot be negative (not ``signed``) floored at 0."""
    for i in range(y.shape[0]):
        x[i] = y[i] if y[i] > 0.0 or signed[i] else 0.0


@njit(inline='always')
def _negative(err, y_new, atol, signed):
    """After a step with err ≤ 1: the first unsigned variable below −atol (a rejection), else −1."""
    if err <= 1.0:
        for i in range(y_new.shape[0]):
            if not signed[i] and y_new[i] < -atol[i]:
                return i
    return -1


@njit(inline='always')
def _derivatives(t, y, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand, constants, rate_start, native, active, source_species,
                 source_amplitude, source_decay, source_start, stack, rates, dydt):
    """dy/dt [M s⁻¹] into dydt; the rates k_i·g_i into rates."""
    _clip(y, signed, x)
    if native[0]:
        call_table(native[1], x, t, constants, k, rates)
    else:
        law_rates(code, operand, constants, rate_start, k, x, t, stack, rates)
    for a in range(dydt.shape[0]):
        total = 0.0
        for e in range(stoich_start[a], stoich_start[a + 1]):
            total += stoich_value[e] * rates[stoich_reaction[e]]
        dydt[a] = total
    _add_sources(t, active, source_species, source_amplitude, source_decay, source_start, dydt)


@njit(inline='always')
def _jacobian(t, x, k_of_derivative, k, net_stoich, code, operand, constants, native, deriv_reaction, deriv_species,
              deriv_start, time_start, stack, drdx, time_rates, by_reaction_start, by_reaction_species,
              by_reaction_value, jac_row, jac_col, jac, ft):
    """jac = ∂f/∂y from the derivative programs; drdx[d] = k_i·∂g_i/∂x_j of entry d (k_of_derivative[d] = k_i);
    ft += Σ_i ν_i·k_i·∂g_i/∂t (time_rates is work space). Only the structural entries (jac_row, jac_col) are
    cleared and written: the others stay 0 from the start."""
    for e in range(jac_row.shape[0]):
        jac[jac_row[e], jac_col[e]] = 0.0
    if native[0]:
        call_table(native[2], x, t, constants, k_of_derivative, drdx)
    else:
        evaluate_programs(code, operand, constants, deriv_start, k_of_derivative, x, t, stack, drdx)
    for d in range(deriv_reaction.shape[0]):
        value = drdx[d]
        if value == 0.0:
            continue
        i = deriv_reaction[d]
        j = deriv_species[d]
        for e in range(by_reaction_start[i], by_reaction_start[i + 1]):
            jac[by_reaction_species[e], j] += by_reaction_value[e] * value
    if time_start[time_start.shape[0] - 1] > 0:  # some law reads t (no early return: inlined)
        evaluate_programs(code, operand, constants, time_start, k, x, t, stack, time_rates)
        for i in range(k.shape[0]):
            value = time_rates[i]
            if value != 0.0:
                for e in range(by_reaction_start[i], by_reaction_start[i + 1]):
                    ft[by_reaction_species[e]] += by_reaction_value[e] * value


@njit
def _jacobian_structure(net_stoich, deriv_reaction, deriv_species):
    """(rows, cols) of ∂f/∂y's structural non-zeros: (a, j) for every derivative entry (reaction i, species j)
    and every species a that reaction i changes."""
    n_s = net_stoich.shape[1]
    structure = np.zeros((n_s, n_s), dtype=np.bool_)
    for d in range(deriv_reaction.shape[0]):
        for a in range(n_s):
            if net_stoich[deriv_reaction[d], a] != 0:
                structure[a, deriv_species[d]] = True
    return structure


@njit
def _positions(pattern):
    """(rows, cols) of the True entries of ``pattern`` (n, n), row by row."""
    count = 0
    for a in range(pattern.shape[0]):
        for b in range(pattern.shape[1]):
            if pattern[a, b]:
                count += 1
    rows = np.empty(count, dtype=np.int64)
    cols = np.empty(count, dtype=np.int64)
    e = 0
    for a in range(pattern.shape[0]):
        for b in range(pattern.shape[1]):
            if pattern[a, b]:
                rows[e] = a
                cols[e] = b
                e += 1
    return rows, cols


@njit(inline='always')
def _sparse_step_matrix(h, gamma, n_stages, c_coef, c_over_h, jac, lu, fill_row, fill_col):
    """As kernels/rosenbrock._step_matrix on the filled pattern only (sparse_lu_factor reads nothing else)."""
    inverse_hgamma = 1.0 / (h * gamma)
    inverse_h = 1.0 / h
    for e in range(fill_row.shape[0]):
        a = fill_row[e]
        b = fill_col[e]
        lu[a, b] = inverse_hgamma - jac[a, b] if a == b else -jac[a, b]
    for a in range(n_stages):
        for b in range(a):
            c_over_h[a, b] = c_coef[a, b] * inverse_h


@njit
def _stoichiometry_by_species(net_stoich):
    """(start (n_s + 1,), reaction (nnz,), coefficient (nnz,)): the non-zeros of net_stoichᵀ, row by row."""
    n_r, n_s = net_stoich.shape
    start = np.zeros(n_s + 1, dtype=np.int64)
    for a in range(n_s):
        count = 0
        for i in range(n_r):
            if net_stoich[i, a] != 0:
                count += 1
        start[a + 1] = start[a] + count
    reaction = np.empty(start[n_s], dtype=np.int64)
    value = np.empty(start[n_s])
    for a in range(n_s):
        e = start[a]
        for i in range(n_r):
            if net_stoich[i, a] != 0:
                reaction[e] = i
                value[e] = net_stoich[i, a]
                e += 1
    return start, reaction, value


@njit
def _initial_step(t, y, f0, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand, constants, rate_start, native, active, source_species,
                  source_amplitude, source_decay, source_start, rtol, atol, n_norm, exponent, span, y_probe,
                  f_probe, stack, rates):
    """Hairer–Wanner's starting-step heuristic, as in kernels/rosenbrock.py."""
    d0 = _weighted_rms(y, y, y, rtol, atol, n_norm)
    d1 = _weighted_rms(f0, y, y, rtol, atol, n_norm)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6 * span
    else:
        h0 = min(0.01 * d0 / d1, span)
    for i in range(y.shape[0]):
        y_probe[i] = y[i] + h0 * f0[i]
    _derivatives(t + h0, y_probe, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand, constants, rate_start, native, active, source_species,
                 source_amplitude, source_decay, source_start, stack, rates, f_probe)
    for i in range(y.shape[0]):
        f_probe[i] -= f0[i]
    d2 = _weighted_rms(f_probe, y, y, rtol, atol, n_norm) / h0
    largest = max(d1, d2)
    if largest <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / largest) ** exponent
    return min(100.0 * h0, h1, span)


@njit(inline='always')
def _dense_state(theta, dense_weights, h_dense, n_dense, n_stages, u, y, y_new, signed, out):
    """out = the continuous extension of the step at θ (unsigned variables floored at 0)."""
    _dense_weights(theta, h_dense, n_dense, n_stages, dense_weights)
    _dense_output(theta, dense_weights, n_stages, u, y, y_new, False, out.reshape((1, out.shape[0])), 0)
    for i in range(out.shape[0]):
        if not signed[i] and out[i] < 0.0:
            out[i] = 0.0


@njit
def _rising(code, operand, constants, trigger_start, ones, state, signed, x, t, stack, values, before):
    """Whether some trigger is true at (t, state) that was false (``before``); values holds the triggers."""
    _clip(state, signed, x)
    evaluate_programs(code, operand, constants, trigger_start, ones, x, t, stack, values)
    for e in range(values.shape[0]):
        if values[e] != 0.0 and not before[e]:
            return True
    return False


@njit
def _newly_true(t, y, signed, x, code, operand, constants, trigger_start, assignment_start, event_assignments,
                event_use_trigger_values, delay_start, event_persistent, event_interacts, stack, trigger_values, was_true,
                assignment_values, pending, queue_time, queue_event, queue_values, culprit):
    """Re-evaluate the triggers at (t, y): an event whose trigger turns true is queued (with a delay) or made
    pending, its values computed now if it uses the trigger instant's; a non-persistent event whose trigger
    turns false loses its pending or queued executions. Returns SUCCESS or EVENT_QUEUE_FULL."""
    n_e = trigger_values.shape[0]
    n_q = queue_time.shape[0]
    _clip(y, signed, x)
    for e in range(n_e):
        trigger_values[e] = _one_program(code, operand, constants, trigger_start, e, x, t, stack)
    for e in range(n_e):
        now = trigger_values[e] != 0.0
        rising = now and not was_true[e]
        was_true[e] = now
        if not now and not event_persistent[e]:
            pending[e] = False
            for slot in range(n_q):
                if queue_event[slot] == e:
                    queue_event[slot] = -1
        if not rising:
            continue
        delay = 0.0
        if delay_start[e + 1] > delay_start[e]:
            delay = _one_program(code, operand, constants, delay_start, e, x, t, stack)
        if delay > 0.0:
            slot = 0
            while slot < n_q and queue_event[slot] >= 0:
                slot += 1
            if slot == n_q:
                culprit[0] = e
                return EVENT_QUEUE_FULL
            queue_event[slot] = e
            queue_time[slot] = t + delay
            if event_use_trigger_values[e]:
                for i in range(event_assignments[e], event_assignments[e + 1]):
                    queue_values[slot, i] = _one_program(code, operand, constants, assignment_start, i, x, t, stack)
        else:
            if pending[e]:
                # Triggered again before its first execution at this instant: SBML runs it twice, with two sets
                # of values; fentonsim keeps one pending execution per event, so it refuses rather than drop one.
                culprit[0] = e
                return EVENT_REPEATED
            pending[e] = True
            if event_use_trigger_values[e]:
                for i in range(event_assignments[e], event_assignments[e + 1]):
                    assignment_values[i] = _one_program(code, operand, constants, assignment_start, i, x, t, stack)
    return 0


@njit
def _before(e, f, event_priority):
    """Whether event e executes before f at one instant: higher priority first, no priority last."""
    if np.isnan(event_priority[f]):
        return not np.isnan(event_priority[e])
    return event_priority[e] > event_priority[f]


@njit
def _process_instant(t, y, signed, x, code, operand, constants, trigger_start, assignment_start, assignment_target,
                     event_assignments, event_priority, event_use_trigger_values, delay_start, event_persistent,
                     event_interacts, stack, trigger_values, was_true, assignment_values, pending, culprit,
                     queue_time, queue_event, queue_values):
    """Everything events do at the instant t (SBML L3 §4.12): events whose triggers have just turned true
    execute or, with a delay, are queued; queued executions due at t join them; one at a time, highest
    priority first, each execution followed by a fresh look at every trigger (new events join, non-persistent
    ones whose trigger fell are dropped). Returns SUCCESS, EVENTS_IN_DOUBT (two events of equal or no priority
    due together whose order matters: ``event_interacts``; culprit[0] = one of them), EVENT_CASCADE or
    EVENT_QUEUE_FULL. ``was_true`` holds the triggers' values before and is left holding them after."""
    n_e = trigger_values.shape[0]
    n_q = queue_time.shape[0]
    status = _newly_true(t, y, signed, x, code, operand, constants, trigger_start, assignment_start,
                         event_assignments, event_use_trigger_values, delay_start, event_persistent, event_interacts, stack,
                         trigger_values, was_true, assignment_values, pending, queue_time, queue_event, queue_values,
                         culprit)
    if status != 0:
        return status
    for _ in range(MAX_EVENT_ROUNDS):
        # The executions due now: pending events and queued executions whose time has come.
        best, best_slot = -1, -1
        for slot in range(n_q):
            e = queue_event[slot]
            if e >= 0 and queue_time[slot] <= t and (best < 0 or _before(e, best, event_priority)):
                best, best_slot = e, slot
        for e in range(n_e):
            if pending[e] and (best < 0 or _before(e, best, event_priority)):
                best, best_slot = e, -1
        if best < 0:
            return 0
        # Another due execution of the same rank whose order against this one matters: SBML's coin toss.
        for slot in range(n_q):
            e = queue_event[slot]
            if e >= 0 and queue_time[slot] <= t and slot != best_slot and not _before(best, e, event_priority) \
                    and event_interacts[best, e]:
                culprit[0] = best
                return EVENTS_IN_DOUBT
        for e in range(n_e):
            if pending[e] and not (best_slot < 0 and e == best) and not _before(best, e, event_priority) \
                    and event_interacts[best, e]:
                culprit[0] = best
                return EVENTS_IN_DOUBT
        if best_slot >= 0:
            queue_event[best_slot] = -1
            if event_use_trigger_values[best]:
                for i in range(event_assignments[best], event_assignments[best + 1]):
                    assignment_values[i] = queue_values[best_slot, i]
        else:
            pending[best] = False
        if not event_use_trigger_values[best]:
            _clip(y, signed, x)
            for i in range(event_assignments[best], event_assignments[best + 1]):
                assignment_values[i] = _one_program(code, operand, constants, assignment_start, i, x, t, stack)
        for i in range(event_assignments[best], event_assignments[best + 1]):
            y[assignment_target[i]] = assignment_values[i]
        status = _newly_true(t, y, signed, x, code, operand, constants, trigger_start, assignment_start,
                             event_assignments, event_use_trigger_values, delay_start, event_persistent, event_interacts, stack,
                             trigger_values, was_true, assignment_values, pending, queue_time, queue_event,
                             queue_values, culprit)
        if status != 0:
            return status
    return EVENT_CASCADE


@njit
def _sign_changed(before, after):
    for i in range(before.shape[0]):
        if (before[i] > 0.0) != (after[i] > 0.0) or (before[i] < 0.0) != (after[i] < 0.0):
            return True
    return False


@njit
def _locate_event(t, h, dense_weights, h_dense, n_dense, n_stages, u, y, y_new, signed, x, code, operand, constants,
                  trigger_start, switch_start, event_persistent, stack, trigger_values, was_true, seen, switch_low,
                  switch_values, y_event, queue_event, ones_e, ones_sw):
    """θ in (0, 1] of the first instant in the step [t, t + h] where a trigger turns true, or −1.

    Triggers and the comparisons inside them (left − right, ``switch_start``) are sampled at SAMPLES points of
    the step's continuous extension; where a trigger turns true or a comparison changes sign between two
    points, bisection finds the instant to round-off in t. A comparison crossing that leaves every trigger as
    it was (the far edge of a window, say) only moves the scan on. A non-persistent event whose trigger is
    false at a point loses its queued executions. On return ``was_true`` holds the triggers just before the
    event (or at the step's end)."""
    n_e = trigger_values.shape[0]
    for e in range(n_e):
        seen[e] = was_true[e]
    _clip(y, signed, x)
    evaluate_programs(code, operand, constants, switch_start, ones_sw, x, t, stack, switch_low)
    low = 0.0
    result = -1.0
    for _ in range(4 * SAMPLES):
        found_at = -1.0
        previous = low
        for j in range(1, SAMPLES + 1):
            theta_j = low + (1.0 - low) * j / SAMPLES
            if j < SAMPLES:
                _dense_state(theta_j, dense_weights, h_dense, n_dense, n_stages, u, y, y_new, signed, y_event)
            else:
                theta_j = 1.0
                for i in range(y_new.shape[0]):
                    y_event[i] = y_new[i] if y_new[i] > 0.0 or signed[i] else 0.0
            rising = _rising(code, operand, constants, trigger_start, ones_e, y_event, signed, x, t + theta_j * h,
                             stack, trigger_values, seen)
            evaluate_programs(code, operand, constants, switch_start, ones_sw, x, t + theta_j * h, stack,
                              switch_values)
            if rising or _sign_changed(switch_low, switch_values):
                found_at = theta_j
                break
            for e in range(n_e):
                seen[e] = trigger_values[e] != 0.0
                if not seen[e] and not event_persistent[e]:
                    for slot in range(queue_event.shape[0]):
                        if queue_event[slot] == e:
                            queue_event[slot] = -1
            previous = theta_j
        if found_at < 0.0:
            break
        # Bisection on (previous, found_at]: the first θ where a trigger turns true or a comparison has moved.
        a, b = previous, found_at
        for _ in range(80):
            middle = 0.5 * (a + b)
            _dense_state(middle, dense_weights, h_dense, n_dense, n_stages, u, y, y_new, signed, y_event)
            rising = _rising(code, operand, constants, trigger_start, ones_e, y_event, signed, x, t + middle * h,
                             stack, trigger_values, seen)
            evaluate_programs(code, operand, constants, switch_start, ones_sw, x, t + middle * h, stack,
                              switch_values)
            if rising or _sign_changed(switch_low, switch_values):
                b = middle
            else:
                a = middle
            if (b - a) * h <= 4.0 * EPS * max(abs(t), abs(h)):
                break
        _dense_state(b, dense_weights, h_dense, n_dense, n_stages, u, y, y_new, signed, y_event)
        if _rising(code, operand, constants, trigger_start, ones_e, y_event, signed, x, t + b * h, stack,
                   trigger_values, seen):
            result = b
            break
        # A comparison crossed without a trigger turning true: go on from just past the crossing (GUARD of
        # the step further, so round-off in the continuous extension around the crossing cannot chatter a
        # trigger false-true-false), with the triggers and comparisons as they are there.
        low = min(1.0, b + GUARD)
        _dense_state(low, dense_weights, h_dense, n_dense, n_stages, u, y, y_new, signed, y_event)
        if _rising(code, operand, constants, trigger_start, ones_e, y_event, signed, x, t + low * h, stack,
                   trigger_values, seen):
            # The crossing landed exactly on the threshold of a strict comparison (x < c at x = c): the
            # trigger turns true just past it.
            result = low
            break
        for e in range(n_e):
            seen[e] = trigger_values[e] != 0.0
        evaluate_programs(code, operand, constants, switch_start, ones_sw, x, t + low * h, stack, switch_low)
        if low >= 1.0:
            break
    for e in range(n_e):
        was_true[e] = seen[e]
    return result


@njit
def _next_due(queue_time, queue_event):
    """The earliest queued execution time, inf when none."""
    earliest = np.inf
    for slot in range(queue_time.shape[0]):
        if queue_event[slot] >= 0 and queue_time[slot] < earliest:
            earliest = queue_time[slot]
    return earliest


@njit
def integrate(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start, time_start,
              stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species, bolus_amount,
              source_species, source_amplitude, source_decay, source_start, source_stop,
              rtol, atol, n_norm, h_max, max_steps, quadratures, method, out_y, out_q, counters, failure):
    """Integrate one trajectory (module docstring); return a status code of kernels/rosenbrock.py.

    ``n_norm``: the number of species the error norm's RMS is over — the network's, when the caller integrates
    only its live subsystem (fentonsim.live_laws), so that the same steps are accepted.

    out_y (n_out, n_s) [M]; out_q (n_out, n_r + n_s): extents [M] then exposures [M s] (0 columns
    without quadratures); counters (N_COUNTERS,); failure (3,).
    """
    literally(method)
    n_r = k.shape[0]
    n_s = y0.shape[0]
    n_q = n_r + n_s
    n_d = deriv_reaction.shape[0]
    n_out = t_out.shape[0]
    n_src = source_species.shape[0]
    # f = Sᵀ·rates with the rates already k_i·g_i, S the stoichiometry, held by species (CSR): a law network
    # is often sparse (chains, cascades), where the dense product would multiply mostly zeros.
    stoich_start, stoich_reaction, stoich_value = _stoichiometry_by_species(net_stoich)
    by_reaction_start, by_reaction_species, by_reaction_value = _stoichiometry_by_species(net_stoich.T)
    structure = _jacobian_structure(net_stoich, deriv_reaction, deriv_species)
    jac_row, jac_col = _positions(structure)
    order, lower_start, lower_rows, upper_start, upper_cols, filled = elimination_pattern(structure)
    fill_row, fill_col = _positions(filled)
    dense_step = False
    stack = np.empty(max(stack_size, 1))
    k_of_derivative = np.empty(n_d)
    for d in range(n_d):
        k_of_derivative[d] = k[deriv_reaction[d]]
    time_rates = np.empty(n_r)
    n_e = trigger_start.shape[0] - 1
    ones_e = np.ones(n_e)
    trigger_values = np.empty(n_e)
    was_true = event_initial_value.copy()
    pending = np.zeros(n_e, dtype=np.bool_)
    culprit = np.full(1, -1.0)
    seen = np.zeros(n_e, dtype=np.bool_)
    n_sw = switch_start.shape[0] - 1
    switch_low = np.empty(n_sw)
    ones_sw = np.ones(n_sw)
    switch_values = np.empty(n_sw)
    queue_time = np.full(QUEUE_SIZE if n_e > 0 else 0, np.inf)
    queue_event = np.full(QUEUE_SIZE if n_e > 0 else 0, -1, dtype=np.int64)
    queue_values = np.empty((QUEUE_SIZE if n_e > 0 else 0, assignment_target.shape[0]))
    assignment_values = np.empty(assignment_target.shape[0])
    y_event = np.empty(n_s)
    q_event = np.empty(n_q)
    x = np.empty(n_s)
    y = y0.copy()
    q = np.zeros(n_q)
    y_new = np.empty(n_s)
    q_new = np.empty(n_q)
    y_stage = np.empty(n_s)
    f0 = np.empty(n_s)
    f_probe = np.empty(n_s)
    ft = np.zeros(n_s)
    rates0 = np.empty(n_r)
    rates = np.empty(n_r)
    drdx = np.empty(n_d)
    jac = np.zeros((n_s, n_s))
    lu = np.empty((n_s, n_s))
    pivots = np.empty(n_s, dtype=np.int64)
    (n_stages, n_dense, gamma, exponent, root_err_floor, a_coef, b_coef, c_coef, d_coef, nodes,
     h_dense) = _method_constants(method)
    c_over_h = np.empty((n_stages, n_stages))
    dense_weights = np.empty(n_stages)
    u = np.empty((n_stages, n_s))
    v = np.empty((n_stages, n_q))
    active = np.zeros(n_src, dtype=np.bool_)
    return _integrate_steps(k, code, operand, constants, rate_start, deriv_reaction, deriv_species,
                            deriv_start, time_start, stack_size, signed, trigger_start, assignment_start,
                            assignment_target, event_assignments, event_priority, event_use_trigger_values,
                            event_initial_value, delay_start, event_persistent, event_interacts, switch_start,
                            native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species, bolus_amount,
                            source_species, source_amplitude, source_decay, source_start, source_stop, rtol,
                            atol, n_norm, h_max, max_steps, quadratures, method, out_y, out_q, counters, failure,
                            stoich_start, stoich_reaction, stoich_value, by_reaction_start,
                            by_reaction_species, by_reaction_value, structure, jac_row, jac_col, order,
                            lower_start, lower_rows, upper_start, upper_cols, filled, fill_row, fill_col,
                            stack, k_of_derivative, time_rates, ones_e, trigger_values, was_true, pending,
                            culprit, seen, switch_low, ones_sw, switch_values, queue_time, queue_event,
                            queue_values, assignment_values, y_event, q_event, x, y, q, y_new, q_new, y_stage,
                            f0, f_probe, ft, rates0, rates, drdx, jac, lu, pivots, c_over_h, dense_weights, u,
                            v, active)


@njit(_nrt=False)
def _integrate_steps(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start,
                     time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
                     event_assignments, event_priority, event_use_trigger_values, event_initial_value,
                     delay_start, event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out,
                     stops, bolus_time, bolus_species, bolus_amount, source_species, source_amplitude,
                     source_decay, source_start, source_stop, rtol, atol, n_norm, h_max, max_steps, quadratures,
                     method, out_y, out_q, counters, failure, stoich_start, stoich_reaction, stoich_value,
                     by_reaction_start, by_reaction_species, by_reaction_value, structure, jac_row, jac_col,
                     order, lower_start, lower_rows, upper_start, upper_cols, filled, fill_row, fill_col,
                     stack, k_of_derivative, time_rates, ones_e, trigger_values, was_true, pending, culprit,
                     seen, switch_low, ones_sw, switch_values, queue_time, queue_event, queue_values,
                     assignment_values, y_event, q_event, x, y, q, y_new, q_new, y_stage, f0, f_probe, ft,
                     rates0, rates, drdx, jac, lu, pivots, c_over_h, dense_weights, u, v, active):
    """The step loop of :func:`integrate`, on the work arrays it allocated. Compiled without numba's
    reference counting: the loop allocates nothing, and the counts that its helpers' array parameters
    and row views would take (an atomic increment and decrement each) were 40 % of the time of a
    small law network's step (perf on the nanozyme model)."""
    literally(method)
    n_r = k.shape[0]
    n_s = y0.shape[0]
    n_q = n_r + n_s
    n_d = deriv_reaction.shape[0]
    n_out = t_out.shape[0]
    n_src = source_species.shape[0]
    n_e = trigger_start.shape[0] - 1
    dense_step = False
    (n_stages, n_dense, gamma, exponent, root_err_floor, a_coef, b_coef, c_coef, d_coef, nodes,
     h_dense) = _method_constants(method)
    n_steps = 0
    n_rejected = 0
    n_rhs = 0
    n_jac = 0
    n_lu = 0
    failure[FAIL_TIME] = np.nan
    failure[FAIL_STEP] = np.nan
    failure[FAIL_SPECIES] = -1.0

    t = t0
    _apply_boluses(t, True, bolus_time, bolus_species, bolus_amount, y)
    if n_e > 0:
        # A trigger true at the start whose initial value is false fires now (SBML), before the first output.
        status = _process_instant(t, y, signed, x, code, operand, constants, trigger_start, assignment_start,
                                  assignment_target, event_assignments, event_priority, event_use_trigger_values,
                                  delay_start, event_persistent, event_interacts, stack, trigger_values, was_true, assignment_values,
                                  pending, culprit, queue_time, queue_event, queue_values)
        if status != SUCCESS:
            _store_counters(counters, 0, 0, 0, 0, 0)
            failure[FAIL_TIME] = t
            failure[FAIL_SPECIES] = culprit[0]
            return status
    next_out = 0
    while next_out < n_out and t_out[next_out] <= t0:
        for i in range(n_s):
            out_y[next_out, i] = y[i]
        if quadratures:
            for i in range(n_q):
                out_q[next_out, i] = 0.0
        next_out += 1

    for s in range(stops.shape[0]):
        t_stop = stops[s]
        if t_stop <= t:
            continue
        for j in range(n_src):
            active[j] = source_start[j] <= t and t < source_stop[j]
        _derivatives(t, y, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand, constants, rate_start, native, active, source_species,
                     source_amplitude, source_decay, source_start, stack, rates0, f0)
        h = _initial_step(t, y, f0, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand, constants, rate_start, native, active, source_species,
                          source_amplitude, source_decay, source_start, rtol, atol, n_norm, exponent,
                          min(t_stop - t, h_max), y_stage, f_probe, stack, rates)
        n_rhs += 2
        need_jacobian = True
        accepted_in_segment = 0
        last_rejected = False
        h_accepted = 0.0
        root_err_accepted = 0.0
        while t < t_stop:
            # Land on queued (delayed) executions as on stops.
            t_limit = min(t_stop, _next_due(queue_time, queue_event)) if n_e > 0 else t_stop
            status, h = _limit_step(t, t_limit, h, h_max, n_steps + n_rejected, max_steps)
            if status != SUCCESS:
                _record_failure(status, t, h, n_steps + n_rejected > 0, jac, y, u[n_stages - 1], y_new, rtol, atol,
                                failure)
                _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
                return status
            if need_jacobian:
                _derivatives(t, y, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand, constants, rate_start, native, active,
                             source_species, source_amplitude, source_decay, source_start, stack, rates0, f0)
                _source_time_derivative(t, active, source_species, source_amplitude, source_decay, source_start,
                                        ft)
                _jacobian(t, x, k_of_derivative, k, net_stoich, code, operand, constants, native, deriv_reaction,
                          deriv_species, deriv_start, time_start, stack, drdx, time_rates, by_reaction_start,
                          by_reaction_species, by_reaction_value, jac_row, jac_col, jac, ft)
                n_rhs += 1
                n_jac += 1
                need_jacobian = False
            n_lu += 1
            _sparse_step_matrix(h, gamma, n_stages, c_coef, c_over_h, jac, lu, fill_row, fill_col)
            dense_step = not sparse_lu_factor(lu, order, lower_start, lower_rows, upper_start, upper_cols)
            if dense_step:
                _step_matrix(h, gamma, n_stages, c_coef, c_over_h, jac, lu)
            if dense_step and not lu_factor(lu, pivots):
                n_rejected += 1
                failure[FAIL_SPECIES] = _stiffest_species(jac, y)
                last_rejected = True
                h *= 0.5
                continue

            hgamma = h * gamma
            for stage in range(n_stages):
                if stage == 0:
                    for i in range(n_s):
                        y_stage[i] = y[i]
                        u[0, i] = f0[i]
                else:
                    # Stage by stage over contiguous rows of u (the compiler vectorises them); each entry
                    # still sums its terms in the order j = 0, 1, …, so the result is the same to the bit.
                    for i in range(n_s):
                        y_stage[i] = y[i]
                    for j in range(stage):
                        a_sj = a_coef[stage, j]
                        for i in range(n_s):
                            y_stage[i] += a_sj * u[j, i]
                    _derivatives(t + nodes[stage] * h, y_stage, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand, constants,
                                 rate_start, native, active, source_species, source_amplitude, source_decay,
                                 source_start, stack, rates, u[stage])
                    for j in range(stage):
                        c_sj = c_over_h[stage, j]
                        for a in range(n_s):
                            u[stage, a] += c_sj * u[j, a]
                    n_rhs += 1
                hd = h * d_coef[stage]
                for i in range(n_s):
                    u[stage, i] += hd * ft[i]
                if dense_step:
                    lu_solve_row(lu, pivots, u, stage)
                else:
                    sparse_lu_solve_row(lu, order, lower_start, lower_rows, upper_start, upper_cols, u, stage)
                if not quadratures:
                    continue
                # v = hγ·(r(y_stage) + ∂r/∂y·u_stage + Σ c_ij/h·v_j) for the extents, then the exposures.
                for i in range(n_r):
                    v[stage, i] = rates0[i] if stage == 0 else rates[i]
                for d in range(n_d):
                    v[stage, deriv_reaction[d]] += drdx[d] * u[stage, deriv_species[d]]
                for i in range(n_s):
                    v[stage, n_r + i] = y_stage[i] + u[stage, i]
                for j in range(stage):
                    c_sj = c_over_h[stage, j]
                    for i in range(n_q):
                        v[stage, i] += c_sj * v[j, i]
                for i in range(n_q):
                    v[stage, i] *= hgamma

            err = _advance(y, u, b_coef, n_stages, rtol, atol, n_norm, y_new)
            limiting = _negative(err, y_new, atol, signed)
            if err > 1.0 or limiting >= 0:
                n_rejected += 1
                h *= _retry_factor(err, limiting, y, y_new, u[n_stages - 1], rtol, atol, accepted_in_segment,
                                   last_rejected, exponent, failure)
                last_rejected = True
                continue

            n_steps += 1
            for i in range(n_q):
                q_new[i] = q[i]
            if quadratures:
                for j in range(n_stages):
                    b_j = b_coef[j]
                    for i in range(n_q):
                        q_new[i] += b_j * v[j, i]
            t_new = _step_end(t, h, t_limit)
            event_theta = -1.0
            if n_e > 0:
                event_theta = _locate_event(t, h, dense_weights, h_dense, n_dense, n_stages, u, y, y_new, signed, x,
                                            code, operand, constants, trigger_start, switch_start, event_persistent,
                                            stack, trigger_values, was_true, seen, switch_low, switch_values,
                                            y_event, queue_event, ones_e, ones_sw)
                if event_theta >= 0.0:
                    t_new = t + event_theta * h if event_theta < 1.0 else t_new
            while next_out < n_out and t_out[next_out] < t_new:
                theta = (t_out[next_out] - t) / h
                _dense_weights(theta, h_dense, n_dense, n_stages, dense_weights)
                _dense_output(theta, dense_weights, n_stages, u, y, y_new, False, out_y, next_out)
                for i in range(n_s):
                    if not signed[i] and out_y[next_out, i] < 0.0:
                        out_y[next_out, i] = 0.0
                if quadratures:
                    _dense_output(theta, dense_weights, n_stages, v, q, q_new, False, out_q, next_out)
                next_out += 1
            if event_theta >= 0.0:
                # Stop at the event: state and quadratures from the continuous extension, then the events,
                # then a fresh start (the right-hand side may jump).
                _dense_state(event_theta, dense_weights, h_dense, n_dense, n_stages, u, y, y_new, signed, y_event)
                if quadratures:
                    _dense_weights(event_theta, h_dense, n_dense, n_stages, dense_weights)
                    _dense_output(event_theta, dense_weights, n_stages, v, q, q_new, False, q_event.reshape((1, n_q)), 0)
                    for i in range(n_q):
                        q[i] = q_event[i]
                for i in range(n_s):
                    y[i] = y_event[i]
                t = t_new
                status = _process_instant(t, y, signed, x, code, operand, constants, trigger_start,
                                          assignment_start, assignment_target, event_assignments, event_priority,
                                          event_use_trigger_values, delay_start, event_persistent, event_interacts, stack,
                                          trigger_values, was_true, assignment_values, pending, culprit, queue_time,
                                          queue_event, queue_values)
                if status != SUCCESS:
                    failure[FAIL_TIME] = t
                    failure[FAIL_SPECIES] = culprit[0]
                    _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
                    return status
                _derivatives(t, y, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand,
                             constants, rate_start, native, active, source_species, source_amplitude, source_decay,
                             source_start, stack, rates0, f0)
                h = _initial_step(t, y, f0, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand,
                                  constants, rate_start, native, active, source_species, source_amplitude, source_decay,
                                  source_start, rtol, atol, n_norm, exponent, max(t_stop - t, 1e-300), y_stage,
                                  f_probe, stack, rates)
                n_rhs += 2
                accepted_in_segment = 0
                last_rejected = False
                need_jacobian = True
                continue
            for i in range(n_s):
                y[i] = y_new[i] if y_new[i] > 0.0 or signed[i] else 0.0
            for i in range(n_q):
                q[i] = q_new[i]
            t = t_new
            h, h_accepted, root_err_accepted, accepted_in_segment = _after_acceptance(
                err, h, h_accepted, root_err_accepted, root_err_floor, exponent, accepted_in_segment, last_rejected)
            last_rejected = False
            need_jacobian = True
            if n_e > 0:
                if t >= _next_due(queue_time, queue_event) and t < t_stop:
                    status = _process_instant(t, y, signed, x, code, operand, constants, trigger_start,
                                              assignment_start, assignment_target, event_assignments, event_priority,
                                              event_use_trigger_values, delay_start, event_persistent, event_interacts, stack,
                                              trigger_values, was_true, assignment_values, pending, culprit,
                                              queue_time, queue_event, queue_values)
                    if status != SUCCESS:
                        failure[FAIL_TIME] = t
                        failure[FAIL_SPECIES] = culprit[0]
                        _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
                        return status
                    _derivatives(t, y, x, signed, k, stoich_start, stoich_reaction, stoich_value, code, operand,
                                 constants, rate_start, native, active, source_species, source_amplitude, source_decay,
                                 source_start, stack, rates0, f0)
                    h = _initial_step(t, y, f0, x, signed, k, stoich_start, stoich_reaction, stoich_value, code,
                                      operand, constants, rate_start, native, active, source_species, source_amplitude,
                                      source_decay, source_start, rtol, atol, n_norm, exponent,
                                      max(t_stop - t, 1e-300), y_stage, f_probe, stack, rates)
                    n_rhs += 2
                    accepted_in_segment = 0


        _apply_boluses(t_stop, False, bolus_time, bolus_species, bolus_amount, y)
        if n_e > 0:
            # A bolus may set off an event.
            status = _process_instant(t_stop, y, signed, x, code, operand, constants, trigger_start,
                                      assignment_start, assignment_target, event_assignments, event_priority,
                                      event_use_trigger_values, delay_start, event_persistent, event_interacts, stack, trigger_values,
                                      was_true, assignment_values, pending, culprit, queue_time, queue_event,
                                      queue_values)
            if status != SUCCESS:
                failure[FAIL_TIME] = t_stop
                failure[FAIL_SPECIES] = culprit[0]
                _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
                return status
        while next_out < n_out and t_out[next_out] <= t_stop:
            for i in range(n_s):
                out_y[next_out, i] = y[i]
            if quadratures:
                for i in range(n_q):
                    out_q[next_out, i] = q[i]
            next_out += 1
    _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
    return SUCCESS


@njit(parallel=True)
def integrate_batch(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start, time_start,
                    stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species, bolus_amount,
                    source_species, source_amplitude, source_decay, source_start, source_stop,
                    rtol, atol, n_norm, h_max, max_steps, quadratures, method, order, out_y, out_q, counters, failure,
                    status):
    """n_c conditions in parallel, per-condition arrays as in kernels/rosenbrock.integrate_batch."""
    literally(method)
    for j in prange(k.shape[0]):
        c = order[j]
        status[c] = integrate(k[c], code, operand, constants, rate_start, deriv_reaction, deriv_species,
                              deriv_start, time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0[c], t0, t_out, stops,
                              bolus_time, bolus_species, bolus_amount[c], source_species, source_amplitude[c],
                              source_decay, source_start, source_stop, rtol, atol, n_norm, h_max, max_steps, quadratures,
                              method, out_y[c], out_q[c], counters[c], failure[c])


@njit
def integrate_rodas5p(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start,
                      time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species,
                      bolus_amount, source_species, source_amplitude, source_decay, source_start, source_stop,
                      rtol, atol, n_norm, h_max, max_steps, quadratures, out_y, out_q, counters, failure):
    """:func:`integrate` with RODAS5P."""
    return integrate(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start,
                     time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species,
                     bolus_amount, source_species, source_amplitude, source_decay, source_start, source_stop,
                     rtol, atol, n_norm, h_max, max_steps, quadratures, RODAS5P, out_y, out_q, counters, failure)


@njit
def integrate_rodas4(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start,
                     time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species,
                     bolus_amount, source_species, source_amplitude, source_decay, source_start, source_stop,
                     rtol, atol, n_norm, h_max, max_steps, quadratures, out_y, out_q, counters, failure):
    """:func:`integrate` with RODAS4."""
    return integrate(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start,
                     time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species,
                     bolus_amount, source_species, source_amplitude, source_decay, source_start, source_stop,
                     rtol, atol, n_norm, h_max, max_steps, quadratures, RODAS4, out_y, out_q, counters, failure)


@njit
def integrate_batch_rodas5p(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start,
                            time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species,
                            bolus_amount, source_species, source_amplitude, source_decay, source_start,
                            source_stop, rtol, atol, n_norm, h_max, max_steps, quadratures, order, out_y, out_q,
                            counters, failure, status):
    """:func:`integrate_batch` with RODAS5P."""
    integrate_batch(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start,
                    time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species,
                    bolus_amount, source_species, source_amplitude, source_decay, source_start, source_stop,
                    rtol, atol, n_norm, h_max, max_steps, quadratures, RODAS5P, order, out_y, out_q, counters, failure,
                    status)


@njit
def integrate_batch_rodas4(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start,
                           time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species,
                           bolus_amount, source_species, source_amplitude, source_decay, source_start,
                           source_stop, rtol, atol, n_norm, h_max, max_steps, quadratures, order, out_y, out_q,
                           counters, failure, status):
    """:func:`integrate_batch` with RODAS4."""
    integrate_batch(k, code, operand, constants, rate_start, deriv_reaction, deriv_species, deriv_start,
                    time_start, stack_size, signed, trigger_start, assignment_start, assignment_target,
              event_assignments, event_priority, event_use_trigger_values, event_initial_value, delay_start,
              event_persistent, event_interacts, switch_start, native, net_stoich, y0, t0, t_out, stops, bolus_time, bolus_species,
                    bolus_amount, source_species, source_amplitude, source_decay, source_start, source_stop,
                    rtol, atol, n_norm, h_max, max_steps, quadratures, RODAS4, order, out_y, out_q, counters, failure,
                    status)


#: Entry points by solver name, for fentonsim.deterministic.
INTEGRATE = {NAMES[RODAS5P]: integrate_rodas5p, NAMES[RODAS4]: integrate_rodas4}
INTEGRATE_BATCH = {NAMES[RODAS5P]: integrate_batch_rodas5p, NAMES[RODAS4]: integrate_batch_rodas4}
