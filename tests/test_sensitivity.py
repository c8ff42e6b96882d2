"""Forward sensitivities (fentonsim.sensitivity, kernels/sensitivity.py): closed forms, the method's order,
central finite differences on the iron mechanism, the copper catalyst (copper + glutathione), an SBML model
and generated networks, inputs, and refusals."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import MECHANISMS
from fentonsim import Assignment, Bolus, ConditionsError, SolverError, Source, compile_network, solve_ode
from fentonsim.problem import build_problem, resolve_model
from fentonsim.sensitivity import sensitivities
from strategies import mechanisms
import test_integrator
from toy import toy_network

IRON = MECHANISMS / "iron.yaml"
#: The closed-form networks A → B and 2 A → P, the integrator tests' fixtures.
first_order = test_integrator.first_order
self_reaction = test_integrator.self_reaction
IRON_RUN = dict(conditions="tme", initial={"Fe+2": "20 uM"}, t_end=600, n_points=61)


def relative_error(values, exact):
    """max |values − exact| / max |exact| (the error relative to the curve's scale)."""
    return float(np.max(np.abs(values - exact)) / np.max(np.abs(exact)))


@pytest.fixture(scope="module")
def reversible(tmp_path_factory):
    return toy_network(tmp_path_factory.mktemp("rev"), {"A": {"X": 1}, "B": {"X": 1}},
                       [("A <=> B", "0.02 s^-1", "reverse-rate: {k: 0.005 s^-1}")])


@pytest.fixture(scope="module")
def iron():
    return resolve_model(IRON)


# ------------------------------------------------------------------------------------------------ closed forms

def test_first_order_decay_matches_the_closed_form(first_order):
    """A → B: A = A0·e^(−kt), so ∂A/∂ln k = −t·k·A0·e^(−kt) = −∂B/∂ln k and ∂A/∂A0 = e^(−kt),
    ∂B/∂A0 = 1 − e^(−kt); at rtol 1e-8 every curve is within 1e-7 of its maximum (measured ~1e-9), and
    the normalised sensitivity ∂ln A/∂ln k = −kt. The extent A0·(1 − e^(−kt)) and its sensitivity
    (= ∂B/∂ln k) are integrated alongside to the same accuracy."""
    k, a0 = 0.01, 1e-3
    ds = sensitivities(first_order, ["rate:T1", "initial:A"], t_end=500, n_points=51, initial={"A": a0},
                       rtol=1e-8, atol=1e-20, extents=True)
    t = ds.time.values
    decay = np.exp(-k * t)
    s = ds.sensitivity.sel(parameter="rate:T1")
    assert relative_error(s.sel(species="A").values, -t * k * a0 * decay) < 1e-7
    assert relative_error(s.sel(species="B").values, t * k * a0 * decay) < 1e-7
    s0 = ds.sensitivity.sel(parameter="initial:A")
    assert relative_error(s0.sel(species="A").values, decay) < 1e-7
    assert relative_error(s0.sel(species="B").values, 1 - decay) < 1e-7
    np.testing.assert_allclose(ds.normalised.sel(parameter="rate:T1", species="A").values, -k * t, atol=1e-6)
    assert relative_error(ds.extent.sel(reaction="T1").values, a0 * (1 - decay)) < 1e-7
    assert relative_error(ds.extent_sensitivity.sel(reaction="T1", parameter="rate:T1").values,
                          t * k * a0 * decay) < 1e-7
    assert relative_error(ds.extent_sensitivity.sel(reaction="T1", parameter="initial:A").values, 1 - decay) < 1e-7
    assert np.isnan(ds.normalised.sel(parameter="rate:T1", species="B").values[0])  # B = 0 at t = 0
    assert list(ds.sensitivity_unit.values) == ["M", "1"]


def test_reversible_pair_matches_the_closed_form(reversible):
    """A ⇌ B (k_f, k_r), B0 = 0: A = A0·(k_r + k_f·e^(−(k_f+k_r)t))/(k_f + k_r). Its derivatives in ln k_f
    and ln k_r, taken exactly by a complex step through the closed form, match the integrated ones to
    1e-7 of their maximum at rtol 1e-8, and B's are their negatives (mass is conserved)."""
    kf, kr, a0 = 0.02, 0.005, 1e-4
    ds = sensitivities(reversible, ["T1", "rate:T1:reverse"], t_end=400, n_points=81, initial={"A": a0},
                       rtol=1e-8, atol=1e-20)
    t = ds.time.values

    def a_of(kf, kr):
        total = kf + kr
        return a0 * (kr + kf * np.exp(-total * t)) / total

    h = 1e-30
    exact_f = np.imag(a_of(kf * np.exp(1j * h), kr)) / h
    exact_r = np.imag(a_of(kf, kr * np.exp(1j * h))) / h
    for label, exact in (("rate:T1", exact_f), ("rate:T1:reverse", exact_r)):
        s = ds.sensitivity.sel(parameter=label)
        assert relative_error(s.sel(species="A").values, exact) < 1e-7
        np.testing.assert_allclose(s.sel(species="B").values, -s.sel(species="A").values, atol=1e-12 * a0)
    assert "extent" not in ds and "oh_produced" not in ds  # extents=False by default


def test_self_reaction_matches_the_closed_form(self_reaction):
    """2A → P with r = k[A]², d[A]/dt = −2k[A]²: A = A0/(1 + 2kA0t), so ∂A/∂ln k = −2kA0²t/(1 + 2kA0t)²,
    ∂P/∂ln k = −½∂A/∂ln k and ∂A/∂A0 = 1/(1 + 2kA0t)²; within 1e-7 of the maximum at rtol 1e-8."""
    k, a0 = 5e9, 1e-6
    ds = sensitivities(self_reaction, ["rate:T1", "initial:A"], t_eval=list(np.linspace(0, 1e-2, 41)),
                       initial={"A": a0}, rtol=1e-8, atol=1e-22)
    t = ds.time.values
    denominator = 1 + 2 * k * a0 * t
    exact = -2 * k * a0 ** 2 * t / denominator ** 2
    s = ds.sensitivity.sel(parameter="rate:T1")
    assert relative_error(s.sel(species="A").values, exact) < 1e-7
    assert relative_error(s.sel(species="P").values, -exact / 2) < 1e-7
    assert relative_error(ds.sensitivity.sel(parameter="initial:A", species="A").values, denominator ** -2) < 1e-7


@pytest.mark.parametrize("solver, order", [("rodas4", 4), ("rodas5p", 5)])
def test_sensitivities_converge_at_the_methods_order(self_reaction, solver, order):
    """With the exact augmented Jacobian the sensitivities keep the method's order: on 2A → P the error of
    ∂A/∂ln k at the end falls as (steps)^−p, fitted slope within [p − 0.5, p + 1.5] over rtol 1e-5 … 1e-9
    (the margin as in the state's order test of tests/test_integrator.py)."""
    k, a0, t_end = 5e9, 1e-6, 1e-2
    exact = -2 * k * a0 ** 2 * t_end / (1 + 2 * k * a0 * t_end) ** 2
    steps, errors = [], []
    for rtol in (1e-5, 1e-6, 1e-7, 1e-8, 1e-9):
        ds = sensitivities(self_reaction, "rate:T1", t_eval=[0.0, t_end], initial={"A": a0}, rtol=rtol,
                           atol=1e-30, solver=solver)
        steps.append(ds.attrs["n_steps"])
        errors.append(abs(ds.sensitivity.values[-1, 0, 0] - exact) / abs(exact))
    slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert order - 0.5 < slope < order + 1.5, (steps, errors)


def test_arrhenius_temperature_sensitivity_is_the_chain_rule(tmp_path):
    """A → B with an Arrhenius constant: ∂A/∂T = ∂A/∂ln k · Ea/(R·T²) = −t·k·A0·e^(−kt)·Ea/(RT²), from the
    central difference of k(T) only (relative error ≲ 1e-9) and the integrated ln k sensitivity; within
    1e-6 of the maximum."""
    toy_network(tmp_path, {"A": {"X": 1}, "B": {"X": 1}}, [("A => B", "0.01 s^-1", "")], name="arrh")
    text = (tmp_path / "arrh.yaml").read_text().replace(
        "rate: {k: 0.01 s^-1}", "rate: {type: arrhenius, k_ref: 0.01 s^-1, Ea: 50 kJ/mol}")
    (tmp_path / "arrh.yaml").write_text(text)
    network = resolve_model(tmp_path / "arrh.yaml")
    a0, T = 1e-3, 310.0
    ds = sensitivities(network, ["temperature", "rate:T1"], t_end=300, n_points=31, initial={"A": a0},
                       temperature=T, rtol=1e-8, atol=1e-20)
    k = float(ds.parameter_value.sel(parameter="rate:T1"))
    t = ds.time.values
    exact = -t * k * a0 * np.exp(-k * t) * 50e3 / (8.314462618 * T ** 2)
    assert relative_error(ds.sensitivity.sel(parameter="temperature", species="A").values, exact) < 1e-6
    assert list(ds.sensitivity_unit.values) == ["M K-1", "M"]


# --------------------------------------------------------------------------------------- finite differences

def central_difference(network, k, y0, t, rows, step, rtol=1e-12, **inputs):
    """(c(ln k_rows + step) − c(ln k_rows − step))/(2·step) with independent solve_ode runs."""
    up, down = k.copy(), k.copy()
    up[rows] *= np.exp(step)
    down[rows] *= np.exp(-step)
    c_up = solve_ode(network, up, y0, t, rtol=rtol, atol=1e-24, **inputs).concentration
    c_down = solve_ode(network, down, y0, t, rtol=rtol, atol=1e-24, **inputs).concentration
    return (c_up - c_down) / (2 * step)


def assert_matches_difference(s, fd, fd2, bound):
    """|S − FD| ≤ bound·max_t|S| per species wherever the difference is well conditioned: the central
    differences with two steps (h and 2h) agree with each other to 0.1·bound·max|S| (their truncation
    error, 4× larger with 2h, and the solver noise, ~rtol·c/h, both show in that disagreement) and
    max|S| is above round-off. Returns (largest error relative to max|S| there, species compared)."""
    scale = np.maximum(np.abs(s).max(axis=0), np.abs(fd).max(axis=0))
    conditioned = (np.abs(fd - fd2).max(axis=0) <= 0.1 * bound * scale) & (scale > 0)
    error = np.abs(s - fd).max(axis=0)
    assert np.all(error[conditioned] <= bound * scale[conditioned]), (error / np.maximum(scale, 1e-300),
                                                                       conditioned)
    return (float(np.max(error[conditioned] / scale[conditioned])) if conditioned.any() else 0.0,
            int(conditioned.sum()))


@pytest.mark.slow
def test_iron_matches_central_differences(iron):
    """Iron at "tme" with 20 µM Fe(II) over 600 s: the sensitivities (rtol 1e-10) of six reactions spanning
    k = 1e2 … 1e10 and of c0(Fe(II)) agree with central differences in ln k (step 1e-3, runs at rtol 1e-12)
    to 1e-4 of each curve's maximum wherever the difference is well conditioned (the steps 1e-3 and
    2e-3 agree to 1e-5: solver noise ~1e-12·c/step and O(step²) truncation both small). Measured:
    ≲ 6e-6 (the FD's own truncation), 7–8 of 9 species compared per parameter. The default rtol 1e-6
    result is within 1e-3 of each tight curve's maximum (full error control; measured ≲ 2e-7)."""
    tight = sensitivities(IRON, ["R1", "R5", "F1-OH", "F5", "F18", "FP2", "initial:Fe(II)"], rtol=1e-10,
                          **IRON_RUN)
    default = sensitivities(IRON, ["R1", "R5", "F1-OH", "F5", "F18", "FP2", "initial:Fe(II)"], **IRON_RUN)
    problem = build_problem(iron, [{"initial": {"Fe+2": "20 uM"}}], conditions="tme", t_out=tight.time.values)
    k, y0, t = problem.k[0].copy(), problem.y0[0], problem.t_out
    for label in ["R1", "R5", "F1-OH", "F5", "F18", "FP2"]:
        rows = [iron.reaction_ids.index(label)]
        fd, fd2 = (central_difference(iron, k, y0, t, rows, step) for step in (1e-3, 2e-3))
        s = tight.sensitivity.sel(parameter=f"rate:{label}").values
        assert assert_matches_difference(s, fd, fd2, 1e-4)[1] >= 2
        assert assert_matches_difference(default.sensitivity.sel(parameter=f"rate:{label}").values, s, s,
                                         1e-3)[1] >= 2
    fe = iron.species_index("Fe(II)")
    fd = []
    for h in (1e-3 * y0[fe], 2e-3 * y0[fe]):
        up, down = y0.copy(), y0.copy()
        up[fe] += h
        down[fe] -= h
        fd.append((solve_ode(iron, k, up, t, rtol=1e-12, atol=1e-24).concentration
                   - solve_ode(iron, k, down, t, rtol=1e-12, atol=1e-24).concentration) / (2 * h))
    assert assert_matches_difference(tight.sensitivity.sel(parameter="initial:Fe(II)").values, *fd, 1e-4)[1] >= 2


@pytest.mark.slow
def test_iron_ph_sensitivity_matches_central_differences_of_whole_runs(iron):
    """∂c/∂pH of iron at "tme" (integrated with ∂k/∂pH from the rate-constant evaluation) agrees with a
    central difference of two complete runs at pH 6.5 ± 1e-3 (rtol 1e-12) to 1e-4 of each curve's
    maximum where that difference is well conditioned (steps 1e-3 and 2e-3 agree to 1e-5; measured
    ≲ 2e-6)."""
    ds = sensitivities(IRON, "pH", rtol=1e-10, **IRON_RUN)
    fd = []
    for step in (1e-3, 2e-3):
        runs = build_problem(iron, [{"pH": 6.5 + step, "initial": {"Fe+2": "20 uM"}},
                                    {"pH": 6.5 - step, "initial": {"Fe+2": "20 uM"}}], conditions="tme",
                             t_out=ds.time.values)
        c_up, c_down = (solve_ode(iron, runs.k[i], runs.y0[i], runs.t_out, rtol=1e-12, atol=1e-24).concentration
                        for i in (0, 1))
        fd.append((c_up - c_down) / (2 * step))
    assert assert_matches_difference(ds.sensitivity.sel(parameter="pH").values, *fd, 1e-4)[1] >= 2


@pytest.mark.slow
def test_iron_extent_and_hydroxyl_sensitivities_match_central_differences(iron):
    """The sensitivities of every reaction's extent and of the total ·OH produced (Σ extent × positive
    stoichiometry, as fentonsim.metrics counts it; ``extents=True``) to ln k of three reactions agree with central
    differences of solve_ode's integrated extents (steps 1e-3, 2e-3; rtol 1e-12) to 1e-4 of each curve's
    maximum where well conditioned (measured ≲ 4e-6); the extents equal simulate's."""
    from fentonsim import simulate
    ds = sensitivities(IRON, ["R1", "F1-OH", "F5"], rtol=1e-10, extents=True, **IRON_RUN)
    sim = simulate(IRON, rtol=1e-10, **IRON_RUN)
    np.testing.assert_allclose(ds.extent.values, sim.extent.values, rtol=1e-8, atol=1e-15)
    problem = build_problem(iron, [{"initial": {"Fe+2": "20 uM"}}], conditions="tme", t_out=ds.time.values)
    k, y0, t = problem.k[0].copy(), problem.y0[0], problem.t_out
    made = np.clip(iron.net_stoich[:, iron.species.index("hydroxyl")], 0, None)
    for label in ["R1", "F1-OH", "F5"]:
        fd = []
        for step in (1e-3, 2e-3):
            up, down = k.copy(), k.copy()
            up[iron.reaction_ids.index(label)] *= np.exp(step)
            down[iron.reaction_ids.index(label)] *= np.exp(-step)
            fd.append((solve_ode(iron, up, y0, t, rtol=1e-12, atol=1e-24).extent
                       - solve_ode(iron, down, y0, t, rtol=1e-12, atol=1e-24).extent) / (2 * step))
        s = ds.extent_sensitivity.sel(parameter=f"rate:{label}").values
        assert assert_matches_difference(s, *fd, 1e-4)[1] >= 10
        oh = ds.oh_produced_sensitivity.sel(parameter=f"rate:{label}").values
        assert assert_matches_difference(oh[:, None], (fd[0] @ made)[:, None], (fd[1] @ made)[:, None], 1e-4)[1] == 1


@pytest.mark.slow
def test_sbml_export_of_iron_gives_the_same_sensitivities(tmp_path):
    """An SBML model (iron exported at "tme", pH 6.5, 20 µM Fe(II)) runs through the same path: its
    sensitivities to ln k of its reactions (ids `r_<id>`) equal the mechanism's to 1e-6 of each curve's
    maximum (the export reproduces the ODE solution to ~1e-9)."""
    from fentonsim.sbml import export_model
    path = tmp_path / "fe.xml"
    path.write_text(export_model(IRON, conditions="tme", ph=6.5, initial={"Fe+2": "20 uM"}), encoding="utf-8")
    imported = sensitivities(path, ["r_R1", "r_F5", "r_F18"], t_end=600, n_points=61, rtol=1e-10, atol=1e-24)
    original = sensitivities(IRON, ["R1", "F5", "F18"], rtol=1e-10, atol=1e-24, **IRON_RUN)
    assert list(imported.species.values) == list(original.species.values)
    a, b = original.sensitivity.values, imported.sensitivity.values
    scale = np.abs(a).max(axis=0)
    assert np.all(np.abs(a - b).max(axis=0) <= 1e-6 * scale + 1e-30)


#: The copper catalyst of fentonsim compare (copper.yaml + glutathione.yaml, 20 µM Cu⁺) at "tme" for 600 s.
COPPER_FILES = [str(MECHANISMS / "copper.yaml"), str(MECHANISMS / "glutathione.yaml")]
COPPER_RUN = dict(conditions="tme", initial={"Cu+": "20 uM"}, t_end=600, n_points=61)
#: Copper reactions spanning k = 5e-6 … 1e10 (M^(1−m) s⁻¹) with the largest control of its ·OH at "tme":
#: O2 supply, the Cu(I)–glutathione cycle (CG*), GSH chemistry (G*) and the ROS core (R7).
COPPER_PARAMETERS = ["O2X-in", "CG1", "CG2", "CG2:reverse", "CG4", "CG5", "G3", "G4", "R7"]


def _fd_rows(network, k, y0, t, label):
    """Central differences in ln k of ``label`` (steps 1e-3 and 2e-3; runs at rtol 1e-12): concentrations and
    extents of each step."""
    rows = [network.reaction_ids.index(label)]
    out = []
    for step in (1e-3, 2e-3):
        up, down = k.copy(), k.copy()
        up[rows] *= np.exp(step)
        down[rows] *= np.exp(-step)
        a = solve_ode(network, up, y0, t, rtol=1e-12, atol=1e-24)
        b = solve_ode(network, down, y0, t, rtol=1e-12, atol=1e-24)
        out.append(((a.concentration - b.concentration) / (2 * step), (a.extent - b.extent) / (2 * step)))
    return out


@pytest.mark.slow
def test_copper_matches_central_differences():
    """Copper with glutathione (compare's copper catalyst, 20 µM Cu⁺) at "tme" over 600 s: the sensitivities
    (rtol 1e-10) of every concentration and of the total ·OH produced to ln k of nine reactions spanning
    k = 5e-6 … 1e10, and to c0(Cu⁺), agree with central differences (steps 1e-3, 2e-3; runs at rtol 1e-12) to
    1e-4 of each curve's maximum wherever the difference is well conditioned (the two steps agree to 1e-5), for
    at least 10 of the 15 state variables per parameter. Measured: ≲ 4e-7 for ln k, 9e-7 for c0(Cu⁺), ≲ 2e-7
    for ·OH produced; 14 of 15 species well conditioned (a sensitivity 1e-3 of its maximum off fails)."""
    network = resolve_model(COPPER_FILES)
    ds = sensitivities(network, [f"rate:{label}" for label in COPPER_PARAMETERS] + ["initial:Cu+"], rtol=1e-10,
                       extents=True, **COPPER_RUN)
    problem = build_problem(network, [{"initial": {"Cu+": "20 uM"}}], conditions="tme", t_out=ds.time.values)
    k, y0, t = problem.k[0].copy(), problem.y0[0], problem.t_out
    made = np.clip(network.net_stoich[:, network.species.index("hydroxyl")], 0, None)
    for label in COPPER_PARAMETERS:
        (fd, fd_extent), (fd2, fd2_extent) = _fd_rows(network, k, y0, t, label)
        assert assert_matches_difference(ds.sensitivity.sel(parameter=f"rate:{label}").values, fd, fd2, 1e-4)[1] >= 10
        oh = ds.oh_produced_sensitivity.sel(parameter=f"rate:{label}").values[:, None]
        assert assert_matches_difference(oh, (fd_extent @ made)[:, None], (fd2_extent @ made)[:, None], 1e-4)[1] == 1
    cu = network.species_index("Cu+")
    fd = []
    for h in (1e-3 * y0[cu], 2e-3 * y0[cu]):
        up, down = y0.copy(), y0.copy()
        up[cu] += h
        down[cu] -= h
        fd.append((solve_ode(network, k, up, t, rtol=1e-12, atol=1e-24).concentration
                   - solve_ode(network, k, down, t, rtol=1e-12, atol=1e-24).concentration) / (2 * h))
    assert assert_matches_difference(ds.sensitivity.sel(parameter="initial:Cu+").values, *fd, 1e-4)[1] >= 10


@pytest.mark.slow
def test_sbml_model_matches_central_differences(tmp_path):
    """An SBML model — copper with glutathione exported at "tme" with 20 µM Cu⁺ (SBML L3V2, effective constants
    as parameters) and read back through the SBML importer — has sensitivities (rtol 1e-10) to ln k of seven of
    its reactions (ids `r_<id>`) that agree with central differences of the imported network's own solves
    (steps 1e-3, 2e-3; rtol 1e-12) to 1e-4 of each curve's maximum where well conditioned, for at least 10 of
    its 15 species (measured ≲ 4e-7, 14 species)."""
    from fentonsim.sbml import export_model
    path = tmp_path / "cu.xml"
    path.write_text(export_model(COPPER_FILES, conditions="tme", initial={"Cu+": "20 uM"}), encoding="utf-8")
    network = resolve_model(path)
    labels = ["r_O2Xmin", "r_CG1", "r_CG2", "r_CG2_reverse", "r_CG4", "r_G4", "r_R7"]
    ds = sensitivities(network, labels, t_end=600, n_points=61, rtol=1e-10, atol=1e-24)
    problem = build_problem(network, [{}], t_out=ds.time.values)
    k, y0, t = problem.k[0].copy(), problem.y0[0], problem.t_out
    assert y0[network.species_index("Cu+")] == pytest.approx(20e-6)
    for label in labels:
        (fd, _), (fd2, _) = _fd_rows(network, k, y0, t, label)
        assert assert_matches_difference(ds.sensitivity.sel(parameter=f"rate:{label}").values, fd, fd2, 1e-4)[1] >= 10


def test_iron_all_reactions_and_zero_constants(iron):
    """Every reaction by default, as `rate:<id>`; reactions whose k is 0 at these conditions (the ferryl
    branches at pH 6.5) have sensitivity exactly 0; the concentrations equal simulate's solution."""
    from fentonsim import simulate
    ds = sensitivities(IRON, extents=True, **IRON_RUN)
    assert list(ds.parameter.values) == [f"rate:{rid}" for rid in iron.reaction_ids]
    zero = ds.parameter_value.values == 0
    assert zero.any()
    assert np.all(ds.sensitivity.values[:, :, zero] == 0) and np.all(ds.extent_sensitivity.values[:, :, zero] == 0)
    sim = simulate(IRON, **IRON_RUN)
    np.testing.assert_allclose(ds.concentration.values, sim.concentration.values, rtol=1e-5, atol=1e-18)
    assert ds.attrs["conditions"] == "tme" and ds.attrs["error_control"] == "full"


@pytest.mark.parametrize("inputs", [
    dict(boluses=[Bolus("A", 5e-4, 120.0)]),
    dict(boluses=[Assignment("A", 2e-4, 120.0)]),
    dict(sources=[Source.zero_order("A", 2e-6, start=50.0, stop=250.0)]),
], ids=["bolus", "assignment", "source"])
def test_inputs_match_central_differences(first_order, inputs):
    """A bolus leaves S unchanged, an assignment resets S of its species to 0 and a source feeds the state
    only: with each, ∂c/∂ln k and ∂c/∂A0 of A → B agree with central differences (steps 1e-4 and 2e-4,
    rtol 1e-12) to 1e-6 of each curve's maximum, for both species."""
    a0, k = 1e-3, np.array([0.01])
    ds = sensitivities(first_order, ["T1", "initial:A"], t_end=300, n_points=31, initial={"A": a0},
                       rtol=1e-9, atol=1e-20, **inputs)
    t, y0 = ds.time.values, np.array([a0, 0.0])
    fd = [central_difference(first_order, k, y0, t, [0], step, **inputs) for step in (1e-4, 2e-4)]
    assert assert_matches_difference(ds.sensitivity.sel(parameter="rate:T1").values, *fd, 1e-6)[1] == 2
    fd0 = []
    for h in (1e-4 * a0, 2e-4 * a0):
        fd0.append((solve_ode(first_order, k, y0 + [h, 0], t, rtol=1e-12, atol=1e-24, **inputs).concentration
                    - solve_ode(first_order, k, y0 - [h, 0], t, rtol=1e-12, atol=1e-24, **inputs).concentration)
                   / (2 * h))
    assert assert_matches_difference(ds.sensitivity.sel(parameter="initial:A").values, *fd0, 1e-6)[1] == 2


#: 1,000 steps × the generated runs' atol of 1e-16 M (see the test below).
ABSOLUTE_SLACK = 1e-13


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mechanisms(max_reactions=5), st.data())
def test_generated_networks_match_central_differences(mechanism, data):
    """On hypothesis-generated networks (k 1e-3 … 1e10, mixed orders, branches, pools) the sensitivity to
    ln k of each reaction agrees with central differences of two independent solves (step 1e-3, rtol
    1e-11) to 1e-3 of each curve's maximum plus ABSOLUTE_SLACK, wherever two difference steps (1e-3, 2e-3)
    agree with each other to 1e-4 and the change they measure is well above the solves' error (a
    well-conditioned difference). The slack is the absolute error the
    run's atol (1e-16 M per step) can accumulate over ~1,000 steps: a curve whose maximum is ~1e-14 M is
    only resolved to that level. Networks the solver cannot finish (explosive generated chemistry) are
    skipped."""
    network = compile_network(mechanism)
    pH = data.draw(st.floats(min_value=2, max_value=12))
    y0 = np.array(data.draw(st.lists(st.floats(min_value=0, max_value=1e-3), min_size=network.n_species,
                                     max_size=network.n_species)))
    t = np.linspace(0, 10, 6)
    initial = {name: float(v) for name, v in zip(network.species, y0)}
    try:
        ds = sensitivities(network, t_eval=list(t), initial=initial, ph=pH if network.depends_on_ph else None,
                           rtol=1e-9, atol=1e-16, max_steps=20_000)
        s_all = ds.sensitivity.values
    except SolverError:
        return
    k = ds.parameter_value.values.copy()  # one network reaction per parameter: its k at the run's conditions
    np.testing.assert_allclose(ds.concentration.values[0], y0, rtol=1e-12)
    for j in range(network.n_reactions):
        try:
            fd1 = central_difference(network, k, y0, t, [j], 1e-3, rtol=1e-11, max_steps=50_000)
            fd2 = central_difference(network, k, y0, t, [j], 2e-3, rtol=1e-11, max_steps=50_000)
        except SolverError:
            continue
        s = s_all[:, :, j]
        scale = np.maximum(np.abs(s).max(axis=0), np.abs(fd1).max(axis=0))
        # Well conditioned: the two steps agree, and the change a step makes (scale·2h) stands clear of the
        # solves' own error (rtol 1e-11 of the concentration, ×1,000) — else both differences can round to
        # the same number (0) on a species that grows to 1e10 M, and "agree".
        resolved = scale * 2e-3 >= 1e-8 * np.abs(ds.concentration.values).max(axis=0)
        conditioned = (np.abs(fd1 - fd2).max(axis=0) <= 1e-4 * scale) & (scale > 1e-14) & resolved
        error = np.abs(s - fd1).max(axis=0)
        allowed = 1e-3 * scale + ABSOLUTE_SLACK
        assert np.all(error[conditioned] <= allowed[conditioned]), (network.reaction_ids[j], error / scale)


# ------------------------------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("parameters, kwargs, message", [
    (["rate:NOPE"], {}, "has no reaction `NOPE`"),
    (["initial:Xyz"], {}, "not a state variable"),
    (["dose:A"], {}, "unsupported sensitivity parameter"),
    (["pH"], {}, "no rate constant of `toy` depends on pH"),
    (["temperature"], {}, "depends on temperature"),
    (["T1", "rate:T1"], {}, "given twice"),
    ([], {}, "`parameters` is empty"),
    ([3], {}, "non-empty string"),
    (None, {"solver": "LSODA"}, "compiled Rosenbrock"),
    (None, {"error_control": "none"}, "`error_control`"),
    (None, {"max_steps": 0}, "`max_steps`"),
])
def test_unsupported_inputs_are_refused(first_order, parameters, kwargs, message):
    """Unknown or unsupported parameters (doses), conditions the model cannot feel, non-compiled solvers and
    bad options are ConditionsErrors naming the problem — never a silent zero."""
    with pytest.raises(ConditionsError, match=message):
        sensitivities(first_order, parameters, t_end=10, n_points=3, initial={"A": 1e-3}, **kwargs)


def test_a_failed_integration_is_a_solver_error(first_order):
    """A step budget that cannot reach the end raises SolverError with the time reached."""
    with pytest.raises(SolverError, match="step limit"):
        sensitivities(first_order, t_end=1e4, n_points=3, initial={"A": 1e-3}, max_steps=3)


# ------------------------------------------------------------------------------------- kernel layout and results

@pytest.mark.parametrize("solver", ["rodas5p", "rodas4"])
def test_each_column_is_independent_of_the_others(iron, solver):
    """With ``error_control="state"`` the steps do not depend on which parameters ride along, so a parameter's
    sensitivities must not either: computed alone, in a group of five (the kernel pads its columns to a multiple
    of four) and among all 37 reactions (with k = 0 columns dropped inside), every column agrees to 1e-12 of its
    curve's maximum (the kernel's column loops are independent: measured identical)."""
    labels = ["rate:R1", "rate:F5", "rate:F18", "rate:FP2", "initial:Fe(II)"]
    together = sensitivities(IRON, None, error_control="state", solver=solver, **IRON_RUN)
    group = sensitivities(IRON, labels, error_control="state", solver=solver, **IRON_RUN)
    assert together.attrs["n_steps"] == group.attrs["n_steps"]
    for label in labels:
        alone = sensitivities(IRON, label, error_control="state", solver=solver, **IRON_RUN).sensitivity.values[..., 0]
        scale = np.abs(alone).max(axis=0) + 1e-300
        assert np.all(np.abs(group.sensitivity.sel(parameter=label).values - alone).max(axis=0) <= 1e-12 * scale)
        if label.startswith("rate:"):
            assert np.all(np.abs(together.sensitivity.sel(parameter=label).values - alone).max(axis=0)
                          <= 1e-12 * scale)


def test_direct_dataset_is_identical_to_the_public_constructor(iron, monkeypatch):
    """The result is put together from ready Variables (``_construct``, as fentonsim.results does); it equals
    the Dataset xarray's public constructor builds from the same parts — coordinates, dtypes, attributes, the
    extent variables — and results sharing cached label indexes stay independent of each other."""
    import xarray as xr
    import fentonsim.sensitivity as module
    kwargs = dict(parameters=["R1", "initial:Fe(II)", "pH", "temperature"], extents=True, **IRON_RUN)
    direct = sensitivities(IRON, **kwargs)
    again = sensitivities(IRON, **kwargs)
    monkeypatch.setattr(module, "DIRECT", False)
    public = sensitivities(IRON, **kwargs)
    for ds in (direct, again, public):
        ds.attrs.pop("wall_time_s")
    xr.testing.assert_identical(direct, public)
    assert {name: ds.dtype for name, ds in direct.variables.items()} == \
        {name: ds.dtype for name, ds in public.variables.items()}
    again["parameter_kind"].values[0] = "edited"
    again.attrs["solver"] = "edited"
    xr.testing.assert_identical(direct, public)


@pytest.mark.slow
def test_sensitivity_benchmark_rows_carry_their_thresholds():
    """benchmarks/bench_sensitivity.py in quick mode: every threshold set for it names one of its rows (a renamed
    case would silently skip the regression check), fentonsim's answers agree with the tight reference, and
    libRoadRunner's (when installed) agree before its ratio counts."""
    from benchmarks import bench_sensitivity
    from benchmarks.thresholds import MAX_SLOWDOWN, MIN_SPEEDUP
    rows = {row["case"]: row for row in bench_sensitivity.run(quick=True)}
    ours = [case for case in list(MIN_SPEEDUP) + list(MAX_SLOWDOWN) if "sensitivit" in case.lower()]
    assert len(ours) >= 4 and set(ours) <= set(rows), set(ours) - set(rows)
    assert all(row.get("agrees", True) for row in rows.values()), rows
    for case in ours:
        kind = "speedup" if case in MIN_SPEEDUP else "slowdown"
        assert kind in rows[case] or "not installed" in rows[case].get("note", ""), rows[case]
