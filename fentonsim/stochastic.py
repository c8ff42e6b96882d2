"""Stochastic solutions of a Network: exact SSA and adaptive tau-leaping ensembles.

Molecule counts n relate to concentrations through n = [x]·N_A·V with V in
litres. The stochastic rate constant of a reaction of order m is
c = k·(N_A V)^(1−m), and its propensity is c times the falling factorial of
the reactant counts (kernels/ssa.py), so the SSA mean converges to the rate
equations as V grows, self-reactions included. In a multi-compartment network
V is each species' own compartment and each reaction's, and a transport moves
one molecule per firing (fentonsim.stochastic_compartments).

Methods
-------
``"ssa"``
    Exact stochastic simulation. Two algorithms, chosen by ``ssa_algorithm``
    (default ``"auto"``, see :func:`choose_ssa_algorithm`): Gillespie's direct
    method with a dependency graph and McCollum et al.'s (2006) sorting of the
    search order, run over groups of reactions with the same reactants
    (:class:`ReactionGroups`), and Gibson & Bruck's (2000) next-reaction
    method with an indexed binary heap.
``"tau-leap"``
    Explicit tau-leaping with Cao, Gillespie & Petzold (2006) step selection
    (``epsilon``, default 0.03); critical reactions fire exactly and counts
    never go negative.
``"auto"``
    SSA when the estimated number of events per trajectory is at most
    AUTO_SSA_EVENTS, tau-leaping otherwise; the choice and its reason are
    recorded in the result.

General rate laws and state events (fentonsim.stochastic_laws, kernels/laws_ssa.py): a law reaction
r = k·g(c) fires with propensity N_A·V·k·g(n/(N_A·V)) (c above is then N_A·V·k, its order being 0), by the
direct method without grouping or by tau-leaping; events fire at the exact event that sets them off.

Inputs: initial concentrations, boluses and first-order reservoirs become
molecule numbers by stochastic rounding (floor plus one with probability of
the fraction), which keeps their mean exact. A zero-order source is the
reaction ∅ → X with propensity rate·N_A·V; a first-order source is a
reservoir R of amount·N_A·V molecules released by R → X with rate constant k
— the same mean supply as the ODE, with the discreteness of real ions.

Guards: before running, the rate equations estimate the events per
trajectory (Σ extents × N_A·V). SSA runs needing more than ``max_events``
are refused with the estimate and advice, as are runs whose counts would
overflow int64. While running, a trajectory that reaches ``max_events`` stops
with status MAX_EVENTS_EXCEEDED and the time reached, one whose total
propensity becomes infinite or NaN (a rate constant such as 1e300) with
PROPENSITY_OVERFLOW, and a leap that would fire more than the counts hold
with COUNT_OVERFLOW, so no run fires forever at one instant; ``time_budget_s``
stops an ensemble between blocks, leaving the remaining trajectories NOT_RUN.
"""
from __future__ import annotations

import math
import os
import threading
import time as _time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ._jit import get_threads, set_threads
from .constants import AVOGADRO
from .errors import ConditionsError
from .inputs import CompiledInputs, compile_inputs
from .kernels import laws_ssa, ssa
from .progress import bar as progress_bar
from . import stochastic_compartments as count_view
from . import stochastic_laws
from .stochastic_laws import LawStochastic
from .kernels import stats as stats_kernels

METHODS = ("ssa", "tau-leap", "auto")
SSA_ALGORITHMS = ("auto", "direct", "next-reaction")
#: Trajectory status codes (``status`` in results).
SUCCESS, MAX_EVENTS_EXCEEDED, COUNT_OVERFLOW, NOT_RUN = ssa.SUCCESS, ssa.MAX_EVENTS_EXCEEDED, ssa.COUNT_OVERFLOW, 3
PROPENSITY_OVERFLOW = ssa.PROPENSITY_OVERFLOW
STATUS_NAMES = {SUCCESS: "complete", MAX_EVENTS_EXCEEDED: "stopped at max_events",
                COUNT_OVERFLOW: "stopped: count overflow", NOT_RUN: "not run (time budget)",
                PROPENSITY_OVERFLOW: "stopped: propensity overflow (infinite or NaN; check the rate constants)"}
DEFAULT_MAX_EVENTS = 100_000_000
DEFAULT_EPSILON = 0.03
DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: ``method="auto"`` runs exact SSA up to this many estimated events per trajectory.
AUTO_SSA_EVENTS = 1_000_000
#: ``ssa_algorithm="auto"`` uses the (sorting, grouped) direct method up to this many
#: reactions, sources included, and the next-reaction method above. Measured by
#: benchmarks/bench_ssa_scaling.py on generated networks (one thread, 2026-11-30,
#: grouped direct method): next-reaction/direct speed 0.34–0.55 up to 320 reactions,
#: 0.80 at 640, 1.27 at 1,280; the crossover, interpolated in log n, is near 1,000.
DIRECT_MAX_REACTIONS = 1000
#: Block memory for streamed ensembles; blocks never affect the numbers.
_BLOCK_BYTES = 32 * 2 ** 20


def molecules_per_molar(volume: float) -> float:
    """N_A·V: molecules per mol L⁻¹ in ``volume`` litres."""
    return AVOGADRO * volume


def choose_ssa_algorithm(n_reactions: int) -> str:
    """The default exact algorithm for a network of ``n_reactions`` (sources included).

    The sorting direct method's linear search usually stops after a few
    entries, because frequent reactions drift to the front, and costs less than
    the next-reaction method's heap upkeep for the dependents of each event; the
    heap's O(log n) wins beyond about DIRECT_MAX_REACTIONS reactions (measured
    by benchmarks/bench_ssa_scaling.py).
    """
    return "direct" if n_reactions <= DIRECT_MAX_REACTIONS else "next-reaction"


@dataclass(frozen=True)
class StochasticProblem:
    """A network at fixed conditions, volume and inputs, as the stochastic kernels take it.

    State ``n_x = n_s + n_reservoirs`` (network species, then one reservoir per
    first-order source); reactions ``n_rt = n_r + n_sources`` (network reactions,
    then one per source). Arrays: ``c`` (n_rt) stochastic rate constants
    [s⁻¹]; ``window_start``/``window_stop`` (n_rt) [s]; ``reactant_idx``,
    ``reactant_coef`` (n_rt, 3) int64; ``change_ptr`` (n_rt+1), ``change_idx``,
    ``change_val`` — net changes in CSR form; ``slot_idx`` (n_rt, 3) int64 and
    ``slot_off`` (n_rt, 3) float — the propensity slots of kernels/ssa.py (index
    n_x is the constant-1 entry); ``dep_ptr`` (n_rt+1), ``dep_idx`` —
    the reactions whose propensity each reaction's firing changes;
    ``hor_order``, ``hor_coef`` (n_x) int64 — highest order of reaction each
    species is a reactant in (0: none) and its coefficient there;
    ``x0_mean`` (n_x) molecules; ``bolus_time``, ``bolus_species``,
    ``bolus_count`` (molecules), sorted by time; ``stops`` [s].
    """

    n_species: int
    n_reactions: int
    volume: float
    molecules_per_molar: float
    c: np.ndarray
    window_start: np.ndarray
    window_stop: np.ndarray
    reactant_idx: np.ndarray
    reactant_coef: np.ndarray
    slot_idx: np.ndarray
    slot_off: np.ndarray
    change_ptr: np.ndarray
    change_idx: np.ndarray
    change_val: np.ndarray
    dep_ptr: np.ndarray
    dep_idx: np.ndarray
    hor_order: np.ndarray
    hor_coef: np.ndarray
    x0_mean: np.ndarray
    t0: float
    t_out: np.ndarray
    stops: np.ndarray
    bolus_time: np.ndarray
    bolus_species: np.ndarray
    bolus_count: np.ndarray
    inputs: CompiledInputs = field(repr=False)
    #: General rate laws and state events (fentonsim.stochastic_laws), None for a mass-action network.
    laws: LawStochastic | None = field(default=None, repr=False)
    #: How the network's molecules are counted: per compartment, transport channels (fentonsim.stochastic_compartments).
    counting: count_view.CountView | None = field(default=None, repr=False)

    @property
    def n_total_reactions(self) -> int:
        return self.c.size

    @cached_property
    def groups(self) -> ReactionGroups:
        return reaction_groups(self.x0_mean.size, self.c, self.slot_idx, self.slot_off, self.window_start, self.window_stop,
                               self.dep_ptr, self.dep_idx)


def _volume(volume) -> float:
    if isinstance(volume, bool) or not isinstance(volume, (int, float, np.floating, np.integer)):
        raise ConditionsError(f"`volume` must be a number of litres, found {volume!r}")
    volume = float(volume)
    if not (math.isfinite(volume) and volume > 0):
        raise ConditionsError(f"`volume` must be positive and finite [L], found {volume!r}")
    return volume


def live_reactions(reactant_idx, reactant_coef, changes, c, x0, boluses):
    """Reactions that can ever fire: positive constant and every reactant reachable.

    A species is reachable if it starts above zero, receives a bolus, or is
    produced by a live reaction (fixed point). A dead reaction's propensity is
    0 for the whole run, so leaving it out of the dependency graph is exact —
    and it saves work: in iron.yaml without the ferryl branch, the six FeO²⁺
    reactions are dead.
    """
    n_rt = reactant_idx.shape[0]
    codes = np.asarray(boluses, dtype=np.int64)
    targets = np.where(codes < 0, -1 - codes, codes)  # assignments are coded −1 − species
    reachable = (np.asarray(x0) > 0) | np.isin(np.arange(changes.shape[1]), targets)
    live = np.zeros(n_rt, dtype=bool)
    while True:
        before = live.copy()
        for j in range(n_rt):
            if c[j] > 0 and all(reachable[reactant_idx[j, s]] for s in range(reactant_idx.shape[1])
                                if reactant_coef[j, s]):
                live[j] = True
        reachable |= (changes[live] > 0).any(axis=0)
        if np.array_equal(before, live):
            return live


#: The direct method recomputes every live group after a reaction whose dependents are at least this
#: fraction of them (one vectorised loop), and only the dependents otherwise (kernels/ssa.py).
DENSE_UPDATE_FRACTION = 0.5


@dataclass(frozen=True)
class ReactionGroups:
    """Reactions sharing reactant slots and input window, as the direct method takes them.

    Their propensities are proportional to their constants, so the direct
    method keeps one propensity per group (kernels/ssa.py ``_direct_steps``).
    Only reactions with c > 0 are members. ``ptr`` (n_g+1), ``member`` int64:
    each group's reactions in CSR form; ``slot0``, ``slot1``, ``slot2`` (n_g)
    int64: the group's falling factorial as indices into the kernel's
    (n, n−1, n−2)-per-species vector ``y`` (index 3·n_x is the constant 1);
    groups ``0 … n_live−1`` are those some firing changes; ``dep_ptr``
    (n_rt+1), ``dep_idx`` int64: for each reaction, the groups whose
    propensity its firing changes; ``dense`` (n_rt) bool: recompute all live
    groups after this reaction instead (see DENSE_UPDATE_FRACTION).
    """

    ptr: np.ndarray
    member: np.ndarray
    slot0: np.ndarray
    slot1: np.ndarray
    slot2: np.ndarray
    n_live: int
    dep_ptr: np.ndarray
    dep_idx: np.ndarray
    dense: np.ndarray

    @property
    def n_groups(self) -> int:
        return self.ptr.size - 1


def reaction_groups(n_x, c, slot_idx, slot_off, window_start, window_stop, dep_ptr, dep_idx) -> ReactionGroups:
    """Group the reactions with c > 0 by (reactant slots, window) and map the dependency graph onto groups.

    ``n_x`` state entries; ``c`` (n_rt), ``slot_idx``/``slot_off`` (n_rt, 3) and windows as in
    StochasticProblem; ``dep_ptr``/``dep_idx`` the reaction dependency graph (dependency_graph).
    """
    n_rt = slot_idx.shape[0]
    keys: dict[tuple, int] = {}
    group_of = np.full(n_rt, -1, dtype=np.int64)
    for j in np.flatnonzero(np.asarray(c) > 0):
        key = (tuple(slot_idx[j].tolist()), tuple(slot_off[j].tolist()), float(window_start[j]),
               float(window_stop[j]))
        group_of[j] = keys.setdefault(key, len(keys))
    n_g = len(keys)
    live = np.zeros(n_g, dtype=bool)
    listed = group_of[dep_idx]
    live[listed[listed >= 0]] = True
    rank = np.empty(n_g, dtype=np.int64)
    rank[np.argsort(~live, kind="stable")] = np.arange(n_g)  # live groups first
    grouped = np.flatnonzero(group_of >= 0)
    group_of[grouped] = rank[group_of[grouped]]
    member = grouped[np.argsort(group_of[grouped], kind="stable")].astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(group_of[grouped], minlength=n_g))]).astype(np.int64)
    first = member[ptr[:-1]]
    # Entry 3i + m of the kernel's y is n_i − m; the constant-1 slot (index n_x) maps to 3·n_x.
    slots = np.where(slot_idx[first] == n_x, 3 * n_x, 3 * slot_idx[first] + slot_off[first].astype(np.int64))
    n_live = int(live.sum())
    g_ptr, g_idx = [0], []
    dense = np.zeros(n_rt, dtype=bool)
    for j in range(n_rt):
        targets = sorted({int(group_of[q]) for q in dep_idx[dep_ptr[j]:dep_ptr[j + 1]] if group_of[q] >= 0})
        g_idx += targets
        g_ptr.append(len(g_idx))
        dense[j] = n_live > 0 and len(targets) >= DENSE_UPDATE_FRACTION * n_live
    return ReactionGroups(ptr=ptr, member=member, slot0=np.ascontiguousarray(slots[:, 0], dtype=np.int64),
                          slot1=np.ascontiguousarray(slots[:, 1], dtype=np.int64),
                          slot2=np.ascontiguousarray(slots[:, 2], dtype=np.int64), n_live=n_live,
                          dep_ptr=np.array(g_ptr, dtype=np.int64), dep_idx=np.array(g_idx, dtype=np.int64),
                          dense=dense)


def dependency_graph(reactant_idx, reactant_coef, change_ptr, change_idx, live=None, law_reads=None):
    """CSR (ptr, idx) of the reactions whose propensity changes when each reaction fires.

    Reactions not in ``live`` (boolean mask, default all) are never listed. ``law_reads`` ({reaction: species
    its general rate law reads}, fentonsim.stochastic_laws) adds the readers that are not reactants.
    """
    n_rt = reactant_idx.shape[0]
    live = np.ones(n_rt, dtype=bool) if live is None else live
    readers: dict[int, set] = {}
    for q in np.flatnonzero(live):
        for s in range(reactant_idx.shape[1]):
            if reactant_coef[q, s]:
                readers.setdefault(int(reactant_idx[q, s]), set()).add(q)
        for i in (law_reads or {}).get(int(q), ()):
            readers.setdefault(int(i), set()).add(q)
    ptr, idx = [0], []
    for j in range(n_rt):
        affected = set()
        for p in range(change_ptr[j], change_ptr[j + 1]):
            affected |= readers.get(int(change_idx[p]), set())
        idx += sorted(affected)
        ptr.append(len(idx))
    return np.array(ptr, dtype=np.int64), np.array(idx, dtype=np.int64)


def build_problem(network, k, y0, t_out, volume, *, boluses=(), sources=(), t0=0.0) -> StochasticProblem:
    """Compile ``network`` at rate constants ``k`` (n_r) [M^(1−order) s⁻¹], ``y0`` (n_s) [M] and ``volume`` [L]
    (None for a multi-compartment network, whose compartments set the volumes: fentonsim.stochastic_compartments)."""
    k = np.asarray(k, dtype=float)
    y0 = np.asarray(y0, dtype=float)
    n_s, n_r = network.n_species, network.n_reactions
    if k.shape != (n_r,) or y0.shape != (n_s,):
        raise ConditionsError(f"expected k of shape ({n_r},) and y0 of shape ({n_s},), found {k.shape} and {y0.shape}")
    if not np.all(np.isfinite(k)) or np.any(k < 0):
        raise ConditionsError("rate constants must be finite and non-negative")
    if not np.all(np.isfinite(y0)) or np.any(y0 < 0):
        raise ConditionsError("initial concentrations must be finite and non-negative")
    if network.compartments:
        view = count_view.compartments(network, k, volume)
    else:
        if network.has_general_laws:
            stochastic_laws.check(network)
        view = count_view.one_volume(network, k, _volume(volume))
    per_molar = view.per_molar
    inputs = compile_inputs(network, boluses, sources, t0, float(t_out[-1]))
    first_order = [j for j, s in enumerate(inputs.sources) if s.decay > 0]
    n_x = n_s + len(first_order)
    n_src = len(inputs.sources)
    n_rt = n_r + n_src

    c = np.empty(n_rt)
    c[:n_r] = view.c
    reactant_idx = np.zeros((n_rt, network.reactant_idx.shape[1]), dtype=np.int64)
    reactant_coef = np.zeros_like(reactant_idx)
    reactant_coef[:n_r] = network.reactant_coef
    reactant_idx[:n_r] = np.where(network.reactant_coef > 0, network.reactant_idx, 0)
    changes = np.zeros((n_rt, n_x), dtype=np.int64)
    changes[:n_r, :n_s] = view.changes
    window_start = np.full(n_rt, -math.inf)
    window_stop = np.full(n_rt, math.inf)
    bolus_time = list(inputs.bolus_time)
    bolus_species = list(inputs.bolus_species)
    # Assignments are coded −1 − species; both are counted in their species' own compartment.
    targets = np.where(inputs.bolus_species < 0, -1 - inputs.bolus_species, inputs.bolus_species)
    bolus_count = list(inputs.bolus_amount * per_molar[targets])
    reservoir = dict(zip(first_order, range(n_s, n_x)))
    for j, source in enumerate(inputs.sources):
        row = n_r + j
        species = int(inputs.source_species[j])
        changes[row, species] = 1
        window_start[row], window_stop[row] = source.start, source.stop
        if source.decay > 0:
            reactant_idx[row, 0], reactant_coef[row, 0] = reservoir[j], 1
            changes[row, reservoir[j]] = -1
            c[row] = source.decay
            bolus_time.append(source.start)
            bolus_species.append(reservoir[j])
            bolus_count.append(source.amplitude / source.decay * per_molar[species])
        else:
            c[row] = source.amplitude * per_molar[species]
    sort = np.argsort(np.array(bolus_time, dtype=float), kind="stable")
    change_ptr = np.concatenate([[0], np.cumsum(np.count_nonzero(changes, axis=1))]).astype(np.int64)
    rows, cols = np.nonzero(changes)
    change_idx = cols.astype(np.int64)
    change_val = changes[rows, cols].astype(np.int64)
    live = live_reactions(reactant_idx, reactant_coef, changes, c, y0.tolist() + [0.0] * (n_x - n_s), bolus_species)
    dep_ptr, dep_idx = dependency_graph(reactant_idx, reactant_coef, change_ptr, change_idx, live,
                                        stochastic_laws.law_reads(network) if network.has_general_laws else None)

    total_order = reactant_coef.sum(axis=1)
    hor_order = np.zeros(n_x, dtype=np.int64)
    hor_coef = np.zeros(n_x, dtype=np.int64)
    for j in range(n_rt):
        for s in range(reactant_idx.shape[1]):
            v = reactant_coef[j, s]
            if v == 0:
                break
            i = reactant_idx[j, s]
            if total_order[j] > hor_order[i] or (total_order[j] == hor_order[i] and v > hor_coef[i]):
                hor_order[i], hor_coef[i] = total_order[j], v
    slot_idx = np.full((n_rt, 3), n_x, dtype=np.int64)
    slot_off = np.zeros((n_rt, 3))
    power = np.zeros(n_rt, dtype=bool)
    power[:n_r] = network.propensity_power
    for j in range(n_rt):
        slot = 0
        for s in range(reactant_idx.shape[1]):
            for m in range(reactant_coef[j, s]):
                slot_idx[j, slot], slot_off[j, slot] = reactant_idx[j, s], 0 if power[j] else m
                slot += 1
    x0_mean = np.zeros(n_x)
    x0_mean[:n_s] = y0 * per_molar
    laws = stops = None
    if network.has_general_laws:
        from .deterministic import _event_stops
        laws = stochastic_laws.arrays(network, n_rt, n_x, change_ptr, change_idx, reactant_idx, reactant_coef)
        stops = _event_stops(network, inputs.stops, t0)
    return StochasticProblem(
        n_species=n_s, n_reactions=n_r, volume=view.volume, molecules_per_molar=molecules_per_molar(view.volume), c=c,
        window_start=window_start, window_stop=window_stop, reactant_idx=reactant_idx, reactant_coef=reactant_coef,
        slot_idx=slot_idx, slot_off=slot_off, change_ptr=change_ptr, change_idx=change_idx, change_val=change_val, dep_ptr=dep_ptr, dep_idx=dep_idx,
        hor_order=hor_order, hor_coef=hor_coef, x0_mean=x0_mean, t0=float(t0),
        t_out=np.ascontiguousarray(t_out, dtype=float), stops=inputs.stops if stops is None else stops,
        bolus_time=np.array(bolus_time, dtype=float)[sort], bolus_species=np.array(bolus_species, dtype=np.int64)[sort],
        bolus_count=np.array(bolus_count, dtype=float)[sort], inputs=inputs, laws=laws, counting=view)


@dataclass(frozen=True)
class EventEstimate:
    """Expected events per trajectory and peak molecule count, from the rate equations."""

    events: float
    peak_count: float
    basis: str


def estimate_events(network, problem: StochasticProblem, k, y0, boluses=(), sources=()) -> EventEstimate:
    """Events per trajectory ≈ N_A·V·(Σ_j extent_j(t_end) + supplied amount), from an ODE solve.

    The ODE's extents are the large-volume mean of the SSA's event counts. If
    the ODE cannot be solved, the initial total propensity × duration stands in.
    """
    from .deterministic import solve_ode
    from .errors import SolverError

    view = problem.counting
    duration = problem.t_out[-1] - problem.t0
    inputs = problem.inputs
    delivered = [float(s.delivered(problem.t_out[-1])) for s in inputs.sources]
    one = network.compartments == ()
    # 10⁻³ molecules in each species' own compartment (one number for one volume, as before).
    atol = min(1e-3 / problem.molecules_per_molar, 1e-9) if one else np.minimum(1e-3 / view.per_molar, 1e-9)
    try:
        solution = solve_ode(network, k, y0, problem.t_out, boluses=boluses, sources=sources, rtol=1e-4,
                             atol=atol, t0=problem.t0, max_steps=200_000)
    except SolverError:
        a = propensities(problem, problem.x0_mean)
        peak = float(problem.x0_mean.max(initial=0.0) + problem.bolus_count.sum())
        return EventEstimate(float(a.sum() * duration), peak, "initial propensities × duration")
    if one:
        nv = problem.molecules_per_molar
        events = float(solution.extent[-1].sum() + sum(delivered)) * nv
        peak = float(max(solution.concentration.max(initial=0.0) * nv, problem.x0_mean.max(initial=0.0)))
    else:
        events = float(solution.extent[-1] @ view.extent_per_molar
                       + np.dot(delivered, view.per_molar[inputs.source_species]))
        peak = float(max((solution.concentration * view.per_molar).max(initial=0.0), problem.x0_mean.max(initial=0.0)))
    return EventEstimate(events, peak, "rate equations")


def propensities(problem: StochasticProblem, x) -> np.ndarray:
    """Propensities [s⁻¹] of all reactions at molecule numbers ``x`` (n_x), all windows open.

    The same slot form as the kernels (kernels/ssa.py ``propensity``), vectorised; general laws from their
    programs (fentonsim.stochastic_laws).
    """
    extended = np.append(np.asarray(x, dtype=float), 1.0)
    a = problem.c * np.prod(extended[problem.slot_idx] - problem.slot_off, axis=1)
    if problem.laws is not None:
        a[problem.laws.is_law] = problem.laws.law_propensities(problem, x)[problem.laws.is_law]
    return a


def production_matrix(network) -> np.ndarray:
    """(n_r, n_s): molecules of each species one event of each reaction makes (positive part of net_stoich)."""
    return np.clip(np.asarray(network.net_stoich, dtype=float), 0, None)


@dataclass
class StochasticSolution:
    """Arrays of one stochastic ensemble (molecule counts; see fentonsim.results for the Dataset).

    Always: ``time`` (n_out) [s]; ``n_events`` (runs) int64; ``status`` (runs)
    int64 (STATUS_NAMES); ``t_reached`` (runs) [s]; ``counters`` (4,) int64 summed
    over runs (events, SSA steps, leaps, rejected leaps).
    With ``stats=False``: ``counts`` (runs, n_out, n_s) int64, −1 where a run
    stopped early; ``events`` (runs, n_r) int64 per network reaction.
    With ``stats=True``: ``count_mean``, ``count_sd`` (n_out, n_s);
    ``count_quantiles`` (n_q, n_out, n_s); ``n_valid`` (n_out) — runs that reached
    each time; ``events_mean``, ``events_sd`` (n_r); ``produced_mean``,
    ``produced_sd`` (n_s) molecules made per run (Σ events × positive stoichiometry).
    """

    time: np.ndarray
    method: str
    algorithm: str
    method_reason: str
    runs: int
    seed: int
    volume: float
    molecules_per_molar: float
    epsilon: float
    max_events: int
    estimate: EventEstimate
    n_events: np.ndarray
    status: np.ndarray
    t_reached: np.ndarray
    counters: np.ndarray
    wall_time_s: float
    quantiles: tuple = ()
    #: N_A·V [molecules M⁻¹] of each species' compartment, shape (n_s,) (all ``molecules_per_molar`` for one
    #: volume; ``volume`` and ``molecules_per_molar`` are NaN for several compartments).
    species_molecules_per_molar: np.ndarray | None = None
    counts: np.ndarray | None = None
    events: np.ndarray | None = None
    count_mean: np.ndarray | None = None
    count_sd: np.ndarray | None = None
    count_quantiles: np.ndarray | None = None
    n_valid: np.ndarray | None = None
    events_mean: np.ndarray | None = None
    events_sd: np.ndarray | None = None
    produced_mean: np.ndarray | None = None
    produced_sd: np.ndarray | None = None
    inputs: CompiledInputs | None = field(default=None, repr=False)

    @property
    def streaming(self) -> bool:
        return self.counts is None


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConditionsError(f"`{name}` must be an integer ≥ {minimum}, found {value!r}")
    return int(value)


def _where(problem) -> str:
    """The volume(s) molecules are counted in, for messages."""
    return problem.counting.where if problem.counting is not None else f"V = {problem.volume:g} L"


def _resolve_method(method, ssa_algorithm, problem, estimate, max_events):
    if method not in METHODS:
        raise ConditionsError(f"unknown stochastic method `{method}`; expected one of {', '.join(METHODS)}")
    if ssa_algorithm not in SSA_ALGORITHMS:
        raise ConditionsError(f"unknown `ssa_algorithm` `{ssa_algorithm}`; expected one of {', '.join(SSA_ALGORITHMS)}")
    if estimate.peak_count > ssa.COUNT_LIMIT / 4:
        raise ConditionsError(
            f"molecule counts would reach about {estimate.peak_count:.2g} in {_where(problem)}, beyond "
            f"what 64-bit counts hold safely ({ssa.COUNT_LIMIT / 4:.1g}); use method='ode' or a smaller volume")
    reason = ""
    if method == "auto":
        if estimate.events <= AUTO_SSA_EVENTS:
            method = "ssa"
            reason = (f"auto: about {estimate.events:.3g} events per run (from the {estimate.basis}) ≤ "
                      f"{AUTO_SSA_EVENTS:.0e}, so exact SSA")
        else:
            method = "tau-leap"
            reason = (f"auto: about {estimate.events:.3g} events per run (from the {estimate.basis}) > "
                      f"{AUTO_SSA_EVENTS:.0e}, so tau-leaping")
    if method == "ssa" and estimate.events > max_events:
        raise ConditionsError(
            f"exact SSA would need about {estimate.events:.3g} events per run (estimated from the "
            f"{estimate.basis} in {_where(problem)}), more than max_events = {max_events:.3g}. Use "
            f"method='tau-leap' (or 'auto'), method='ode', a smaller volume, or raise max_events.")
    if method == "tau-leap":
        return method, "tau-leap", reason or "requested"
    if not reason:
        reason = "requested"
    if problem.laws is not None:
        if ssa_algorithm == "next-reaction":
            raise ConditionsError("ssa_algorithm='next-reaction' runs mass-action networks only; general rate laws "
                                  "and state events run the direct method (ssa_algorithm='auto' or 'direct')")
        return method, "direct", reason + ("; direct method (general rate laws)" if ssa_algorithm == "auto" else "")
    algorithm = choose_ssa_algorithm(problem.n_total_reactions) if ssa_algorithm == "auto" else ssa_algorithm
    if ssa_algorithm == "auto":
        reason += (f"; {algorithm} method for {problem.n_total_reactions} reactions "
                   f"(direct up to {DIRECT_MAX_REACTIONS})")
    return method, algorithm, reason


_KERNEL_METHOD = {"direct": ssa.DIRECT, "next-reaction": ssa.NEXT_REACTION, "tau-leap": ssa.TAU_LEAP}


def run_block(problem, algorithm, seed, first, size, epsilon, max_events, on_progress=None):
    """Run trajectories ``first … first+size−1``; returns (counts, events, counters, status, t_reached).

    Ctrl-C during the block ends it within ~1,000 events per trajectory and raises KeyboardInterrupt here.
    ``on_progress(n)``, if given, hears every ~0.1 s how many of the block's trajectories have finished.
    """
    n_out, n_x, n_rt = problem.t_out.size, problem.x0_mean.size, problem.n_total_reactions
    counts = np.empty((size, n_out, n_x), dtype=np.int64)
    events = np.empty((size, n_rt), dtype=np.int64)
    counters = np.empty((size, ssa.N_COUNTERS), dtype=np.int64)
    status = np.full(size, -1, dtype=np.int64)  # the kernel writes each trajectory's status as it ends
    t_reached = np.empty(size)
    stop = np.zeros(1, dtype=np.int64)
    if problem.laws is not None:
        failure = np.empty((size, laws_ssa.N_FAILURE))
        method = laws_ssa.TAU_LEAP if algorithm == "tau-leap" else laws_ssa.DIRECT
        _interruptible(lambda: problem.laws.run(method, problem, seed, first, epsilon, max_events, counts, events,
                                                counters, status, t_reached, failure, stop),
                       stop, None if on_progress is None else lambda: on_progress(int((status >= 0).sum())))
        problem.laws.raise_failures(status, failure, problem.laws.network.species)
        return counts, events, counters, status, t_reached
    groups = problem.groups

    def kernel():
        ssa.ensemble(_KERNEL_METHOD[algorithm], first, np.uint64(seed), problem.c, problem.window_start,
                     problem.window_stop, problem.slot_idx, problem.slot_off, problem.change_ptr,
                     problem.change_idx, problem.change_val, problem.dep_ptr, problem.dep_idx, groups.slot0,
                     groups.slot1, groups.slot2, groups.n_live, groups.dense, groups.ptr, groups.member,
                     groups.dep_ptr, groups.dep_idx, problem.hor_order, problem.hor_coef, float(epsilon),
                     problem.x0_mean, problem.t0, problem.t_out, problem.stops, problem.bolus_time,
                     problem.bolus_species, problem.bolus_count, int(max_events), counts, events, counters,
                     status, t_reached, stop)

    _interruptible(kernel, stop, None if on_progress is None else lambda: on_progress(int((status >= 0).sum())))
    return counts, events, counters, status, t_reached


_KERNEL_THREAD = None


def _interruptible(kernel, stop, poll=None) -> None:
    """Run ``kernel`` so that Ctrl-C can end it early.

    Python runs signal handlers only between bytecodes of the main thread, so a compiled kernel called
    from it defers Ctrl-C until it returns (a copper trajectory takes seconds). The main thread therefore
    waits on the (GIL-free) kernel in a worker thread; on KeyboardInterrupt it raises ``stop[0]``, which
    the kernel reads every STOP_CHECK_INTERVAL events, waits the few microseconds for it to return and
    re-raises. Called from any other thread, where no signal can arrive, the kernel runs in place. One
    long-lived worker keeps the OpenMP thread team of the parallel kernel warm across blocks; it runs each
    kernel with the caller's numba thread count (a per-thread setting: without this, a limit set with
    ``set_threads`` — a sweep worker's share of the cores, a one-thread benchmark — was ignored and the
    ensemble used every core). ``poll()`` is called while waiting (progress reports).
    """
    if threading.current_thread() is not threading.main_thread():
        kernel()
        return
    global _KERNEL_THREAD
    if _KERNEL_THREAD is None:
        _KERNEL_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fentonsim-kernel")
    threads = get_threads()  # numba's thread count is per thread: the caller's limit must hold in the worker

    def in_worker():
        set_threads(threads)
        kernel()

    future = _KERNEL_THREAD.submit(in_worker)
    try:
        # A timed wait: should the signal land on another thread, the main thread still notices it at once.
        while True:
            try:
                future.result(timeout=0.1)
                break
            except FutureTimeout:
                if poll is not None:
                    poll()
    except KeyboardInterrupt:
        stop[0] = 1
        future.result()
        raise


#: Share of the machine's available memory an ensemble may plan to use (results and their Dataset copy).
MEMORY_SHARE = 0.8


def available_memory() -> float:
    """Bytes of memory available to a new allocation (MemAvailable on Linux; physical memory elsewhere)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _check_memory(runs, n_out, n_s, n_r, stats) -> None:
    """Refuse an ensemble whose results cannot fit before allocating them: kept trajectories cost
    runs × n_out × n_s counts, and the result Dataset holds them again as concentrations and produced amounts."""
    per_run = 3 * 8 + (0 if stats else 8 * (3 * n_out * n_s + n_r + n_s))
    needed = float(runs) * per_run
    available = available_memory()
    if needed > MEMORY_SHARE * available:
        advice = ("fewer runs" if stats else
                  "stats=True (streaming mean, sd and quantiles: memory independent of runs) or fewer runs")
        raise ConditionsError(f"{runs:,} runs would need about {needed / 2**30:,.1f} GiB for their results, more than "
                              f"{MEMORY_SHARE:.0%} of the {available / 2**30:,.1f} GiB available; use {advice}")


def run_stochastic(network, k, y0, t_out, *, volume=None, method="ssa", runs=1, seed=0, stats=False,
                   quantiles=DEFAULT_QUANTILES, boluses=(), sources=(), t0=0.0, epsilon=DEFAULT_EPSILON,
                   max_events=DEFAULT_MAX_EVENTS, ssa_algorithm="auto", time_budget_s=None, progress=False,
                   block_size=None) -> StochasticSolution:
    """Simulate ``runs`` trajectories of ``network`` in ``volume`` litres.

    Parameters
    ----------
    network : Network
    k : array_like, shape (n_r,)
        Effective rate constants [M^(1−order) s⁻¹] at the run's conditions.
    y0 : array_like, shape (n_s,)
        Initial concentrations [M].
    t_out : array_like, shape (n_out,)
        Strictly increasing output times [s], ≥ t0.
    volume : float or None
        Reaction volume [L]; None (required) for a multi-compartment network, whose molecules are counted in
        their own compartments' volumes (fentonsim.stochastic_compartments).
    method : {"ssa", "tau-leap", "auto"}
    runs : int
        Number of trajectories.
    seed : int
        0 ≤ seed < 2⁶⁴. Trajectory i uses the stream (seed, i) only.
    stats : bool
        False: keep every trajectory. True: streaming mean, sd and ``quantiles``
        per time point, with memory independent of ``runs``.
    quantiles : sequence of float in (0, 1)
        Quantiles estimated in streaming mode (P² algorithm).
    boluses, sources : sequences of Bolus / Source
    epsilon : float
        Tau-leaping error control parameter (0 < ε < 1; CGP 2006 use 0.03).
    max_events : int
        Work allowed per trajectory: events for the SSA (runs estimated to need
        more are refused up front), steps (leaps, rejected leaps and exact steps) for tau-leaping.
    ssa_algorithm : {"auto", "direct", "next-reaction"}
    time_budget_s : float, optional
        Start no new block of trajectories after this wall time [s] (the first
        block always runs); unrun trajectories get status NOT_RUN.
    progress : bool, optional
        A tqdm bar over finished trajectories (None: only when stderr is a terminal; see fentonsim.progress).
    block_size : int, optional
        Trajectories per parallel block (memory only; never changes the numbers).
    """
    from .deterministic import _time_grid

    t_out = _time_grid(t_out, t0)
    runs = _check_int(runs, "runs", 1)
    max_events = _check_int(max_events, "max_events", 1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 64:
        raise ConditionsError(f"`seed` must be an integer between 0 and 2**64 − 1, found {seed!r}")
    if not (isinstance(epsilon, (int, float)) and 0 < epsilon < 1):
        raise ConditionsError(f"`epsilon` must be between 0 and 1, found {epsilon!r}")
    quantiles = tuple(float(q) for q in quantiles) if stats else ()
    if any(not 0 < q < 1 for q in quantiles):
        raise ConditionsError(f"`quantiles` must lie strictly between 0 and 1, found {quantiles}")
    if time_budget_s is not None and not (isinstance(time_budget_s, (int, float)) and time_budget_s > 0):
        raise ConditionsError(f"`time_budget_s` must be a positive number of seconds, found {time_budget_s!r}")
    problem = build_problem(network, k, y0, t_out, volume, boluses=boluses, sources=sources, t0=t0)
    estimate = estimate_events(network, problem, np.asarray(k, dtype=float), np.asarray(y0, dtype=float),
                               boluses, sources)
    method, algorithm, reason = _resolve_method(method, ssa_algorithm, problem, estimate, max_events)
    if problem.laws is not None:
        problem.laws.prepare_native(runs * estimate.events)

    n_s, n_r, n_out = problem.n_species, problem.n_reactions, t_out.size
    cells = n_out * problem.x0_mean.size
    if block_size is None:
        # Blocks bound the scratch memory and let the progress bar and time budget act between them.
        block_size = int(np.clip(_BLOCK_BYTES // (8 * cells), 16, 4096))
    block_size = _check_int(block_size, "block_size", 1)
    _check_memory(runs, n_out, n_s, n_r, stats)
    positive = production_matrix(network)

    n_events = np.zeros(runs, dtype=np.int64)
    status = np.full(runs, NOT_RUN, dtype=np.int64)
    t_reached = np.full(runs, t0, dtype=float)
    counters = np.zeros(ssa.N_COUNTERS, dtype=np.int64)
    result = {}
    if stats:
        acc = {
            "count": (np.zeros(n_out * n_s, dtype=np.int64), np.zeros(n_out * n_s), np.zeros(n_out * n_s)),
            "events": (np.zeros(n_r, dtype=np.int64), np.zeros(n_r), np.zeros(n_r)),
            "produced": (np.zeros(n_s, dtype=np.int64), np.zeros(n_s), np.zeros(n_s)),
        }
        p2_probabilities = np.array(quantiles, dtype=float)
        p2_seen = np.zeros(n_out * n_s, dtype=np.int64)
        p2_heights = np.zeros((len(quantiles), n_out * n_s, stats_kernels.P2_MARKERS))
        p2_positions = np.zeros_like(p2_heights)
        p2_desired = np.zeros_like(p2_heights)
    else:
        all_counts = np.full((runs, n_out, n_s), -1, dtype=np.int64)
        all_events = np.zeros((runs, n_r), dtype=np.int64)

    starts = range(0, runs, block_size)
    bar = progress_bar(runs, progress, unit="run", desc=f"{method} ensemble")
    reported = [0]

    def advance(done):
        bar.update(done - reported[0])
        reported[0] = done

    start_time = _time.perf_counter()
    for first in starts:
        if first > 0 and time_budget_s is not None and _time.perf_counter() - start_time > time_budget_s:
            break  # the first block always runs, so a budget never returns nothing
        size = min(block_size, runs - first)
        reported[0] = 0
        try:
            counts, events, block_counters, block_status, block_t = run_block(
                problem, algorithm, seed, first, size, epsilon, max_events, on_progress=advance)
        except BaseException:
            bar.close()
            raise
        advance(size)
        sl = slice(first, first + size)
        status[sl], t_reached[sl] = block_status, block_t
        n_events[sl] = block_counters[:, ssa.C_EVENTS]
        counters += block_counters.sum(axis=0)
        counts = counts[:, :, :n_s]
        events = events[:, :n_r]
        if problem.counting is not None and problem.counting.mirror_to.size:
            # A transport's gain row reports its channel's firings (fentonsim.stochastic_compartments).
            events[:, problem.counting.mirror_to] = events[:, problem.counting.mirror_from]
        if stats:
            # Broadcasts are copied: a read-only view (n_s or n_r = 1 makes the broadcast a no-op) is
            # another array type to numba and would compile the statistics kernels again.
            valid = np.broadcast_to((counts[:, :, :1] >= 0), counts.shape).copy().reshape(size, -1)
            flat = np.ascontiguousarray(counts, dtype=float).reshape(size, -1)
            stats_kernels.welford(flat, valid, *acc["count"])
            stats_kernels.p2_update(flat, valid, p2_probabilities, p2_seen, p2_heights, p2_positions, p2_desired)
            complete = np.broadcast_to((block_status == SUCCESS)[:, None], (size, n_r)).copy()
            stats_kernels.welford(np.ascontiguousarray(events, dtype=float), complete, *acc["events"])
            produced = np.ascontiguousarray(events @ positive)
            stats_kernels.welford(produced, np.ascontiguousarray(complete[:, :1].repeat(n_s, axis=1)),
                                  *acc["produced"])
        else:
            all_counts[sl] = counts
            all_events[sl] = events
    wall = _time.perf_counter() - start_time
    bar.close()

    if stats:
        def finish(key, shape):
            count, mean, m2 = acc[key]
            with np.errstate(invalid="ignore", divide="ignore"):
                sd = np.where(count > 1, np.sqrt(m2 / np.maximum(count - 1, 1)), np.nan)
            return np.where(count > 0, mean, np.nan).reshape(shape), sd.reshape(shape)

        result["count_mean"], result["count_sd"] = finish("count", (n_out, n_s))
        result["events_mean"], result["events_sd"] = finish("events", (n_r,))
        result["produced_mean"], result["produced_sd"] = finish("produced", (n_s,))
        result["n_valid"] = acc["count"][0].reshape(n_out, n_s)[:, 0].copy()
        result["count_quantiles"] = stats_kernels.p2_estimates(p2_probabilities, p2_seen, p2_heights).reshape(
            len(quantiles), n_out, n_s)
    else:
        result["counts"], result["events"] = all_counts, all_events
    return StochasticSolution(
        time=t_out, method=method, algorithm=algorithm, method_reason=reason, runs=runs, seed=int(seed),
        volume=problem.volume, molecules_per_molar=problem.molecules_per_molar,
        species_molecules_per_molar=problem.counting.per_molar, epsilon=float(epsilon),
        max_events=max_events, estimate=estimate, n_events=n_events, status=status, t_reached=t_reached,
        counters=counters, wall_time_s=wall, quantiles=quantiles, inputs=problem.inputs, **result)
