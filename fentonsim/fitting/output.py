"""Writing a fit: a parameter-set file ``load_mechanism(path, parameter_set=...)`` reads, and CSV tables.

The parameter-set file is a small mechanism that ``include``s the fitted model's files and adds one
``parameter-sets`` entry with the estimates, so ``load_mechanism(path, parameter_set=name)`` is the model
with the fitted constants — on top of the parameter set the fit started from, whose other values the entry
repeats. Values are written in the file's units (M, s, J/mol, K) and in each reaction's own convention: a
constant tabulated as 2k is written doubled, as the loader halves it again.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from ..errors import ConditionsError
from ..problem import resolve_mechanism
from ..tables import atomic_output

ESTIMATES_HEADER = ("parameter", "kind", "scale", "estimate", "ci_low", "ci_high", "standard_error", "literature",
                    "lower_bound", "upper_bound")
CURVES_HEADER = ("experiment", "observable", "time", "observed", "fitted", "weighted_residual")


def _model_files(model) -> list[str]:
    names = model if isinstance(model, (list, tuple)) else [model]
    if not all(isinstance(n, (str, Path)) for n in names):
        raise ConditionsError("a parameter-set file includes the model's files; this fit's model is an object, "
                              "not a file — fit a mechanism file to write one")
    return [str(Path(n).resolve()) if Path(str(n)).exists() else str(n) for n in names]


def _overrides(mechanism, rates) -> dict:
    """{reaction id: {field: value}}: the active parameter set's overrides, with the fitted k in place."""
    base = {}
    if mechanism.active_parameter_set:
        chosen = next(p for p in mechanism.parameter_sets if p.name == mechanism.active_parameter_set)
        base = {rid: dict(changes) for rid, changes in chosen.overrides}
    for rid, k in rates.items():
        base.setdefault(rid, {})["k"] = k
    return base


def _fields(reaction, fields) -> str:
    """The YAML flow mapping of one override (k in the reaction's convention, Ea in J/mol, T_ref in K)."""
    parts, fractions = [], []
    for key, value in fields.items():
        if key == "k":
            written = 2.0 * value if reaction.tabulated_2k else value
            parts.append(f"k: {written!r}")
        elif key in ("Ea", "T_ref"):
            parts.append(f"{key}: {value!r}")
        elif key.startswith("fraction:"):
            fractions.append(f"{json.dumps(key.partition(':')[2])}: {value!r}")
    if fractions:
        parts.append(f"fractions: {{{', '.join(fractions)}}}")
    return ", ".join(parts)


def parameter_set_text(result, name="fit") -> str:
    """The YAML text of the parameter-set file (module docstring); one set ``name`` or, with per-experiment
    rate constants, one set ``name-<experiment>`` per experiment."""
    spec = result.spec
    files = _model_files(spec.model)
    mechanism = resolve_mechanism(spec.model, spec.parameter_set)
    experiments = [None] if not result.per_experiment else [e.name for e in spec.experiments]
    lines = ["# Written by fentonsim fit: the fitted constants as a parameter set of the model below.",
             "kind: mechanism", f"name: {json.dumps(mechanism.name + '-fit')}",
             f"description: {json.dumps('fitted constants of ' + mechanism.name)}",
             "units: {concentration: M, time: s, energy: J/mol, temperature: K, volume: L}",
             f"include: [{', '.join(json.dumps(f) for f in files)}]", "parameter-sets:"]
    level = f"{result.confidence:.0%}"
    for experiment in experiments:
        rates = result.rates(experiment)
        if not rates:
            raise ConditionsError("the fit has no rate constants to write as a parameter set")
        set_name = name if experiment is None else f"{name}-{experiment}"
        intervals = "; ".join(f"{row['parameter']} {row['estimate']:.4g} ({row['ci_low']:.3g}–{row['ci_high']:.3g})"
                              for row in result.table() if row["kind"] == "rate")
        description = json.dumps(f"fitted by fentonsim fit ({level} intervals): {intervals}", ensure_ascii=False)
        lines += [f"  {json.dumps(set_name)}:", f"    description: {description}",
                  "    reactions:"]
        for rid, fields in _overrides(mechanism, rates).items():
            lines.append(f"      {json.dumps(rid)}: {{{_fields(mechanism.reaction(rid), fields)}}}")
    return "\n".join(lines) + "\n"


def write_parameter_set(result, path, name="fit") -> Path:
    """Write :func:`parameter_set_text` to ``path`` (atomically)."""
    text = parameter_set_text(result, name)
    with atomic_output(path) as fh:
        fh.write(text)
    return Path(path)


def write_estimates(result, path) -> Path:
    """The estimates table as CSV; when the optimiser did not converge, a first comment line (``# ...``) says
    that the intervals are not valid."""
    with atomic_output(path) as fh:
        if not result.success:
            fh.write(f"# NOT CONVERGED ({result.message.rstrip('.')}): the estimates are not an optimum and the "
                     "intervals are not valid\n")
        writer = csv.writer(fh)
        writer.writerow(ESTIMATES_HEADER)
        for row in result.table():
            writer.writerow([row[k] if isinstance(row[k], str) else repr(row[k]) for k in ESTIMATES_HEADER])
    return Path(path)


def write_curves(result, path) -> Path:
    with atomic_output(path) as fh:
        writer = csv.writer(fh)
        writer.writerow(CURVES_HEADER)
        for row in result.curve_rows():
            writer.writerow([v if isinstance(v, str) else repr(float(v)) for v in row])
    return Path(path)
