"""User mistakes at the command line and in the API are user errors, found before the run: outputs that
cannot or must not be written, bare numbers in the wrong unit, grids too large to build, options and
conditions a model cannot use. Each gives exit 1 and one line naming the argument, and leaves no file."""
from __future__ import annotations

import time

import pytest

import fentonsim as fs
from conftest import MECHANISMS
from fentonsim.cli import main
from fentonsim.sweep import parse_range

IRON = str(MECHANISMS / "iron.yaml")
FAST = ["--t-end", "10", "--n-points", "3", "--quiet"]


def _one_line_error(capsys, argv, expected):
    start = time.perf_counter()
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return time.perf_counter() - start


def test_output_that_is_a_directory_is_refused_before_the_run(capsys, tmp_path):
    """`--out DIR` for simulate, sweep and export, and `compare --out FILE`, are refused at once."""
    _one_line_error(capsys, ["simulate", IRON, *FAST, "--out", str(tmp_path)], "is a directory")
    _one_line_error(capsys, ["sweep", "iron", "--ph", "6,7", "--out", str(tmp_path)], "is a directory")
    _one_line_error(capsys, ["export", IRON, "--sbml", str(tmp_path)], "is a directory")
    existing = tmp_path / "x.txt"
    existing.write_text("notes")
    seconds = _one_line_error(capsys, ["compare", "--out", str(existing), "--quiet"], "not a directory")
    assert seconds < 5  # refused before a comparison of ~a second warm, minutes cold
    assert existing.read_text() == "notes"


def test_output_that_is_an_input_or_foreign_is_refused(capsys, tmp_path):
    """Writing over the mechanism being run is refused; so is a file fentonsim did not write, unless
    --overwrite; a CSV fentonsim wrote is replaced without asking."""
    mechanism = tmp_path / "iron.yaml"
    mechanism.write_text((MECHANISMS / "iron.yaml").read_text())
    before = mechanism.read_text()
    _one_line_error(capsys, ["simulate", str(mechanism), *FAST, "--out", str(mechanism), "--overwrite"],
                    "is an input of this run")
    assert mechanism.read_text() == before
    foreign = tmp_path / "thesis.csv"
    foreign.write_text("chapter,pages\n1,20\n")
    _one_line_error(capsys, ["simulate", IRON, *FAST, "--out", str(foreign)], "not written by fentonsim")
    assert foreign.read_text() == "chapter,pages\n1,20\n"
    assert main(["simulate", IRON, *FAST, "--out", str(foreign), "--overwrite"]) == 0
    assert main(["simulate", IRON, *FAST, "--out", str(foreign)]) == 0  # ours now: replaced freely
    _one_line_error(capsys, ["simulate", IRON, *FAST, "--out", str(tmp_path / "missing" / "r.csv")],
                    "does not exist")


@pytest.mark.parametrize("argv, expected", [
    (["simulate", IRON, *FAST, "--temperature", "37", "--out", "r.csv"], "write the unit, e.g. '37 °C'"),
    (["simulate", IRON, *FAST, "--initial", "H2O2=100", "--out", "r.csv"], "write the unit, e.g. '100 uM'"),
    (["compare", "--dose", "20", "--quiet"], "a bare 20.0 is read as 20 M"),
    (["sweep", "iron", "--h2o2", "50", "--out", "s.nc"], "a bare 50"),
])
def test_bare_numbers_in_the_wrong_unit_are_refused(capsys, tmp_path, monkeypatch, argv, expected):
    """A bare temperature below 200 K or concentration above 10 M is refused with the unit to write (exit 1,
    or argparse's usage exit 2 for a flag it types), and no output appears."""
    monkeypatch.chdir(tmp_path)
    if "--temperature" in argv:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2 and expected in capsys.readouterr().err
    else:
        _one_line_error(capsys, argv, expected)
    assert list(tmp_path.iterdir()) == []


def test_bare_number_rule_in_the_api():
    """The same rule holds in simulate(); units make any value acceptable; counts are exempt (see units)."""
    with pytest.raises(fs.UnitError, match="below 200 K"):
        fs.simulate(IRON, temperature=37, t_end=1, n_points=2)
    with pytest.raises(fs.UnitError, match="above 10 M"):
        fs.simulate(IRON, initial={"H2O2": 20}, t_end=1, n_points=2)
    ds = fs.simulate(IRON, temperature="37 °C", initial={"H2O2": "20 uM"}, t_end=1, n_points=2)
    assert ds.attrs["temperature_K"] == pytest.approx(310.15)


def test_grids_are_sized_before_they_are_built(capsys):
    """`--ph 4:8:1e-9` (4e9 values) and a product of axes beyond 10⁷ are refused at once."""
    start = time.perf_counter()
    with pytest.raises(fs.ConditionsError, match="more than a sweep takes"):
        parse_range("4:8:1e-9")
    with pytest.raises(fs.ConditionsError, match="more than a sweep takes"):
        fs.sweep("iron", {"pH": list(range(5, 8)) * 1000, "H2O2": [1e-5] * 4000})
    assert time.perf_counter() - start < 5
    _one_line_error(capsys, ["sweep", "iron", "--ph", "4:8:1e-9", "--out", "s.nc"], "more than a sweep takes")


def test_options_and_conditions_a_model_cannot_use_are_refused(tmp_path, capsys):
    """`--runs` with the ODE, and `--ph` / `--temperature` for a model none of whose constants depends on them
    (an exported SBML model has them folded in), are refused instead of being claimed in the summary."""
    _one_line_error(capsys, ["simulate", IRON, *FAST, "--runs", "5", "--out", str(tmp_path / "r.csv")],
                    "does not apply to method `ode`")
    xml = tmp_path / "iron.xml"
    assert main(["export", IRON, "--sbml", str(xml)]) == 0
    capsys.readouterr()
    _one_line_error(capsys, ["simulate", str(xml), *FAST, "--ph", "4", "--out", str(tmp_path / "r.csv")],
                    "`ph` has no effect")
    _one_line_error(capsys, ["simulate", str(xml), *FAST, "--temperature", "300 K", "--out",
                             str(tmp_path / "r.csv")], "`temperature` has no effect")
    assert main(["simulate", str(xml), "--t-end", "10", "--n-points", "3", "--conditions", "lysosome", "--out",
                 str(tmp_path / "r.csv")]) == 0
    assert "pH" not in capsys.readouterr().out  # the preset's pH reached nothing: not claimed


def test_outputs_follow_the_umask(tmp_path):
    """Written outputs get the permissions of any new file (0666 minus the umask), not mkstemp's 0600."""
    import os
    from fentonsim.tables import atomic_output

    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "a.csv") as fh:
            fh.write("time\n")
        assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        with atomic_output(tmp_path / "b.csv") as fh:
            fh.write("time\n")
        assert (tmp_path / "b.csv").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_ctrl_c_is_one_line_and_exit_130(capsys, monkeypatch, tmp_path):
    """An interrupt during a run prints one line (no traceback), exits 130 and leaves no output file."""
    import importlib

    simulate_module = importlib.import_module("fentonsim.simulate")  # the package attribute is the function

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate_module, "simulate", interrupted)
    out = tmp_path / "r.csv"
    assert main(["simulate", IRON, *FAST, "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith("fentonsim: interrupted") and len(err.splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_stops_a_running_ssa_ensemble_within_a_second(tmp_path):
    """A real SIGINT to `fentonsim simulate --method ssa` while its trajectories run (each would take tens of
    seconds) ends the process within a second with exit 130, one line and no output file."""
    import signal
    import subprocess
    import sys

    copper = str(MECHANISMS / "copper.yaml")
    base = [sys.executable, "-m", "fentonsim", "simulate", copper, "--method", "ssa", "--conditions", "tme",
            "--initial", "Cu+=20 uM", "--volume", "1 fL", "--stats", "--quiet"]
    # Compile (or load) the kernel first, so that the signal below meets the running kernel, not the compiler.
    subprocess.run([*base, "--runs", "2", "--t-end", "0.01", "--out", str(tmp_path / "warm.csv")], check=True,
                   timeout=600)
    out = tmp_path / "r.csv"
    process = subprocess.Popen([*base, "--runs", "8", "--out", str(out)], stderr=subprocess.PIPE, text=True)
    time.sleep(6.0)
    assert process.poll() is None, "the run ended before the interrupt"
    sent = time.perf_counter()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert time.perf_counter() - sent < 1.0
    assert process.returncode == 130
    assert err.strip().startswith("fentonsim: interrupted") and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_compare_refuses_ensemble_options_without_stochastic(capsys):
    """`compare --runs 0` (or --volume) without --stochastic is refused, not ignored."""
    _one_line_error(capsys, ["compare", "--runs", "0", "--quiet"], "`--runs` apply to stochastic comparisons")


def test_an_ensemble_too_large_for_memory_is_refused_before_allocation(capsys):
    """`compare --stochastic --runs 100000000` (about a TiB of trajectories) is refused at once with the memory
    it would need and what to do instead, not attempted."""
    start = time.perf_counter()
    with pytest.raises(fs.ConditionsError, match="GiB for their results.*stats=True"):
        fs.simulate(IRON, "ssa", runs=100_000_000, t_end=1, n_points=101, volume="0.1 fL")
    _one_line_error(capsys, ["compare", "--stochastic", "--runs", "100000000", "--catalyst", "iron", "--quiet"],
                    "GiB for their results")
    assert time.perf_counter() - start < 30


def test_an_unreachable_scheduler_is_a_user_error(capsys, tmp_path):
    """`--scheduler` to an address nobody listens on is a one-line error within seconds, not an internal error
    after dask's 30 s."""
    pytest.importorskip("dask.distributed")
    seconds = _one_line_error(capsys, ["sweep", "iron", "--ph", "6,7", "--backend", "dask", "--scheduler",
                                       "tcp://127.0.0.1:9", "--out", str(tmp_path / "s.nc")],
                              "no Dask scheduler answered")
    assert seconds < 20 and list(tmp_path.iterdir()) == []
