"""``fentonsim compare``: the main job on the command line (fentonsim.compare does the work).

With no arguments: Fe²⁺, Cu⁺ and Mn²⁺ (20 µM each, with GSH) for 1 h at tumour
(tme, pH 6.5) and normal (pH 7.4) conditions; writes compare.png, compare.csv and
compare.md into ./fentonsim-compare and prints the table.
"""
from __future__ import annotations

import argparse
import time

from .cli_args import EXIT_OK, number_or_quantity, ph, rate_assignment
from .compare import (DEFAULT_CONDITIONS, DEFAULT_DOSE, DEFAULT_METRIC, DEFAULT_RUNS, DEFAULT_T_END,
                      DEFAULT_UNCERTAINTY_SAMPLES, DEFAULT_VOLUME, compare, markdown_table, parse_catalyst,
                      write_outputs)
from .errors import ConditionsError
from .metrics import DESCRIPTIONS
from .plotting import FORMATS

DEFAULT_OUT = "fentonsim-compare"


#: Latin-hypercube samples per catalyst a comparison accepts (64 take about a second).
MAX_UNCERTAINTY_SAMPLES = 10_000


def _name_value(flag):
    def parse(text: str) -> tuple:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise argparse.ArgumentTypeError(f"`{flag}` expects NAME=CONCENTRATION (e.g. 'TA-2=0.5 mM'), "
                                             f"found `{text}`")
        return name.strip(), value.strip()
    return parse


def _metric(text: str) -> str:
    if text in DESCRIPTIONS or text.startswith("probe_"):
        return text
    raise argparse.ArgumentTypeError(f"unknown metric `{text}`; choose one of {', '.join(DESCRIPTIONS)} "
                                     "or a probe_… read-out")


def _doses(given):
    """``--dose`` values: None (each catalyst's default), one value for all, or {catalyst: value}; a value that
    holds a unit stays text (a nanomaterial refuses bare numbers, so their reading is not decided here)."""
    if not given:
        return None
    named, common = {}, []
    for text in given:
        name, sep, value = text.partition("=")
        if sep:
            if not name.strip() or not value.strip():
                raise ConditionsError(f"`--dose` expects DOSE or NAME=DOSE (e.g. 'fe3o4=50 ug/mL'), found `{text}`")
            named[name.strip()] = value.strip()
        else:
            common.append(text)
    if len(common) > 1:
        raise ConditionsError(f"`--dose` without a catalyst name was given {len(common)} times; give it once, or "
                              "NAME=DOSE per catalyst")
    if not named:
        return number_or_quantity(common[0])
    if common:
        raise ConditionsError("`--dose` mixes a dose for every catalyst with NAME=DOSE; name every catalyst's dose")
    return named


def add_compare_parser(sub) -> None:
    parser = sub.add_parser(
        "compare", help="compare ·OH output of catalysts at tumour vs normal pH (the main job)",
        description="Simulate each catalyst at the same metal dose at each condition preset (default: tumour "
                    "`tme`, pH 6.5, and `normal`, pH 7.4, whose H2O2, GSH, O2 and HCO3- apply) and write a "
                    "grouped-bar figure, a CSV and a Markdown table of ·OH metrics.")
    parser.add_argument("--catalyst", action="append", metavar="NAME|FILE:SPECIES",
                        help="iron, copper, manganese, the nanomaterials fe3o4, cuo2, mno2, or a mechanism file and the species dosed "
                             "(e.g. my_cu.yaml:Cu+); repeatable (default: iron, copper, manganese)")
    parser.add_argument("--dose", action="append", metavar="[NAME=]DOSE",
                        help=f"dose of every catalyst, or NAME=DOSE for one (repeatable): M for a metal ion (default "
                             f"{DEFAULT_DOSE}), mass per volume for a nanomaterial (e.g. fe3o4=50ug/mL; default its "
                             "file's dose)")
    parser.add_argument("--conditions", nargs="+", default=list(DEFAULT_CONDITIONS), metavar="PRESET",
                        help="condition presets or files, one column each (default: tme normal)")
    parser.add_argument("--lysosome", action="store_true", help="add the lysosome preset (pH 5.0)")
    parser.add_argument("--ph", type=ph, nargs="+", metavar="PH",
                        help="pH of each condition, replacing the presets' (e.g. --ph 6.5 7.4)")
    parser.add_argument("--gsh", help="initial GSH for every condition, e.g. 0 (depleted) or '5 mM'")
    parser.add_argument("--h2o2", help="initial H2O2 for every condition, e.g. '100 uM'")
    parser.add_argument("--probe", type=_name_value("--probe"), action="append", metavar="NAME=CONC",
                        help="add an assay probe, e.g. 'TA-2=0.5 mM' (terephthalate) or 'DMPO=10 mM'")
    parser.add_argument("--metric", type=_metric, default=DEFAULT_METRIC,
                        help=f"metric in the figure (default {DEFAULT_METRIC}; e.g. oh_exposure, oh_per_metal)")
    parser.add_argument("--t-end", default=DEFAULT_T_END, help=f"simulated time (default {DEFAULT_T_END})")
    parser.add_argument("--n-points", type=int, default=121,
                        help="output times per run (default 121; the metrics do not depend on it)")
    parser.add_argument("--temperature", help="temperature for every condition, e.g. '45 °C' (default: presets')")
    parser.add_argument("--parameter-set", metavar="NAME",
                        help="alternative constants for every catalyst that defines the set, e.g. CuIII-Pham-2013")
    parser.add_argument("--uncertainty", type=int, default=DEFAULT_UNCERTAINTY_SAMPLES, metavar="N",
                        help="Latin-hypercube samples of the documented rate-constant ranges for the 5–95 %% "
                             f"bands (default {DEFAULT_UNCERTAINTY_SAMPLES}; 0 = off; ODE only)")
    parser.add_argument("--no-decomposition", action="store_true",
                        help="skip splitting the first/second-condition difference into pH, H2O2, GSH and the rest")
    parser.add_argument("--sensitivity", action="store_true",
                        help="add local sensitivities ∂ln(·OH)/∂ln k of every reaction per catalyst and condition "
                             "(ODE): a ranked table, compare-sensitivity.csv and a tornado figure")
    parser.add_argument("--stochastic", action="store_true", help="SSA ensembles instead of the ODE")
    parser.add_argument("--runs", type=int, help=f"ensemble size with --stochastic (default {DEFAULT_RUNS})")
    parser.add_argument("--volume", help=f"SSA volume with --stochastic (default {DEFAULT_VOLUME})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--rate", type=rate_assignment, action="append", metavar="ID=K",
                        help="replace a rate constant in every catalyst that has the reaction, e.g. 'M10=1e6'")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--format", nargs="+", choices=FORMATS, default=["png"], help="figure formats (default png)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(run=cmd_compare)


def cmd_compare(args) -> int:
    from .tables import check_output

    start = time.perf_counter()
    check_output(args.out, directory=True)  # before minutes of work, not after
    catalysts = [parse_catalyst(c) for c in (args.catalyst or ("iron", "copper", "manganese"))]
    conditions = list(args.conditions) + (["lysosome"] if args.lysosome else [])
    given = [flag for flag, value in (("--runs", args.runs), ("--volume", args.volume)) if value is not None]
    if given and not args.stochastic:
        raise ConditionsError(f"{' and '.join(f'`{g}`' for g in given)} apply to stochastic comparisons; add "
                              "`--stochastic` or drop them")
    args.runs = DEFAULT_RUNS if args.runs is None else args.runs
    args.volume = DEFAULT_VOLUME if args.volume is None else args.volume
    if args.runs < 2 and args.stochastic:
        raise ConditionsError(f"`--runs` must be at least 2 for confidence intervals, found {args.runs}")
    if args.uncertainty < 0 or args.uncertainty == 1 or args.uncertainty > MAX_UNCERTAINTY_SAMPLES:
        raise ConditionsError(f"`--uncertainty` must be 0 (off) or 2 to {MAX_UNCERTAINTY_SAMPLES:,} samples, "
                              f"found {args.uncertainty}")
    if args.uncertainty and args.stochastic and args.uncertainty != DEFAULT_UNCERTAINTY_SAMPLES:
        raise ConditionsError("`--uncertainty` applies to the ODE comparison; with `--stochastic` the "
                              "ensembles' confidence intervals are the error bars (drop one of the two)")
    if args.n_points < 2:
        raise ConditionsError(f"`--n-points` must be at least 2, found {args.n_points}")
    result = compare(catalysts, conditions, dose=_doses(args.dose), ph=args.ph,
                     gsh=None if args.gsh is None else number_or_quantity(args.gsh),
                     h2o2=None if args.h2o2 is None else number_or_quantity(args.h2o2),
                     t_end=number_or_quantity(args.t_end), probe=dict(args.probe or []),
                     stochastic=args.stochastic, runs=args.runs, volume=number_or_quantity(args.volume),
                     seed=args.seed, rates=dict(args.rate or []), parameter_set=args.parameter_set,
                     temperature=None if args.temperature is None else number_or_quantity(args.temperature),
                     n_points=args.n_points, decompose=not args.no_decomposition,
                     uncertainty=0 if args.stochastic else args.uncertainty,
                     progress=False if args.quiet else None, sensitivity=args.sensitivity)
    paths = write_outputs(result, args.out, args.metric, tuple(args.format))
    if not args.quiet:
        print(markdown_table(result, args.metric), end="")
        print(f"\nwrote {', '.join(str(p) for p in paths.values())} "
              f"({len(catalysts)} catalysts × {len(conditions)} conditions, {result.attrs['method']}, "
              f"{time.perf_counter() - start:.1f} s)")
    return EXIT_OK
