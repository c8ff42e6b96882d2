"""The ``fentonsim`` command line.

Subcommands:

- ``fentonsim validate FILE...`` — check mechanism, SBML and condition files; exit 0
  with a one-line summary per valid file, exit 1 with ``file:line: message``
  otherwise.
- ``fentonsim info FILE [--ph PH] [--temperature T] [--parameter-set NAME]`` —
  species, pools and reactions with effective rate constants and references.
- ``fentonsim simulate MODEL [--method ode|ssa|tau-leap|auto] [--runs R] [--seed S]
  [--t-end T] [--n-points N] [--volume L] [--ph PH] [--conditions NAME] [--initial X=C]
  [--stats] --out FILE.csv`` — one simulation written as CSV (fentonsim.tables); MODEL
  is a mechanism (.yaml) or an SBML model (.xml). A yield law applied outside its stated
  validity prints ``warning: yield law of ...`` (fentonsim.validity), even with ``--quiet``.
- ``fentonsim export MECH --sbml OUT.xml [--ph PH] [--temperature T] [--conditions NAME]
  [--volume L] [--initial X=C] [--parameter-set NAME] [--rate ID=K] [--amounts]`` — the
  mechanism at those conditions as SBML Level 3 Version 2.
- ``fentonsim table FILE...`` — Markdown reaction tables (the ones in mechanisms/README.md).
- ``fentonsim list`` — shipped mechanisms, condition presets, catalysts and metrics, with where they live.
- ``fentonsim compare [...]`` — the main job (fentonsim.compare_cli).
- ``fentonsim sweep MODEL... --ph 4:8:0.05 [...] --out FILE.nc`` — a grid of conditions (fentonsim.sweep_cli).
- ``fentonsim fit SPEC.yaml [--out DIR] [--starts N] [--seed S]`` — fit constants to measured time courses
  (fentonsim.fit_cli).

``simulate`` and ``export`` take ``--rate ID=K`` (repeatable) to replace a reaction's
rate constant, e.g. a nanoparticle's measured release constant.

User errors are printed as one line without a traceback; set
``FENTONSIM_DEBUG=1`` to see tracebacks of internal errors.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from .cli_args import (EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, add_condition_arguments, input_files,
                       n_points, number_or_quantity, ph, positive_int, seed, temperature)
from .errors import FentonsimError, MechanismError
from .validity import ValidityWarning, validity_warnings


#: Control characters (a file name with a newline or carriage return) escaped in messages, which are one line each.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7f)} | {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


_CONTROL_BUT_NEWLINE = {c: v for c, v in _CONTROL.items() if c != ord("\n")}


def one_line(message) -> str:
    """``message`` on one line: control characters in quoted names (`a\\nb.yaml`) are written escaped."""
    return str(message).translate(_CONTROL)


def error_text(exc: FentonsimError) -> str:
    """The line the CLI prints for a user error: ``fentonsim: message`` or ``file:line: message``, with control
    characters of file names and values escaped (a name with a newline or a carriage return cannot split or
    overwrite the line). A mechanism error's own text keeps its newlines: an unbalanced reaction is followed by
    its table of element counts (fentonsim.mechanism.validate)."""
    if isinstance(exc, MechanismError) and exc.path is not None:
        return one_line(exc.location_prefix()) + str(exc.message).translate(_CONTROL_BUT_NEWLINE)
    return one_line(f"fentonsim: {exc}" if not getattr(exc, "path", None) else exc)


def _file_kind(path: Path) -> str:
    from .mechanism.yamlio import read_mapping
    return str(read_mapping(path).get("kind", "mechanism"))


def cmd_validate(args) -> int:
    from .conditions import load_conditions
    from .models import is_sbml, load
    from .network import compile_network

    status = EXIT_OK
    for name in args.files:
        path = Path(name)
        try:
            if not is_sbml(path) and _file_kind(path) == "conditions":
                c = load_conditions(path)
                print(f"ok {path}: conditions `{c.name}` — pH {c.pH}, "
                      f"{len(c.initial)} initial and {len(c.buffered)} buffered concentrations")
                continue
            mechanism = load(path)
            network = compile_network(mechanism)
        except FentonsimError as exc:
            print(error_text(exc).removeprefix("fentonsim: "), file=sys.stdout)
            status = EXIT_INVALID
            continue
        for warning in mechanism.warnings:
            print(warning)
        print(f"ok {path}: mechanism `{mechanism.name}` — {len(mechanism.species)} species, "
              f"{len(mechanism.speciation)} speciation pools, {len(mechanism.reactions)} reactions "
              f"({network.n_reactions} network reactions, {network.n_species} state variables), "
              f"{len(mechanism.parameter_sets)} parameter sets, {len(mechanism.warnings)} warnings")
    return status


def _k_unit(order: float) -> str:
    from .units import format_dims, rate_constant_dims
    return format_dims(rate_constant_dims(order))


def cmd_table(args) -> int:
    from .mechanism.table import tables_markdown

    print(tables_markdown(args.files), end="")
    return EXIT_OK


def cmd_info(args) -> int:
    from .models import load
    from .network import compile_network

    mechanism = load(args.file, parameter_set=args.parameter_set)
    network = compile_network(mechanism)
    pH = mechanism.defaults.pH if args.ph is None else args.ph
    T = mechanism.defaults.temperature if args.temperature is None else args.temperature
    k = network.rate_constants(pH=pH, temperature=T)
    refs = {r.key: r.citation for r in mechanism.references}
    print(f"{mechanism.name}: {mechanism.description}".rstrip(": "))
    print(f"conditions: pH {pH:g}, T {T:.2f} K ({T - 273.15:.2f} °C)"
          + (f", parameter set `{mechanism.active_parameter_set}`" if mechanism.active_parameter_set else ""))
    print(f"sha256: {network.mechanism_sha256}")
    print("\nspecies (name, charge, composition, role)")
    groups = mechanism.group_of_form()
    for s in mechanism.species:
        role = ("buffered: " + (s.buffered if isinstance(s.buffered, str) else f"{s.buffered:.3g} M")
                if s.is_buffered else (f"form of pool {groups[s.name].pool}" if s.name in groups else "integrated"))
        comp = " ".join(f"{e}{n if n > 1 else ''}" for e, n in s.composition)
        print(f"  {s.name:<12} {s.charge:+d}  {comp:<10} {'radical ' if s.radical else ''}{role}")
    if mechanism.speciation:
        print(f"\nspeciation pools (fractions at pH {pH:g})")
        alpha = network.group_fractions(pH, T)[0]
        for gi, g in enumerate(mechanism.speciation):
            parts = ", ".join(f"{form} {alpha[gi, j]:.3g}" for j, form in enumerate(g.forms))
            pkas = ", ".join(f"{p.value:g}" for p in g.pka)
            total = f", buffered total {g.buffered_total:.3g} M" if g.buffered_total is not None else ""
            print(f"  {g.pool:<12} pKa {pkas}: {parts}{total}")
    if mechanism.compartments:
        print("\ncompartments (concentrations are per the species' own compartment)")
        for c in mechanism.compartments:
            print(f"  {c.name:<12} {c.volume:.4g} L" + (" at the start (its size varies)" if c.size else "")
                  + (f"  {c.note}" if c.note else ""))
    for t in mechanism.transports:
        how = (f"first order, k = {t.k:.4g} s^-1" if t.k is not None
               else f"passive, P·A = {t.permeability_area:.4g} L/s")
        print(f"  transport {t.id}: {t.species} -> {t.target}, {how} (reactions {', '.join(t.reactions)})")
    print("\nreactions: effective k for the state variables (r = k·Π[x]^ν), reference")
    source = {r.id: r for r in mechanism.reactions}
    for i, rid in enumerate(network.reaction_ids):
        reaction = source[network.source_reaction[i]]
        ref = reaction.ref or "(no reference)"
        print(f"  {rid:<10} {network.equations[i]:<44} k = {k[i]:.3e} {_k_unit(network.order[i]):<10}"
              f" [{refs.get(ref, ref)}]")
    if mechanism.parameter_sets:
        print("\nparameter sets: " + ", ".join(p.name for p in mechanism.parameter_sets))
    return EXIT_OK


def cmd_simulate(args) -> int:
    from .simulate import simulate
    from .tables import check_output, write_csv

    check_output(args.out, inputs=input_files(args.model, args.conditions), overwrite=args.overwrite)
    initial = dict(args.initial or [])
    with warnings.catch_warnings():
        # Printed below from the result, one line each, even with --quiet: never extrapolate silently.
        warnings.simplefilter("ignore", ValidityWarning)
        dataset = simulate(args.model, args.method, t_end=number_or_quantity(args.t_end), n_points=args.n_points,
                           conditions=args.conditions, ph=args.ph, temperature=args.temperature, initial=initial,
                           parameter_set=args.parameter_set, rates=dict(args.rate or []), runs=args.runs,
                           seed=args.seed,
                           volume=None if args.volume is None else number_or_quantity(args.volume),
                           stats=args.stats,
                           progress=None if args.method == "ode" else False if args.quiet else None)
    path = write_csv(dataset, args.out)
    for line in validity_warnings(dataset):
        print(f"warning: {line}")
    attrs = dataset.attrs
    if attrs["method"] == "ode":
        detail = f"{attrs['solver']}, {attrs['n_steps']} steps"
    else:
        # Several compartments count molecules in their own volumes (the result's compartment_volume).
        volume = (f"V = {attrs['volume_L']:g} L" if "compartment" not in dataset.coords else
                  "V = " + ", ".join(f"{v:g} L ({c})" for c, v in dict(zip(
                      dataset.compartment.values, dataset.compartment_volume.values)).items() if c))
        detail = (f"{attrs['algorithm']}, {attrs['runs']} run(s), {attrs['n_events']:,} events, {volume}"
                  + (f", {attrs['n_incomplete']} incomplete" if attrs['n_incomplete'] else ""))
    if not args.quiet:
        conditions = f"pH {attrs['pH']:g}, " if attrs.get("ph_dependent", 1) else ""
        print(f"wrote {path} ({attrs['mechanism']}, {conditions}{attrs['method']}: {detail}; "
              f"{attrs['wall_time_s']:.3g} s)")
    return EXIT_OK


def cmd_export(args) -> int:
    from .sbml.export import export_model
    from .tables import atomic_output, check_output

    check_output(args.sbml, inputs=input_files(args.mechanism, args.conditions), overwrite=args.overwrite)
    text = export_model(args.mechanism, conditions=args.conditions, ph=args.ph, temperature=args.temperature,
                        volume=None if args.volume is None else number_or_quantity(args.volume),
                        initial=dict(args.initial or []), parameter_set=args.parameter_set,
                        rates=dict(args.rate or []), amounts=args.amounts)
    with atomic_output(args.sbml) as fh:
        fh.write(text)
    print(f"wrote {args.sbml} (SBML Level 3 Version 2"
          + (", molecule counts and propensities" if args.amounts else "") + ")")
    return EXIT_OK


def cmd_list(args) -> int:
    from .catalysts import BUILT_IN
    from .conditions import load_conditions
    from .data import mechanism_directory, preset_directory, shipped_mechanisms, shipped_presets
    from .metrics import DESCRIPTIONS
    from .models import load

    print(f"mechanisms ({mechanism_directory()}):")
    for name in shipped_mechanisms():
        mechanism = load(name)
        print(f"  {name:12s} {len(mechanism.reactions):3d} reactions, parameter sets: "
              f"{', '.join(p.name for p in mechanism.parameter_sets) or 'none'}")
    print(f"condition presets ({preset_directory()}):")
    for name in shipped_presets():
        preset = load_conditions(preset_directory() / f"{name}.yaml")
        print(f"  {name:12s} pH {preset.pH:g}" + (f"; O2: {preset.oxygen}" if preset.oxygen else ""))
    print("catalysts (fentonsim compare --catalyst NAME):")
    for name, catalyst in BUILT_IN.items():
        files = " + ".join(Path(f).stem for f in catalyst.files)
        print(f"  {name:12s} {catalyst.display} into {catalyst.species}, from {files}; other oxidant: "
              f"`{catalyst.alternative}`")
    print("metrics (fentonsim compare --metric NAME):")
    for name, (unit, long_name) in DESCRIPTIONS.items():
        print(f"  {name:16s} [{unit}] {long_name}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fentonsim", description="Fenton chemistry simulator.")
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="check mechanism and condition files")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(run=cmd_validate)
    info = sub.add_parser("info", help="show species, pools and reactions with effective rate constants")
    info.add_argument("file", metavar="FILE")
    info.add_argument("--ph", type=ph, help="pH (default: the mechanism default)")
    info.add_argument("--temperature", type=temperature,
                      help="temperature, e.g. 310.15, '310 K' or '37 °C' (default: the mechanism default)")
    info.add_argument("--parameter-set", help="apply a named alternative parameter set")
    info.set_defaults(run=cmd_info)
    table = sub.add_parser("table", help="print the Markdown reaction table of mechanism files",
                           description="Print, per file, a Markdown table of the reactions it defines (equation, "
                                       "k with units, Ea, where measured, source, evidence): the tables of "
                                       "mechanisms/README.md are this output.")
    table.add_argument("files", nargs="+", metavar="FILE")
    table.set_defaults(run=cmd_table)
    listing = sub.add_parser("list", help="list the shipped mechanisms, condition presets, catalysts and metrics",
                             description="What ships with fentonsim and can be named instead of a path: "
                                         "mechanisms (`simulate iron`, `include: iron`), condition presets "
                                         "(`--conditions tme`), compare's catalysts and the metrics.")
    listing.set_defaults(run=cmd_list)
    simulate = sub.add_parser(
        "simulate", help="simulate a model and write a CSV table",
        description="Simulate MODEL and write concentrations [M] against time [s] as CSV: `time,<species>` for "
                    "an ODE or a single run, `time,<species>_mean,<species>_sd` with --stats, "
                    "`run,time,<species>` for several runs.")
    simulate.add_argument("model", metavar="MODEL", help="mechanism file (.yaml) or SBML model (.xml)")
    simulate.add_argument("--method", choices=("ode", "ssa", "tau-leap", "auto"), default="ode")
    simulate.add_argument("--runs", type=positive_int, help="stochastic trajectories (default 1; stochastic methods)")
    simulate.add_argument("--seed", type=seed, help="random seed (default 0; stochastic methods)")
    simulate.add_argument("--t-end", default="3600", help="end time in s, or a quantity such as '10 min' (default 3600)")
    simulate.add_argument("--n-points", type=n_points, default=201, help="output times (default 201)")
    add_condition_arguments(simulate, "volume")
    simulate.add_argument("--stats", action="store_true", default=None,
                          help="write ensemble mean and sd instead of runs (stochastic methods)")
    simulate.add_argument("--quiet", action="store_true", help="no summary line or progress bar")
    simulate.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV file")
    simulate.add_argument("--overwrite", action="store_true",
                          help="replace an existing --out file that fentonsim did not write")
    simulate.set_defaults(run=cmd_simulate)
    from .compare_cli import add_compare_parser
    from .fit_cli import add_fit_parser
    from .sensitivity_cli import add_sensitivity_parser
    from .sweep_cli import add_sweep_parser
    add_compare_parser(sub)
    add_sweep_parser(sub)
    add_sensitivity_parser(sub)
    add_fit_parser(sub)
    export = sub.add_parser(
        "export", help="write a mechanism at given conditions as SBML",
        description="Write MECH as SBML Level 3 Version 2 at the given conditions: effective rate constants "
                    "(speciation and temperature folded in) as parameters, initial concentrations from the "
                    "preset and --initial, references as annotations.")
    export.add_argument("mechanism", metavar="MECH", help="mechanism file")
    export.add_argument("--sbml", required=True, metavar="OUT.xml", help="output SBML file")
    export.add_argument("--overwrite", action="store_true",
                        help="replace an existing --sbml file that fentonsim did not write")
    add_condition_arguments(export, "compartment volume")
    export.add_argument("--amounts", action="store_true",
                        help="write molecule counts and propensities (for stochastic simulators)")
    export.set_defaults(run=cmd_export)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except FentonsimError as exc:
        print(error_text(exc), file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        # Outputs are written atomically (fentonsim.tables), so a stop leaves no partial file to mention.
        print("fentonsim: interrupted; no output written by the unfinished step", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug in fentonsim, not bad input
        if os.environ.get("FENTONSIM_DEBUG"):
            raise
        print(f"fentonsim: internal error: {type(exc).__name__}: {exc} "
              "(set FENTONSIM_DEBUG=1 for a traceback and please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
