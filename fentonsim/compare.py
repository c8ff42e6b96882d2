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
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from .deterministic import DEFAULT_SOLVER
from .errors import ConditionsError
from .metrics import DESCRIPTIONS, metrics, summarize
from .simulate import PRESET_DIRECTORY, resolve_conditions, simulate
from .units import CONCENTRATION, TIME, VOLUME, parse_quantity

MECHANISM_DIRECTORY = PRESET_DIRECTORY.parent
DEFAULT_DOSE = "20 uM"
DEFAULT_T_END = "1 h"
DEFAULT_CONDITIONS = ("tme", "normal")
DEFAULT_METRIC = "oh_produced"
DEFAULT_RUNS = 20
DEFAULT_VOLUME = "0.1 fL"
PROBE_FILE = MECHANISM_DIRECTORY / "probes.yaml"
GSH_FILE = MECHANISM_DIRECTORY / "glutathione.yaml"
#: Metrics shown in the table, in order (the figure shows one of them).
TABLE_METRICS = ("oh_produced", "oh_escaping_gsh", "oh_per_metal", "oh_per_h2o2", "oh_exposure", "oh_steady",
                 "gsh_depleted", "t_half_h2o2")


@dataclass(frozen=True)
class Catalyst:
    """A catalyst to compare: ``files`` merged into one mechanism, dosed into ``species``."""

    name: str
    files: tuple[Path, ...]
    species: str
    label: str = ""
    caveat: str = ""

    @property
    def display(self) -> str:
        return self.label or self.name


BUILT_IN = {
    "iron": Catalyst("iron", (MECHANISM_DIRECTORY / "iron.yaml", GSH_FILE), "Fe+2", "Fe²⁺",
                     "Fe(III) stays dissolved (no precipitation at pH 6.5–7.4); all Fe(II) + H2O2 gives ·OH "
                     "(parameter set `ferryl-neutral` for the Fe(IV) alternative)."),
    "copper": Catalyst("copper", (MECHANISM_DIRECTORY / "copper.yaml", GSH_FILE), "Cu+", "Cu⁺",
                       "free aquo-Cu⁺ kinetics (CAPRAM 2.4): Cu(I)–GSH complexes are not modelled, so GSH-driven "
                       "redox cycling (Cu⁺ + O2 → O2·⁻ → H2O2 → ·OH) is likely overestimated; Cu(II) + GSH "
                       "(C11) is a lower-bound estimate; all Cu⁺ + H2O2 gives ·OH (`CuIII-Pham-2013` for Cu(III))."),
    "manganese": Catalyst("manganese", (MECHANISM_DIRECTORY / "manganese.yaml", GSH_FILE), "Mn+2", "Mn²⁺",
                          "no published constant for the Mn(II)/HCO3⁻ pathway (M10 = 0 until set with "
                          "`--rate M10=...`), so Mn²⁺ makes ·OH only through radical chemistry."),
}
DEFAULT_CATALYSTS = tuple(BUILT_IN)


def parse_catalyst(spec) -> Catalyst:
    """A Catalyst from a built-in name (``iron``, ``copper``, ``manganese``), ``FILE.yaml:SPECIES`` or a Catalyst.

    A user file is merged with glutathione.yaml (read once if the file includes it already).
    """
    if isinstance(spec, Catalyst):
        return spec
    text = str(spec).strip()
    if text in BUILT_IN:
        return BUILT_IN[text]
    path_text, sep, species = text.rpartition(":")
    if not sep or not path_text or not species:
        raise ConditionsError(f"unknown catalyst `{text}`: expected one of {', '.join(BUILT_IN)} or "
                              "FILE.yaml:SPECIES (the species the dose goes into, e.g. `my_cu.yaml:Cu+`)")
    path = Path(path_text)
    if not path.exists():
        raise ConditionsError(f"catalyst file `{path}` not found")
    return Catalyst(path.stem, (path, GSH_FILE), species)


def _concentration(value, what):
    number = parse_quantity(value, CONCENTRATION, "M", what)
    if not number >= 0 or not math.isfinite(number):
        raise ConditionsError(f"{what} must be a non-negative concentration, found {value!r}")
    return number


def compare(catalysts=DEFAULT_CATALYSTS, conditions=DEFAULT_CONDITIONS, *, dose=DEFAULT_DOSE, ph=None,
            gsh=None, h2o2=None, t_end=DEFAULT_T_END, n_points=121, probe=None, stochastic=False,
            runs=DEFAULT_RUNS, volume=DEFAULT_VOLUME, seed=0, rates=None, progress=None) -> xr.Dataset:
    """·OH metrics of each catalyst at each condition, at the same metal dose.

    Parameters
    ----------
    catalysts : sequence of str or Catalyst
        Built-in names (``iron``, ``copper``, ``manganese``) or ``FILE.yaml:SPECIES``.
    conditions : sequence of str
        Condition presets or files, one column each (default tumour ``tme`` and ``normal``).
    dose : float or str, default "20 uM"
        Metal dose [M] given to every catalyst.
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
    progress : callable, optional
        Called with a one-line message before each run.

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
    dose_m = _concentration(dose, "`dose`")
    if dose_m <= 0:
        raise ConditionsError(f"`dose` must be positive, found {dose!r}")
    t_end_s = parse_quantity(t_end, TIME, "s", "`t_end`")
    extra = {}
    if gsh is not None:
        extra["GSH"] = _concentration(gsh, "`gsh`")
    if h2o2 is not None:
        extra["H2O2"] = _concentration(h2o2, "`h2o2`")
    probe = {name: _concentration(v, f"probe `{name}`") for name, v in (probe or {}).items()}
    networks = _networks(catalyst_list, rates, probe)

    rows, ph_values = {}, []
    for j, preset in enumerate(presets):
        ph_values.append(ph[j] if ph is not None else preset.pH)
    for catalyst in catalyst_list:
        network = networks[catalyst.name]
        for j, preset in enumerate(presets):
            if progress is not None:
                progress(f"{catalyst.name} at {preset.name or 'conditions'} (pH {ph_values[j]:g})")
            initial = {catalyst.species: dose_m, **extra, **probe}
            kwargs = dict(conditions=preset, ph=ph_values[j], initial=initial, t_end=t_end_s, n_points=n_points)
            if stochastic:
                ds = simulate(network, "ssa", runs=runs, seed=seed, volume=volume, **kwargs)
            else:
                ds = simulate(network, **kwargs)
            values = metrics(ds, dose=dose_m)
            rows[catalyst.name, j] = summarize(values) if stochastic else values
    return _assemble(catalyst_list, presets, ph_values, rows, dict(
        dose_M=dose_m, t_end_s=t_end_s, method="ssa" if stochastic else "ode",
        runs=runs if stochastic else 0,
        volume_L=parse_quantity(volume, VOLUME, "L", "`volume`") if stochastic else 0.0, seed=seed, gsh_override="" if gsh is None else repr(gsh),
        h2o2_override="" if h2o2 is None else repr(h2o2),
        probes=", ".join(f"{k} {v:g} M" for k, v in probe.items())))


def ph_curve(catalysts=DEFAULT_CATALYSTS, ph_values=np.arange(5.0, 8.01, 0.25), metric=DEFAULT_METRIC, *,
             conditions="tme", dose=DEFAULT_DOSE, t_end=DEFAULT_T_END, initial=None) -> xr.DataArray:
    """A metric against pH for each catalyst (ODE, one batched sweep), everything else from ``conditions``.

    Returns a DataArray over (catalyst, pH) with the metric's ``units`` and ``long_name`` — the input of
    :func:`fentonsim.plotting.plot_ph_curve`.
    """
    from .sweep import sweep

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
    from .sweep import sweep

    catalyst = parse_catalyst(catalyst)
    grid = {species: list(concentrations), "pH": np.asarray(ph_values, dtype=float)}
    result = sweep(catalyst, grid, conditions=conditions, dose=dose, t_end=t_end, progress=False)[metric]
    return result.assign_attrs(catalyst=catalyst.name)


def _networks(catalysts, rates, probe) -> dict:
    """Each catalyst's compiled network (probes merged when dosed) with the rate overrides it has; an override
    that no catalyst has is a typo and an error."""
    from .mechanism.overrides import with_rates
    from .models import load
    from .network import compile_network

    networks, known = {}, set()
    for catalyst in catalysts:
        mechanism = load(list(catalyst.files) + ([PROBE_FILE] if probe else []))
        ids = {r.id for r in mechanism.reactions}
        known |= ids
        own = {rid: value for rid, value in (rates or {}).items() if rid in ids}
        networks[catalyst.name] = compile_network(with_rates(mechanism, own))
    unknown = sorted(set(rates or {}) - known)
    if unknown:
        raise ConditionsError(f"`rates` names {', '.join(unknown)}, which no compared mechanism has")
    return networks


def _assemble(catalysts, presets, ph_values, rows, attrs) -> xr.Dataset:
    first = next(iter(rows.values()))
    names = [c.name for c in catalysts]
    variables = {}
    metric_names = list(first.data_vars)
    for values in rows.values():
        metric_names += [m for m in values.data_vars if m not in metric_names]
    for metric in metric_names:
        stack = np.full((len(catalysts), len(presets)) + (first["oh_produced"].shape), np.nan)
        units = long_name = None
        for (name, j), values in rows.items():
            if metric in values:
                stack[names.index(name), j] = values[metric].values
                units, long_name = values[metric].attrs["units"], values[metric].attrs["long_name"]
        dims = ("catalyst", "condition") + (("statistic",) if "statistic" in first.dims else ())
        variables[metric] = (dims, stack, {"units": units, "long_name": long_name})
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
    caveats = [(str(label), str(text)) for label, text in zip(result["label"].values, result["caveat"].values) if text]
    if caveats:
        lines += ["", "Caveats:"] + [f"- {label}: {text}" for label, text in caveats]
    attrs = result.attrs
    lines += ["", f"Dose {attrs['dose_M'] * 1e6:g} µM, {attrs['t_end_s']:g} s, "
                  + (f"ODE (fentonsim {DEFAULT_SOLVER.upper()})" if attrs["method"] == "ode" else
                     f"SSA, {attrs['runs']} runs in {attrs['volume_L']:g} L, mean [95 % CI]")
                  + (f", GSH {attrs['gsh_override']} M" if attrs.get("gsh_override") else "")
                  + (f", H2O2 {attrs['h2o2_override']} M" if attrs.get("h2o2_override") else "")
                  + (f", probes {attrs['probes']}" if attrs.get("probes") else "") + "."]
    return "\n".join(lines) + "\n"


def write_outputs(result: xr.Dataset, directory, metric=DEFAULT_METRIC, formats=("png",)) -> dict:
    """Write ``compare.<fmt>`` (figure), ``compare.csv`` and ``compare.md`` into ``directory``.

    Every file is written to a temporary name and renamed, so an interrupted run never leaves a
    half-written table. Returns the paths written, by kind.
    """
    from .plotting import plot_comparison, save_figure
    from .tables import atomic_output

    if metric not in result:
        raise ConditionsError(f"unknown metric `{metric}`; available: {', '.join(result.data_vars)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    header, rows = table_rows(result)
    csv_path = directory / "compare.csv"
    with atomic_output(csv_path) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    paths["csv"] = csv_path
    md_path = directory / "compare.md"
    with atomic_output(md_path) as fh:
        fh.write(markdown_table(result, metric))
    paths["markdown"] = md_path
    import matplotlib.pyplot as plt

    ax = plot_comparison(result, metric)
    for fmt in formats:
        paths[fmt] = save_figure(ax.figure, directory / f"compare.{fmt}")
    plt.close(ax.figure)
    return paths


__all__ = ["BUILT_IN", "Catalyst", "DESCRIPTIONS", "compare", "condition_grid", "markdown_table", "parse_catalyst",
           "ph_curve", "write_outputs"]
