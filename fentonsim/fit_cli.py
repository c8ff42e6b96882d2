"""``fentonsim fit SPEC.yaml``: fit rate constants to measured time courses (fentonsim.fitting).

Prints the estimates with their confidence intervals beside the model's documented values, then any
warning (an optimiser that did not converge — also the first line of ``estimates.csv`` — or poor
identifiability), and writes into ``--out`` (default ``fentonsim-fit/``): ``estimates.csv``,
``curves.csv`` (every measured value with the fitted one), ``parameter-set.yaml`` (the fitted constants as
a parameter set of the model: ``load_mechanism(path, parameter_set="fit")``), ``fit.png`` and, per
``--profile P``, ``profile-<P>.csv`` and ``.png`` (Δχ² against P).
"""
from __future__ import annotations

import csv
import re
import time
import warnings
from pathlib import Path

from .cli_args import EXIT_OK, positive_int, seed

DEFAULT_OUT = "fentonsim-fit"


def add_fit_parser(sub) -> None:
    parser = sub.add_parser(
        "fit", help="fit rate constants to measured time courses",
        description="Fit the parameters named in SPEC.yaml (a `kind: fit` file: model, observables, parameters, "
                    "experiments with their CSV data) by least squares with the exact sensitivity Jacobian; "
                    "print estimates with confidence intervals and write CSV, YAML and PNG outputs.")
    parser.add_argument("spec", metavar="SPEC.yaml", help="fit specification (README, Fitting) or a PEtab v1 problem")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--starts", type=positive_int, default=1,
                        help="optimisations: the model's constants, then Latin-hypercube points in the bounds "
                             "(default 1)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the multi-start design (default 0)")
    parser.add_argument("--profile", metavar="PARAMETER", action="append",
                        help="also compute the profile-likelihood interval of PARAMETER (repeatable)")
    parser.add_argument("--name", default="fit", help="name of the written parameter set (default fit)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors and the written paths")
    parser.set_defaults(run=cmd_fit)


def _number(value: float) -> str:
    return "—" if value != value else f"{value:.4g}"


def cmd_fit(args) -> int:
    from .errors import ConditionsError
    from .fitting import (ConvergenceWarning, IdentifiabilityWarning, fit, load_spec, plot_fit, plot_profile, profile,
                          write_curves, write_estimates, write_parameter_set)
    from .models import is_sbml
    from .tables import atomic_output, check_output

    clock = time.perf_counter()
    out = check_output(args.out, directory=True)
    if not args.name.strip() or any(c in args.name for c in "\n\r:{}[]#"):
        raise ConditionsError(f"`--name` must be a plain parameter-set name, found `{args.name}`")
    spec = load_spec(args.spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdentifiabilityWarning)  # printed below, one line each
        warnings.simplefilter("ignore", ConvergenceWarning)  # the first of result.warnings
        result = fit(spec, starts=args.starts, seed=args.seed)
    profiles = [profile(result, name) for name in (args.profile or [])]
    out.mkdir(exist_ok=True)
    paths = [write_estimates(result, out / "estimates.csv"), write_curves(result, out / "curves.csv")]
    notes = list(result.notes)
    sbml = isinstance(spec.model, str) and is_sbml(spec.model)
    if any(kind == "rate" for kind in result.kinds) and not sbml:
        paths.append(write_parameter_set(result, out / "parameter-set.yaml", args.name))
    elif sbml:
        notes.append("no parameter-set.yaml: parameter sets are a feature of fentonsim mechanisms, not SBML")
    figure = plot_fit(result)
    png = out / "fit.png"
    with atomic_output(png, binary=True) as fh:
        figure.savefig(fh, format="png", dpi=120)
    import matplotlib.pyplot as plt
    plt.close(figure)
    paths.append(png)
    for p in profiles:
        stem = out / ("profile-" + re.sub(r"[^A-Za-z0-9_.+-]", "_", p["parameter"]))
        with atomic_output(stem.with_suffix(".csv")) as fh:
            writer = csv.writer(fh)
            writer.writerow(("parameter", "value", "delta_chi2", "threshold"))
            for value, delta in zip(p["value"], p["delta_chi2"]):
                writer.writerow((p["parameter"], repr(float(value)), repr(float(delta)), repr(p["threshold"])))
        figure = plot_profile(p)
        with atomic_output(stem.with_suffix(".png"), binary=True) as fh:
            figure.savefig(fh, format="png", dpi=120)
        plt.close(figure)
        paths += [stem.with_suffix(".csv"), stem.with_suffix(".png")]
    if not args.quiet:
        level = f"{result.confidence:.0%}"
        scale = "s² estimated from the residuals" if not result.sigma_known else "σ given"
        n_experiments = len(spec.experiments)
        print(f"{result.network_name}: {n_experiments} experiment{'s' if n_experiments > 1 else ''}, "
              f"{result.n_data} values, {len(result.parameters)} parameters; cost {result.cost:.4g} ({scale}); "
              f"{result.n_evaluations} evaluations, {len(result.start_costs)} start(s)"
              f"{'' if result.success else '; NOT CONVERGED'}")
        print(f"\n| parameter | estimate | {level} interval | literature |\n|---|---|---|---|")
        for row in result.table():
            print(f"| {row['parameter']} | {_number(row['estimate'])} | {_number(row['ci_low'])} – "
                  f"{_number(row['ci_high'])} | {_number(row['literature'])} |")
        for p in profiles:
            print(f"profile of {p['parameter']}: {level} interval {_number(p['ci_low'])} – {_number(p['ci_high'])}")
        for note in notes:
            print(f"note: {note}")
    for message in result.warnings:
        print(f"warning: {message}")
    print(f"wrote {', '.join(str(Path(p)) for p in paths)} ({time.perf_counter() - clock:.1f} s)")
    return EXIT_OK
