"""Rodas4, compiled end to end: a stiffly accurate, L-stable Rosenbrock method
of order 4 with an embedded order-3 error estimate and an order-3 continuous
extension (Hairer & Wanner, *Solving Ordinary Differential Equations II*, 2nd
ed. 1996, §IV.7; the coefficients are those of their RODAS code).

Why Rosenbrock: Fenton networks are small (n_s ≲ 100) and very stiff. A
Rosenbrock step needs one Jacobian and one LU factorisation and no Newton
iteration, so there is no convergence failure to manage and the cost per step
is predictable; the analytic Jacobian of mass action is cheap and exact.

State and quadratures
---------------------
The integrated state is the species vector y (n_s,) [M]. Alongside it the
kernel integrates n_q = n_r + n_s quadratures q: q[:n_r] is the cumulative
extent of each reaction, ∫ r_i dt [M], and q[n_r:] the exposure of each
species, ∫ y dt [M s]. They do not feed back into y, so the Jacobian is block
lower-triangular and each stage solves only the n_s × n_s system; q is
advanced with the same stages (and so to the same order) but is not part of
the error test, as with CVODES' quadratures.

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

Status codes are the module constants below; on failure ``failure`` holds
(time reached [s], last step size [s], index of the species that limited the
step, or −1).
"""
from __future__ import annotations

import numpy as np

from .._jit import njit, prange
from .linalg import lu_factor, lu_solve
from .ode import clip_state, reactant_slots, slot_derivatives, slot_jacobian, slot_rates, stoichiometry_csr

SUCCESS = 0
MAX_STEPS_EXCEEDED = 1
STEP_TOO_SMALL = 2

#: counters[...] indices
N_STEPS, N_REJECTED, N_RHS, N_JAC, N_LU = 0, 1, 2, 3, 4
N_COUNTERS = 5
#: failure[...] indices
FAIL_TIME, FAIL_STEP, FAIL_SPECIES = 0, 1, 2

# RODAS (Hairer & Wanner 1996), in their W-transformed form:
# (I/(hγ) − J)·u_i = f(t + c_i h, y + Σ_j a_ij u_j) + Σ_j (c_ij/h)·u_j + h·d_i·∂f/∂t.
GAMMA = 0.25
A = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [1.544, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.9466785280815826, 0.2557011698983284, 0.0, 0.0, 0.0, 0.0],
    [3.314825187068521, 2.896124015972201, 0.9986419139977817, 0.0, 0.0, 0.0],
    [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 0.0, 0.0],
    [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0, 0.0],
])
C = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [-5.6688, 0.0, 0.0, 0.0, 0.0, 0.0],
    [-2.430093356833875, -0.2063599157091915, 0.0, 0.0, 0.0, 0.0],
    [-0.1073529058151375, -9.594562251023355, -20.47028614809616, 0.0, 0.0, 0.0],
    [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160, 0.0, 0.0],
    [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054, 0.0],
])
# Stiffly accurate: the solution is the last stage's argument plus u_6, and u_6 is the error estimate.
B = np.array([1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0, 1.0])
NODES = np.array([0.0, 0.386, 0.21, 0.63, 1.0, 1.0])
D = np.array([0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0])
# Continuous extension: y(t + s·h) = (1−s)·y0 + s·(y1 + (1−s)·(H2·u + s·H3·u)).
H2 = np.array([10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823,
               1.025137723295662, 0.0])
H3 = np.array([-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386,
               -6.594389125716872, 0.0])
N_STAGES = 6
ORDER_EXPONENT = 0.25  # 1/(embedded order + 1)

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
def _derivatives(t, y, x_clipped, k, slots, stoich_t, active, source_species,
                 source_amplitude, source_decay, source_start, rates, dydt):
    """dy/dt [M s⁻¹] into dydt and rates [M s⁻¹] into rates; stoich_t is net_stoichᵀ (n_s, n_r) float."""
    clip_state(y, x_clipped)
    slot_rates(x_clipped, k, slots, rates)
    # A dense mat-vec beats the sparse scatter for Fenton-sized networks: contiguous rows vectorise,
    # while scatter-adds serialise on store-to-load forwarding.
    for a in range(dydt.shape[0]):
        total = 0.0
        for i in range(rates.shape[0]):
            total += stoich_t[a, i] * rates[i]
        dydt[a] = total
    _add_sources(t, active, source_species, source_amplitude, source_decay, source_start, dydt)


@njit(inline='always')
def _weighted_rms(values, reference, other, rtol, atol):
    total = 0.0
    n = values.shape[0]
    for i in range(n):
        scale = atol[i] + rtol * max(abs(reference[i]), abs(other[i]))
        total += (values[i] / scale) ** 2
    return np.sqrt(total / max(n, 1))


@njit
def _initial_step(t, y, f0, x_clipped, k, slots, stoich, active, source_species,
                  source_amplitude, source_decay, source_start, rtol, atol, span, y_probe, f_probe, rates):
    """Hairer–Wanner's starting-step heuristic (explicit Euler probe), capped by the span."""
    d0 = _weighted_rms(y, y, y, rtol, atol)
    d1 = _weighted_rms(f0, y, y, rtol, atol)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6 * span
    else:
        h0 = min(0.01 * d0 / d1, span)
    for i in range(y.shape[0]):
        y_probe[i] = y[i] + h0 * f0[i]
    _derivatives(t + h0, y_probe, x_clipped, k, slots, stoich, active, source_species,
                 source_amplitude, source_decay, source_start, rates, f_probe)
    for i in range(y.shape[0]):
        f_probe[i] -= f0[i]
    d2 = _weighted_rms(f_probe, y, y, rtol, atol) / h0
    largest = max(d1, d2)
    if largest <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / largest) ** ORDER_EXPONENT
    return min(100.0 * h0, h1, span)


@njit(inline='always')
def _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu):
    counters[N_STEPS] = n_steps
    counters[N_REJECTED] = n_rejected
    counters[N_RHS] = n_rhs
    counters[N_JAC] = n_jac
    counters[N_LU] = n_lu


@njit(inline='always')
def _largest_error_species(u, y, y_new, rtol, atol):
    """Index of the largest error ratio of the last attempted step (non-finite counts as largest)."""
    best = -1
    largest = -1.0
    for i in range(y.shape[0]):
        scale = atol[i] + rtol * max(abs(y[i]), abs(y_new[i]))
        ratio = abs(u[N_STAGES - 1, i]) / scale
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


@njit
def integrate(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
              bolus_time, bolus_species, bolus_amount,
              source_species, source_amplitude, source_decay, source_start, source_stop,
              rtol, atol, h_max, max_steps, quadratures, out_y, out_q, counters, failure):
    """Integrate one trajectory from t0 to t_out[-1]; return a status code.

    Shapes and units: k (n_r,) [M^(1−order) s⁻¹]; y0 (n_s,) [M]; t_out (n_out,) [s],
    ascending, ≥ t0; stops (n_stop,) [s]; bolus_* (n_b,); source_* (n_src,);
    rtol scalar; atol (n_s,) [M]; h_max [s] (inf for none); max_steps (attempted
    steps, accepted + rejected); quadratures (bool): integrate extents and
    exposures (False leaves out_q at 0 and saves about a quarter of the work). Outputs (filled in place): out_y (n_out, n_s) [M];
    out_q (n_out, n_r + n_s) — extents [M] then exposures [M s]; counters
    (N_COUNTERS,) int64; failure (3,) float64.
    """
    n_r = k.shape[0]
    n_s = y0.shape[0]
    n_q = n_r + n_s
    n_out = t_out.shape[0]
    n_src = source_species.shape[0]
    stoich_t = np.ascontiguousarray(net_stoich.T).astype(np.float64)
    stoich = stoichiometry_csr(net_stoich)
    slots = reactant_slots(reactant_idx, reactant_coef, n_s)
    x_clipped = np.ones(n_s + 1)

    y = y0.copy()
    q = np.zeros(n_q)
    y_new = np.empty(n_s)
    q_new = np.empty(n_q)
    y_stage = np.empty(n_s)
    f0 = np.empty(n_s)
    f_stage = np.empty(n_s)
    ft = np.empty(n_s)
    b_s = np.empty(n_s)
    rates0 = np.empty(n_r)
    rates = np.empty(n_r)
    drdx = np.empty((n_r, 3))
    jac = np.empty((n_s, n_s))
    lu = np.empty((n_s, n_s))
    pivots = np.empty(n_s, dtype=np.int64)
    c_over_h = np.empty((N_STAGES, N_STAGES))
    u = np.empty((N_STAGES, n_s))
    v = np.empty((N_STAGES, n_q))
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
    for b in range(bolus_time.shape[0]):
        if bolus_time[b] <= t0:
            apply_bolus(y, bolus_species[b], bolus_amount[b])
    next_out = 0
    while next_out < n_out and t_out[next_out] <= t0:
        for i in range(n_s):
            out_y[next_out, i] = y[i]
        for i in range(n_q):
            out_q[next_out, i] = 0.0
        next_out += 1

    for s in range(stops.shape[0]):
        t_stop = stops[s]
        if t_stop <= t:
            continue
        for j in range(n_src):
            active[j] = source_start[j] <= t and t < source_stop[j]
        _derivatives(t, y, x_clipped, k, slots, stoich_t, active, source_species,
                     source_amplitude, source_decay, source_start, rates0, f0)
        n_rhs += 2
        h = _initial_step(t, y, f0, x_clipped, k, slots, stoich_t, active, source_species,
                          source_amplitude, source_decay, source_start, rtol, atol, min(t_stop - t, h_max),
                          y_stage, f_stage, rates)
        need_jacobian = True
        accepted_in_segment = 0
        last_rejected = False
        h_accepted = 0.0
        err_accepted = 0.0
        while t < t_stop:
            if n_steps + n_rejected >= max_steps:
                failure[FAIL_TIME] = t
                failure[FAIL_STEP] = h
                if failure[FAIL_SPECIES] < 0:
                    failure[FAIL_SPECIES] = _stiffest_species(jac, y)
                _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
                return MAX_STEPS_EXCEEDED
            h = min(h, h_max)
            if t + 1.0001 * h >= t_stop:
                h = t_stop - t
            if h <= 16.0 * EPS * abs(t) or h <= 0.0:
                failure[FAIL_TIME] = t
                failure[FAIL_STEP] = h
                if n_steps + n_rejected > 0:
                    failure[FAIL_SPECIES] = _largest_error_species(u, y, y_new, rtol, atol)
                _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
                return STEP_TOO_SMALL
            if need_jacobian:
                _derivatives(t, y, x_clipped, k, slots, stoich_t, active, source_species,
                             source_amplitude, source_decay, source_start, rates0, f0)
                slot_derivatives(x_clipped, k, slots, drdx)
                slot_jacobian(drdx, slots, stoich[0], stoich[1], stoich[2], jac)
                _source_time_derivative(t, active, source_species, source_amplitude, source_decay, source_start, ft)
                n_rhs += 1
                n_jac += 1
                need_jacobian = False

            inverse_hgamma = 1.0 / (h * GAMMA)
            inverse_h = 1.0 / h
            for a in range(N_STAGES):
                for b in range(a):
                    c_over_h[a, b] = C[a, b] * inverse_h  # divisions in the stage loops cost more than the rest
            for a in range(n_s):
                for b in range(n_s):
                    lu[a, b] = -jac[a, b]
                lu[a, a] += inverse_hgamma
            n_lu += 1
            if not lu_factor(lu, pivots):
                n_rejected += 1
                failure[FAIL_SPECIES] = _stiffest_species(jac, y)
                last_rejected = True
                h *= 0.5
                continue

            finite = True
            hgamma = h * GAMMA
            # Loops run stage-outer, component-inner: contiguous rows that LLVM vectorises.
            for stage in range(N_STAGES):
                if stage == 0:
                    for i in range(n_s):
                        y_stage[i] = y[i]
                        f_stage[i] = f0[i]
                    for i in range(n_r):
                        rates[i] = rates0[i]
                else:
                    for i in range(n_s):
                        y_stage[i] = y[i]
                    for j in range(stage):
                        a_sj = A[stage, j]
                        for i in range(n_s):
                            y_stage[i] += a_sj * u[j, i]
                    _derivatives(t + NODES[stage] * h, y_stage, x_clipped, k, slots, stoich_t,
                                 active, source_species, source_amplitude, source_decay, source_start,
                                 rates, f_stage)
                    n_rhs += 1
                hd = h * D[stage]
                for i in range(n_s):
                    b_s[i] = f_stage[i] + hd * ft[i]
                for j in range(stage):
                    c_sj = c_over_h[stage, j]
                    for i in range(n_s):
                        b_s[i] += c_sj * u[j, i]
                lu_solve(lu, pivots, b_s)
                for i in range(n_s):
                    u[stage, i] = b_s[i]
                    if not np.isfinite(b_s[i]):
                        finite = False
                # Quadratures: v = hγ·(g(y_stage) + ∂g/∂y·u_stage + Σ c_ij/h·v_j), g = (rates, y).
                if not quadratures:
                    continue
                for r in range(n_r):
                    value = rates[r]
                    for slot in range(3):
                        sp = slots[r, slot]
                        if sp < n_s:
                            value += drdx[r, slot] * u[stage, sp]
                    v[stage, r] = value
                for i in range(n_s):
                    v[stage, n_r + i] = y_stage[i] + u[stage, i]
                for j in range(stage):
                    c_sj = c_over_h[stage, j]
                    for i in range(n_q):
                        v[stage, i] += c_sj * v[j, i]
                for i in range(n_q):
                    v[stage, i] *= hgamma

            for i in range(n_s):
                y_new[i] = y[i]
            for j in range(N_STAGES):
                b_j = B[j]
                for i in range(n_s):
                    y_new[i] += b_j * u[j, i]
            for i in range(n_s):
                if not np.isfinite(y_new[i]):
                    finite = False
            err = _weighted_rms(u[N_STAGES - 1], y, y_new, rtol, atol) if finite else np.inf

            limiting = -1
            if err <= 1.0:
                for i in range(n_s):
                    if y_new[i] < -atol[i]:
                        limiting = i
                        break
            if err > 1.0 or limiting >= 0:
                n_rejected += 1
                if limiting < 0:
                    limiting = _largest_error_species(u, y, y_new, rtol, atol)
                failure[FAIL_SPECIES] = limiting
                if not np.isfinite(err) or err > 1.0 and accepted_in_segment == 0 and not last_rejected:
                    factor = 0.1 if np.isfinite(err) else 0.25
                elif err > 1.0:
                    factor = max(SHRINK_MIN, SAFETY * err ** -ORDER_EXPONENT)
                else:
                    factor = 0.5  # a negative concentration beyond atol: retry with a smaller step
                h *= factor
                last_rejected = True
                continue

            # Accepted.
            n_steps += 1
            for i in range(n_q):
                q_new[i] = q[i]
            if quadratures:
                for j in range(N_STAGES):
                    b_j = B[j]
                    for i in range(n_q):
                        q_new[i] += b_j * v[j, i]
            t_new = t + h
            if t_stop - t_new <= 16.0 * EPS * abs(t_stop):
                t_new = t_stop
            while next_out < n_out and t_out[next_out] < t_new:
                theta = (t_out[next_out] - t) / h
                for i in range(n_s):
                    h2 = 0.0
                    h3 = 0.0
                    for j in range(N_STAGES - 1):
                        h2 += H2[j] * u[j, i]
                        h3 += H3[j] * u[j, i]
                    value = (1.0 - theta) * y[i] + theta * (y_new[i] + (1.0 - theta) * (h2 + theta * h3))
                    out_y[next_out, i] = value if value > 0.0 else 0.0
                for i in range(n_q):
                    h2 = 0.0
                    h3 = 0.0
                    if not quadratures:
                        break
                    for j in range(N_STAGES - 1):
                        h2 += H2[j] * v[j, i]
                        h3 += H3[j] * v[j, i]
                    out_q[next_out, i] = (1.0 - theta) * q[i] + theta * (q_new[i] + (1.0 - theta) * (h2 + theta * h3))
                next_out += 1
            for i in range(n_s):
                y[i] = y_new[i] if y_new[i] > 0.0 else 0.0
            for i in range(n_q):
                q[i] = q_new[i]
            t = t_new

            factor = min(GROWTH_MAX, max(SHRINK_MIN, SAFETY * max(err, 1e-10) ** -ORDER_EXPONENT))
            if accepted_in_segment > 0:
                # Gustafsson's predictive controller (as in RODAS): damps step-size oscillation.
                predictive = (h / h_accepted) * SAFETY * (err_accepted / max(err, 1e-10) ** 2) ** ORDER_EXPONENT
                factor = min(factor, min(GROWTH_MAX, max(SHRINK_MIN, predictive)))
            h_accepted = h
            err_accepted = max(1e-2, err)
            if last_rejected:
                factor = min(factor, 1.0)
            accepted_in_segment += 1
            last_rejected = False
            h *= factor
            need_jacobian = True

        for b in range(bolus_time.shape[0]):
            if bolus_time[b] == t_stop:
                apply_bolus(y, bolus_species[b], bolus_amount[b])
        while next_out < n_out and t_out[next_out] <= t_stop:
            for i in range(n_s):
                out_y[next_out, i] = y[i]
            for i in range(n_q):
                out_q[next_out, i] = q[i]
            next_out += 1
    _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
    return SUCCESS


@njit(parallel=True)
def integrate_batch(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                    bolus_time, bolus_species, bolus_amount,
                    source_species, source_amplitude, source_decay, source_start, source_stop,
                    rtol, atol, h_max, max_steps, quadratures, out_y, out_q, counters, failure, status):
    """Integrate n_c conditions in parallel (prange over conditions, no GIL).

    Per condition: k (n_c, n_r), y0 (n_c, n_s), bolus_amount (n_c, n_b),
    source_amplitude (n_c, n_src); outputs out_y (n_c, n_out, n_s),
    out_q (n_c, n_out, n_r + n_s), counters (n_c, N_COUNTERS), failure (n_c, 3),
    status (n_c,). Everything else is shared, as in :func:`integrate`.
    """
    for c in prange(k.shape[0]):
        status[c] = integrate(k[c], reactant_idx, reactant_coef, net_stoich, y0[c], t0, t_out, stops,
                              bolus_time, bolus_species, bolus_amount[c],
                              source_species, source_amplitude[c], source_decay, source_start, source_stop,
                              rtol, atol, h_max, max_steps, quadratures, out_y[c], out_q[c], counters[c],
                              failure[c])
