"""General rate laws (fentonsim.laws, kernels/laws.py): programs that evaluate their expression trees
exactly, exact derivatives, the ODE against closed forms and libRoadRunner, and clear refusals where a
solver needs mass action."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.special import lambertw

import fentonsim as fs
from fentonsim.errors import ConditionsError
from fentonsim.expression import derivative, evaluate, num, op, sym, to_text
from fentonsim.kernels.laws import evaluate_programs
from fentonsim.laws import compile_laws

libsbml = pytest.importorskip("libsbml")

NAMES = ("A", "B")
values = st.floats(min_value=0.05, max_value=5.0)


def trees(max_leaves=7):
    """Expressions of A, B and time whose value and derivatives stay finite for A, B, t in [0.05, 5]."""
    leaves = st.one_of(st.floats(min_value=0.1, max_value=3.0).map(num), st.sampled_from(NAMES + ("time",)).map(sym))

    def extend(children):
        return st.one_of(
            st.tuples(st.sampled_from(["plus", "times", "min", "max"]), st.lists(children, min_size=2, max_size=3))
            .map(lambda t: op(t[0], *t[1])),
            st.tuples(children, children).map(lambda t: op("minus", *t)),
            st.tuples(children, children).map(lambda t: op("divide", t[0], op("plus", num(1.0), op("abs", t[1])))),
            children.map(lambda c: op("exp", op("divide", c, num(10.0)))),
            children.map(lambda c: op("ln", op("plus", num(1.0), op("abs", c)))),
            children.map(lambda c: op("sqrt", op("plus", num(1.0), op("abs", c)))),
            st.tuples(children, st.sampled_from([2.0, 3.0, 0.5])).map(
                lambda t: op("power", op("plus", num(1.0), op("abs", t[0])), num(t[1]))),
            st.tuples(children, children, children).map(
                lambda t: op("piecewise", t[0], ("rel", "gt", (t[1], num(1.0))), t[2])),
        )
    return st.recursive(leaves, extend, max_leaves=max_leaves)


def _run(programs, index, x, t, start_array, stop=None):
    stack = np.empty(programs.stack_size)
    start = start_array[index]
    end = start_array[index + 1] if stop is None else stop
    out = np.empty(1)
    evaluate_programs(programs.code, programs.operand, programs.constants, np.array([start, end]), np.ones(1),
                      np.asarray(x, float), t, stack, out)
    return out[0]


@settings(max_examples=200, deadline=None)
@given(trees(), values, values, values)
def test_a_program_computes_what_its_expression_tree_computes(expr, a, b, t):
    """Running compile(e) equals expression.evaluate(e) at any state and time (to round-off)."""
    programs = compile_laws([expr], ["A", "B"])
    expected = float(evaluate(expr, {"A": a, "B": b, "time": t}))
    assert _run(programs, 0, [a, b], t, programs.rate_start) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(trees(), values, values, values)
def test_derivative_programs_match_central_differences(expr, a, b, t):
    """Each ∂g/∂x_j and ∂g/∂t program agrees with a central difference of g where g is finite and smooth
    nearby."""
    programs = compile_laws([expr], ["A", "B"])
    point = {"A": a, "B": b, "time": t}
    h = 1e-6
    derivatives = {NAMES[j]: _run(programs, d, [a, b], t, programs.deriv_start)
                   for d, j in enumerate(programs.deriv_species)}
    derivatives["time"] = _run(programs, 0, [a, b], t, programs.time_start)
    for name in NAMES + ("time",):
        up, down = dict(point), dict(point)
        up[name] += h
        down[name] -= h
        g_up, g_down = float(evaluate(expr, up)), float(evaluate(expr, down))
        if not np.all(np.isfinite([g_up, g_down, float(evaluate(expr, point))])):
            continue  # g overflows near the point (exp of a large power): no difference to compare with
        one_sided = (float(evaluate(expr, up)) - float(evaluate(expr, point))) / h
        other_side = (float(evaluate(expr, point)) - g_down) / h
        if abs(one_sided - other_side) > 1e-4 * (1 + abs(one_sided)):
            continue  # a kink (abs, min, max, piecewise) within h: no derivative to compare with
        exact = derivatives.get(name, 0.0)
        assert exact == pytest.approx((g_up - g_down) / (2 * h), rel=1e-5, abs=1e-6), (to_text(expr), name)


def test_symbolic_derivative_of_michaelis_menten():
    """d/dS of V·S/(K + S) is V·K/(K + S)², checked at a point (the tree is exact, not a difference)."""
    law = op("divide", op("times", sym("V"), sym("S")), op("plus", sym("K"), sym("S")))
    d = derivative(law, "S")
    assert evaluate(d, {"V": 2.0, "K": 3.0, "S": 5.0}) == pytest.approx(2.0 * 3.0 / 64.0, rel=1e-15)


def test_a_leaf_operand_fuses_into_its_operation_and_still_counts_as_read():
    """V·S/(K + S) assembles to 5 instructions (push V, ·S, push K, +S, ÷) instead of 7, the fused ones
    carry S's index so the SSA's dependency graph still sees S read, and the value is unchanged."""
    from fentonsim.laws import READS_STATE
    from fentonsim.stochastic_laws import _reads

    law = op("divide", op("times", num(2.0), sym("S")), op("plus", num(3.0), sym("S")))
    programs = compile_laws([law], ["P", "S"])
    code = programs.code[programs.rate_start[0]:programs.rate_start[1]]
    operand = programs.operand[programs.rate_start[0]:programs.rate_start[1]]
    assert code.size == 5
    assert sum(int(c) in READS_STATE for c in code) == 2
    assert _reads(code, operand) == {1}
    assert _run(programs, 0, [0.0, 5.0], 0.0, programs.rate_start) == pytest.approx(10.0 / 8.0, rel=1e-15)


# ---- SBML models with general laws, written with libsbml.

def _sbml(path, species, reactions, parameters=(), compartment_size=1.0, substance="mole"):
    """An SBML L3V2 model in mole, litre, second; species (id, initial concentration [M], boundary);
    reactions (id, {reactant: ν}, {product: ν}, kinetic-law formula); parameters (id, value). With
    ``substance="item"`` the species are molecule counts (amounts, hasOnlySubstanceUnits) instead."""
    counts = substance == "item"
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId("general_laws")
    model.setSubstanceUnits(substance)
    model.setTimeUnits("second")
    model.setVolumeUnits("litre")
    model.setExtentUnits(substance)
    c = model.createCompartment()
    c.setId("cell")
    c.setSize(compartment_size)
    c.setConstant(True)
    c.setSpatialDimensions(3)
    for sid, value, boundary in species:
        s = model.createSpecies()
        s.setId(sid)
        s.setCompartment("cell")
        if counts:
            s.setInitialAmount(value)
        else:
            s.setInitialConcentration(value)
        s.setHasOnlySubstanceUnits(counts)
        s.setBoundaryCondition(boundary)
        s.setConstant(False)
    for pid, value in parameters:
        p = model.createParameter()
        p.setId(pid)
        p.setValue(value)
        p.setConstant(True)
    for rid, reactants, products, formula in reactions:
        r = model.createReaction()
        r.setId(rid)
        r.setReversible(False)
        for role, terms in (("reactant", reactants), ("product", products)):
            for sid, nu in terms.items():
                ref = r.createReactant() if role == "reactant" else r.createProduct()
                ref.setSpecies(sid)
                ref.setStoichiometry(nu)
                ref.setConstant(True)
        law = r.createKineticLaw()
        law.setMath(libsbml.parseL3Formula(formula))
    path.write_text(libsbml.writeSBMLToString(doc))
    return path


def _michaelis_menten(tmp_path, volume=1.0):
    """A peroxidase-like nanozyme: H2O2 → P at k_cat·E·S/(K_m + S) per litre (amount rate × volume)."""
    return _sbml(tmp_path / "mm.xml", [("S", 1e-3, False), ("P", 0.0, False)],
                 [("R", {"S": 1}, {"P": 1}, "cell * kcat * E * S / (Km + S)")],
                 parameters=[("kcat", 3.0e3), ("E", 1e-7), ("Km", 2e-4)], compartment_size=volume)


def test_michaelis_menten_follows_the_lambert_w_solution(tmp_path):
    """S(t) = K·W((S0/K)·exp((S0 − V t)/K)) (the integrated Michaelis–Menten equation) to 1e-7 relative."""
    t = np.linspace(0, 6, 61)
    result = fs.simulate(_michaelis_menten(tmp_path, volume=2.5), t_eval=t, rtol=1e-10)
    s0, vmax, km = 1e-3, 3.0e3 * 1e-7, 2e-4
    exact = km * lambertw((s0 / km) * np.exp((s0 - vmax * t) / km)).real
    np.testing.assert_allclose(result["concentration"].sel(species="S").values, exact, rtol=1e-7, atol=1e-14)
    # Extents are the integral of the rate: S consumed equals the extent of R.
    extent = result["extent"].sel(reaction="R").values
    np.testing.assert_allclose(extent, s0 - exact, rtol=1e-7, atol=1e-13)


def test_time_dependent_law_integrates_exactly(tmp_path):
    """A zero-order supply at rate a·t gives P = a·t²/2 (∂f/∂t enters the Rosenbrock stages)."""
    path = _sbml(tmp_path / "ramp.xml", [("P", 0.0, False), ("Q", 1.0, False)],
                 [("R", {}, {"P": 1}, "cell * a * time"), ("D", {"Q": 1}, {}, "cell * 0.1 * Q")],
                 parameters=[("a", 2e-3)])
    t = np.linspace(0, 10, 11)
    result = fs.simulate(path, t_eval=t, rtol=1e-9)
    np.testing.assert_allclose(result["concentration"].sel(species="P").values, 1e-3 * t ** 2, rtol=1e-9,
                               atol=1e-15)


def test_mass_action_written_as_a_general_law_matches_the_mass_action_kernel(tmp_path):
    """A → B at k·A·E (E a boundary species) with a second law that is not mass action (so the network is
    general) gives the same A and B as the mass-action network alone where the general reaction is off."""
    general = _sbml(tmp_path / "g.xml", [("A", 1e-3, False), ("B", 0.0, False), ("E", 2e-6, True), ("C", 0.0, False)],
                    [("R1", {"A": 2}, {"B": 1}, "cell * k * A^2 * E"),
                     ("R2", {}, {"C": 1}, "cell * off * B / (1e-3 + B)")],
                    parameters=[("k", 5e8), ("off", 0.0)])
    plain = _sbml(tmp_path / "m.xml", [("A", 1e-3, False), ("B", 0.0, False), ("E", 2e-6, True)],
                  [("R1", {"A": 2}, {"B": 1}, "cell * k * A^2 * E")], parameters=[("k", 5e8)])
    assert fs.compile_network(fs.load(general)).has_general_laws
    assert not fs.compile_network(fs.load(plain)).has_general_laws
    t = np.linspace(0, 5, 26)
    a = fs.simulate(general, t_eval=t, rtol=1e-10)["concentration"]
    b = fs.simulate(plain, t_eval=t, rtol=1e-10)["concentration"]
    for name in ("A", "B"):
        np.testing.assert_allclose(a.sel(species=name).values, b.sel(species=name).values, rtol=1e-8, atol=1e-15)


def test_michaelis_menten_agrees_with_libroadrunner(tmp_path):
    """A nanozyme model with Michaelis–Menten, Hill and inhibited laws matches libRoadRunner's CVODE to 1e-6."""
    roadrunner = pytest.importorskip("roadrunner")
    path = _sbml(tmp_path / "nanozyme.xml",
                 [("H2O2", 1e-3, False), ("TMB", 5e-4, False), ("oxTMB", 0.0, False), ("GSH", 2e-4, False),
                  ("GSSG", 0.0, False)],
                 [("peroxidase", {"H2O2": 1, "TMB": 1}, {"oxTMB": 1},
                   "cell * kcat * E * H2O2 / (Km + H2O2) * TMB / (Kt + TMB) / (1 + GSH / Ki)"),
                  ("reduction", {"oxTMB": 1, "GSH": 2}, {"TMB": 1, "GSSG": 1},
                   "cell * Vr * oxTMB^n / (Kr^n + oxTMB^n) * GSH / (Kg + GSH)")],
                 parameters=[("kcat", 4e3), ("E", 1e-7), ("Km", 3e-4), ("Kt", 1e-4), ("Ki", 5e-5), ("Vr", 2e-5),
                             ("Kr", 5e-5), ("n", 2.0), ("Kg", 1e-5)])
    t = np.linspace(0, 60, 121)
    ours = fs.simulate(path, t_eval=t, rtol=1e-10, atol=1e-16)["concentration"]
    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-16
    theirs = rr.simulate(0, 60, 121, ["time", "[H2O2]", "[TMB]", "[oxTMB]", "[GSH]", "[GSSG]"])
    for j, name in enumerate(("H2O2", "TMB", "oxTMB", "GSH", "GSSG"), start=1):
        np.testing.assert_allclose(ours.sel(species=name).values, theirs[:, j], rtol=1e-6, atol=1e-12)


def test_solvers_that_need_mass_action_refuse_general_laws(tmp_path):
    """The scipy solvers and sensitivities name the general-law reaction (the stochastic solvers run general
    laws: tests/test_laws_ssa.py)."""
    path = _michaelis_menten(tmp_path)
    for call in (lambda: fs.simulate(path, t_end=1, solver="LSODA"),
                 lambda: fs.sensitivities(path, t_end=1)):
        with pytest.raises(ConditionsError, match=r"general rate laws \(R\)"):
            call()


def test_a_law_reading_an_unknown_name_is_a_clear_error():
    """compile_laws names the law and the symbol it cannot read."""
    with pytest.raises(ValueError, match="reads Z"):
        compile_laws([op("times", sym("A"), sym("Z"))], ["A"])


def test_parameters_change_the_data_not_the_machine_code(tmp_path):
    """Two models with different laws run on the same compiled kernel: no new numba signature."""
    from fentonsim.kernels import laws as kernel
    fs.simulate(_michaelis_menten(tmp_path), t_end=1)
    before = len(kernel.integrate_rodas5p.signatures)
    other = _sbml(tmp_path / "hill.xml", [("S", 1e-3, False), ("P", 0.0, False)],
                  [("R", {"S": 1}, {"P": 1}, "cell * V * S^3 / (K^3 + S^3)")], parameters=[("V", 1e-4), ("K", 1e-4)])
    fs.simulate(other, t_end=1)
    assert len(kernel.integrate_rodas5p.signatures) == before
    assert math.isfinite(before) and before >= 1


def _document(build):
    """An SBML L3V2 document (mole, litre, second; compartment `cell` of 1 L) completed by ``build(model)``."""
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId("m")
    for attribute, unit in (("setSubstanceUnits", "mole"), ("setTimeUnits", "second"), ("setVolumeUnits", "litre"),
                            ("setExtentUnits", "mole")):
        getattr(model, attribute)(unit)
    c = model.createCompartment()
    c.setId("cell")
    c.setSize(1.0)
    c.setConstant(True)
    c.setSpatialDimensions(3)
    build(model)
    return libsbml.writeSBMLToString(doc)


def _species(model, sid, value):
    s = model.createSpecies()
    s.setId(sid)
    s.setCompartment("cell")
    s.setInitialConcentration(value)
    s.setHasOnlySubstanceUnits(False)
    s.setBoundaryCondition(False)
    s.setConstant(False)
    return s


def _parameter(model, pid, value, constant=True):
    p = model.createParameter()
    p.setId(pid)
    p.setValue(value)
    p.setConstant(constant)
    return p


def test_rate_rules_drive_parameters_below_zero_and_species(tmp_path):
    """dp/dt = −1 (p0 = 1) and d[S]/dt = p give p = 1 − t, negative after t = 1, and S = S0 + t − t²/2: a
    parameter under a rate rule is a signed state variable, reported as an observable."""
    def build(model):
        _species(model, "S", 2.0)
        _parameter(model, "p", 1.0, constant=False)
        for var, formula in (("p", "-1"), ("S", "p")):
            rule = model.createRateRule()
            rule.setVariable(var)
            rule.setMath(libsbml.parseL3Formula(formula))
    path = tmp_path / "rules.xml"
    path.write_text(_document(build))
    t = np.linspace(0, 3, 7)
    ds = fs.simulate(path, t_eval=t, rtol=1e-10)
    np.testing.assert_allclose(ds.observed.sel(observable="p").values, 1 - t, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ds.concentration.sel(species="S").values, 2 + t - t ** 2 / 2, rtol=1e-9)


def test_conversion_factor_and_fractional_stoichiometry_scale_the_changes(tmp_path):
    """A → 0.5 B at k·A with B's conversion factor 3: B = 1.5·(A0 − A) exactly, A = A0·e^(−kt)."""
    def build(model):
        _species(model, "A", 1e-3)
        _species(model, "B", 0.0).setConversionFactor("cf")
        _parameter(model, "cf", 3.0)
        r = model.createReaction()
        r.setId("R")
        r.setReversible(False)
        for role, sid, nu in (("reactant", "A", 1.0), ("product", "B", 0.5)):
            ref = r.createReactant() if role == "reactant" else r.createProduct()
            ref.setSpecies(sid)
            ref.setStoichiometry(nu)
            ref.setConstant(True)
        r.createKineticLaw().setMath(libsbml.parseL3Formula("cell * 0.2 * A"))
    path = tmp_path / "scaled.xml"
    path.write_text(_document(build))
    t = np.linspace(0, 10, 11)
    ds = fs.simulate(path, t_eval=t, rtol=1e-10)
    a = 1e-3 * np.exp(-0.2 * t)
    np.testing.assert_allclose(ds.concentration.sel(species="A").values, a, rtol=1e-8)
    np.testing.assert_allclose(ds.concentration.sel(species="B").values, 1.5 * (1e-3 - a), rtol=1e-8, atol=1e-15)
    assert set(ds.reaction.values) == {"R__A", "R__B"}


def test_piecewise_law_switches_where_its_condition_does(tmp_path):
    """A zero-order supply of 1e-4 M/s while [P] < 5e-4, then 0: P reaches 5e-4 at t = 5 s and stays (within
    one step's overshoot of the switch, bounded by the tolerance)."""
    def build(model):
        _species(model, "P", 0.0)
        r = model.createReaction()
        r.setId("R")
        r.setReversible(False)
        ref = r.createProduct()
        ref.setSpecies("P")
        ref.setStoichiometry(1)
        ref.setConstant(True)
        r.createKineticLaw().setMath(libsbml.parseL3Formula("cell * piecewise(1e-4, P < 5e-4, 0)"))
    path = tmp_path / "switch.xml"
    path.write_text(_document(build))
    ds = fs.simulate(path, t_eval=[0, 2.5, 10], rtol=1e-8)
    p = ds.concentration.sel(species="P").values
    assert p[1] == pytest.approx(2.5e-4, rel=1e-8)
    assert p[2] == pytest.approx(5e-4, rel=1e-3)


def _state_event_model(tmp_path, events, k=0.3):
    """A → ∅ at k·A (A0 = 1 mM) and a clock C with dC/dt = B (B = 0 until an event sets it): C(t_end) =
    t_end − t* tells the firing time t*. ``events``: (id, trigger, [(variable, value)], priority or None)."""
    def build(model):
        _species(model, "A", 1e-3)
        _parameter(model, "B", 0.0, constant=False)
        _parameter(model, "C", 0.0, constant=False)
        rule = model.createRateRule()
        rule.setVariable("C")
        rule.setMath(libsbml.parseL3Formula("B"))
        r = model.createReaction()
        r.setId("decay")
        r.setReversible(False)
        ref = r.createReactant()
        ref.setSpecies("A")
        ref.setStoichiometry(1)
        ref.setConstant(True)
        r.createKineticLaw().setMath(libsbml.parseL3Formula(f"cell * {k} * A"))
        for eid, trigger, assignments, priority in events:
            ev = model.createEvent()
            ev.setId(eid)
            ev.setUseValuesFromTriggerTime(True)
            t = ev.createTrigger()
            t.setMath(libsbml.parseL3Formula(trigger))
            t.setInitialValue(True)
            t.setPersistent(True)
            if priority is not None:
                ev.createPriority().setMath(libsbml.parseL3Formula(str(priority)))
            for variable, value in assignments:
                a = ev.createEventAssignment()
                a.setVariable(variable)
                a.setMath(libsbml.parseL3Formula(value))
    path = tmp_path / "events.xml"
    path.write_text(_document(build))
    return path


def test_a_state_event_fires_at_the_analytic_crossing_time(tmp_path):
    """`A < 0.5 mM` with A = A0·e^(−kt) fires at t* = ln 2 / k: C(10) = 10 − t* to 1e-8, and A is unchanged by
    the stop at the event (A(10) = A0·e^(−10k))."""
    path = _state_event_model(tmp_path, [("half", "A < 5e-4", [("B", "1")], None)])
    ds = fs.simulate(path, t_eval=[0.0, 5.0, 10.0], rtol=1e-10)
    t_star = math.log(2) / 0.3
    assert ds.observed.sel(observable="C").values[-1] == pytest.approx(10 - t_star, rel=1e-8)
    assert ds.concentration.sel(species="A").values[-1] == pytest.approx(1e-3 * math.exp(-3.0), rel=1e-8)


def test_simultaneous_events_follow_priority_and_refuse_a_tie(tmp_path):
    """Two events at the same crossing setting B: the higher priority executes first, so the other's value
    stays (B = 2 then the clock runs at 2); with equal priorities the order is SBML's chance: refused."""
    ordered = _state_event_model(tmp_path, [("first", "A < 5e-4", [("B", "1")], 10),
                                            ("second", "A < 5e-4", [("B", "2")], 1)])
    ds = fs.simulate(ordered, t_eval=[0.0, 10.0], rtol=1e-10)
    assert ds.observed.sel(observable="B").values[-1] == 2.0
    tie = _state_event_model(tmp_path, [("first", "A < 5e-4", [("B", "1")], 1),
                                        ("second", "A < 5e-4", [("B", "2")], 1)])
    with pytest.raises(ConditionsError, match="equal or no priority"):
        fs.simulate(tie, t_eval=[0.0, 10.0])


def test_an_event_can_set_off_another_at_the_same_instant(tmp_path):
    """`A < 0.5 mM` sets B = 1; `B > 0.5` then sets A back to 1 mM: after the cascade A restarts, so A
    crosses again at 2t* and B's clock has run since t* (C(10) = 10 − t*)."""
    path = _state_event_model(tmp_path, [("half", "A < 5e-4", [("B", "1")], None),
                                         ("refill", "B > 0.5", [("A", "1e-3")], None)])
    ds = fs.simulate(path, t_eval=[0.0, 10.0], rtol=1e-10)
    t_star = math.log(2) / 0.3
    assert ds.concentration.sel(species="A").values[-1] == pytest.approx(1e-3 * math.exp(-0.3 * (10 - t_star)),
                                                                          rel=1e-7)


def test_an_event_true_at_the_start_fires_at_the_start(tmp_path):
    """A trigger already true at t0 whose initialValue is false fires at t0 (SBML), before the first output:
    B = 1 from t = 0, so the clock reads C(t) = t."""
    path = _state_event_model(tmp_path, [("now", "A > 0", [("B", "1")], None)])
    text = path.read_text().replace('initialValue="true"', 'initialValue="false"')
    path.write_text(text)
    ds = fs.simulate(path, t_eval=[0.0, 1.0, 2.0], rtol=1e-10)
    assert list(ds.observed.sel(observable="B").values) == [1.0, 1.0, 1.0]
    assert ds.observed.sel(observable="C").values == pytest.approx([0.0, 1.0, 2.0], rel=1e-9, abs=1e-12)


def test_a_delayed_event_executes_after_its_delay_with_trigger_time_values(tmp_path):
    """`A < 0.5 mM` at t* = ln 2/k with delay 1.5 s sets B = 1 at t* + 1.5: C(10) = 10 − t* − 1.5 to 1e-8."""
    path = _state_event_model(tmp_path, [("half", "A < 5e-4", [("B", "1")], None)])
    doc = libsbml.readSBMLFromString(path.read_text())
    doc.getModel().getEvent(0).createDelay().setMath(libsbml.parseL3Formula("1.5"))
    path.write_text(libsbml.writeSBMLToString(doc))
    ds = fs.simulate(path, t_eval=[0.0, 10.0], rtol=1e-10)
    t_star = math.log(2) / 0.3
    assert ds.observed.sel(observable="C").values[-1] == pytest.approx(10 - t_star - 1.5, rel=1e-8)
