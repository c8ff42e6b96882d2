"""Stochastic simulation of networks with general rate laws and state events (kernels/laws_ssa.py).

Convention: a reaction with law r = k·g(c) [M s⁻¹] fires with propensity a(n) = N_A·V·k·g(c) [s⁻¹] at
c = n/(N_A·V) [M]; mass-action reactions keep c·n(n−1)… (fentonsim.stochastic). For an SBML model in
molecule counts this is the kinetic law evaluated on the counts, as the SBML stochastic semantics say.

A deterministic law is a model of the rate equations, not of single molecules. A Michaelis–Menten
propensity a = V·N_A·k_cat·E·S/(K_m + S) is the quasi-steady-state reduction of E + S ⇌ ES → E + P: it is
a good stochastic model when the complex forms and decays fast compared with the product step and the
enzyme is a small fraction of the substrate; with few enzyme molecules, or when ES is slow, the reduced
propensity gets the mean roughly right but not the noise (and not the waiting-time distribution), and
the elementary steps should be written as mass-action reactions instead.

What is refused, by name: SBML parameters under rate rules (continuous quantities, not counts),
laws reading ``time`` (their propensity changes between events),
triggers that compare ``time`` other than with a constant threshold (their switching instant could not
be landed on), and the next-reaction method (general-law reactions run the direct method).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constants import AVOGADRO
from . import native_laws
from .errors import ConditionsError, SolverError
from .kernels import laws as laws_kernel
from .kernels import laws_ssa
from .laws import ADD, ADD_C, CONST, DIV, DIV_C, MUL, MUL_C, NEG, READS_STATE, SUB, SUB_C, TIME

#: Opcodes of a comparison that is affine in time (c·time ⋚ T, written any way round).
_AFFINE = {CONST, TIME, ADD, SUB, MUL, DIV, NEG, ADD_C, SUB_C, MUL_C, DIV_C}


def _programs(code, operand, starts):
    """(opcodes, operands) of every program of a table."""
    return [(code[starts[p]:starts[p + 1]], operand[starts[p]:starts[p + 1]]) for p in range(starts.size - 1)]


def _reads(opcodes, operands) -> set:
    return {int(v) for o, v in zip(opcodes, operands) if o in READS_STATE}


def check(network) -> None:
    """Raise ConditionsError naming what the stochastic solvers cannot run (module docstring)."""
    laws = network.laws
    # An SBML parameter under a rate rule is a state variable reported as an observable of itself; it is a
    # continuous quantity, not a count. (Species of an imported model are `signed` for the ODE's sake, but
    # counts cannot go negative here: a firing that would make one negative stops the run with an error.)
    continuous = [o.name for o in network.observables if o.name in network.species]
    if continuous:
        raise ConditionsError(f"the stochastic solvers need every state variable to be a molecule count; "
                              f"{', '.join(continuous[:5])} of `{network.name}` is a quantity driven by an SBML "
                              "rate rule: use method='ode'")
    programs = _programs(laws.code, laws.operand, laws.rate_start)
    for rid in laws.general_reactions:
        j = network.reaction_ids.index(rid)
        if TIME in programs[j][0]:
            raise ConditionsError(
                f"reaction `{rid}` of `{network.name}` has a rate law that reads `time` ({laws.texts[j]}); its "
                "propensity would change between events, which the SSA's exponential waiting times cannot "
                "represent: use method='ode', or express the time dependence as events")
    switches = _programs(laws.code, laws.operand, laws.switch_start)
    in_triggers = sum(int(np.count_nonzero(o == TIME)) for o, _ in _programs(laws.code, laws.operand,
                                                                                laws.trigger_start))
    in_switches = 0
    for p, (opcodes, _) in enumerate(switches):
        n_time = int(np.count_nonzero(opcodes == TIME))
        in_switches += n_time
        if n_time and not _threshold(laws, p, opcodes):
            in_switches = -1
            break
    if in_triggers and in_switches != in_triggers:
        raise ConditionsError(
            f"a trigger of `{network.name}` ({', '.join(laws.event_names[:5])}) reads `time` other than as "
            "`time` compared with a constant; the SSA fires events when the state changes or at such "
            "thresholds only: use method='ode'")


def _threshold(laws, p, opcodes) -> bool:
    """Whether comparison p is `a·time + b ⋚ 0` with a ≠ 0 and its root among the event times (a stop)."""
    if not set(opcodes.tolist()) <= _AFFINE or np.count_nonzero(opcodes == TIME) != 1:
        return False
    values = np.empty(1)
    at = []
    for t in (1.0, 2.0, 3.0):
        laws_kernel.evaluate_programs(laws.code, laws.operand, laws.constants, laws.switch_start[p:p + 2],
                                      np.ones(1), np.zeros(1), t, np.empty(max(laws.stack_size, 1)), values)
        at.append(values[0])
    slope = at[1] - at[0]
    if not (np.isfinite(slope) and slope != 0 and np.isclose(at[2] - at[1], slope, rtol=1e-12, atol=0)):
        return False
    root = 1.0 - at[0] / slope
    return bool(np.any(np.isclose(laws.event_times, root, rtol=1e-12, atol=1e-300)))


def law_reads(network) -> dict:
    """{general-law reaction index: species its law reads}: the dependency graph's extra edges."""
    laws = network.laws
    programs = _programs(laws.code, laws.operand, laws.rate_start)
    return {j: _reads(*programs[j]) for j in (network.reaction_ids.index(r) for r in laws.general_reactions)}


@dataclass(frozen=True, eq=False)
class LawStochastic:
    """Arrays kernels/laws_ssa.py takes beyond a StochasticProblem's (n_rt reactions, n_x state entries).

    ``is_law`` (n_rt,) bool: propensity from the law program (c = N_A·V·k); ``trigger_reader`` (n_rt,) bool:
    firing changes a species some trigger reads; ``watched`` (n_x,) bool: species some propensity reads
    (the tau-leap bound covers them); ``time_triggers``: some trigger compares `time` (stops are processed
    once more just after); ``law``, ``deriv``, ``ev``, ``initial_value``: the tuples the kernel takes.
    """

    network: object
    is_law: np.ndarray
    trigger_reader: np.ndarray
    watched: np.ndarray
    time_triggers: bool
    law: tuple
    deriv: tuple
    ev: tuple
    initial_value: np.ndarray

    def run(self, method, problem, seed, first, epsilon, max_events, counts, events, counters, status, t_reached,
            failure, stop):
        laws_ssa.ensemble(method, first, np.uint64(seed), problem.c, problem.window_start, problem.window_stop,
                          self.is_law, problem.slot_idx, problem.slot_off, self._law_with_native(), self.deriv,
                          problem.change_ptr,
                          problem.change_idx, problem.change_val, problem.dep_ptr, problem.dep_idx,
                          self.trigger_reader, self.time_triggers, self.ev, self.initial_value, self.watched,
                          problem.hor_order, problem.hor_coef, float(epsilon), self.per_molar(problem.volume),
                          problem.x0_mean, problem.t0, problem.t_out, problem.stops, problem.bolus_time,
                          problem.bolus_species, problem.bolus_count, int(max_events), counts, events, counters,
                          status, t_reached, failure, stop)

    def prepare_native(self, expected_events) -> None:
        """Compile the native propensities now if an ensemble of ``expected_events`` events in all is worth it
        (fentonsim.native_laws.prepare_ssa)."""
        native_laws.prepare_ssa(self.network.laws, self.law[3].size - 1, expected_events)

    def _law_with_native(self) -> tuple:
        """``law`` and the native propensity function (fentonsim.native_laws; decided per run)."""
        return (*self.law, *native_laws.ssa_function(self.network.laws, self.law[3].size - 1))

    def law_propensities(self, problem, x) -> np.ndarray:
        """N_A·V·k·g(c) of every reaction's law program at molecule numbers ``x`` (n_x) [s⁻¹], shape (n_rt,)."""
        n_r = self.network.n_reactions
        laws = self.network.laws
        out = np.zeros(self.is_law.size)
        conc = np.asarray(x, dtype=float) / problem.molecules_per_molar
        laws_kernel.evaluate_programs(laws.code, laws.operand, laws.constants, laws.rate_start,
                                      np.ascontiguousarray(problem.c[:n_r]), conc, 0.0,
                                      np.empty(max(laws.stack_size, 1)), out[:n_r])
        return out

    def per_molar(self, volume) -> np.ndarray:
        """(N_A·V, s) for kernels/laws_ssa.py: s is the factor an SBML model in counts multiplies a species'
        concentration [M] by to get its count back, at the model's own volume (0 otherwise: no correction)."""
        counts = self.network.counts and volume == self.network.defaults.volume
        return np.array([AVOGADRO * volume, volume / (1.0 / AVOGADRO) if counts else 0.0])

    def raise_failures(self, status, failure, species) -> None:
        """Raise for the first run stopped by something only the model can fix (negative law, events)."""
        bad = np.flatnonzero(status >= laws_ssa.NEGATIVE_PROPENSITY)
        if bad.size == 0:
            return
        run = int(bad[0])
        code, (index, value, t) = int(status[run]), failure[run]
        index = int(index)
        network = self.network
        ids = list(network.reaction_ids) + [f"source {i}" for i in range(self.is_law.size - network.n_reactions)]
        if code == laws_ssa.NEGATIVE_PROPENSITY:
            law = self.network.laws.texts[index] if index < network.n_reactions else ""
            raise SolverError(f"reaction `{ids[index]}` has propensity {value:.6g} s⁻¹ at t = {t:.6g} s in run "
                              f"{run} (law {law}): a propensity must be finite and ≥ 0 on every reachable "
                              "state; rewrite the law so it cannot turn negative", time=t)
        if code == laws_ssa.NEGATIVE_COUNT:
            raise SolverError(f"reaction `{ids[index]}` fired at t = {t:.6g} s in run {run} with no "
                              f"`{species[int(value)]}` left to consume: its law is positive where its reactant "
                              "is exhausted, so it is not a stochastic reaction model; make the law vanish "
                              "with the reactant", time=t, species=species[int(value)])
        if code == laws_ssa.NEGATIVE_ASSIGNMENT:
            raise SolverError(f"an event sets `{species[index]}` to {value:.6g} molecules at t = {t:.6g} s in "
                              f"run {run}; a count cannot be negative", time=t, species=species[index])
        from .deterministic import _event_error
        raise _event_error(network, code - laws_ssa.EVENT_BASE, index, t)


def arrays(network, n_rt, n_x, change_ptr, change_idx, reactant_idx, reactant_coef) -> LawStochastic:
    """The :class:`LawStochastic` of ``network`` for a problem of ``n_rt`` reactions and ``n_x`` state entries."""
    laws = network.laws
    n_r = network.n_reactions
    reads = law_reads(network)
    is_law = np.zeros(n_rt, dtype=bool)
    is_law[list(reads)] = True
    watched = np.zeros(n_x, dtype=bool)
    for species in reads.values():
        watched[list(species)] = True
    watched[reactant_idx[reactant_coef > 0]] = True
    triggers = _programs(laws.code, laws.operand, laws.trigger_start)
    read_by_triggers = set().union(*(_reads(*p) for p in triggers)) if triggers else set()
    trigger_reader = np.array([bool(read_by_triggers & set(change_idx[change_ptr[j]:change_ptr[j + 1]].tolist()))
                               for j in range(n_rt)], dtype=bool)
    # The kernel reads only the general laws' derivatives (mass action has CGP's orders); the table is whole
    # because its programs are consecutive in one code array.
    deriv = (laws.deriv_reaction, laws.deriv_species, laws.deriv_start, np.ones(laws.deriv_reaction.size))
    stack = np.empty(max(int(laws.stack_size), 1))
    law = (laws.code, laws.operand, laws.constants, np.ascontiguousarray(laws.rate_start[:n_r + 1]), stack)
    ev = (laws.code, laws.operand, laws.constants, laws.trigger_start, laws.assignment_start,
          laws.assignment_target, laws.event_assignments, laws.event_priority, laws.event_use_trigger_values,
          laws.delay_start, laws.event_persistent, laws.event_interacts, np.zeros(n_x, dtype=bool))
    return LawStochastic(network=network, is_law=is_law, trigger_reader=trigger_reader, watched=watched,
                         time_triggers=bool(laws.event_times.size), law=law, deriv=deriv, ev=ev,
                         initial_value=np.ascontiguousarray(laws.event_initial_value, dtype=bool))
