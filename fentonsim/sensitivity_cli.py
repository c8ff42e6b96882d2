"""``fentonsim sensitivity``: which rate constants control a run's ·OH output (or a species), ranked.

The answer to "which constants matter at pH 6.5?": local sensitivities ∂ln y/∂ln k of the target y at t_end
to every rate constant of the run (fentonsim.sensitivity, integrated with the compiled Rosenbrock solver),
ranked by magnitude. y is the total ·OH produced by t_end (``oh_produced``, as fentonsim.metrics counts
it) or the concentration of a named species at t_end. A normalised sensitivity of 0.5 means that a 10 %
larger k makes y about 5 % larger (for small changes; these are local derivatives at the run's constants,
not the effect of their whole uncertainty range).
"""
from __future__ import annotations

import csv
import sys

import numpy as np

from .cli_args import EXIT_OK, add_condition_arguments, input_files, number_or_quantity, positive_int
from .errors import ConditionsError
from .units import format_dims, rate_constant_dims

OH_TARGET = "oh_produced"
CSV_HEADER = ("rank", "parameter", "equation", "k", "k_units", "d_ln_target_d_ln_k", "d_target_d_ln_k",
              "target", "target_value", "target_units", "t_end_s")


def add_sensitivity_parser(sub) -> None:
    parser = sub.add_parser(
        "sensitivity", help="rank the rate constants that control a run's ·OH output (local sensitivities)",
        description="Integrate the forward sensitivities of MODEL's run to every rate constant and print "
                    "them ranked: ∂ln y/∂ln k, y the total ·OH produced by t_end (default) or a species' "
                    "concentration at t_end. --out writes every constant's row as CSV.")
    parser.add_argument("model", metavar="MODEL", help="mechanism file (.yaml), shipped name, or SBML model")
    parser.add_argument("--target", default=OH_TARGET,
                        help=f"`{OH_TARGET}` (total ·OH produced; default) or a species, e.g. H2O2")
    parser.add_argument("--t-end", default="3600", help="end time in s, or a quantity such as '10 min' "
                                                        "(default 3600)")
    parser.add_argument("--top", type=positive_int, default=15, help="rows to print (default 15)")
    add_condition_arguments(parser, None)
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors and the written path")
    parser.add_argument("--out", metavar="FILE.csv", help="write every rate constant's row as CSV")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out file that fentonsim did not write")
    parser.set_defaults(run=cmd_sensitivity)


def ranked(dataset, target: str, network) -> list[dict]:
    """Rows for every ``rate:`` parameter of a :func:`fentonsim.sensitivity.sensitivities` result of
    ``network``, largest |∂ln y/∂ln k| first; y is ``target`` at the last output time."""
    if target == OH_TARGET:
        if "oh_produced" not in dataset:
            raise ConditionsError(f"`--target {OH_TARGET}` needs a model with a `hydroxyl` species; name a species "
                                  f"instead (one of {', '.join(map(str, dataset.species.values))})")
        value = float(dataset["oh_produced"].values[-1])
        raw = dataset["oh_produced_sensitivity"].values[-1]
        units = "M"
    else:
        species = [str(s) for s in dataset.species.values]
        # A speciation form (H2O2) stands for its pool (peroxide): the state variable the solver integrates.
        state = network.pool_of_form.get(target, target)
        if state not in species:
            raise ConditionsError(f"`--target {target}`: no such species; expected `{OH_TARGET}`, a state variable "
                                  f"({', '.join(species)}) or one of its forms")
        value = float(dataset["concentration"].sel(species=state).values[-1])
        raw = dataset["sensitivity"].sel(species=state).values[-1]
        units = "M"
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = raw / value if value != 0.0 else np.full_like(raw, np.nan)
    equations = dict(zip(network.reaction_ids, network.equations))
    # Effective constants are in M^(1−order) s⁻¹ with the order in the state variables (fentonsim.results).
    k_units = {rid: format_dims(rate_constant_dims(float(order)))
               for rid, order in zip(network.reaction_ids, network.order)}
    rows = []
    for j, label in enumerate(map(str, dataset.parameter.values)):
        if dataset["parameter_kind"].values[j] != "rate":
            continue
        reaction = label.removeprefix("rate:")
        rows.append({"parameter": label, "equation": equations.get(reaction, ""),
                     "k": float(dataset["parameter_value"].values[j]), "k_units": k_units.get(reaction, ""),
                     "d_ln_target_d_ln_k": float(normalised[j]),
                     "d_target_d_ln_k": float(raw[j]), "target": target, "target_value": value,
                     "target_units": units, "t_end_s": float(dataset.time.values[-1])})
    rows.sort(key=lambda r: -abs(r["d_ln_target_d_ln_k"]) if np.isfinite(r["d_ln_target_d_ln_k"]) else 0.0)
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def cmd_sensitivity(args) -> int:
    from .problem import resolve_model
    from .sensitivity import sensitivities
    from .tables import atomic_output, check_output

    if args.out is not None:
        check_output(args.out, inputs=input_files(args.model, args.conditions), overwrite=args.overwrite)
    network = resolve_model(args.model, args.parameter_set)
    dataset = sensitivities(network, t_end=number_or_quantity(args.t_end), n_points=2, conditions=args.conditions,
                            ph=args.ph, temperature=args.temperature, initial=dict(args.initial or []),
                            rates=dict(args.rate or []), extents=args.target == OH_TARGET)
    rows = ranked(dataset, args.target, network)
    if args.out is not None:
        with atomic_output(args.out) as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_HEADER)
            for row in rows:
                writer.writerow([row[name] if not isinstance(row[name], float) else repr(row[name])
                                 for name in CSV_HEADER])
    if not args.quiet:
        attrs = dataset.attrs
        conditions = f"pH {attrs['pH']:g}, " if attrs.get("ph_dependent", 1) else ""
        print(f"{attrs['mechanism']}, {conditions}T {attrs['temperature_K']:g} K, t_end {rows[0]['t_end_s']:g} s: "
              f"{args.target} = {rows[0]['target_value']:.4g} {rows[0]['target_units']}" if rows else
              f"{attrs['mechanism']}: no rate constants")
        print("\n| rank | reaction | equation | k | ∂ln y/∂ln k |\n|---|---|---|---|---|")
        for row in rows[:args.top]:
            print(f"| {row['rank']} | {row['parameter'].removeprefix('rate:')} | {row['equation']} | "
                  f"{row['k']:.3g} {row['k_units']} | {row['d_ln_target_d_ln_k']:+.3g} |")
        if len(rows) > args.top:
            print(f"\n({len(rows) - args.top} more{'; all in ' + str(args.out) if args.out else ''})")
    if args.out is not None:
        print(f"wrote {args.out}", file=sys.stdout)
    return EXIT_OK
