"""The validation report (mechanisms/VALIDATION.md) covers every target of the chemistry dossier and lists
failures before passes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import validation
from conftest import SHARED

TESTS = Path(__file__).resolve().parent
DOSSIER = SHARED / "chemistry" / "fenton_kinetics.md"


def test_every_dossier_target_is_checked_or_listed_as_not_checked():
    """Each **V<n>** target of fenton_kinetics.md §7 is the first argument of a check()/record_miss() call in
    the tests, or a key of validation.NOT_TESTED with the reason — none is silently absent."""
    assert DOSSIER.exists(), f"the chemistry dossier is missing: {DOSSIER} (CI lays ../shared beside the repo)"
    targets = set(re.findall(r"\*\*(V\d+)\b", DOSSIER.read_text(encoding="utf-8")))
    assert targets, "no V<n> targets found in the dossier"
    called = set()
    for path in TESTS.glob("test_*.py"):
        called |= set(re.findall(r"(?:check|record_miss)\(\s*\"(V\d+)", path.read_text(encoding="utf-8")))
    listed = {key.split()[0] for key in validation.NOT_TESTED}
    assert sorted(targets - called - listed) == []


def test_report_lists_failures_first_with_values_and_untested_targets(tmp_path, monkeypatch):
    """write_report: one row per comparison with published value, fentonsim's value, tolerance and source;
    failures first and counted in the header; the NOT_TESTED table follows."""
    monkeypatch.setattr(validation, "RECORDS", [])
    validation.check("X1", "a quantity", 1.05, 1.0, unit="M", rel=0.1, source="Paper A")
    with pytest.raises(AssertionError, match="X2 another quantity: fentonsim 2 s"):
        validation.check("X2", "another quantity", 2.0, 1.0, unit="s", rel=0.1, source="Paper B")
    path = tmp_path / "VALIDATION.md"
    validation.write_report(path)
    text = path.read_text(encoding="utf-8")
    assert "2 comparisons, 1 within tolerance, **1 outside**" in text
    rows = [line for line in text.splitlines() if line.startswith("| X")]
    assert rows[0].startswith("| X2 | another quantity | 1 s | 2 s | ±10 % | **FAIL** | Paper B |")
    assert rows[1].startswith("| X1 | a quantity | 1 M | 1.05 M | ±10 % | pass | Paper A |")
    assert "## Targets not checked" in text and "| V2 |" in text
