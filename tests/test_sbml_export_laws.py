"""SBML export of general rate laws (fentonsim/sbml/export.py, fentonsim/sbml/mathml.py): the MathML writes
back to the same expression, a shipped nanozyme mechanism runs the same in libRoadRunner and COPASI as in
fentonsim, and what cannot be written is refused by name."""
from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fentonsim as fs
from fentonsim.errors import ConditionsError
from fentonsim.expression import evaluate, num, op, sym
from fentonsim.sbml import export_model
from fentonsim.sbml import mathml
from fentonsim.sbml.export import sbml_id
from test_laws import _michaelis_menten, trees

libsbml = pytest.importorskip("libsbml")

NANOZYME = dict(conditions="tme", initial={"TMB": "0.5 mM", "H2O2": "1 mM", "Fe3O4(s)": "50 ug/mL"})


def _round_trip(expr):
    """expr → MathML text → libsbml → the importer's tree."""
    from fentonsim.sbml.importer import _ast_to_expr

    root = ET.Element("holder")
    mathml.math(root, expr, lambda name, parent: ET.SubElement(parent, f"{{{mathml.MATHML_NS}}}ci").__setattr__(
        "text", f" {name} "))
    text = ET.tostring(root[0], encoding="unicode")
    ast = libsbml.readMathMLFromString(text)
    assert ast is not None, text
    return _ast_to_expr(ast, libsbml, "test")


@settings(max_examples=300, deadline=None)
@given(trees(), st.floats(0.05, 5.0), st.floats(0.05, 5.0), st.floats(0.05, 5.0))
def test_mathml_reads_back_as_the_same_expression(expr, a, b, t):
    """Every operator the laws use, written as MathML and read by libsbml and fentonsim's importer, evaluates
    to the same value at any state and time (numbers written to round-trip exactly)."""
    values = {"A": a, "B": b, "time": t}
    expected = evaluate(expr, values)
    got = evaluate(_round_trip(expr), values)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-300) or (math.isnan(expected) and math.isnan(got))


def test_the_functions_outside_the_random_trees_read_back_too():
    """log10, ceil, floor, relations and logic, trigonometric inverses, a piecewise without otherwise."""
    x = sym("A")
    for expr in (op("log10", x), op("ceil", x), op("floor", x), op("arctan", x), op("tanh", x),
                 op("piecewise", num(2.0), ("rel", "lt", (x, num(1.0)))),
                 op("piecewise", num(1.0), op("and", ("rel", "geq", (x, num(0.5))), ("rel", "neq", (x, num(3.0)))),
                    num(0.0))):
        for a in (0.7, 2.5):
            expected, got = evaluate(expr, {"A": a}), evaluate(_round_trip(expr), {"A": a})
            assert got == pytest.approx(expected, rel=1e-15) or (math.isnan(expected) and math.isnan(got))


def test_a_shipped_nanozyme_mechanism_runs_the_same_in_libroadrunner():
    """fe3o4_nanozyme (iron Fenton chemistry, probes and six Michaelis–Menten surface laws) exported at the
    tumour preset: libRoadRunner's CVODE on the file matches fentonsim on the mechanism to 1e-6 of each
    species' largest value, and fentonsim's own import of the file matches it to 1e-9."""
    roadrunner = pytest.importorskip("roadrunner")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xml = export_model("fe3o4_nanozyme", **NANOZYME)
        t = np.linspace(0.0, 600.0, 61)
        ours = fs.simulate("fe3o4_nanozyme", t_eval=t, rtol=1e-10, **NANOZYME)["concentration"]
    rr = roadrunner.RoadRunner(xml)
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-18
    out = rr.simulate(0.0, 600.0, 61)
    columns = [c.strip("[]") for c in out.colnames[1:]]
    ids = {}
    taken = {"cell"}
    for name in ours.species.values:
        ids[name] = sbml_id(name, "s_", taken)
    compared = 0
    for name, sid in ids.items():
        mine = ours.sel(species=name).values
        scale = np.abs(mine).max()
        if scale < 1e-15:
            continue
        theirs = np.asarray(out[:, columns.index(sid) + 1])
        np.testing.assert_allclose(theirs, mine, rtol=0, atol=1e-6 * scale, err_msg=name)
        compared += 1
    assert compared > 10 and ours.sel(species="TMB*+").values[-1] > 1e-7  # the surface laws did work


def test_the_export_reimports_as_the_same_model(tmp_path):
    """fentonsim's SBML import of the export integrates to the mechanism's answer (1e-7 of each species' largest
    value; rtol 1e-10, so round-off in the reordered law arithmetic stays far below): the laws, modifiers
    and stoichiometries written are the ones compiled."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = tmp_path / "nz.xml"
        path.write_text(export_model("fe3o4_nanozyme", **NANOZYME))
        t = np.linspace(0.0, 600.0, 31)
        ours = fs.simulate("fe3o4_nanozyme", t_eval=t, rtol=1e-10, **NANOZYME)["concentration"]
        again = fs.simulate(path, t_eval=t, rtol=1e-10)["concentration"]
    assert fs.compile_network(fs.load(path)).has_general_laws
    names = list(ours.species.values)
    taken = {"cell"}
    ids = [sbml_id(name, "s_", taken) for name in names]
    found = {str(s): i for i, s in enumerate(again.species.values)}
    compared = 0
    for name, sid in zip(names, ids):
        key = name if name in found else sid
        if key not in found:
            continue
        mine = ours.sel(species=name).values
        scale = np.abs(mine).max()
        if scale > 1e-15:
            np.testing.assert_allclose(again.isel(species=found[key]).values, mine, rtol=0, atol=1e-7 * scale)
            compared += 1
    assert compared > 10


def _mechanism(name, body):
    """A mechanism file's text: the header every test model shares, then ``body`` (species: onwards)."""
    return (f"kind: mechanism\nname: {name}\n"
            "units: {concentration: M, time: s, energy: kJ/mol, temperature: K, volume: L}\n"
            'references:\n  none: {citation: "test model"}\n' + body)


MM_MECHANISM = _mechanism("mm_counts", """species:
- {name: S, composition: {C: 1}, charge: 0}
- {name: P, composition: {C: 1}, charge: 0}
- {name: I, composition: {N: 1}, charge: 0}
- {name: J, composition: {N: 1}, charge: 0}
reactions:
- id: R
  equation: S => P
  rate: {k: 50 s^-1}
  law: "E * mm([S], Km) * inhibit([I], Ki)"
  law-constants: {E: 10 nM, Km: 1 uM, Ki: 0.5 uM}
  ref: none
  uncertainty: {factor: 2}
  evidence: unconfirmed
- {id: D, equation: I => J, rate: {k: 0.02 s^-1}, ref: none, uncertainty: {factor: 2}, evidence: unconfirmed}
""")


def test_copasi_fires_the_exported_propensities_as_fentonsims_ssa_does(tmp_path):
    """A Michaelis–Menten enzyme with a decaying inhibitor in molecule counts (export with amounts=True:
    c·g(n/(N_A·V)) per law reaction): COPASI's direct method and fentonsim's SSA on the same model give final
    means within 5 combined standard errors for every species — the propensity written is the one fentonsim
    fires."""
    basico = pytest.importorskip("basico")
    source = tmp_path / "mm.yaml"
    source.write_text(MM_MECHANISM)
    volume, initial = 1e-15, {"S": "2 uM", "I": "1 uM"}
    path = tmp_path / "counts.xml"
    path.write_text(export_model(source, initial=initial, volume=volume, amounts=True))
    runs, t_end = 150, 6.0
    ours = fs.simulate(source, method="ssa", runs=runs, t_end=t_end, n_points=2, volume=volume, initial=initial,
                       seed=3)
    model = basico.load_model(str(path))
    finals = []
    for _ in range(runs):
        frame = basico.run_time_course(duration=t_end, intervals=1, model=model, method="directMethod",
                                       use_numbers=True)
        finals.append([frame[name].iloc[-1] for name in ("S", "P", "I")])
    finals = np.array(finals)
    for j, name in enumerate(("S", "P", "I")):
        a = ours["count"].sel(species=name).isel(time=-1).values.astype(float)
        b = finals[:, j]
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) <= 5 * se, (name, a.mean(), b.mean(), se)
    assert 0.2 < finals[:, 1].mean() / finals[:, :2].sum(axis=1).mean() < 0.95  # the law fired, not to the end


def test_what_cannot_be_written_is_refused_by_name(tmp_path):
    """A model whose events are triggered by the state, or whose state variables are not concentrations (an
    imported model's parameters under rate rules), is refused with a message naming the reason."""
    events = tmp_path / "events.yaml"
    events.write_text(_mechanism("decay_with_redose", """species:
- {name: A, composition: {C: 1}, charge: 0}
- {name: B, composition: {C: 1}, charge: 0}
reactions:
- {id: R1, equation: A => B, rate: {k: 0.1 s^-1}, ref: none, uncertainty: {factor: 2}, evidence: unconfirmed}
events:
- id: redose
  trigger: "[A] < threshold"
  set: {A: "[A] + dose"}
  constants: {threshold: 1 uM, dose: 100 uM}
"""))
    with pytest.raises(ConditionsError, match=r"SBML export cannot take `decay_with_redose`: its events .*redose"):
        export_model(events, initial={"A": "1 mM"})
    imported = fs.compile_network(fs.load(_michaelis_menten(tmp_path)))
    with pytest.raises(ConditionsError, match=r"SBML export cannot take `general_laws`: its state variables "
                                              r"\(S, P\) are not all concentrations"):
        fs.sbml.export_sbml(imported, imported.rate_constants(), imported.initial_state())
