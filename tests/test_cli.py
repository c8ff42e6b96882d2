"""The command line on valid input: `validate` summaries and `info` tables."""
from __future__ import annotations

from conftest import MECHANISMS
from fentonsim.cli import main


def test_validate_shipped_files(capsys):
    """All shipped mechanisms and presets validate with exit 0 and one `ok` line each."""
    files = sorted(MECHANISMS.glob("*.yaml")) + sorted((MECHANISMS / "conditions").glob("*.yaml"))
    assert main(["validate", *map(str, files)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len([l for l in lines if l.startswith("ok ")]) == len(files)


def test_validate_mixed_files_exit_1(capsys, tmp_path):
    """One bad file among good ones gives exit 1 and still reports the good ones."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("species: [\n")
    assert main(["validate", str(MECHANISMS / "iron.yaml"), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "ok " in out and "bad.yaml:" in out


def test_info_shows_effective_constants(capsys):
    """`info --ph 7.4` lists the FeOH+ pathway with its pH-weighted constant and reference."""
    assert main(["info", str(MECHANISMS / "iron.yaml"), "--ph", "7.4", "--temperature", "25 °C"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.strip().startswith("F2 "))
    k = float(line.split("k = ")[1].split()[0])
    assert 4.0e4 < k < 5.5e4 and "De Laat & Le (2006)" in line
    assert "Fe(II)       pKa 9.5" in out


def test_info_parameter_set(capsys):
    """`--parameter-set` applies the alternative constants."""
    assert main(["info", str(MECHANISMS / "iron.yaml"), "--ph", "2", "--parameter-set", "Walling-1975"]) == 0
    out = capsys.readouterr().out
    assert "parameter set `Walling-1975`" in out


def test_bad_arguments_one_line(capsys):
    """A pH outside 0–14 is a usage error (exit 2) with a one-line message."""
    try:
        main(["info", str(MECHANISMS / "iron.yaml"), "--ph", "15"])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert "`--ph` must be between 0 and 14" in err and "Traceback" not in err


def test_info_missing_file(capsys):
    """A missing file is reported as `path: file not found` with exit 1."""
    assert main(["info", "no/such/file.yaml"]) == 1
    assert "file not found" in capsys.readouterr().err
