"""One problem, one path: what every job runs.

A :class:`Problem` is a compiled network and everything that decides the numbers of ``n_c`` conditions
of it — rate constants, initial state, output times, inputs, volumes, seeds and tolerances — built and
validated once by :func:`build_problem`. :func:`fentonsim.simulate` is a problem of one condition,
a sweep chunk (fentonsim.sweep_worker) a problem of many, and compare's uncertainty samples a problem
per catalyst; all of them run it with :func:`solve_batch` (every condition in one compiled call) or
:func:`run_condition` (one condition, any method) and describe it with :func:`condition_dataset`, so the
model's own events, the caller's inputs, the tolerances and the run-time rate constants are applied in
one place.

Run-time rate constants (``rates=``) act on ``k``, after compilation (Network.parse_rates and
Network.rate_constants): a constant swept over a hundred values is a hundred rows of ``k``, not a
hundred networks. Networks, loaded mechanisms and condition presets are cached: a mechanism by its
files' paths, sizes and modification times, a network by the mechanism's canonical digest
(fentonsim.mechanism.digest), a preset by its path, size and modification time. A cached object is
immutable, so sharing it is safe; an edited file is read again.

Precedence of conditions: explicit arguments (``ph``, ``temperature``, ``initial``, ``buffered``,
``rates``) over the ``conditions`` preset over the mechanism's defaults. A preset names species for every
catalyst (GSH, HCO₃⁻, …); those the model does not contain are skipped and listed in ``ignored``.
Names given explicitly must exist.
"""
from __future__ import annotations

import math
import os
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .conditions import Conditions, describe_oxygen, load_conditions
from .constants import AVOGADRO
from .data import preset_directory
from .deterministic import DEFAULT_ATOL, DEFAULT_MAX_STEPS, DEFAULT_RTOL, DEFAULT_SOLVER, solve_ode, solve_ode_batch
from .solution import COUNTER_NAMES, ODEBatch
from .errors import ConditionsError, SolverError
from .mechanism import Mechanism
from .mechanism.digest import mechanism_digest
from .mechanism.particles import mass_or_number_dose
from .metrics import ode_metrics
from .models import load
from .network import Network, compile_network
from .observables import add_observables
from .results import ode_dataset, stochastic_dataset
from .stochastic import run_stochastic
from .stochastic_compartments import refuse_volume
from .units import (CONCENTRATION, TEMPERATURE, TIME, VOLUME, format_concentration, format_dims, parse_quantity,
                    Canonical, rate_constant_dims, user_quantity)
from .validity import VALIDITY_ATTRIBUTE, yield_law_warnings
from .version import __version__

#: The shipped condition presets (fentonsim.data: the checkout's mechanisms/conditions or the wheel's copy).
PRESET_DIRECTORY = preset_directory()
DEFAULT_T_END = 3600.0
DEFAULT_N_POINTS = 201
#: Entries kept in each cache (networks, loaded mechanisms, presets); the least recently used goes first.
CACHE_SIZE = 64


class _Cache:
    """A small LRU map whose entries carry a validity stamp (file sizes and modification times)."""

    def __init__(self, size=CACHE_SIZE):
        self.size, self.entries = size, OrderedDict()

    def get(self, key, stamp_of=None):
        """The cached value, or None when absent or when ``stamp_of(value)`` differs from its stored stamp."""
        entry = self.entries.get(key)
        if entry is None or (stamp_of is not None and entry[0] != stamp_of(entry[1])):
            return None
        self.entries.move_to_end(key)
        return entry[1]

    def put(self, key, value, stamp=None):
        self.entries[key] = (stamp, value)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value

    def clear(self):
        self.entries.clear()


_PRESETS, _MECHANISMS, _NETWORKS = _Cache(), _Cache(), _Cache()


def clear_caches() -> None:
    """Forget every cached preset, mechanism and network (they are also re-read when their files change)."""
    for cache in (_PRESETS, _MECHANISMS, _NETWORKS):
        cache.clear()


def _file_stamp(paths) -> tuple:
    """(path, size, mtime) of each file; a file that cannot be stat-ed gives a stamp that never matches."""
    stamp = []
    for path in paths:
        try:
            info = os.stat(path)
            stamp.append((str(path), info.st_size, info.st_mtime_ns))
        except OSError:
            stamp.append((str(path), -1, -1))
    return tuple(stamp)


def preset_names() -> list[str]:
    """Names of the shipped condition presets (``mechanisms/conditions/*.yaml``)."""
    return sorted(p.stem for p in PRESET_DIRECTORY.glob("*.yaml"))


def resolve_conditions(conditions) -> Conditions:
    """A Conditions object from None, a Conditions, a preset name (``"tme"``) or a file path (cached)."""
    if conditions is None:
        return Conditions()
    if isinstance(conditions, Conditions):
        return conditions
    if not isinstance(conditions, (str, Path)):
        raise ConditionsError(f"`conditions` must be a Conditions, a preset name or a path, found {conditions!r}")
    if isinstance(conditions, str) and not conditions.strip():
        raise ConditionsError("`conditions` is empty; expected a preset (tme, normal, lysosome) or a conditions file")
    path = Path(conditions)
    if not (path.suffix in (".yaml", ".yml") or path.exists()):
        path = PRESET_DIRECTORY / f"{conditions}.yaml"
        if not path.exists():
            raise ConditionsError(f"unknown conditions `{conditions}`: not a file and not a preset "
                                  f"(presets: {', '.join(preset_names()) or 'none found'})")
    key = os.path.abspath(path)
    cached = _PRESETS.get(key, lambda _: _file_stamp([key]))
    if cached is not None:
        return cached
    preset = load_conditions(path)
    return _PRESETS.put(key, preset, _file_stamp([key]))


def resolve_mechanism(model, parameter_set=None) -> Mechanism:
    """A Mechanism from a mechanism or SBML path (or a list of paths, or a shipped name), or a Mechanism,
    with ``parameter_set`` applied. Files are read once and again only when one of them changes."""
    if isinstance(model, Mechanism):
        return model.with_parameter_set(parameter_set) if parameter_set else model
    if not isinstance(model, (str, Path, list, tuple)):
        raise ConditionsError(f"`model` must be a mechanism or SBML file path, a Mechanism or a Network, "
                              f"found {model!r}")
    names = tuple(str(p) for p in (model if isinstance(model, (list, tuple)) else [model]))
    # Relative names depend on the working directory; shipped names ("iron") do not, but keying on it is harmless.
    key = (os.getcwd(), names, parameter_set)
    cached = _MECHANISMS.get(key, lambda mechanism: _file_stamp(mechanism.files))
    if cached is not None:
        return cached
    mechanism = load(model, parameter_set=parameter_set)
    return _MECHANISMS.put(key, mechanism, _file_stamp(mechanism.files))


_DIGESTS: dict = {}  # id(mechanism) -> (weak reference, digest): a Mechanism is immutable, hash it once


def _digest(mechanism: Mechanism) -> str:
    entry = _DIGESTS.get(id(mechanism))
    if entry is not None and entry[0]() is mechanism:
        return entry[1]
    digest = mechanism_digest(mechanism)
    if len(_DIGESTS) > 4 * CACHE_SIZE:
        _DIGESTS.clear()
    _DIGESTS[id(mechanism)] = (weakref.ref(mechanism), digest)
    return digest


def resolve_model(model, parameter_set=None) -> Network:
    """A Network from a mechanism or SBML path, a Mechanism or a Network; compiled once per canonical
    mechanism (fentonsim.mechanism.digest)."""
    if isinstance(model, Network):
        if parameter_set is not None and parameter_set != model.parameter_set:
            raise ConditionsError("`parameter_set` cannot be applied to a compiled Network; pass the "
                                  "mechanism file or Mechanism instead")
        return model
    mechanism = resolve_mechanism(model, parameter_set)
    digest = _digest(mechanism)
    network = _NETWORKS.get(digest)
    return network if network is not None else _NETWORKS.put(digest, compile_network(mechanism))


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


#: Output times a run may ask for: 10⁷ rows are already 80 MB per species.
MAX_N_POINTS = 10 ** 7

def time_grid(t_end=None, n_points=None, t_eval=None) -> np.ndarray:
    """Output times [s]: ``t_eval`` as given, or ``n_points`` evenly from 0 to ``t_end``."""
    if t_eval is not None:
        if t_end is not None or n_points is not None:
            raise ConditionsError("give either `t_eval` or `t_end`/`n_points`, not both")
        values = t_eval if isinstance(t_eval, (list, tuple)) else np.atleast_1d(t_eval).tolist()
        return np.array([parse_quantity(t, TIME, "s", "`t_eval` entry") for t in values])
    t_end = DEFAULT_T_END if t_end is None else parse_quantity(t_end, TIME, "s", "`t_end`")
    if not t_end > 0:
        raise ConditionsError(f"`t_end` must be positive, found {t_end:g} s")
    n_points = DEFAULT_N_POINTS if n_points is None else n_points
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or not 2 <= n_points <= MAX_N_POINTS:
        raise ConditionsError(f"`n_points` must be an integer from 2 to {MAX_N_POINTS:,}, found {n_points!r}")
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
    volume [L], the preset used, the preset species the model lacks (``ignored``) and the run-time rate
    constants applied (``rates``, {mechanism reaction id: k in M^(1−m) s⁻¹})."""

    pH: float
    temperature: float
    y0: np.ndarray
    k: np.ndarray
    volume: float
    preset: Conditions
    ignored: tuple
    rates: dict


def _initial_value(particle, name, value, bare_rule):
    """An initial concentration [M]; a nanomaterial's may be a mass concentration or particles per volume
    (fentonsim.mechanism.particles), which become formula units."""
    what = f"initial `{name}`"
    units = None if particle is None else mass_or_number_dose(particle, value, what)
    if units is not None:
        return Canonical(units)
    return user_quantity(value, CONCENTRATION, "M", what, bare_rule=bare_rule)


def resolve_run(network, conditions=None, ph=None, temperature=None, initial=None, buffered=None,
                volume=None, rates=None) -> RunConditions:
    """Apply the precedence rule (module docstring) to get one run's conditions for ``network``."""
    preset = resolve_conditions(conditions)
    pH = preset.pH if ph is None else ph
    pH = network.defaults.pH if pH is None else pH
    if temperature is not None:
        temperature = user_quantity(temperature, TEMPERATURE, "K", "`temperature`")
    T = preset.temperature if temperature is None else temperature
    T = network.defaults.temperature if T is None else T
    if isinstance(pH, bool) or not isinstance(pH, (int, float, np.floating)) or not 0 <= pH <= 14:
        raise ConditionsError(f"`ph` must be a number between 0 and 14, found {pH!r}")
    bare_rule = not network.counts  # in a molecule-count model 150 means 150 molecules
    particles = {p.species: p for p in network.particles}
    explicit_initial = {name: _initial_value(particles.get(name), name, v, bare_rule)
                        for name, v in (initial or {}).items()}
    explicit_buffered = {name: user_quantity(v, CONCENTRATION, "M", f"buffered `{name}`", bare_rule=bare_rule)
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
    user_rates = network.parse_rates(rates)
    # The user's own constants (rates=, or set in the Mechanism) win over the preset's (its O2 exchange).
    reference = {rid: v for rid, v in preset.rates.items()
                 if rid in known_ids and rid not in network.user_rates and rid not in user_rates}
    reference.update(user_rates)
    ignored_rates = [rid for rid in preset.rates if rid not in known_ids]
    k = network.rate_constants(pH=float(pH), temperature=float(T), buffered=buffered_values, reference=reference)
    if volume is not None and network.compartments:
        refuse_volume(network)
    if volume is None:
        # A preset's volume is one solution's; a multi-compartment network counts in its compartments instead.
        volume = preset.volume if preset.volume is not None else network.defaults.volume
    volume = parse_quantity(volume, VOLUME, "L", "`volume`")
    if not volume > 0:
        raise ConditionsError(f"`volume` must be positive, found {volume:g} L")
    return RunConditions(float(pH), float(T), y0, k, volume, preset,
                         tuple(sorted(set(ignored) | set(ignored_buffered) | set(ignored_rates))), user_rates)




# ------------------------------------------------------------------------------------------------ the problem

@dataclass(frozen=True)
class Problem:
    """Everything that decides the numbers of ``n_c`` conditions of one network (read-only arrays).

    Attributes
    ----------
    network : Network
    k : ndarray, shape (n_c, n_r)
        Effective rate constants [M^(1−order) s⁻¹] (the r = k·Π[x]^ν convention of fentonsim.network).
    y0 : ndarray, shape (n_c, n_s)
        Initial state [M].
    t_out : ndarray, shape (n_out,)
        Output times [s].
    boluses, sources : tuples of fentonsim.Bolus / fentonsim.Source
        Inputs shared by every condition: the model's own events (up to the last output time) first,
        then the caller's.
    volume : ndarray, shape (n_c,)
        Reaction volume [L] (stochastic runs; molecule-count models).
    seeds : tuple of int, length n_c
        Base seed of each condition's stochastic runs (trajectory i depends on (seed, i) only).
    conditions : tuple of RunConditions, length n_c
        pH, temperature, preset, ignored preset species and run-time rate constants of each condition.
    metal_dose : ndarray, shape (n_c,)
        Metal dose [M] of each condition for ·OH per metal (NaN where none).
    rtol : float
    atol : float or ndarray (n_s,)
        Tolerances [-, M]; the default atol is 1e-20 M or the model's own.
    """

    network: Network
    k: np.ndarray
    y0: np.ndarray
    t_out: np.ndarray
    boluses: tuple
    sources: tuple
    volume: np.ndarray
    seeds: tuple
    conditions: tuple
    metal_dose: np.ndarray
    rtol: float
    atol: object

    @property
    def n_conditions(self) -> int:
        return self.k.shape[0]


def _readonly(array) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


def build_problem(network, points=({},), *, conditions=None, t_out=None, boluses=(), sources=(),
                  rtol=DEFAULT_RTOL, atol=None, seeds=None) -> Problem:
    """Resolve and validate ``points`` of ``network`` into a :class:`Problem`.

    Parameters
    ----------
    network : Network
    points : sequence of mappings
        One per condition, with optional keys ``pH``, ``temperature`` (K or a quantity), ``initial`` and
        ``buffered`` ({species: M or quantity}), ``volume`` (L or a quantity), ``rates`` ({reaction id:
        k}, Network.parse_rates), ``conditions`` (a preset for this point instead of ``conditions``) and
        ``metal_dose`` [M].
    conditions : Conditions, str or Path, optional
        The preset under every point (module docstring for precedence).
    t_out : array_like, shape (n_out,)
        Output times [s] (default: :func:`time_grid`'s).
    boluses, sources : sequences of Bolus / Source
        The caller's inputs, applied after the model's own events at equal times.
    seeds : sequence of int, optional
        Per-point base seeds (default 0 for every point).
    """
    if not points:
        raise ConditionsError("a problem needs at least one condition")
    t_out = time_grid() if t_out is None else np.asarray(t_out, dtype=float)
    preset = resolve_conditions(conditions)
    runs = []
    for point in points:
        unknown = set(point) - POINT_KEYS
        if unknown:
            raise ConditionsError(f"unknown condition key(s) {', '.join(sorted(unknown))}; expected "
                                  f"{', '.join(sorted(POINT_KEYS))}")
        # An explicit condition the model cannot feel would be recorded as if it mattered: refuse it.
        if point.get("pH") is not None and not network.depends_on_ph:
            raise ConditionsError(f"`ph` has no effect on `{network.name}`: none of its rate constants depends on "
                                  "pH (no H+ or OH- in a rate law, no speciation, no pH-dependent yield); drop it")
        if point.get("temperature") is not None and not network.depends_on_temperature:
            raise ConditionsError(f"`temperature` has no effect on `{network.name}`: none of its rate constants "
                                  "depends on temperature (no activation energy, pKa enthalpy or OH-); drop it")
        runs.append(resolve_run(network, point.get("conditions", preset), point.get("pH"),
                                point.get("temperature"), point.get("initial"), point.get("buffered"),
                                point.get("volume"), point.get("rates")))
    if atol is None:
        atol = DEFAULT_ATOL if network.defaults.atol is None else network.defaults.atol
    seeds = (0,) * len(runs) if seeds is None else tuple(int(s) for s in seeds)
    if len(seeds) != len(runs):
        raise ConditionsError(f"{len(seeds)} seeds for {len(runs)} conditions")
    # The model's own events come first at equal times; those after the end never happen.
    own = tuple(e for e in network.events if e.time <= t_out[-1])
    dose = [p.get("metal_dose") for p in points]
    return Problem(network, _readonly([r.k for r in runs]), _readonly([r.y0 for r in runs]), _readonly(t_out),
                   own + tuple(boluses), tuple(sources), _readonly([r.volume for r in runs]), seeds, tuple(runs),
                   _readonly([np.nan if d is None else d for d in dose]), float(rtol), atol)


POINT_KEYS = frozenset({"pH", "temperature", "initial", "buffered", "volume", "rates", "conditions", "metal_dose"})


def solve_batch(problem: Problem, *, solver=DEFAULT_SOLVER, max_steps=DEFAULT_MAX_STEPS, h_max=math.inf,
                raise_on_failure=False, fluxes=True, parallel=True) -> ODEBatch:
    """Every condition of ``problem``, with the metric grid evaluated; a failed condition has NaN rows and a
    nonzero ``status`` unless ``raise_on_failure``.

    ``parallel=True`` runs one compiled loop over all cores (fentonsim.deterministic.solve_ode_batch);
    ``parallel=False`` solves the conditions one after another with the single-condition kernel. The numbers
    are the same to the bit (tests/test_integrator.py); what differs is the cost: the parallel kernel is a
    second compilation (~6 s on first use after an install, for its threading layer), worth it for sweeps
    but not for the few dozen runs of a comparison.
    """
    if parallel:
        return solve_ode_batch(problem.network, problem.k, problem.y0, problem.t_out, boluses=problem.boluses,
                               sources=problem.sources, rtol=problem.rtol, atol=problem.atol, max_steps=max_steps,
                               h_max=h_max, raise_on_failure=raise_on_failure, fluxes=fluxes, solver=solver,
                               metric_grid=True)
    start = time.perf_counter()
    solutions, status, failure = [], np.zeros(problem.n_conditions, dtype=np.int64), np.zeros((problem.n_conditions, 3))
    for i in range(problem.n_conditions):
        try:
            solutions.append(run_condition(problem, i, "ode", solver=solver, max_steps=max_steps, h_max=h_max,
                                           fluxes=fluxes))
        except SolverError as exc:
            if raise_on_failure:
                raise SolverError(f"condition {i} of {problem.n_conditions} failed: {exc}", time=exc.time,
                                  step=exc.step, species=exc.species) from None
            species = problem.network.species
            solutions.append(None)
            status[i] = 1
            failure[i] = exc.time, exc.step, species.index(exc.species) if exc.species in species else -1
    template = next((s for s in solutions if s is not None), None)
    if template is None:  # every condition failed: the batch kernel reports them with the right shapes
        return solve_batch(problem, solver=solver, max_steps=max_steps, h_max=h_max, fluxes=fluxes, parallel=True)

    def stack(name):
        if getattr(template, name) is None:
            return None
        return np.stack([getattr(s, name) if s is not None else np.full_like(getattr(template, name), np.nan)
                         for s in solutions])

    counters = np.array([[s.counters[c] if s is not None else -1 for c in COUNTER_NAMES] for s in solutions])
    return ODEBatch(template.time, stack("concentration"), stack("extent"), stack("exposure"), counters, status,
                    failure, template.rtol, template.atol, time.perf_counter() - start, template.metric_time,
                    stack("metric_concentration"), stack("metric_exposure"))


def batch_metrics(problem: Problem, batch) -> dict:
    """·OH metrics (fentonsim.metrics) of every condition of a :func:`solve_batch` result: {name: (n_c,)};
    the same numbers :func:`fentonsim.metrics` gives for :func:`condition_dataset` of each condition."""
    network = problem.network
    data = ode_metrics(network.species, network.net_stoich, batch.time, batch.concentration, batch.extent,
                       batch.exposure, batch.atol, metric_time=batch.metric_time,
                       metric_concentration=batch.metric_concentration, metric_exposure=batch.metric_exposure)
    dose = problem.metal_dose
    if np.any(np.isfinite(dose)) and "oh_produced" in data:
        with np.errstate(divide="ignore", invalid="ignore"):
            data["oh_per_metal"] = np.where(dose > 0, data["oh_produced"] / dose, np.nan)
    return data


def run_condition(problem: Problem, index: int, method="ode", **options):
    """Condition ``index`` of ``problem`` by ``method``: an ODESolution (options of
    fentonsim.deterministic.solve_ode) or a StochasticSolution (options of
    fentonsim.stochastic.run_stochastic; ``seed`` is the problem's)."""
    k, y0 = problem.k[index], problem.y0[index]
    if method == "ode":
        return solve_ode(problem.network, k, y0, problem.t_out, boluses=problem.boluses, sources=problem.sources,
                         rtol=problem.rtol, atol=problem.atol, metric_grid=True, **options)
    # A multi-compartment network counts molecules in its compartments' own volumes (stochastic_compartments).
    volume = None if problem.network.compartments else float(problem.volume[index])
    return run_stochastic(problem.network, k, y0, problem.t_out, volume=volume,
                          method=method, seed=problem.seeds[index], boluses=problem.boluses,
                          sources=problem.sources, **options)


def format_rates(rates, orders) -> str:
    """Rate constants as results record them: "F5 = 3.2e+08 M^-1 s^-1; …" (sorted by id, canonical units for
    each reaction's total order in ``orders``, {id: m})."""
    return "; ".join(f"{rid} = {value:.6g} {format_dims(rate_constant_dims(orders[rid]))}"
                     for rid, value in sorted((rates or {}).items()))


def provenance(problem: Problem, index: int = 0) -> dict:
    """What made condition ``index``'s numbers, as result attributes: version, mechanism and its digest,
    parameter set, run-time rate constants, conditions, inputs and yield-law caveats."""
    network, run = problem.network, problem.conditions[index]
    inputs = [b.describe() for b in problem.boluses] + [s.describe() for s in problem.sources]
    return {
        "fentonsim_version": __version__,
        "pH": run.pH,
        "temperature_K": run.temperature,
        # Whether the conditions above reach any rate constant (an SBML model usually feels neither).
        "ph_dependent": int(network.depends_on_ph),
        "temperature_dependent": int(network.depends_on_temperature),
        "conditions": run.preset.name,
        "mechanism": network.name,
        "mechanism_sha256": network.mechanism_sha256,
        "parameter_set": network.parameter_set or "",
        "rate_overrides": format_rates({**{rid: float(network.k_ref[network.source_reaction.index(rid)])
                                            for rid in network.user_rates}, **run.rates}, network.rate_orders),
        "inputs": "; ".join(inputs),
        "ignored_inputs": ", ".join(run.ignored),
        # Yield laws applied outside their measured range: recorded, never silent (fentonsim.validity).
        VALIDITY_ATTRIBUTE: "\n".join(yield_law_warnings(network.yield_laws, run.pH, run.temperature)),
        "oxygen_supply": oxygen_supply(network, run.preset, run.y0, run.k),
    }


def condition_dataset(problem: Problem, index: int, method: str, solution):
    """The result Dataset (schema: fentonsim.results) of condition ``index`` run by :func:`run_condition`."""
    network = problem.network
    attrs = provenance(problem, index)
    inputs = getattr(solution, "inputs", None)
    if inputs is not None:  # as the solver applied them: in time order
        attrs["inputs"] = "; ".join([b.describe() for b in inputs.boluses] + [s.describe() for s in inputs.sources])
    if network.counts:
        attrs["counts"] = 1  # species are molecule counts in the source model
        attrs["molecules_per_molar"] = AVOGADRO * float(problem.volume[index])
    k = problem.k[index]
    if method == "ode":
        return ode_dataset(network, solution, k, attrs)  # observables included
    return add_observables(stochastic_dataset(network, solution, k, method, attrs), network.observables)
