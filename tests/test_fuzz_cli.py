"""Fuzzing the command line (issue 23): every subcommand's flags from a grammar, and a sweep killed with SIGKILL.

The grammar (``GRAMMAR``) gives, per subcommand, its positionals and flags, each with a strategy of *valid*
values (cheap runs: small ``--t-end``/``--n-points``, one or two catalysts, grids of a few points) and of
*hostile* ones (``HOSTILE``: empty, blank, negative, zero, nan, ±inf, 1e400, huge integers, wrong units such as
"5 kg", a bare number where a unit is needed, garbage and unicode text, unknown names, a directory, /dev/null, a
missing file, an input of the run, a foreign file; plus per-flag ones). An example gives each flag one of: omitted,
a valid value, a hostile value, or the flag twice. Runs are in process (``fentonsim.cli.main``), each in a fresh
temporary working directory, so numba's compiled kernels stay warm.

Properties (issue 23): exit code 0, 1 or 2 (never 70, never an exception); no "Traceback" and no "internal
error"; an exit-1 error is one line; a refused run leaves no output and no temporary file and changes no
existing file; a run that exits 0 wrote its outputs; valid values are never refused; and an error caused by a
single bad argument names it (or the value found).

Inputs that were bugs when the suite found them stay pinned by test_former_bugs_are_handled.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MECHANISMS, REPO
from fentonsim.cli import main

IRON = str(MECHANISMS / "iron.yaml")
PRESET = str(MECHANISMS / "conditions" / "tme.yaml")
TMP = "{tmp}"  # replaced by the example's working directory

#: Hostile values for any flag (paths relative to the example's directory where it matters).
HOSTILE = st.sampled_from([
    "", " ", "-1", "0", "-0", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1e-400", "99999999999999999999",
    str(2 ** 64), str(2 ** 63), "5 kg", "3 furlongs", "7 M s", "garbage", "ünïcødé ☢ 𝛑", "1,2,,3", "::", "=", "=1",
    "--", "0x1F", "1_000", "½", TMP, "/dev/null", f"{TMP}/missing.yaml", "/", "con", "\t",
]) | st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)
HOSTILE_FILES = st.sampled_from(["", TMP, "/dev/null", f"{TMP}/missing.yaml", f"{TMP}/foreign.csv",
                                 f"{TMP}/empty.yaml", f"{TMP}/garbage.yaml", "nope", "ünï"]) | HOSTILE

#: Bugs of files this suite may not change (fentonsim/sweep.py, sweep_cli.py, compare_cli.py, compare.py,
#: problem.py): the value classes are left out of the grammar below and each is an xfail(strict=True) test.
def fmt(x: float) -> str:
    return repr(float(x))


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(fmt)


def _without(strategy, *bad):
    return strategy.filter(lambda v: v not in bad)


# ---------------------------------------------------------------------------------------------------- grammar
T_END = st.sampled_from(["10", "5 s", "0.2 min", "1e-3 h", "2.5"]) | floats(0.5, 30)
T_END_BAD = st.sampled_from(["5 M", "-5 s", "0 s", "-0", "10 kg", "1e400 s", "nan s"])
N_POINTS = st.integers(2, 5).map(str)
N_POINTS_BAD = st.sampled_from(["1", "0", "-3", "2.5", "1e3", "two", "10000001"])
PH = floats(0, 14) | st.sampled_from(["0", "14", "7"])
PH_BAD = st.sampled_from(["15", "-0.5", "14.0001", "7 M", "7,8"])
TEMPERATURE = (st.sampled_from(["37 °C", "25 degC", "310.15", "300 K", "-100 °C", "150 K"])
               | st.floats(273.15, 373.15).map(lambda t: f"{t:.2f} K"))
TEMPERATURE_BAD = st.sampled_from(["37", "0 K", "-300 °C", "-1 K", "300 s", "1e400 K", "37 F"])
#: Small enough for an SSA run in 1e-18 L (values written with a unit beyond 10 M: the sweep grammar and
#: test_values_written_with_their_unit_are_not_bare).
CONC = (st.floats(0, 500).map(lambda x: f"{x:.3g} uM") | st.sampled_from(["0", "1e-4", "0.1 mM", "50 nM"]))
CONC_BAD = st.sampled_from(["50", "-1 uM", "1 s", "nan M", "1e400 M", "5 kg"])
SPECIES = st.sampled_from(["H2O2", "Fe+2", "O2"])
INITIAL = st.builds(lambda s, c: f"{s}={c}", SPECIES, CONC)
INITIAL_BAD = (st.sampled_from(["Xx=1 uM", "H2O2=", "=1 uM", "H2O2", "H2O2=-1 uM", "H2O2=nan", "H2O2=5 kg",
                                "H2O2=50", "H2O2=1 s", "hydroxyl radical=1 uM"])
               | st.builds(lambda s, c: f"{s}={c}", SPECIES, HOSTILE))
RATE = st.sampled_from(["F1=63", "F1=70 M^-1 s^-1", "F1=0", "F1=1e3"])
RATE_BAD = (st.sampled_from(["NOPE=1", "F1=-1", "F1=nan", "F1=5 kg", "F1", "F1=1 s", "F1=1e400", "=5"])
            | HOSTILE.map(lambda v: f"F1={v}"))
IRON_SETS = st.sampled_from(["Walling-1975", "DeLaat-Gallard-1999", "ferryl-neutral"])
CONDITIONS = st.sampled_from(["tme", "normal", "lysosome", PRESET])
VOLUME = st.sampled_from(["0.001 fL", "0.01 fL", "1e-18", "2e-18 L"])
VOLUME_BAD = st.sampled_from(["0", "-1 L", "5 M", "1e400 L", "0 fL"])
MODEL = st.sampled_from([IRON, "iron", f"{TMP}/model.yaml"])
OUT_BAD = st.sampled_from(["", TMP, "/dev/null", f"{TMP}/nodir/x.out", f"{TMP}/model.yaml", f"{TMP}/foreign.csv",
                           "/proc/version", "/"])
SEED = st.integers(0, 2 ** 64 - 1).map(str)
SEED = st.integers(0, 2 ** 64 - 1).map(str)
SEED_BAD = st.sampled_from(["-1", str(2 ** 64), "1.5", "x"])
FLAG = st.just(None)  # a store_true flag: present or not


class Flag:
    """A flag of the grammar: its valid and hostile values (None for a flag without value)."""

    def __init__(self, name, valid, hostile=None, *, generic=True):
        self.name, self.valid = name, valid
        self.hostile = None if valid is FLAG else (hostile if hostile is not None else st.nothing())
        if generic and valid is not FLAG:
            self.hostile = self.hostile | HOSTILE

    def tokens(self, value):
        if value is None:
            return [self.name]
        if isinstance(value, list):
            return [self.name, *value]
        return [self.name, value]


def _conditions_list():
    return st.lists(CONDITIONS, min_size=1, max_size=2)


GRAMMAR = {
    "simulate": dict(
        positional=[(MODEL, HOSTILE_FILES)],
        flags=[Flag("--t-end", T_END, T_END_BAD), Flag("--n-points", N_POINTS, N_POINTS_BAD),
               Flag("--ph", PH, PH_BAD), Flag("--temperature", TEMPERATURE, TEMPERATURE_BAD),
               Flag("--volume", VOLUME, VOLUME_BAD), Flag("--conditions", CONDITIONS, HOSTILE_FILES),
               Flag("--initial", INITIAL, INITIAL_BAD), Flag("--parameter-set", IRON_SETS, st.just("nope")),
               Flag("--rate", RATE, RATE_BAD), Flag("--method", st.just("ode"), st.just("bogus")),
               Flag("--runs", st.integers(1, 3).map(str), st.sampled_from(["0", "-2", "x"])),
               Flag("--seed", SEED, SEED_BAD), Flag("--stats", FLAG), Flag("--quiet", FLAG),
               Flag("--overwrite", FLAG), Flag("--out", st.just(f"{TMP}/out.csv"), OUT_BAD)],
        required=("--out", "--t-end"), outputs=("--out",)),
    "export": dict(
        positional=[(MODEL, HOSTILE_FILES)],
        flags=[Flag("--sbml", st.just(f"{TMP}/out.xml"), OUT_BAD), Flag("--overwrite", FLAG),
               Flag("--volume", VOLUME, VOLUME_BAD), Flag("--ph", PH, PH_BAD),
               Flag("--temperature", TEMPERATURE, TEMPERATURE_BAD),
               Flag("--conditions", CONDITIONS, HOSTILE_FILES), Flag("--initial", INITIAL, INITIAL_BAD),
               Flag("--parameter-set", IRON_SETS, st.just("nope")), Flag("--rate", RATE, RATE_BAD),
               Flag("--amounts", FLAG)],
        required=("--sbml",), outputs=("--sbml",)),
    "fit": dict(
        positional=[(st.just(f"{TMP}/fit/spec.yaml"),
                     HOSTILE_FILES | st.sampled_from([f"{TMP}/model.yaml", f"{TMP}/fit/pH3.csv"]))],
        flags=[Flag("--out", st.just(f"{TMP}/fitted"), OUT_BAD),
               Flag("--starts", st.sampled_from(["1", "2"]), st.sampled_from(["0", "-1", "x", "1.5"])),
               Flag("--seed", SEED, SEED_BAD),
               Flag("--profile", st.sampled_from(["F1", "rate:F5"]), st.sampled_from(["nope", "F99", "rate:"])),
               Flag("--name", st.sampled_from(["fit", "mine"]), st.sampled_from(["", "a:b", "x{y}"])),
               Flag("--quiet", FLAG)],
        required=("--out",), outputs=("--out",)),
    "sensitivity": dict(
        positional=[(MODEL, HOSTILE_FILES)],
        flags=[Flag("--target", st.sampled_from(["oh_produced", "H2O2", "Fe+2", "peroxide"]),
                    st.sampled_from(["nope", "H2O2x", "oh"])),
               Flag("--t-end", T_END, T_END_BAD), Flag("--top", st.integers(1, 40).map(str),
                                                       st.sampled_from(["0", "-1", "x", "1.5"])),
               Flag("--ph", PH, PH_BAD), Flag("--temperature", TEMPERATURE, TEMPERATURE_BAD),
               Flag("--conditions", CONDITIONS, HOSTILE_FILES), Flag("--initial", INITIAL, INITIAL_BAD),
               Flag("--parameter-set", IRON_SETS, st.just("nope")), Flag("--rate", RATE, RATE_BAD),
               Flag("--quiet", FLAG), Flag("--overwrite", FLAG),
               Flag("--out", st.just(f"{TMP}/sens.csv"), OUT_BAD),
               Flag("--plot", st.sampled_from([f"{TMP}/sens.png", f"{TMP}/sens.svg"]),
                    OUT_BAD | st.sampled_from([f"{TMP}/sens.bmp", f"{TMP}/sens", f"{TMP}/sens.csv"])),
               # The global mode's flags; the ones it alone takes get --global added in _sensitivity_extras.
               Flag("--global", st.sampled_from(["morris", "sobol"]), st.sampled_from(["fast", "Morris", "none"])),
               Flag("--samples", st.sampled_from(["8", "16"]), st.sampled_from(["0", "-1", "3", "1.5", "x", "12"])),
               Flag("--seed", SEED, SEED_BAD), Flag("--include-factors", FLAG)],
        required=("--t-end",), outputs=("--out", "--plot")),
    "info": dict(
        positional=[(MODEL, HOSTILE_FILES)],
        flags=[Flag("--ph", PH, PH_BAD), Flag("--temperature", TEMPERATURE, TEMPERATURE_BAD),
               Flag("--parameter-set", IRON_SETS, st.just("nope"))],
        required=(), outputs=()),
    "validate": dict(positional=[(st.sampled_from([IRON, PRESET, f"{TMP}/model.yaml"]), HOSTILE_FILES)] * 2,
                     flags=[], required=(), outputs=()),
    "table": dict(positional=[(st.sampled_from([IRON, f"{TMP}/model.yaml"]), HOSTILE_FILES)] * 2,
                  flags=[], required=(), outputs=()),
    "list": dict(positional=[], flags=[], required=(), outputs=()),
    "sweep": dict(
        positional=[(st.sampled_from(["iron", f"{IRON}:Fe+2"]), HOSTILE_FILES | st.just("iron:Xx"))],
        flags=[Flag("--ph", st.sampled_from(["6,7", "6:7:0.5", "7.4", "4:8:2"]),
                    st.sampled_from(["15", "6:7:0", "7:6:1", "nan:7:1", "6:inf:1", "4:8:1e-9", "1:2", ",,"])),
               Flag("--temperature", st.sampled_from(["298.15,310.15", "37 °C", "300 K", "150 K"]),
                    st.sampled_from(["37", "0", "5 kg", "300 s"])),
               Flag("--h2o2", st.sampled_from(["1e-5,1e-4", "10 uM,100 uM", "50 uM", "11 M"]), CONC_BAD),
               Flag("--gsh", st.sampled_from(["0,1e-3", "1 mM", "0"]), CONC_BAD),
               Flag("--grid", st.sampled_from(["GSH=0,1 mM", "rate:F1=50,70", "rate:F1=50,70 M^-1 s^-1", "buffered:HCO3-=0,25 mM",
                                               "rate:F1=50 M^-1 s^-1"]),
                    st.sampled_from(["Xx=1,2", "rate:NOPE=1", "rate:F1=-1", "buffered:Xx=1e-3", "model=1",
                                     "volume=1e-15", "GSH", "=1", "GSH=", "parameter_set=nope"])),
               Flag("--conditions", CONDITIONS, HOSTILE_FILES),
               Flag("--dose", st.sampled_from(["20 uM", "5e-6", "1 mM", "11 M"]), CONC_BAD | st.just("0")),
               Flag("--method", st.just("ode"), st.just("bogus")),
               Flag("--runs", st.integers(1, 3).map(str), st.sampled_from(["x", "1.5"])),
               Flag("--seed", SEED, st.sampled_from(["-1", "x", "1.5", str(2 ** 64)]), generic=False),
               Flag("--t-end", T_END, T_END_BAD),
               Flag("--n-points", N_POINTS, N_POINTS_BAD | HOSTILE,
                    generic=False),
               Flag("--full", FLAG),
               Flag("--backend", st.just("batch"), st.just("bogus")),
               Flag("--workers", st.integers(1, 2).map(str), st.sampled_from(["x", "1.5", "0", "-1"])),
               Flag("--chunk-size", st.integers(1, 4).map(str), st.sampled_from(["0", "-1", "x"])),
               Flag("--store", st.just(f"{TMP}/store"), st.sampled_from(["/dev/null", f"{TMP}/model.yaml",
                                                                         f"{TMP}/foreign.csv", "/proc/version"])),
               Flag("--no-progress", FLAG), Flag("--overwrite", FLAG),
               Flag("--out", st.just(f"{TMP}/out.nc"), OUT_BAD)],
        required=("--out", "--t-end", "--n-points"), outputs=("--out",), axes=("--ph", "--temperature", "--h2o2",
                                                                               "--gsh", "--grid")),
    "compare": dict(
        positional=[],
        flags=[Flag("--catalyst", st.just("iron"), st.sampled_from(["nope", "", "/dev/null:Fe+2", f"{TMP}:Fe+2",
                                                                     "iron.yaml", f"{IRON}:Xx"])),
               Flag("--dose", st.sampled_from(["20 uM", "5e-6"]), CONC_BAD | st.just("0")),
               Flag("--conditions", _conditions_list(), st.sampled_from([["nope"], ["/dev/null"], [TMP]]),
                    generic=False),
               Flag("--lysosome", FLAG),
               Flag("--gsh", st.sampled_from(["0", "1 mM", "5e-3"]), CONC_BAD),
               Flag("--h2o2", st.sampled_from(["100 uM", "1e-4"]), CONC_BAD),
               Flag("--probe", st.sampled_from(["TA-2=0.5 mM", "DMPO=10 mM"]),
                    st.sampled_from(["Xx=1 mM", "TA-2=-1 mM", "TA-2=nan", "TA-2=5 kg", "TA-2", "=1"])),
               Flag("--metric", st.sampled_from(["oh_produced", "oh_exposure", "oh_per_metal", "t_half_h2o2"]),
                    st.sampled_from(["nope", "probe_xyz", "probe_"])),
               Flag("--t-end", T_END, T_END_BAD),
               Flag("--n-points", N_POINTS, N_POINTS_BAD | HOSTILE,
                    generic=False),
               Flag("--temperature", TEMPERATURE.filter(lambda t: t not in ("-100 °C", "150 K")),
                    TEMPERATURE_BAD),
               Flag("--parameter-set", IRON_SETS, st.just("nope")),
               Flag("--uncertainty", st.sampled_from(["0", "2"]), st.sampled_from(["-1", "1", "x"]),
                    generic=False),
               Flag("--no-decomposition", FLAG),
               Flag("--sensitivity", FLAG),
               Flag("--seed", st.integers(0, 2 ** 32).map(str), st.sampled_from(["x", "1.5"])),
               Flag("--rate", RATE, RATE_BAD),
               Flag("--out", st.just(f"{TMP}/cmp"), st.sampled_from(["/dev/null", f"{TMP}/model.yaml",
                                                                     f"{TMP}/nodir/sub", "/proc/version"])),
               Flag("--format", st.sampled_from([["png"], ["svg"]]), st.sampled_from([["bmp"], [""]]),
                    generic=False),
               Flag("--quiet", FLAG)],
        required=("--out", "--t-end", "--n-points", "--uncertainty"), outputs=("--out",)),
}
# compare's --ph, --stochastic, --runs and --volume depend on the other flags: drawn in _compare_extras.


def _prepare(directory: Path) -> None:
    """What the hostile paths refer to: a copy of the mechanism, a foreign CSV, an empty and a garbage YAML."""
    shutil.copy(IRON, directory / "model.yaml")
    (directory / "foreign.csv").write_text("chapter,pages\n1,20\n")
    (directory / "empty.yaml").write_text("")
    (directory / "garbage.yaml").write_text("kind: mechanism\nspecies: [\n  - {name: :\n")
    shutil.copytree(MECHANISMS.parent / "examples" / "fit", directory / "fit")


def _snapshot(directory: Path) -> dict:
    return {str(p.relative_to(directory)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(directory.rglob("*"))}


STORE_FILES = ("manifest.json", "result.nc")


def _store_file(name: str) -> bool:
    parts = Path(name).parts
    return (parts and parts[0] == "store") or Path(name).name in STORE_FILES or Path(name).name.startswith("chunk-")


@st.composite
def invocations(draw, command, mode):
    """argv for ``command``: mode "mixed" (each flag omitted, valid, hostile or repeated), "valid", or "one-bad"
    (all valid but exactly one hostile argument). Returns (argv with {tmp}, the hostile (flag, value) or None)."""
    grammar = GRAMMAR[command]
    flags = grammar["flags"]
    argv = [command]
    slots = [("positional", i) for i in range(len(grammar["positional"]))] + [("flag", f) for f in flags]
    bad_slot = None
    if mode == "one-bad":
        candidates = [s for s in slots if s[0] == "positional" or s[1].hostile is not None]
        if not candidates:
            return argv, None
        bad_slot = draw(st.sampled_from(candidates))
    bad = None
    positionals = []
    for kind, item in slots:
        if kind != "positional":
            continue
        valid, hostile = grammar["positional"][item]
        if mode == "mixed":
            value = draw(st.one_of(valid, hostile))
        elif bad_slot == (kind, item):
            value = draw(hostile)
            bad = ("MODEL", value)
        else:
            value = draw(valid)
        positionals.append(value)
    tokens = []
    chosen = {}
    for flag in flags:
        required = flag.name in grammar["required"]
        if mode == "mixed":
            # About one flag in eight hostile, so that runs get past argparse to the deeper checks too.
            choice = draw(st.sampled_from(["valid"] * 4 + ["hostile", "repeat"] + ([] if required else ["omit"] * 3))
                          if flag.hostile is not None else st.sampled_from(["omit", "valid"]))
        elif bad_slot == ("flag", flag):
            choice = "hostile"
        elif mode == "one-bad" and flag.name in STOCHASTIC_ONLY.get(command, ()):
            choice = "omit"  # a hostile --t-end or --initial must not meet an SSA run that takes ages
        else:
            choice = "valid" if required or (flag.valid is not FLAG and draw(st.booleans())) else (
                "valid" if flag.valid is FLAG and draw(st.booleans()) else "omit")
        if choice == "omit":
            continue
        if choice == "repeat":
            values = [draw(st.one_of(flag.valid, flag.hostile)), draw(st.one_of(flag.valid, flag.hostile))]
        else:
            values = [draw(flag.valid if choice == "valid" else flag.hostile)]
        if choice == "hostile" and mode == "one-bad":
            bad = (flag.name, values[0])
        for value in values:
            chosen[flag.name] = value
            if value is not None and not isinstance(value, list) and draw(st.booleans()):
                tokens.append(f"{flag.name}={value}")  # the --flag=value form (a value may start with "-")
            else:
                tokens += flag.tokens(value)
    if command == "sweep" and mode != "mixed" and not any(a in chosen for a in grammar["axes"]):
        tokens += ["--ph", "6,7"]
    if command == "simulate" and mode != "mixed":
        tokens += _simulate_method(draw, chosen, bad)
    if command == "compare":
        tokens += _compare_extras(draw, chosen, mode, bad)
    if command == "sensitivity":
        tokens += _sensitivity_extras(draw, chosen, mode, bad)
    argv += (positionals + tokens) if draw(st.booleans()) else (tokens + positionals)  # either order
    return argv, bad


STOCHASTIC_ONLY = {"simulate": ("--runs", "--seed", "--stats")}


def _simulate_method(draw, chosen, bad):
    """A valid simulate run with --runs, --seed or --stats is stochastic (they are refused with the ODE)."""
    stochastic = any(f in chosen for f in ("--runs", "--seed", "--stats")) or draw(st.integers(0, 4)) == 0
    if not stochastic or bad is not None:  # one-bad runs stay ODE (see STOCHASTIC_ONLY)
        return []
    extra = ["--method", draw(st.sampled_from(["ssa", "tau-leap", "auto"]))]
    if "--volume" not in chosen:
        extra += ["--volume", draw(VOLUME)]
    if "--stats" in chosen and "--runs" not in chosen:
        extra += ["--runs", "2"]
    return extra


GLOBAL_ONLY = ("--samples", "--seed", "--include-factors")


def _sensitivity_extras(draw, chosen, mode, bad):
    """sensitivity's coupled flags: --samples, --seed and --include-factors need --global, which analyses a
    metric (a species --target is refused with it). Valid and one-bad runs stay valid apart from their bad value."""
    if mode == "mixed":
        return []
    bad_flag = (bad or ("",))[0]
    extra = []
    if any(f in chosen for f in GLOBAL_ONLY) and "--global" not in chosen:
        extra += ["--global", draw(st.sampled_from(["morris", "sobol"]))]
    if ("--global" in chosen or extra) and chosen.get("--target", "oh_produced") != "oh_produced" \
            and bad_flag != "--target":
        extra += ["--target", "oh_produced"]  # argparse keeps the last
    return extra


def _compare_extras(draw, chosen, mode, bad):
    """compare's coupled flags: --ph gives one pH per condition; --runs/--volume need --stochastic, which
    refuses a non-default --uncertainty."""
    n_conditions = len(chosen.get("--conditions") or ["tme", "normal"]) + ("--lysosome" in chosen)
    extra = []
    if mode == "mixed":
        if draw(st.booleans()):
            extra += ["--ph", *draw(st.lists(st.one_of(PH, PH_BAD, HOSTILE.filter(lambda v: not v.startswith("-"))),
                                             min_size=1, max_size=3))]
        if draw(st.integers(0, 3)) == 0:
            extra += ["--stochastic"] + draw(st.sampled_from([[], ["--runs", "2"], ["--runs", "1"],
                                                              ["--volume", "0.01 fL"], ["--volume", "5 kg"]]))
        return extra
    if draw(st.booleans()):
        extra += ["--ph", *[draw(PH) for _ in range(n_conditions)]]
    if draw(st.integers(0, 4)) == 0 and "--uncertainty" not in (bad or ("",))[0]:
        extra += ["--stochastic", "--runs", "2", "--volume", draw(st.sampled_from(["0.01 fL", "0.005 fL"]))]
        extra += ["--uncertainty", "0"]  # argparse keeps the last: stochastic compares have no LHS bands
    return extra


# --------------------------------------------------------------------------------------------------- harness
def run_cli(argv, capsys):
    """Run ``argv`` in process; returns (exit code, stdout, stderr). An escaping exception is a failure."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@contextlib.contextmanager
def example_directory():
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as name:
        directory = Path(name).resolve()
        _prepare(directory)
        os.chdir(directory)
        try:
            yield directory
        finally:
            os.chdir(old)


def _substitute(argv, directory):
    return [a.replace(TMP, str(directory)) for a in argv]


def _output_paths(argv, command):
    """The --out/--sbml targets of argv (the last one given wins, as argparse does)."""
    outputs = {}
    names = GRAMMAR[command]["outputs"]
    for i, token in enumerate(argv):
        for name in names:
            if token == name and i + 1 < len(argv):
                outputs[name] = argv[i + 1]
            elif token.startswith(name + "="):
                outputs[name] = token[len(name) + 1:]
    return outputs


def check_properties(command, argv, code, out, err, directory, before):
    """The issue-23 properties of one run (see the module docstring)."""
    assert code in (0, 1, 2), f"exit {code} for {argv}: {err}"
    for text in (out, err):
        assert "Traceback" not in text and "internal error" not in text, f"{argv}:\n{err}"
    if code == 1 and command != "validate":  # validate reports each file on stdout, one line each
        lines = err.strip().split("\n")  # what a terminal breaks on (str.splitlines also splits at \x1e, \x85)
        assert len(lines) == 1, f"{argv}: error of {len(lines)} lines:\n{err}"
    if code == 2:
        assert "error:" in err.strip().split("\n")[-1], err
    after = _snapshot(directory)
    outputs = _output_paths(argv, command)
    written = {str(Path(t).resolve()) for t in outputs.values()} if code == 0 else set()
    changed = [name for name, digest in before.items()
               if after.get(name) != digest and str(directory / name) not in written]
    assert not changed, f"{argv} (exit {code}) changed or removed {changed}"
    new = [name for name in after if name not in before]
    assert not [n for n in new if n.endswith(".tmp")], f"{argv} left temporary files {new}"
    if code != 0:
        unexpected = [n for n in new if not _store_file(n)]
        assert not unexpected, f"{argv} failed (exit {code}) but created {unexpected}"
    else:
        for name, target in outputs.items():
            path = Path(target)
            assert path.exists(), f"{argv} exited 0 without writing {name} {target}"
            if command == "compare":
                assert any(path.glob("compare.csv")), f"{argv}: no compare.csv in {target}"
            elif command == "fit":
                assert (path / "estimates.csv").is_file(), f"{argv}: no estimates.csv in {target}"
            else:
                assert path.is_file() and path.stat().st_size > 0


def _normalise(text):
    return "".join(c for c in text.lower() if c.isalnum())


def names_the_argument(message, flag, value):
    """Whether the error names the flag (`--t-end`, `t_end`, …) or quotes what was found."""
    text = _normalise(message)
    keys = {_normalise(flag)} if flag != "MODEL" else {"model", "file", "mech", "catalyst"}
    keys |= {_normalise(flag.replace("set", ""))} if flag == "--parameter-set" else set()
    pieces = [value] if isinstance(value, str) else list(value or [])
    for piece in pieces:
        keys.add(_normalise(piece))
        for part in piece.replace(":", "=").replace(",", "=").split("="):
            if len(_normalise(part)) >= 2:
                keys.add(_normalise(part))
    keys.discard("")
    return any(k in text for k in keys)


def fuzz(command, mode, max_examples):
    """A hypothesis test of ``command`` in ``mode`` (see invocations)."""
    @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.filter_too_much])
    @given(data=invocations(command, mode))
    def run(capsys, data):
        template, bad = data
        with example_directory() as directory:
            argv = _substitute(template, directory)
            bad = bad and (bad[0], _substitute([bad[1]], directory)[0] if isinstance(bad[1], str) else bad[1])
            before = _snapshot(directory)
            code, out, err = run_cli(argv, capsys)
            check_properties(command, argv, code, out, err, directory, before)
            if mode == "valid":
                assert code == 0, f"valid input refused (false rejection): {argv}\n{err or out}"
            if mode == "one-bad" and code != 0 and bad is not None:
                message = err.strip().split("\n")[-1] if err.strip() else out
                assert names_the_argument(message, *bad), (
                    f"the error for {bad[0]} = {bad[1]!r} names neither the argument nor the value: {message}")
    return run


# ----------------------------------------------------------------------------------------------------- tests
CHEAP = ["simulate", "export", "info", "validate", "table"]


@pytest.mark.parametrize("command, n", [("simulate", 80), ("export", 50), ("info", 30), ("validate", 20),
                                        ("table", 15), ("list", 3), ("sensitivity", 30)])
def test_hostile_flags_of_cheap_commands_are_clean_errors(command, n, capsys):
    """Property: any mix of omitted, valid, hostile and repeated flags exits 0, 1 or 2 with no traceback and no
    internal error, a one-line error for exit 1, no output or temporary file left by a refused run (and no
    existing file changed), and the outputs present after exit 0."""
    fuzz(command, "mixed", n)(capsys)


@pytest.mark.parametrize("command, n", [("simulate", 60), ("export", 40), ("info", 25), ("validate", 15),
                                        ("table", 10), ("sensitivity", 20)])
def test_one_bad_argument_is_named(command, n, capsys):
    """Property: valid flags plus exactly one hostile argument give a clean error (as above) that names the
    argument or quotes the value found — or are accepted, when the hostile value happens to be valid."""
    fuzz(command, "one-bad", n)(capsys)


@pytest.mark.parametrize("command, n", [("simulate", 25), ("export", 15), ("info", 12), ("validate", 8),
                                        ("table", 5), ("list", 1), ("sensitivity", 10)])
def test_valid_arguments_are_never_refused(command, n, capsys):
    """Property: generated valid values only (units of any scale, °C, presets and files, parameter sets, rate
    overrides, stochastic methods with a small volume) exit 0 and write their outputs: no false rejection."""
    fuzz(command, "valid", n)(capsys)


@pytest.mark.slow
@pytest.mark.parametrize("mode, n", [("mixed", 15), ("one-bad", 10), ("valid", 4)])
def test_fit_flags(mode, n, capsys):
    """Properties of `fit` in each mode: clean errors (named, for one bad argument) for hostile specs, output
    directories, start counts, seeds, profile names and parameter-set names; valid runs write estimates.csv."""
    fuzz("fit", mode, n)(capsys)


@pytest.mark.slow
@pytest.mark.parametrize("mode, n", [("mixed", 60), ("one-bad", 30), ("valid", 15)])
def test_sweep_flags(mode, n, capsys):
    """Properties of `sweep` in each mode: clean errors for hostile grids, models, stores and outputs (mixed,
    one-bad: named), and every valid small grid (axes with and without units, rate and buffered axes, presets,
    stores) accepted with its NetCDF written."""
    fuzz("sweep", mode, n)(capsys)


@pytest.mark.slow
@pytest.mark.parametrize("mode, n", [("mixed", 25), ("one-bad", 15), ("valid", 8)])
def test_compare_flags(mode, n, capsys):
    """Properties of `compare` (about 0.5 s a run, so fewer examples): clean errors for hostile catalysts,
    doses, conditions, probes, metrics and outputs, and valid comparisons (one pH per condition, ODE with or
    without bands, small SSA ensembles) accepted with compare.csv written."""
    fuzz("compare", mode, n)(capsys)


def test_unknown_units_name_the_argument(capsys, tmp_path):
    """Regression (found by this suite): `--t-end '5 kg'` said only "unknown unit `kg` in `kg`"; the error
    now names the argument and the value."""
    for argv, name in ((["simulate", IRON, "--t-end", "5 kg", "--out", str(tmp_path / "a.csv")], "`t_end`"),
                       (["sweep", "iron", "--ph", "7", "--dose", "5 kg", "--out", str(tmp_path / "a.nc")],
                        "`dose`")):
        code, _, err = run_cli(argv, capsys)
        assert code == 1 and name in err and "`5 kg`" in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["simulate", IRON, "--temperature", "150 K", "--t-end", "10", "--n-points", "3", "--out", "r.csv"],
    ["simulate", IRON, "--temperature", "-100 °C", "--t-end", "10", "--n-points", "3", "--out", "r.csv"],
    ["export", IRON, "--temperature", "150 K", "--sbml", "r.xml"],
    ["sweep", "iron", "--h2o2", "11 M,1 uM", "--t-end", "10", "--n-points", "3", "--out", "r.nc"],
    ["sweep", "iron", "--ph", "7", "--dose", "11 M", "--t-end", "10", "--n-points", "3", "--out", "r.nc"],
    ["sweep", "iron", "--temperature", "150 K", "--t-end", "10", "--n-points", "3", "--out", "r.nc"],
    ["compare", "--catalyst", "iron", "--gsh", "11 M", "--t-end", "10", "--n-points", "3", "--uncertainty", "0",
     "--quiet", "--out", "cmp"],
])
def test_values_written_with_their_unit_are_not_bare(argv, capsys, tmp_path, monkeypatch):
    """Regression (false rejections found by this suite): a value written with its unit is taken as written
    (units.user_quantity) — once converted it is not a bare number, so `11 M` or `150 K` are not refused as
    "a bare 11.0 is read as 11 M" further down."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err


def test_huge_n_points_in_simulate_is_a_usage_error(capsys, tmp_path):
    """Regression: `simulate --n-points 99999999999999999999` was an internal error (numpy's allocation)."""
    code, _, err = run_cli(["simulate", IRON, "--t-end", "1", "--n-points", "99999999999999999999", "--out",
                            str(tmp_path / "r.csv")], capsys)
    assert code == 2 and "--n-points" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_sweep_negative_seed_and_store_as_output_are_user_errors(capsys, tmp_path):
    """Regressions: `sweep --seed -1` was an internal error from numpy's SeedSequence (now a usage error, as in
    simulate), and `--store X --out X` an internal IsADirectoryError after the run (now refused before it)."""
    code, _, err = run_cli(["sweep", "iron", "--ph", "7", "--seed", "-1", "--t-end", "10", "--n-points", "3",
                            "--out", str(tmp_path / "a.nc")], capsys)
    assert code == 2 and "--seed" in err.strip().splitlines()[-1], err
    code, _, err = run_cli(["sweep", "iron", "--ph", "7", "--t-end", "10", "--n-points", "3", "--store",
                            str(tmp_path / "st"), "--out", str(tmp_path / "st")], capsys)
    assert code == 1 and "is the `--store` directory" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "a.nc").exists() and not (tmp_path / "st").exists()
    assert not list(tmp_path.glob(".*.tmp"))


# Bugs the fuzzing found (each an internal error before its fix, or a valid input refused).
@pytest.mark.parametrize("argv, bug", [
    (["sweep", "iron", "--ph", "7", "--t-end", "10", "--n-points", "99999999999999999999", "--out", "r.nc"],
     "n_points_overflow"),
    (["compare", "--catalyst", "iron", "--t-end", "10", "--n-points", "99999999999999999999", "--uncertainty",
      "0", "--quiet", "--out", "cmp"], "n_points_overflow"),
    (["sweep", "iron", "--ph", "7", "--seed", "2147483648", "--t-end", "10", "--n-points", "3", "--out", "r.nc"],
     "sweep_seed_int32"),
    (["compare", "--catalyst", "iron", "--t-end", "10", "--n-points", "3", "--uncertainty",
      "99999999999999999999", "--quiet", "--out", "cmp"], "compare_uncertainty_huge"),
    (["sweep", "iron", "--grid", "rate:F1=50,70 M^-1 s^-1", "--t-end", "10", "--n-points", "3", "--out", "r.nc"],
     "sweep_mixed_rate_units"),
    (["simulate", "iron", "--conditions", "", "--t-end", "10", "--n-points", "3", "--out", "r.csv"], "empty_path"),
    (["simulate", "", "--t-end", "10", "--n-points", "3", "--out", "r.csv"], "empty_path"),
    (["sweep", "iron", "--ph", "7", "--t-end", "10", "--n-points", "3", "--store", "st", "--out", "st"],
     "store_is_out"),
    pytest.param(["sweep", "iron", "--ph", "7", "--backend", "process", "--workers", "-1", "--t-end", "10",
                  "--n-points", "3", "--out", "r.nc"], "sweep_workers", marks=pytest.mark.slow),
])
def test_former_bugs_are_handled(argv, bug, capsys, tmp_path, monkeypatch):
    """Property as above (exit 0–2, no internal error, one line) for inputs that once broke it; a valid seed
    beyond 32 bits and a rate grid mixing a number and a quantity must be accepted."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(argv, capsys)
    if bug in ("sweep_seed_int32", "sweep_mixed_rate_units"):
        assert code == 0, err  # valid input: must be accepted
    assert code in (0, 1, 2) and "internal error" not in err, f"{bug}: {err}"
    assert code == 0 or len(err.strip().splitlines()) == 1 or code == 2


# ------------------------------------------------------------------------------------------- SIGKILL resume
SWEEP = ["iron", "--ph", "4:8:0.25", "--h2o2", "10 uM,100 uM,1 mM", "--gsh", "0,1e-4,1e-3,5e-3,1e-2",
         "--conditions", "tme", "--t-end", "1 h", "--chunk-size", "16", "--no-progress"]  # 255 points, 16 chunks
N_CHUNKS = 16


def _sweep_command(directory: Path):
    return [sys.executable, "-m", "fentonsim", "sweep", *SWEEP, "--store", str(directory / "store"), "--out",
            str(directory / "out" / "sweep.nc")]


def _run_sweep(directory: Path, kill_after=None):
    """Run the sweep in a subprocess; with ``kill_after``, SIGKILL it once that many chunk files exist.
    Returns the number of chunk files at the kill (None: it ran to the end)."""
    (directory / "out").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(_sweep_command(directory), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=directory)
    if kill_after is None:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        return None
    deadline = time.time() + 60
    store = directory / "store"
    while time.time() < deadline and proc.poll() is None:
        if len(list(store.glob("chunk-*.npz"))) >= kill_after:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the sweep ended (exit {proc.returncode}) before the kill"
    return len(list(store.glob("chunk-*.npz")))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    directory = tmp_path_factory.mktemp("uninterrupted")
    _run_sweep(directory)
    return directory / "out" / "sweep.nc"


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1, N_CHUNKS // 2])
def test_sigkilled_sweep_resumes_to_identical_numbers(kill_after, uninterrupted, tmp_path):
    """Property: a sweep SIGKILLed after its first chunk file, or after about half of them, and rerun with the
    same --store gives exactly the numbers of an uninterrupted sweep (np.array_equal on every variable and
    coordinate; attrs such as wall time may differ), reuses the stored chunks, and leaves no partial or
    temporary file beside its output (nor a stale temporary chunk in the store)."""
    import xarray as xr

    stored = _run_sweep(tmp_path, kill_after=kill_after)
    assert kill_after <= stored < N_CHUNKS
    assert not (tmp_path / "out" / "sweep.nc").exists()  # killed before writing: no output, not a partial one
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "store").glob("chunk-*.npz")}
    _run_sweep(tmp_path)
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "store").glob("chunk-*.npz")}
    assert len(after) == N_CHUNKS
    # Chunks finished before the kill were reused, not recomputed (a chunk being renamed at the kill may be).
    assert sum(before[name] == after[name] for name in before) >= len(before) - 1
    with xr.open_dataset(uninterrupted, engine="scipy") as ref, \
            xr.open_dataset(tmp_path / "out" / "sweep.nc", engine="scipy") as got:
        assert set(ref.variables) == set(got.variables) and len(ref.data_vars) > 1
        for name in ref.variables:
            assert np.array_equal(ref[name].values, got[name].values, equal_nan=ref[name].dtype.kind == "f"), name
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["sweep.nc"]
    leftovers = [p.name for p in (tmp_path / "store").iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]
    assert not leftovers, f"temporary files left in the store: {leftovers}"
