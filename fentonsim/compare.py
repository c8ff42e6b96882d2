"""The main job: ·OH output of catalysts at tumour vs normal conditions.

``compare()`` runs every catalyst at every condition preset with the same
metal dose and returns an ``xarray.Dataset`` of metrics (fentonsim.metrics)
over ``catalyst`` × ``condition``; ensembles add the ``statistic`` dimension
(mean, ci_low, ci_high). ``write_outputs`` turns it into the figure, a CSV
and a Markdown table.

A catalyst is a mechanism (or several merged) plus the species its dose
goes into. The built-in ones put each metal in a cell: the metal file merged
with glutathione.yaml, so the presets' GSH scavenges ·OH and reduces the
metal. The presets supply pH, temperature, H2O2, GSH, O2 and HCO3-.
"""
from __future__ import annotations

import csv
import dataclasses
import math
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

# Catalyst names are compare's public vocabulary too: re-exported for `from fentonsim.compare import ...`.
from .catalysts import BUILT_IN, DEFAULT_CATALYSTS, DEFAULT_DOSE, PROBE_FILE, Catalyst, parse_catalyst  # noqa: F401
from .conditions import O2_SUPPLY_SPECIES
from .decomposition import STAGES, STEPS, decomposition_rows
from .deterministic import DEFAULT_SOLVER
from .dosing import catalyst_doses
from .errors import ConditionsError
from .metrics import DESCRIPTIONS, describe, metrics, summarize
from .problem import (batch_metrics, build_problem, format_rates, provenance, resolve_conditions,
                      resolve_mechanism, resolve_model, solve_batch, time_grid)
from .progress import Steps
from .sampling import latin_hypercube, mechanism_ranges
from .simulate import simulate
from .sweep import sweep
from .validity import ValidityWarning, validity_warnings
from .units import CONCENTRATION, TEMPERATURE, TIME, VOLUME, format_concentration, parse_quantity, user_quantity

DEFAULT_T_END = "1 h"
DEFAULT_CONDITIONS = ("tme", "normal")
DEFAULT_METRIC = "oh_produced"
#: Latin-hypercube samples of the documented rate-constant ranges behind compare's uncertainty bands
#: (ODE; 32 samples cost about a second warm per catalyst and condition pair at the defaults).
DEFAULT_UNCERTAINTY_SAMPLES = 32
UNCERTAINTY_QUANTILES = (0.05, 0.5, 0.95)
DEFAULT_RUNS = 20
DEFAULT_VOLUME = "0.1 fL"
#: Metrics shown in the table, in order (the figure shows one of them).
TABLE_METRICS = ("oh_produced", "oh_escaping_gsh", "oh_per_metal", "oh_per_h2o2", "oh_exposure", "oh_steady",
                 "gsh_depleted", "t_half_h2o2", "o2_consumed", "o2_min")


def _concentration(value, what):
    number = user_quantity(value, CONCENTRATION, "M", what)
    if not number >= 0 or not math.isfinite(number):
        raise ConditionsError(f"{what} must be a non-negative concentration, found {value!r}")
    return number


def compare(catalysts=DEFAULT_CATALYSTS, conditions=DEFAULT_CONDITIONS, *, dose=None, ph=None,
            gsh=None, h2o2=None, t_end=DEFAULT_T_END, n_points=121, probe=None, stochastic=False,
            runs=DEFAULT_RUNS, volume=DEFAULT_VOLUME, seed=0, rates=None, parameter_set=None, temperature=None,
            decompose=True, uncertainty=DEFAULT_UNCERTAINTY_SAMPLES, progress=None, boluses=(),
            sources=(), sensitivity=False) -> xr.Dataset:
    """·OH metrics of each catalyst at each condition, at the same metal dose.

    Parameters
    ----------
    catalysts : sequence of str or Catalyst
        Built-in names (``iron``, ``copper``, ``manganese``) or ``FILE.yaml:SPECIES``.
    conditions : sequence of str
        Condition presets or files, one column each (default tumour ``tme`` and ``normal``).
    dose : float, str or mapping, optional
        Each catalyst's dose: None gives every catalyst its default (20 µM of the metal ion for a molecular
        catalyst; a nanoparticle catalyst's own mass dose from its file); one value goes to every catalyst; a
        mapping of catalyst names to values doses each (the others get their default). A molecular catalyst
        takes M; a nanoparticle catalyst (fentonsim.dosing) a mass concentration ("50 ug/mL") or particles
        per volume ("1e11 mL^-1"), never a bare number.
    ph : sequence of float, optional
        pH for each condition, replacing the presets' (which still give H2O2, GSH, O2, HCO3-).
    gsh, h2o2 : float or str, optional
        Initial GSH / H2O2 [M] for every condition, replacing the presets' (``gsh=0``: GSH depleted).
    t_end : float or str, default "1 h"
        Simulated time [s].
    n_points : int
        Output times (metrics use the integrated fluxes, not these samples, for totals).
    probe : mapping of str to float or str, optional
        Assay probes to add, e.g. ``{"TA-2": "0.5 mM"}`` (merges probes.yaml; probes compete for ·OH).
    stochastic : bool
        SSA ensembles of ``runs`` trajectories in ``volume`` instead of the ODE; metrics get confidence intervals.
    rates : mapping, optional
        Rate-constant overrides applied to every catalyst's mechanism (``simulate(rates=...)``); ids a
        catalyst lacks are skipped for it.
    parameter_set : str, optional
        An alternative parameter set, applied to every catalyst whose mechanism defines it (an error when
        none does).
    temperature : float or str, optional
        Temperature [K] (or ``"37 °C"``) for every condition, replacing the presets'.
    decompose : bool, default True
        With two or more conditions, split the difference between the first (target, e.g. tumour) and the
        second (reference, e.g. normal) into pH alone, H2O2, GSH and the rest (:data:`STAGES`), one
        deterministic run per stage; the ``stage_<metric>`` variables hold each stage's metrics.
    uncertainty : int, default 32
        Latin-hypercube samples of every documented rate-constant range (fentonsim.sampling) per catalyst
        and condition (ODE only; 0 turns it off). Constants set by ``rates`` or ``parameter_set`` are not
        sampled. Adds ``samples_<metric>`` over (catalyst, condition, sample) and the 5/50/95 % quantiles
        ``range_<metric>`` over (catalyst, condition, quantile).
    progress : bool or callable, optional
        A progress bar with ETA over the comparison's steps (None: only when stderr is a terminal), or a
        callable given a one-line description before each step.
    boluses, sources : sequences of fentonsim.Bolus / fentonsim.Source
        Inputs (a repeated H2O2 dose, a slow release) applied in every run, as in simulate().
    sensitivity : bool, default False
        Also integrate the local sensitivities of the total ·OH produced to ln k of every reaction of each
        catalyst at each condition (fentonsim.sensitivity, ODE, ``extents=True``): ``oh_sensitivity``
        ∂ln(·OH produced)/∂ln k [1] and ``oh_sensitivity_k`` (the effective k [M^(1−m) s⁻¹]) over (catalyst,
        condition, ``sensitivity_reaction``, the union of the catalysts' network reactions; NaN where a
        catalyst lacks the reaction or makes no ·OH).

    Returns
    -------
    xarray.Dataset
        One variable per metric over (catalyst, condition) — and ``statistic`` (mean, ci_low, ci_high)
        for ensembles — with ``units``/``long_name``; coordinates ``label`` (catalyst display name), ``pH``
        and ``preset`` per condition; attrs with the dose [M], t_end [s], method and run settings.
    """
    catalyst_list = [parse_catalyst(c) for c in catalysts]
    if not catalyst_list:
        raise ConditionsError("give at least one catalyst")
    names = [c.name for c in catalyst_list]
    if len(set(names)) != len(names):
        raise ConditionsError(f"catalysts must have distinct names, found {', '.join(names)}")
    presets = [resolve_conditions(c) for c in conditions]
    if not presets:
        raise ConditionsError("give at least one condition preset")
    if ph is not None:
        ph = [float(p) for p in ph]
        if len(ph) != len(presets):
            raise ConditionsError(f"`ph` gives {len(ph)} values for {len(presets)} conditions; give one per condition")
        for value in ph:
            if not 0 <= value <= 14:
                raise ConditionsError(f"pH must be between 0 and 14, found {value:g}")
    t_end_s = parse_quantity(t_end, TIME, "s", "`t_end`")
    extra = {}
    if gsh is not None:
        extra["GSH"] = _concentration(gsh, "`gsh`")
    if h2o2 is not None:
        extra["H2O2"] = _concentration(h2o2, "`h2o2`")
    probe = {name: _concentration(v, f"probe `{name}`") for name, v in (probe or {}).items()}
    if temperature is not None:
        temperature = parse_quantity(temperature, TEMPERATURE, "K", "`temperature`")
        if not 200 <= temperature <= 400:
            raise ConditionsError(f"`temperature` must be a liquid-water temperature in kelvin (200–400 K), "
                                  f"found {temperature:g} K; give °C with a unit, e.g. '37 °C'")
        presets = [p.replace(temperature=temperature) for p in presets]
    networks, mechanisms, alternatives, own_rates = _networks(catalyst_list, rates, probe, parameter_set)
    doses = catalyst_doses(catalyst_list, mechanisms, dose, DEFAULT_DOSE)
    particle_doses = "; ".join(f"{c.display}: {doses[c.name].detail}" for c in catalyst_list if doses[c.name].particle)
    if not _common_dose(doses):
        # Doses differ (a nanomaterial's is a mass): each row names its own, so the units are on the row itself.
        catalyst_list = [dataclasses.replace(c, label=f"{c.display} ({doses[c.name].text})") for c in catalyst_list]
    if isinstance(uncertainty, bool) or not isinstance(uncertainty, (int, np.integer)) or uncertainty < 0 or \
            uncertainty == 1:
        raise ConditionsError(f"`uncertainty` must be 0 (off) or a number of samples ≥ 2, found {uncertainty!r}")

    ph_values = [ph[j] if ph is not None else preset.pH for j, preset in enumerate(presets)]
    t_out = time_grid(t_end_s, n_points)
    stage_conditions = ()
    if decompose and len(presets) >= 2:
        stage_conditions = _stage_conditions(presets[0].replace(pH=ph_values[0]), presets[1].replace(pH=ph_values[1]))
    sampling = bool(uncertainty) and not stochastic
    with Steps(sum(1 + (c.name in alternatives) + (len(presets) if stochastic else 0) + sampling
                   + bool(sensitivity) for c in catalyst_list), progress, "compare") as steps:
        rows, caveats, oxygen_used, stages, alternative_rows, samples, sampled, draws, failed = _compare_runs(
            catalyst_list, presets, ph_values, networks, alternatives, mechanisms, own_rates, stage_conditions,
            doses, extra, probe, t_out, t_end_s, n_points, stochastic, runs, seed, volume, rates, parameter_set,
            uncertainty, boluses, sources, steps)
        local = {}
        if sensitivity:
            local = _local_sensitivities(catalyst_list, presets, ph_values, networks, own_rates, doses, extra,
                                         probe, t_end_s, boluses, sources, steps)
    # As the first catalyst's runs used it (starting O2, supply constants after any override).
    oxygen = [oxygen_used[j] for j in range(len(presets))]
    result = _assemble(catalyst_list, presets, ph_values, rows, dict(
        dose_M=_common_dose(doses), t_end_s=t_end_s, method="ssa" if stochastic else "ode",
        runs=runs if stochastic else 0,
        volume_L=parse_quantity(volume, VOLUME, "L", "`volume`") if stochastic else 0.0, seed=seed, gsh_override="" if gsh is None else repr(gsh),
        h2o2_override="" if h2o2 is None else repr(h2o2),
        probes=", ".join(f"{k} {v:g} M" for k, v in probe.items()),
        inputs="; ".join([b.describe() for b in boluses] + [s.describe() for s in sources]),
        rate_overrides=format_rates({rid: v for own in own_rates.values() for rid, v in own.items()},
                                    {rid: m for n in networks.values() for rid, m in n.rate_orders.items()}),
        parameter_set=parameter_set or "",
        temperature_override="" if temperature is None else f"{temperature:g} K",
        n_points=int(n_points),
        condition_differences=condition_differences(presets, ph_values, oxygen, extra),
        validity_warnings="\n".join(caveats),
        doses=particle_doses,
        oxygen_supply=" | ".join(f"{p.name or f'condition {j + 1}'}: {o}" for j, (p, o) in
                                 enumerate(zip(presets, oxygen)))))
    if stages:
        result = _add_stages(result, catalyst_list, stages)
    if alternative_rows:
        result = _add_alternatives(result, catalyst_list, len(presets), alternative_rows)
    if stochastic or not draws:
        # Ensembles carry confidence intervals instead; without a documented range left to sample there is no band.
        result.attrs["uncertainty_samples"] = 0
    else:
        result = _add_samples(result, catalyst_list, len(presets), draws, samples, sampled, failed)
    if local:
        result = _add_local_sensitivities(result, catalyst_list, len(presets), local)
    return result


def _common_dose(doses) -> float:
    """The one molar metal dose every catalyst got [M] (what the footer and figure title state), or 0 when a
    nanomaterial is compared or the doses differ (each row then names its own)."""
    values = {d.metal for d in doses.values()}
    if len(values) == 1 and not any(d.particle for d in doses.values()):
        return values.pop()
    return 0.0


def _local_sensitivities(catalyst_list, presets, ph_values, networks, own_rates, doses, extra, probe, t_end_s,
                         boluses, sources, steps) -> dict:
    """{(catalyst name, condition index): (network reaction ids, ∂ln ·OH/∂ln k, effective k)} from one
    forward-sensitivity integration per catalyst and condition (the runs compare made, ODE)."""
    from .sensitivity import sensitivities

    out = {}
    for catalyst in catalyst_list:
        network = networks[catalyst.name]
        steps.start(f"{catalyst.name}: local sensitivities of ·OH at {len(presets)} conditions")
        for j, preset in enumerate(presets):
            ds = sensitivities(network, t_end=t_end_s, n_points=2, conditions=preset.replace(pH=ph_values[j]),
                               initial={catalyst.species: doses[catalyst.name].species, **extra, **probe},
                               rates=own_rates[catalyst.name], boluses=boluses, sources=sources, extents=True)
            if "oh_produced" not in ds:
                continue
            total = float(ds["oh_produced"].values[-1])
            raw = ds["oh_produced_sensitivity"].values[-1]
            with np.errstate(divide="ignore", invalid="ignore"):
                normalised = raw / total if total > 0 else np.full_like(raw, np.nan)
            out[catalyst.name, j] = ([label.removeprefix("rate:") for label in map(str, ds.parameter.values)],
                                     normalised, ds["parameter_value"].values)
    return out


def _add_local_sensitivities(result, catalysts, n_conditions, local) -> xr.Dataset:
    """``oh_sensitivity`` and ``oh_sensitivity_k`` over (catalyst, condition, sensitivity_reaction)."""
    reactions = []
    for ids, _, _ in local.values():
        reactions += [r for r in ids if r not in reactions]
    names = [c.name for c in catalysts]
    values = np.full((len(names), n_conditions, len(reactions)), np.nan)
    k = np.full_like(values, np.nan)
    for (name, j), (ids, normalised, k_values) in local.items():
        columns = [reactions.index(r) for r in ids]
        values[names.index(name), j, columns] = normalised
        k[names.index(name), j, columns] = k_values
    return result.assign(
        oh_sensitivity=(("catalyst", "condition", "sensitivity_reaction"), values, {
            "units": "1", "long_name": "∂ln(total ·OH produced)/∂ln k (local, ODE)"}),
        oh_sensitivity_k=(("catalyst", "condition", "sensitivity_reaction"), k, {
            "units": "M^(1-order) s^-1", "long_name": "effective rate constant at the condition"}),
    ).assign_coords(sensitivity_reaction=reactions)


def _compare_runs(catalyst_list, presets, ph_values, networks, alternatives, mechanisms, own_rates, stage_conditions,
                  doses, extra, probe, t_out, t_end_s, n_points, stochastic, runs, seed, volume, rates, parameter_set,
                  uncertainty, boluses, sources, steps):
    """Every run of a comparison, each announced to ``steps``; returns what :func:`compare` assembles."""
    rows, caveats, oxygen_used, stages, alternative_rows = {}, [], {}, {}, {}
    samples, sampled, draws, failed = {}, {}, [], 0
    for catalyst in catalyst_list:
        network = networks[catalyst.name]
        dose = doses[catalyst.name]
        common = dict(initial={catalyst.species: dose.species, **extra, **probe}, rates=own_rates[catalyst.name],
                      metal_dose=dose.metal)
        # Every deterministic run of a catalyst (its conditions, then the decomposition stages) is one Problem,
        # solved in one batched call: the numbers simulate() gives for each (tests/test_run_path.py).
        main = [] if stochastic else [dict(conditions=preset.replace(pH=ph_values[j]), **common)
                                      for j, preset in enumerate(presets)]
        steps.start(f"{catalyst.name}: {'' if stochastic else f'{len(presets)} conditions, '}"
                    f"{len(stage_conditions)} decomposition stages")
        values, described = _batch_rows(network, main + [dict(conditions=c, **common) for c in stage_conditions],
                                        t_out, boluses, sources)
        for j in range(len(main)):
            rows[catalyst.name, j] = values[j]
            caveats += [w for w in described[j]["validity_warnings"].split("\n") if w and w not in caveats]
            oxygen_used.setdefault(j, described[j]["oxygen_supply"])
        for stage, stage_values in zip(STAGES, values[len(main):]):
            stages[catalyst.name, stage] = stage_values
        if catalyst.name in alternatives:
            steps.start(f"{catalyst.name} with `{catalyst.alternative}`")
            alternative_values, _ = _batch_rows(
                alternatives[catalyst.name], [dict(conditions=preset.replace(pH=ph_values[j]), **common)
                                              for j, preset in enumerate(presets)], t_out, boluses, sources)
            alternative_rows.update({(catalyst.name, j): v for j, v in enumerate(alternative_values)})
        if stochastic:
            for j, preset in enumerate(presets):
                steps.start(f"{catalyst.name} at {preset.name or 'conditions'} (pH {ph_values[j]:g}): {runs} runs")
                ds = _run(network, "ssa", runs=runs, seed=seed, volume=volume, conditions=preset, ph=ph_values[j],
                          initial=common["initial"], t_end=t_end_s, n_points=n_points, rates=common["rates"],
                          boluses=boluses, sources=sources, progress=False)  # the comparison's bar covers it
                caveats += [w for w in validity_warnings(ds) if w not in caveats]
                oxygen_used.setdefault(j, ds.attrs.get("oxygen_supply", ""))
                rows[catalyst.name, j] = summarize(metrics(ds, dose=dose.metal))
    if uncertainty and not stochastic:
        fixed = set(rates or {}) | {rid for m in mechanisms.values() for p in m.parameter_sets
                                    if p.name == parameter_set for rid, _ in p.overrides}
        sampled = {rid: r for rid, r in mechanism_ranges(mechanisms.values()).items() if rid not in fixed}
        draws = latin_hypercube(sampled, int(uncertainty), seed) if sampled else []
        for catalyst in catalyst_list:
            if not draws:
                break
            steps.start(f"{catalyst.name}: {len(draws)} samples of {len(sampled)} uncertain constants at "
                        f"{len(presets)} conditions")
            samples[catalyst.name], n_failed = _sample_metrics(
                networks[catalyst.name], presets, ph_values, draws, own_rates[catalyst.name],
                {catalyst.species: doses[catalyst.name].species, **extra, **probe}, doses[catalyst.name].metal,
                t_end_s, n_points, boluses, sources)
            failed += n_failed
    return rows, caveats, oxygen_used, stages, alternative_rows, samples, sampled, draws, failed


def _add_alternatives(result, catalysts, n_conditions, rows) -> xr.Dataset:
    """Metrics with each catalyst's alternative oxidant parameter set as ``alternative_<metric>``."""
    tables, attrs = _metric_tables(rows, [c.name for c in catalysts], (n_conditions,), lambda key: key)
    variables = {f"alternative_{metric}": (("catalyst", "condition"), table, {
        **attrs[metric], "long_name": f"{attrs[metric].get('long_name', metric)} with the alternative oxidant "
                                      "parameter set"}) for metric, table in tables.items()}
    return result.assign(variables).assign_coords(alternative=("catalyst", [c.alternative for c in catalysts]))


def _batch_rows(network, points, t_out, boluses, sources) -> tuple[list, list]:
    """Metrics (one small Dataset per point, as fentonsim.metrics returns them) and provenance attributes
    (fentonsim.problem.provenance) of ``points`` of ``network``, solved in one batched call; a condition the
    solver cannot integrate is a SolverError, as it would be in simulate()."""
    if not points:
        return [], []
    problem = build_problem(network, points, t_out=t_out, boluses=boluses, sources=sources)
    data = batch_metrics(problem, solve_batch(problem, raise_on_failure=True, parallel=False))
    described = {name: describe(name) for name in data}
    values = [xr.Dataset({name: ((), float(column[i]), {"units": described[name][0], "long_name": described[name][1]})
                          for name, column in data.items()}) for i in range(problem.n_conditions)]
    return values, [provenance(problem, i) for i in range(problem.n_conditions)]


def _sample_metrics(network, presets, ph_values, draws, rates, initial, dose, t_end, n_points, boluses, sources):
    """Metrics of every (condition, sample) of one catalyst from one batched solve (fentonsim.problem):
    the draws act on k like any run-time rate constant. Returns ({metric: (n_conditions, n_samples)},
    number of failed samples); a sample the solver cannot integrate stays NaN."""
    own = set(network.source_reaction)
    points = [{"conditions": preset.replace(pH=ph_values[j]), "initial": initial, "metal_dose": dose,
               "rates": {**{rid: k for rid, k in draw.items() if rid in own}, **rates}}
              for j, preset in enumerate(presets) for draw in draws]
    problem = build_problem(network, points, t_out=time_grid(t_end, n_points), boluses=boluses, sources=sources)
    batch = solve_batch(problem, parallel=False)
    shape = (len(presets), len(draws))
    return ({name: values.reshape(shape) for name, values in batch_metrics(problem, batch).items()},
            int(np.count_nonzero(batch.status)))


def _add_samples(result, catalysts, n_conditions, draws, samples, sampled, failed) -> xr.Dataset:
    """Per-sample metrics as ``samples_<metric>``, their 5/50/95 % quantiles as ``range_<metric>`` and the
    sampled constants as ``k_sampled`` over (sample, reaction). ``samples`` maps a catalyst name to
    {metric: (n_conditions, n_samples)}."""
    n_samples = len(draws)
    names = [c.name for c in catalysts]
    metric_names = []
    for table in samples.values():
        metric_names += [m for m in table if m not in metric_names]
    variables = {}
    for metric in metric_names:
        table = np.full((len(names), n_conditions, n_samples), np.nan)
        for name, values in samples.items():
            if metric in values:
                table[names.index(name)] = values[metric]
        unit, long_name = describe(metric)
        attrs = {"units": unit, "long_name": long_name}
        variables[f"samples_{metric}"] = (("catalyst", "condition", "sample"), table, attrs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells (a metric a catalyst lacks)
            quantiles = np.nanquantile(table, UNCERTAINTY_QUANTILES, axis=-1)
        variables[f"range_{metric}"] = (("catalyst", "condition", "quantile"), np.moveaxis(quantiles, 0, -1),
                                        {**attrs, "long_name": f"{long_name}: 5/50/95 % over rate-constant "
                                                               "uncertainty"})
    reactions = sorted(sampled)
    variables["k_sampled"] = (("sample", "reaction"), np.array([[d[r] for r in reactions] for d in draws]),
                              {"units": "M^(1-order) s^-1", "long_name": "sampled reference rate constant"})
    return result.assign(variables).assign_coords(
        sample=np.arange(n_samples), quantile=list(UNCERTAINTY_QUANTILES), reaction=reactions).assign_attrs(
        uncertainty_samples=n_samples, uncertainty_failed=failed,
        uncertainty_constants=", ".join(f"{rid} {lo:.3g}–{hi:.3g}" for rid, (lo, hi) in sorted(sampled.items())),
        uncertainty_design="Latin hypercube, log-uniform within each documented range")


def _run(network, *args, **kwargs):
    """simulate() with yield-law warnings silenced: compare collects them from the main runs' attributes and
    reports each once (table and figure), instead of once per run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityWarning)
        return simulate(network, *args, **kwargs)


def _stage_conditions(target, reference):
    """Conditions of each of :data:`STAGES`: the reference with the target's pH, then its H2O2, then its
    GSH; the target; the target with the reference pH. The rest (HCO3-, O2 supply, temperature, other
    species) changes only in the last step to the target."""
    def with_initial(conditions, source, name):
        initial = dict(conditions.initial)
        if name in source.initial:
            initial[name] = source.initial[name]
        else:
            initial.pop(name, None)
        return conditions.replace(initial=initial)

    ph_step = reference.replace(pH=target.pH)
    h2o2_step = with_initial(ph_step, target, "H2O2")
    gsh_step = with_initial(h2o2_step, target, "GSH")
    return (reference, ph_step, h2o2_step, gsh_step, target, target.replace(pH=reference.pH))


def condition_differences(presets, ph_values, oxygen, extra) -> str:
    """What differs between the first two conditions, in words (the figure and Markdown footers)."""
    if len(presets) < 2:
        return ""
    a, b = presets[0], presets[1]
    name_a, name_b = a.name or "condition 1", b.name or "condition 2"
    parts = []
    if ph_values[0] != ph_values[1]:
        parts.append(f"pH {ph_values[0]:g} vs {ph_values[1]:g}")
    if a.temperature != b.temperature:
        parts.append(f"T {_kelvin_text(a.temperature)} vs {_kelvin_text(b.temperature)}")
    for kind, first, second in (("", a.initial, b.initial), ("clamped ", a.buffered, b.buffered)):
        for name in sorted(set(first) | set(second)):
            if name in extra or name in ("O2", O2_SUPPLY_SPECIES):  # O2 is compared through its supply below
                continue
            va, vb = first.get(name, 0.0), second.get(name, 0.0)
            if va != vb:
                parts.append(f"{kind}{name} {format_concentration(va)} vs {format_concentration(vb)}")
    if oxygen[0] != oxygen[1]:
        parts.append(f"O2: {oxygen[0]} vs {oxygen[1]}")
    if not parts:
        return f"{name_a} and {name_b} differ in nothing but their names"
    return f"{name_a} vs {name_b}: " + "; ".join(parts)


def _kelvin_text(value) -> str:
    return "the mechanism default" if value is None else f"{value:g} K"


def _add_stages(result, catalysts, stages) -> xr.Dataset:
    """Per-stage metrics as ``stage_<metric>`` variables over (catalyst, stage)."""
    tables, attrs = _metric_tables(stages, [c.name for c in catalysts], (len(STAGES),),
                                   lambda key: (STAGES.index(key[0]),))
    variables = {f"stage_{metric}": (("catalyst", "stage"), table, {
        **attrs[metric], "long_name": f"{attrs[metric].get('long_name', metric)} at each decomposition stage (ODE)"})
        for metric, table in tables.items()}
    return result.assign(variables).assign_coords(stage=("stage", list(STAGES)))


def ph_curve(catalysts=DEFAULT_CATALYSTS, ph_values=np.arange(5.0, 8.01, 0.25), metric=DEFAULT_METRIC, *,
             conditions="tme", dose=DEFAULT_DOSE, t_end=DEFAULT_T_END, initial=None) -> xr.DataArray:
    """A metric against pH for each catalyst (ODE, one batched sweep), everything else from ``conditions``.

    Returns a DataArray over (catalyst, pH) with the metric's ``units`` and ``long_name`` — the input of
    :func:`fentonsim.plotting.plot_ph_curve`.
    """

    catalyst_list = [parse_catalyst(c) for c in catalysts]
    grid = {"pH": np.asarray(ph_values, dtype=float), **{name: [v] for name, v in (initial or {}).items()}}
    result = sweep(catalyst_list, grid, conditions=conditions, dose=dose, t_end=t_end, progress=False)[metric]
    result = result.squeeze([name for name in (initial or {})], drop=True).rename(model="catalyst")
    return result.assign_coords(label=("catalyst", [c.display for c in catalyst_list]))


def condition_grid(catalyst, ph_values, species, concentrations, metric=DEFAULT_METRIC, *, conditions="tme",
                   dose=DEFAULT_DOSE, t_end=DEFAULT_T_END) -> xr.DataArray:
    """A metric over pH × the initial concentration of ``species`` (H2O2, GSH, ...) for one catalyst (ODE).

    Returns a DataArray over (``species``, pH) — the input of :func:`fentonsim.plotting.plot_heatmap`.
    """

    catalyst = parse_catalyst(catalyst)
    grid = {species: list(concentrations), "pH": np.asarray(ph_values, dtype=float)}
    result = sweep(catalyst, grid, conditions=conditions, dose=dose, t_end=t_end, progress=False)[metric]
    return result.assign_attrs(catalyst=catalyst.name)


def _networks(catalysts, rates, probe, parameter_set=None) -> tuple[dict, dict, dict, dict]:
    """Each catalyst's compiled network (probes merged when dosed) with the parameter set it has, the
    Mechanism behind it, the network with its alternative oxidant parameter set (when no parameter set is
    asked for), and the rate overrides that apply to it (given to every run, on k). Files are read and
    networks compiled once (fentonsim.problem caches both). An override or a parameter set that no catalyst
    has is a typo and an error."""
    networks, mechanisms, alternatives, own_rates, known, sets = {}, {}, {}, {}, set(), set()
    for catalyst in catalysts:
        loaded = resolve_mechanism([str(f) for f in catalyst.files] + ([str(PROBE_FILE)] if probe else []))
        own_sets = {p.name for p in loaded.parameter_sets}
        sets |= own_sets
        ids = {r.id for r in loaded.reactions}
        known |= ids
        mechanisms[catalyst.name] = (loaded.with_parameter_set(parameter_set) if parameter_set in own_sets
                                     else loaded)
        networks[catalyst.name] = resolve_model(mechanisms[catalyst.name])
        own_rates[catalyst.name] = networks[catalyst.name].parse_rates(
            {rid: value for rid, value in (rates or {}).items() if rid in ids})
        if parameter_set is None and catalyst.alternative:
            alternatives[catalyst.name] = resolve_model(loaded.with_parameter_set(catalyst.alternative))
    unknown = sorted(set(rates or {}) - known)
    if unknown:
        raise ConditionsError(f"`rates` names {', '.join(unknown)}, which no compared mechanism has")
    if parameter_set is not None and parameter_set not in sets:
        raise ConditionsError(f"unknown parameter set `{parameter_set}`: the compared mechanisms define "
                              f"{', '.join(sorted(sets)) or 'none'}")
    return networks, mechanisms, alternatives, own_rates


def _metric_tables(rows, names, shape, position) -> tuple[dict, dict]:
    """Stack per-run metrics into arrays: ``rows`` maps (catalyst name, *key) to a metrics Dataset and
    ``position(key)`` gives the key's index within ``shape``. Returns ({metric: array of shape
    (len(names), *shape, *trailing)}, {metric: attrs}); cells without a run stay NaN."""
    first = next(iter(rows.values()))
    trailing = first["oh_produced"].shape  # (statistic,) for ensembles, () for the ODE
    metric_names = []
    for values in rows.values():
        metric_names += [m for m in values.data_vars if m not in metric_names]
    tables, attrs = {}, {}
    for metric in metric_names:
        table = np.full((len(names),) + tuple(shape) + trailing, np.nan)
        for (name, *key), values in rows.items():
            if metric in values:
                table[(names.index(name),) + tuple(position(key))] = values[metric].values
                attrs[metric] = dict(values[metric].attrs)
        tables[metric] = table
    return tables, attrs


def _assemble(catalysts, presets, ph_values, rows, attrs) -> xr.Dataset:
    first = next(iter(rows.values()))
    names = [c.name for c in catalysts]
    tables, metric_attrs = _metric_tables(rows, names, (len(presets),), lambda key: key)
    dims = ("catalyst", "condition") + (("statistic",) if "statistic" in first.dims else ())
    variables = {metric: (dims, table, {"units": metric_attrs[metric]["units"],
                                        "long_name": metric_attrs[metric]["long_name"]})
                 for metric, table in tables.items()}
    coords = {
        "catalyst": ("catalyst", names),
        "label": ("catalyst", [c.display for c in catalysts]),
        "caveat": ("catalyst", [c.caveat for c in catalysts]),
        "condition": ("condition", [p.name or f"condition {j + 1}" for j, p in enumerate(presets)]),
        "pH": ("condition", np.array(ph_values, dtype=float)),
    }
    if "statistic" in first.dims:
        coords["statistic"] = ("statistic", list(first["statistic"].values))
    return xr.Dataset(variables, coords=coords, attrs=attrs)


# ---------------------------------------------------------------- outputs


def _format(value: float) -> str:
    if np.isinf(value):
        return "∞"
    return f"{value:.3g}" if np.isfinite(value) else "—"


def table_rows(result: xr.Dataset, metrics_shown=TABLE_METRICS):
    """Header and rows: one row per catalyst × condition, one column per metric (mean [low, high] for ensembles)."""
    shown = [m for m in metrics_shown if m in result] + [m for m in result.data_vars if m.startswith("probe_")]
    header = ["catalyst", "condition", "pH"] + [f"{result[m].attrs['long_name']} [{result[m].attrs['units']}]"
                                                for m in shown]
    rows = []
    for i, catalyst in enumerate(result["catalyst"].values):
        for j, condition in enumerate(result["condition"].values):
            row = [str(result["label"].values[i]), str(condition), f"{result['pH'].values[j]:g}"]
            for m in shown:
                v = result[m].values[i, j]
                if v.ndim:  # mean, ci_low, ci_high
                    row.append(f"{_format(v[0])} [{_format(v[1])}, {_format(v[2])}]")
                else:
                    row.append(_format(float(v)))
            rows.append(row)
    return header, rows


def ratio_rows(result: xr.Dataset, metric=DEFAULT_METRIC):
    """Per catalyst: the metric at the first condition over the second (tumour/normal), when there are two."""
    if result.sizes["condition"] < 2:
        return []
    values = result[metric].values
    if values.ndim == 3:
        values = values[..., 0]
    first, second = result["condition"].values[:2]
    out = []
    for i, label in enumerate(result["label"].values):
        a, b = values[i, 0], values[i, 1]
        out.append((str(label), f"{first}/{second}", a / b if b > 0 else (math.inf if a > 0 else math.nan)))
    return out


def markdown_table(result: xr.Dataset, metric=DEFAULT_METRIC) -> str:
    header, rows = table_rows(result)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    ratios = ratio_rows(result, metric)
    if ratios:
        name = result[metric].attrs["long_name"]
        lines += ["", f"| catalyst | {name}: ratio |", "|---|---|"]
        lines += [f"| {label} | {cond} = {_format(value)} |" for label, cond, value in ratios]
    lines += alternative_lines(result, metric)
    lines += uncertainty_lines(result, metric)
    lines += sensitivity_lines(result)
    decomposition = decomposition_rows(result, metric)
    if decomposition:
        target, reference = result["condition"].values[:2]
        name = result[metric].attrs["long_name"]
        lines += ["", f"What makes {target} differ from {reference} ({name}; one deterministic run per stage, "
                      f"each step changes one thing more, from {reference} to {target}):", "",
                  f"| catalyst | {reference} | × pH alone | × H2O2 | × GSH | × the rest | = {target} | "
                  f"pH alone at {target} composition |", "|---|---|---|---|---|---|---|---|"]
        for label, start, factors, end in decomposition:
            lines.append(f"| {label} | {_format(start)} | " + " | ".join(_factor(f) for f in factors[:4])
                         + f" | {_format(end)} | {_factor(factors[4])} |")
        lines += ["", "A factor is the ratio of the metric after and before the step; — means the metric is 0 "
                      "on both sides (no ratio exists). The order of the steps matters where pH interacts "
                      "with H2O2 or GSH: the last column measures the pH effect the other way round."]
    caveats = [(str(label), str(text)) for label, text in zip(result["label"].values, result["caveat"].values) if text]
    if caveats:
        lines += ["", "Caveats:"] + [f"- {label}: {text}" for label, text in caveats]
    for warning in _validity_warnings(result):
        lines.append(f"- validity: {warning}")
    attrs = result.attrs
    if attrs.get("condition_differences"):
        lines += ["", f"Conditions — {attrs['condition_differences']}."]
    if attrs.get("oxygen_supply"):
        lines += [f"O2 supply — {attrs['oxygen_supply']}."]
    settings = [f"{key} {attrs[key]}" for key in ("rate_overrides", "parameter_set", "temperature_override")
                if attrs.get(key)]
    if settings:
        lines += ["Overrides — " + "; ".join(settings).replace("rate_overrides", "rates").replace(
            "parameter_set", "parameter set").replace("temperature_override", "temperature") + "."]
    if attrs.get("doses"):
        lines += ["", "Nanomaterial doses (mass per volume; the run starts from the formula units) — "
                  + attrs["doses"] + "."]
    dose_text = f"Dose {attrs['dose_M'] * 1e6:g} µM" if attrs["dose_M"] else "Doses as in the catalyst column"
    lines += ["", f"{dose_text}, {attrs['t_end_s']:g} s, "
                  + (f"ODE (fentonsim {DEFAULT_SOLVER.upper()})" if attrs["method"] == "ode" else
                     f"SSA, {attrs['runs']} runs in {attrs['volume_L']:g} L, mean [95 % CI]")
                  + (f", GSH {attrs['gsh_override']} M" if attrs.get("gsh_override") else "")
                  + (f", H2O2 {attrs['h2o2_override']} M" if attrs.get("h2o2_override") else "")
                  + (f", probes {attrs['probes']}" if attrs.get("probes") else "") + "."]
    return "\n".join(lines) + "\n"


def alternative_lines(result: xr.Dataset, metric=DEFAULT_METRIC) -> list:
    """Markdown lines: the metric with each catalyst's alternative oxidant parameter set."""
    name = f"alternative_{metric}"
    if name not in result:
        return []
    conditions = [str(c) for c in result["condition"].values]
    lines = ["", f"Which oxidant? {result[metric].attrs['long_name']} [{result[metric].attrs['units']}] with the "
                 "other published answer for each catalyst's reaction with H2O2:", "",
             "| catalyst | parameter set | " + " | ".join(conditions) + " |",
             "|---|---|" + "---|" * len(conditions)]
    for i, label in enumerate(result["label"].values):
        alternative = str(result["alternative"].values[i])
        if alternative:
            lines.append(f"| {label} | `{alternative}` | "
                         + " | ".join(_format(float(v)) for v in result[name].values[i]) + " |")
    return lines


def uncertainty_lines(result: xr.Dataset, metric=DEFAULT_METRIC) -> list:
    """Markdown lines: the metric's 5/50/95 % band per catalyst and condition over the rate-constant samples,
    and each catalyst's ratio to the first catalyst, sample by sample (the same constants for all)."""
    name = f"samples_{metric}"
    if name not in result:
        return []
    samples = result[name].values  # (catalyst, condition, sample)
    label = result[metric].attrs["long_name"]
    conditions = [str(c) for c in result["condition"].values]
    lines = ["", f"Uncertainty of {label} [{result[metric].attrs['units']}]: 5 % / median / 95 % over "
                 f"{result.attrs['uncertainty_samples']} Latin-hypercube samples of the documented rate-constant "
                 f"ranges ({result.attrs['uncertainty_failed']} runs failed):", "",
             "| catalyst | " + " | ".join(conditions) + " |", "|---|" + "---|" * len(conditions)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, catalyst in enumerate(result["label"].values):
            cells = [" / ".join(_format(q) for q in np.nanquantile(samples[i, j], UNCERTAINTY_QUANTILES))
                     for j in range(len(conditions))]
            lines.append(f"| {catalyst} | " + " | ".join(cells) + " |")
        if samples.shape[0] >= 2:
            first = str(result["label"].values[0])
            lines += ["", f"Ratio to {first}, sample by sample (5 % / median / 95 %; — where {first} gives 0):", "",
                      "| catalyst | " + " | ".join(conditions) + " |", "|---|" + "---|" * len(conditions)]
            for i in range(1, samples.shape[0]):
                cells = []
                for j in range(len(conditions)):
                    with np.errstate(divide="ignore", invalid="ignore"):
                        ratios = samples[i, j] / samples[0, j]
                    ratios = ratios[np.isfinite(ratios)]
                    cells.append(" / ".join(_format(q) for q in np.quantile(ratios, UNCERTAINTY_QUANTILES))
                                 if ratios.size else "—")
                lines.append(f"| {result['label'].values[i]} | " + " | ".join(cells) + " |")
    lines += ["", "Each constant is sampled log-uniformly within its documented range; a default value at one end "
                  "of its range puts the table's value at the edge of (or outside) the band.",
              f"Sampled constants: {result.attrs['uncertainty_constants']}."]
    return lines


#: Rows per catalyst × condition in compare's sensitivity tables and tornado panels.
SENSITIVITY_TOP = 8


def sensitivity_rows(result: xr.Dataset):
    """Header and rows of ``compare-sensitivity.csv``: every reaction of each catalyst at each condition, ranked
    by |∂ln ·OH/∂ln k| (reactions a catalyst lacks left out; NaN when it makes no ·OH)."""
    header = ["catalyst", "condition", "pH", "rank", "reaction", "k", "k_units", "d_ln_oh_d_ln_k"]
    rows = []
    for i, label in enumerate(result["label"].values):
        for j, condition in enumerate(result["condition"].values):
            values = result["oh_sensitivity"].values[i, j]
            k = result["oh_sensitivity_k"].values[i, j]
            present = [r for r in range(values.size) if np.isfinite(k[r])]
            present.sort(key=lambda r: -abs(values[r]) if np.isfinite(values[r]) else 0.0)
            for rank, r in enumerate(present, 1):
                rows.append([str(label), str(condition), f"{result['pH'].values[j]:g}", rank,
                             str(result["sensitivity_reaction"].values[r]), repr(float(k[r])), "M^(1-order) s^-1",
                             repr(float(values[r]))])
    return header, rows


def sensitivity_lines(result: xr.Dataset, top=SENSITIVITY_TOP) -> list:
    """Markdown lines: the constants with the largest local control of each catalyst's ·OH at each condition,
    and of each catalyst's ·OH relative to the first catalyst's (∂ln(ratio)/∂ln k = the difference of the two
    sensitivities; a reaction one catalyst lacks has 0 for it)."""
    if "oh_sensitivity" not in result:
        return []
    values = result["oh_sensitivity"].values
    reactions = [str(r) for r in result["sensitivity_reaction"].values]
    conditions = [str(c) for c in result["condition"].values]
    labels = [str(v) for v in result["label"].values]
    lines = ["", f"Which constants drive total ·OH produced (local ∂ln ·OH/∂ln k at each catalyst's default "
                 f"constants, the {top} largest; 0.5 means 10 % larger k gives ~5 % more ·OH; all in "
                 "compare-sensitivity.csv):",
             "", "| catalyst | " + " | ".join(conditions) + " |", "|---|" + "---|" * len(conditions)]

    def ranked(vector):
        order = [r for r in np.argsort(-np.abs(np.nan_to_num(vector, nan=0.0))) if np.isfinite(vector[r])
                 and vector[r] != 0][:top]
        return ", ".join(f"{reactions[r]} {vector[r]:+.2g}" for r in order) or "—"

    for i, label in enumerate(labels):
        lines.append(f"| {label} | " + " | ".join(ranked(values[i, j]) for j in range(len(conditions))) + " |")
    if len(labels) >= 2:
        lines += ["", f"Which constants move each catalyst's ·OH relative to {labels[0]}'s (∂ln ratio/∂ln k; "
                      f"robust when the band of the uncertainty table above stays on one side of 1):", "",
                  "| ratio | " + " | ".join(conditions) + " |", "|---|" + "---|" * len(conditions)]
        for i in range(1, len(labels)):
            with np.errstate(invalid="ignore"):
                # Where either catalyst makes no ·OH the ratio has no logarithm: the cell stays NaN.
                made = np.isfinite(values[i]).any(axis=-1) & np.isfinite(values[0]).any(axis=-1)
                ratio = np.nan_to_num(values[i], nan=0.0) - np.nan_to_num(values[0], nan=0.0)
            cells = [ranked(ratio[j]) if made[j] else "—" for j in range(len(conditions))]
            lines.append(f"| {labels[i]}/{labels[0]} | " + " | ".join(cells) + " |")
    return lines


def _factor(value: float) -> str:
    if np.isnan(value):
        return "—"
    return "∞" if np.isinf(value) else f"{value:.3g}"


def _validity_warnings(result: xr.Dataset) -> list:
    """Validity warnings the runs recorded (``validity_warnings`` attribute), once each."""
    text = result.attrs.get("validity_warnings", "")
    return [w for w in text.split("\n") if w] if text else []


def figure_footer(result: xr.Dataset) -> str:
    """The settings, condition differences, overrides and caveats a figure must carry, as wrapped text."""
    import textwrap

    attrs = result.attrs
    parts = [attrs.get("condition_differences", ""),
             f"O2 supply — {attrs['oxygen_supply']}" if attrs.get("oxygen_supply") else ""]
    settings = [f"{label} {attrs[key]}" for key, label in (("rate_overrides", "rates"),
                                                           ("parameter_set", "parameter set"),
                                                           ("temperature_override", "temperature"),
                                                           ("gsh_override", "GSH [M]"),
                                                           ("h2o2_override", "H2O2 [M]"), ("probes", "probes"))
                if attrs.get(key)]
    if settings:
        parts.append("Overrides: " + "; ".join(settings))
    parts += [f"{label}: {text}" for label, text in zip(result["label"].values, result["caveat"].values) if text]
    parts += [f"validity: {w}" for w in _validity_warnings(result)]
    return "\n".join(textwrap.fill(p, 150) for p in parts if p)


def _write_csv(path: Path, header, rows) -> Path:
    """Write a CSV table atomically (fentonsim.tables.atomic_output); return its path."""
    from .tables import atomic_output

    with atomic_output(path) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_outputs(result: xr.Dataset, directory, metric=DEFAULT_METRIC, formats=("png",)) -> dict:
    """Write ``compare.<fmt>`` (figure), ``compare.csv`` and ``compare.md`` into ``directory``.

    Every file is written to a temporary name and renamed, so an interrupted run never leaves a
    half-written table. Returns the paths written, by kind.
    """
    from .plotting import plot_comparison, plot_decomposition, save_figure
    from .tables import atomic_output

    if metric not in result:
        raise ConditionsError(f"unknown metric `{metric}`; available: {', '.join(result.data_vars)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    header, rows = table_rows(result)
    paths["csv"] = _write_csv(directory / "compare.csv", header, rows)
    md_path = directory / "compare.md"
    with atomic_output(md_path) as fh:
        fh.write(markdown_table(result, metric))
    paths["markdown"] = md_path
    decomposition = decomposition_rows(result, metric)
    if decomposition:
        stages = [[str(label), str(stage), repr(float(value)), result[metric].attrs["units"]]
                  for i, label in enumerate(result["label"].values)
                  for stage, value in zip(result["stage"].values, result[f"stage_{metric}"].values[i])]
        paths["decomposition"] = _write_csv(directory / "compare-decomposition.csv",
                                            ["catalyst", "stage", metric, "units"], stages)
    if "oh_sensitivity" in result:
        header, rows = sensitivity_rows(result)
        paths["sensitivity"] = _write_csv(directory / "compare-sensitivity.csv", header, rows)
        figures = _sensitivity_figure(result, directory, formats)
        paths.update({f"sensitivity_{fmt}": path for fmt, path in figures.items()})
    import matplotlib.pyplot as plt

    footer = figure_footer(result)
    n_lines = footer.count("\n") + 1 if footer else 0
    line_height = 0.12  # inches per footer line at 6.5 pt
    height = 5.0 + line_height * n_lines
    if decomposition:
        figure, (left, right) = plt.subplots(1, 2, figsize=(14, height), gridspec_kw={"width_ratios": [1.2, 1]})
        plot_comparison(result, metric, ax=left)
        plot_decomposition(result, metric, ax=right)
    else:
        figure, left = plt.subplots(figsize=(8, height))
        plot_comparison(result, metric, ax=left)
    if footer:
        figure.text(0.01, 0.005, footer, fontsize=6.5, va="bottom", ha="left", family="sans-serif")
    figure.tight_layout(rect=(0, (line_height * n_lines + 0.2) / height if footer else 0, 1, 1))
    for fmt in formats:
        paths[fmt] = save_figure(figure, directory / f"compare.{fmt}")
    plt.close(figure)
    return paths


def _sensitivity_figure(result, directory, formats) -> dict:
    """``compare-sensitivity.<fmt>``: a tornado chart of ∂ln ·OH/∂ln k per catalyst (rows) and condition
    (columns)."""
    import matplotlib.pyplot as plt

    from .plotting import plot_tornado, save_figure

    n_cat, n_cond = result.sizes["catalyst"], result.sizes["condition"]
    figure, axes = plt.subplots(n_cat, n_cond, figsize=(4.6 * n_cond, 0.28 * SENSITIVITY_TOP * n_cat + 1.2 * n_cat),
                                squeeze=False, layout="constrained")
    for i, label in enumerate(result["label"].values):
        for j, condition in enumerate(result["condition"].values):
            values = result["oh_sensitivity"].isel(catalyst=i, condition=j).drop_vars(
                [c for c in ("catalyst", "condition", "label", "caveat", "pH", "alternative")
                 if c in result.coords])
            plot_tornado(values, ax=axes[i, j], top=SENSITIVITY_TOP,
                         title=f"{label} at {condition} (pH {result['pH'].values[j]:g})",
                         empty="no ·OH made: ∂ln ·OH/∂ln k undefined")
    figure.suptitle("Which constants drive total ·OH produced: local ∂ln ·OH/∂ln k (ODE, default constants)",
                    fontsize="medium")
    paths = {fmt: save_figure(figure, directory / f"compare-sensitivity.{fmt}") for fmt in formats}
    plt.close(figure)
    return paths


__all__ = ["BUILT_IN", "Catalyst", "DESCRIPTIONS", "STAGES", "STEPS", "compare", "condition_grid",
           "decomposition_rows", "figure_footer", "markdown_table", "parse_catalyst", "ph_curve",
           "sensitivity_lines", "sensitivity_rows", "write_outputs"]
