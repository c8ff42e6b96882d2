"""Forward sensitivities integrated with the Rosenbrock methods of kernels/rosenbrock.py (RODAS5P,
RODAS4), compiled end to end: the state y and its sensitivities S_j = ∂y/∂θ_j advance together, one
step of the *augmented* system z = (y, S_1, …, S_p) at a time (a simultaneous corrector in the sense
of Caracotsios & Stewart 1985 and Maly & Petzold 1996; CVODES' "simultaneous" option).

Equations
---------
Mass action in the rate-group form of kernels/rosenbrock.py: f(y) = W·ρ(y), ρ_g = x[s_g0]·x[s_g1]·x[s_g2]
(x = max(y, 0), a padding slot holding 1). The sensitivities obey

    S_j' = J(y)·S_j + ∂f/∂θ_j,     ∂f/∂θ_j = Σ_g F_j[:, g]·ρ_g(y),

with the forcing F given as sparse entries (parameter, reaction, coefficient c): reaction i adds
c·ν_i·ρ_i(y) to ∂f/∂θ_j. For θ_j = ln k_i, c = k_i (so a reaction with k = 0 has zero sensitivity);
for θ = pH or T, c = ∂k_i/∂θ; for an initial concentration there is no forcing and S_j(0) = e_a
(``s0`` carries any initial sensitivities).

The augmented Jacobian is block lower-triangular,

    J_z = [[J, 0, …], [M_1, J, 0, …], [M_2, 0, J, …], …],   M_j = ∂(J(y)·S_j + ∂f/∂θ_j)/∂y,

so (I/(hγ) − J_z) needs only the state's LU factorisation, and each stage is solved by block
forward substitution: first the state increment u_i as in kernels/rosenbrock.py, then every
sensitivity increment from

    (I/(hγ) − J)·w_ij = J(Y_i)·S_ij + ∂f/∂θ_j(Y_i) + M_j·u_i + Σ_k (c_ik/h)·w_kj,

Y_i = y + Σ a_ik·u_k, S_ij = S_j + Σ a_ik·w_kj. M_j·u_i = H(y)[S_j, u_i] + ∂²f/∂θ_j∂y·u_i is exact for
mass action: the second derivatives of ρ_g = x0·x1·x2 are products of one factor, so
H(y)[S, u] = W·(S_0(u_1x_2 + x_1u_2) + S_1(u_0x_2 + x_0u_2) + S_2(u_0x_1 + x_0u_1)) per group. With
the exact augmented Jacobian the step is the Rosenbrock method applied to the augmented system, so
it keeps RODAS5P's order 5 (Rodas is not a W-method: an approximate M_j would lower the order); it is
also exactly the derivative of the state's Rosenbrock step with respect to θ for the same step
sizes ("internal differentiation"), so the sensitivities are those of the discrete solution too.

How a stage is computed
-----------------------
Per stage, everything that does not grow with p is formed once: J(Y_i) and K_i = DJ(y)[u_i] (so that
M_j·u_i = K_i·S_j + ∂²f/∂θ_j∂y·u_i, the last term joining the forcing as ρ_g(Y_i) + Dρ_g(y)[u_i]) as
values on the state Jacobian's sparse structure (kernels/ode.py ``jacobian_structure``: the slot
derivatives of each group at Y_i and their derivatives along u_i, gathered in one flat pass), and once
per step the explicit inverse (I/(hγ) − J)⁻¹ from the state's LU. The p columns then cost only row
operations over contiguous parameter rows: S_i and Σ c/h·w as flat loops over (species, parameter), the
sparse products J(Y_i)·S_i + K_i·S two Jacobian entries (four terms) per loop, the forcing as a scatter,
and w_i = (I/(hγ) − J)⁻¹·rhs four inverse columns per loop. The parameter columns are padded to a
multiple of four (zero columns without forcing) and the method is a compile-time constant, as in
kernels/rosenbrock.py (:data:`INTEGRATE`). Iron at "tme" (8 live species, 19 rate groups, 45 Jacobian
entries, 30 live parameters): ~9 µs per step against 1.2 µs for the state alone; before this layout (a
group-wise W·t product and a triangular solve per stage, method read at run time) ~18 µs.

Sources depend on t but not on y or θ: they enter the state stages only. A bolus that adds an
amount changes y but not S; an assignment (a bolus code −1 − a) sets y_a, so S_a becomes 0.

Error control
-------------
``sens_error=True`` (the default of fentonsim.sensitivity): a step is accepted when the state's error
norm and every sensitivity's norm (each RMS over the network's species, weights atol_a + rtol·|S_aj|)
are ≤ 1, as CVODES does with sensitivity error control on; the sensitivities are then accurate to the
tolerance in their own right. S_j carries the units of y when θ is a logarithm (ln k: [M]), so the
state's atol applies as it is; other parameters are scaled by the caller (fentonsim.sensitivity scales
initial-concentration columns so that they are in M too). ``sens_error=False`` controls the state
only: cheaper, and the sensitivities are then as accurate as the steps the state needs.

Quadratures
-----------
With ``quadratures`` the kernel also integrates q_g = ∫ ρ_g dt per rate group and Q_gj = ∂q_g/∂θ_j =
∫ Dρ_g(y)[S_j] dt, as further block rows of the same augmented system (their Jacobian rows: Dρ on y;
D²ρ[S_j, ·] on y and Dρ on S_j), so they have the method's order; like the state kernel's quadratures
they are not part of the error test. The extent of reaction i is k_i·q_g(i) and its sensitivity
(∂k_i/∂θ_j)·q_g(i) + k_i·Q_g(i)j (formed by the caller).

Live subsystem
--------------
As in kernels/rosenbrock.py, species that stay exactly 0 are left out; a species with a non-zero row in
``s0`` counts as seeded (perturbing its initial value makes it live). A forcing entry on a reaction
that is not live contributes nothing: either its reactants stay 0 or k = 0 — the caller must not ask
for a non-zero coefficient on a k = 0 reaction with live reactants (fentonsim.sensitivity refuses it).

Shapes: forcing_param, forcing_reaction (n_f,) int64, forcing_coef (n_f,) float; s0 (n_s, p);
out_y (n_out, n_s); out_s (n_out, n_s, p). The method (tableaus.RODAS4/RODAS5P) is a compile-time
constant: Python calls :data:`INTEGRATE` (or :func:`integrate_sensitivities`, which dispatches there).
"""
from __future__ import annotations

import numpy as np

from .._jit import literally, njit
from .linalg import lu_factor
from .ode import jacobian_structure
from .tableaus import NAMES, RODAS4, RODAS5P
from .rosenbrock import (FAIL_SPECIES, FAIL_STEP, FAIL_TIME, MAX_STEPS_EXCEEDED, STEP_TOO_SMALL, SUCCESS,
                         _advance, _after_acceptance, _apply_boluses, _bolus_due, _dense_output,
                         _dense_weights, _limit_step, _live_network, _method_constants, _negative_species,
                         _rates_and_jacobian, _record_failure, _retry_factor, _segment_start, _step_end,
                         _step_matrix, _stiffest_species, _store_counters)

#: The live parameter columns are padded with zero columns to a multiple of this (whole vector loops).
PAD = 4
__all__ = ("integrate_sensitivities", "INTEGRATE", "SUCCESS", "MAX_STEPS_EXCEEDED", "STEP_TOO_SMALL")


@njit(inline='always')
def _nonzeros(matrix):
    """(rows, columns, values) of the non-zero entries of a 2-D matrix, row by row."""
    count = 0
    for a in range(matrix.shape[0]):
        for b in range(matrix.shape[1]):
            if matrix[a, b] != 0.0:
                count += 1
    rows = np.empty(count, dtype=np.int64)
    columns = np.empty(count, dtype=np.int64)
    values = np.empty(count)
    count = 0
    for a in range(matrix.shape[0]):
        for b in range(matrix.shape[1]):
            if matrix[a, b] != 0.0:
                rows[count] = a
                columns[count] = b
                values[count] = matrix[a, b]
                count += 1
    return rows, columns, values


@njit
def _integrate_sensitivities(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                            bolus_time, bolus_species, bolus_amount,
                            source_species, source_amplitude, source_decay, source_start, source_stop,
                            forcing_param, forcing_reaction, forcing_coef, s0,
                            rtol, atol, h_max, max_steps, method, sens_error, quadratures,
                            out_y, out_s, out_q, out_qs, counters, failure):
    """Integrate y and its sensitivities from t0 through t_out[-1]; return a status code.

    Arguments as kernels/rosenbrock.py ``integrate`` (k (n_r,), y0 (n_s,), t_out, stops, boluses,
    sources, rtol, atol (n_s,), h_max, max_steps, counters, failure) plus the forcing entries and s0 of
    the module docstring, ``method`` (tableaus index, a compile-time constant: Python calls
    :data:`INTEGRATE`), ``sens_error`` (bool) and
    ``quadratures`` (bool: also integrate ∫ Π x dt of every reaction and its sensitivities, see
    "Quadratures"). Outputs: out_y (n_out, n_s) [M], out_s (n_out, n_s, p), and with quadratures
    out_q (n_out, n_r) ∫ Π x dt [M^order s] (the extent is k·out_q) and out_qs (n_out, n_r, p) its
    derivatives (without quadratures they may have 0 columns and are left untouched).
    """
    literally(method)
    n_s = y0.shape[0]
    n_r = k.shape[0]
    n_p = s0.shape[1]
    seeded = y0 > 0.0
    for a in range(n_s):
        for j in range(n_p):
            if s0[a, j] != 0.0:
                seeded[a] = True
    species_index, group_of, group_slots, weights, y0_live, atol_live, bolus_live, source_live = _live_network(
        k, reactant_idx, reactant_coef, net_stoich, seeded, y0, atol, bolus_species, source_species)
    n_sl = species_index.shape[0]
    n_g = group_slots.shape[0]
    # Forcing in the live numbering: (parameter, group, species, coefficient·ν), merged per triple.
    n_f = forcing_param.shape[0]
    dense_forcing = np.zeros((n_p, n_g, n_sl))
    for e in range(n_f):
        g = group_of[forcing_reaction[e]]
        if g < 0:
            continue
        for a in range(n_sl):
            dense_forcing[forcing_param[e], g, a] += forcing_coef[e] * net_stoich[forcing_reaction[e],
                                                                                  species_index[a]]
    pairs, f_species, f_value = _nonzeros(dense_forcing.reshape(n_p * n_g, n_sl))
    count = f_value.shape[0]
    f_param = np.empty(count, dtype=np.int64)
    f_group = np.empty(count, dtype=np.int64)
    for e in range(count):
        f_param[e] = pairs[e] // n_g
        f_group[e] = pairs[e] % n_g
    # A parameter with no forcing in the live subsystem and S(0) = 0 has S ≡ 0 (a linear homogeneous
    # equation): such columns (k = 0, reactions that cannot run) are left out and reported as 0.
    column = np.full(n_p, -1, dtype=np.int64)
    for e in range(count):
        column[f_param[e]] = 0
    for a in range(n_sl):
        for j in range(n_p):
            if s0[species_index[a], j] != 0.0:
                column[j] = 0
    n_pl = 0
    for j in range(n_p):
        if column[j] == 0:
            column[j] = n_pl
            n_pl += 1
    for e in range(count):
        f_param[e] = column[f_param[e]]
    n_pad = (n_pl + PAD - 1) // PAD * PAD
    s0_live = np.zeros((n_sl + 1, n_pad))
    for a in range(n_sl):
        for j in range(n_p):
            if column[j] >= 0:
                s0_live[a, column[j]] = s0[species_index[a], j]
    n_out = t_out.shape[0]
    out_y_live = np.zeros((n_out, n_sl))
    out_s_live = np.zeros((n_out, n_sl, n_pad))
    out_q_live = np.zeros((n_out, n_g if quadratures else 0))
    out_qs_live = np.zeros((n_out, n_g if quadratures else 0, n_pad))
    status = _integrate_live(group_slots, weights, f_param, f_group, f_species, f_value, y0_live, s0_live,
                             t0, t_out, stops, bolus_time, bolus_live, bolus_amount,
                             source_live, source_amplitude, source_decay, source_start, source_stop,
                             rtol, atol_live, float(n_s), h_max, max_steps, method, sens_error, quadratures,
                             out_y_live, out_s_live, out_q_live, out_qs_live, counters, failure)
    if failure[FAIL_SPECIES] >= 0:
        failure[FAIL_SPECIES] = species_index[int(failure[FAIL_SPECIES])]
    for row in range(n_out):
        for a in range(n_s):
            out_y[row, a] = 0.0
            for j in range(n_p):
                out_s[row, a, j] = 0.0
        for a in range(n_sl):
            out_y[row, species_index[a]] = out_y_live[row, a]
            for j in range(n_p):
                if column[j] >= 0:
                    out_s[row, species_index[a], j] = out_s_live[row, a, column[j]]
        if not quadratures:
            continue
        for i in range(n_r):
            g = group_of[i]
            out_q[row, i] = out_q_live[row, g] if g >= 0 else 0.0
            for j in range(n_p):
                out_qs[row, i, j] = out_qs_live[row, g, column[j]] if g >= 0 and column[j] >= 0 else 0.0
    return status


@njit(inline='always')
def _dense_columns(theta, dense_weights, n_stages, stages, before, after, out, row):
    """rosenbrock._dense_output for a matrix going from ``before`` to ``after`` (n, p; ``before`` may
    have further rows, such as sens's padding row) with increments ``stages`` (n_stages, ≥ n, p):
    out[row] = the continuous extension at θ, unclipped."""
    for i in range(after.shape[0]):
        for j in range(after.shape[1]):
            total = 0.0
            for m in range(n_stages):
                total += dense_weights[m] * stages[m, i, j]
            out[row, i, j] = (1.0 - theta) * before[i, j] + theta * (after[i, j] + (1.0 - theta) * total)


@njit(inline='always')
def _clear_assigned(t, first, bolus_time, bolus_species, sens):
    """S_a = 0 for every species a that a bolus due at t assigns (an amount set does not depend on θ)."""
    for b in range(bolus_time.shape[0]):
        if bolus_species[b] < 0 and _bolus_due(bolus_time, b, t, first):
            for j in range(sens.shape[1]):
                sens[-1 - bolus_species[b], j] = 0.0


@njit(fastmath={'contract'})  # fused multiply-adds: the column loops are most of the work (~6 % per step)
def _integrate_live(slots, weights, f_param, f_group, f_species, f_value, y0, s0, t0, t_out, stops,
                    bolus_time, bolus_species, bolus_amount,
                    source_species, source_amplitude, source_decay, source_start, source_stop,
                    rtol, atol, n_norm, h_max, max_steps, method, sens_error, quadratures,
                    out_y, out_s, out_q, out_qs, counters, failure):
    """The augmented Rosenbrock integration on the live subsystem (n_s live species, n_g groups).

    s0 (n_s + 1, p): initial sensitivities with a zero padding row (the padding slot's S); out_s
    (n_out, n_s, p); with ``quadratures``, out_q (n_out, n_g) ∫ ρ_g dt and out_qs (n_out, n_g, p) their
    sensitivities. The state part is kernels/rosenbrock.py's ``_integrate_live``.
    """
    n_g = slots.shape[0]
    n_s = y0.shape[0]
    n_p = s0.shape[1]
    n_out = t_out.shape[0]
    n_src = source_species.shape[0]
    x_clipped = np.ones(n_s + 1)
    x_start = np.ones(n_s + 1)  # max(y, 0) at the step's start (the Jacobian's point), padding 1

    y = y0.copy()
    y_new = np.empty(n_s)
    y_stage = np.empty(n_s)
    f0 = np.empty(n_s)
    f_probe = np.empty(n_s)
    ft = np.zeros(n_s)
    rates0 = np.empty(n_g)
    rates = np.empty(n_g)
    drdx = np.empty(3 * n_g)
    jac = np.zeros((n_s, n_s))
    jac_flat = jac.reshape(n_s * n_s)
    jac_position, jac_start, jac_source, jac_coefficient = jacobian_structure(weights, slots)
    lu = np.empty((n_s, n_s))
    pivots = np.empty(n_s, dtype=np.int64)
    n_fe = f_param.shape[0]
    f_flat = f_species * n_p + f_param  # the forcing entries' positions in the flat right-hand side

    (n_stages, n_dense, gamma, exponent, root_err_floor, a_coef, b_coef, c_coef, d_coef, nodes,
     h_dense) = _method_constants(method)
    c_over_h = np.empty((n_stages, n_stages))
    dense_weights = np.empty(n_stages)
    u = np.empty((n_stages, n_s))
    u_pad = np.zeros(n_s + 1)  # the current stage's state increment, padding 0
    # Sensitivities: rows are species (a padding row of zeros last), columns parameters, so the
    # inner loops run over parameters, contiguous.
    sens = s0.copy()
    sens_new = np.empty((n_s, n_p))
    sens_new_flat = sens_new.reshape(n_s * n_p)
    sens_stage = np.zeros((n_s + 1, n_p))
    w = np.zeros((n_stages, n_s + 1, n_p))  # a padding row of zeros (the padding slot's increment)
    n_gq = n_g if quadratures else 0
    quad = np.zeros(n_gq)
    quad_new = np.empty(n_gq)
    quad_s = np.zeros((n_gq, n_p))
    quad_s_new = np.empty((n_gq, n_p))
    v = np.empty((n_stages, n_gq))
    vs = np.empty((n_stages, n_gq, n_p))
    t_group = np.empty((n_g if quadratures else 0, n_p))
    phi = np.empty(n_g)
    dstage = np.empty(3 * n_g)
    dsecond = np.empty(3 * n_g)
    n_entries = jac_position.shape[0]
    jac_row = jac_position // n_s
    jac_column = jac_position % n_s
    n_terms = jac_source.shape[0]
    term_entry = np.empty(n_terms, dtype=np.int64)
    term_last = np.zeros(n_terms, dtype=np.bool_)
    for e in range(n_entries):
        for q in range(jac_start[e], jac_start[e + 1]):
            term_entry[q] = e
        term_last[jac_start[e + 1] - 1] = True
    jac_stage = np.zeros(n_entries + 1)  # a last 0: the dummy entry of the pairs below
    jac_second = np.zeros(n_entries + 1)
    n_sp = n_s * n_p
    # The inverse and the right-hand sides padded to a multiple of 4 species with zeros.
    n_s4 = (n_s + 3) // 4 * 4
    inverse = np.zeros((n_s, n_s4))
    rhs = np.zeros((n_s4, n_p))
    rhs_flat = rhs.reshape(n_s4 * n_p)
    # The Jacobian's entries paired within each row (CSR order): entry n_entries is a dummy (0 on the
    # padding row).
    n_pairs = 0
    for a in range(n_s):
        count = 0
        for e in range(n_entries):
            if jac_row[e] == a:
                count += 1
        n_pairs += (count + 1) // 2
    pair_row = np.empty(n_pairs, dtype=np.int64)
    pair_entry = np.full(2 * n_pairs, n_entries, dtype=np.int64)
    pair_column = np.full(2 * n_pairs, n_s, dtype=np.int64)
    slot = 0
    for a in range(n_s):
        for e in range(n_entries):
            if jac_row[e] == a:
                pair_entry[slot] = e
                pair_column[slot] = jac_column[e]
                pair_row[slot // 2] = a
                slot += 1
        slot += slot % 2
    sens_flat = sens.reshape((n_s + 1) * n_p)
    sens_stage_flat = sens_stage.reshape((n_s + 1) * n_p)
    w_flat = w.reshape((n_stages, (n_s + 1) * n_p))
    err_sens = np.empty(n_p)
    active = np.zeros(n_src, dtype=np.bool_)
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
    _clear_assigned(t, True, bolus_time, bolus_species, sens)
    next_out = 0
    while next_out < n_out and t_out[next_out] <= t0:
        for i in range(n_s):
            out_y[next_out, i] = y[i]
            for j in range(n_p):
                out_s[next_out, i, j] = sens[i, j]
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
                # The state's block, at x_start: the stages keep max(y, 0) of the step's start for the
                # sensitivities' second derivatives.
                _rates_and_jacobian(t, y, x_start, slots, weights, jac_position, jac_start, jac_source,
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
            # (I/(hγ) − J)⁻¹ explicitly, once per step: each sensitivity stage is then one product whose loops
            # over the parameters take four rows at a time ("How a stage is computed" in the module docstring).
            # Solved for all unit vectors at once: row operations on the identity (vectorised over columns).
            for row in range(n_s):
                for c in range(n_s4):
                    inverse[row, c] = 0.0
                inverse[row, row] = 1.0
            for row in range(n_s):
                q = pivots[row]
                if q != row:
                    for c in range(n_s4):
                        swap = inverse[row, c]
                        inverse[row, c] = inverse[q, c]
                        inverse[q, c] = swap
            for row in range(n_s):
                for m in range(row):
                    factor = lu[row, m]
                    if factor != 0.0:
                        for c in range(n_s4):
                            inverse[row, c] -= factor * inverse[m, c]
            for row in range(n_s - 1, -1, -1):
                for m in range(row + 1, n_s):
                    factor = lu[row, m]
                    if factor != 0.0:
                        for c in range(n_s4):
                            inverse[row, c] -= factor * inverse[m, c]
                diagonal = lu[row, row]
                for c in range(n_s4):
                    inverse[row, c] *= diagonal

            for stage in range(n_stages):
                # ---- the state stage, as in kernels/rosenbrock.py
                if stage == 0:
                    for i in range(n_s):
                        y_stage[i] = y[i]
                        u[0, i] = f0[i]
                        x_clipped[i] = x_start[i]
                    for r in range(n_g):
                        rates[r] = rates0[r]
                else:
                    for i in range(n_s):
                        value = y[i]
                        for j in range(stage):
                            value += a_coef[stage, j] * u[j, i]
                        y_stage[i] = value
                        x_clipped[i] = value if value > 0.0 else 0.0
                    for r in range(n_g):
                        rates[r] = x_clipped[slots[r, 0]] * x_clipped[slots[r, 1]] * x_clipped[slots[r, 2]]
                    for a in range(n_s):
                        total = 0.0
                        for r in range(n_g):
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
                for row in range(n_s):
                    q = pivots[row]
                    if q != row:
                        swap = u[stage, row]
                        u[stage, row] = u[stage, q]
                        u[stage, q] = swap
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
                if n_p == 0 and not quadratures:
                    continue

                # ---- the sensitivity stages: one block row of the augmented system per parameter
                for i in range(n_s):
                    u_pad[i] = u[stage, i]
                # S at the stage point, S_i = S + Σ_m a_im·w_m, updated from S_(i−1) by the differences of
                # the tableau's rows (the last stages of both methods differ from the one before by one
                # term), and the carried Σ_m c_im/h·w_m, over the flat (species, parameter) rows: one long
                # loop per earlier stage (vectorised).
                for e in range(n_sp):
                    rhs_flat[e] = 0.0
                if stage == 0:
                    for e in range(n_sp):
                        sens_stage_flat[e] = sens_flat[e]
                for m in range(stage):
                    a_m = a_coef[stage, m] - a_coef[stage - 1, m]
                    c_m = c_over_h[stage, m]
                    w_m = w_flat[m]
                    if a_m != 0.0:
                        for e in range(n_sp):
                            earlier = w_m[e]
                            sens_stage_flat[e] += a_m * earlier
                            rhs_flat[e] += c_m * earlier
                    else:
                        for e in range(n_sp):
                            rhs_flat[e] += c_m * w_m[e]
                # Per group: the slot derivatives of ρ_g at Y (dstage) and the second-derivative terms
                # D(∂ρ_g/∂slot)(y)[u] (dsecond), and φ_g = ρ_g(Y) + Dρ_g(y)[u].
                for g in range(n_g):
                    s_0 = slots[g, 0]
                    s_1 = slots[g, 1]
                    s_2 = slots[g, 2]
                    xs0 = x_clipped[s_0]
                    xs1 = x_clipped[s_1]
                    xs2 = x_clipped[s_2]
                    x0 = x_start[s_0]
                    x1 = x_start[s_1]
                    x2 = x_start[s_2]
                    v0 = u_pad[s_0]
                    v1 = u_pad[s_1]
                    v2 = u_pad[s_2]
                    dstage[3 * g] = xs1 * xs2
                    dstage[3 * g + 1] = xs0 * xs2
                    dstage[3 * g + 2] = xs0 * xs1
                    dsecond[3 * g] = v1 * x2 + x1 * v2
                    dsecond[3 * g + 1] = v0 * x2 + x0 * v2
                    dsecond[3 * g + 2] = v0 * x1 + x0 * v1
                    phi[g] = rates[g] + drdx[3 * g] * v0 + drdx[3 * g + 1] * v1 + drdx[3 * g + 2] * v2
                # J(Y_i) and K_i = D J(y)[u_i] on the Jacobian's structure (gathered, as the state's J):
                # M_j·u_i = K_i·S_j + ∂²f/∂θ_j∂y·u_i, so the right-hand side is J(Y_i)·S_i + K_i·S + forcing.
                # One flat pass over the terms (entry by entry, each entry stored after every term and the sums
                # restarted after its last): no short inner loops of varying length, no branches.
                total_j = 0.0
                total_k = 0.0
                for q in range(n_terms):
                    coefficient = jac_coefficient[q]
                    total_j += coefficient * dstage[jac_source[q]]
                    total_k += coefficient * dsecond[jac_source[q]]
                    e = term_entry[q]
                    jac_stage[e] = total_j
                    jac_second[e] = total_k
                    last = term_last[q]
                    total_j = 0.0 if last else total_j
                    total_k = 0.0 if last else total_k
                # rhs += J(Y_i)·S_i + K_i·S, row by row, two entries (four terms) per loop over the parameters;
                # a row's odd entry is paired with a dummy on the zero padding row.
                for e in range(n_pairs):
                    a = pair_row[e]
                    first = pair_entry[2 * e]
                    second = pair_entry[2 * e + 1]
                    b1 = pair_column[2 * e]
                    b2 = pair_column[2 * e + 1]
                    cj1 = jac_stage[first]
                    ck1 = jac_second[first]
                    cj2 = jac_stage[second]
                    ck2 = jac_second[second]
                    for j in range(n_p):
                        rhs[a, j] += (cj1 * sens_stage[b1, j] + ck1 * sens[b1, j] + cj2 * sens_stage[b2, j]
                                      + ck2 * sens[b2, j])
                for e in range(n_fe):
                    rhs_flat[f_flat[e]] += f_value[e] * phi[f_group[e]]
                # w_i = (I/(hγ) − J)⁻¹·rhs, four columns of the inverse per loop (rhs rows ≥ n_s are 0).
                for a in range(n_s):
                    i0 = inverse[a, 0]
                    i1 = inverse[a, 1]
                    i2 = inverse[a, 2]
                    i3 = inverse[a, 3]
                    for j in range(n_p):
                        w[stage, a, j] = i0 * rhs[0, j] + i1 * rhs[1, j] + i2 * rhs[2, j] + i3 * rhs[3, j]
                    for b in range(4, n_s4, 4):
                        i0 = inverse[a, b]
                        i1 = inverse[a, b + 1]
                        i2 = inverse[a, b + 2]
                        i3 = inverse[a, b + 3]
                        for j in range(n_p):
                            w[stage, a, j] += (i0 * rhs[b, j] + i1 * rhs[b + 1, j] + i2 * rhs[b + 2, j]
                                               + i3 * rhs[b + 3, j])
                if not quadratures:
                    continue
                # Quadratures q' = ρ(y), Q_j' = Dρ(y)[S_j]: their Jacobian rows are Dρ (on u) and
                # D²ρ[S_j, ·] (on u) plus Dρ (on w_j), so v = hγ·(φ + Σ c/h·v) and
                # vs_j = hγ·(t_j + Dρ(y)[w_j] + Σ c/h·vs_j), t and φ from above.
                hgamma = h * gamma
                for g in range(n_g):
                    s_0 = slots[g, 0]
                    s_1 = slots[g, 1]
                    s_2 = slots[g, 2]
                    c0 = dstage[3 * g]
                    c1 = dstage[3 * g + 1]
                    c2 = dstage[3 * g + 2]
                    e0 = dsecond[3 * g]
                    e1 = dsecond[3 * g + 1]
                    e2 = dsecond[3 * g + 2]
                    for j in range(n_p):
                        t_group[g, j] = (c0 * sens_stage[s_0, j] + c1 * sens_stage[s_1, j]
                                         + c2 * sens_stage[s_2, j] + e0 * sens[s_0, j] + e1 * sens[s_1, j]
                                         + e2 * sens[s_2, j])
                for g in range(n_g):
                    value = phi[g]
                    for m in range(stage):
                        value += c_over_h[stage, m] * v[m, g]
                    v[stage, g] = hgamma * value
                    s_0 = slots[g, 0]
                    s_1 = slots[g, 1]
                    s_2 = slots[g, 2]
                    d0 = drdx[3 * g]
                    d1 = drdx[3 * g + 1]
                    d2 = drdx[3 * g + 2]
                    for j in range(n_p):
                        value = (t_group[g, j] + d0 * w[stage, s_0, j] + d1 * w[stage, s_1, j]
                                 + d2 * w[stage, s_2, j])
                        for m in range(stage):
                            value += c_over_h[stage, m] * vs[m, g, j]
                        vs[stage, g, j] = hgamma * value

            err = _advance(y, u, b_coef, n_stages, rtol, atol, n_norm, y_new)
            # S_new = S + Σ_m b_m·w_m over the flat rows, from the last stage's S_(s−1) = S + Σ_m a_(s−1)m·w_m
            # (both methods are stiffly accurate: S_new = S_(s−1) + w_(s−1)), then the error norms.
            for e in range(n_sp):
                sens_new_flat[e] = sens_stage_flat[e]
            for m in range(n_stages):
                b_m = b_coef[m] - a_coef[n_stages - 1, m]
                if b_m != 0.0:
                    w_m = w_flat[m]
                    for e in range(n_sp):
                        sens_new_flat[e] += b_m * w_m[e]
            for j in range(n_p):
                err_sens[j] = 0.0
            if sens_error:
                for a in range(n_s):
                    atol_a = atol[a]
                    for j in range(n_p):
                        scale = atol_a + rtol * max(abs(sens[a, j]), abs(sens_new[a, j]))
                        ratio = w[n_stages - 1, a, j] / scale
                        err_sens[j] += ratio * ratio
            else:  # only the state's error counts, but a non-finite sensitivity still rejects the step
                for a in range(n_s):
                    for j in range(n_p):
                        err_sens[j] += 0.0 * sens_new[a, j]
            for j in range(n_p):
                if not np.isfinite(err_sens[j]):
                    err = np.inf
                elif sens_error:
                    err = max(err, np.sqrt(err_sens[j] / max(n_norm, 1.0)))

            limiting = _negative_species(err, y_new, atol)
            if err > 1.0 or limiting >= 0:
                n_rejected += 1
                h *= _retry_factor(err, limiting, y, y_new, u[n_stages - 1], rtol, atol, accepted_in_segment,
                                   last_rejected, exponent, failure)
                last_rejected = True
                continue

            n_steps += 1
            for g in range(n_gq):
                value = quad[g]
                for m in range(n_stages):
                    value += b_coef[m] * v[m, g]
                quad_new[g] = value
                for j in range(n_p):
                    value = quad_s[g, j]
                    for m in range(n_stages):
                        value += b_coef[m] * vs[m, g, j]
                    quad_s_new[g, j] = value
            t_new = _step_end(t, h, t_stop)
            while next_out < n_out and t_out[next_out] < t_new:
                theta = (t_out[next_out] - t) / h
                _dense_weights(theta, h_dense, n_dense, n_stages, dense_weights)
                _dense_output(theta, dense_weights, n_stages, u, y, y_new, True, out_y, next_out)
                _dense_output(theta, dense_weights, n_stages, v, quad, quad_new, False, out_q, next_out)
                _dense_columns(theta, dense_weights, n_stages, w, sens, sens_new, out_s, next_out)
                _dense_columns(theta, dense_weights, n_stages, vs, quad_s, quad_s_new, out_qs, next_out)
                next_out += 1
            for i in range(n_s):
                y[i] = y_new[i] if y_new[i] > 0.0 else 0.0
                for j in range(n_p):
                    sens[i, j] = sens_new[i, j]
            for g in range(n_gq):
                quad[g] = quad_new[g]
                for j in range(n_p):
                    quad_s[g, j] = quad_s_new[g, j]
            t = t_new

            h, h_accepted, root_err_accepted, accepted_in_segment = _after_acceptance(
                err, h, h_accepted, root_err_accepted, root_err_floor, exponent, accepted_in_segment, last_rejected)
            last_rejected = False
            need_jacobian = True

        _apply_boluses(t_stop, False, bolus_time, bolus_species, bolus_amount, y)
        _clear_assigned(t_stop, False, bolus_time, bolus_species, sens)
        while next_out < n_out and t_out[next_out] <= t_stop:
            for i in range(n_s):
                out_y[next_out, i] = y[i]
                for j in range(n_p):
                    out_s[next_out, i, j] = sens[i, j]
            for g in range(n_gq):
                out_q[next_out, g] = quad[g]
                for j in range(n_p):
                    out_qs[next_out, g, j] = quad_s[g, j]
            next_out += 1
    _store_counters(counters, n_steps, n_rejected, n_rhs, n_jac, n_lu)
    return SUCCESS


@njit
def integrate_sensitivities_rodas5p(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                                    bolus_time, bolus_species, bolus_amount,
                                    source_species, source_amplitude, source_decay, source_start, source_stop,
                                    forcing_param, forcing_reaction, forcing_coef, s0,
                                    rtol, atol, h_max, max_steps, sens_error, quadratures,
                                    out_y, out_s, out_q, out_qs, counters, failure):
    """:func:`integrate_sensitivities` with RODAS5P (same arguments without ``method``)."""
    return _integrate_sensitivities(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                                    bolus_time, bolus_species, bolus_amount,
                                    source_species, source_amplitude, source_decay, source_start, source_stop,
                                    forcing_param, forcing_reaction, forcing_coef, s0,
                                    rtol, atol, h_max, max_steps, RODAS5P, sens_error, quadratures,
                                    out_y, out_s, out_q, out_qs, counters, failure)


@njit
def integrate_sensitivities_rodas4(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                                   bolus_time, bolus_species, bolus_amount,
                                   source_species, source_amplitude, source_decay, source_start, source_stop,
                                   forcing_param, forcing_reaction, forcing_coef, s0,
                                   rtol, atol, h_max, max_steps, sens_error, quadratures,
                                   out_y, out_s, out_q, out_qs, counters, failure):
    """:func:`integrate_sensitivities` with RODAS4 (same arguments without ``method``)."""
    return _integrate_sensitivities(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                                    bolus_time, bolus_species, bolus_amount,
                                    source_species, source_amplitude, source_decay, source_start, source_stop,
                                    forcing_param, forcing_reaction, forcing_coef, s0,
                                    rtol, atol, h_max, max_steps, RODAS4, sens_error, quadratures,
                                    out_y, out_s, out_q, out_qs, counters, failure)


#: Entry points by solver name (deterministic.ROSENBROCK_SOLVERS), for Python callers.
INTEGRATE = {NAMES[RODAS5P]: integrate_sensitivities_rodas5p, NAMES[RODAS4]: integrate_sensitivities_rodas4}


def integrate_sensitivities(k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                            bolus_time, bolus_species, bolus_amount,
                            source_species, source_amplitude, source_decay, source_start, source_stop,
                            forcing_param, forcing_reaction, forcing_coef, s0,
                            rtol, atol, h_max, max_steps, method, sens_error, quadratures,
                            out_y, out_s, out_q, out_qs, counters, failure):
    """Integrate y and its sensitivities from t0 through t_out[-1]; return a status code (Python entry: the
    method's compiled version, :data:`INTEGRATE`; arguments as :func:`_integrate_sensitivities`)."""
    return INTEGRATE[NAMES[method]](k, reactant_idx, reactant_coef, net_stoich, y0, t0, t_out, stops,
                                    bolus_time, bolus_species, bolus_amount,
                                    source_species, source_amplitude, source_decay, source_start, source_stop,
                                    forcing_param, forcing_reaction, forcing_coef, s0,
                                    rtol, atol, h_max, max_steps, bool(sens_error), bool(quadratures),
                                    out_y, out_s, out_q, out_qs, counters, failure)
