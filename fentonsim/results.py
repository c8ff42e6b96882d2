"""The result of a simulation: an ``xarray.Dataset`` with a fixed schema.

Deterministic result (``method="ode"``)
----------------------------------------
Dimensions
    ``time`` (n_out), ``species`` (n_s), ``reaction`` (n_r).
Coordinates
    ``time`` (time) float64 [s];
    ``species`` (species) str — state variables (species and speciation-pool totals);
    ``forms`` (species) str — the forms a pool totals, comma-separated ("" for a plain species);
    ``reaction`` (reaction) str — network reaction ids (branch ids, ``<id>:reverse``);
    ``equation`` (reaction) str; ``source_reaction`` (reaction) str — the mechanism reaction;
    ``compartment`` (species) str and ``compartment_volume`` (species) float64 [L] — only for a
    multi-compartment mechanism: the compartment whose volume each concentration is per ("" for none;
    fentonsim.compartments) and that volume (NaN for a size that varies, reported by the observable named after
    the compartment), so amounts are ``concentration * compartment_volume`` [mol]. Single-volume results
    are unchanged.
Data variables
    ``concentration`` (time, species) float64 [M];
    ``extent`` (time, reaction) float64 [M] — cumulative extent ∫₀ᵗ r dt of each reaction,
    integrated with the solution (not from the sampled points), so ∫ production of
    ·OH is ``(extent * stoich).sum("reaction")`` exactly;
    ``exposure`` (time, species) float64 [M s] — ∫₀ᵗ concentration dt
    (``extent`` and ``exposure`` are absent when run with ``fluxes=False``);
    ``metric_concentration`` (metric_time, species) float64 [M] and ``metric_exposure``
    (metric_time, species) float64 [M s] — the same solution (the integrator's dense output)
    on the metric grid ``metric_time`` [s] (a coordinate of its own dimension): first and last
    output time, t_end/2 and a geometric grid of 20 points per decade from 10⁻¹²·span (and after
    each input time), independent of ``n_points``; fentonsim.metrics computes half-lives, peaks
    and the late-window mean from it (fentonsim.deterministic ``metric_times``);
    ``delivered`` (time, species) float64 [M] — cumulative amount added by boluses and sources;
    ``net_stoich`` (reaction, species) int64 — change of each species per unit extent;
    ``rate_constant`` (reaction) float64 [M^(1−order) s⁻¹] — effective constants at the run's
    conditions (speciation, temperature and clamped species folded in);
    ``order`` (reaction) int8 — order in the state variables.
    Mass balance holds exactly (to round-off):
    ``concentration(t) = concentration(t0 before inputs) + extent(t)·net_stoich + delivered(t)``.
Attributes
    ``fentonsim_version``; ``method`` ("ode"); ``solver``; ``rtol``; ``atol`` [M] (a number,
    or a list per species); ``pH``; ``temperature_K``; ``ph_dependent`` and ``temperature_dependent``
    (1 when some rate constant of the model changes with it, 0 otherwise — an SBML model usually feels
    neither); ``conditions`` (preset name or "");
    ``mechanism`` (name); ``mechanism_sha256``; ``parameter_set`` (or ""); ``rate_overrides``
    (``rates=`` given to simulate, "id = value; …", or ""); ``inputs``
    (one line per bolus/source, or ""); ``ignored_inputs`` (preset species absent from the
    mechanism, or ""); ``validity_warnings`` (one line per yield law applied outside its
    stated validity range or without one, lines joined by "\\n"; "" when none — read them with
    ``fentonsim.validity_warnings(ds)``, which returns the list of lines; format in
    fentonsim.validity); counters ``n_steps``, ``n_rejected``, ``n_rhs``, ``n_jac``, ``n_lu``
    (−1: not reported by the solver); ``wall_time_s``; ``rate_convention``.

Stochastic result (``method="ssa"``, ``"tau-leap"`` or ``"auto"``)
--------------------------------------------------------------------
Dimensions
    ``run`` (runs), ``time``, ``species``, ``reaction``, and ``quantile`` (n_q) with
    streaming statistics. Coordinates as above, plus ``run`` (0 … runs−1) and
    ``quantile`` (probabilities).
Data variables with every trajectory kept (``stats=False``)
    ``concentration`` (run, time, species) float64 [M] — count / (N_A·V), V the volume of the
    species' own compartment for a multi-compartment network; NaN after a
    run stopped early; ``count`` (run, time, species) int64 [molecules] (−1 after a stop);
    ``events`` (run, reaction) int64 — events fired per reaction (a transport's gain channel
    reports the firings of its loss channel: one molecule moved each, fentonsim.stochastic_compartments);
    ``produced`` (run, species) float64 [M] — Σ events × positive stoichiometry / (N_A·V),
    e.g. the total ·OH made by each run. In molecules, count(t) = count(0) + inputs + events·net_stoich.
Data variables with streaming statistics (``stats=True``)
    ``concentration_mean``, ``concentration_sd`` (time, species) [M] (sd with ddof 1);
    ``concentration_quantile`` (quantile, time, species) [M] (P² estimates);
    ``n_valid`` (time) int64 — runs that reached each time;
    ``events_mean``, ``events_sd`` (reaction); ``produced_mean``, ``produced_sd`` (species) [M]
    over complete runs.
Data variables in both
    ``n_events`` (run) int64; ``status`` (run) int8 — 0 complete, 1 stopped at max_events,
    2 count overflow, 3 not run (time budget), 4 propensity overflow (tau-leaping, direct SSA); ``t_reached``
    (run) float64 [s];
    ``net_stoich``, ``rate_constant``, ``order`` as above.
Attributes
    As above except the ODE counters and tolerances, plus ``method`` ("ssa" or "tau-leap"),
    ``method_requested``, ``method_reason``, ``algorithm`` ("direct", "next-reaction",
    "tau-leap"), ``runs``, ``seed``, ``volume_L``, ``molecules_per_molar`` (N_A·V; both NaN for a
    multi-compartment network, whose volumes are the ``compartment_volume`` coordinate),
    ``statistics`` ("trajectories" or "streaming"), ``n_events`` (total), ``n_ssa_steps``,
    ``n_leaps``, ``n_rejected_leaps``, ``n_incomplete``, ``estimated_events_per_run``,
    ``max_events``, ``epsilon``, ``propensity_convention``.

Models imported from SBML
    Assignment rules add an ``observable`` dimension and ``observed`` (or
    ``observed_mean``/``observed_sd``) variables in the model's own units (schema in
    fentonsim.observables); a model in molecule counts adds the attributes ``counts`` (1) and
    ``molecules_per_molar``; the model's own events are listed in ``inputs``.

Every data variable carries ``units`` and ``long_name`` attributes. Attribute
values are strings and numbers only, so the dataset writes to NetCDF as is.
"""
from __future__ import annotations

import weakref

import numpy as np
import xarray as xr

from .constants import AVOGADRO
from .observables import observed_values
from .stochastic import production_matrix

RATE_CONVENTION = ("r = k·Π[x]^ν over reactants (self-reactions 2A→P: r = k[A]², d[A]/dt = −2r); "
                   "d[x]/dt = Σ_reactions ν_net·r")


PROPENSITY_CONVENTION = ("a = c·Π n(n−1)…(n−ν+1) over reactants, c = k·(N_A·V)^(1−order); "
                         "2A→P: a = k·n(n−1)/(N_A·V), so the SSA mean follows the rate equations; "
                         "V is the volume of the compartment the reaction happens in, and a transport "
                         "moves one molecule per firing at a = k·n_source")


def delivered_by_inputs(network, inputs, time) -> np.ndarray:
    """Cumulative amounts [M] added by ``inputs`` by each time, shape (n_out, n_s)."""
    out = np.zeros((time.size, network.n_species))
    for b in range(inputs.bolus_time.size):
        if inputs.bolus_species[b] >= 0:  # assignments (negative codes) are not additions
            out[time >= inputs.bolus_time[b], inputs.bolus_species[b]] += inputs.bolus_amount[b]
    for j, source in enumerate(inputs.sources):
        out[:, inputs.source_species[j]] += source.delivered(time)
    return out


def species_molecules_per_molar(ds: xr.Dataset) -> np.ndarray:
    """N_A·V [molecules M⁻¹] of each species of result ``ds``, shape (n_s,): the volume of its own compartment
    (coordinate ``compartment_volume``) where that is constant, else the run's one volume (attribute
    ``molecules_per_molar``, which a multi-compartment stochastic result leaves NaN)."""
    one = float(ds.attrs.get("molecules_per_molar", np.nan))
    if "compartment_volume" not in ds.coords:
        return np.full(ds.sizes["species"], one)
    volume = ds["compartment_volume"].values
    return np.where(np.isfinite(volume), AVOGADRO * volume, one)


def _network_variables(network, k):
    return {
        "net_stoich": (("reaction", "species"), np.asarray(network.net_stoich),
                       {"units": "1", "long_name": "net stoichiometric coefficient"}),
        "rate_constant": (("reaction",), np.asarray(k, dtype=float),
                          {"units": "M^(1-order) s^-1", "long_name": "effective rate constant"}),
        "order": (("reaction",), np.asarray(network.order), {"units": "1", "long_name": "reaction order"}),
    }


def _network_coords(network, time):
    return {
        "time": ("time", time, {"units": "s", "long_name": "time"}),
        "species": ("species", list(network.species)),
        "forms": ("species", [", ".join(f for f, pool in network.pool_of_form.items() if pool == name)
                              for name in network.species]),
        "reaction": ("reaction", list(network.reaction_ids)),
        "equation": ("reaction", list(network.equations)),
        "source_reaction": ("reaction", list(network.source_reaction)),
    }


def _compartment_coords(network) -> dict:
    """Which volume each concentration is per (fentonsim.compartments); none for one volume."""
    if not network.compartments:
        return {}
    return {"compartment": ("species", list(network.compartments)),
            "compartment_volume": ("species", np.array(network.compartment_volumes, dtype=float),
                                   {"units": "L", "long_name": "volume of the species' compartment"})}


#: Per network: its species and reaction coordinates with their pandas indexes, built once. A warm simulate()
#: of a small model spends more time building the Dataset than solving; the indexes were a third of it.
_STATIC_COORDINATES = weakref.WeakKeyDictionary()


def _static_coordinates(network) -> xr.Coordinates:
    static = _STATIC_COORDINATES.get(network)
    if static is None:
        coords = {name: value for name, value in _network_coords(network, None).items() if name != "time"}
        coords.update(_compartment_coords(network))
        if network.observables:  # the labels observables.add_observables gives a result
            coords["observable"] = ("observable", [o.name for o in network.observables])
            coords["observable_units"] = ("observable", [o.units for o in network.observables])
        static = xr.Coordinates(coords)
        _STATIC_COORDINATES[network] = static
    return static


def _coordinates(network, time, extra=None) -> xr.Coordinates:
    """The result's coordinates: the network's (cached with their indexes) plus ``time`` and ``extra``."""
    static = _static_coordinates(network)
    varying = xr.Coordinates({"time": _network_coords(network, time)["time"], **(extra or {})})
    # Index coordinates are immutable; the others are copied so that a user editing one result's labels
    # cannot change the next result's.
    own = {name: variable if name in static.xindexes else variable.copy(deep=True)
           for name, variable in static.variables.items()}
    return xr.Coordinates(coords={**own, **varying.variables}, indexes={**static.xindexes, **varying.xindexes})


def _dataset(network, data_vars, axes, attrs) -> xr.Dataset:
    """``xr.Dataset(data_vars, coords=...)`` for results whose parts are known to fit: the network's coordinates
    plus ``axes`` ({dimension: (values, attrs)}: 1-D index coordinates such as time).

    xarray's constructor aligns and merges its inputs, which cost 4× the whole solve of a small model; here
    every dimension's length is checked once and the Dataset is put together from ready Variables and indexes
    (``Dataset._construct_direct``, what xarray uses internally after such checks). tests/test_results.py
    keeps it identical to the public constructor's result.
    """
    construct = getattr(xr.Dataset, "_construct_direct", None)
    if construct is None:  # an xarray without it: the public constructor, slower but the same Dataset
        return _public_dataset(network, data_vars, axes, attrs)
    from xarray.core.indexes import PandasIndex

    static = _static_coordinates(network)
    variables, indexes = {}, dict(static.xindexes)
    for name, variable in static.variables.items():
        variables[name] = variable if name in static.xindexes else variable.copy(deep=True)
    for dim, (values, var_attrs) in axes.items():
        index = PandasIndex.from_variables({dim: xr.Variable(dim, np.asarray(values))}, options={})
        (variable,) = index.create_variables().values()
        variable.attrs.update(var_attrs)
        variables[dim], indexes[dim] = variable, index
    coord_names = set(variables)
    sizes = {name: variables[name].size for name in indexes}
    for name, (dims, data, var_attrs) in data_vars.items():
        data = np.asarray(data)
        if data.ndim != len(dims) or any(sizes.setdefault(d, n) != n for d, n in zip(dims, data.shape)):
            raise ValueError(f"result variable {name}: shape {data.shape} does not fit dimensions {dims} "
                             f"of sizes {sizes}")  # a fentonsim bug, never a user's input
        variables[name] = xr.Variable(dims, data, dict(var_attrs), fastpath=True)
    return construct(variables, coord_names, sizes, dict(attrs), indexes)


def _public_dataset(network, data_vars, axes, attrs) -> xr.Dataset:
    """What :func:`_dataset` builds, through xarray's public constructor (the reference it is tested against)."""
    extra = {dim: (dim, values, var_attrs) for dim, (values, var_attrs) in axes.items() if dim != "time"}
    return xr.Dataset(data_vars, coords=_coordinates(network, axes["time"][0], extra or None), attrs=attrs)


def ode_dataset(network, solution, k, attrs) -> xr.Dataset:
    """Build the deterministic-result Dataset (schema in the module docstring)."""
    delivered = (delivered_by_inputs(network, solution.inputs, solution.time)
                 if solution.inputs is not None else np.zeros_like(solution.concentration))
    fluxes = {} if solution.extent is None else {
        "extent": (("time", "reaction"), solution.extent,
                   {"units": "M", "long_name": "cumulative reaction extent ∫r dt"}),
        "exposure": (("time", "species"), solution.exposure,
                     {"units": "M s", "long_name": "exposure ∫[x] dt"}),
    }
    dense = {}
    if getattr(solution, "metric_time", None) is not None:
        dense["metric_concentration"] = (("metric_time", "species"), solution.metric_concentration,
                                         {"units": "M", "long_name": "concentration on the metric grid"})
        if solution.metric_exposure is not None:
            dense["metric_exposure"] = (("metric_time", "species"), solution.metric_exposure,
                                        {"units": "M s", "long_name": "exposure ∫[x] dt on the metric grid"})
    axes = {"time": (solution.time, {"units": "s", "long_name": "time"})}
    if dense:
        axes["metric_time"] = (solution.metric_time, {"units": "s", "long_name": "metric grid (dense output)"})
    observed = {}
    if network.observables:  # what observables.add_observables adds (labels: the network's coordinates)
        observed["observed"] = (("time", "observable"),
                                observed_values(network.observables, solution.concentration,
                                                list(network.species), solution.time),
                                {"units": "see observable_units", "long_name": "observable"})
    atol = solution.atol
    return _dataset(network, {
        "concentration": (("time", "species"), solution.concentration, {"units": "M", "long_name": "concentration"}),
        **fluxes,
        **dense,
        "delivered": (("time", "species"), delivered,
                      {"units": "M", "long_name": "cumulative amount added by boluses and sources"}),
        **_network_variables(network, k),
        **observed,
    }, axes, {
        "method": "ode",
        "solver": solution.solver,
        "rtol": float(solution.rtol),
        # A model whose every species is fixed (only rules and constants to report) has no tolerance at all.
        "atol": float(atol[0]) if atol.size and np.all(atol == atol[0]) else [float(a) for a in atol],
        **{name: int(value) for name, value in solution.counters.items()},
        "wall_time_s": float(solution.wall_time_s),
        "rate_convention": RATE_CONVENTION,
        **attrs,
    })


def stochastic_dataset(network, solution, k, method_requested, attrs) -> xr.Dataset:
    """Build the stochastic-result Dataset (schema in the module docstring)."""
    # Per species (its own compartment's N_A·V); one number repeated for one volume, so the same quotients.
    nv = (solution.molecules_per_molar if solution.species_molecules_per_molar is None
          else solution.species_molecules_per_molar)
    if solution.streaming:
        variables = {
            "concentration_mean": (("time", "species"), solution.count_mean / nv,
                                   {"units": "M", "long_name": "ensemble mean concentration"}),
            "concentration_sd": (("time", "species"), solution.count_sd / nv,
                                 {"units": "M", "long_name": "ensemble standard deviation of concentration"}),
            "concentration_quantile": (("quantile", "time", "species"), solution.count_quantiles / nv,
                                       {"units": "M", "long_name": "ensemble quantile of concentration (P² estimate)"}),
            "n_valid": (("time",), solution.n_valid, {"units": "1", "long_name": "runs reaching this time"}),
            "events_mean": (("reaction",), solution.events_mean, {"units": "1", "long_name": "mean events per run"}),
            "events_sd": (("reaction",), solution.events_sd, {"units": "1", "long_name": "sd of events per run"}),
            "produced_mean": (("species",), solution.produced_mean / nv,
                              {"units": "M", "long_name": "mean amount produced by reactions per run"}),
            "produced_sd": (("species",), solution.produced_sd / nv,
                            {"units": "M", "long_name": "sd of amount produced by reactions per run"}),
        }
        extra_coords = {"quantile": ("quantile", np.array(solution.quantiles, dtype=float))}
    else:
        counts = solution.counts
        concentration = np.where(counts >= 0, counts / nv, np.nan)
        variables = {
            "concentration": (("run", "time", "species"), concentration, {"units": "M", "long_name": "concentration"}),
            "count": (("run", "time", "species"), counts,
                      {"units": "molecules", "long_name": "molecule count (-1 after an early stop)"}),
            "events": (("run", "reaction"), solution.events, {"units": "1", "long_name": "events fired"}),
            "produced": (("run", "species"), solution.events @ production_matrix(network) / nv,
                         {"units": "M", "long_name": "amount produced by reactions"}),
        }
        extra_coords = {}
    dataset = xr.Dataset(
        data_vars={
            **variables,
            "n_events": (("run",), solution.n_events, {"units": "1", "long_name": "events fired per run"}),
            "status": (("run",), solution.status.astype(np.int8),
                       {"units": "1", "long_name": "0 complete, 1 stopped at max_events, 2 count overflow, "
                                                   "3 not run (time budget), 4 propensity overflow"}),
            "t_reached": (("run",), solution.t_reached, {"units": "s", "long_name": "time reached"}),
            **_network_variables(network, k),
        },
        coords={**_network_coords(network, solution.time), **_compartment_coords(network),
                "run": ("run", np.arange(solution.runs)), **extra_coords},
    )
    counters = solution.counters
    dataset.attrs.update({
        "method": solution.method,
        "method_requested": method_requested,
        "method_reason": solution.method_reason,
        "algorithm": solution.algorithm,
        "runs": int(solution.runs),
        "seed": str(solution.seed) if solution.seed >= 2 ** 63 else int(solution.seed),
        "volume_L": float(solution.volume),
        "molecules_per_molar": float(solution.molecules_per_molar),
        "statistics": "streaming" if solution.streaming else "trajectories",
        "n_events": int(counters[0]),
        "n_ssa_steps": int(counters[1]),
        "n_leaps": int(counters[2]),
        "n_rejected_leaps": int(counters[3]),
        "n_incomplete": int(np.count_nonzero(solution.status != 0)),
        "estimated_events_per_run": float(solution.estimate.events),
        "max_events": int(solution.max_events),
        "epsilon": float(solution.epsilon),
        "wall_time_s": float(solution.wall_time_s),
        "rate_convention": RATE_CONVENTION,
        "propensity_convention": PROPENSITY_CONVENTION,
        **attrs,
    })
    return dataset
