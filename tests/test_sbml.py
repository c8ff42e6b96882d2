"""SBML import and export: round trips, peer simulators as oracles, semantics of the supported
constructs, and clear errors for files fentonsim cannot simulate correctly."""
from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fentonsim
from conftest import MECHANISMS, SHARED, require_module
from fentonsim import compile_network, simulate
from fentonsim.cli import main
from fentonsim.constants import AVOGADRO
from fentonsim.problem import resolve_run
from fentonsim.sbml import SBMLError, export_model
from fentonsim.stochastic import build_problem
from strategies import mechanisms

pytestmark = pytest.mark.usefixtures("libsbml")

#: Shipped catalyst mechanisms and the ion that doses each (the others arrive with the chemistry library).
CATALYSTS = {"iron.yaml": "Fe+2", "copper.yaml": "Cu+", "manganese.yaml": "Mn+2"}
DOSE = "20 uM"


@pytest.fixture(scope="module")
def libsbml():
    return require_module("libsbml", "sbml")


def write_sbml(path, body, *, units='substanceUnits="item" timeUnits="second" volumeUnits="litre"',
               compartment='<compartment id="cell" spatialDimensions="3" size="1" constant="true"/>'):
    path.write_text(textwrap.dedent(f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
          <model id="m" {units}>
            <listOfCompartments>{compartment}</listOfCompartments>
            {body}
          </model>
        </sbml>
        """), encoding="utf-8")
    return path


def ci(name):
    return f"<ci> {name} </ci>"


def apply(op, *args):
    return f"<apply><{op}/>{''.join(args)}</apply>"


def law(*factors):
    return (f'<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">{apply("times", *factors)}'
            "</math></kineticLaw>")


def species(sid, amount, hosu="true", extra=""):
    return (f'<species id="{sid}" compartment="cell" initialAmount="{amount}" hasOnlySubstanceUnits="{hosu}" '
            f'boundaryCondition="false" constant="false" {extra}/>')


def reaction(rid, reactants, products, kinetic):
    def refs(tag, items):
        if not items:
            return ""
        inner = "".join(f'<speciesReference species="{s}" stoichiometry="{n}" constant="true"/>' for s, n in items)
        return f"<{tag}>{inner}</{tag}>"
    return (f'<reaction id="{rid}" reversible="false">{refs("listOfReactants", reactants)}'
            f'{refs("listOfProducts", products)}{kinetic}</reaction>')


# --------------------------------------------------------------------------- round trips and peers


@pytest.mark.parametrize("ph", [6.5, 7.4])
@pytest.mark.parametrize("volume", [None, "0.1 fL"])
def test_export_then_import_reproduces_the_ode_solution(tmp_path, ph, volume):
    """Export → import gives the same ODE solution to 1e-9 relative (every species, every time)."""
    path = tmp_path / "fe.xml"
    path.write_text(export_model(MECHANISMS / "iron.yaml", conditions="tme", ph=ph, volume=volume,
                                 initial={"Fe+2": DOSE}), encoding="utf-8")
    kwargs = dict(rtol=1e-10, atol=1e-24, t_end=3600, n_points=13, fluxes=False)
    original = simulate(MECHANISMS / "iron.yaml", conditions="tme", ph=ph, initial={"Fe+2": DOSE}, **kwargs)
    imported = simulate(path, **kwargs)
    assert list(imported.species.values) == list(original.species.values)
    a, b = original.concentration.values, imported.concentration.values
    assert np.all(np.abs(a - b) <= 1e-9 * np.abs(a) + 1e-30), np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-30))


def test_export_in_counts_imports_to_the_same_stochastic_constants(tmp_path):
    """An amounts export (propensities written out) imports to the same SSA constants c and counts."""
    volume = 1e-16
    mechanism = fentonsim.load_mechanism(MECHANISMS / "iron.yaml")
    network = compile_network(mechanism)
    path = tmp_path / "fe_counts.xml"
    path.write_text(export_model(mechanism, conditions="tme", ph=6.5, volume=volume, initial={"Fe+2": DOSE},
                                 amounts=True), encoding="utf-8")
    imported = fentonsim.load(path)
    assert imported.counts
    run = resolve_run(network, "tme", 6.5, None, {"Fe+2": DOSE}, None, volume)
    original = build_problem(network, run.k, run.y0, np.array([0.0, 1.0]), volume)
    imported_net = compile_network(imported)
    k = imported_net.rate_constants()
    again = build_problem(imported_net, k, imported_net.initial_state(), np.array([0.0, 1.0]),
                          imported.defaults.volume)
    np.testing.assert_allclose(again.c, original.c, rtol=1e-12)
    np.testing.assert_array_equal(again.slot_off, original.slot_off)
    np.testing.assert_allclose(again.x0_mean, np.round(original.x0_mean), rtol=1e-12)


def _peer_cases():
    return [pytest.param(name, ion, ph, id=f"{name}-pH{ph}") for name, ion in CATALYSTS.items() for ph in (6.5, 7.4)]


def _export_for_peers(tmp_path, name, ion, ph):
    path = tmp_path / f"{name}.xml"
    path.write_text(export_model(MECHANISMS / name, conditions="tme", ph=ph, initial={ion: DOSE}), encoding="utf-8")
    ours = simulate(MECHANISMS / name, conditions="tme", ph=ph, initial={ion: DOSE}, rtol=1e-12, atol=1e-28,
                    t_end=3600, n_points=2, fluxes=False)
    return path, ours


def _assert_close(names, ours, theirs, tool):
    for name, a, b in zip(names, ours, theirs):
        assert abs(a - b) <= 1e-5 * max(abs(a), abs(b)) + 1e-30, f"{name}: fentonsim {a:.10g} M, {tool} {b:.10g} M"


@pytest.mark.parametrize("name, ion, ph", _peer_cases())
def test_libroadrunner_cvode_agrees_on_exported_mechanisms(tmp_path, name, ion, ph):
    """libRoadRunner's CVODE and fentonsim's Rodas5P end 1 h within 1e-5 relative on every species."""
    roadrunner = require_module("roadrunner", "peers")
    path, ours = _export_for_peers(tmp_path, name, ion, ph)
    rr = roadrunner.RoadRunner(str(path))
    integrator = rr.getIntegrator()
    integrator.setValue("relative_tolerance", 1e-12)
    integrator.setValue("absolute_tolerance", 1e-28)
    integrator.setValue("maximum_num_steps", 200000)
    ids = list(rr.model.getFloatingSpeciesIds())
    rr.timeCourseSelections = ["time"] + [f"[{sid}]" for sid in ids]
    result = rr.simulate(0, 3600, 2)
    # fentonsim exports species in network order, so column j is state variable j.
    assert len(ids) == ours.species.size
    _assert_close(list(ours.species.values), ours.concentration.values[-1], np.asarray(result[-1, 1:]),
                  "libRoadRunner")


@pytest.mark.parametrize("name, ion, ph", _peer_cases())
def test_copasi_lsoda_agrees_on_exported_mechanisms(tmp_path, name, ion, ph):
    """COPASI's LSODA (through basico) and fentonsim end 1 h within 1e-5 relative on every species."""
    basico = require_module("basico", "peers")
    path, ours = _export_for_peers(tmp_path, name, ion, ph)
    model = basico.load_model(str(path))
    try:
        course = basico.run_time_course(duration=3600, intervals=1, method="deterministic", r_tol=1e-12,
                                        a_tol=1e-28, use_numbers=False, model=model)
    finally:
        basico.remove_datamodel(model)
    final = course.iloc[-1]
    names = list(ours.species.values)
    _assert_close(names, ours.concentration.values[-1], [float(final[n]) for n in names], "COPASI")


# --------------------------------------------------------------------------- semantics


def test_concentration_species_in_a_non_unit_compartment_follow_sbml_semantics(tmp_path):
    """A + B -> C with law V·k·[A][B] (concentrations, V = 2 L, mole units) integrates d[C]/dt = k[A][B]."""
    body = (f"<listOfSpecies>{species('A', 2.0, 'false')}{species('B', 2.0, 'false')}"
            f"{species('C', 0, 'false')}</listOfSpecies>"
            '<listOfParameters><parameter id="k" value="0.5" constant="true"/></listOfParameters>'
            f"<listOfReactions>{reaction('r', [('A', 1), ('B', 1)], [('C', 1)], law(ci('cell'), ci('k'), ci('A'), ci('B')))}"
            "</listOfReactions>")
    path = write_sbml(tmp_path / "ab.xml", body, units='substanceUnits="mole" timeUnits="second" volumeUnits="litre"',
                      compartment='<compartment id="cell" spatialDimensions="3" size="2" constant="true"/>')
    result = simulate(path, t_eval=[0.0, 1.0, 4.0], rtol=1e-10, atol=1e-14)
    # [A]0 = 1 M: [A](t) = 1/(1 + k t).
    expected = 1.0 / (1.0 + 0.5 * np.array([0.0, 1.0, 4.0]))
    np.testing.assert_allclose(result.concentration.sel(species="A").values, expected, rtol=1e-8)


def test_minute_time_units_and_millimole_substance_convert(tmp_path):
    """A decay with k = 0.6 per minute in mmol decays at 0.01 s⁻¹, from 1 mmol in 1 L = 1 mM."""
    units = ('<listOfUnitDefinitions>'
             '<unitDefinition id="minute"><listOfUnits><unit kind="second" exponent="1" scale="0" multiplier="60"/>'
             '</listOfUnits></unitDefinition>'
             '<unitDefinition id="mmol"><listOfUnits><unit kind="mole" exponent="1" scale="-3" multiplier="1"/>'
             '</listOfUnits></unitDefinition></listOfUnitDefinitions>')
    body = (units + f"<listOfSpecies>{species('A', 1.0)}{species('B', 0)}</listOfSpecies>"
            '<listOfParameters><parameter id="k" value="0.6" constant="true"/></listOfParameters>'
            f"<listOfReactions>{reaction('r', [('A', 1)], [('B', 1)], law(ci('k'), ci('A')))}</listOfReactions>")
    path = write_sbml(tmp_path / "units.xml", body, units='substanceUnits="mmol" timeUnits="minute" volumeUnits="litre"')
    result = simulate(path, t_eval=[0.0, 100.0], rtol=1e-10, atol=1e-16)
    np.testing.assert_allclose(result.concentration.sel(species="A").values, 1e-3 * np.exp([0.0, -1.0]), rtol=1e-8)


def test_time_event_assigns_and_adds_in_the_ode(tmp_path):
    """Events at t = 2 s set A to 10 and at t = 3 s add 5 to B; the ODE follows exactly."""
    events = ('<listOfEvents>'
              '<event id="reset" useValuesFromTriggerTime="true"><trigger initialValue="false" persistent="true">'
              '<math xmlns="http://www.w3.org/1998/Math/MathML"><apply><geq/>'
              '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> t </csymbol>'
              '<cn> 2 </cn></apply></math></trigger><listOfEventAssignments><eventAssignment variable="A">'
              '<math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 10 </cn></math></eventAssignment>'
              '</listOfEventAssignments></event>'
              '<event id="dose" useValuesFromTriggerTime="true"><trigger initialValue="false" persistent="true">'
              '<math xmlns="http://www.w3.org/1998/Math/MathML"><apply><lt/><cn> 3 </cn>'
              '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> t </csymbol>'
              '</apply></math></trigger><listOfEventAssignments><eventAssignment variable="B">'
              '<math xmlns="http://www.w3.org/1998/Math/MathML"><apply><plus/><ci> B </ci><cn> 5 </cn></apply>'
              '</math></eventAssignment></listOfEventAssignments></event></listOfEvents>')
    body = (f"<listOfSpecies>{species('A', 4.0)}{species('B', 0)}</listOfSpecies>"
            '<listOfParameters><parameter id="k" value="0.1" constant="true"/></listOfParameters>'
            f"<listOfReactions>{reaction('r', [('A', 1)], [('B', 1)], law(ci('k'), ci('A')))}</listOfReactions>"
            + events)
    path = write_sbml(tmp_path / "events.xml", body, units='substanceUnits="mole" timeUnits="second" volumeUnits="litre"')
    model = fentonsim.load(path)
    assert [e.describe() for e in model.events] == ["set A to 10 M at 2 s", "bolus 5 M B at 3 s"]
    result = simulate(path, t_eval=[0.0, 1.9, 2.0, 3.0, 5.0], rtol=1e-10, atol=1e-14)
    a = result.concentration.sel(species="A").values
    b = result.concentration.sel(species="B").values
    np.testing.assert_allclose(a, [4.0, 4 * math.exp(-0.19), 10.0, 10 * math.exp(-0.1), 10 * math.exp(-0.3)],
                               rtol=1e-8)
    b_at_2 = 4 * (1 - math.exp(-0.2))
    np.testing.assert_allclose(b[3], b_at_2 + 10 * (1 - math.exp(-0.1)) + 5.0, rtol=1e-8)


def test_events_after_the_end_never_fire(tmp_path):
    """A model event later than t_end is not applied (and is not an error)."""
    case = SHARED / "validation" / "dsmts" / "00028" / "00028-sbml-l3v1.xml"
    if not case.exists():
        pytest.skip(f"DSMTS case 00028 is not at {case}")
    model = fentonsim.load(case)
    assert [e.time for e in model.events] == [25.0]
    early = simulate(model, method="ssa", runs=5, seed=1, t_end=10, n_points=3)
    assert early.attrs["inputs"] == ""
    late = simulate(model, method="ssa", runs=5, seed=1, t_end=30, n_points=4)
    assert late.attrs["inputs"].startswith("set X to 8.3") and late.attrs["inputs"].endswith("M at 25 s")


def test_assignment_rule_is_an_observable_in_every_result_layout(tmp_path):
    """y = 2·X + 1 appears as `observed` (ODE, trajectories) and exactly as mean/sd with streaming stats."""
    rules = ('<listOfRules><assignmentRule variable="y"><math xmlns="http://www.w3.org/1998/Math/MathML">'
             f'{apply("plus", apply("times", "<cn> 2 </cn>", ci("X")), "<cn> 1 </cn>")}</math></assignmentRule>'
             '</listOfRules>')
    body = (f"<listOfSpecies>{species('X', 50)}"
            '<species id="y" compartment="cell" initialAmount="0" hasOnlySubstanceUnits="true" '
            'boundaryCondition="false" constant="false"/></listOfSpecies>'
            '<listOfParameters><parameter id="k" value="0.2" constant="true"/></listOfParameters>'
            + rules + f"<listOfReactions>{reaction('death', [('X', 1)], [], law(ci('k'), ci('X')))}</listOfReactions>")
    path = write_sbml(tmp_path / "rule.xml", body)
    ode = simulate(path, t_eval=[0.0, 5.0], rtol=1e-10)
    np.testing.assert_allclose(ode.observed.sel(observable="y").values, 2 * 50 * np.exp([0.0, -1.0]) + 1,
                               rtol=1e-8)
    runs = simulate(path, method="ssa", runs=200, seed=3, t_eval=[0.0, 5.0])
    counts = runs["count"].sel(species="X").values
    np.testing.assert_allclose(runs.observed.sel(observable="y").values, 2 * counts + 1, rtol=1e-12)
    stats = simulate(path, method="ssa", runs=200, seed=3, t_eval=[0.0, 5.0], stats=True)
    np.testing.assert_allclose(stats.observed_mean.sel(observable="y").values, 2 * counts.mean(axis=0) + 1,
                               rtol=1e-12)
    np.testing.assert_allclose(stats.observed_sd.sel(observable="y").values, 2 * counts.std(axis=0, ddof=1),
                               rtol=1e-9, atol=1e-12)


def test_power_law_and_falling_factorial_give_the_sbml_propensities(tmp_path):
    """k*X*X for 2X -> P fires at c·n² (SBML semantics); k*X*(X-1) at c·n(n−1); both k[X]² in the ODE."""
    def model(name, *factors):
        body = (f"<listOfSpecies>{species('X', 10)}{species('P', 0)}</listOfSpecies>"
                '<listOfParameters><parameter id="k" value="0.01" constant="true"/></listOfParameters>'
                f"<listOfReactions>{reaction('dim', [('X', 2)], [('P', 1)], law(ci('k'), *factors))}</listOfReactions>")
        return fentonsim.load(write_sbml(tmp_path / f"{name}.xml", body))
    power = compile_network(model("power", ci("X"), ci("X")))
    falling = compile_network(model("falling", ci("X"), apply("minus", ci("X"), "<cn> 1 </cn>")))
    for network, offset in ((power, 0.0), (falling, 1.0)):
        k = network.rate_constants()
        problem = build_problem(network, k, network.initial_state(), np.array([0.0, 1.0]), network.defaults.volume)
        assert problem.c[0] == pytest.approx(0.01, rel=1e-12)
        assert problem.slot_off[0, 1] == offset
        assert network.order[0] == 2


def test_local_parameter_shadows_the_global_one(tmp_path):
    """A kinetic law's local `k` wins over a global `k` (SBML scoping)."""
    body = (f"<listOfSpecies>{species('X', 1.0)}</listOfSpecies>"
            '<listOfParameters><parameter id="k" value="5" constant="true"/></listOfParameters>'
            '<listOfReactions><reaction id="death" reversible="false"><listOfReactants>'
            '<speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>'
            '<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">'
            f'{apply("times", ci("k"), ci("X"))}</math><listOfLocalParameters>'
            '<localParameter id="k" value="0.25"/></listOfLocalParameters></kineticLaw></reaction></listOfReactions>')
    network = compile_network(fentonsim.load(write_sbml(tmp_path / "local.xml", body)))
    assert network.rate_constants()[0] == pytest.approx(0.25)


def test_counts_model_csv_reports_molecules(tmp_path):
    """`fentonsim simulate MODEL.xml` writes molecule counts for a model in items (and its constant parameter,
    reported as SBML outputs are, after the species)."""
    body = (f"<listOfSpecies>{species('X', 100)}</listOfSpecies>"
            '<listOfParameters><parameter id="mu" value="0.1" constant="true"/></listOfParameters>'
            f"<listOfReactions>{reaction('death', [('X', 1)], [], law(ci('mu'), ci('X')))}</listOfReactions>")
    path = write_sbml(tmp_path / "bd.xml", body)
    out = tmp_path / "bd.csv"
    assert main(["simulate", str(path), "--method", "ode", "--t-end", "10", "--n-points", "2", "--out", str(out),
                 "--quiet"]) == 0
    rows = out.read_text().splitlines()
    header = rows[0].split(",")
    assert header[:2] == ["time", "X"] and "mu" in header
    assert float(rows[2].split(",")[header.index("mu")]) == 0.1
    assert float(rows[1].split(",")[1]) == pytest.approx(100.0, rel=1e-12)
    assert float(rows[2].split(",")[1]) == pytest.approx(100 * math.exp(-1.0), rel=1e-5)


def test_export_cli_writes_sbml_that_simulates(tmp_path, capsys):
    """`fentonsim export` writes L3V2 with references; `fentonsim simulate OUT.xml` runs it."""
    out = tmp_path / "fe.xml"
    assert main(["export", str(MECHANISMS / "iron.yaml"), "--sbml", str(out), "--ph", "7.4", "--conditions",
                 "tme", "--initial", f"Fe+2={DOSE}"]) == 0
    text = out.read_text(encoding="utf-8")
    assert 'level="3" version="2"' in text and "fentonsim:reference" in text and "speciation" in text
    csv = tmp_path / "fe.csv"
    assert main(["simulate", str(out), "--t-end", "60", "--n-points", "3", "--out", str(csv), "--quiet"]) == 0
    assert csv.read_text().startswith("time,")
    assert main(["export", str(MECHANISMS / "iron.yaml"), "--sbml", str(tmp_path / "no" / "x.xml")]) == 1
    assert "does not exist" in capsys.readouterr().err


# --------------------------------------------------------------------------- errors


BAD_CASES = {
    "not-xml": ("this is not < xml", "invalid SBML"),
    "algebraic-rule": (f"<listOfSpecies>{species('X', 1)}</listOfSpecies><listOfRules><algebraicRule>"
                       '<math xmlns="http://www.w3.org/1998/Math/MathML"><apply><minus/><apply><times/>'
                       "<ci> X </ci><ci> X </ci></apply><cn> 1 </cn></apply></math></algebraicRule></listOfRules>",
                       "is not linear in it"),
    "delayed-resize-with-trigger-time-values": (
        f"<listOfSpecies>{species('X', 1)}</listOfSpecies><listOfReactions>"
        + reaction("decay", [("X", 1)], [], law(ci("X"))) + "</listOfReactions>"
        '<listOfEvents><event id="grow" useValuesFromTriggerTime="true"><trigger initialValue="false" '
        'persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><gt/><csymbol '
        'encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> t </csymbol><cn> 1 </cn>'
        '</apply></math></trigger><delay><math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 1 </cn></math>'
        '</delay><listOfEventAssignments><eventAssignment variable="cell"><math '
        'xmlns="http://www.w3.org/1998/Math/MathML"><cn> 2 </cn></math></eventAssignment>'
        "</listOfEventAssignments></event></listOfEvents>",
        "computes at its trigger time a value that depends on the size of compartment `cell`"),
    "undefined-id": (
        f"<listOfSpecies>{species('X', 1)}</listOfSpecies><listOfReactions>"
        + reaction("decay", [("X", 1)], [], law(ci("k_missing"), ci("X"))) + "</listOfReactions>",
        "k_missing"),
    "missing-compartment": (
        '<listOfSpecies><species id="X" compartment="nowhere" initialAmount="1" hasOnlySubstanceUnits="true" '
        'boundaryCondition="false" constant="false"/></listOfSpecies>', "nowhere"),
    "delay-function": (
        f"<listOfSpecies>{species('X', 1)}</listOfSpecies>"
        '<listOfParameters><parameter id="Y" constant="false"/></listOfParameters><listOfRules>'
        '<assignmentRule variable="Y"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply>'
        '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/delay"> delay </csymbol>'
        "<ci> X </ci><cn> 1 </cn></apply></math></assignmentRule></listOfRules>", "delay"),
    "compartment-size-from-the-state": (
        f"<listOfSpecies>{species('X', 1)}</listOfSpecies><listOfRules><assignmentRule variable=\"cell\">"
        '<math xmlns="http://www.w3.org/1998/Math/MathML"><apply><plus/><ci> X </ci><cn> 1 </cn></apply></math>'
        "</assignmentRule></listOfRules><listOfReactions>"
        + reaction("decay", [("X", 1)], [], law(ci("X"))) + "</listOfReactions>",
        "assignment rule for compartment `cell` reads X"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_sbml_is_refused_naming_the_element(tmp_path, case, capsys):
    """Unreadable or unsupported SBML raises SBMLError naming the file and the element; the CLI prints one line."""
    body, expected = BAD_CASES[case]
    varying = case in ("delayed-resize-with-trigger-time-values", "compartment-size-from-the-state")
    compartment = f'<compartment id="cell" spatialDimensions="3" size="1" constant="{str(not varying).lower()}"/>'
    path = tmp_path / f"{case}.xml"
    if case == "not-xml":
        path.write_text(body)
    else:
        write_sbml(path, body, compartment=compartment)
    with pytest.raises(SBMLError) as info:
        fentonsim.load(path)
    assert expected in str(info.value) and str(path) in str(info.value)
    assert main(["simulate", str(path), "--out", str(tmp_path / "x.csv")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err


def test_missing_file_is_a_clear_error(tmp_path):
    """A path that does not exist names itself."""
    with pytest.raises(SBMLError, match="no such file"):
        fentonsim.load(tmp_path / "absent.xml")


def test_volume_for_counts_is_avogadro_consistent(tmp_path):
    """An items model in a 2 L compartment starts at n/(N_A·2 L) M and reports N_A·V molecules per M."""
    body = f"<listOfSpecies>{species('X', 100)}</listOfSpecies>"
    model = fentonsim.load(write_sbml(tmp_path / "v.xml", body,
                                      compartment='<compartment id="cell" spatialDimensions="3" size="2" constant="true"/>'))
    assert dict(model.defaults.initial)["X"] == pytest.approx(100 / (AVOGADRO * 2.0))
    assert model.defaults.volume == 2.0


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mechanisms(max_reactions=6), st.floats(min_value=2, max_value=12), st.sampled_from([1e-15, 1.0, 3.0]),
       st.booleans())
def test_export_import_preserves_any_generated_network(tmp_path, mechanism, ph, volume, amounts):
    """For hypothesis-generated mechanisms, export → import keeps every state variable, net stoichiometry,
    order and SSA constant c = k·(N_A·V)^(1−order) (to 1e-12), in concentration and in count form.
    Constants written below 1e4·tiny/eps ≈ 1e-288 (generated clamps can reach 2e-308 M) are only required
    to stay below that floor: the export writes subnormals as 0 (libsbml rejects them) and the import's
    volume scaling passes such values through the subnormal range, where bits are lost."""
    network = compile_network(mechanism)
    path = tmp_path / "generated.xml"
    path.write_text(export_model(mechanism, ph=ph, volume=volume, amounts=amounts), encoding="utf-8")
    imported = compile_network(fentonsim.load(path))
    assert imported.species == network.species
    np.testing.assert_array_equal(imported.net_stoich, network.net_stoich)
    np.testing.assert_array_equal(imported.order, network.order)
    nv = AVOGADRO * volume
    expected = network.rate_constants(pH=ph) * nv ** (1.0 - network.order)
    found = imported.rate_constants() * (AVOGADRO * imported.defaults.volume) ** (1.0 - imported.order)
    written = expected if amounts else network.rate_constants(pH=ph)
    scale = np.ones_like(expected) if amounts else nv ** (1.0 - network.order)
    # A value just above tiny/eps still passes through the subnormal range on import (1.00208418083e-292 came
    # back 1.3e-8 off): the exact check starts four decades above the floor.
    floor = 1e4 * np.finfo(float).tiny / np.finfo(float).eps
    exact = np.abs(written) >= floor
    np.testing.assert_allclose(found[exact], expected[exact], rtol=1e-12, atol=0)
    assert np.all(np.abs(found[~exact]) <= 2 * floor * scale[~exact])
    assert not imported.propensity_power.any()


def test_level_2_translation_imports_like_level_3(tmp_path, libsbml):
    """A DSMTS model converted to SBML L2V4 by libsbml imports to the same network as the L3V1 original."""
    case = SHARED / "validation" / "dsmts" / "00022" / "00022-sbml-l3v1.xml"
    if not case.exists():
        pytest.skip(f"DSMTS case 00022 is not at {case}")
    document = libsbml.readSBMLFromFile(str(case))
    assert document.setLevelAndVersion(2, 4)
    level2 = tmp_path / "l2v4.xml"
    libsbml.writeSBMLToFile(document, str(level2))
    original, converted = compile_network(fentonsim.load(case)), compile_network(fentonsim.load(level2))
    assert converted.species == original.species
    np.testing.assert_allclose(converted.rate_constants(), original.rate_constants(), rtol=1e-12)
    np.testing.assert_array_equal(converted.net_stoich, original.net_stoich)


def test_initial_assignment_sets_the_starting_amount(tmp_path):
    """An initialAssignment X = 3·n0 (n0 a parameter) overrides the attribute value."""
    body = (f"<listOfSpecies>{species('X', 1)}</listOfSpecies>"
            '<listOfParameters><parameter id="n0" value="40" constant="true"/></listOfParameters>'
            '<listOfInitialAssignments><initialAssignment symbol="X">'
            f'<math xmlns="http://www.w3.org/1998/Math/MathML">{apply("times", "<cn> 3 </cn>", ci("n0"))}</math>'
            "</initialAssignment></listOfInitialAssignments>")
    model = fentonsim.load(write_sbml(tmp_path / "ia.xml", body))
    assert dict(model.defaults.initial)["X"] * AVOGADRO * model.defaults.volume == pytest.approx(120.0)


def test_reversible_mass_action_law_becomes_two_directions(tmp_path):
    """A <=> B with law kf·A − kr·B relaxes to B/A = kf/kr at rate kf + kr (ODE, closed form)."""
    body = (f"<listOfSpecies>{species('A', 1.0)}{species('B', 0)}</listOfSpecies>"
            '<listOfParameters><parameter id="kf" value="0.3" constant="true"/>'
            '<parameter id="kr" value="0.1" constant="true"/></listOfParameters><listOfReactions>'
            '<reaction id="iso" reversible="true"><listOfReactants><speciesReference species="A" stoichiometry="1" '
            'constant="true"/></listOfReactants><listOfProducts><speciesReference species="B" stoichiometry="1" '
            'constant="true"/></listOfProducts><kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">'
            + apply("minus", apply("times", ci("kf"), ci("A")), apply("times", ci("kr"), ci("B")))
            + "</math></kineticLaw></reaction></listOfReactions>")
    path = write_sbml(tmp_path / "rev.xml", body, units='substanceUnits="mole" timeUnits="second" volumeUnits="litre"')
    network = compile_network(fentonsim.load(path))
    assert network.reaction_ids == ("iso", "iso:reverse")
    result = simulate(path, t_eval=[0.0, 2.0, 50.0], rtol=1e-10, atol=1e-14)
    a = result.concentration.sel(species="A").values
    np.testing.assert_allclose(a, 0.25 + 0.75 * np.exp(-0.4 * np.array([0.0, 2.0, 50.0])), rtol=1e-8)


def test_validate_and_info_accept_sbml(capsys):
    """`fentonsim validate` and `info` read SBML models like mechanism files."""
    example = MECHANISMS.parent / "examples" / "birth_death.xml"
    assert main(["validate", str(example)]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["info", str(example)]) == 0
    out = capsys.readouterr().out
    assert "birth" in out and "integrated" in out
