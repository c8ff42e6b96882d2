"""Argument types and exit codes shared by the command-line modules (fentonsim.cli, fentonsim.compare_cli,
fentonsim.sweep_cli), below all of them so that no command module imports another's internals."""
from __future__ import annotations

import argparse
from pathlib import Path

from .errors import FentonsimError
from .units import TEMPERATURE, user_quantity

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70
#: The shell's convention for a run stopped by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130


def temperature(text: str) -> float:
    try:
        value = user_quantity(text, TEMPERATURE, "K", "`--temperature`")
    except (FentonsimError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"`--temperature` must be above 0 K, found {text}")
    return value


def ph(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`--ph` must be a number, found `{text}`") from None
    if not 0 <= value <= 14:
        raise argparse.ArgumentTypeError(f"`--ph` must be between 0 and 14, found {value}")
    return value


def integer(minimum: int, limit: int | None = None):
    """An argparse type: an integer ≥ ``minimum`` (and < ``limit``)."""
    expected = f"an integer ≥ {minimum}" + ("" if limit is None else f" and < {limit}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, found `{text}`") from None
        if value < minimum or (limit is not None and value >= limit):
            raise argparse.ArgumentTypeError(f"expected {expected}, found {value}")
        return value
    return parse


positive_int = integer(1)
seed = integer(0, 2 ** 64)
#: Most output times a run writes: 10⁷ rows already make a CSV of gigabytes; `--n-points 1e20` is a typo, and
#: numpy cannot even allocate its time grid (it was an internal error).
MAX_N_POINTS = 10 ** 7


def n_points(text: str) -> int:
    """An argparse type: the number of output times, 2 to MAX_N_POINTS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer number of output times (2 to {MAX_N_POINTS:,}), "
                                         f"found `{text}`") from None
    if not 2 <= value <= MAX_N_POINTS:
        raise argparse.ArgumentTypeError(f"expected 2 to {MAX_N_POINTS:,} output times, found {value:,}")
    return value


def initial_assignment(text: str) -> tuple:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"`--initial` expects NAME=CONCENTRATION (e.g. 'H2O2=100 uM'), found `{text}`")
    return name.strip(), value.strip()


def rate_assignment(text: str) -> tuple:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"`--rate` expects REACTION=K (e.g. 'F1=63 M^-1 s^-1'), found `{text}`")
    return name.strip(), number_or_quantity(value.strip())


def number_or_quantity(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def input_files(*values) -> list:
    """The files a run reads, for the output check (fentonsim.tables.check_output): the given values and
    lists of values that are existing paths (names of shipped mechanisms and presets are not)."""
    out = []
    for value in values:
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            if item is not None and Path(str(item)).exists():
                out.append(str(item))
    return out


def add_condition_arguments(parser, volume_name):
    """The run conditions `simulate`, `export` and `sensitivity` share (precedence: flag, then preset, then
    mechanism); ``volume_name`` None leaves out --volume (a deterministic job that no volume changes)."""
    if volume_name is not None:
        parser.add_argument("--volume", help=f"{volume_name} in L, or a quantity such as '0.1 fL' "
                                             "(default: preset, then mechanism)")
    parser.add_argument("--ph", type=ph, help="pH (default: preset, then mechanism)")
    parser.add_argument("--temperature", type=temperature, help="temperature, e.g. 310.15 or '37 °C'")
    parser.add_argument("--conditions", help="condition preset (tme, normal, lysosome) or conditions file")
    parser.add_argument("--initial", type=initial_assignment, action="append", metavar="NAME=CONC",
                        help="initial concentration, e.g. 'Fe+2=20 uM' (repeatable)")
    parser.add_argument("--parameter-set", help="apply a named alternative parameter set")
    parser.add_argument("--rate", type=rate_assignment, action="append", metavar="ID=K",
                        help="replace a reaction's rate constant, e.g. 'REL-Fe3O4=2e-4 s^-1' (repeatable)")
