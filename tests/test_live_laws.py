"""The live-subsystem reduction of general-law networks (fentonsim/live_laws.py): it changes which species the
kernel integrates, never the answer — same accepted steps, same concentrations, extents and exposures, dead
species and reactions exactly 0 — and it follows boluses and per-condition doses."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import fentonsim as fs
from fentonsim import live_laws
from fentonsim.inputs import Bolus
from fentonsim.problem import build_problem, resolve_model

DOSE = {"TMB": "0.5 mM", "H2O2": "1 mM", "Fe3O4(s)": "50 ug/mL"}


@pytest.fixture(scope="module")
def nanozyme():
    """(network, k, y0, t) of fe3o4_nanozyme at the tumour preset: 12 of 33 species can change."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        network = resolve_model("fe3o4_nanozyme")
        t = np.linspace(0.0, 3600.0, 31)
        problem = build_problem(network, [{"initial": DOSE}], conditions="tme", t_out=t)
    return network, problem.k[0].copy(), problem.y0[0].copy(), t


def _unreduced(monkeypatch, call):
    """``call()`` with the reduction switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(live_laws, "reduction", lambda *args: None)
        return call()


def _same(a, b, rtol=1e-9):
    scale = np.maximum(np.abs(b).max(axis=0, keepdims=True), 1e-300)
    assert np.all(np.abs(a - b) <= rtol * scale)


def test_the_live_sets_of_the_nanozyme_at_tme(nanozyme):
    """Undosed probes, spin traps and scavengers are dead; H2O2, iron and TMB chemistry are live."""
    network, k, y0, _ = nanozyme
    live_s, live_r = live_laws.live_sets(network, k, y0)
    names = {name for name, live in zip(network.species, live_s) if live}
    assert live_s.sum() == 12 and live_r.sum() == 35
    assert {"peroxide", "TMB", "TMB*+", "Fe(II)", "hydroxyl"} <= names
    assert not names & {"TA-2", "DMPO", "tBuOH", "DMSO", "MB+"}


def test_the_reduction_changes_nothing_but_the_work(nanozyme, monkeypatch):
    """With and without the reduction: the same accepted and rejected steps (the error norm is the whole
    network's), concentrations, extents and exposures equal to 1e-9 of each curve's largest value, and the
    dead species and reactions exactly 0."""
    network, k, y0, t = nanozyme
    reduced = fs.solve_ode(network, k, y0, t)
    whole = _unreduced(monkeypatch, lambda: fs.solve_ode(network, k, y0, t))
    assert reduced.counters["n_steps"] == whole.counters["n_steps"]
    assert reduced.counters["n_rejected"] == whole.counters["n_rejected"]
    _same(reduced.concentration, whole.concentration)
    _same(reduced.extent, whole.extent)
    _same(reduced.exposure, whole.exposure)
    live_s, live_r = live_laws.live_sets(network, k, y0)
    assert not reduced.concentration[:, ~live_s].any() and not reduced.extent[:, ~live_r].any()


def test_a_bolus_brings_a_dead_probe_to_life(nanozyme, monkeypatch):
    """Terephthalate dosed at 10 min is seeded, so the probe chemistry is integrated from the start and
    2-hydroxyterephthalate forms as without the reduction."""
    network, k, y0, t = nanozyme
    bolus = [Bolus("TA-2", 1e-4, 600.0)]
    reduced = fs.solve_ode(network, k, y0, t, boluses=bolus)
    whole = _unreduced(monkeypatch, lambda: fs.solve_ode(network, k, y0, t, boluses=bolus))
    _same(reduced.concentration, whole.concentration)
    assert reduced.concentration[-1, network.species.index("HTA-2")] > 0


def test_a_batch_reduces_to_the_union_of_its_conditions(nanozyme):
    """Two conditions, terephthalate in one only: the batch integrates the union of the live sets and each row
    equals its own single solve (which integrates only its own)."""
    network, k, y0, t = nanozyme
    dosed = y0.copy()
    dosed[network.species.index("TA-2")] = 1e-4
    batch = fs.solve_ode_batch(network, np.stack([k, k]), np.stack([y0, dosed]), t)
    for row, start in enumerate((y0, dosed)):
        single = fs.solve_ode(network, k, start, t)
        _same(batch.concentration[row], single.concentration, rtol=1e-8)


def test_loose_tolerances_take_the_same_steps_too(nanozyme, monkeypatch):
    """At rtol 1e-2 and atol 1e-6 (where a scaled atol would accept negative excursions the whole network
    rejects) the reduced and whole runs still accept and reject the same steps: the kernel is given the
    network's species count for its error norm, not scaled tolerances."""
    network, k, y0, t = nanozyme
    options = dict(rtol=1e-2, atol=1e-6)
    reduced = fs.solve_ode(network, k, y0, t, **options)
    whole = _unreduced(monkeypatch, lambda: fs.solve_ode(network, k, y0, t, **options))
    assert (reduced.counters["n_steps"], reduced.counters["n_rejected"]) == \
        (whole.counters["n_steps"], whole.counters["n_rejected"])
    _same(reduced.concentration, whole.concentration)


def _imported(tmp_path, law, initial):
    """An SBML model (S, P, Q; ∅ → P at ``law``) compiled, with its species as imported (signed)."""
    from test_laws import _sbml

    path = _sbml(tmp_path / "m.xml", [("S", initial[0], False), ("P", initial[1], False), ("Q", initial[2], False)],
                 [("R", {}, {"P": 1}, law)], parameters=[("k", 0.5)])
    return fs.compile_network(fs.load(path))


def test_edge_cases_run_as_the_whole_network(tmp_path, monkeypatch):
    """An imported quantity starting below 0 is seeded, not taken for a dead 0; a run where nothing can change
    returns its initial state. Each equals the run without the reduction."""
    t = np.array([0.0, 1.0, 2.0])
    cases = [(_imported(tmp_path, "cell * k * S / (1 + Q)", (-1.0, 0.0, 1.0)), [0.5], [-1.0, 0.0, 1.0]),
             (_imported(tmp_path, "cell * k * S / (1 + Q)", (0.0, 0.0, 0.0)), [0.0], [0.0, 0.0, 0.0])]
    for network, k, y0 in cases:
        k, y0 = np.array(k), np.array(y0)
        reduced = fs.solve_ode(network, k, y0, t).concentration
        whole = _unreduced(monkeypatch, lambda: fs.solve_ode(network, k, y0, t).concentration)
        np.testing.assert_array_equal(reduced, whole)
    # P = k_scale·k·S/(1 + Q)·t = 0.5·0.5·(−1)/2·2 s: S kept at −1, not zeroed.
    assert fs.solve_ode(cases[0][0], np.array([0.5]), np.array([-1.0, 0.0, 1.0]), t).concentration[-1, 1] == \
        pytest.approx(-0.25, rel=1e-9)


def test_a_law_that_cannot_take_its_dead_zeros_runs_whole(nanozyme, monkeypatch):
    """Folding a dead species' 0 into a law can divide 0 by 0 where the kernel, behind a piecewise guard,
    would not: then there is no reduction (stand-in: substitution raising ZeroDivisionError)."""
    network, k, y0, t = nanozyme

    def fails(*args):
        raise ZeroDivisionError("float division by zero")

    live_s, live_r = live_laws.live_sets(network, k, y0)
    with monkeypatch.context() as patch:
        patch.setattr(live_laws, "substitute", fails)
        assert live_laws.reduction(network, live_s, live_r) is None
