"""``fentonsim.simulate``: one call from a model and conditions to a result Dataset.

A simulation is a :class:`fentonsim.problem.Problem` of one condition, run and described by the same
functions as every sweep point (fentonsim.problem): the model is compiled once and cached, run-time rate
constants act on k, and the model's own events are applied.

Precedence of conditions: explicit arguments (``ph``, ``temperature``,
``initial``, ``buffered``, ``rates``) over the ``conditions`` preset over the mechanism's
defaults. A preset names species for every catalyst (GSH, HCO₃⁻, …); those the
model does not contain are skipped and listed in the result's
``ignored_inputs`` attribute. Names given explicitly must exist.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .deterministic import DEFAULT_MAX_STEPS, DEFAULT_RTOL
from .errors import ConditionsError
from .problem import build_problem, condition_dataset, resolve_model, run_condition, time_grid
from .stochastic import DEFAULT_EPSILON, DEFAULT_MAX_EVENTS, DEFAULT_QUANTILES, STATUS_NAMES, SUCCESS
from .validity import validity_warnings, warn_validity

METHODS = ("ode", "ssa", "tau-leap", "auto")
#: Options of one family of methods, refused with the other (an option that cannot act is a mistake).
ODE_OPTIONS = ("rtol", "atol", "solver", "max_steps", "h_max", "fluxes")
STOCHASTIC_OPTIONS = ("runs", "seed", "stats", "quantiles", "epsilon", "max_events", "ssa_algorithm",
                      "time_budget_s", "progress")


def simulate(model, method="ode", *, t_end=None, n_points=None, t_eval=None, conditions=None, ph=None,
             temperature=None, initial=None, buffered=None, parameter_set=None, rates=None, boluses=(),
             sources=(), volume=None, rtol=None, atol=None, solver=None, max_steps=None, h_max=None, fluxes=None,
             runs=None, seed=None, stats=None, quantiles=None, epsilon=None, max_events=None, ssa_algorithm=None,
             time_budget_s=None, progress=None):
    """Simulate ``model`` and return an ``xarray.Dataset`` (schema: fentonsim.results).

    Parameters
    ----------
    model : str, Path, list of them, Mechanism or Network
        A mechanism file (``.yaml``), several merged (``["iron.yaml", "probes.yaml"]``),
        an SBML model (``.xml``), a loaded mechanism or a compiled network.
        Events an SBML model defines are applied with ``boluses``; its
        assignment rules appear as ``observed`` variables
        (fentonsim.observables).
    method : {"ode", "ssa", "tau-leap", "auto"}
        Deterministic rate equations, exact stochastic simulation, adaptive
        tau-leaping, or SSA/tau-leaping chosen by the estimated event count
        (see fentonsim.stochastic).
    t_end : float or str, default 3600 s
        End time [s] or a quantity such as ``"1 h"``.
    n_points : int, default 201
        Evenly spaced output times from 0 to ``t_end``.
    t_eval : sequence, optional
        Explicit output times [s] instead of ``t_end``/``n_points``.
    conditions : Conditions, str or Path, optional
        A preset name (``"tme"``, ``"normal"``, ``"lysosome"``), a conditions file or object.
    ph : float, optional
        pH (overrides the preset).
    temperature : float or str, optional
        Temperature [K] or a quantity such as ``"37 °C"``.
    initial : mapping of str to float or str, optional
        Initial concentrations [M] (or quantities, ``"100 uM"``), added over the preset's.
    buffered : mapping of str to float or str, optional
        Clamped concentrations [M] overriding the mechanism and preset.
    parameter_set : str, optional
        An alternative parameter set of the mechanism.
    rates : mapping of str to float or str, optional
        Reference rate constants to replace, by reaction id, in M^(1−m) s⁻¹ or
        as quantities (``{"REL-Fe3O4": "2e-4 s^-1"}``): material-specific
        constants such as ion release. They act on k at run time
        (Network.parse_rates), so a compiled Network takes them too and nothing
        is recompiled; the result's ``rate_overrides`` records them.
    boluses, sources : sequences of fentonsim.Bolus / fentonsim.Source
        Time-dependent inputs.
    rtol : float, default 1e-6
        Relative tolerance (this and the options down to ``fluxes`` are for
        ``method="ode"``; the options from ``runs`` on are for the stochastic
        methods; an option given to the other family is an error).
    atol : float or array_like (n_s,), optional
        Absolute tolerance [M]; default 1e-20 M (small because ·OH lives at
        fM–aM levels), or the model's own (10⁻⁶ molecules for SBML models in counts).
    solver : {"rodas5p", "rodas4", "LSODA", "BDF", "Radau"}
        Integrator (see fentonsim.deterministic).
    max_steps : int
        Limit on attempted steps (every solver).
    h_max : float
        Largest step [s] (rodas5p, rodas4).
    fluxes : bool, default True
        Integrate reaction extents and exposures with the solution (rodas5p, rodas4; the
        scipy solvers always do).
    runs : int, default 1
        Stochastic trajectories.
    seed : int, default 0
        Random seed; trajectory i depends only on (seed, i).
    volume : float or str, optional
        Reaction volume [L] or a quantity (``"0.1 fL"``); default: the preset's,
        then the mechanism's. A multi-compartment mechanism refuses it: its compartments set the volumes.
    stats : bool, default False
        Keep streaming mean, sd and ``quantiles`` per time point instead of every
        trajectory (memory independent of ``runs``).
    quantiles : sequence of float
        Probabilities for the streaming quantiles.
    epsilon : float, default 0.03
        Tau-leaping error control (Cao, Gillespie & Petzold 2006).
    max_events : int, default 1e8
        Events per trajectory for the SSA (runs estimated to need more are refused), steps for tau-leaping.
    ssa_algorithm : {"auto", "direct", "next-reaction"}
        Exact algorithm (auto: by network size).
    time_budget_s : float, optional
        Stop starting new blocks of trajectories after this wall time; unrun
        trajectories have status 3.
    progress : bool, optional
        A progress bar with ETA over an ensemble's trajectories (None: only when stderr is a terminal).

    Raises
    ------
    ConditionsError, MechanismError, UnitError
        For bad input, naming the argument.
    SolverError
        When the tolerance cannot be met (time reached, step, limiting species).
    """
    if method not in METHODS:
        raise ConditionsError(f"unknown method `{method}`; expected one of {', '.join(METHODS)}")
    given = {name: value for name, value in dict(
        rtol=rtol, atol=atol, solver=solver, max_steps=max_steps, h_max=h_max, fluxes=fluxes, runs=runs,
        seed=seed, stats=stats, quantiles=quantiles, epsilon=epsilon, max_events=max_events,
        ssa_algorithm=ssa_algorithm, time_budget_s=time_budget_s, progress=progress).items() if value is not None}
    foreign = [name for name in (STOCHASTIC_OPTIONS if method == "ode" else ODE_OPTIONS) if name in given]
    if foreign:
        raise ConditionsError(
            f"{', '.join(f'`{name}`' for name in foreign)} {'does' if len(foreign) == 1 else 'do'} not apply to "
            f"method `{method}`" + (": stochastic options need method='ssa', 'tau-leap' or 'auto'"
                                    if method == "ode" else ": tolerances and solvers are for method='ode'"))
    network = resolve_model(model, parameter_set)
    problem = build_problem(network, [{"pH": ph, "temperature": temperature, "initial": initial,
                                       "buffered": buffered, "volume": volume, "rates": rates}],
                            conditions=conditions, t_out=time_grid(t_end, n_points, t_eval), boluses=boluses,
                            sources=sources, rtol=DEFAULT_RTOL if rtol is None else rtol, atol=atol,
                            seeds=[0 if seed is None else seed])
    if method == "ode":
        options = dict(solver=solver or "rodas5p", max_steps=DEFAULT_MAX_STEPS if max_steps is None else max_steps,
                       h_max=math.inf if h_max is None else h_max, fluxes=True if fluxes is None else fluxes)
        solution = run_condition(problem, 0, method, **options)  # metrics from the dense output, any n_points
    else:
        solution = run_condition(
            problem, 0, method, runs=1 if runs is None else runs, stats=bool(stats),
            quantiles=DEFAULT_QUANTILES if quantiles is None else quantiles,
            epsilon=DEFAULT_EPSILON if epsilon is None else epsilon,
            max_events=DEFAULT_MAX_EVENTS if max_events is None else max_events,
            ssa_algorithm=ssa_algorithm or "auto", time_budget_s=time_budget_s, progress=progress)
        incomplete = np.flatnonzero(solution.status != SUCCESS)
        if incomplete.size:
            first = incomplete[0]
            warnings.warn(
                f"{incomplete.size} of {solution.runs} runs are incomplete; run {first}: "
                f"{STATUS_NAMES[int(solution.status[first])]} at t = {solution.t_reached[first]:.4g} s "
                f"(see the `status` and `t_reached` variables)", RuntimeWarning, stacklevel=2)
    dataset = condition_dataset(problem, 0, method, solution)
    warn_validity(validity_warnings(dataset), stacklevel=3)
    return dataset
