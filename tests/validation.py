"""Published validation targets and the report the test run writes (mechanisms/VALIDATION.md).

A chemistry test compares the whole network with a published number through :func:`check` (the target must
hold) or :func:`record_miss` (a known miss: recorded, then marked xfail with the reason). Both record the
target, fentonsim's value, the tolerance and the source before judging, so the report lists failures as well
as passes. At the end of a session that ran any of them, conftest writes the report; targets of the dossier
that no test can check yet are listed in :data:`NOT_TESTED` with the reason, so nothing is silently absent.
"""
from __future__ import annotations

import datetime
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPORT = Path(__file__).resolve().parent.parent / "mechanisms" / "VALIDATION.md"


@dataclass(frozen=True)
class Record:
    target: str          # dossier id (V3, V11, ...) or a short name for a new target
    quantity: str        # what is compared, with its conditions
    published: str       # the published value as a string with units
    simulated: float
    unit: str
    tolerance: str       # e.g. "±10 %"
    source: str
    passed: bool
    note: str = ""
    test: str = ""


RECORDS: list[Record] = []

#: Dossier targets no test checks yet, with the reason (fenton_kinetics.md §7).
NOT_TESTED = {
    "V2": ("Fricke dosimeter G(Fe³⁺) = 1.61 µmol/J", "needs water-radiolysis primary yields (no radiolysis "
                                                      "source term in fentonsim)"),
    "V4 (c)": ("Fe(III)/H2O2 optimum near pH 3 (De Laat & Gallard 1999)",
               "their H2O2-versus-time figures were not available to digitise"),
    "V9": ("Cu(I) + H2O2 at pH 8 gives Cu(III): scavenger tests of Pham et al. 2013",
           "their Table 1 constants and scavenger data were not retrieved"),
    "V12": ("inter-code comparisons (Ng 2007 GPx model, openREGGUI, radiopyo)", "models, not experiments; "
                                                                              "not run"),
}


def _nodeid() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]


def check(target: str, quantity: str, simulated: float, published: float, *, unit: str, source: str,
          rel: float | None = None, abs_tol: float | None = None, low: float | None = None,
          high: float | None = None, note: str = "") -> None:
    """Record the comparison, then assert it: |simulated − published| ≤ rel·|published| (or ≤ abs_tol), or
    low ≤ simulated ≤ high when a bracket is the target."""
    if low is not None or high is not None:
        lo = -math.inf if low is None else low
        hi = math.inf if high is None else high
        passed = lo <= simulated <= hi
        tolerance = f"within [{_num(lo)}, {_num(hi)}]"
        published_text = _with_unit(published, unit) if published is not None else "—"
    else:
        margin = (rel * abs(published)) if rel is not None else abs_tol
        passed = abs(simulated - published) <= margin
        tolerance = f"±{rel * 100:g} %" if rel is not None else f"±{_with_unit(abs_tol, unit)}"
        published_text = _with_unit(published, unit)
    RECORDS.append(Record(target, quantity, published_text, float(simulated), unit, tolerance, source, passed,
                          note, _nodeid()))
    assert passed, (f"{target} {quantity}: fentonsim {_num(simulated)} {unit}, published {published_text} "
                    f"({tolerance}, {source})")


def record_miss(target: str, quantity: str, simulated: float, published: str, *, unit: str, tolerance: str,
                source: str, reason: str) -> None:
    """A target the model misses for a stated reason (a missing sub-mechanism): recorded as failed, then xfail."""
    RECORDS.append(Record(target, quantity, published, float(simulated), unit, tolerance, source, False, reason,
                          _nodeid()))
    pytest.xfail(f"{target}: {reason}")


def _num(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return str(value)
    return f"{value + 0.0:.3g}".replace("-0", "0") if value == 0 else f"{value:.3g}"


def _with_unit(value, unit: str) -> str:
    return f"{_num(value)} {unit}".strip()


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=REPORT.parent, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_report(path: Path = REPORT) -> None:
    """Write the Markdown report of this session's records (failures first) and the untested targets."""
    records = sorted(RECORDS, key=lambda r: (r.passed, r.target, r.quantity))
    failed = sum(not r.passed for r in records)
    lines = [
        "# Validation report",
        "",
        "Generated by the test suite (`python -m pytest`; tests/validation.py) — do not edit by hand. Each row is "
        "one published target compared with the **whole** network's output; sources and tolerances are in the "
        "tests' docstrings and `../shared/chemistry/fenton_kinetics.md` §7.",
        "",
        f"Run of {datetime.date.today().isoformat()} on commit {_commit()}: {len(records)} comparisons, "
        f"{len(records) - failed} within tolerance, **{failed} outside** (listed first).",
        "",
        "| target | quantity | published | fentonsim | tolerance | result | source | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(f"| {r.target} | {r.quantity} | {r.published} | {_with_unit(r.simulated, r.unit)} | {r.tolerance} | "
                     f"{'pass' if r.passed else '**FAIL**'} | {r.source} | {r.note} |")
    lines += ["", "## Targets not checked", "", "| target | what | why not |", "|---|---|---|"]
    lines += [f"| {key} | {what} | {why} |" for key, (what, why) in NOT_TESTED.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
