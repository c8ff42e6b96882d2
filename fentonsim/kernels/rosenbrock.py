"""Stiffly accurate, L-stable Rosenbrock integration compiled end to end: RODAS5P
(order 5, the default) or RODAS4 (order 4), each compiled as its own version
(see "One compiled version per method"); the coefficients and their sources
are in kernels/tableaus.py.

Why Rosenbrock: Fenton networks are small (n_s ≲ 100) and very stiff. A
Rosenbrock step needs one Jacobian and one LU factorisation and no Newton
iteration, so there is no convergence failure to manage and the cost per step
is predictable; the analytic Jacobian of mass action is cheap and exact.

What is integrated
------------------
:func:`integrate` takes the whole network and hands :func:`_integrate_live` a
smaller but equivalent system:

* the live subsystem (kernels/ode.py ``live_subsystem``): species that start at
  zero, receive no input and have no running producer stay exactly 0, and so
  do the reactions that need them or have k = 0; they are left out and
  reported as 0;
* rate groups (``rate_groups``): live reactions with the same reactants share
  one product r_g = Π x, and f = weights·r with weights[a, g] = Σ k_i·ν_ia
  over the group's reactions.

The error norm still divides by the network's full species count, so the
steps are the ones the whole system would take.

The state is the live species vector y [M]. Alongside it the kernel
integrates quadratures q: ∫ r_g dt per group and the exposure ∫ y dt [M s]
per species; the extent of reaction i is k_i·∫ r_g dt of its group. They do
not feed back into y, so the Jacobian is block lower-triangular and each stage
solves only the species system; q is advanced with the same stages (and so to
the same order) but is not part of the error test, as with CVODES'
quadratures.

Hot loops are written out rather than calling helpers: numba keeps an atomic
reference count for every array passed to even an inlined helper, and these
took 15 % of a step. The stage loop stays written out (as helpers, its solve
and right-hand side kept those counts: +4–17 % per solve, measured). The
per-step and set-up blocks are inlined helpers shared with the sensitivity
kernel (kernels/sensitivity.py); numba's pruning removes their counts as long
as a helper has no ``break`` or ``return`` inside a loop and no array used
only in a branch (checked in the LLVM IR: one count pair per step is left, on
``lu``).

Inputs
------
* Boluses: at ``bolus_time[b]`` [s] add ``bolus_amount[b]`` [M] to species
  ``bolus_species[b]``; a negative code −1 − i instead sets species i to
  ``bolus_amount[b]`` (an assignment). A bolus applies before outputs at the
  same time are recorded (the solution is right-continuous).
* Sources: species ``source_species[j]`` gains
  ``source_amplitude[j]·exp(−source_decay[j]·(t − source_start[j]))`` [M s⁻¹]
  for ``source_start[j] ≤ t < source_stop[j]``. Decay 0 is a zero-order
  (constant) supply; decay λ with amplitude λ·A is first-order release of a
  reservoir A.
* ``stops`` (ascending, last = final output time): times the integrator lands
  on exactly; every bolus time and source start/stop inside the span must be
  among them, so no step straddles a discontinuity.

One compiled version per method
-------------------------------
The kernels take the method as a compile-time constant (``literally``), so each
method is compiled on its own with its stage count, dense-output terms and
coefficients known to the compiler, which then unrolls the stage loops: 8–12 %
less time per step than reading them from the tableau arrays at run time (iron,
copper, manganese, measured side by side). Only the method used is compiled,
once, and cached like any kernel; conditions never change it. Python calls the
entry points :func:`integrate_rodas5p`, :func:`integrate_rodas4`,
:func:`integrate_batch_rodas5p` and :func:`integrate_batch_rodas4` (numba's
dispatch of a literal argument from Python costs milliseconds per call).

Status codes are the module constants below; on failure ``failure`` holds
(time reached [s], last step size [s], index of the species that limited the
step, or −1).
"""
from __future__ import annotations

import numpy as np

from .._jit import literally, njit, prange
from .linalg import lu_factor
from .tableaus import NAMES, RODAS4, RODAS5P, A, B, C, D, DENSE_TERMS, GAMMA, H, NODES, ORDER_EXPONENT, STAGES
from .ode import clip_state, jacobian_structure, live_subsystem, rate_groups, reactant_slots

SUCCESS = 0
MAX_STEPS_EXCEEDED = 1
STEP_TOO_SMALL = 2

#: counters[...] indices
N_STEPS, N_REJECTED, N_RHS, N_JAC, N_LU = 0, 1, 2, 3, 4
N_COUNTERS = 5
#: failure[...] indices
FAIL_TIME, FAIL_STEP, FAIL_SPECIES = 0, 1, 2

SAFETY = 0.9
GROWTH_MAX = 6.0
SHRINK_MIN = 0.2
EPS = np.finfo(np.float64).eps


@njit(inline='always')
def _add_sources(t, active, source_species, source_amplitude, source_decay, source_start, dydt):
    for j in range(source_species.shape[0]):
        if active[j]:
            dydt[source_species[j]] += source_amplitude[j] * np.exp(-source_decay[j] * (t - source_start[j]))


@njit(inline='always')
def _source_time_derivative(t, active, source_species, source_amplitude, source_decay, source_start, ft):
    """Fill ft with ∂f/∂t [M s⁻²]: only the sources depend on time explicitly."""
    for i in range(ft.shape[0]):
        ft[i] = 0.0
    for j in range(source_species.shape[0]):
        if active[j] and source_decay[j] != 0.0:
            ft[source_species[j]] -= (source_decay[j] * source_amplitude[j]
                                      * np.exp(-source_decay[j] * (t - source_start[j])))


@njit(inline='always')
def _derivatives(t, y, x_clipped, slots, weights, active, source_species,
                 source_amplitude, source_decay, source_start, rates, dydt):
    """dy/dt [M s⁻¹] into dydt and the rate-group products Π x [M^order] into rates."""
    clip_state(y, x_clipped)
    for g in range(slots.shape[0]):
        rates[g] = x_clipped[slots[g, 0]] * x_clipped[slots[g, 1]] * x_clipped[slots[g, 2]]
    # A dense mat-vec beats the sparse scatter for Fenton-sized networks: contiguous rows vectorise,
    # while scatter-adds serialise on store-to-load forwarding.
    for a in range(dydt.shape[0]):
        total = 0.0
        for i in range(rates.shape[0]):
            total += weights[a, i] * rates[i]
        dydt[a] = total
    _add_sources(t, active, source_species, source_amplitude, source_decay, source_start, dydt)


@njit(inline='always')
def _weighted_rms(values, reference, other, rtol, atol, n_norm):
    """RMS of values_i / (atol_i + rtol·max|·|) over ``n_norm`` species: the network's full count, so
    that leaving out species that stay at zero (they add 0 to the sum) does not change the norm."""
    total = 0.0
    for i in range(values.shape[0]):
        scale = atol[i] + rtol * max(abs(reference[i]), abs(other[i]))
        total += (values[i] / scale) ** 2
    return np.sqrt(total / max(n_norm, 1.0))


@njit
def _initial_step(t, y, f0, x_clipped, slots, weights, active, source_species,
                  source_amplitude, source_decay, source_start, rtol, atol, n_norm, exponent, span, y_probe, f_probe,
                  rates):
    """Hairer–Wanner's starting-step heuristic (explicit Euler probe), capped by the span."""
    d0 = _weighted_rms(y, y, y, rtol, atol, n_norm)
    d1 = _weighted_rms(f0, y, y, rtol, atol, n_norm)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6 * span
    else:
        h0 = min(0.01 * d0 / d1, span)
    for i in range(y.shape[0]):
        y_probe[i] = y[i] + h0 * f0[i]
    _derivatives(t + h0, y_probe, x_clipped, slots, weights, active, source_species,
                 source_amplitude, source_decay, source_start, rates, f_probe)
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
def _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu):
    counters[N_STEPS] = n_steps
    counters[N_REJECTED] = n_rejected
    counters[N_RHS] = n_rhs
    counters[N_JAC] = n_jac
    counters[N_LU] = n_lu


@njit(inline='always')
def _largest_error_species(estimate, y, y_new, rtol, atol):
    """Index of the largest error ratio of the last attempted step (non-finite counts as largest)."""
    best = -1
    largest = -1.0
    for i in range(y.shape[0]):
        scale = atol[i] + rtol * max(abs(y[i]), abs(y_new[i]))
        ratio = abs(estimate[i]) / scale
        if not np.isfinite(ratio):
            return i
        if ratio > largest:
            largest = ratio
            best = i
    return best


@njit(inline='always')
def _stiffest_species(jac, y):
    """The species with a non-finite value or Jacobian row, else the largest |∂f_a/∂y_a|."""
    best = -1
    largest = -1.0
    for a in range(y.shape[0]):
        if not np.isfinite(y[a]):
            return a
        magnitude = abs(jac[a, a])
        for b in range(y.shape[0]):
            if not np.isfinite(jac[a, b]):
                return a
        if magnitude > largest:
            largest = magnitude
            best = a
    return best


@njit(inline="always")
def apply_bolus(y, code, amount):
    """Add ``amount`` to species ``code``, or set species −1 − code to it (callable from Python too)."""
    # A negative code −1 − i assigns species i instead of adding to it (an SBML event `X = 50`).
    if code >= 0:
        y[code] += amount
    else:
        y[-1 - code] = amount


# ---- Set-up pieces shared with kernels/sensitivity.py (once per solve or per segment).

@njit(inline='always')
def _live_network(k, reactant_idx, reactant_coef, net_stoich, seeded, y0, atol, bolus_species, source_species):
    """The live subsystem (see "What is integrated") given ``seeded``, the species that start non-zero
    (or are otherwise perturbed; the species boluses and sources feed are added here): (species_index
    (n_sl,) the live species' network indices, group_of (n_r,) each reaction's rate group or −1,
    group_slots (n_g, 3), weights (n_sl, n_g), then y0, atol, bolus_species and source_species in the
    live numbering)."""
    n_s = y0.shape[0]
    for b in range(bolus_species.shape[0]):
        code = bolus_species[b]
        seeded[code if code >= 0 else -1 - code] = True
    for j in range(source_species.shape[0]):
        seeded[source_species[j]] = True
    live_species, live_reactions = live_subsystem(k, reactant_idx, net_stoich, seeded)
    species_index = np.nonzero(live_species)[0]
    n_sl = species_index.shape[0]
    position = np.full(n_s, -1, dtype=np.int64)
    for p in range(n_sl):
        position[species_index[p]] = p
    all_slots = reactant_slots(reactant_idx, reactant_coef, n_s)
    group_of, group_slots = rate_groups(all_slots, live_reactions, position, n_sl)
    n_g = group_slots.shape[0]
    # dy_a/dt = Σ_g weights[a, g]·Π_g x with weights[a, g] = Σ_{i in g} k_i·ν_ia: reactions with the
    # same reactants share one product, which halves the rate work of the iron network (19 → 10).
    weights = np.zeros((n_sl, n_g))
    for i in range(k.shape[0]):
        g = group_of[i]
        if g < 0:
            continue
        for a in range(n_sl):
            weights[a, g] += k[i] * net_stoich[i, species_index[a]]
    y0_live = np.empty(n_sl)
    atol_live = np.empty(n_sl)
    for a in range(n_sl):
        y0_live[a] = y0[species_index[a]]
        atol_live[a] = atol[species_index[a]]
    bolus_live = np.empty_like(bolus_species)
    for b in range(bolus_species.shape[0]):
        code = bolus_species[b]
        bolus_live[b] = position[code] if code >= 0 else -1 - position[-1 - code]
    source_live = np.empty_like(source_species)
    for j in range(source_species.shape[0]):
        source_live[j] = position[source_species[j]]
    return species_index, group_of, group_slots, weights, y0_live, atol_live, bolus_live, source_live


@njit(inline='always')
def _method_constants(method):
    """(stages, dense-output terms, γ, controller exponent e, 1e-2^e, a, b, c, d, nodes, H) of a method
    (the tableaus.py index: a compile-time constant in this module's kernels)."""
    exponent = ORDER_EXPONENT[method]
    return (STAGES[method], DENSE_TERMS[method], GAMMA[method], exponent, 1e-2 ** exponent, A[method], B[method],
            C[method], D[method], NODES[method], H[method])


@njit(inline='always')
def _bolus_due(bolus_time, b, t, first):
    """Whether bolus b applies at t: at t exactly, or at or before it at the start (``first``)."""
    return bolus_time[b] == t or first and bolus_time[b] <= t


@njit(inline='always')
def _apply_boluses(t, first, bolus_time, bolus_species, bolus_amount, y):
    """Apply the boluses due at t (``_bolus_due``) to y, in their order."""
    for b in range(bolus_time.shape[0]):
        if _bolus_due(bolus_time, b, t, first):
            apply_bolus(y, bolus_species[b], bolus_amount[b])


# ---- Per-step pieces shared with kernels/sensitivity.py (one copy of the logic; inlined, and their
# array arguments are touched once per step or less, not in the stage loops).

@njit(inline='always')
def _limit_step(t, t_stop, h, h_max, attempts, max_steps):
    """(status, h) for the next attempt: h capped by h_max and stretched to land on t_stop when within
    0.01 % of it; status MAX_STEPS_EXCEEDED (h as it was) or STEP_TOO_SMALL when the integration must
    stop, else SUCCESS."""
    if attempts >= max_steps:
        return MAX_STEPS_EXCEEDED, h
    h = min(h, h_max)
    if t + 1.0001 * h >= t_stop:
        h = t_stop - t
    if h <= 16.0 * EPS * abs(t) or h <= 0.0:
        return STEP_TOO_SMALL, h
    return SUCCESS, h


@njit(inline='always')
def _record_failure(status, t, h, attempted, jac, y, estimate, y_new, rtol, atol, failure):
    """Fill failure for a ``_limit_step`` status: the time, the step and the limiting species (the
    stiffest one when the step limit was reached and no step named one, else the largest error ratio
    of the last attempt, ``estimate`` being its error estimate)."""
    failure[FAIL_TIME] = t
    failure[FAIL_STEP] = h
    if status == MAX_STEPS_EXCEEDED:
        if failure[FAIL_SPECIES] < 0:
            failure[FAIL_SPECIES] = _stiffest_species(jac, y)
    elif attempted:
        failure[FAIL_SPECIES] = _largest_error_species(estimate, y, y_new, rtol, atol)


@njit(inline='always')
def _segment_start(t, t_stop, h_max, y, f0, x_clipped, slots, weights, active, source_species, source_amplitude,
                   source_decay, source_start, source_stop, rtol, atol, n_norm, exponent, y_probe, f_probe,
                   rates0, rates):
    """At the start of a segment [t, t_stop]: set which sources run in it, f0 = f(t, y), and return
    the starting step (two evaluations of f)."""
    for j in range(source_species.shape[0]):
        active[j] = source_start[j] <= t and t < source_stop[j]
    _derivatives(t, y, x_clipped, slots, weights, active, source_species,
                 source_amplitude, source_decay, source_start, rates0, f0)
    return _initial_step(t, y, f0, x_clipped, slots, weights, active, source_species,
                         source_amplitude, source_decay, source_start, rtol, atol, n_norm, exponent,
                         min(t_stop - t, h_max), y_probe, f_probe, rates)


@njit(inline='always')
def _rates_and_jacobian(t, y, x, slots, weights, jac_position, jac_start, jac_source, jac_coefficient,
                        active, source_species, source_amplitude, source_decay, source_start,
                        rates, drdx, f0, jac_flat, ft):
    """At the step's start y: x = max(y, 0) (its padding slot left as it is), the group rates, their
    slot derivatives (∂r_g/∂(slot s) at 3·g + s), f0 = f(t, y), the Jacobian (through its flat view,
    jacobian_structure's entries) and, with sources, ft = ∂f/∂t. Written out (no _derivatives call):
    the products are shared between rates and derivatives."""
    n_s = y.shape[0]
    for i in range(n_s):
        x[i] = y[i] if y[i] > 0.0 else 0.0
    for g in range(slots.shape[0]):
        x0 = x[slots[g, 0]]
        x1 = x[slots[g, 1]]
        x2 = x[slots[g, 2]]
        rates[g] = x0 * x1 * x2
        drdx[3 * g] = x1 * x2
        drdx[3 * g + 1] = x0 * x2
        drdx[3 * g + 2] = x0 * x1
    for a in range(n_s):
        total = 0.0
        for g in range(slots.shape[0]):
            total += weights[a, g] * rates[g]
        f0[a] = total
    for e in range(jac_position.shape[0]):
        total = 0.0
        for p in range(jac_start[e], jac_start[e + 1]):
            total += jac_coefficient[p] * drdx[jac_source[p]]
        jac_flat[jac_position[e]] = total
    # Unconditional (no loop runs without sources): an array used in a branch of an inlined helper keeps
    # its reference count.
    _add_sources(t, active, source_species, source_amplitude, source_decay, source_start, f0)
    _source_time_derivative(t, active, source_species, source_amplitude, source_decay, source_start, ft)


@njit(inline='always')
def _step_matrix(h, gamma, n_stages, c_coef, c_over_h, jac, lu):
    """c_over_h = c/h (divisions in the stage loops cost more than the rest) and lu = I/(hγ) − J, for
    lu_factor (called by the kernel itself: inlined through this helper, its early returns would keep
    reference counts on lu and pivots)."""
    inverse_hgamma = 1.0 / (h * gamma)
    inverse_h = 1.0 / h
    n_s = jac.shape[0]
    for a in range(n_s):
        for b in range(n_s):
            lu[a, b] = -jac[a, b]
        lu[a, a] += inverse_hgamma
    for a in range(n_stages):
        for b in range(a):
            c_over_h[a, b] = c_coef[a, b] * inverse_h


@njit(inline='always')
def _advance(y, u, b_coef, n_stages, rtol, atol, n_norm, y_new):
    """y_new = y + Σ_j b_j·u_j and, in the same pass, the error norm of the embedded estimate u_last
    (inf when y_new is not finite: every b_j is non-zero in both methods, so a non-finite stage
    reaches y_new)."""
    finite = True
    total = 0.0
    for i in range(y.shape[0]):
        value = y[i]
        for j in range(n_stages):
            value += b_coef[j] * u[j, i]
        y_new[i] = value
        if not np.isfinite(value):
            finite = False
        scale = atol[i] + rtol * max(abs(y[i]), abs(value))
        total += (u[n_stages - 1, i] / scale) ** 2
    return np.sqrt(total / max(n_norm, 1.0)) if finite else np.inf


@njit(inline='always')
def _negative_species(err, y_new, atol):
    """After a step with err ≤ 1: the first species below −atol (a rejection), else −1."""
    limiting = -1
    if err <= 1.0:
        i = 0
        # No break or return inside the loop: either keeps the arrays' reference counts when inlined.
        while limiting < 0 and i < y_new.shape[0]:
            if y_new[i] < -atol[i]:
                limiting = i
            i += 1
    return limiting


@njit(inline='always')
def _retry_factor(err, limiting, y, y_new, estimate, rtol, atol, accepted_in_segment, last_rejected, exponent,
                  failure):
    """For a rejected step (err > 1, or species ``limiting`` below −atol): record the limiting species
    (with err > 1, the largest error ratio of ``estimate``) and return the factor for the retry."""
    failure[FAIL_SPECIES] = limiting if limiting >= 0 else _largest_error_species(estimate, y, y_new, rtol, atol)
    if not np.isfinite(err) or err > 1.0 and accepted_in_segment == 0 and not last_rejected:
        return 0.1 if np.isfinite(err) else 0.25
    if err > 1.0:
        return max(SHRINK_MIN, SAFETY * err ** -exponent)
    return 0.5  # a negative concentration beyond atol: retry with a smaller step


@njit(inline='always')
def _step_end(t, h, t_stop):
    """t + h, snapped onto t_stop when within rounding of it."""
    t_new = t + h
    if t_stop - t_new <= 16.0 * EPS * abs(t_stop):
        t_new = t_stop
    return t_new


@njit(inline='always')
def _after_acceptance(err, h, h_accepted, root_err_accepted, root_err_floor, exponent, accepted_in_segment,
                      last_rejected):
    """The step controller after an accepted step of size h with error norm err: (next h, h as the
    last accepted step, max(1e-2, err)^e to remember, accepted_in_segment + 1).

    One power per step (a pow costs about as much as a species' stage arithmetic): with g = err^−e,
    the predictive factor (err_acc/err²)^e is err_acc^e·g²."""
    g = max(err, 1e-10) ** -exponent
    factor = min(GROWTH_MAX, max(SHRINK_MIN, SAFETY * g))
    if accepted_in_segment > 0:
        # Gustafsson's predictive controller (as in RODAS): damps step-size oscillation.
        predictive = (h / h_accepted) * SAFETY * root_err_accepted * g * g
        factor = min(factor, min(GROWTH_MAX, max(SHRINK_MIN, predictive)))
    if last_rejected:
        factor = min(factor, 1.0)  # no growth right after a rejection
    return h * factor, h, max(root_err_floor, 1.0 / g), accepted_in_segment + 1


@njit(inline='always')
def _dense_weights(theta, h_dense, n_dense, n_stages, dense_weights):
    """w_j = Σ_m θ^m·H[m, j]: Σ_m θ^m·K_m with K_m = Σ_j H[m, j]·(stage j) is Σ_j w_j·(stage j), so
    forming the n_stages weights once per output time saves a factor n_dense per component."""
    for j in range(n_stages):
        w_j = 0.0
        for m in range(n_dense - 1, -1, -1):
            w_j = h_dense[m, j] + theta * w_j
        dense_weights[j] = w_j


@njit(inline='always')
def _dense_output(theta, dense_weights, n_stages, stages, before, after, clip, out, row):
    """out[row] = the continuous extension at θ of a quantity going from ``before`` to ``after`` with
    increments ``stages`` (n_stages, n); clipped at 0 when ``clip``."""
    for i in range(before.shape[0]):
        total = 0.0
        for j in range(n_stages):
            total += dense_weights[j] * stages[j, i]
        value = (1.0 - theta) * before[i] + theta * (after[i] + (1.0 - theta) * total)
        out[row, i] = value if value > 0.0 or not clip else 0.0


@njit
def integrate(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
              bolus_time, bolus_species, bolus_amount,
              source_species, source_amplitude, source_decay, source_start, source_stop,
              rtol, atol, h_max, max_steps, quadratures, method, out_y, out_q, counters, failure):
    """Integrate one trajectory from t0 to t_out[-1]; return a status code.

    Only the live subsystem is integrated (``live_subsystem``): a species that
    starts at zero, receives no input and is produced only by reactions that
    cannot run stays exactly 0, and the full Rosenbrock step gives it a zero
    increment too (its Jacobian row has no entry in a live column), so leaving
    it out changes nothing but the cost. Its outputs are 0. A reaction counts
    as running only when k > 0, so k must be finite and ≥ 0: the Python layer
    (fentonsim.deterministic) rejects anything else before calling this.

    Shapes and units: k (n_r,) [M^(1−order) s⁻¹]; y0 (n_s,) [M]; t_out (n_out,) [s],
    ascending, ≥ t0; stops (n_stop,) [s]; bolus_* (n_b,); source_* (n_src,);
    rtol scalar; atol (n_s,) [M]; h_max [s] (inf for none); max_steps (attempted
    steps, accepted + rejected); quadratures (bool): integrate extents and
    exposures (False skips them, saving about a quarter of the work, and leaves
    out_q untouched, so it may have 0 columns);
    method: tableaus.RODAS4 or tableaus.RODAS5P, a compile-time constant (see "One compiled
    version per method" above; from Python, and for a method chosen at run time, call
    :func:`integrate_rodas5p` or :func:`integrate_rodas4`). Outputs (filled in place): out_y (n_out, n_s) [M];
    out_q (n_out, n_r + n_s) — extents [M] then exposures [M s]; counters
    (N_COUNTERS,) int64; failure (3,) float64.
    """
    literally(method)
    n_s = y0.shape[0]
    n_r = k.shape[0]
    species_index, group_of, group_slots, weights, y0_live, atol_live, bolus_live, source_live = _live_network(
        k, reactant_idx, reactant_coef, net_stoich, y0 > 0.0, y0, atol, bolus_species, source_species)
    n_sl = species_index.shape[0]
    n_g = group_slots.shape[0]
    n_out = t_out.shape[0]
    out_y_live = np.empty((n_out, n_sl))
    out_q_live = np.zeros((n_out, n_g + n_sl if quadratures else 0))
    status = _integrate_live(group_slots, weights, y0_live, t0, t_out, stops,
                             bolus_time, bolus_live, bolus_amount,
                             source_live, source_amplitude, source_decay, source_start, source_stop,
                             rtol, atol_live, float(n_s), h_max, max_steps, quadratures, method,
                             out_y_live, out_q_live, counters, failure)
    if failure[FAIL_SPECIES] >= 0:
        failure[FAIL_SPECIES] = species_index[int(failure[FAIL_SPECIES])]
    out_y[:] = 0.0
    for row in range(n_out):
        for a in range(n_sl):
            out_y[row, species_index[a]] = out_y_live[row, a]
    if quadratures:
        out_q[:] = 0.0
        for row in range(n_out):
            for a in range(n_sl):
                out_q[row, n_r + species_index[a]] = out_q_live[row, n_g + a]
            for i in range(n_r):
                if group_of[i] >= 0:
                    # The extent of reaction i is k_i times its group's ∫ Π x dt.
                    out_q[row, i] = k[i] * out_q_live[row, group_of[i]]
    return status


@njit
def _integrate_live(slots, weights, y0, t0, t_out, stops,
                    bolus_time, bolus_species, bolus_amount,
                    source_species, source_amplitude, source_decay, source_start, source_stop,
                    rtol, atol, n_norm, h_max, max_steps, quadratures, method,
                    out_y, out_q, counters, failure):
    """:func:`integrate` on the live subsystem, over n_s live species and n_g rate groups.

    f(y) = weights·r(y) with r_g = x[slots[g, 0]]·x[slots[g, 1]]·x[slots[g, 2]] (x = max(y, 0)
    and a padding slot n_s holding 1): slots (n_g, 3) int64; weights (n_s, n_g)
    [M^(1−order) s⁻¹]. n_norm is the full species count for the error norm. out_y (n_out, n_s);
    out_q (n_out, n_g + n_s): ∫ r_g dt [M^order s] then exposures [M s]; failure species are
    live indices.
    """
    literally(method)
    n_r = slots.shape[0]  # rate groups
    n_s = y0.shape[0]
    n_q = n_r + n_s
    n_out = t_out.shape[0]
    n_src = source_species.shape[0]
    x_clipped = np.ones(n_s + 1)

    y = y0.copy()
    q = np.zeros(n_q)
    y_new = np.empty(n_s)
    q_new = np.empty(n_q)
    y_stage = np.empty(n_s)
    f0 = np.empty(n_s)
    f_probe = np.empty(n_s)  # the starting-step heuristic's second evaluation
    ft = np.zeros(n_s)  # ∂f/∂t: stays 0 without sources
    rates0 = np.empty(n_r)
    rates = np.empty(n_r)
    drdx = np.empty(3 * n_r)  # ∂r_r/∂(slot s) at 3·r + s
    jac = np.zeros((n_s, n_s))
    jac_flat = jac.reshape(n_s * n_s)
    jac_position, jac_start, jac_source, jac_coefficient = jacobian_structure(weights, slots)
    lu = np.empty((n_s, n_s))
    pivots = np.empty(n_s, dtype=np.int64)
    (n_stages, n_dense, gamma, exponent, root_err_floor, a_coef, b_coef, c_coef, d_coef, nodes,
     h_dense) = _method_constants(method)
    c_over_h = np.empty((n_stages, n_stages))
    dense_weights = np.empty(n_stages)
    u = np.empty((n_stages, n_s))
    v = np.empty((n_stages, n_q))
    active = np.zeros(n_src, dtype=np.bool_)
    # Counters live in locals until the end: stores into an argument array may alias the state
    # arrays as far as LLVM knows, which would force reloads in every inner loop.
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
    next_out = 0
    while next_out < n_out and t_out[next_out] <= t0:
        for i in range(n_s):
            out_y[next_out, i] = y[i]
        next_out += 1

    for s in range(stops.shape[0]):
        t_stop = stops[s]
        if t_stop <= t:
            continue
        h = _segment_start(t, t_stop, h_max, y, f0, x_clipped, slots, weights, active, source_species,
                           source_amplitude, source_decay, source_start, source_stop, rtol, atol, n_norm, exponent,
                           y_stage, f_probe, rates0, rates)
        n_rhs += 2
        need_jacobian = True
        accepted_in_segment = 0
        last_rejected = False
        h_accepted = 0.0
        root_err_accepted = 0.0
        while t < t_stop:
            status, h = _limit_step(t, t_stop, h, h_max, n_steps + n_rejected, max_steps)
            if status != SUCCESS:
                _record_failure(status, t, h, n_steps + n_rejected > 0, jac, y, u[n_stages - 1], y_new, rtol, atol,
                                failure)
                _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
                return status
            if need_jacobian:
                _rates_and_jacobian(t, y, x_clipped, slots, weights, jac_position, jac_start, jac_source,
                                    jac_coefficient, active, source_species, source_amplitude, source_decay,
                                    source_start, rates0, drdx, f0, jac_flat, ft)
                n_rhs += 1
                n_jac += 1
                need_jacobian = False
            n_lu += 1
            _step_matrix(h, gamma, n_stages, c_coef, c_over_h, jac, lu)
            if not lu_factor(lu, pivots):
                n_rejected += 1
                failure[FAIL_SPECIES] = _stiffest_species(jac, y)
                last_rejected = True
                h *= 0.5
                continue

            hgamma = h * gamma
            # Component-outer loops with the short stage sums inside: Fenton subsystems have 3–12 live
            # species, where one loop per stage costs less than a vectorised loop per term.
            for stage in range(n_stages):
                # u[stage] receives the right-hand side f(y_stage) + Σ_j c_ij/h·u_j, then the sources at
                # t + c_i·h and h·d_i·∂f/∂t when there are sources; the solve then overwrites it in place.
                if stage == 0:
                    for i in range(n_s):
                        y_stage[i] = y[i]
                        u[0, i] = f0[i]
                else:
                    for i in range(n_s):
                        value = y[i]
                        for j in range(stage):
                            value += a_coef[stage, j] * u[j, i]
                        y_stage[i] = value
                        x_clipped[i] = value if value > 0.0 else 0.0
                    for r in range(n_r):
                        rates[r] = x_clipped[slots[r, 0]] * x_clipped[slots[r, 1]] * x_clipped[slots[r, 2]]
                    for a in range(n_s):
                        total = 0.0
                        for r in range(n_r):
                            total += weights[a, r] * rates[r]
                        for j in range(stage):
                            total += c_over_h[stage, j] * u[j, a]
                        u[stage, a] = total
                    if n_src > 0:
                        t_stage = t + nodes[stage] * h
                        for j in range(n_src):
                            if active[j]:
                                u[stage, source_species[j]] += source_amplitude[j] * np.exp(
                                    -source_decay[j] * (t_stage - source_start[j]))
                    n_rhs += 1
                if n_src > 0:
                    hd = h * d_coef[stage]
                    for i in range(n_s):
                        u[stage, i] += hd * ft[i]
                # Solve with lu_factor's output: apply the row swaps, then forward and back substitution.
                for row in range(n_s):
                    p = pivots[row]
                    if p != row:
                        swap = u[stage, row]
                        u[stage, row] = u[stage, p]
                        u[stage, p] = swap
                for row in range(n_s):
                    total = u[stage, row]
                    for j in range(row):
                        total -= lu[row, j] * u[stage, j]
                    u[stage, row] = total
                for row in range(n_s - 1, -1, -1):
                    total = u[stage, row]
                    for j in range(row + 1, n_s):
                        total -= lu[row, j] * u[stage, j]
                    u[stage, row] = total * lu[row, row]
                # Quadratures: v = hγ·(g(y_stage) + ∂g/∂y·u_stage + Σ c_ij/h·v_j), g = (rates, y).
                if not quadratures:
                    continue
                for r in range(n_r):
                    value = rates0[r] if stage == 0 else rates[r]
                    for slot in range(3):
                        sp = slots[r, slot]
                        if sp < n_s:
                            value += drdx[3 * r + slot] * u[stage, sp]
                    v[stage, r] = value
                for i in range(n_s):
                    v[stage, n_r + i] = y_stage[i] + u[stage, i]
                for j in range(stage):
                    c_sj = c_over_h[stage, j]
                    for i in range(n_q):
                        v[stage, i] += c_sj * v[j, i]
                for i in range(n_q):
                    v[stage, i] *= hgamma

            err = _advance(y, u, b_coef, n_stages, rtol, atol, n_norm, y_new)
            limiting = _negative_species(err, y_new, atol)
            if err > 1.0 or limiting >= 0:
                n_rejected += 1
                h *= _retry_factor(err, limiting, y, y_new, u[n_stages - 1], rtol, atol, accepted_in_segment,
                                   last_rejected, exponent, failure)
                last_rejected = True
                continue

            # Accepted.
            n_steps += 1
            for i in range(n_q):
                q_new[i] = q[i]
            if quadratures:
                for j in range(n_stages):
                    b_j = b_coef[j]
                    for i in range(n_q):
                        q_new[i] += b_j * v[j, i]
            t_new = _step_end(t, h, t_stop)
            while next_out < n_out and t_out[next_out] < t_new:
                theta = (t_out[next_out] - t) / h
                _dense_weights(theta, h_dense, n_dense, n_stages, dense_weights)
                _dense_output(theta, dense_weights, n_stages, u, y, y_new, True, out_y, next_out)
                if quadratures:
                    _dense_output(theta, dense_weights, n_stages, v, q, q_new, False, out_q, next_out)
                next_out += 1
            for i in range(n_s):
                y[i] = y_new[i] if y_new[i] > 0.0 else 0.0
            for i in range(n_q):
                q[i] = q_new[i]
            t = t_new

            h, h_accepted, root_err_accepted, accepted_in_segment = _after_acceptance(
                err, h, h_accepted, root_err_accepted, root_err_floor, exponent, accepted_in_segment, last_rejected)
            last_rejected = False
            need_jacobian = True

        _apply_boluses(t_stop, False, bolus_time, bolus_species, bolus_amount, y)
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
def integrate_batch(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                    bolus_time, bolus_species, bolus_amount,
                    source_species, source_amplitude, source_decay, source_start, source_stop,
                    rtol, atol, h_max, max_steps, quadratures, method, order, out_y, out_q, counters, failure, status):
    """Integrate n_c conditions in parallel (prange over conditions, no GIL).

    Per condition: k (n_c, n_r), y0 (n_c, n_s), bolus_amount (n_c, n_b),
    source_amplitude (n_c, n_src); outputs out_y (n_c, n_out, n_s),
    out_q (n_c, n_out, n_r + n_s) (or 0 columns without quadratures), counters (n_c, N_COUNTERS),
    failure (n_c, 3), status (n_c,). ``order`` (n_c,) is a permutation of the conditions: the
    order in which they are run, whose contiguous blocks go to the threads; results land at each
    condition's own index. Everything else is shared, as in :func:`integrate`.
    """
    literally(method)
    for j in prange(k.shape[0]):
        c = order[j]
        status[c] = integrate(k[c], reactant_idx, reactant_coef, net_stoich, y0[c], t0, t_out, stops,
                              bolus_time, bolus_species, bolus_amount[c],
                              source_species, source_amplitude[c], source_decay, source_start, source_stop,
                              rtol, atol, h_max, max_steps, quadratures, method, out_y[c], out_q[c], counters[c],
                              failure[c])


@njit
def integrate_rodas5p(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                     bolus_time, bolus_species, bolus_amount,
                     source_species, source_amplitude, source_decay, source_start, source_stop,
                     rtol, atol, h_max, max_steps, quadratures, out_y, out_q, counters, failure):
    """:func:`integrate` with RODAS5P (same arguments without ``method``)."""
    return integrate(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                     bolus_time, bolus_species, bolus_amount,
                     source_species, source_amplitude, source_decay, source_start, source_stop,
                     rtol, atol, h_max, max_steps, quadratures, RODAS5P, out_y, out_q, counters, failure)


@njit
def integrate_rodas4(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                     bolus_time, bolus_species, bolus_amount,
                     source_species, source_amplitude, source_decay, source_start, source_stop,
                     rtol, atol, h_max, max_steps, quadratures, out_y, out_q, counters, failure):
    """:func:`integrate` with RODAS4 (same arguments without ``method``)."""
    return integrate(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                     bolus_time, bolus_species, bolus_amount,
                     source_species, source_amplitude, source_decay, source_start, source_stop,
                     rtol, atol, h_max, max_steps, quadratures, RODAS4, out_y, out_q, counters, failure)


@njit
def integrate_batch_rodas5p(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                           bolus_time, bolus_species, bolus_amount,
                           source_species, source_amplitude, source_decay, source_start, source_stop,
                           rtol, atol, h_max, max_steps, quadratures, order, out_y, out_q, counters, failure, status):
    """:func:`integrate_batch` with RODAS5P (same arguments without ``method``)."""
    integrate_batch(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                           bolus_time, bolus_species, bolus_amount,
                           source_species, source_amplitude, source_decay, source_start, source_stop,
                           rtol, atol, h_max, max_steps, quadratures, RODAS5P, order, out_y, out_q, counters, failure, status)


@njit
def integrate_batch_rodas4(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                           bolus_time, bolus_species, bolus_amount,
                           source_species, source_amplitude, source_decay, source_start, source_stop,
                           rtol, atol, h_max, max_steps, quadratures, order, out_y, out_q, counters, failure, status):
    """:func:`integrate_batch` with RODAS4 (same arguments without ``method``)."""
    integrate_batch(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                           bolus_time, bolus_species, bolus_amount,
                           source_species, source_amplitude, source_decay, source_start, source_stop,
                           rtol, atol, h_max, max_steps, quadratures, RODAS4, order, out_y, out_q, counters, failure, status)


#: Entry points by solver name (deterministic.ROSENBROCK_SOLVERS), for Python callers.
INTEGRATE = {NAMES[RODAS5P]: integrate_rodas5p, NAMES[RODAS4]: integrate_rodas4}
INTEGRATE_BATCH = {NAMES[RODAS5P]: integrate_batch_rodas5p, NAMES[RODAS4]: integrate_batch_rodas4}
