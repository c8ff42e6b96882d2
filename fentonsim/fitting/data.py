"""Reading a measured time course: a plain CSV table, one row per time point.

Format::

    # comment lines and blank lines are skipped
    time [min], Fe2 [uM], A510
    0, 100, 0.002
    0.5, 91.2,
    ...

The header names a ``time`` column (unit in brackets, default s) and one column per observable of the fit
specification (unit in brackets: a concentration unit for concentration-like observables, default M; none
for absorbance). An empty cell is a missing measurement; replicates share a time. Times must be finite,
non-negative and non-decreasing. Every problem is a :class:`fentonsim.errors.DataError` naming file, line
and column, found before any simulation.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, UnitError
from ..mechanism.yamlio import file_problem
from ..units import DIMENSIONLESS, TIME, format_dims, parse_unit

_HEADER = re.compile(r"^\s*([^\[\]]*?)\s*(?:\[\s*([^\[\]]*?)\s*\])?\s*$")


@dataclass(frozen=True)
class Table:
    """A read data file: ``time`` [s] (n,), ``columns`` {observable: values (n,) in canonical units, NaN
    where missing}, ``lines`` (n,) the 1-based line of each row, ``path``."""

    path: str
    time: np.ndarray
    columns: dict
    lines: np.ndarray


def _header_cell(text: str, path, line: int, column: int) -> tuple[str, str | None]:
    match = _HEADER.match(text)
    if match is None or not match.group(1):
        raise DataError(f"column {column}: header `{text.strip()}` is not `NAME` or `NAME [unit]`", path, line)
    return match.group(1), match.group(2)


def _unit_factor(unit: str | None, dims, name: str, path, line: int, column: int) -> float:
    """The factor from ``unit`` to canonical units of ``dims`` (1 for no unit)."""
    if unit is None or unit == "":
        return 1.0  # s, M, or a dimensionless reading
    try:
        parsed = parse_unit(unit)
    except UnitError as exc:
        raise DataError(f"column {column} (`{name}`): {exc}", path, line) from None
    if parsed.dims != dims:
        expected = "dimensionless (no unit)" if dims == DIMENSIONLESS else format_dims(dims)
        raise DataError(f"column {column} (`{name}`): unit `{unit}` is not {expected}", path, line)
    return parsed.factor


def read_table(path, expected: dict) -> Table:
    """Read ``path``, whose columns must be ``time`` and names in ``expected`` ({observable: dims,
    CONCENTRATION or DIMENSIONLESS}); at least one observable column.

    Raises
    ------
    DataError
        Missing, unreadable or empty file, a header without ``time`` or with an unknown or repeated column, a
        row with the wrong number of cells, a non-numeric or non-finite value, a negative or decreasing time.
    """
    path = Path(path)
    problem = file_problem(path)  # missing, a directory, a device, a FIFO, too big: by stat alone
    if problem is not None:
        raise DataError(f"data file {problem}".replace("a YAML file", "a CSV file"), path)
    raw = path.read_bytes()
    try:
        if b"\x00" in raw:
            raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL byte")
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("binary file; expected a UTF-8 CSV text file", path, 1) from None
    reader = csv.reader(io.StringIO(text, newline=None))  # \r, \r\n and \n all end a line
    rows = []
    try:
        for cells in reader:
            if cells and any(c.strip() for c in cells) and not cells[0].lstrip().startswith("#"):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise DataError(f"not a CSV table: {exc}", path, reader.line_num or 1) from None
    if not rows:
        raise DataError("data file is empty; expected a header `time [s], <observable>, ...` and rows of numbers",
                        path, 1)
    header_line, header = rows[0]
    names, factors = [], []
    for column, cell in enumerate(header, 1):
        name, unit = _header_cell(cell, path, header_line, column)
        if name.lower() == "time":  # `Time [s]` is `time`: normalised before the check for a repeated column
            name = "time"
        if name in names:
            raise DataError(f"column {column}: `{name}` appears twice in the header", path, header_line)
        if name == "time":
            dims = TIME
        elif name in expected:
            dims = expected[name]
        else:
            raise DataError(f"column {column}: unknown observable `{name}`; the fit defines "
                            f"{', '.join(f'`{n}`' for n in expected) or 'none'}", path, header_line)
        names.append(name)
        factors.append(_unit_factor(unit, dims, name, path, header_line, column))
    if "time" not in names:
        raise DataError("missing column `time` in the header (e.g. `time [s]`)", path, header_line)
    if len(names) < 2:
        raise DataError(f"no observable column besides `time`; the fit defines "
                        f"{', '.join(f'`{n}`' for n in expected)}", path, header_line)
    if len(rows) < 2:
        raise DataError("no data rows after the header", path, header_line)
    values = np.full((len(rows) - 1, len(names)), np.nan)
    lines = np.empty(len(rows) - 1, dtype=np.int64)
    for r, (number, cells) in enumerate(rows[1:]):
        lines[r] = number
        if len(cells) != len(names):
            raise DataError(f"{len(cells)} cells, expected {len(names)} ({', '.join(names)})", path, number)
        for c, cell in enumerate(cells):
            cell = cell.strip()
            if not cell:
                if names[c] == "time":
                    raise DataError("column 1 (`time`): empty; every row needs a time", path, number)
                continue
            try:
                value = float(cell)
            except ValueError:
                value = None
            if value is None or not math.isfinite(value):
                raise DataError(f"column {c + 1} (`{names[c]}`): `{cell}` is not a finite number", path, number)
            values[r, c] = value * factors[c]
    t_col = names.index("time")
    time = values[:, t_col]
    negative = np.flatnonzero(time < 0)
    if negative.size:
        r = negative[0]
        raise DataError(f"column {t_col + 1} (`time`): negative time {time[r]:g} s", path, int(lines[r]))
    backwards = np.flatnonzero(np.diff(time) < 0)
    if backwards.size:
        r = backwards[0] + 1
        raise DataError(f"column {t_col + 1} (`time`): {time[r]:g} s comes after {time[r - 1]:g} s; "
                        "sort the rows by time", path, int(lines[r]))
    if not time[-1] > 0:
        raise DataError("every time is 0; a time course needs later times", path, int(lines[-1]))
    columns = {name: values[:, c] for c, name in enumerate(names) if name != "time"}
    for c, name in enumerate(names):
        if name != "time" and np.all(np.isnan(values[:, c])):
            raise DataError(f"column {c + 1} (`{name}`) has no values", path, header_line)
    return Table(str(path), time, columns, lines)
