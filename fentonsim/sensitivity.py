"""Local (forward) sensitivities of a run: ∂c_i(t)/∂ln k_j, and of initial concentrations, pH and temperature.

:func:`sensitivities` resolves a model and conditions exactly as :func:`fentonsim.simulate` does
(fentonsim.problem: ``resolve_model``, ``build_problem``; presets, units, ``initial``, ``rates``, the
model's own events) and integrates the state together with its sensitivities in one compiled call
(fentonsim.kernels.sensitivity): a Rosenbrock method (RODAS5P, order 5, or RODAS4) applied to the
augmented system (y, ∂y/∂θ_1, …, ∂y/∂θ_p) with its exact block-triangular Jacobian, so every stage
reuses the state's one LU factorisation per step. No finite differences in the integration; the
sensitivities have the method's order and, with ``error_control="full"`` (default), are
error-controlled to ``rtol``/``atol`` like the state.

Parameters θ (the ``parameter`` coordinate)
-------------------------------------------
``"rate:<id>"``
    ln k of network reaction ``<id>`` (a branch id, ``<id>:reverse``); a mechanism id whose reaction is
    branched stands for all its branches together (as ``rates=`` does). Forcing ∂f/∂ln k = k·ν·Π[x]^ν
    (rate convention of fentonsim.network), so a reaction with k = 0 at the run's conditions has
    sensitivity exactly 0 (scaling a zero constant changes nothing). Raw: ∂c/∂ln k [M].
``"initial:<species>"``
    The initial concentration c0 of a state variable (a pool by any of its form names). S(0) = e,
    no forcing. Raw: ∂c/∂c0 [1].
``"pH"``, ``"temperature"``
    Through the rate constants: ∂f/∂θ = Σ_i (∂k_i/∂θ)·ν_i·Π[x]^ν with ∂k/∂θ from a central difference
    of the rate-constant evaluation only (Network.rate_constants: step 1e-5 pH units, 1e-2 K; relative
    error ≲ 1e-9), plus ∂c0/∂θ likewise. Raw: ∂c/∂pH [M], ∂c/∂T [M K⁻¹].

Result
------
An ``xarray.Dataset`` with coordinates ``time`` [s], ``species``, ``parameter`` (and per parameter
``parameter_kind``, ``parameter_value`` — k [M^(1−order) s⁻¹], c0 [M], pH or T [K] — and
``sensitivity_unit``); data variables ``concentration`` (time, species) [M], ``sensitivity``
(time, species, parameter) raw (units per parameter as above) and ``normalised`` (time, species,
parameter) [1]: ∂ln c/∂ln θ (∂ln c/∂pH for pH), NaN where c = 0 (and meaningless where c is at the
level of atol). With ``extents=True`` also ``extent`` (time, reaction) [M], ``extent_sensitivity``
(time, reaction, parameter) and, when the model has a ``hydroxyl`` species, ``oh_produced`` (time) [M]
(Σ extent × positive stoichiometry, as fentonsim.metrics) and ``oh_produced_sensitivity`` (time,
parameter), integrated as quadratures of the same augmented step (kernels/sensitivity.py). Attributes: the provenance of fentonsim.simulate's results (conditions, mechanism,
rate overrides, …), ``method``, ``solver``, ``rtol``, ``atol``, ``error_control``, counters and
``wall_time_s``.

Error control (``error_control``)
---------------------------------
``"full"``: a step is accepted when the state's and every sensitivity's weighted RMS error are ≤ 1
(weights atol + rtol·|·|, the state's atol in M; columns that are not in M — initial concentrations,
temperature — are integrated scaled to M: ∂c/∂ln c0 with c0, or the largest initial concentration for
a species that starts at 0, and ∂c/∂ln T). ``"state"``: only the state's error is controlled (CVODES
without sensitivity error control); cheaper, and the sensitivities are as accurate as the state's steps
make them (iron, rtol 1e-6: ≲ 3e-6 of each curve's maximum against a tight reference, vs ≲ 2e-7 with
"full", which takes about twice the steps).

Cost
----
Each step costs the state's work plus, per stage, row operations over the p sensitivity columns (the
stage Jacobian J(Y_i) and its derivative along the state increment on the Jacobian's sparse structure,
the step matrix's inverse formed once per step; kernels/sensitivity.py, "How a stage is computed").
Iron at "tme" (20 µM Fe(II), 8 live species, all 37 ln k of which 30 are live; 600 s, 61 outputs,
rtol 1e-6, warm, 2 shared cores; medians of 21 interleaved rounds): the whole call takes 7.6 ms with full
error control (728 steps) and 4.0 ms with ``"state"`` (323 steps, as the state alone), against 0.56 ms for
one solve_ode of the state (concentrations only) and 1.7 ms for simulate() — 13.6× and 7.2× one solve —
and 29 ms for the 60 solve_ode runs of central differences (3.9× and 7.3× faster). Before this kernel
layout: 15.1 ms and 7.7 ms (27× and 14× one solve). About 1 ms of each call is the shared run set-up and
the Dataset; the issue-21 target of ≤ 4× one solve for all sensitivities is not met: with p = 30 columns
of 8 species, the sensitivity stages are still ~7× the state's own work per step. libRoadRunner's
CVODES forward sensitivities of the same model (SBML, rtol 1e-6, its atol 1e-12) take ~13× the full
call (benchmarks/bench_sensitivity.py). Parameters whose sensitivity is identically 0 (k = 0,
reactions that cannot run) are left out of the integration.
"""
from __future__ import annotations

import functools
import math
import time as _time

import numpy as np
import xarray as xr

from .deterministic import (DEFAULT_MAX_STEPS, DEFAULT_RTOL, ROSENBROCK_SOLVERS, _check_rate_constants,
                            _failure_error, _finite_non_negative, _kernel_array, _time_grid, _tolerances)
from .errors import ConditionsError
from .inputs import compile_inputs
from .kernels import rosenbrock, sensitivity as kernel
from .problem import build_problem, provenance, resolve_model, time_grid

__all__ = ["sensitivities"]

ERROR_CONTROL = ("full", "state")
#: Central-difference steps for ∂k/∂pH [pH units] and ∂k/∂T [K] (rate-constant evaluation only).
PH_STEP = 1e-5
TEMPERATURE_STEP = 1e-2

_UNITS = {"rate": "M", "initial": "1", "pH": "M", "temperature": "M K-1"}
_NORMALISED = {"rate": "dln c/dln k", "initial": "dln c/dln c0", "pH": "dln c/dpH", "temperature": "dln c/dln T"}


def _parse_parameters(network, parameters):
    """[(label, kind, target)]: target is a list of reaction rows (rate), a species index (initial) or None."""
    if parameters is None:
        return [(f"rate:{rid}", "rate", [i]) for i, rid in enumerate(network.reaction_ids)]
    if isinstance(parameters, str):
        parameters = [parameters]
    parsed, seen = [], set()
    for item in parameters:
        if not isinstance(item, str) or not item.strip():
            raise ConditionsError(f"a sensitivity parameter must be a non-empty string such as `rate:<id>`, "
                                  f"`initial:<species>`, `pH` or `temperature`; found {item!r}")
        text = item.strip()
        kind, _, name = text.partition(":")
        if not _:
            kind, name = ("pH", "") if text.lower() == "ph" else ("temperature", "") if text == "temperature" \
                else ("rate", text)
        if kind == "rate":
            if name in network.reaction_ids:
                rows = [network.reaction_ids.index(name)]
            else:
                rows = [i for i, source in enumerate(network.source_reaction) if source == name
                        and not network.reaction_ids[i].endswith(":reverse")]
                if not rows:
                    raise ConditionsError(f"sensitivity parameter `{text}`: `{network.name}` has no reaction "
                                          f"`{name}`; reactions: {', '.join(network.reaction_ids)}")
                first = (tuple(network.reactant_idx[rows[0]]), tuple(network.reactant_coef[rows[0]]))
                if any((tuple(network.reactant_idx[i]), tuple(network.reactant_coef[i])) != first for i in rows):
                    raise ConditionsError(f"sensitivity parameter `{text}`: the network reactions of `{name}` "
                                          "have different reactants; name them one by one")
            label, target = f"rate:{name}", rows
        elif kind == "initial":
            try:
                index = network.species_index(name)
            except KeyError as exc:
                raise ConditionsError(f"sensitivity parameter `{text}`: {exc.args[0]}") from None
            label, target = f"initial:{network.species[index]}", index
        elif kind in ("pH", "ph", "temperature") and not name:
            kind = "pH" if kind.lower() == "ph" else kind
            dependent = network.depends_on_ph if kind == "pH" else network.depends_on_temperature
            if not dependent:
                raise ConditionsError(f"sensitivity parameter `{kind}`: no rate constant of `{network.name}` "
                                      f"depends on {kind}, so every sensitivity to it is 0; drop it")
            label, target = kind, None
        else:
            raise ConditionsError(f"unsupported sensitivity parameter `{text}`: expected `rate:<reaction id>`, "
                                  "`initial:<species>`, `pH` or `temperature` (doses of boluses and sources "
                                  "are not parameters yet)")
        if label in seen:
            raise ConditionsError(f"sensitivity parameter `{label}` is given twice")
        seen.add(label)
        parsed.append((label, kind, target))
    if not parsed:
        raise ConditionsError("`parameters` is empty: give at least one, or None for every reaction")
    return parsed


def _condition_derivative(network, base_point, conditions, t_out, key, value, step):
    """(∂k/∂θ (n_r,), ∂y0/∂θ (n_s,)) by a central difference of the rate-constant and initial-state
    evaluation at θ = ``key`` (pH or temperature [K]) ± ``step``."""
    points = [{**base_point, key: value + step}, {**base_point, key: value - step}]
    shifted = build_problem(network, points, conditions=conditions, t_out=t_out)
    dk = (shifted.k[0] - shifted.k[1]) / (2.0 * step)
    dy0 = (shifted.y0[0] - shifted.y0[1]) / (2.0 * step)
    return dk, dy0


def sensitivities(model, parameters=None, *, t_end=None, n_points=None, t_eval=None, conditions=None, ph=None,
                  temperature=None, initial=None, buffered=None, parameter_set=None, rates=None, boluses=(),
                  sources=(), rtol=None, atol=None, solver="rodas5p", error_control="full", extents=False,
                  max_steps=DEFAULT_MAX_STEPS, h_max=math.inf) -> xr.Dataset:
    """Forward sensitivities of every concentration to ``parameters`` (module docstring for the method).

    Parameters
    ----------
    model : str, Path, list of them, Mechanism or Network
        As for :func:`fentonsim.simulate`.
    parameters : str or sequence of str, optional
        ``"rate:<id>"`` (or a bare reaction id), ``"initial:<species>"``, ``"pH"``, ``"temperature"``;
        default: ln k of every network reaction.
    t_end, n_points, t_eval, conditions, ph, temperature, initial, buffered, parameter_set, rates,
    boluses, sources, max_steps, h_max
        As for :func:`fentonsim.simulate` (same precedence; boluses add to y and leave S unchanged, an
        assignment resets S of its species to 0; sources enter the state only).
    rtol : float, default 1e-6
    atol : float or array_like (n_s,), optional
        Tolerances [-, M] for the state and (``error_control="full"``) the sensitivities.
    solver : {"rodas5p", "rodas4"}
    error_control : {"full", "state"}
    extents : bool, default False
        Also integrate every reaction's extent and its sensitivities (``extent``, ``extent_sensitivity``
        and, when the model has ·OH, ``oh_produced`` and its sensitivity). They are quadratures over the
        rate groups, usually more of them than species, so they about double the cost (iron: 7.6 → 16 ms).

    Returns
    -------
    xarray.Dataset
        ``concentration``, ``sensitivity`` and ``normalised`` (module docstring).

    Raises
    ------
    ConditionsError
        For an unknown or unsupported parameter, a solver other than the compiled Rosenbrock ones, or
        bad conditions.
    SolverError
        When the tolerance cannot be met.
    """
    if solver not in ROSENBROCK_SOLVERS:
        raise ConditionsError(f"sensitivities are integrated with the compiled Rosenbrock solvers "
                              f"({', '.join(ROSENBROCK_SOLVERS)}); `{solver}` is not supported")
    if error_control not in ERROR_CONTROL:
        raise ConditionsError(f"`error_control` must be one of {', '.join(ERROR_CONTROL)}, found {error_control!r}")
    network = resolve_model(model, parameter_set)
    network.require_mass_action("fs.sensitivities")
    t_out = time_grid(t_end, n_points, t_eval)
    point = {"pH": ph, "temperature": temperature, "initial": initial, "buffered": buffered, "rates": rates}
    problem = build_problem(network, [point], conditions=conditions, t_out=t_out, boluses=boluses,
                            sources=sources, rtol=DEFAULT_RTOL if rtol is None else rtol, atol=atol)
    run = problem.conditions[0]
    parsed = _parse_parameters(network, parameters)

    rtol_value, atol_arr = _tolerances(network, problem.rtol, problem.atol)
    t_out = _time_grid(problem.t_out, 0.0)
    k = _kernel_array(problem.k[0])
    y0 = _kernel_array(problem.y0[0])
    if not _finite_non_negative(y0):
        raise ConditionsError("initial concentrations must be finite and non-negative")
    _check_rate_constants(network, k)
    if not (isinstance(max_steps, (int, np.integer)) and max_steps > 0):
        raise ConditionsError(f"`max_steps` must be a positive integer, found {max_steps!r}")
    if not h_max > 0:
        raise ConditionsError(f"`h_max` must be positive [s], found {h_max!r}")
    inputs = compile_inputs(network, problem.boluses, problem.sources, 0.0, t_out[-1])

    n_s, n_p = network.n_species, len(parsed)
    forcing_param, forcing_reaction, forcing_coef = [], [], []
    s0 = np.zeros((n_s, n_p))
    scale = np.ones(n_p)  # the kernel integrates scale_j·∂y/∂θ_j (columns in M, for the error control)
    values, kinds = np.empty(n_p), []
    base = {key: value for key, value in point.items() if value is not None}
    for j, (label, kind, target) in enumerate(parsed):
        kinds.append(kind)
        if kind == "rate":
            for i in target:
                forcing_param.append(j)
                forcing_reaction.append(i)
                forcing_coef.append(k[i])
            values[j] = float(k[target].sum())
            continue
        if kind == "initial":
            values[j] = y0[target]
            scale[j] = y0[target] if y0[target] > 0 else (y0.max() if y0.max() > 0 else 1.0)
            s0[target, j] = scale[j]
            continue
        if kind == "pH":
            values[j] = run.pH
            dk, dy0 = _condition_derivative(network, base, conditions, t_out, "pH", run.pH, PH_STEP)
        else:
            values[j] = run.temperature
            scale[j] = run.temperature
            dk, dy0 = _condition_derivative(network, base, conditions, t_out, "temperature", run.temperature,
                                            TEMPERATURE_STEP)
        jumps = np.flatnonzero((k == 0) & (dk != 0))
        if jumps.size:
            raise ConditionsError(f"sensitivity to {kind}: the rate constant of `{network.reaction_ids[jumps[0]]}` "
                                  f"is 0 here but changes with {kind} (a yield law at its limit); the derivative "
                                  "is one-sided and not supported")
        for i in np.flatnonzero(dk):
            forcing_param.append(j)
            forcing_reaction.append(int(i))
            forcing_coef.append(scale[j] * dk[i])
        s0[:, j] = scale[j] * dy0

    n_out = t_out.size
    out_y = np.empty((n_out, n_s))
    out_s = np.empty((n_out, n_s, n_p))
    n_q = network.n_reactions if extents else 0
    out_q = np.zeros((n_out, n_q))
    out_qs = np.zeros((n_out, n_q, n_p))
    counters = np.zeros(rosenbrock.N_COUNTERS, dtype=np.int64)
    failure = np.zeros(3)
    start = _time.perf_counter()
    status = kernel.INTEGRATE[solver](
        k, network.reactant_idx, network.reactant_coef, network.net_stoich, y0, 0.0, t_out, inputs.stops,
        inputs.bolus_time, inputs.bolus_species, inputs.bolus_amount,
        inputs.source_species, inputs.source_amplitude, inputs.source_decay, inputs.source_start,
        inputs.source_stop, np.array(forcing_param, dtype=np.int64), np.array(forcing_reaction, dtype=np.int64),
        np.array(forcing_coef, dtype=float), s0, rtol_value, atol_arr, float(h_max), int(max_steps),
        error_control == "full", bool(extents), out_y, out_s, out_q, out_qs, counters, failure)
    wall = _time.perf_counter() - start
    if status != kernel.SUCCESS:
        raise _failure_error(network, status, failure, t_out[-1], rtol_value)
    raw = out_s / scale
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = np.where(out_y[:, :, None] != 0, out_s / out_y[:, :, None], np.nan)
    # normalised is scale·S/c: ∂ln c/∂ln θ for k (scale 1 and θ = ln k), T (scale T); c0 needs c0/scale.
    for j, kind in enumerate(kinds):
        if kind == "initial":
            normalised[:, :, j] *= values[j] / scale[j]
    extra_coords, extra_data = {}, {}
    if extents:
        # extent_i = k_i·∫Π x dt; ∂extent_i/∂θ_j = (∂k_i/∂θ_j)·∫Π x dt + k_i·∂(∫Π x dt)/∂θ_j (scaled columns).
        extent = out_q * k
        extent_sens = out_qs * k[None, :, None]
        for j, i, c in zip(forcing_param, forcing_reaction, forcing_coef):
            extent_sens[:, i, j] += c * out_q[:, i]
        extra_coords, extra_data = _extents(network, extent, extent_sens / scale)
    return _dataset(network, problem, parsed, kinds, values, t_out, out_y, raw, normalised, dict(
        solver=solver, rtol=rtol_value, error_control=error_control, wall=wall, counters=counters,
        atol=atol_arr), extra_coords, extra_data)


def _extents(network, extent, extent_sens):
    """The ``reaction`` coordinate and the variables ``extent`` (time, reaction) [M], ``extent_sensitivity``
    (time, reaction, parameter) and, with a ``hydroxyl`` species, ``oh_produced`` (time) [M] — Σ extent ×
    positive stoichiometry, as fentonsim.metrics counts it — and ``oh_produced_sensitivity`` (time,
    parameter)."""
    coords = {"reaction": ("reaction", list(network.reaction_ids))}
    units = "per parameter: the `sensitivity_unit` coordinate"
    data = {"extent": (("time", "reaction"), extent, {"units": "M", "description": "cumulative extent ∫ r dt"}),
            "extent_sensitivity": (("time", "reaction", "parameter"), extent_sens, {
                "units": units, "description": "raw sensitivity of each extent (as `sensitivity`)"})}
    if "hydroxyl" in network.species:
        made = np.clip(np.asarray(network.net_stoich)[:, network.species.index("hydroxyl")], 0, None)
        data["oh_produced"] = (("time",), extent @ made, {"units": "M", "description": "total ·OH produced"})
        data["oh_produced_sensitivity"] = (("time", "parameter"), np.einsum("trp,r->tp", extent_sens, made), {
            "units": units, "description": "raw sensitivity of the total ·OH produced"})
    return coords, data


def _dataset(network, problem, parsed, kinds, values, t_out, concentration, raw, normalised, info,
             extra_coords=None, extra_data=None):
    labels = [label for label, _, _ in parsed]
    coords = {
        "time": ("time", t_out, {"units": "s"}),
        "species": ("species", list(network.species)),
        "parameter": ("parameter", labels),
        "parameter_kind": ("parameter", kinds),
        "parameter_value": ("parameter", values, {
            "description": "k [M^(1-order) s^-1] (sum over the reactions of a parameter), c0 [M], pH or T [K]"}),
        "sensitivity_unit": ("parameter", [_UNITS[kind] for kind in kinds]),
        "normalised_as": ("parameter", [_NORMALISED[kind] for kind in kinds]),
    }
    data = {
        "concentration": (("time", "species"), concentration, {"units": "M"}),
        "sensitivity": (("time", "species", "parameter"), raw, {
            "units": "per parameter: see the `sensitivity_unit` coordinate",
            "description": "raw forward sensitivity: dc/dln k [M] (rate:), dc/dc0 [1] (initial:), dc/dpH [M], "
                           "dc/dT [M K-1]; exactly 0 for a reaction with k = 0 at these conditions"}),
        "normalised": (("time", "species", "parameter"), normalised, {
            "units": "1",
            "description": "dln c/dln k, dln c/dln c0, dln c/dpH, dln c/dln T (see `normalised_as`); NaN where "
                           "c = 0, and not meaningful where c is at the level of atol"}),
    }
    atol = info["atol"]
    attrs = dict(provenance(problem, 0))
    attrs.update({
        "method": "forward sensitivities (simultaneous corrector): Rosenbrock on the augmented system with its "
                  "exact block-triangular Jacobian, one LU per step (fentonsim.kernels.sensitivity)",
        "solver": info["solver"],
        "rtol": info["rtol"],
        "atol": float(atol[0]) if np.all(atol == atol[0]) else atol.tolist(),
        "error_control": info["error_control"],
        "wall_time_s": info["wall"],
        "zero_rate_constants": "reactions with k = 0 at these conditions have zero sensitivity to ln k",
    })
    attrs.update(dict(zip(("n_steps", "n_rejected", "n_rhs", "n_jac", "n_lu"), info["counters"].tolist())))
    coords.update(extra_coords or {})
    data.update(extra_data or {})
    return _construct(data, coords, attrs)


@functools.lru_cache(maxsize=256)
def _label_index(dim, labels):
    """(index coordinate Variable, PandasIndex) of string labels; index coordinates are immutable, so results
    share them (as fentonsim.results shares the network's)."""
    from xarray.core.indexes import PandasIndex

    index = PandasIndex.from_variables({dim: xr.Variable(dim, np.asarray(labels))}, options={})
    (variable,) = index.create_variables().values()
    return variable, index


#: False: build results with xarray's public constructor (what tests compare :func:`_construct` with).
DIRECT = True


def _construct(data, coords, attrs) -> xr.Dataset:
    """``xr.Dataset(data, coords=coords, attrs=attrs)`` for parts known to fit (coords: {name: (dim, values[,
    attrs])}, each an index when name == dim): the constructor's alignment and merge cost more than the
    kernel's own bookkeeping, so, as fentonsim.results does, the Dataset is put together from ready Variables
    and indexes (``Dataset._construct_direct``) after one check of every dimension's length."""
    construct = getattr(xr.Dataset, "_construct_direct", None)
    if construct is None or not DIRECT:
        return xr.Dataset(data, coords=coords, attrs=attrs)
    from xarray.core.indexes import PandasIndex

    variables, indexes = {}, {}
    for name, (dim, values, *rest) in coords.items():
        if name == dim:
            if isinstance(values, list):  # labels (species, parameter, reaction): immutable, built once
                variable, index = _label_index(dim, tuple(values))
            else:
                index = PandasIndex.from_variables({dim: xr.Variable(dim, np.asarray(values))}, options={})
                (variable,) = index.create_variables().values()
                variable.attrs.update(rest[0] if rest else {})
            indexes[dim] = index
        else:
            variable = xr.Variable(dim, np.asarray(values), dict(rest[0]) if rest else None)
        variables[name] = variable
    sizes = {name: variables[name].size for name in indexes}
    for name, variable in variables.items():
        if sizes[variable.dims[0]] != variable.size:
            raise ValueError(f"coordinate {name} does not fit dimension {variable.dims[0]}")  # a fentonsim bug
    for name, (dims, values, var_attrs) in data.items():
        values = np.asarray(values)
        if values.shape != tuple(sizes[d] for d in dims):
            raise ValueError(f"result variable {name}: shape {values.shape} does not fit dimensions {dims} "
                             f"of sizes {sizes}")  # a fentonsim bug, never a user's input
        variables[name] = xr.Variable(dims, values, dict(var_attrs), fastpath=True)
    return construct(variables, set(coords), sizes, dict(attrs), indexes)
