"""``fentonsim sensitivity``: which rate constants control a run's ·OH output (or a species), ranked.

The answer to "which constants matter at pH 6.5?": local sensitivities ∂ln y/∂ln k of the target y at t_end
to every rate constant of the run (fentonsim.sensitivity, integrated with the compiled Rosenbrock solver),
ranked by magnitude. y is the total ·OH produced by t_end (``oh_produced``, as fentonsim.metrics counts
it) or the concentration of a named species at t_end. A normalised sensitivity of 0.5 means that a 10 %
larger k makes y about 5 % larger (for small changes; these are local derivatives at the run's constants,
not the effect of their whole uncertainty range).

``--global morris|sobol`` answers the second question — which constants matter over their whole documented
ranges, all varied at once (fentonsim.global_sensitivity; needs the ``analysis`` extra, SALib) — for the
same MODEL and conditions, so one flag switches between the two. The table ranks by Morris mu* or Sobol' ST
of ln(y) with their bootstrap intervals; ``--out`` writes every factor's row, and ``--plot FILE.png`` a
tornado chart in both modes. A flag of the other mode (``--samples`` without ``--global``; ``--target`` a
species with ``--global``) is refused rather than ignored.
"""
from __future__ import annotations

import csv
import sys
import warnings
from pathlib import Path

import numpy as np

from .cli_args import EXIT_OK, add_condition_arguments, input_files, number_or_quantity, positive_int, seed
from .errors import ConditionsError
from .units import format_dims, rate_constant_dims

OH_TARGET = "oh_produced"
CSV_HEADER = ("rank", "parameter", "equation", "k", "k_units", "d_ln_target_d_ln_k", "d_target_d_ln_k",
              "target", "target_value", "target_units", "t_end_s")
GLOBAL_HEADER = {
    "morris": ("rank", "model", "condition", "reaction", "k_low", "k_high", "mu_star", "mu_star_conf", "mu", "sigma",
               "sigma_conf", "mu_star_per_ln_k", "n", "metric", "scale"),
    "sobol": ("rank", "model", "condition", "reaction", "k_low", "k_high", "ST", "ST_conf", "S1", "S1_conf", "n",
              "metric", "scale"),
}
#: Rows of the tornado chart.
PLOT_TOP = 15


def add_sensitivity_parser(sub) -> None:
    parser = sub.add_parser(
        "sensitivity", help="rank the rate constants that control a run's ·OH output (local or --global)",
        description="Integrate the forward sensitivities of MODEL's run to every rate constant and print "
                    "them ranked: ∂ln y/∂ln k, y the total ·OH produced by t_end (default) or a species' "
                    "concentration at t_end. --out writes every constant's row as CSV. With --global morris|sobol, "
                    "rank the constants with a documented uncertainty range by Morris mu* or Sobol' ST of ln y "
                    "over all the ranges at once instead (SALib: the `analysis` extra).")
    parser.add_argument("model", metavar="MODEL", nargs="+",
                        help="mechanism file (.yaml), shipped name, or SBML model; several mechanisms are merged "
                             "(`copper glutathione` is compare's copper catalyst)")
    parser.add_argument("--target", default=OH_TARGET,
                        help=f"`{OH_TARGET}` (total ·OH produced; default) or a species, e.g. H2O2")
    parser.add_argument("--t-end", default="3600", help="end time in s, or a quantity such as '10 min' "
                                                        "(default 3600)")
    parser.add_argument("--top", type=positive_int, default=15, help="rows to print (default 15)")
    add_condition_arguments(parser, None)
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors and the written path")
    parser.add_argument("--out", metavar="FILE.csv", help="write every rate constant's row as CSV")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="write a tornado chart of the ranking (.png, .svg or .pdf)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out or --plot file that fentonsim did not write")
    group = parser.add_argument_group("global sensitivities (over the documented uncertainty ranges)")
    group.add_argument("--global", dest="global_method", choices=("morris", "sobol"),
                       help="Morris screening or Sobol' indices of ln y over every documented rate-constant range, "
                            "instead of local derivatives (needs the `analysis` extra: SALib)")
    group.add_argument("--samples", type=positive_int, metavar="N",
                       help="Morris trajectories (default 32) or Sobol' base samples (a power of 2, default 256); "
                            "indices are also reported at N/4 and N/2 to show convergence")
    group.add_argument("--seed", type=seed, help="seed of the design and bootstrap (default 0)")
    group.add_argument("--include-factors", action="store_true",
                       help="also sample the constants documented with a factor f, over [k/f, k·f]")
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


def _model(args):
    """MODEL as fentonsim.problem takes it: one path or name, or the list of mechanisms to merge."""
    return args.model[0] if len(args.model) == 1 else list(args.model)


def _check_outputs(args):
    from .plotting import FORMATS
    from .tables import check_output

    inputs = input_files(args.model, args.conditions)
    if args.out is not None:
        check_output(args.out, inputs=inputs, overwrite=args.overwrite)
    if args.plot is not None:
        if args.plot.rpartition(".")[2].lower() not in FORMATS or "." not in args.plot:
            raise ConditionsError(f"`--plot {args.plot}`: the figure's suffix must be .png, .svg or .pdf")
        check_output(args.plot, inputs=inputs, overwrite=args.overwrite)
        if args.out is not None and Path(args.plot).resolve() == Path(args.out).resolve():
            raise ConditionsError(f"`--plot` and `--out` are the same file `{args.out}`; give two names")


def cmd_sensitivity(args) -> int:
    from .problem import resolve_model
    from .sensitivity import sensitivities
    from .tables import atomic_output

    if args.global_method is not None:
        return cmd_global(args)
    given = [flag for flag, value in (("--samples", args.samples), ("--seed", args.seed),
                                      ("--include-factors", args.include_factors or None)) if value is not None]
    if given:
        raise ConditionsError(f"{' and '.join(f'`{g}`' for g in given)} appl{'y' if len(given) > 1 else 'ies'} to "
                              "global sensitivities; add `--global morris` (or sobol) or drop "
                              f"{'them' if len(given) > 1 else 'it'}")
    _check_outputs(args)
    network = resolve_model(_model(args), args.parameter_set)
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
    if args.plot is not None:
        _write_local_plot(rows, args, dataset.attrs)
    for path in (args.out, args.plot):
        if path is not None:
            print(f"wrote {path}", file=sys.stdout)
    return EXIT_OK


def _write_local_plot(rows, args, attrs):
    import matplotlib.pyplot as plt
    import xarray as xr

    from .plotting import plot_tornado, save_figure

    values = xr.DataArray([row["d_ln_target_d_ln_k"] for row in rows], dims="reaction",
                          coords={"reaction": [row["parameter"].removeprefix("rate:") for row in rows]},
                          attrs={"long_name": f"∂ln {args.target}/∂ln k", "units": "1"})
    figure, ax = plt.subplots(figsize=(7, 0.3 * min(len(rows), PLOT_TOP) + 1.5), layout="constrained")
    conditions = f"pH {attrs['pH']:g}, " if attrs.get("ph_dependent", 1) else ""
    plot_tornado(values, ax=ax, top=PLOT_TOP, title=f"{attrs['mechanism']} ({conditions}"
                 f"T {attrs['temperature_K']:g} K, t_end {rows[0]['t_end_s']:g} s): local sensitivities"
                 if rows else attrs["mechanism"])
    save_figure(figure, args.plot)
    plt.close(figure)


def cmd_global(args) -> int:
    """``fentonsim sensitivity MODEL --global morris|sobol``: a ranked table of global indices of ln y."""
    from .data import resolve_mechanism_path
    from .global_sensitivity import DEFAULT_N, _levels, global_sensitivity, ranked_rows, require_salib
    from .metrics import DESCRIPTIONS
    from .tables import atomic_output

    require_salib()
    if args.target not in DESCRIPTIONS:
        raise ConditionsError(f"`--target {args.target}`: global sensitivities analyse a metric of the run "
                              f"({', '.join(DESCRIPTIONS)}), not a species' concentration")
    _check_outputs(args)
    # The model is the mechanism as written, as in the local mode (a shipped name is its file, not a catalyst).
    paths = [str(resolve_mechanism_path(m)) for m in args.model]
    name = "+".join(Path(p).stem or p for p in paths)
    n = args.samples if args.samples is not None else DEFAULT_N[args.global_method]
    try:
        _levels(args.global_method, n)
    except ConditionsError as exc:
        raise ConditionsError(f"`--samples {n}`: {exc}") from None
    with warnings.catch_warnings():  # cells left NaN: printed below as one `warning:` line
        warnings.filterwarnings("ignore", message="global sensitivity left NaN", category=RuntimeWarning)
        result = global_sensitivity(
            {name: paths[0] if len(paths) == 1 else paths}, [args.conditions], args.global_method, n,
            metric=args.target, t_end=number_or_quantity(args.t_end), ph=args.ph, temperature=args.temperature,
            initial=dict(args.initial or []), rates=dict(args.rate or []), parameter_set=args.parameter_set,
            include_factors=args.include_factors, seed=0 if args.seed is None else args.seed,
            progress=False if args.quiet else None)
    rows = ranked_rows(result)
    header = GLOBAL_HEADER[args.global_method]
    extra = {"n": int(result.n.values[-1]), "metric": args.target, "scale": result.attrs["scale"]}
    if args.out is not None:
        with atomic_output(args.out) as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for row in rows:
                row = {**row, **extra}
                writer.writerow([repr(row[h]) if isinstance(row[h], float) else row[h] for h in header])
    if args.plot is not None:
        import matplotlib.pyplot as plt

        from .plotting import plot_global_sensitivity, save_figure
        figure, ax = plt.subplots(figsize=(7, 0.3 * min(len(rows), PLOT_TOP) + 1.5), layout="constrained")
        plot_global_sensitivity(result, ax=ax, top=PLOT_TOP)
        save_figure(figure, args.plot)
        plt.close(figure)
    if not args.quiet:
        runs = int(result.n_runs.values[0, -1])
        print(f"{name}, {result.condition.values[0]}: {args.global_method} over {len(rows)} documented ranges, "
              f"N = {extra['n']} ({runs} runs, {result.attrs['wall_time_s']:.1f} s); y = ln {args.target}; "
              f"± = {result.attrs['conf_level']:.0%} bootstrap half-width")
        if args.global_method == "morris":
            print("\n| rank | reaction | range | mu* ± | sigma ± | mu*/ln(high/low) | mu* at N/4, N/2 |\n"
                  "|---|---|---|---|---|---|---|")
        else:
            print("\n| rank | reaction | range | ST ± | S1 ± | ST at N/4, N/2 |\n|---|---|---|---|---|---|")
        key = "mu_star" if args.global_method == "morris" else "ST"
        cell = result.isel(model=0, condition=0)
        for row in rows[:args.top]:
            early = ", ".join(f"{v:.3g}" for v in cell[key].sel(reaction=row["reaction"]).values[:-1])
            span = f"{row['k_low']:.3g}–{row['k_high']:.3g}"
            if args.global_method == "morris":
                print(f"| {row['rank']} | {row['reaction']} | {span} | {row['mu_star']:.3g} ± "
                      f"{row['mu_star_conf']:.2g}"
                      f" | {row['sigma']:.3g} ± {row['sigma_conf']:.2g} | {row['mu_star_per_ln_k']:.3g} | {early} |")
            else:
                print(f"| {row['rank']} | {row['reaction']} | {span} | {row['ST']:.3g} ± {row['ST_conf']:.2g} | "
                      f"{row['S1']:.3g} ± {row['S1_conf']:.2g} | {early} |")
        if len(rows) > args.top:
            print(f"\n({len(rows) - args.top} more{'; all in ' + str(args.out) if args.out else ''})")
    if result.attrs["failed_cells"]:
        print(f"warning: global sensitivity left NaN for {result.attrs['failed_cells']}")
    for path_written in (args.out, args.plot):
        if path_written is not None:
            print(f"wrote {path_written}", file=sys.stdout)
    return EXIT_OK
