"""Every class of bad mechanism input has a fixture in tests/data/invalid/ and a
test that checks the error's message and line (Cantera's check_raises pattern)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fentonsim import MechanismError, load_mechanism
from fentonsim.cli import main

INVALID = Path(__file__).resolve().parent / "data" / "invalid"

# fixture -> (file the error is reported in, line, fragments the message must contain)
CASES = {
    "yaml_syntax.yaml": (None, 12, ["YAML syntax error"]),
    "unknown_key.yaml": (None, 12, ["unknown key `ea`", "did you mean `Ea`?"]),
    "undeclared_species.yaml": (None, 13, ["undeclared species `OH*`", "reaction `F5`"]),
    "element_imbalance.yaml": (None, 9, ["unbalanced", "element", "H ", "charge"]),
    "charge_imbalance.yaml": (None, 10, ["unbalanced", "charge            2         3"]),
    "negative_k.yaml": (None, 11, ["must not be negative", "`-55`"]),
    "nan_k.yaml": (None, 11, ["finite number", "nan"]),
    "infinite_k.yaml": (None, 11, ["finite number", "inf"]),
    "unparsable_unit.yaml": (None, 11, ["unknown unit `liters`"]),
    "wrong_unit_dimension.yaml": (None, 11, ["`s^-1`", "expected M^-1 s^-1"]),
    "order_too_high.yaml": (None, 9, ["order 4", "at most 3"]),
    "duplicate_id.yaml": (None, 13, ["duplicate reaction id `F1`", "duplicate_id.yaml:9"]),
    "duplicate_reaction.yaml": (None, 13, ["`F1b` duplicates `F1`", "duplicate: true"]),
    "duplicate_species_across_files.yaml": (None, 4, ["duplicate species `Fe+2`", "fe_species.yaml:2"]),
    "duplicate_key.yaml": (None, 12, ["duplicate key `rate`"]),
    "include_cycle.yaml": ("parts/cycle_b.yaml", 2, ["include cycle", "include_cycle.yaml -> cycle_b.yaml"]),
    "missing_include.yaml": (None, 3, ["no_such_file.yaml", "not found"]),
    "speciation_not_one_proton.yaml": (None, 5, ["differ by one proton", "`H2O2` and `O2*-`"]),
    "branch_fractions.yaml": (None, 13, ["sum to 0.9, expected 1"]),
    "empty.yaml": (None, 1, ["file is empty"]),
    "binary.yaml": (None, 1, ["binary file"]),
    "not_mapping.yaml": (None, 1, ["expected a mapping", "found a list"]),
    "unknown_reference.yaml": (None, 9, ["cites `DeLaatLe2006`", "neither a DOI"]),
    "tabulated_2k_not_self.yaml": (None, 12, ["tabulated-as: 2k", "not a self-reaction"]),
    "reversible_without_reverse_rate.yaml": (None, 10, ["needs `reverse-rate`"]),
    "wrong_buffered_order.yaml": (None, 12, ["integrated species `H2O2`"]),
}


def test_every_fixture_has_a_case():
    """Each file in tests/data/invalid/ is covered by CASES and vice versa."""
    assert sorted(p.name for p in INVALID.glob("*.yaml")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_names_file_line_and_problem(name):
    """Loading the fixture raises MechanismError at the expected file and line with a clear message."""
    where, line, fragments = CASES[name]
    with pytest.raises(MechanismError) as info:
        load_mechanism(INVALID / name)
    error = info.value
    assert Path(error.path).resolve() == (INVALID / (where or name)).resolve()
    assert error.line == line, str(error)
    for fragment in fragments:
        assert fragment in str(error), f"{fragment!r} not in {str(error)!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_validate_exits_1_with_file_line(name, capsys):
    """`fentonsim validate` on each fixture exits 1 and prints `file:line: message`, no traceback."""
    assert main(["validate", str(INVALID / name)]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    where, line, _ = CASES[name]
    assert f"{where or name}:{line}: " in text.replace("\\", "/")
    assert "Traceback" not in text


def test_cli_subprocess_has_no_traceback():
    """In a real process, a batch of bad files gives one error line each and exit status 1."""
    files = [str(INVALID / n) for n in ("binary.yaml", "unknown_key.yaml", "empty.yaml")]
    proc = subprocess.run([sys.executable, "-m", "fentonsim", "validate", *files],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert len([l for l in proc.stdout.splitlines() if ".yaml:" in l]) == 3
