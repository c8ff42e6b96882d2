"""``fentonsim.simulate``: one call from a model and conditions to a result Dataset.

Precedence of conditions: explicit arguments (``ph``, ``temperature``,
``initial``, ``buffered``) over the ``conditions`` preset over the mechanism's
defaults. A preset names species for every catalyst (GSH, HCO₃⁻, …); those the
model does not contain are skipped and listed in the result's
``ignored_inputs`` attribute. Names given explicitly must exist.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .conditions import Conditions, describe_oxygen, load_conditions
from .data import preset_directory
from .constants import AVOGADRO
from .deterministic import DEFAULT_ATOL, DEFAULT_MAX_STEPS, DEFAULT_RTOL, solve_ode
from .errors import ConditionsError
from .mechanism import Mechanism
from .mechanism.overrides import with_rates
from .models import load
from .observables import add_observables
from .network import Network, compile_network
from .results import ode_dataset, stochastic_dataset
from .stochastic import (DEFAULT_EPSILON, DEFAULT_MAX_EVENTS, DEFAULT_QUANTILES, STATUS_NAMES, SUCCESS,
                         run_stochastic)
from .units import CONCENTRATION, TEMPERATURE, TIME, VOLUME, format_concentration, parse_quantity
from .validity import VALIDITY_ATTRIBUTE, warn_validity, yield_law_warnings

#: The shipped condition presets (fentonsim.data: the checkout's mechanisms/conditions or the wheel's copy).
PRESET_DIRECTORY = preset_directory()
METHODS = ("ode", "ssa", "tau-leap", "auto")
DEFAULT_T_END = 3600.0
DEFAULT_N_POINTS = 201


def preset_names() -> list[str]:
    """Names of the shipped condition presets (``mechanisms/conditions/*.yaml``)."""
    return sorted(p.stem for p in PRESET_DIRECTORY.glob("*.yaml"))


def resolve_conditions(conditions) -> Conditions:
    """A Conditions object from None, a Conditions, a preset name (``"tme"``) or a file path."""
    if conditions is None:
        return Conditions()
    if isinstance(conditions, Conditions):
        return conditions
    if isinstance(conditions, (str, Path)):
        path = Path(conditions)
        if path.suffix in (".yaml", ".yml") or path.exists():
            return load_conditions(path)
        preset = PRESET_DIRECTORY / f"{conditions}.yaml"
        if preset.exists():
            return load_conditions(preset)
        raise ConditionsError(f"unknown conditions `{conditions}`: not a file and not a preset "
                              f"(presets: {', '.join(preset_names()) or 'none found'})")
    raise ConditionsError(f"`conditions` must be a Conditions, a preset name or a path, found {conditions!r}")


def resolve_mechanism(model, parameter_set=None, rates=None) -> Mechanism:
    """A Mechanism from a mechanism or SBML path or a Mechanism, with ``parameter_set``
    and then the rate-constant overrides ``rates`` (fentonsim.mechanism.overrides) applied."""
    if isinstance(model, Mechanism):
        return with_rates(model.with_parameter_set(parameter_set) if parameter_set else model, rates)
    if isinstance(model, (str, Path, list, tuple)):
        return with_rates(load(model, parameter_set=parameter_set), rates)
    raise ConditionsError(f"`model` must be a mechanism or SBML file path, a Mechanism or a Network, "
                          f"found {model!r}")


def resolve_model(model, parameter_set=None, rates=None) -> Network:
    """A Network from a mechanism or SBML path, a Mechanism or a Network."""
    if isinstance(model, Network):
        if parameter_set is not None and parameter_set != model.parameter_set:
            raise ConditionsError("`parameter_set` cannot be applied to a compiled Network; pass the "
                                  "mechanism file or Mechanism instead")
        if rates:
            raise ConditionsError("`rates` cannot be applied to a compiled Network; pass the mechanism "
                                  "file or Mechanism instead")
        return model
    return compile_network(resolve_mechanism(model, parameter_set, rates))


def oxygen_supply(network, preset, y0, k) -> str:
    """How O2 behaved in a run, in words, from what the run used: its starting O2 (``y0``) and the exchange
    constants in ``k`` (kLa = k of O2X-out, set point = k of O2X-in / kLa), named by the preset's supply."""
    if "O2" not in network.species:
        return "O2 clamped" if "O2" in network.buffered_names else "no O2 in the model"
    ids = network.reaction_ids
    start = float(y0[network.species.index("O2")])
    if "O2X-in" not in ids or "O2X-out" not in ids:
        return f"O2 integrated, no exchange reactions in the model, starts at {format_concentration(start)}"
    k_in, k_out = float(k[ids.index("O2X-in")]), float(k[ids.index("O2X-out")])
    if k_out == 0 and k_in > 0:
        return f"O2 supplied at {k_in:.3g} M/s with no outflow, starts at {format_concentration(start)}"
    return describe_oxygen(preset.oxygen_kind if k_out > 0 else "closed", start,
                           k_in / k_out if k_out > 0 else 0.0, k_out)


def time_grid(t_end=None, n_points=None, t_eval=None) -> np.ndarray:
    """Output times [s]: ``t_eval`` as given, or ``n_points`` evenly from 0 to ``t_end``."""
    if t_eval is not None:
        if t_end is not None or n_points is not None:
            raise ConditionsError("give either `t_eval` or `t_end`/`n_points`, not both")
        return np.array([parse_quantity(t, TIME, "s", "`t_eval` entry") for t in np.atleast_1d(t_eval)])
    t_end = DEFAULT_T_END if t_end is None else parse_quantity(t_end, TIME, "s", "`t_end`")
    if not t_end > 0:
        raise ConditionsError(f"`t_end` must be positive, found {t_end:g} s")
    n_points = DEFAULT_N_POINTS if n_points is None else n_points
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ConditionsError(f"`n_points` must be an integer ≥ 2, found {n_points!r}")
    return np.linspace(0.0, t_end, int(n_points))


def _split_known(network, values, explicit, what):
    """Keep names the network knows; unknown explicit names are errors, unknown preset names are skipped."""
    known, ignored = {}, []
    for name, value in values.items():
        try:
            network.species_index(name)
        except KeyError as exc:
            if name in explicit:
                raise ConditionsError(f"{what} `{name}`: {exc.args[0]}") from None
            ignored.append(name)
            continue
        known[name] = value
    return known, ignored


def _split_buffered(network, values, explicit):
    clampable = set(network.buffered_names) | set(network.group_names)
    known = {n: v for n, v in values.items() if n in clampable}
    unknown = [n for n in values if n not in clampable]
    for name in unknown:
        if name in explicit:
            integrated = name in network.species
            hint = (f"; `{name}` is integrated — give its starting value with `initial`" +
                    (" (O2's supply is a condition preset's `oxygen` section)" if name == "O2" else "")
                    if integrated else "")
            raise ConditionsError(f"buffered `{name}` is not clamped by `{network.name}`{hint}; clamped inputs: "
                                  f"{', '.join(sorted(clampable)) or 'none'}")
    return known, unknown


@dataclass(frozen=True)
class RunConditions:
    """Resolved conditions of one run: pH, temperature [K], y0 (n_s,) [M], k (n_r,) [M^(1−order) s⁻¹],
    volume [L], the preset used and the preset species the model lacks (``ignored``)."""

    pH: float
    temperature: float
    y0: np.ndarray
    k: np.ndarray
    volume: float
    preset: Conditions
    ignored: tuple


def resolve_run(network, conditions=None, ph=None, temperature=None, initial=None, buffered=None,
                volume=None) -> RunConditions:
    """Apply the precedence rule (module docstring) to get one run's conditions for ``network``."""
    preset = resolve_conditions(conditions)
    pH = preset.pH if ph is None else ph
    pH = network.defaults.pH if pH is None else pH
    if temperature is not None:
        temperature = parse_quantity(temperature, TEMPERATURE, "K", "`temperature`")
    T = preset.temperature if temperature is None else temperature
    T = network.defaults.temperature if T is None else T
    if isinstance(pH, bool) or not isinstance(pH, (int, float, np.floating)) or not 0 <= pH <= 14:
        raise ConditionsError(f"`ph` must be a number between 0 and 14, found {pH!r}")
    explicit_initial = {name: parse_quantity(v, CONCENTRATION, "M", f"initial `{name}`")
                        for name, v in (initial or {}).items()}
    explicit_buffered = {name: parse_quantity(v, CONCENTRATION, "M", f"buffered `{name}`")
                         for name, v in (buffered or {}).items()}
    initial_values, ignored = _split_known(network, {**preset.initial, **explicit_initial}, explicit_initial,
                                           "initial concentration of")
    for name in preset.buffered:
        if name in network.species and name not in explicit_buffered:
            raise ConditionsError(
                f"conditions `{preset.name}` clamp `{name}`, which `{network.name}` integrates"
                + (": describe its supply with an `oxygen:` section instead (mechanisms/README.md, Oxygen)"
                   if name == "O2" else "; give its starting value under `initial`"))
    buffered_values, ignored_buffered = _split_buffered(network, {**preset.buffered, **explicit_buffered},
                                                        explicit_buffered)
    y0 = network.initial_state(None, **initial_values)
    known_ids = set(network.source_reaction)
    # The user's own constants (rates=) win over the preset's (its O2 exchange).
    reference = {rid: v for rid, v in preset.rates.items() if rid in known_ids and rid not in network.user_rates}
    ignored_rates = [rid for rid in preset.rates if rid not in known_ids]
    k = network.rate_constants(pH=float(pH), temperature=float(T), buffered=buffered_values, reference=reference)
    if volume is None:
        volume = preset.volume if preset.volume is not None else network.defaults.volume
    volume = parse_quantity(volume, VOLUME, "L", "`volume`")
    if not volume > 0:
        raise ConditionsError(f"`volume` must be positive, found {volume:g} L")
    return RunConditions(float(pH), float(T), y0, k, volume, preset,
                         tuple(sorted(set(ignored) | set(ignored_buffered) | set(ignored_rates))))


def simulate(model, method="ode", *, t_end=None, n_points=None, t_eval=None, conditions=None, ph=None,
             temperature=None, initial=None, buffered=None, parameter_set=None, rates=None, boluses=(),
             sources=(), rtol=DEFAULT_RTOL, atol=None, solver="rodas5p", max_steps=DEFAULT_MAX_STEPS,
             h_max=math.inf, fluxes=True, runs=1, seed=0, volume=None, stats=False, quantiles=DEFAULT_QUANTILES,
             epsilon=DEFAULT_EPSILON, max_events=DEFAULT_MAX_EVENTS, ssa_algorithm="auto", time_budget_s=None,
             progress=False):
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
        constants such as ion release (fentonsim.mechanism.overrides).
    boluses, sources : sequences of fentonsim.Bolus / fentonsim.Source
        Time-dependent inputs.
    rtol : float, default 1e-6
        Relative tolerance.
    atol : float or array_like (n_s,), optional
        Absolute tolerance [M]; default 1e-20 M (small because ·OH lives at
        fM–aM levels), or the model's own (10⁻⁶ molecules for SBML models in counts).
    solver : {"rodas5p", "rodas4", "LSODA", "BDF", "Radau"}
        Integrator (see fentonsim.deterministic).
    max_steps : int
        Limit on attempted steps (rodas5p, rodas4).
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
        then the mechanism's.
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
    progress : bool
        Show a progress bar for long ensembles.

    Raises
    ------
    ConditionsError, MechanismError, UnitError
        For bad input, naming the argument.
    SolverError
        When the tolerance cannot be met (time reached, step, limiting species).
    """
    if method not in METHODS:
        raise ConditionsError(f"unknown method `{method}`; expected one of {', '.join(METHODS)}")
    network = resolve_model(model, parameter_set, rates)
    t_out = time_grid(t_end, n_points, t_eval)
    run = resolve_run(network, conditions, ph, temperature, initial, buffered, volume)
    pH, T, y0, k, volume, preset = run.pH, run.temperature, run.y0, run.k, run.volume, run.preset
    ignored = run.ignored
    # The model's own events come first at equal times; those after the end never happen.
    boluses = tuple(e for e in network.events if e.time <= t_out[-1]) + tuple(boluses)
    if atol is None:
        atol = DEFAULT_ATOL if network.defaults.atol is None else network.defaults.atol
    if method == "ode":
        solution = solve_ode(network, k, y0, t_out, boluses=boluses, sources=sources, rtol=rtol, atol=atol,
                             solver=solver, max_steps=max_steps, h_max=h_max, fluxes=fluxes,
                             metric_grid=True)  # metrics from the dense output, whatever n_points
    else:
        solution = run_stochastic(network, k, y0, t_out, volume=volume, method=method, runs=runs, seed=seed,
                                  stats=stats, quantiles=quantiles, boluses=boluses, sources=sources,
                                  epsilon=epsilon, max_events=max_events, ssa_algorithm=ssa_algorithm,
                                  time_budget_s=time_budget_s, progress=progress)
        incomplete = np.flatnonzero(solution.status != SUCCESS)
        if incomplete.size:
            first = incomplete[0]
            warnings.warn(
                f"{incomplete.size} of {solution.runs} runs are incomplete; run {first}: "
                f"{STATUS_NAMES[int(solution.status[first])]} at t = {solution.t_reached[first]:.4g} s "
                f"(see the `status` and `t_reached` variables)", RuntimeWarning, stacklevel=2)
    inputs = solution.inputs
    caveats = yield_law_warnings(network.yield_laws, pH, T)
    warn_validity(caveats, stacklevel=3)
    descriptions = [b.describe() for b in inputs.boluses] + [s.describe() for s in inputs.sources]
    attrs = {
        "fentonsim_version": __version__,
        "pH": float(pH),
        "temperature_K": float(T),
        "conditions": preset.name,
        "mechanism": network.name,
        "mechanism_sha256": network.mechanism_sha256,
        "parameter_set": network.parameter_set or "",
        "rate_overrides": "; ".join(f"{rid} = {value}" for rid, value in (rates or {}).items()),
        "inputs": "; ".join(descriptions),
        "ignored_inputs": ", ".join(ignored),
        # Yield laws applied outside their measured range: recorded and warned, never silent (fentonsim.validity).
        VALIDITY_ATTRIBUTE: "\n".join(caveats),
        "oxygen_supply": oxygen_supply(network, preset, y0, k),
    }
    if network.counts:
        attrs["counts"] = 1  # species are molecule counts in the source model
        attrs["molecules_per_molar"] = AVOGADRO * volume
    if method == "ode":
        dataset = ode_dataset(network, solution, k, attrs)
    else:
        dataset = stochastic_dataset(network, solution, k, method, attrs)
    return add_observables(dataset, network.observables)
