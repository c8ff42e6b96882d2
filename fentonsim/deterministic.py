"""Deterministic solutions of a Network's rate equations.

:func:`solve_ode` integrates one condition, :func:`solve_ode_batch` many
conditions of one network in a single compiled parallel loop. Both return
plain arrays (an :class:`ODESolution`); :func:`fentonsim.simulate` wraps them
into an ``xarray.Dataset``.

Solvers
-------
``"rodas5p"`` (default), ``"rodas4"``
    fentonsim's compiled Rosenbrock integrator (kernels/rosenbrock.py) with
    the RODAS5P (order 5) or RODAS4 (order 4) coefficients: no Python call
    per step, non-negative concentrations, exact landing on input times,
    reaction extents and exposures integrated with the solution. RODAS5P
    takes 40 % fewer steps than RODAS4 at rtol 1e-8 (iron, 1 h: 254 vs 423)
    and fewer still at tighter tolerances; RODAS4 stays as a second compiled method to check it
    against. Species and reactions that stay at zero for the given initial
    state, inputs and rate constants are left out of the integration
    (kernels/ode.py ``live_subsystem``); their outputs are exactly 0. Each
    method is compiled on its first use (10–15 s) and then loaded from
    numba's disk cache; new conditions never recompile it.
``"LSODA"``, ``"BDF"``, ``"Radau"``
    ``scipy.integrate.solve_ivp`` with fentonsim's compiled right-hand side and
    analytic Jacobian, integrated segment by segment between input times. They
    serve as independent oracles and as a fallback; they are 10–100× slower.

Metric grid
-----------
With ``metric_grid=True`` (what :func:`fentonsim.simulate` and sweeps pass), :func:`solve_ode`
and :func:`solve_ode_batch` also evaluate the integrator's dense output (the Rosenbrock
continuous extension, order 4 for RODAS5P; ``solve_ivp``'s interpolant for the scipy solvers)
on a fixed *metric grid* (:func:`metric_times`): the first and last output time, the midpoint t_end/2, and a geometric
grid of ``METRIC_POINTS_PER_DECADE`` points per decade from ``10^−METRIC_DECADES``·span after the
first output time (and after every input time inside the span) to the end. The grid depends
only on the span and the input times, never on ``n_points``, and the step sequence does not
depend on the output times either, so metrics computed on it (fentonsim.metrics) are the same
for any output sampling. It is extra output rows of the same kernel call: no recompilation and
no extra steps, only ~250 more interpolations (iron, 1 h: +0.13 ms on a 0.6 ms solve; the
array-level default is off, so solver benchmarks time the solver alone).

Tolerances: a step is accepted when the RMS over species of
err_i / (atol_i + rtol·|y_i|) is ≤ 1. The default ``atol`` is 1e-20 M
because ·OH sits at femto- to attomolar steady states in Fenton systems; a
larger atol would let the solver ignore it.
"""
from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass

import numpy as np

from . import live_laws, native_laws
from .errors import ConditionsError, SolverError
from .inputs import compile_inputs
from .kernels import checks, rosenbrock, tableaus
from .kernels import laws as laws_kernel
from .scipy_solvers import solve_with_scipy
from .solution import COUNTER_NAMES, DEFAULT_MAX_STEPS, ODEBatch, ODESolution  # noqa: F401 (public here too)

#: compiled Rosenbrock methods (their index is the kernel's ``method``), then the scipy ones
ROSENBROCK_SOLVERS = tableaus.NAMES
SOLVERS = ("rodas5p", "rodas4", "LSODA", "BDF", "Radau")
DEFAULT_SOLVER = "rodas5p"
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-20


def _tolerances(network, rtol, atol):
    if not (isinstance(rtol, (int, float)) and math.isfinite(rtol) and 0 < rtol < 1):
        raise ConditionsError(f"`rtol` must be a number between 0 and 1, found {rtol!r}")
    if rtol < 1e-13:
        raise ConditionsError(f"`rtol` = {rtol:g} is below what double precision can deliver; use ≥ 1e-13")
    if isinstance(atol, float) and math.isfinite(atol) and atol > 0:
        return float(rtol), np.full(network.n_species, atol)
    atol_arr = np.broadcast_to(np.asarray(atol, dtype=float), (network.n_species,)).copy() \
        if np.ndim(atol) == 0 or np.shape(atol) == (network.n_species,) else None
    if atol_arr is None:
        raise ConditionsError(f"`atol` must be a number or one value per species ({network.n_species}), "
                              f"found shape {np.shape(atol)}")
    if not np.all(np.isfinite(atol_arr)) or np.any(atol_arr <= 0):
        raise ConditionsError(f"`atol` must be positive and finite [M], found {atol!r}")
    return float(rtol), atol_arr


def _kernel_array(values):
    """A C-contiguous, writable float64 array of ``values``: numba compiles a separate kernel for a
    strided or read-only array (an output-grid view, a broadcast, a read-only input), so everything
    handed to the kernels is brought to the one type they are compiled for."""
    array = np.ascontiguousarray(values, dtype=float)
    return array if array.flags.writeable else array.copy()


def _check_initial(network, y0):
    """Refuse non-finite initial values, and negative ones except for state variables that may be negative
    (an imported SBML model's quantities under general laws and rate rules, fentonsim.laws)."""
    if _finite_non_negative(y0):
        return
    signed = network.laws.signed if network.has_general_laws else np.zeros(network.n_species, dtype=bool)
    if np.all(np.isfinite(y0)) and not np.any((y0 < 0) & ~signed):
        return
    raise ConditionsError("initial concentrations must be finite and non-negative")


def _finite_non_negative(values):
    """All entries of a contiguous float array finite and ≥ 0 (one compiled pass)."""
    return checks.all_finite_non_negative(values.reshape(-1))


def _check_rate_constants(network, k):
    """Rate constants must be finite and ≥ 0: the compiled solvers leave out reactions with k = 0, and a
    NaN or negative k would otherwise be dropped with them instead of reported."""
    if _finite_non_negative(k):
        return
    bad = np.flatnonzero(~(np.isfinite(k) & (k >= 0)))
    index = np.unravel_index(bad[0], k.shape)
    reaction = network.reaction_ids[index[-1]]
    where = f" (condition {index[0]})" if k.ndim == 2 else ""
    raise ConditionsError(f"rate constant of reaction `{reaction}`{where} must be finite and non-negative, "
                          f"found {float(k[index]):g}; {bad.size} bad value(s) in all")


def _time_grid(t_out, t0):
    t_out = np.asarray(t_out, dtype=float)
    if t_out.ndim != 1 or t_out.size == 0:
        raise ConditionsError(f"output times must be a non-empty 1-D sequence, found shape {t_out.shape}")
    t_out = _kernel_array(t_out)
    if not checks.strictly_increasing_finite(t_out):
        if not np.all(np.isfinite(t_out)):
            raise ConditionsError("output times must be finite")
        raise ConditionsError("output times must be strictly increasing")
    if t_out[0] < t0:
        raise ConditionsError(f"the first output time ({t_out[0]:g} s) is before the start ({t0:g} s)")
    if t_out[-1] <= t0:
        raise ConditionsError(f"the last output time must be after the start ({t0:g} s)")
    return t_out


#: The metric grid (module docstring): geometric points per decade, and decades below the span it starts at.
METRIC_POINTS_PER_DECADE = 20
METRIC_DECADES = 12
#: Input times inside the span that start a geometric grid of their own (a coarser one, 10 per decade).
METRIC_MAX_RESTARTS = 16


def metric_times(t_out, stops=()) -> np.ndarray:
    """The metric grid [s] for output times ``t_out`` and input times ``stops`` (ascending, unique).

    ``t_out[0]``, ``t_out[-1]``, ``t_out[-1]/2`` (when after ``t_out[0]``: the start of the
    ``oh_steady`` window), ``t_out[0] + span·10^−e`` for e from ``METRIC_DECADES`` to 0 in
    steps of 1/``METRIC_POINTS_PER_DECADE`` (span = t_out[-1] − t_out[0]), and after each
    of the first ``METRIC_MAX_RESTARTS`` input times s inside the span, s itself and
    ``s + (t_end − s)·10^−e`` at 10 per decade: dynamics restart after a bolus.
    """
    first, last = float(t_out[0]), float(t_out[-1])
    span = last - first
    grid = [np.array([first, last]), first + span * np.logspace(-METRIC_DECADES, 0.0,
                                                                METRIC_DECADES * METRIC_POINTS_PER_DECADE + 1)]
    if last / 2.0 > first:
        grid.append(np.array([last / 2.0]))
    restarts = [s for s in np.asarray(stops, dtype=float) if first < s < last][:METRIC_MAX_RESTARTS]
    for s in restarts:
        grid.append(s + (last - s) * np.concatenate([[0.0], np.logspace(-METRIC_DECADES, 0.0,
                                                                          METRIC_DECADES * 10 + 1)]))
    times = np.unique(np.concatenate(grid))
    return times[(times >= first) & (times <= last)]


def _merged_grid(t_out, metric):
    """(all times, rows of t_out, rows of the metric grid): one kernel call evaluates both. A metric time within
    round-off of an output time uses that output's row, so the merged grid stays strictly increasing."""
    if metric is None:
        return t_out, np.arange(t_out.size), None
    if t_out.size == 1:
        nearest = np.zeros(metric.size, dtype=np.int64)
    else:
        position = np.clip(np.searchsorted(t_out, metric), 1, t_out.size - 1)
        nearest = np.where(np.abs(t_out[position - 1] - metric) <= np.abs(t_out[position] - metric),
                           position - 1, position)
    duplicate = np.abs(t_out[nearest] - metric) <= 1e-12 * np.maximum(np.abs(metric), 1e-300)
    times = _kernel_array(np.concatenate([t_out, metric[~duplicate]]))
    order = np.argsort(times, kind="stable")
    times = _kernel_array(times[order])
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    out_rows = rank[:t_out.size]
    metric_rows = np.empty(metric.size, dtype=np.int64)
    metric_rows[duplicate] = out_rows[nearest[duplicate]]
    metric_rows[~duplicate] = rank[t_out.size:]
    return times, out_rows, metric_rows


def _event_error(network, status, index, t_reached):
    """The ConditionsError of an event status of kernels/laws.py, naming the event (``index``) and its file:line."""
    laws = network.laws
    where = f"{laws.event_locations[index]}: " if 0 <= index < len(laws.event_locations) and \
        laws.event_locations[index] else ""
    event = f"event `{laws.event_names[index]}`" if 0 <= index < len(laws.event_names) else \
        f"the events of `{network.name}` ({', '.join(laws.event_names[:5])})"
    if status == laws_kernel.EVENT_REPEATED:
        return ConditionsError(f"{where}{event} is triggered again at t = {t_reached:.6g} s before its pending "
                               "execution ran (other events at the same instant turned its trigger off and on); "
                               "several pending executions of one event are not supported")
    if status == laws_kernel.EVENT_QUEUE_FULL:
        return ConditionsError(f"{where}{event} was triggered again and again with a delay: more than "
                               f"{laws_kernel.QUEUE_SIZE} delayed executions were pending at t = {t_reached:.6g} s")
    if status == laws_kernel.EVENTS_IN_DOUBT:
        return ConditionsError(f"{where}{event} fires at t = {t_reached:.6g} s together with another event of equal "
                               "or no priority setting the same variable: their order, which SBML leaves to chance, "
                               "would change the result (give them different priorities)")
    return ConditionsError(f"{where}{event} kept triggering each other at t = {t_reached:.6g} s "
                           f"({laws_kernel.MAX_EVENT_ROUNDS} rounds); the model has no consistent state there")


def _failure_error(network, status, failure, t_end, rtol):
    t_reached, h, species = failure
    if status in (laws_kernel.EVENT_QUEUE_FULL, laws_kernel.EVENTS_IN_DOUBT, laws_kernel.EVENT_CASCADE,
                  laws_kernel.EVENT_REPEATED):
        return _event_error(network, status, int(species), t_reached)
    name = network.species[int(species)] if species >= 0 else "unknown"
    if status == rosenbrock.MAX_STEPS_EXCEEDED:
        return SolverError(
            f"ODE integration stopped at t = {t_reached:.6g} s of {t_end:g} s: the step limit was reached "
            f"(step size {h:.3g} s; species limiting the step: {name}). Raise `max_steps`, loosen "
            f"`rtol` (now {rtol:g}) or check the rate constants.",
            time=t_reached, step=h, species=name)
    return SolverError(
        f"ODE integration failed at t = {t_reached:.6g} s of {t_end:g} s: the tolerance could not be met "
        f"(step size fell to {h:.3g} s; species limiting the step: {name}). Loosen `rtol`/`atol` for "
        f"{name} or check its rate constants and initial value.",
        time=t_reached, step=h, species=name)


def solve_ode(network, k, y0, t_out, *, boluses=(), sources=(), rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL,
              solver=DEFAULT_SOLVER, t0=0.0, max_steps=DEFAULT_MAX_STEPS, h_max=math.inf,
              fluxes=True, metric_grid=False) -> ODESolution:
    """Integrate ``network`` from ``t0`` through the output times ``t_out``.

    Parameters
    ----------
    network : Network
    k : array_like, shape (n_r,)
        Effective rate constants [M^(1−order) s⁻¹] (``network.rate_constants(...)``).
    y0 : array_like, shape (n_s,)
        Initial concentrations [M] of the state variables.
    t_out : array_like, shape (n_out,)
        Strictly increasing output times [s], ``t_out[0] ≥ t0``.
    boluses, sources : sequences of Bolus / Source
        Time-dependent inputs (fentonsim.inputs).
    rtol : float
        Relative tolerance.
    atol : float or array_like (n_s,)
        Absolute tolerance [M].
    solver : {"rodas5p", "rodas4", "LSODA", "BDF", "Radau"}
    t0 : float
        Start time [s].
    max_steps : int
        Limit on attempted steps (every solver; the scipy ones also stop after 50 right-hand-side
        evaluations per allowed step).
    h_max : float
        Largest step [s] (rodas5p and rodas4 only).
    fluxes : bool
        Integrate reaction extents and exposures (default). False skips them
        (``extent`` and ``exposure`` are None), about a quarter faster.
    metric_grid : bool
        Also evaluate the solution on the metric grid (module docstring): what
        :func:`fentonsim.simulate` asks for, so that metrics do not depend on the output times.

    Raises
    ------
    SolverError
        When the integration cannot meet the tolerance; the message names the
        time reached, the step size and the limiting species.
    """
    if solver not in SOLVERS:
        raise ConditionsError(f"unknown ODE solver `{solver}`; expected one of {', '.join(SOLVERS)}")
    rtol, atol_arr = _tolerances(network, rtol, atol)
    t_out = _time_grid(t_out, t0)
    k = _kernel_array(k)
    y0 = _kernel_array(y0)
    if k.shape != (network.n_reactions,) or y0.shape != (network.n_species,):
        raise ConditionsError(f"expected k of shape ({network.n_reactions},) and y0 of shape "
                              f"({network.n_species},), found {k.shape} and {y0.shape}")
    _check_initial(network, y0)
    _check_rate_constants(network, k)
    inputs = compile_inputs(network, boluses, sources, t0, t_out[-1])
    metric = metric_times(t_out, inputs.stops) if metric_grid else None
    t_all, out_rows, metric_rows = _merged_grid(t_out, metric)
    if not (isinstance(max_steps, (int, np.integer)) and max_steps > 0):
        raise ConditionsError(f"`max_steps` must be a positive integer, found {max_steps!r}")
    if solver not in ROSENBROCK_SOLVERS:
        network.require_mass_action(f"solver `{solver}`")
        return _split_solution(solve_with_scipy(network, k, y0, t_all, inputs, rtol, atol_arr, solver, t0,
                                                max_steps=int(max_steps)), t_out, out_rows, metric, metric_rows)
    if not h_max > 0:
        raise ConditionsError(f"`h_max` must be positive [s], found {h_max!r}")

    run = _KernelRun.of(network, k, y0, rtol, atol_arr, inputs)
    n_out, n_s, n_r = t_all.size, run.y0.shape[-1], run.k.shape[-1]
    out_y = np.empty((n_out, n_s))
    out_q = np.zeros((n_out, n_r + n_s if fluxes else 0))
    counters = np.zeros(rosenbrock.N_COUNTERS, dtype=np.int64)
    failure = np.zeros(3)
    start = _time.perf_counter()
    status = _kernel(network, solver, rosenbrock.INTEGRATE, laws_kernel.INTEGRATE)(
        run.k, *run.structure, run.y0, float(t0), t_all, _event_stops(network, inputs.stops, t0),
        inputs.bolus_time, run.bolus_species, inputs.bolus_amount,
        run.source_species, inputs.source_amplitude, inputs.source_decay, inputs.source_start,
        inputs.source_stop, *run.tolerances, float(h_max), int(max_steps), bool(fluxes),
        out_y, out_q, counters, failure)
    wall = _time.perf_counter() - start
    out_y, out_q = run.scatter(network, out_y, out_q, failure)
    n_s, n_r = network.n_species, network.n_reactions
    if status != rosenbrock.SUCCESS:
        raise _failure_error(network, status, failure, t_out[-1], rtol)
    extent, exposure = (out_q[:, :n_r], out_q[:, n_r:]) if fluxes else (None, None)
    return _split_solution(ODESolution(t_all, out_y, extent, exposure, dict(zip(COUNTER_NAMES, counters.tolist())),
                                       solver, rtol, atol_arr, wall, inputs), t_out, out_rows, metric, metric_rows)


def _event_stops(network, stops, t0):
    """``stops`` with the times the model's event triggers compare `time` with (inside the span) added."""
    if not network.has_general_laws or network.laws.event_times.size == 0:
        return stops
    times = network.laws.event_times
    inside = times[(times > t0) & (times < stops[-1])]
    return np.union1d(stops, inside) if inside.size else stops


def _kernel(network, solver, mass_action, general):
    """The compiled entry point for ``solver``: the mass-action kernel, or the general-law one (kernels/laws.py)."""
    return (general if network.has_general_laws else mass_action)[solver]


@dataclass(frozen=True)
class _KernelRun:
    """What a Rosenbrock kernel is given for ``network``: its whole arrays, or for a general-law network the live
    subsystem's (fentonsim.live_laws), with ``scatter`` putting the results back in the network's layout."""

    k: np.ndarray
    y0: np.ndarray
    tolerances: tuple  # (rtol, atol) for the mass-action kernel; (rtol, atol, n_norm) for the general-law one
    structure: tuple
    bolus_species: np.ndarray
    source_species: np.ndarray
    reduction: object = None

    @classmethod
    def of(cls, network, k, y0, rtol, atol, inputs):
        if not network.has_general_laws:
            return cls(k, y0, (rtol, atol), _structure(network), inputs.bolus_species, inputs.source_species)
        # The error norm is an RMS over the network's species, to which dead ones add 0 (live_laws).
        n_norm = float(network.n_species)
        reduction = live_laws.for_run(network, k, y0, inputs)
        if reduction is None:
            return cls(k, y0, (rtol, atol, n_norm), _structure(network), inputs.bolus_species,
                       inputs.source_species)
        species, reactions = reduction.species, reduction.reactions
        return cls(_kernel_array(k[..., reactions]), _kernel_array(y0[..., species]),
                   (rtol, _kernel_array(atol[species]), n_norm), reduction.kernel_structure(),
                   **live_laws.remap_inputs(inputs, species), reduction=reduction)

    def scatter(self, network, out_y, out_q, failure):
        """(out_y, out_q) in the network's species and reactions (dead species and extents 0); failure's species
        index mapped back in place."""
        red = self.reduction
        if red is None:
            return out_y, out_q
        n_s, n_r = network.n_species, network.n_reactions
        full_y = np.zeros(out_y.shape[:-1] + (n_s,))
        full_y[..., red.species] = out_y
        full_q = np.zeros(out_q.shape[:-1] + ((n_r + n_s) if out_q.shape[-1] else 0,))
        if out_q.shape[-1]:
            n_lr = red.reactions.size
            full_q[..., red.reactions] = out_q[..., :n_lr]
            full_q[..., n_r + red.species] = out_q[..., n_lr:]
        species = failure[..., 2]
        valid = species >= 0
        species[valid] = red.species[species[valid].astype(np.int64)]
        return full_y, full_q


def _structure(network) -> tuple:
    """The network arrays the chosen kernel takes before y0: reactant tables or law programs, then net_stoich."""
    if network.has_general_laws:
        return (*network.laws.kernel_arguments(), native_laws.ode_functions(network.laws), network.net_stoich)
    return network.reactant_idx, network.reactant_coef, network.net_stoich


def _split_solution(solution, t_out, out_rows, metric, metric_rows) -> ODESolution:
    """The solution on the merged grid split into the output times and the metric grid."""
    if metric is None:
        return solution
    conc, exposure = solution.concentration, solution.exposure
    solution.metric_time = metric
    solution.metric_concentration = conc[metric_rows]
    solution.metric_exposure = None if exposure is None else exposure[metric_rows]
    solution.time = t_out
    solution.concentration = conc[out_rows]
    solution.extent = None if solution.extent is None else solution.extent[out_rows]
    solution.exposure = None if exposure is None else exposure[out_rows]
    return solution


def _spread_order(n):
    """A fixed permutation of range(n) whose contiguous blocks each sample the whole range.

    The parallel loop hands each thread one contiguous block of iterations. Conditions of a sweep are
    usually ordered (pH 5 … 8) and their cost varies along that order, so running them in this order
    instead balances the threads (iron, 1,000 pH values on 2 cores: 194 → 170 ms).
    """
    golden = (np.sqrt(5.0) - 1.0) / 2.0
    return np.argsort((np.arange(n) * golden) % 1.0, kind="stable")


def solve_ode_batch(network, k, y0, t_out, *, boluses=(), sources=(), bolus_amount=None, rtol=DEFAULT_RTOL,
                    atol=DEFAULT_ATOL, t0=0.0, max_steps=DEFAULT_MAX_STEPS, h_max=math.inf,
                    raise_on_failure=True, fluxes=True, solver=DEFAULT_SOLVER, metric_grid=False) -> ODEBatch:
    """Integrate n_c conditions of ``network`` in one compiled loop over all cores.

    Parameters
    ----------
    k : array_like, shape (n_c, n_r)
        Effective rate constants per condition (``network.rate_constants`` with array pH/T).
    y0 : array_like, shape (n_c, n_s) or (n_s,)
        Initial concentrations [M], per condition or shared.
    bolus_amount : array_like, shape (n_c, n_b), optional
        Per-condition bolus amounts [M] overriding the ``boluses``' amounts (dose sweeps).
    raise_on_failure : bool
        If True (default) a failed condition raises :class:`SolverError`; if
        False its rows are NaN and ``status`` says why.

    solver : {"rodas5p", "rodas4"}
    metric_grid : bool
        Also evaluate every condition on the metric grid (module docstring), as sweeps do.

    The remaining parameters are as in :func:`solve_ode`.
    """
    if solver not in ROSENBROCK_SOLVERS:
        raise ConditionsError(f"batches run a compiled solver; expected one of {', '.join(ROSENBROCK_SOLVERS)}, "
                              f"found `{solver}`")
    rtol, atol_arr = _tolerances(network, rtol, atol)
    t_out = _time_grid(t_out, t0)
    k = _kernel_array(np.atleast_2d(np.asarray(k, dtype=float)))
    n_c = k.shape[0]
    y0 = _kernel_array(np.broadcast_to(np.asarray(y0, dtype=float), (n_c, network.n_species)))
    if k.shape != (n_c, network.n_reactions):
        raise ConditionsError(f"expected k of shape (n_c, {network.n_reactions}), found {k.shape}")
    _check_initial(network, y0)
    _check_rate_constants(network, k)
    inputs = compile_inputs(network, boluses, sources, t0, t_out[-1])
    metric = metric_times(t_out, inputs.stops) if metric_grid else None
    t_all, out_rows, metric_rows = _merged_grid(t_out, metric)
    n_b = inputs.bolus_time.size
    if bolus_amount is None:
        amounts = _kernel_array(np.broadcast_to(inputs.bolus_amount, (n_c, n_b)))
    else:
        amounts = np.asarray(bolus_amount, dtype=float)
        if amounts.shape != (n_c, n_b) or np.any(amounts < 0) or not np.all(np.isfinite(amounts)):
            raise ConditionsError(f"`bolus_amount` must be finite, non-negative, of shape ({n_c}, {n_b})")
        amounts = _kernel_array(amounts[:, inputs.bolus_order])
    source_amplitude = _kernel_array(np.broadcast_to(inputs.source_amplitude, (n_c, inputs.source_species.size)))
    run = _KernelRun.of(network, k, y0, rtol, atol_arr, inputs)
    n_out, n_s, n_r = t_all.size, run.y0.shape[-1], run.k.shape[-1]
    out_y = np.empty((n_c, n_out, n_s))
    # 61 MB for 1,000 iron runs: only if asked. The kernel writes every row (zeros up to t0), so no zeroing here.
    out_q = np.empty((n_c, n_out, n_r + n_s if fluxes else 0))
    counters = np.zeros((n_c, rosenbrock.N_COUNTERS), dtype=np.int64)
    failure = np.zeros((n_c, 3))
    status = np.zeros(n_c, dtype=np.int64)
    start = _time.perf_counter()
    _kernel(network, solver, rosenbrock.INTEGRATE_BATCH, laws_kernel.INTEGRATE_BATCH)(
        run.k, *run.structure, run.y0, float(t0), t_all, _event_stops(network, inputs.stops, t0),
        inputs.bolus_time, run.bolus_species, amounts,
        run.source_species, source_amplitude, inputs.source_decay, inputs.source_start,
        inputs.source_stop, *run.tolerances, float(h_max), int(max_steps), bool(fluxes),
        _spread_order(n_c), out_y, out_q, counters, failure, status)
    wall = _time.perf_counter() - start
    out_y, out_q = run.scatter(network, out_y, out_q, failure)
    n_s, n_r = network.n_species, network.n_reactions
    failed = np.flatnonzero(status != rosenbrock.SUCCESS)
    if failed.size:
        if raise_on_failure:
            first = failed[0]
            error = _failure_error(network, status[first], failure[first], t_out[-1], rtol)
            if not isinstance(error, SolverError):
                raise type(error)(f"{failed.size} of {n_c} conditions failed; condition {first}: {error}")
            raise SolverError(f"{failed.size} of {n_c} conditions failed; condition {first}: {error}",
                              time=error.time, step=error.step, species=error.species)
        out_y[failed] = np.nan
        out_q[failed] = np.nan
    extent, exposure = (out_q[:, :, :n_r], out_q[:, :, n_r:]) if fluxes else (None, None)
    if metric is None:
        return ODEBatch(t_out, out_y, extent, exposure, counters, status, failure, rtol, atol_arr, wall)
    return ODEBatch(t_out, out_y[:, out_rows], None if extent is None else extent[:, out_rows],
                    None if exposure is None else exposure[:, out_rows], counters, status, failure, rtol,
                    atol_arr, wall, metric, out_y[:, metric_rows],
                    None if exposure is None else exposure[:, metric_rows])
