"""One run path (fentonsim.problem): simulate, sweep (every backend) and compare run the same Problem, so
the same model with its own events, the caller's boluses and sources, clamped species and run-time rate
constants gives identical numbers through each of them; rate constants act on k without recompiling;
networks, mechanisms and presets are compiled or read once."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

import fentonsim as fs
from fentonsim import problem as problem_module
from fentonsim.compare import Catalyst
from fentonsim.problem import build_problem, resolve_conditions, resolve_model, solve_batch

from conftest import MECHANISMS

pytest.importorskip("libsbml")

#: A → B with a clamped partner X (A + X → B) and an event that adds A at t = 50 s.
EVENT_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">
  <model id="event_model" substanceUnits="mole" timeUnits="second" volumeUnits="litre" extentUnits="mole">
    <listOfCompartments><compartment id="C" size="1" constant="true" spatialDimensions="3"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="C" initialConcentration="0.001" hasOnlySubstanceUnits="false"
               boundaryCondition="false" constant="false"/>
      <species id="B" compartment="C" initialConcentration="0" hasOnlySubstanceUnits="false"
               boundaryCondition="false" constant="false"/>
      <species id="X" compartment="C" initialConcentration="0.002" hasOnlySubstanceUnits="false"
               boundaryCondition="true" constant="true"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="k1" value="0.01" constant="true"/>
      <parameter id="k2" value="5" constant="true"/>
    </listOfParameters>
    <listOfReactions>
      <reaction id="R1" reversible="false" fast="false">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><times/><ci>k1</ci><ci>A</ci><ci>C</ci></apply></math></kineticLaw>
      </reaction>
      <reaction id="R2" reversible="false" fast="false">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/>
                         <speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><times/><ci>k2</ci><ci>A</ci><ci>X</ci><ci>C</ci></apply></math></kineticLaw>
      </reaction>
    </listOfReactions>
    <listOfEvents>
      <event id="dose" useValuesFromTriggerTime="true">
        <trigger initialValue="false" persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><geq/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>
          <cn>50</cn></apply></math></trigger>
        <listOfEventAssignments><eventAssignment variable="A"><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><plus/><ci>A</ci><cn>0.0005</cn></apply></math></eventAssignment></listOfEventAssignments>
      </event>
    </listOfEvents>
  </model>
</sbml>
"""

BOLUSES = (fs.Bolus("A", 2e-4, 120.0),)
SOURCES = (fs.Source("A", 1e-6, 0.0, start=10.0, stop=90.0),)
RATES = {"R1": "0.02 s^-1"}


@pytest.fixture(scope="module")
def event_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("run_path") / "event_model.xml"
    path.write_text(EVENT_MODEL)
    return path


def test_event_model_applies_its_event_and_the_callers_inputs(event_model):
    """The model's own event (A += 0.5 mM at 50 s) and the caller's bolus both raise A: the run is not the
    event-free one (sweep() used to drop a model's events)."""
    with_all = fs.simulate(event_model, t_eval=[0, 49, 51, 119, 121], boluses=BOLUSES, rates=RATES)
    a = with_all["concentration"].sel(species="A").values
    assert a[2] > a[1] + 4e-4 and a[4] > a[3] + 1.5e-4
    assert "R1 = 0.02 s^-1" == with_all.attrs["rate_overrides"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["batch", "process", "dask"])
def test_simulate_and_sweep_agree_exactly_on_every_backend(event_model, backend):
    """simulate() and a sweep point of the same conditions (events, boluses, sources, a clamped species, a
    rate override, pH) give bit-identical final states and metrics, whatever the backend."""
    if backend == "dask":
        pytest.importorskip("dask.distributed")
    t_end, n_points = 300.0, 31
    x_values = [1e-3, 3e-3]
    result = fs.sweep(str(event_model), {"buffered:X": x_values, "rate:R1": [0.02, "0.03 s^-1"]}, t_end=t_end,
                      n_points=n_points, output="full", backend=backend, n_workers=2, boluses=BOLUSES,
                      sources=SOURCES, progress=False)
    for x in x_values:
        for i, rate in enumerate([0.02, "0.03 s^-1"]):
            ds = fs.simulate(event_model, t_end=t_end, n_points=n_points, buffered={"X": x}, rates={"R1": rate},
                             boluses=BOLUSES, sources=SOURCES)
            swept = result["concentration"].sel({"buffered:X": x}).isel({"rate:R1": i}).values
            np.testing.assert_array_equal(swept, ds["concentration"].values)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["batch", "process", "dask"])
def test_simulate_sweep_and_compare_agree_on_a_catalyst(backend):
    """A catalyst with a repeated H2O2 dose, a slow Fe(II) source, the preset's clamped HCO3- and an override
    of F1: compare's table, a sweep point and metrics(simulate()) are the same numbers."""
    if backend == "dask":
        pytest.importorskip("dask.distributed")
    boluses = (fs.Bolus("H2O2", 5e-5, 600.0),)
    sources = (fs.Source("Fe+2", 1e-9, 0.0, start=0.0, stop=1200.0),)
    rates = {"F1": 70.0}
    catalyst = Catalyst("iron", (MECHANISMS / "iron.yaml", MECHANISMS / "glutathione.yaml"), "Fe+2")
    table = fs.compare([catalyst], ("tme",), rates=rates, boluses=boluses, sources=sources, decompose=False,
                       uncertainty=0, t_end="30 min")
    swept = fs.sweep(catalyst, {"rate:F1": [70.0]}, conditions="tme", t_end="30 min", boluses=boluses,
                     sources=sources, backend=backend, n_workers=2, progress=False)
    ds = fs.simulate([MECHANISMS / "iron.yaml", MECHANISMS / "glutathione.yaml"], conditions="tme",
                     initial={"Fe+2": "20 uM"}, rates=rates, boluses=boluses, sources=sources, t_end="30 min",
                     n_points=121)
    direct = fs.metrics(ds, dose=float(table.attrs["dose_M"]))
    for name in ("oh_produced", "oh_escaping_gsh", "oh_per_metal", "t_half_h2o2", "o2_consumed"):
        expected = float(direct[name])
        assert float(table[name].sel(catalyst="iron", condition="tme")) == expected, name
        assert float(swept[name].squeeze()) == expected, name
    assert "F1 = 70 M^-1 s^-1" in table.attrs["rate_overrides"] and "H2O2" in table.attrs["inputs"]


def test_rate_overrides_act_on_k_without_recompiling():
    """An override changes k (not the network): the same Network object serves every value, k differs only
    in the overridden reaction's rows, and a sample batch over a constant is one Problem."""
    network = resolve_model([str(MECHANISMS / "iron.yaml")])
    points = [{"rates": {"F1": value}} for value in (40.0, 63.0, 90.0)]
    problem = build_problem(network, points, conditions="tme")
    rows = [i for i, source in enumerate(network.source_reaction) if source == "F1"]
    others = [i for i in range(network.n_reactions) if i not in rows]
    np.testing.assert_array_equal(problem.k[0, others], problem.k[2, others])
    live = [i for i in rows if problem.k[0, i] > 0]  # a branch whose fraction is 0 here stays 0
    assert live
    np.testing.assert_allclose(problem.k[:, live] / problem.k[0, live], [[1.0] * len(live), [63 / 40] * len(live),
                                                                          [90 / 40] * len(live)], rtol=1e-14)
    assert resolve_model([str(MECHANISMS / "iron.yaml")]) is network
    batch = solve_batch(problem)
    assert batch.concentration.shape[0] == 3 and np.all(batch.status == 0)


def test_override_errors_name_the_reaction_and_unit():
    """A run-time constant for an unknown reaction, a branch, or in a wrong unit is refused with the id named."""
    network = resolve_model([str(MECHANISMS / "iron.yaml")])
    with pytest.raises(fs.MechanismError, match="unknown reaction `NOPE`"):
        network.parse_rates({"NOPE": 1.0})
    with pytest.raises(fs.FentonsimError, match="F1"):
        network.parse_rates({"F1": "1 s^-1"})
    with pytest.raises(fs.MechanismError, match="finite and ≥ 0"):
        network.parse_rates({"F1": -1.0})


def test_models_and_presets_are_read_once_and_again_when_edited(tmp_path):
    """A warm simulate(path) reuses the loaded mechanism and compiled network; editing the file (or the
    preset) is noticed through its size and modification time."""
    source = (MECHANISMS / "iron.yaml").read_text()
    path = tmp_path / "iron_copy.yaml"
    path.write_text(source)
    first = resolve_model(str(path))
    assert resolve_model(str(path)) is first
    path.write_text(source + "\n# edited\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    edited = problem_module.resolve_mechanism(str(path))
    assert edited is not problem_module.resolve_mechanism(str(MECHANISMS / "iron.yaml"))
    assert resolve_model(str(path)) is first  # re-read, same canonical form: the same compiled network
    preset = tmp_path / "p.yaml"
    preset.write_text((MECHANISMS / "conditions" / "tme.yaml").read_text())
    a = resolve_conditions(str(preset))
    assert resolve_conditions(str(preset)) is a
    preset.write_text(preset.read_text().replace("pH: {value: 6.5", "pH: {value: 6.6"))
    os.utime(preset, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert resolve_conditions(str(preset)).pH == 6.6


def test_method_options_of_the_other_family_are_refused():
    """simulate(method="ode", runs=50, epsilon=0.5) names both options instead of ignoring them; rtol with
    the SSA likewise."""
    with pytest.raises(fs.ConditionsError, match="`runs`, `epsilon` do not apply to method `ode`"):
        fs.simulate(MECHANISMS / "iron.yaml", runs=50, epsilon=0.5)
    with pytest.raises(fs.ConditionsError, match="`rtol` does not apply to method `ssa`"):
        fs.simulate(MECHANISMS / "iron.yaml", "ssa", rtol=1e-8)
