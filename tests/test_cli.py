"""The command line on valid input: `validate` summaries and `info` tables."""
from __future__ import annotations

import math

import pytest

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
    line = next(l for l in out.splitlines() if l.strip().startswith("F2-OH "))
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


def _csv(path):
    import csv
    with open(path) as fh:
        rows = list(csv.reader(fh))
    return rows[0], [[float(v) for v in row] for row in rows[1:]]


def test_simulate_stats_csv_has_mean_and_sd_columns(capsys, tmp_path):
    """`simulate --method ssa --stats` writes `time,<species>_mean,<species>_sd` with one row per
    output time, concentrations in M, and prints a one-line summary."""
    out = tmp_path / "ens.csv"
    code = main(["simulate", str(MECHANISMS / "iron.yaml"), "--method", "ssa", "--runs", "20", "--seed", "4",
                 "--t-end", "60", "--n-points", "7", "--volume", "1e-16", "--ph", "6.5",
                 "--initial", "Fe(II)=10 uM", "--initial", "H2O2=100 uM", "--stats", "--out", str(out)])
    assert code == 0
    header, rows = _csv(out)
    assert header[0] == "time" and header[1:3] == ["O2_mean", "O2_sd"]
    assert len(header) == 1 + 2 * 9 and len(rows) == 7 and rows[-1][0] == 60.0
    peroxide = header.index("peroxide_mean")
    assert rows[0][peroxide] == pytest.approx(1e-4, rel=1e-3)
    assert "wrote" in capsys.readouterr().out


def test_simulate_single_run_and_ode_csv_have_one_column_per_species(tmp_path):
    """A single stochastic run and an ODE both give `time,<species>`; several runs give
    `run,time,<species>`."""
    model = str(MECHANISMS / "iron.yaml")
    common = ["--t-end", "10 min", "--n-points", "5", "--initial", "Fe(II)=10 uM", "--initial", "H2O2=50 uM",
              "--quiet"]
    for extra, first in ((["--method", "ode"], "time"), (["--method", "ssa", "--volume", "1e-17"], "time"),
                         (["--method", "ssa", "--volume", "1e-17", "--runs", "3"], "run")):
        out = tmp_path / f"{extra[1]}{len(extra)}.csv"
        assert main(["simulate", model, *extra, *common, "--out", str(out)]) == 0
        header, rows = _csv(out)
        assert header[0] == first and header[-7:] == ["FeO+2", "Fe(OH)3(s)", "superoxide", "peroxide", "hydroxyl",
                                                      "Fe(II)", "Fe(III)"]
        assert len(rows) == (15 if first == "run" else 5)


@pytest.mark.parametrize("argv, message, parse_error", [
    (["--runs", "0"], "--runs", True),
    (["--seed", "-3"], "--seed", True),
    (["--ph", "15"], "--ph", True),
    (["--initial", "Fe(II)"], "NAME=CONCENTRATION", True),
    (["--initial", "Fe=1 uM"], "not a state variable", False),
    (["--method", "ssa", "--volume", "1e-3", "--initial", "Fe(II)=1 mM"], "events per run", False),
    (["--volume", "big", "--method", "ssa"], "volume", False),
])
def test_simulate_bad_flags_give_one_line_errors(capsys, tmp_path, argv, message, parse_error):
    """Bad flags exit non-zero (2 from argument parsing, 1 from validation) with a message naming the
    problem, no traceback, and no output file."""
    out = tmp_path / "x.csv"
    argv = ["simulate", str(MECHANISMS / "iron.yaml"), *argv, "--out", str(out)]
    if parse_error:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    else:
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_rate_flag_sets_a_release_constant(tmp_path):
    """`--rate REL-Fe3O4='100 M^-1 s^-1'` makes magnetite dissolve; without it (k = 0 by default) nothing does;
    a malformed flag is a one-line usage error."""
    def dissolved(extra):
        out = tmp_path / "r.csv"
        argv = ["simulate", str(MECHANISMS / "release.yaml"), "--ph", "5", "--t-end", "60", "--n-points", "2",
                "--initial", "Fe3O4(s)=10 uM", "--quiet", *extra, "--out", str(out)]
        assert main(argv) == 0
        header, rows = _csv(out)
        column = header.index("Fe3O4(s)")
        return rows[0][column] - rows[-1][column]
    assert dissolved([]) == 0.0
    assert dissolved(["--rate", "REL-Fe3O4=100 M^-1 s^-1"]) == pytest.approx(1e-5 * (1 - math.exp(-0.06)), rel=1e-5)
    with pytest.raises(SystemExit):
        main(["simulate", str(MECHANISMS / "release.yaml"), "--rate", "REL-Fe3O4", "--out", str(tmp_path / "x.csv")])


def test_table_prints_every_reaction_of_the_file(capsys):
    """`fentonsim table FILE` prints a Markdown table with one row per reaction the file defines."""
    assert main(["table", str(MECHANISMS / "copper.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### `copper.yaml`")
    for rid in ("C1", "C1b", "C2", "C3", "C4", "C5", "C6", "C7", "C9", "C10", "C11"):
        assert f"| {rid} |" in out
    assert "| G1a |" not in out  # defined in glutathione.yaml, tabled there
