"""SBML rules beyond assignment and rate rules: algebraic rules solved exactly into assignment rules
(fentonsim.sbml.algebraic), checked against analytic solutions, and refused with file:line when they are not
exactly solvable."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fentonsim
from fentonsim import compile_network, simulate
from fentonsim.expression import evaluate, num, op, sym, symbols
from fentonsim.sbml import SBMLError
from fentonsim.sbml.algebraic import AlgebraicRefusal, linear_in, solve
from test_sbml import apply, ci, law, reaction, species, write_sbml

pytestmark = pytest.mark.usefixtures("libsbml")

MOLE = 'substanceUnits="mole" timeUnits="second" volumeUnits="litre"'
TIME = '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> t </csymbol>'


@pytest.fixture(scope="module")
def libsbml():
    from conftest import require_module

    return require_module("libsbml", "sbml")


def algebraic(*maths):
    return "<listOfRules>" + "".join(
        f'<algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML">{m}</math></algebraicRule>'
        for m in maths) + "</listOfRules>"


def parameter(pid, value=None, constant=False):
    value = "" if value is None else f' value="{value}"'
    return f'<parameter id="{pid}"{value} constant="{str(constant).lower()}"/>'


def cn(value):
    return f"<cn> {value} </cn>"


def decay_of_s1(extra_species="", extra_parameters="", rules=""):
    """S1 (2 mol) decays at k = 0.3 s⁻¹, plus what a test adds."""
    return (f"<listOfSpecies>{species('S1', 2.0)}{extra_species}</listOfSpecies>"
            f"<listOfParameters>{parameter('k', 0.3, True)}{extra_parameters}</listOfParameters>{rules}"
            f"<listOfReactions>{reaction('decay', [('S1', 1)], [], law(ci('k'), ci('S1')))}</listOfReactions>")


TIMES = [0.0, 0.5, 2.0, 7.0]


def test_algebraic_rule_fixes_a_species_reactions_do_not_change(tmp_path):
    """0 = S1 + S2 − T with S1 decaying and S2 in no reaction determines S2 = T − S1 = 5 − 2·e^(−0.3 t), from
    t = 0 on (the rule overrides S2's initial amount attribute, 0)."""
    body = decay_of_s1(species("S2", 0.0), parameter("T", 5.0, True),
                       algebraic(apply("minus", apply("plus", ci("S1"), ci("S2")), ci("T"))))
    result = simulate(write_sbml(tmp_path / "sum.xml", body, units=MOLE), t_eval=TIMES, rtol=1e-11, atol=1e-14)
    expected = 5.0 - 2.0 * np.exp(-0.3 * np.array(TIMES))
    np.testing.assert_allclose(result.observed.sel(observable="S2").values, expected, rtol=1e-8)


def test_algebraic_rules_are_solved_in_the_order_their_unknowns_allow(tmp_path):
    """0 = q − p − 1 (listed first, two unknowns) and 0 = 3·p − 6·S1 (one): p = 2·S1 is found first, then
    q = 2·S1 + 1; both follow S1 = 2·e^(−0.3 t)."""
    rules = algebraic(apply("minus", apply("minus", ci("q"), ci("p")), cn(1)),
                      apply("minus", apply("times", cn(3), ci("p")), apply("times", cn(6), ci("S1"))))
    body = decay_of_s1(extra_parameters=parameter("p", 0.0) + parameter("q"), rules=rules)
    result = simulate(write_sbml(tmp_path / "chain.xml", body, units=MOLE), t_eval=TIMES, rtol=1e-11, atol=1e-14)
    s1 = 2.0 * np.exp(-0.3 * np.array(TIMES))
    np.testing.assert_allclose(result.observed.sel(observable="p").values, 2 * s1, rtol=1e-8)
    np.testing.assert_allclose(result.observed.sel(observable="q").values, 2 * s1 + 1, rtol=1e-8)


def test_algebraic_rule_drives_a_boundary_species_a_reaction_reads(tmp_path):
    """A boundary species B is not changed by its reaction B → X (k·B), so the rule 0 = 2·B − 2 − 2·t sets it:
    B = 1 + t and X = k·(t + t²/2) exactly, with k = 0.5 s⁻¹."""
    rules = algebraic(apply("minus", apply("times", cn(2), ci("B")),
                            apply("plus", cn(2), apply("times", cn(2), TIME))))
    boundary = ('<species id="B" compartment="cell" initialAmount="7" hasOnlySubstanceUnits="true" '
                'boundaryCondition="true" constant="false"/>')
    body = (f"<listOfSpecies>{boundary}{species('X', 0.0)}</listOfSpecies><listOfParameters>{parameter('k', 0.5, True)}</listOfParameters>"
            f"{rules}<listOfReactions>{reaction('feed', [('B', 1)], [('X', 1)], law(ci('k'), ci('B')))}"
            "</listOfReactions>")
    result = simulate(write_sbml(tmp_path / "boundary.xml", body, units=MOLE), t_eval=TIMES, rtol=1e-11,
                      atol=1e-14)
    t = np.array(TIMES)
    np.testing.assert_allclose(result.concentration.sel(species="X").values, 0.5 * (t + t ** 2 / 2), rtol=1e-8,
                               atol=1e-12)


REFUSED = {
    "nonlinear": (parameter("p"), algebraic(apply("minus", apply("times", ci("p"), ci("p")), ci("S1"))),
                  "is not linear in it"),
    "overdetermined": ("", algebraic(apply("minus", ci("k"), cn(0.3))), "overdetermined"),
    "underdetermined": (parameter("p") + parameter("q"), algebraic(apply("minus", ci("p"), ci("q"))),
                        "several variables it could determine (p, q)"),
    "varying coefficient": (parameter("p"), algebraic(apply("minus", apply("times", ci("S1"), ci("p")), cn(1))),
                            "the coefficient of `p` (S1) varies"),
    "two rules, one unknown": (parameter("p"), algebraic(apply("minus", ci("p"), ci("S1")),
                                                         apply("minus", ci("p"), cn(1))), "overdetermined"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_algebraic_rules_that_are_not_exactly_solvable_are_refused_with_file_and_line(tmp_path, case):
    """Nonlinear, over- and underdetermined rules and a coefficient that varies end in one SBMLError line
    naming the file, the rule's line and the reason."""
    parameters, rules, expected = REFUSED[case]
    path = write_sbml(tmp_path / "bad.xml", decay_of_s1(extra_parameters=parameters, rules=rules), units=MOLE)
    with pytest.raises(SBMLError) as info:
        fentonsim.load(path)
    message = str(info.value)
    assert re.match(re.escape(str(path)) + r":\d+: ", message) and expected in message, message
    assert "\n" not in message


def test_event_assigning_an_algebraic_variable_is_refused(tmp_path):
    """A variable an algebraic rule determines cannot also jump at an event: refused, naming the event's line."""
    event = ('<listOfEvents><event id="e" useValuesFromTriggerTime="true"><trigger initialValue="false" '
             f'persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">{apply("geq", TIME, cn(1))}'
             '</math></trigger><listOfEventAssignments><eventAssignment variable="p"><math '
             f'xmlns="http://www.w3.org/1998/Math/MathML">{cn(4)}</math></eventAssignment>'
             '</listOfEventAssignments></event></listOfEvents>')
    body = decay_of_s1(extra_parameters=parameter("p"), rules=algebraic(apply("minus", ci("p"), ci("S1")))) + event
    with pytest.raises(SBMLError, match=r"xml:\d+: algebraic rule for `p`: an event also assigns"):
        fentonsim.load(write_sbml(tmp_path / "event.xml", body, units=MOLE))


def test_local_parameter_shadows_a_global_assignment_rule_variable(tmp_path):
    """A kinetic law's local `k` (0.375) wins over a global `k` that an assignment rule sets (0.1): SBML scoping
    holds before rules are substituted (SBML test suite case 00705)."""
    rules = ('<listOfRules><assignmentRule variable="k"><math xmlns="http://www.w3.org/1998/Math/MathML">'
             f"{cn(0.1)}</math></assignmentRule></listOfRules>")
    body = (f"<listOfSpecies>{species('X', 1.0)}</listOfSpecies><listOfParameters>{parameter('k')}"
            f"</listOfParameters>{rules}<listOfReactions><reaction id=\"death\" reversible=\"false\">"
            '<listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>'
            f'<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">{apply("times", ci("k"), ci("X"))}'
            '</math><listOfLocalParameters><localParameter id="k" value="0.375"/></listOfLocalParameters>'
            "</kineticLaw></reaction></listOfReactions>")
    network = compile_network(fentonsim.load(write_sbml(tmp_path / "shadow.xml", body, units=MOLE)))
    assert network.rate_constants()[0] == pytest.approx(0.375, rel=1e-12)


# --------------------------------------------------------------------------- the solver, on its own

LEAVES = st.sampled_from([sym("x"), sym("y"), num(2.0), num(-0.5), num(3.0)])


def _grow(children):
    return st.one_of(
        st.tuples(st.sampled_from(["plus", "times"]), st.lists(children, min_size=1, max_size=3)).map(
            lambda t: op(t[0], *t[1])),
        st.tuples(children, children).map(lambda t: op("minus", *t)),
        children.map(lambda a: op("minus", a)),
        st.tuples(children, children).map(lambda t: op("divide", *t)),
        children.map(lambda a: op("exp", a)),
    )


EXPRESSIONS = st.recursive(LEAVES, _grow, max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS, st.floats(-3, 3), st.floats(-3, 3))
def test_linear_in_returns_an_exact_decomposition_or_none(expr, x, y):
    """Whenever linear_in(f, x) gives (a, b), neither contains x and f = a·x + b at any point (to round-off)."""
    parts = linear_in(expr, "x")
    if parts is None:
        return
    a, b = parts
    assert "x" not in symbols(a) | symbols(b)
    point = {"x": np.float64(x), "y": np.float64(y)}
    try:
        with np.errstate(all="ignore"):
            lhs = float(evaluate(expr, point))
            rhs = float(evaluate(a, point)) * x + float(evaluate(b, point))
    except ZeroDivisionError:  # constants alone divide by zero: no value to compare
        return
    if math.isfinite(lhs) and math.isfinite(rhs) and abs(lhs) < 1e12:
        assert rhs == pytest.approx(lhs, rel=1e-9, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(EXPRESSIONS.filter(lambda e: "x" not in symbols(e)), EXPRESSIONS.filter(lambda e: "x" not in symbols(e)))
def test_linear_in_recognises_every_a_x_plus_b(a, b):
    """a·x + b and (b − x·a)/2, with a and b free of x, are always recognised as linear in x."""
    assert linear_in(op("plus", op("times", a, sym("x")), b), "x") is not None
    assert linear_in(op("divide", op("minus", b, op("times", sym("x"), a)), num(2.0)), "x") is not None


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.1, 10) | st.floats(-10, -0.1), min_size=n, max_size=n),
    st.lists(st.lists(st.floats(-5, 5), min_size=n, max_size=n), min_size=n, max_size=n),
    st.lists(st.floats(-5, 5), min_size=n, max_size=n),
    st.permutations(range(n)))))
def test_solve_satisfies_every_rule_of_a_triangular_linear_system(system):
    """Rules c_i·x_i + Σ_{j<i} d_ij·x_j + e_i = 0 given in any order are paired with their x_i and solved: every
    formula substituted back makes its rule vanish (to round-off), whatever the order the rules are listed in."""
    diagonal, lower, offsets, order = system
    n = len(diagonal)
    rules = []
    for i in range(n):
        terms = [op("times", num(diagonal[i]), sym(f"x{i}"))]
        terms += [op("times", num(lower[i][j]), sym(f"x{j}")) for j in range(i)]
        rules.append(op("plus", *terms, num(offsets[i])))
    listed = [rules[i] for i in order]
    solved = solve(listed, {f"x{i}" for i in range(n)})
    values = {}
    for i in range(n):
        formula, coefficient, index = solved[f"x{i}"]
        assert listed[index] is rules[i] and float(evaluate(coefficient, {})) == pytest.approx(diagonal[i])
        values[f"x{i}"] = float(evaluate(formula, values))
    for rule in rules:
        assert float(evaluate(rule, values)) == pytest.approx(0.0, abs=1e-9 * (1 + max(map(abs, values.values()))))


def test_solve_refuses_a_rule_whose_only_unknown_is_taken():
    """Two rules left with the same single unknown: the second is overdetermined and named by its index."""
    with pytest.raises(AlgebraicRefusal) as info:
        solve([op("minus", sym("p"), num(1.0)), op("minus", sym("p"), sym("k"))], {"p"})
    assert info.value.index == 1 and "overdetermined" in info.value.message


# --------------------------------------------------------------------------- stoichiometries set by math


def level2(body):
    """A Level 2 Version 5 model in mole, litre and second around ``body`` (species, parameters, reactions)."""
    return ('<?xml version="1.0" encoding="UTF-8"?><sbml xmlns="http://www.sbml.org/sbml/level2/version5" '
            'level="2" version="5"><model id="m"><listOfCompartments><compartment id="cell" size="1"/>'
            f"</listOfCompartments>{body}</model></sbml>")


def conversion(stoichiometry_math, *, fast=""):
    """A → ν·B at k·A (k = 0.4 s⁻¹, A0 = 3 mol) with ν given by stoichiometryMath."""
    return level2(
        '<listOfSpecies><species id="A" compartment="cell" initialAmount="3" hasOnlySubstanceUnits="true"/>'
        '<species id="B" compartment="cell" initialAmount="0" hasOnlySubstanceUnits="true"/></listOfSpecies>'
        '<listOfParameters><parameter id="k" value="0.4"/><parameter id="p1" value="1.5"/></listOfParameters>'
        f'<listOfReactions><reaction id="r" reversible="false"{fast}><listOfReactants>'
        '<speciesReference species="A"/></listOfReactants><listOfProducts><speciesReference species="B">'
        f'<stoichiometryMath><math xmlns="http://www.w3.org/1998/Math/MathML">{stoichiometry_math}</math>'
        f"</stoichiometryMath></speciesReference></listOfProducts>{law(ci('k'), ci('A'))}</reaction>"
        "</listOfReactions>")


def test_constant_stoichiometry_math_is_the_number_it_evaluates_to(tmp_path):
    """stoichiometryMath 2·p1 (p1 = 1.5) makes A → 3 B: B = 3·A0·(1 − e^(−k t)) exactly."""
    path = tmp_path / "constant.xml"
    path.write_text(conversion(apply("times", cn(2), ci("p1"))))
    result = simulate(path, t_eval=TIMES, rtol=1e-11, atol=1e-14)
    t = np.array(TIMES)
    np.testing.assert_allclose(result.concentration.sel(species="B").values, 9.0 * (1 - np.exp(-0.4 * t)),
                               rtol=1e-8, atol=1e-12)


def test_stoichiometry_math_of_time_scales_the_change_at_every_instant(tmp_path):
    """stoichiometryMath 1 + t: dB/dt = (1 + t)·k·A with A = A0·e^(−k t), so
    B = A0·[(1 − e^(−k t))(1 + 1/k) − t·e^(−k t)] (integrated by parts)."""
    path = tmp_path / "time.xml"
    path.write_text(conversion(apply("plus", cn(1), TIME)))
    result = simulate(path, t_eval=TIMES, rtol=1e-11, atol=1e-14)
    t, k = np.array(TIMES), 0.4
    expected = 3.0 * ((1 - np.exp(-k * t)) * (1 + 1 / k) - t * np.exp(-k * t))
    np.testing.assert_allclose(result.concentration.sel(species="B").values, expected, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(result.concentration.sel(species="A").values, 3.0 * np.exp(-k * t), rtol=1e-8)


def test_state_dependent_stoichiometry_agrees_with_libroadrunner(tmp_path):
    """A Level 3 species reference whose id an assignment rule sets from the state (ν_A = 1 + B/4, a reactant
    consumed faster as B accumulates): fentonsim and libRoadRunner's CVODE agree to 1e-6 relative at t = 1…8 s."""
    from conftest import require_module

    roadrunner = require_module("roadrunner", "peers")
    rules = ('<listOfRules><assignmentRule variable="nu"><math xmlns="http://www.w3.org/1998/Math/MathML">'
             f'{apply("plus", cn(1), apply("divide", ci("B"), cn(4)))}</math></assignmentRule></listOfRules>')
    body = (f"<listOfSpecies>{species('A', 10.0)}{species('B', 0.0)}</listOfSpecies>"
            f"<listOfParameters>{parameter('k', 0.3, True)}</listOfParameters>{rules}"
            '<listOfReactions><reaction id="r" reversible="false"><listOfReactants>'
            '<speciesReference id="nu" species="A" constant="false"/></listOfReactants><listOfProducts>'
            '<speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>'
            f"{law(ci('k'), ci('A'))}</reaction></listOfReactions>")
    path = write_sbml(tmp_path / "state.xml", body, units=MOLE)
    times = [0.0, 1.0, 2.0, 4.0, 8.0]
    ours = simulate(path, t_eval=times, rtol=1e-11, atol=1e-14)
    rr = roadrunner.RoadRunner(str(path))
    rr.getIntegrator().setValue("relative_tolerance", 1e-12)
    rr.getIntegrator().setValue("absolute_tolerance", 1e-14)
    rr.timeCourseSelections = ["time", "A", "B"]
    theirs = rr.simulate(0, 8, 9)
    rows = [list(np.asarray(theirs[:, 0])).index(t) for t in times]
    for j, name in enumerate(("A", "B"), start=1):
        np.testing.assert_allclose(ours.concentration.sel(species=name).values, np.asarray(theirs[rows, j]),
                                   rtol=1e-6, atol=1e-10)
    assert ours.concentration.sel(species="A").values[-1] < 10.0 * math.exp(-0.3 * 8)  # faster than ν = 1


def test_level2_fast_reaction_is_refused(tmp_path):
    """`fast="true"` exists in Level 2 too (it was read only in L3V1): a fast reaction is refused, not run slow."""
    path = tmp_path / "fast.xml"
    path.write_text(conversion(cn(1), fast=' fast="true"'))
    with pytest.raises(SBMLError, match=r"fast.xml:\d+: reaction `r` is `fast`"):
        fentonsim.load(path)


def test_negative_stoichiometry_moves_the_species_the_other_way(tmp_path):
    """A reactant of stoichiometry −2 (SBML allows it) in a reaction of constant rate v = 0.5 mol/s grows at
    +1 mol/s, and a product of stoichiometry −0.5 falls at 0.25 mol/s: A = 1 + t, B = 4 − t/4."""
    body = (f"<listOfSpecies>{species('A', 1.0)}{species('B', 4.0)}</listOfSpecies>"
            f"<listOfReactions>{reaction('r', [('A', -2)], [('B', -0.5)], law(cn(0.5)))}</listOfReactions>")
    result = simulate(write_sbml(tmp_path / "negative.xml", body, units=MOLE), t_eval=TIMES, rtol=1e-11,
                      atol=1e-14)
    t = np.array(TIMES)
    np.testing.assert_allclose(result.concentration.sel(species="A").values, 1 + t, rtol=1e-9)
    np.testing.assert_allclose(result.concentration.sel(species="B").values, 4 - t / 4, rtol=1e-9)


# --------------------------------------------------------------------------- rateOf

RATE_OF = '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/rateOf"> rateOf </csymbol>'


def rate_of(name):
    return f"<apply>{RATE_OF}{ci(name)}</apply>"


def assignment(variable, math):
    return (f'<assignmentRule variable="{variable}"><math xmlns="http://www.w3.org/1998/Math/MathML">{math}'
            "</math></assignmentRule>")


def test_rate_of_a_concentration_is_its_reactions_over_the_compartment_size(tmp_path):
    """[S1] (4 mol in 2 L) decays by a law k·[S1] in mol/s, so d[S1]/dt = −k·[S1]/2: P = rateOf(S1) follows
    −(k/2)·2·e^(−k t/2) exactly, with k = 0.3 s⁻¹."""
    rules = f'<listOfRules>{assignment("P", rate_of("S1"))}</listOfRules>'
    body = (f"<listOfSpecies>{species('S1', 4.0, hosu='false')}</listOfSpecies>"
            f"<listOfParameters>{parameter('k', 0.3, True)}{parameter('P')}</listOfParameters>{rules}"
            f"<listOfReactions>{reaction('decay', [('S1', 1)], [], law(ci('k'), ci('S1')))}</listOfReactions>")
    path = write_sbml(tmp_path / "rate.xml", body, units=MOLE,
                      compartment='<compartment id="cell" spatialDimensions="3" size="2" constant="true"/>')
    result = simulate(path, t_eval=TIMES, rtol=1e-11, atol=1e-14)
    t = np.array(TIMES)
    np.testing.assert_allclose(result.observed.sel(observable="P").values, -0.15 * 2 * np.exp(-0.15 * t),
                               rtol=1e-8)


def test_rate_of_a_rate_rule_parameter_a_constant_and_a_local_parameter(tmp_path):
    """With dp/dt = 0.5·p (p0 = 2) and a kinetic law k·rateOf(p) + rateOf(c) + rateOf(j) where j is the law's
    local parameter (a global j changes, which the local one shadows) and c a constant: X is produced at
    k·0.5·p, so X = k·(p − p0) = 0.2·2·(e^(t/2) − 1)."""
    rules = ('<listOfRules><rateRule variable="p"><math xmlns="http://www.w3.org/1998/Math/MathML">'
             f'{apply("times", cn(0.5), ci("p"))}</math></rateRule><rateRule variable="j"><math '
             f'xmlns="http://www.w3.org/1998/Math/MathML">{cn(7)}</math></rateRule></listOfRules>')
    kinetic = ('<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">'
               f'{apply("plus", apply("times", ci("k"), rate_of("p")), rate_of("c"), rate_of("j"))}</math>'
               '<listOfLocalParameters><localParameter id="j" value="3"/></listOfLocalParameters></kineticLaw>')
    body = (f"<listOfSpecies>{species('X', 0.0)}</listOfSpecies><listOfParameters>{parameter('k', 0.2, True)}"
            f"{parameter('c', 5.0, True)}{parameter('p', 2.0)}{parameter('j', 1.0)}</listOfParameters>{rules}"
            f"<listOfReactions>{reaction('make', [], [('X', 1)], kinetic)}</listOfReactions>")
    result = simulate(write_sbml(tmp_path / "rates.xml", body, units=MOLE), t_eval=TIMES, rtol=1e-11, atol=1e-14)
    t = np.array(TIMES)
    np.testing.assert_allclose(result.concentration.sel(species="X").values, 0.4 * (np.exp(t / 2) - 1),
                               rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("case, expected", [
    ("rule variable", "rateOf(y): `y` is set by an assignment or algebraic rule"),
    ("own rate", "rateOf(S1) depends on itself"),
])
def test_rate_of_that_has_no_exact_formula_is_refused(tmp_path, case, expected):
    """rateOf of an assignment-rule variable, and a kinetic law reading the rate it sets itself, are refused
    with file:line."""
    if case == "rule variable":
        rules = f'<listOfRules>{assignment("y", apply("times", cn(2), ci("S1")))}{assignment("P", rate_of("y"))}'
        body = decay_of_s1(extra_parameters=parameter("y") + parameter("P"), rules=rules + "</listOfRules>")
    else:
        kinetic = law(ci("k"), apply("plus", ci("S1"), rate_of("S1")))
        body = (f"<listOfSpecies>{species('S1', 2.0)}</listOfSpecies><listOfParameters>"
                f"{parameter('k', 0.3, True)}</listOfParameters><listOfReactions>"
                f"{reaction('decay', [('S1', 1)], [], kinetic)}</listOfReactions>")
    path = write_sbml(tmp_path / "bad_rate.xml", body, units=MOLE)
    with pytest.raises(SBMLError) as info:
        fentonsim.load(path)
    assert re.match(re.escape(str(path)) + r":\d+: ", str(info.value)) and expected in str(info.value), info.value


# --------------------------------------------------------------------------- elements without math


def test_elements_without_math_are_ignored_with_a_warning(tmp_path):
    """L3V2 lets rules, initial assignments, event assignments and delays omit their math; such an element says
    nothing and is dropped (a warning names its line): p keeps 3 despite an empty rule and initial assignment,
    and at t = 1 the event sets d to 7 at once (its delay is empty) while its empty assignment to q is skipped."""
    event = ('<listOfEvents><event id="e" useValuesFromTriggerTime="true"><trigger initialValue="false" '
             f'persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">{apply("geq", TIME, cn(1))}'
             '</math></trigger><delay/><listOfEventAssignments><eventAssignment variable="q"/>'
             f'<eventAssignment variable="d"><math xmlns="http://www.w3.org/1998/Math/MathML">{cn(7)}</math>'
             "</eventAssignment></listOfEventAssignments></event></listOfEvents>")
    body = (f"<listOfParameters>{parameter('p', 3.0)}{parameter('q', 5.0)}{parameter('d', 5.0)}"
            '</listOfParameters><listOfInitialAssignments><initialAssignment symbol="p"/>'
            '</listOfInitialAssignments><listOfRules><assignmentRule variable="p"/></listOfRules>' + event)
    path = write_sbml(tmp_path / "empty.xml", body, units=MOLE, compartment="")
    model = fentonsim.load(path)
    ignored = [w for w in model.warnings if "has no math and is ignored" in w]
    assert len(ignored) == 4 and all(re.match(re.escape(str(path)) + r":\d+: warning: ", w) for w in ignored)
    result = simulate(model, t_eval=[0.0, 0.5, 1.5], rtol=1e-10)
    observed = result.observed
    np.testing.assert_allclose(observed.sel(observable="p").values, [3.0, 3.0, 3.0])
    np.testing.assert_allclose(observed.sel(observable="q").values, [5.0, 5.0, 5.0])
    np.testing.assert_allclose(observed.sel(observable="d").values, [5.0, 5.0, 7.0])


def test_stoichiometry_driven_by_a_rate_rule_or_an_event_is_a_state_of_its_own(tmp_path):
    """Species references as state variables: ν₁ with dν₁/dt = 0.1 (ν₁(0) = 1) in ∅ → ν₁·B at 2 mol/s gives
    B = 2t + 0.1t²; ν₂ = 1 set to 3 by an event at t = 1 in ∅ → ν₂·C at 1 mol/s gives C = t, then
    1 + 3(t − 1). Both ν are reported, and rateOf(B) = 2·ν₁ reads the state ν₁."""
    rules = ('<listOfRules><rateRule variable="nu1"><math xmlns="http://www.w3.org/1998/Math/MathML">'
             f'{cn(0.1)}</math></rateRule>{assignment("P", rate_of("B"))}</listOfRules>')
    event = ('<listOfEvents><event id="e" useValuesFromTriggerTime="true"><trigger initialValue="false" '
             f'persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">{apply("geq", TIME, cn(1))}'
             '</math></trigger><listOfEventAssignments><eventAssignment variable="nu2"><math '
             f'xmlns="http://www.w3.org/1998/Math/MathML">{cn(3)}</math></eventAssignment>'
             '</listOfEventAssignments></event></listOfEvents>')

    def source(rid, ref, target, rate):
        return (f'<reaction id="{rid}" reversible="false"><listOfProducts><speciesReference id="{ref}" '
                f'species="{target}" stoichiometry="1" constant="false"/></listOfProducts>'
                f'<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">{cn(rate)}</math></kineticLaw>'
                "</reaction>")
    body = (f"<listOfSpecies>{species('B', 0.0)}{species('C', 0.0)}</listOfSpecies><listOfParameters>"
            f"{parameter('P')}</listOfParameters>{rules}<listOfReactions>"
            f"{source('r1', 'nu1', 'B', 2)}{source('r2', 'nu2', 'C', 1)}</listOfReactions>{event}")
    result = simulate(write_sbml(tmp_path / "states.xml", body, units=MOLE), t_eval=TIMES, rtol=1e-11,
                      atol=1e-14)
    t = np.array(TIMES)
    np.testing.assert_allclose(result.concentration.sel(species="B").values, 2 * t + 0.1 * t ** 2, rtol=1e-8)
    np.testing.assert_allclose(result.concentration.sel(species="C").values, np.where(t < 1, t, 1 + 3 * (t - 1)),
                               rtol=1e-8)
    np.testing.assert_allclose(result.observed.sel(observable="nu1").values, 1 + 0.1 * t, rtol=1e-9)
    np.testing.assert_allclose(result.observed.sel(observable="nu2").values, np.where(t < 1, 1.0, 3.0))
    np.testing.assert_allclose(result.observed.sel(observable="P").values, 2 * (1 + 0.1 * t), rtol=1e-9)


def test_boundary_species_an_event_sets_is_read_by_reactions_but_never_consumed(tmp_path):
    """Boundary species B (2 mol) feeds B → X at k·B (k = 0.5 s⁻¹) without being consumed; an event at t = 1
    sets it to 5, so X = k·2·t before and k·2 + k·5·(t − 1) after, and B reads 2 then 5."""
    boundary = ('<species id="B" compartment="cell" initialAmount="2" hasOnlySubstanceUnits="true" '
                'boundaryCondition="true" constant="false"/>')
    event = ('<listOfEvents><event id="e" useValuesFromTriggerTime="true"><trigger initialValue="false" '
             f'persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">{apply("geq", TIME, cn(1))}'
             '</math></trigger><listOfEventAssignments><eventAssignment variable="B"><math '
             f'xmlns="http://www.w3.org/1998/Math/MathML">{cn(5)}</math></eventAssignment>'
             '</listOfEventAssignments></event></listOfEvents>')
    body = (f"<listOfSpecies>{boundary}{species('X', 0.0)}</listOfSpecies><listOfParameters>"
            f"{parameter('k', 0.5, True)}</listOfParameters><listOfReactions>"
            f"{reaction('feed', [('B', 1)], [('X', 1)], law(ci('k'), ci('B')))}</listOfReactions>{event}")
    result = simulate(write_sbml(tmp_path / "boundary_event.xml", body, units=MOLE), t_eval=TIMES, rtol=1e-11,
                      atol=1e-14)
    t = np.array(TIMES)
    np.testing.assert_allclose(result.concentration.sel(species="X").values,
                               np.where(t < 1, t, 1 + 2.5 * (t - 1)), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(result.concentration.sel(species="B").values, np.where(t < 1, 2.0, 5.0), rtol=1e-12)


@pytest.mark.parametrize("initial_value, start", [("false", 10.0), ("true", 2.0)])
def test_time_trigger_true_from_the_start_fires_at_t0_only_if_its_initial_value_is_false(tmp_path, initial_value,
                                                                                          start):
    """`time >= 0` holds at t0: with initialValue false the trigger rises there and the event sets S1 to 10 at
    t0 (SBML L3); with initialValue true it never rises. S1 then decays at k = 0.3 s⁻¹ from 10 or from 2."""
    event = ('<listOfEvents><event id="e" useValuesFromTriggerTime="true">'
             f'<trigger initialValue="{initial_value}" persistent="true"><math '
             f'xmlns="http://www.w3.org/1998/Math/MathML">{apply("geq", TIME, cn(0))}</math></trigger>'
             '<listOfEventAssignments><eventAssignment variable="S1"><math '
             f'xmlns="http://www.w3.org/1998/Math/MathML">{cn(10)}</math></eventAssignment>'
             '</listOfEventAssignments></event></listOfEvents>')
    path = write_sbml(tmp_path / "t0.xml", decay_of_s1() + event, units=MOLE)
    result = simulate(path, t_eval=TIMES, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(result.concentration.sel(species="S1").values, start * np.exp(-0.3 * np.array(TIMES)),
                               rtol=1e-8)


def test_a_reaction_id_in_math_is_the_reaction_rate(tmp_path):
    """`decay` read in math is that reaction's rate k·S1 (SBML): P = decay follows 0.3·2·e^(−0.3 t), and a
    reaction producing S2 at rate `decay` gives S2 = 2 − S1 = 2·(1 − e^(−0.3 t))."""
    rules = f'<listOfRules>{assignment("P", ci("decay"))}</listOfRules>'
    kinetic = f'<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">{ci("decay")}</math></kineticLaw>'
    body = (f"<listOfSpecies>{species('S1', 2.0)}{species('S2', 0.0)}</listOfSpecies><listOfParameters>"
            f"{parameter('k', 0.3, True)}{parameter('P')}</listOfParameters>{rules}<listOfReactions>"
            f"{reaction('decay', [('S1', 1)], [], law(ci('k'), ci('S1')))}{reaction('mirror', [], [('S2', 1)], kinetic)}"
            "</listOfReactions>")
    result = simulate(write_sbml(tmp_path / "rid.xml", body, units=MOLE), t_eval=TIMES, rtol=1e-11, atol=1e-14)
    decay = np.exp(-0.3 * np.array(TIMES))
    np.testing.assert_allclose(result.observed.sel(observable="P").values, 0.6 * decay, rtol=1e-8)
    np.testing.assert_allclose(result.concentration.sel(species="S2").values, 2 * (1 - decay), rtol=1e-8,
                               atol=1e-12)


def test_a_priority_written_with_constant_logic_is_the_number_it_folds_to(tmp_path):
    """Two events at t = 1 set S1 to 7 and to 4; the first has priority piecewise(1, 1 <= 2 ∧ 2 <= 1, 10) = 10,
    the second 5, so the first executes first and S1 ends at 4 (then decays at k = 0.3 s⁻¹)."""
    condition = apply("and", apply("leq", cn(1), cn(2)), apply("leq", cn(2), cn(1)))

    def event(eid, priority, value):
        return (f'<event id="{eid}" useValuesFromTriggerTime="true"><trigger initialValue="false" '
                f'persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">{apply("geq", TIME, cn(1))}'
                f'</math></trigger><priority><math xmlns="http://www.w3.org/1998/Math/MathML">{priority}</math>'
                '</priority><listOfEventAssignments><eventAssignment variable="S1"><math '
                f'xmlns="http://www.w3.org/1998/Math/MathML">{cn(value)}</math></eventAssignment>'
                "</listOfEventAssignments></event>")
    folded = f"<piecewise><piece>{cn(1)}{condition}</piece><otherwise>{cn(10)}</otherwise></piecewise>"
    body = decay_of_s1() + f"<listOfEvents>{event('first', folded, 7)}{event('second', cn(5), 4)}</listOfEvents>"
    result = simulate(write_sbml(tmp_path / "priority.xml", body, units=MOLE), t_eval=[0.0, 2.0], rtol=1e-11,
                      atol=1e-14)
    np.testing.assert_allclose(result.concentration.sel(species="S1").values[-1], 4 * math.exp(-0.3), rtol=1e-8)


@pytest.mark.parametrize("formula", ["quotient(-9, 2)", "rem(-9, 2)", "quotient(9, -2)", "rem(9, -2)",
                                     "quotient(7.5, 2)", "rem(7.5, 2)", "quotient(9, 2)", "rem(-7.5, -2)",
                                     "rem(1, 0.1)", "rem(5.3, 0.7)", "quotient(1, 0.1)"])
def test_quotient_and_rem_truncate_toward_zero_as_libroadrunner_does(formula):
    """L3V2's quotient is a/b truncated toward zero and rem carries the dividend's sign; the importer's tree
    gives libRoadRunner's value for each sign combination (and the rule that truncation implies)."""
    libsbml = pytest.importorskip("libsbml")
    roadrunner = pytest.importorskip("roadrunner")
    from fentonsim.sbml.importer import _ast_to_expr

    ours = evaluate(_ast_to_expr(libsbml.parseL3Formula(formula), libsbml, "test"), {})
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId("integer_division")
    parameter = model.createParameter()
    parameter.setId("p")
    parameter.setConstant(False)
    rule = model.createAssignmentRule()
    rule.setVariable("p")
    rule.setMath(libsbml.parseL3Formula(formula))
    assert ours == roadrunner.RoadRunner(libsbml.writeSBMLToString(doc))["p"]
    a, b = (float(x) for x in formula[formula.index("(") + 1:-1].split(","))
    expected = math.trunc(a / b) if formula.startswith("quotient") else math.fmod(a, b)
    assert ours == expected
