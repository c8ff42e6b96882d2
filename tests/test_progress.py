"""Long jobs show a progress bar with an ETA on a terminal and nothing otherwise: ensembles, sweeps and
comparisons draw a tqdm bar on stderr when it is a terminal (or when asked), never with --quiet, never on
a pipe; Dask's own INFO lines stay out of a sweep's output unless --verbose asks for them."""
from __future__ import annotations

import sys

import pytest

import fentonsim as fs
from conftest import MECHANISMS
from fentonsim import progress
from fentonsim.cli import main

IRON = str(MECHANISMS / "iron.yaml")


class _Terminal:
    """stderr that claims to be a terminal and keeps what is written to it."""

    def __init__(self):
        self.text = []

    def isatty(self):
        return True

    def write(self, text):
        self.text.append(text)
        return len(text)

    def flush(self):
        pass

    def getvalue(self):
        return "".join(self.text)


def _on_terminal(monkeypatch) -> _Terminal:
    """Make stderr a fake terminal. Called in the test body: pytest's capture sets sys.stderr again
    between fixture setup and the test."""
    stream = _Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def test_the_rule_terminal_only_unless_told(monkeypatch):
    """None follows stderr (a terminal: yes; a pipe: no); True and False override it."""
    terminal = _on_terminal(monkeypatch)
    assert progress.wanted(None) and progress.wanted(True) and not progress.wanted(False)
    monkeypatch.setattr(terminal, "isatty", lambda: False)
    assert not progress.wanted(None) and progress.wanted(True)


def test_ensemble_bar_counts_runs_with_an_eta(monkeypatch):
    """simulate(method='ssa', runs=N) on a terminal draws a bar over the N runs with elapsed<remaining."""
    terminal = _on_terminal(monkeypatch)
    fs.simulate(IRON, "ssa", runs=40, t_end=5, n_points=3, volume="0.01 fL", conditions="tme")
    text = terminal.getvalue()
    assert "ensemble" in text and "/40 [" in text and "run/s" in text and "<" in text, text  # "<" precedes the ETA


def test_comparison_bar_names_its_steps(monkeypatch):
    """compare() on a terminal draws one bar over its steps (per catalyst: its batch, its alternative
    parameter set, its uncertainty samples) and names the step running; progress=False draws nothing."""
    terminal = _on_terminal(monkeypatch)
    fs.compare(["iron", "copper"], t_end=60, n_points=11, uncertainty=2)
    text = terminal.getvalue()
    assert "compare" in text and "/6 [" in text and "<" in text, text
    assert "copper with" in text and "copper: 2 samples" in text, text
    terminal.text.clear()
    fs.compare(["iron"], t_end=60, n_points=11, uncertainty=0, progress=False)
    assert terminal.getvalue() == ""


def test_api_message_hook_still_hears_every_step():
    """A callable ``progress`` gets one line per step instead of a bar: the batch, the alternative
    parameter set, the samples."""
    heard = []
    fs.compare(["iron"], t_end=60, n_points=11, uncertainty=2, progress=heard.append)
    assert len(heard) == 3 and heard[0].startswith("iron: 2 conditions") and "samples" in heard[2], heard


@pytest.mark.parametrize("argv", [
    ["compare", "--catalyst", "iron", "--t-end", "60", "--n-points", "11", "--uncertainty", "0"],
    ["sweep", "iron", "--ph", "6,7", "--t-end", "60"],
    ["simulate", IRON, "--method", "ssa", "--runs", "20", "--t-end", "5", "--n-points", "3", "--volume", "0.01 fL"],
])
def test_quiet_draws_no_bar_even_on_a_terminal(monkeypatch, capsys, tmp_path, argv):
    """With --quiet, compare, sweep and simulate print nothing at all on success, terminal or not."""
    terminal = _on_terminal(monkeypatch)
    out = tmp_path / ("out" if argv[0] == "compare" else "out.nc" if argv[0] == "sweep" else "out.csv")
    assert main([*argv, "--quiet", "--out", str(out)]) == 0
    assert terminal.getvalue() == ""
    assert capsys.readouterr().out == ""


@pytest.mark.slow
def test_dask_sweep_is_quiet_unless_verbose(capfd, tmp_path):
    """A sweep on a local Dask cluster writes nothing to stderr (its scheduler and workers log INFO lines
    at start and shutdown); --verbose lets them through."""
    argv = ["sweep", "iron", "--ph", "6,7", "--t-end", "60", "--backend", "dask", "--workers", "1", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "a.nc")]) == 0
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == "", captured.err
    assert main([*argv, "--verbose", "--out", str(tmp_path / "b.nc")]) == 0
    assert "distributed" in capfd.readouterr().err
