"""Stochastic simulation kernels: exact SSA (direct and next-reaction) and adaptive tau-leaping.

Conventions shared with the deterministic kernels: reaction ``j`` has a
stochastic rate constant ``c[j]`` and its propensity is the falling factorial

    a_j = c_j · Π_reactants n (n − 1) … (n − ν + 1),

evaluated over three slots ``slot_idx[j, s]``, ``slot_off[j, s]`` (see
:func:`propensity`); the state ``x`` (int64) carries one extra entry fixed at 1
for unused slots. Net changes are in CSR form (``change_ptr``, ``change_idx``,
``change_val``) and ``dep_ptr``/``dep_idx`` list, for each reaction, the
reactions whose propensity its firing changes. The direct method works on
groups of reactions with identical reactant slots instead (``grp_*`` arrays,
see :func:`_direct_steps` and stochastic.ReactionGroups): the same
propensities, fewer to keep up to date.

the molecule-count form of r = k·Π[x]^ν with c_j = k_j·(N_A V)^(1−m), so a
self-reaction 2A → P has a = k·n(n−1)/(N_A V) and the SSA mean follows
d[A]/dt = −2k[A]² as V grows. Counts are int64.

Time-dependent inputs arrive as (i) boluses — counts added at given times, or
set when the species code is negative (−1 − i for species i) —
and (ii) a window [start, stop) per reaction outside which its propensity is
0; a continuous source is a reaction ∅ → X (zero order) or reservoir → X
(first order) with such a window. The caller passes the sorted ``stops`` (all
window edges and bolus times, ending at t_end); each kernel runs segment by
segment, so every input fires exactly at its time. Exponential waiting times
are memoryless, so restarting the clocks at a segment edge is exact.

A state at output time t is the state after every event at or before t
(right-continuous paths); boluses at t are included.

Every trajectory draws from its own stream (kernels/rng.py) seeded by
(seed, index), which makes ensembles bit-identical for any thread count.
"""
from __future__ import annotations

import math

import numpy as np

from .._jit import njit, prange
from .rng import STATE_WORDS, exponential, poisson, seed_stream, stochastic_round, uniform

DIRECT, NEXT_REACTION, TAU_LEAP = 0, 1, 2
SUCCESS, MAX_EVENTS_EXCEEDED, COUNT_OVERFLOW = 0, 1, 2
#: A total propensity that is infinite or NaN (a huge rate constant or count): no waiting time or leap can be
#: drawn from it, so the run stops instead of firing forever at one instant. (3 is stochastic.NOT_RUN.)
PROPENSITY_OVERFLOW = 4
#: The caller raised ``stop[0]`` (Ctrl-C): the run ends within ``STOP_CHECK_INTERVAL`` events. (3 is stochastic.NOT_RUN.)
INTERRUPTED = 5
#: Events (or leaps) between two reads of the stop flag: ~50 µs of work at 2×10⁷ events/s, free on the hot path.
STOP_CHECK_INTERVAL = 1024

#: counters per trajectory: events fired, exact SSA steps, leaps, rejected leaps
N_COUNTERS = 4
C_EVENTS, C_SSA_STEPS, C_LEAPS, C_REJECTED = 0, 1, 2, 3

#: Cao, Gillespie & Petzold (2006): a reaction with fewer than this many firings
#: left before a reactant runs out is critical and fired one event at a time.
N_CRITICAL = 10
#: ... and when a leap would cover fewer than this many mean SSA steps, do exact steps instead.
SSA_FALLBACK_FACTOR = 10.0
SSA_FALLBACK_STEPS = 100
#: Largest count the kernels accept; above it a run stops with COUNT_OVERFLOW (int64 max is 9.2e18).
COUNT_LIMIT = 2 ** 62
#: Largest mean number of firings of one reaction in a leap. Beyond it the Poisson draw (exact in float64 only up
#: to 2^53, endless for an infinite mean) or the int64 update could not be trusted, and the counts would be near
#: COUNT_LIMIT anyway, so the run stops with COUNT_OVERFLOW.
MAX_LEAP_FIRINGS = float(COUNT_LIMIT // 8)
_RESUM_INTERVAL = STOP_CHECK_INTERVAL


@njit(inline="always")
def propensity(j, c, slot_idx, slot_off, x):
    """c_j times the falling factorial of the reactant counts, branch-free over three slots.

    A reactant with coefficient ν occupies ν slots (i, 0), (i, 1), …, (i, ν−1);
    unused slots point at the constant entry x[n_x] = 1 with offset 0.
    """
    return (c[j] * (x[slot_idx[j, 0]] - slot_off[j, 0]) * (x[slot_idx[j, 1]] - slot_off[j, 1])
            * (x[slot_idx[j, 2]] - slot_off[j, 2]))


@njit(inline="always")
def _record(out_x, row, x):
    for i in range(out_x.shape[1]):
        out_x[row, i] = x[i]


@njit(inline="always")
def _record_before(out_x, out_i, t_out, limit, x):
    """Write the current state to every pending output row with time < ``limit``; returns the next row."""
    while out_i < t_out.size and t_out[out_i] < limit:
        _record(out_x, out_i, x)
        out_i += 1
    return out_i


@njit(inline="always")
def _finish(b, t, bolus_time, bolus_species, bolus_count, x, state, out_x, out_i, t_out):
    """At t_end: apply the last boluses, then fill the remaining output rows (times ≤ t_end)."""
    _apply_boluses(b, t, bolus_time, bolus_species, bolus_count, x, state)
    _record_before(out_x, out_i, t_out, math.inf, x)
    return SUCCESS, t


@njit(inline="always")
def _apply_boluses(b, t, bolus_time, bolus_species, bolus_count, x, state):
    # A negative code −1 − i assigns species i instead of adding to it (an SBML event `X = 50`).
    while b < bolus_time.size and bolus_time[b] <= t:
        code = bolus_species[b]
        if code >= 0:
            x[code] += stochastic_round(bolus_count[b], state)
        else:
            x[-1 - code] = stochastic_round(bolus_count[b], state)
        b += 1
    return b


@njit(inline="always")
def _windowed(c, c_base, window_start, window_stop, t):
    for j in range(c.size):
        c[j] = c_base[j] if (window_start[j] <= t and t < window_stop[j]) else 0.0


@njit(inline="always")
def _fire(j, x, change_ptr, change_idx, change_val):
    for p in range(change_ptr[j], change_ptr[j + 1]):
        x[change_idx[p]] += change_val[p]


# --------------------------------------------------------------------- direct method


@njit(inline="always")
def _group_constants(cg, c, grp_ptr, grp_member):
    for g in range(cg.size):
        total = 0.0
        for m in range(grp_ptr[g], grp_ptr[g + 1]):
            total += c[grp_member[m]]
        cg[g] = total


@njit(inline="always")
def _group_propensity(g, cg, slot0, slot1, slot2, y):
    return cg[g] * y[slot0[g]] * y[slot1[g]] * y[slot2[g]]


@njit(inline="always")
def _live_sum(a, n_live):
    # Four partial sums: a fixed order (bit-reproducible) without one long chain of dependent additions.
    s0 = s1 = s2 = s3 = 0.0
    g = 0
    while g + 4 <= n_live:
        s0 += a[g]
        s1 += a[g + 1]
        s2 += a[g + 2]
        s3 += a[g + 3]
        g += 4
    while g < n_live:
        s0 += a[g]
        g += 1
    return (s0 + s1) + (s2 + s3)


@njit
def _direct_steps(t, seg_end, max_steps, c, cg, a, y, order, resort, x, slot0, slot1, slot2, n_live, dense,
                  grp_ptr, grp_member, change_ptr, change_idx, change_val, dep_ptr, dep_idx, t_out, out_i, out_x,
                  events, counters, used, max_events, state, stop):
    """Gillespie's direct method from ``t`` until ``seg_end`` or ``max_steps`` events, over reaction groups.

    Reactions with the same reactant slots and input window have propensities
    proportional to their constants, so each group ``g`` keeps one
    propensity ``a[g] = cg[g] · y[slot0[g]] · y[slot1[g]] · y[slot2[g]]``
    (``cg`` the sum of its members' windowed ``c``) and the fired reaction is
    drawn within the group in proportion to ``c``: the direct method's draw,
    factored in two. ``y`` (3·n_x + 1) holds, for species i, n_i, n_i − 1 and
    n_i − 2 at 3i, 3i+1, 3i+2 and 1.0 last, so a falling factorial is a
    product of three entries. On the iron network grouping folds the Fe(II) +
    H2O2 branches and the Fe(III) + O2·- forms into one signature each and
    halves the groups to update per event.

    Groups ``0 … n_live−1`` are those some firing can change; the others keep
    their propensity for the whole segment. After reaction ``j`` fires, the
    groups in ``dep_idx[dep_ptr[j]:dep_ptr[j+1]]`` (the dependency graph) are
    recomputed — or, when ``dense[j]`` (its dependents are most of the live
    groups), all live groups at once in a loop the compiler vectorises, which
    costs less than the indexed updates (benchmarks/bench_ssa_scaling.py).

    ``order`` is the search order over groups; with ``resort`` (the sorting
    direct method of McCollum et al. 2006) a fired group swaps with its
    predecessor, so frequent groups drift to the front and the linear search
    usually stops after one or two entries. ``used`` is the work already
    counted against ``max_events`` (events for the SSA, steps for tau-leaping);
    reaching the limit stops with MAX_EVENTS_EXCEEDED.

    An infinite or NaN total propensity stops with PROPENSITY_OVERFLOW; a
    raised ``stop[0]``, read at every re-summation, with INTERRUPTED.

    Returns (t, out_i, status, done) where done says seg_end was reached. The
    sum ``a0`` is kept up to date incrementally after sparse updates and
    re-summed after dense ones, periodically, and whenever selection
    overruns, so round-off never fires a group of zero propensity.
    """
    n_g = a.size
    n_x = x.size - 1
    for i in range(n_x):
        y[3 * i] = x[i]
        y[3 * i + 1] = x[i] - 1
        y[3 * i + 2] = x[i] - 2
    y[3 * n_x] = 1.0
    a_static = 0.0
    for g in range(n_g):
        a[g] = _group_propensity(g, cg, slot0, slot1, slot2, y)
        if g >= n_live:
            a_static += a[g]
    a0 = _live_sum(a, n_live) + a_static
    # No live group of third order: the dense update can skip the constant third factor.
    bimolecular = True
    for g in range(n_live):
        if slot2[g] != 3 * n_x:
            bimolecular = False
    budget = min(max_steps, max_events - used)
    steps = 0
    until_resum = _RESUM_INTERVAL
    status = SUCCESS
    done = False
    while True:
        if not a0 < math.inf:
            status = PROPENSITY_OVERFLOW
            break
        if a0 > 0.0:
            t_next = t + exponential(state) / a0
        else:
            t_next = math.inf
        if t_next >= seg_end:
            done = True
            break
        if steps >= budget:
            if used + steps >= max_events:
                status = MAX_EVENTS_EXCEEDED
            break
        target = uniform(state) * a0
        p = 0
        g = order[0]
        cumulative = a[g]
        while cumulative <= target and p < n_g - 1:
            p += 1
            g = order[p]
            cumulative += a[g]
        if cumulative <= target or a[g] <= 0.0:
            a0 = _live_sum(a, n_live) + a_static
            continue
        # Within the group: (target − start of g's interval) / a_g is uniform on [0, 1) and independent
        # of the group chosen. (Written out here: as an inlined helper it cost half the throughput.)
        first, last = grp_ptr[g], grp_ptr[g + 1]
        j = grp_member[first]
        if last - first > 1:
            share = (target - (cumulative - a[g])) / a[g] * cg[g]
            covered = 0.0
            for m in range(first, last):
                member = grp_member[m]
                if c[member] > 0.0:
                    j = member
                    covered += c[member]
                    if covered > share:
                        break
        out_i = _record_before(out_x, out_i, t_out, t_next, x)
        t = t_next
        for q in range(change_ptr[j], change_ptr[j + 1]):
            i = change_idx[q]
            v = change_val[q]
            x[i] += v
            y[3 * i] += v
            y[3 * i + 1] += v
            y[3 * i + 2] += v
        if dense[j]:
            if bimolecular:
                for q in range(n_live):
                    a[q] = cg[q] * y[slot0[q]] * y[slot1[q]]
            else:
                for q in range(n_live):
                    a[q] = _group_propensity(q, cg, slot0, slot1, slot2, y)
            a0 = _live_sum(a, n_live) + a_static
        else:
            delta = 0.0
            for d in range(dep_ptr[j], dep_ptr[j + 1]):
                q = dep_idx[d]
                new = _group_propensity(q, cg, slot0, slot1, slot2, y)
                delta += new - a[q]
                a[q] = new
            a0 += delta
        if resort and p > 0:
            previous = order[p - 1]
            order[p - 1], order[p] = g, previous
        events[j] += 1
        steps += 1
        until_resum -= 1
        if until_resum == 0:
            until_resum = _RESUM_INTERVAL
            a0 = _live_sum(a, n_live) + a_static
            if stop[0] != 0:
                status = INTERRUPTED
                break
    counters[C_EVENTS] += steps
    counters[C_SSA_STEPS] += steps
    return t, out_i, status, done


@njit
def ssa_direct(c_base, window_start, window_stop, grp_slot0, grp_slot1, grp_slot2, n_live, dense, grp_ptr,
               grp_member, change_ptr, change_idx, change_val, grp_dep_ptr, grp_dep_idx, x, t0, t_out, stops,
               bolus_time, bolus_species, bolus_count, max_events, state, out_x, events, counters, stop):
    """One direct-method trajectory over reaction groups (see :func:`_direct_steps`).

    ``x`` (int64, n_x + 1, last entry 1) is the initial state, updated in
    place. Writes ``out_x`` (n_out, n_x), ``events`` (n_r) and ``counters``;
    returns (status, time reached). Rows after a stop for MAX_EVENTS_EXCEEDED
    are −1.
    """
    n_r = c_base.size
    n_g = grp_ptr.size - 1
    c = np.empty(n_r)
    cg = np.empty(n_g)
    a = np.empty(n_g)
    y = np.empty(3 * (x.size - 1) + 1)
    order = np.arange(n_g)
    t = t0
    out_i = 0
    b = 0
    for seg in range(stops.size):
        seg_end = stops[seg]
        b = _apply_boluses(b, t, bolus_time, bolus_species, bolus_count, x, state)
        _windowed(c, c_base, window_start, window_stop, t)
        _group_constants(cg, c, grp_ptr, grp_member)
        t, out_i, status, done = _direct_steps(
            t, seg_end, 1 << 62, c, cg, a, y, order, True, x, grp_slot0, grp_slot1, grp_slot2, n_live, dense,
            grp_ptr, grp_member, change_ptr, change_idx, change_val, grp_dep_ptr, grp_dep_idx, t_out, out_i, out_x,
            events, counters, counters[C_EVENTS], max_events, state, stop)
        if status != SUCCESS:
            return _stopped(status, t, out_i, out_x, x)
        out_i = _record_before(out_x, out_i, t_out, seg_end, x)
        t = seg_end
    return _finish(b, t, bolus_time, bolus_species, bolus_count, x, state, out_x, out_i, t_out)


@njit
def _stopped(status, t, out_i, out_x, x):
    # Rows up to the time reached are valid; later rows are marked −1 (not reached).
    while out_i < out_x.shape[0]:
        for i in range(out_x.shape[1]):
            out_x[out_i, i] = -1
        out_i += 1
    return status, t


# --------------------------------------------------------------- next-reaction method


@njit(inline="always")
def _heap_swap(heap, where, p, q):
    rp, rq = heap[p], heap[q]
    heap[p], heap[q] = rq, rp
    where[rq], where[rp] = p, q


@njit
def _heap_update(heap, where, tau, r):
    """Restore the min-heap order of putative times after ``tau[r]`` changed."""
    p = where[r]
    while p > 0:
        parent = (p - 1) >> 1
        if tau[heap[parent]] <= tau[heap[p]]:
            break
        _heap_swap(heap, where, p, parent)
        p = parent
    n = heap.size
    while True:
        left = 2 * p + 1
        if left >= n:
            break
        child = left
        if left + 1 < n and tau[heap[left + 1]] < tau[heap[left]]:
            child = left + 1
        if tau[heap[p]] <= tau[heap[child]]:
            break
        _heap_swap(heap, where, p, child)
        p = child


@njit
def ssa_next_reaction(c_base, window_start, window_stop, slot_idx, slot_off, change_ptr, change_idx,
                      change_val, dep_ptr, dep_idx, x, t0, t_out, stops, bolus_time, bolus_species, bolus_count,
                      max_events, state, out_x, events, counters, stop):
    """One trajectory by Gibson & Bruck's next-reaction method (indexed binary heap).

    Same arguments and results as :func:`ssa_direct`. Each event costs one
    random number and O(d·log n_r) heap work for the d dependent reactions,
    instead of the direct method's O(n_r) search.
    """
    n_r = c_base.size
    c = np.empty(n_r)
    a = np.empty(n_r)
    tau = np.empty(n_r)
    heap = np.arange(n_r)
    where = np.arange(n_r)
    t = t0
    out_i = 0
    b = 0
    for seg in range(stops.size):
        seg_end = stops[seg]
        b = _apply_boluses(b, t, bolus_time, bolus_species, bolus_count, x, state)
        _windowed(c, c_base, window_start, window_stop, t)
        for j in range(n_r):
            a[j] = propensity(j, c, slot_idx, slot_off, x)
            tau[j] = t + exponential(state) / a[j] if a[j] > 0.0 else math.inf
        heap[:] = np.argsort(tau)  # a sorted array is a valid min-heap
        for p in range(n_r):
            where[heap[p]] = p
        while True:
            j = heap[0]
            t_next = tau[j]
            if t_next >= seg_end:
                break
            if counters[C_EVENTS] >= max_events:
                return _stopped(MAX_EVENTS_EXCEEDED, t, out_i, out_x, x)
            if counters[C_EVENTS] % STOP_CHECK_INTERVAL == 0 and stop[0] != 0:
                return _stopped(INTERRUPTED, t, out_i, out_x, x)
            out_i = _record_before(out_x, out_i, t_out, t_next, x)
            t = t_next
            _fire(j, x, change_ptr, change_idx, change_val)
            events[j] += 1
            counters[C_EVENTS] += 1
            counters[C_SSA_STEPS] += 1
            fired_updated = False
            for p in range(dep_ptr[j], dep_ptr[j + 1]):
                q = dep_idx[p]
                old = a[q]
                new = propensity(q, c, slot_idx, slot_off, x)
                a[q] = new
                if q == j:
                    fired_updated = True
                    tau[q] = t + exponential(state) / new if new > 0.0 else math.inf
                elif new <= 0.0:
                    tau[q] = math.inf
                elif old > 0.0:
                    tau[q] = t + (old / new) * (tau[q] - t)
                else:
                    tau[q] = t + exponential(state) / new
                _heap_update(heap, where, tau, q)
            if not fired_updated:
                tau[j] = t + exponential(state) / a[j] if a[j] > 0.0 else math.inf
                _heap_update(heap, where, tau, j)
        out_i = _record_before(out_x, out_i, t_out, seg_end, x)
        t = seg_end
    return _finish(b, t, bolus_time, bolus_species, bolus_count, x, state, out_x, out_i, t_out)


# ------------------------------------------------------------------- tau-leaping


@njit
def _g_factor(order, coef, n):
    """Cao–Gillespie–Petzold g_i for a species whose highest-order reaction has ``order`` and needs ``coef`` of it."""
    if order <= 1:
        return 1.0
    if order == 2:
        if coef == 1 or n <= 1.0:
            return 2.0
        return 2.0 + 1.0 / (n - 1.0)
    if coef == 1 or n <= 2.0:
        return 3.0
    if coef == 2:
        return 1.5 * (2.0 + 1.0 / (n - 1.0))
    return 3.0 + 1.0 / (n - 1.0) + 2.0 / (n - 2.0)


@njit(inline="always")
def leap_moments(a, x, change_ptr, change_idx, change_val, critical, mu, sigma2):
    """Mark the critical reactions (fewer than N_CRITICAL firings from exhausting a consumed species) and
    accumulate the others' expected change ``mu`` and variance ``sigma2`` per species [s⁻¹]; returns the
    critical reactions' total propensity."""
    a0_critical = 0.0
    for i in range(mu.size):
        mu[i] = 0.0
        sigma2[i] = 0.0
    for j in range(a.size):
        critical[j] = False
        if a[j] <= 0.0:
            continue
        firings = math.inf
        for p in range(change_ptr[j], change_ptr[j + 1]):
            if change_val[p] < 0:
                firings = min(firings, float(x[change_idx[p]] // (-change_val[p])))
        if firings < N_CRITICAL:
            critical[j] = True
            a0_critical += a[j]
        else:
            for p in range(change_ptr[j], change_ptr[j + 1]):
                v = float(change_val[p])
                mu[change_idx[p]] += v * a[j]
                sigma2[change_idx[p]] += v * v * a[j]
    return a0_critical


@njit(inline="always")
def leap_firings(a, critical, tau, one_critical, a0_critical, fired, state):
    """Firings of a leap of ``tau`` into ``fired``: Poisson for the non-critical reactions, plus one critical
    reaction drawn by propensity when ``one_critical``. False when a mean exceeds MAX_LEAP_FIRINGS."""
    for j in range(a.size):
        fired[j] = 0
        if a[j] > 0.0 and not critical[j]:
            mean = a[j] * tau
            if not mean <= MAX_LEAP_FIRINGS:
                return False
            fired[j] = np.int64(poisson(mean, state))
    if one_critical:
        target = uniform(state) * a0_critical
        chosen = -1
        for j in range(a.size):
            if critical[j]:
                chosen = j
                target -= a[j]
                if target < 0.0:
                    break
        fired[chosen] += 1
    return True


@njit(inline="always")
def apply_leap(fired, x, n_x, change_ptr, change_idx, change_val):
    """Add the leap's changes to the counts; returns (firings, negative, overflow). A leap that made a count
    negative is undone (to be retried with half the step, CGP 2006 step 6)."""
    total = 0
    for j in range(fired.size):
        if fired[j] != 0:
            total += fired[j]
            for p in range(change_ptr[j], change_ptr[j + 1]):
                x[change_idx[p]] += fired[j] * change_val[p]
    negative = False
    overflow = False
    for i in range(n_x):
        if x[i] < 0:
            negative = True
        elif x[i] > COUNT_LIMIT:
            overflow = True
    if negative:
        for j in range(fired.size):
            if fired[j] != 0:
                for p in range(change_ptr[j], change_ptr[j + 1]):
                    x[change_idx[p]] -= fired[j] * change_val[p]
    return total, negative, overflow


@njit
def tau_leap(c_base, window_start, window_stop, slot_idx, slot_off, change_ptr, change_idx, change_val,
             grp_slot0, grp_slot1, grp_slot2, n_live, dense, grp_ptr, grp_member, grp_dep_ptr, grp_dep_idx,
             hor_order, hor_coef, epsilon, x, t0, t_out, stops, bolus_time, bolus_species, bolus_count, max_events,
             state, out_x, events, counters, stop):
    """One trajectory by explicit tau-leaping with Cao, Gillespie & Petzold (2006) step selection.

    Reactions within N_CRITICAL firings of exhausting a reactant are critical:
    at most one of them fires per leap, exactly. The leap τ′ bounds the
    expected relative change of every reactant species by ``epsilon``
    (through ``hor_order``/``hor_coef``: the highest order of reaction each
    species enters, 0 for none, and its coefficient there). When τ′ is
    shorter than SSA_FALLBACK_FACTOR mean SSA steps, SSA_FALLBACK_STEPS exact
    direct-method steps are taken instead. A leap that would make a count
    negative is undone and retried with τ′/2, so counts never go negative.
    Leaps are cut at output and input times.

    Other arguments as :func:`ssa_direct`, except that ``max_events`` limits
    steps (leaps, rejected leaps and exact steps), the unit of work here;
    ``counters`` also count leaps and rejected leaps. An infinite or NaN total
    propensity stops the run with PROPENSITY_OVERFLOW, a leap whose mean
    firings of a reaction exceed MAX_LEAP_FIRINGS with COUNT_OVERFLOW.
    """
    n_r = c_base.size
    n_x = x.size - 1
    n_out = t_out.size
    c = np.empty(n_r)
    a = np.empty(n_r)
    critical = np.zeros(n_r, dtype=np.bool_)
    fired = np.zeros(n_r, dtype=np.int64)
    mu = np.empty(n_x)
    sigma2 = np.empty(n_x)
    # Buffers of the exact direct-method steps taken when a leap would be too short.
    n_g = grp_ptr.size - 1
    cg = np.empty(n_g)
    a_group = np.empty(n_g)
    y = np.empty(3 * n_x + 1)
    search_order = np.arange(n_g)
    tau_cap = math.inf
    t = t0
    out_i = 0
    b = 0
    for seg in range(stops.size):
        seg_end = stops[seg]
        b = _apply_boluses(b, t, bolus_time, bolus_species, bolus_count, x, state)
        _windowed(c, c_base, window_start, window_stop, t)
        _group_constants(cg, c, grp_ptr, grp_member)
        while t < seg_end:
            while out_i < n_out and t_out[out_i] <= t and t_out[out_i] < seg_end:
                _record(out_x, out_i, x)
                out_i += 1
            # Rejected leaps are work too: counting them bounds every path through this loop.
            if counters[C_LEAPS] + counters[C_SSA_STEPS] + counters[C_REJECTED] >= max_events:
                return _stopped(MAX_EVENTS_EXCEEDED, t, out_i, out_x, x)
            if stop[0] != 0:
                return _stopped(INTERRUPTED, t, out_i, out_x, x)
            a0 = 0.0
            for j in range(n_r):
                a[j] = propensity(j, c, slot_idx, slot_off, x)
                a0 += a[j]
            if not a0 < math.inf:
                return _stopped(PROPENSITY_OVERFLOW, t, out_i, out_x, x)
            if a0 <= 0.0:
                break
            a0_critical = leap_moments(a, x, change_ptr, change_idx, change_val, critical, mu, sigma2)
            tau1 = tau_cap
            for i in range(n_x):
                if hor_order[i] == 0:
                    continue
                n = float(x[i])
                bound = max(epsilon * n / _g_factor(hor_order[i], hor_coef[i], n), 1.0)
                if mu[i] != 0.0:
                    tau1 = min(tau1, bound / abs(mu[i]))
                if sigma2[i] > 0.0:
                    tau1 = min(tau1, bound * bound / sigma2[i])
            if tau1 < SSA_FALLBACK_FACTOR / a0:
                t, out_i, status, done = _direct_steps(
                    t, seg_end, SSA_FALLBACK_STEPS, c, cg, a_group, y, search_order, False, x, grp_slot0,
                    grp_slot1, grp_slot2, n_live, dense, grp_ptr, grp_member, change_ptr, change_idx, change_val,
                    grp_dep_ptr, grp_dep_idx, t_out, out_i, out_x, events, counters,
                    counters[C_LEAPS] + counters[C_SSA_STEPS] + counters[C_REJECTED], max_events, state, stop)
                tau_cap = math.inf
                if status != SUCCESS:
                    return _stopped(status, t, out_i, out_x, x)
                if done:
                    break
                continue
            target_time = seg_end
            if out_i < n_out and t < t_out[out_i] < seg_end:
                target_time = t_out[out_i]
            horizon = target_time - t
            tau2 = exponential(state) / a0_critical if a0_critical > 0.0 else math.inf
            tau = min(tau1, tau2, horizon)
            if not leap_firings(a, critical, tau, tau2 <= tau1 and tau2 <= horizon, a0_critical, fired, state):
                return _stopped(COUNT_OVERFLOW, t, out_i, out_x, x)
            total, negative, overflow = apply_leap(fired, x, n_x, change_ptr, change_idx, change_val)
            if negative:
                counters[C_REJECTED] += 1
                tau_cap = 0.5 * tau1
                continue
            tau_cap = math.inf
            if overflow:
                return _stopped(COUNT_OVERFLOW, t, out_i, out_x, x)
            for j in range(n_r):
                events[j] += fired[j]
            counters[C_EVENTS] += total
            counters[C_LEAPS] += 1
            t = target_time if tau == horizon else t + tau
        out_i = _record_before(out_x, out_i, t_out, seg_end, x)
        t = seg_end
    return _finish(b, t, bolus_time, bolus_species, bolus_count, x, state, out_x, out_i, t_out)


# ---------------------------------------------------------------------- ensembles


@njit(inline="always")
def start_trajectory(seed, index, x0_mean, events, counters):
    """(random state, initial counts) of trajectory ``index``: its own stream, x0_mean stochastically rounded,
    the constant 1 appended; its ``events`` and ``counters`` rows zeroed."""
    state = np.empty(STATE_WORDS, dtype=np.uint64)
    seed_stream(seed, index, state)
    x = np.empty(x0_mean.size + 1, dtype=np.int64)
    for i in range(x0_mean.size):
        x[i] = stochastic_round(x0_mean[i], state)
    x[x0_mean.size] = 1
    for j in range(events.size):
        events[j] = 0
    for q in range(counters.size):
        counters[q] = 0
    return state, x


@njit(parallel=True)
def ensemble(method, first_index, seed, c_base, window_start, window_stop, slot_idx, slot_off,
             change_ptr, change_idx, change_val, dep_ptr, dep_idx, grp_slot0, grp_slot1, grp_slot2, n_live, dense,
             grp_ptr, grp_member, grp_dep_ptr, grp_dep_idx, hor_order, hor_coef, epsilon,
             x0_mean, t0, t_out, stops, bolus_time, bolus_species, bolus_count, max_events,
             out_x, events, counters, status, t_reached, stop):
    """Run trajectories ``first_index … first_index + B − 1`` in parallel.

    ``x0_mean`` (n_x) float: initial molecule numbers, stochastically rounded
    per trajectory. Outputs, leading axis B: ``out_x`` (B, n_out, n_x) int64,
    ``events`` (B, n_r) int64, ``counters`` (B, N_COUNTERS) int64,
    ``status`` (B,) int64, ``t_reached`` (B,) float64. Trajectory
    ``first_index + b`` uses stream (seed, first_index + b) only. Per-reaction
    slots and dependencies serve the next-reaction method and tau-leaping,
    the ``grp_*`` arrays (stochastic.ReactionGroups) the direct method.
    ``stop`` (1,) int64: another thread sets ``stop[0]`` to end every
    trajectory early with INTERRUPTED (those not started are not run).
    """
    n_traj = out_x.shape[0]
    for b in prange(n_traj):
        if stop[0] != 0:
            status[b] = INTERRUPTED
            t_reached[b] = t0
            continue
        state, x = start_trajectory(seed, first_index + b, x0_mean, events[b], counters[b])
        if method == DIRECT:
            s, tr = ssa_direct(c_base, window_start, window_stop, grp_slot0, grp_slot1, grp_slot2, n_live, dense,
                               grp_ptr, grp_member, change_ptr, change_idx, change_val, grp_dep_ptr, grp_dep_idx, x,
                               t0, t_out, stops, bolus_time, bolus_species, bolus_count, max_events, state, out_x[b],
                               events[b], counters[b], stop)
        elif method == NEXT_REACTION:
            s, tr = ssa_next_reaction(c_base, window_start, window_stop, slot_idx, slot_off, change_ptr,
                                      change_idx, change_val, dep_ptr, dep_idx, x, t0, t_out, stops, bolus_time,
                                      bolus_species, bolus_count, max_events, state, out_x[b], events[b],
                                      counters[b], stop)
        else:
            s, tr = tau_leap(c_base, window_start, window_stop, slot_idx, slot_off, change_ptr, change_idx,
                             change_val, grp_slot0, grp_slot1, grp_slot2, n_live, dense, grp_ptr, grp_member,
                             grp_dep_ptr, grp_dep_idx, hor_order, hor_coef, epsilon, x, t0, t_out, stops, bolus_time,
                             bolus_species, bolus_count, max_events, state, out_x[b], events[b], counters[b], stop)
        status[b] = s
        t_reached[b] = tr
