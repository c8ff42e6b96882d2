"""Several compartments (fentonsim.compartments): transport against analytic solutions, amounts conserved
across volumes, a growing compartment diluting its species, SBML models against libRoadRunner, mechanism-file
errors with file:line, the dump/load round trip, and what refuses to count molecules per compartment (the
stochastic solvers themselves: tests/test_compartments_ssa.py)."""
from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fentonsim as fs
from conftest import MECHANISMS, require_module
from fentonsim.errors import ConditionsError, MechanismError
from fentonsim.mechanism.digest import mechanism_digest
from fentonsim.mechanism.dump import dump_mechanism

RTOL, ATOL = 1e-11, 1e-20


def write(path, text):
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def two_compartments(tmp_path, transport, v_out="10 pL", v_in="2 pL", extra_reactions=""):
    return write(tmp_path / "cell.yaml", f"""\
        name: cell
        compartments:
          - {{name: out, volume: {v_out}}}
          - {{name: cyt, volume: {v_in}}}
        species:
          - {{name: A@out, composition: {{C: 1}}}}
          - {{name: A@cyt, composition: {{C: 1}}}}
          - {{name: B@cyt, composition: {{C: 1}}}}
        reactions: {extra_reactions or "[]"}
        transport:
          - {transport}
        """)


def test_passive_transport_relaxes_exponentially_and_conserves_amount(tmp_path):
    """A_out <=> A_in through P·A: the difference decays at λ = P·A·(1/V_out + 1/V_in) towards the common
    concentration n/(V_out + V_in), and V_out·c_out + V_in·c_in stays constant to 1e-9 relative."""
    path = two_compartments(tmp_path, "{id: T, species: A, from: out, to: cyt, permeability-area: 3 pL/s}")
    t = np.linspace(0, 5, 51)
    ds = fs.simulate(path, t_eval=t, initial={"A@out": 1e-4, "A@cyt": 2e-5}, rtol=RTOL, atol=ATOL)
    v_out, v_in, pa = 10e-12, 2e-12, 3e-12
    c_out, c_in = (ds.concentration.sel(species=s).values for s in ("A@out", "A@cyt"))
    n = v_out * 1e-4 + v_in * 2e-5
    lam = pa * (1 / v_out + 1 / v_in)
    c_eq = n / (v_out + v_in)
    np.testing.assert_allclose(c_out, c_eq + (1e-4 - c_eq) * np.exp(-lam * t), rtol=1e-8)
    np.testing.assert_allclose(c_in, c_eq + (2e-5 - c_eq) * np.exp(-lam * t), rtol=1e-8)
    np.testing.assert_allclose(v_out * c_out + v_in * c_in, n, rtol=1e-9)
    assert list(ds.compartment.values) == ["out", "cyt", "cyt"]
    amounts = (ds.concentration * ds.compartment_volume).sel(species=["A@out", "A@cyt"]).sum("species")
    np.testing.assert_allclose(amounts.values, n, rtol=1e-9)


def test_first_order_transport_feeds_a_reaction_in_the_target(tmp_path):
    """A leaves the outside at k1 (first order per the source), arrives concentrated by V_out/V_in, and decays
    to B in the cytosol at k2: c_in = c0·(V_out/V_in)·k1/(k2 − k1)·(e^(−k1 t) − e^(−k2 t))."""
    path = two_compartments(tmp_path, "{id: T, species: A, from: out, to: cyt, k: 0.5 1/s}",
                            extra_reactions="[{id: decay, equation: A@cyt => B@cyt, rate: {type: constant, "
                                            "k: 2 1/s}}]")
    t = np.linspace(0, 6, 61)
    ds = fs.simulate(path, t_eval=t, initial={"A@out": 1e-5}, rtol=RTOL, atol=ATOL)
    k1, k2, ratio, c0 = 0.5, 2.0, 5.0, 1e-5
    np.testing.assert_allclose(ds.concentration.sel(species="A@out").values, c0 * np.exp(-k1 * t), rtol=1e-8)
    expected = c0 * ratio * k1 / (k2 - k1) * (np.exp(-k1 * t) - np.exp(-k2 * t))
    np.testing.assert_allclose(ds.concentration.sel(species="A@cyt").values, expected, rtol=1e-7, atol=1e-18)
    amount = 10e-12 * ds.concentration.sel(species="A@out") + 2e-12 * ds.concentration.sel(
        species=["A@cyt", "B@cyt"]).sum("species")
    np.testing.assert_allclose(amount.values, 10e-12 * c0, rtol=1e-9)


def test_single_volume_results_have_no_compartment_coordinate():
    """A mechanism without compartments is read and reported as before: no compartment records, no coordinate."""
    mechanism = fs.load(MECHANISMS / "iron.yaml")
    assert mechanism.compartments == () and mechanism.transports == ()
    assert all(s.compartment == "" for s in mechanism.species)
    ds = fs.simulate(mechanism, t_end=1, n_points=3, initial={"Fe+2": 1e-5, "H2O2": 1e-4})
    assert "compartment" not in ds.coords


def test_dump_load_round_trip_keeps_compartments_and_transport(tmp_path):
    """The dump writes compartments and transport as declared (not their compiled reactions); reloading gives
    an equal mechanism with the same digest, and a different volume changes the digest."""
    path = two_compartments(tmp_path, "{id: T, species: A, from: out, to: cyt, permeability-area: 3 pL/s, "
                                      "note: passive}")
    mechanism = fs.load(path)
    text = dump_mechanism(mechanism)
    assert "transport:" in text and "T/gain" not in text
    again = fs.load(write(tmp_path / "dump.yaml", text))
    assert again == mechanism and mechanism_digest(again) == mechanism_digest(mechanism)
    other = fs.load(two_compartments(tmp_path, "{id: T, species: A, from: out, to: cyt, permeability-area: "
                                               "3 pL/s, note: passive}", v_in="3 pL"))
    assert mechanism_digest(other) != mechanism_digest(mechanism)


BAD = {
    "unknown compartment": ("- {name: A@out, composition: {C: 1}}\n  - {name: A@nucleus, composition: {C: 1}}",
                            "", "names compartment `nucleus`, which `compartments` does not declare", 7),
    "no compartment": ("- {name: A@out, composition: {C: 1}}\n  - {name: A, composition: {C: 1}}", "",
                       "species `A` has no compartment; name it `A@<compartment>`", 7),
    "mixing reaction": ("- {name: A@out, composition: {C: 1}}\n  - {name: A@cyt, composition: {C: 1}}",
                        "reactions:\n  - {id: leak, equation: A@out => A@cyt, rate: {type: constant, k: 1 1/s}}",
                        "reaction `leak` mixes compartments cyt (`A@cyt`), out (`A@out`)", 9),
    "transport to nowhere": ("- {name: A@out, composition: {C: 1}}",
                             "transport:\n  - {id: T, species: A, from: out, to: nucleus, k: 1 1/s}",
                             "transport `T`: compartment `nucleus` is not declared", 8),
    "transport of an undeclared species": ("- {name: A@out, composition: {C: 1}}",
                                           "transport:\n  - {id: T, species: A, from: out, to: cyt, k: 1 1/s}",
                                           "transport `T` moves `A@cyt`, which is not a declared species", 8),
    "two constants": ("- {name: A@out, composition: {C: 1}}\n  - {name: A@cyt, composition: {C: 1}}",
                      "transport:\n  - {id: T, species: A, from: out, to: cyt, k: 1 1/s, "
                      "permeability-area: 1 pL/s}", "needs exactly one of `k`", 9),
    "k in wrong units": ("- {name: A@out, composition: {C: 1}}\n  - {name: A@cyt, composition: {C: 1}}",
                         "transport:\n  - {id: T, species: A, from: out, to: cyt, k: 1 M/s}", "`k` of transport `T`",
                         9),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_mechanism_file_errors_name_the_line(tmp_path, case):
    """Each compartment mistake in a mechanism file is one line naming file:line and what was expected."""
    species, tail, expected, line = BAD[case]
    text = ("name: bad\ncompartments:\n  - {name: out, volume: 10 pL}\n  - {name: cyt, volume: 2 pL}\n"
            f"species:\n  {species}\n{tail}\n")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MechanismError) as info:
        fs.load(path)
    message = str(info.value)
    assert "\n" not in message and expected in message, message
    assert message.startswith(f"{path}:{line}:"), message


@pytest.mark.parametrize("entry, expected", [
    ("{name: lyso, pH: 5}", "compartment `lyso` sets its own pH; pH is one per run"),
    ("{name: lyso}", "compartment `lyso` is missing the required key `volume`"),
    ("{name: lyso, volume: -1 fL}", "volume of compartment `lyso` must be positive"),
    ("{name: lyso, volume: 1 M}", "volume of compartment `lyso`"),
])
def test_compartment_entry_errors(tmp_path, entry, expected):
    """A compartment at its own pH, without a volume or with a volume that is not one is refused at its line."""
    path = write(tmp_path / "bad.yaml", f"name: bad\ncompartments:\n  - {entry}\nspecies: []\n")
    with pytest.raises(MechanismError, match=None) as info:
        fs.load(path)
    assert str(info.value).startswith(f"{path}:3:") and expected in str(info.value), str(info.value)


def test_transport_without_compartments_is_refused(tmp_path):
    """A transport in a file that declares no compartments is an error at the transport's line."""
    path = write(tmp_path / "bad.yaml", "name: bad\nspecies:\n  - {name: A, composition: {C: 1}}\ntransport:\n"
                                        "  - {id: T, species: A, from: a, to: b, k: 1 1/s}\n")
    with pytest.raises(MechanismError, match=r"bad.yaml:5: transport `T` moves `A` between compartments, but "
                                             r"the mechanism declares none"):
        fs.load(path)


def test_what_cannot_count_molecules_per_compartment_refuses(tmp_path):
    """The stochastic solvers count each species in its own compartment (tests/test_compartments_ssa.py), so a
    run-wide `volume` contradicts the mechanism and is refused for every method; general rate laws with
    compartments are refused by SSA and tau-leaping (the law SSA evaluates laws in one volume); SBML export in
    molecule counts refuses several compartments. Each message is one line naming the compartments."""
    path = two_compartments(tmp_path, "{id: T, species: A, from: out, to: cyt, k: 1 1/s}")
    for method in ("ssa", "tau-leap", "ode"):
        with pytest.raises(ConditionsError, match=r"^`volume` does not apply to `cell`: its compartments "
                                                  r"\(out, cyt\) have their own volumes"):
            fs.simulate(path, method=method, t_end=1, volume="1 fL", initial={"A@out": 1e-9})
    (tmp_path / "law").mkdir()
    law = two_compartments(tmp_path / "law", "{id: T, species: A, from: out, to: cyt, k: 1 1/s}", extra_reactions=(
        "[{id: MM, equation: A@cyt => B@cyt, rate: {k: 2e-6 M/s}, law: '[A@cyt] / (Km + [A@cyt])', "
        "law-constants: {Km: 1 uM}}]"))
    for method in ("ssa", "tau-leap"):
        with pytest.raises(ConditionsError, match=r"cannot take `cell`: it has general rate laws \(MM\) and "
                                                  r"compartments \(out, cyt\) of their own volumes.*method='ode'$"):
            fs.simulate(law, method=method, t_end=1, runs=2, seed=1, initial={"A@out": 1e-9})
    assert np.all(np.isfinite(fs.simulate(law, t_end=1, initial={"A@out": 1e-9}).concentration.values))
    network = fs.compile_network(fs.load(path))
    from fentonsim.sbml.export import export_sbml
    with pytest.raises(ConditionsError, match=r"SBML export with molecule counts cannot take .* compartments "
                                              r"\(out, cyt\) of their own volumes, and counts are per one volume"):
        export_sbml(network, np.ones(len(network.reaction_ids)), np.zeros(network.n_species), amounts=True)


# ----------------------------------------------------------------------------- conservation, randomised


@st.composite
def transport_networks(draw):
    """2–4 compartments of random volumes holding A and B (one C atom each), A ⇌ B inside some of them, and
    random first-order or passive transport of A or B between random pairs."""
    n = draw(st.integers(2, 4))
    volumes = [draw(st.floats(0.1, 10.0)) for _ in range(n)]
    internal = [(c, draw(st.floats(0.1, 5.0)), draw(st.floats(0.1, 5.0))) for c in range(n)
                if draw(st.booleans())]
    transports = []
    for i in range(draw(st.integers(1, 5))):
        a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        passive = draw(st.booleans())
        transports.append((f"T{i}", draw(st.sampled_from("AB")), a, b, passive, draw(st.floats(0.05, 3.0))))
    start = [(draw(st.floats(0.0, 1e-3)), draw(st.floats(0.0, 1e-3))) for _ in range(n)]
    return volumes, internal, transports, start


@settings(max_examples=25, deadline=None, derandomize=True)
@given(transport_networks())
def test_carbon_is_conserved_over_all_compartments(network):
    """Σ_c V_c·([A_c] + [B_c]) — the carbon in every compartment — does not change under random transport and
    reactions (1e-9 relative), whatever the volumes."""
    volumes, internal, transports, start = network
    lines = ["name: random", "compartments:"]
    lines += [f"  - {{name: c{i}, volume: {v!r} pL}}" for i, v in enumerate(volumes)]
    lines += ["species:"] + [f"  - {{name: {x}@c{i}, composition: {{C: 1}}}}" for i in range(len(volumes))
                             for x in "AB"]
    lines += ["reactions:" if internal else "reactions: []"]
    lines += [f"  - {{id: R{c}, equation: A@c{c} <=> B@c{c}, rate: {{type: constant, k: {kf!r} 1/s}}, "
              f"reverse-rate: {{type: constant, k: {kr!r} 1/s}}}}" for c, kf, kr in internal]
    lines += ["transport:"]
    for tid, x, a, b, passive, value in transports:
        constant = f"permeability-area: {value!r} pL/s" if passive else f"k: {value!r} 1/s"
        lines.append(f"  - {{id: {tid}, species: {x}, from: c{a}, to: c{b}, {constant}}}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        mechanism = fs.load(path)
    initial = {f"{x}@c{i}": value for i, pair in enumerate(start) for x, value in zip("AB", pair)}
    ds = fs.simulate(mechanism, t_eval=np.linspace(0, 10, 11), initial=initial, rtol=RTOL, atol=ATOL)
    volume = {f"c{i}": v for i, v in enumerate(volumes)}
    weights = np.array([volume[c] for c in ds.compartment.values])
    carbon = ds.concentration.values @ weights
    np.testing.assert_allclose(carbon, carbon[0], rtol=1e-9, atol=1e-25)


# ----------------------------------------------------------------------------- SBML


def sbml(path, compartments, species, reactions, rules=""):
    """An SBML L3V2 file; ``species`` are (id, compartment, initial concentration)."""
    comps = "".join(f'<compartment id="{c}" spatialDimensions="3" size="{v}" constant="{str(k).lower()}"/>'
                    for c, v, k in compartments)
    spec = "".join(f'<species id="{s}" compartment="{c}" initialConcentration="{x}" hasOnlySubstanceUnits="false" '
                   'boundaryCondition="false" constant="false"/>' for s, c, x in species)
    path.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="m" substanceUnits="mole" timeUnits="second" volumeUnits="litre" extentUnits="mole">
    <listOfCompartments>{comps}</listOfCompartments>
    <listOfSpecies>{spec}</listOfSpecies>
    <listOfParameters><parameter id="k1" value="0.7" constant="true"/><parameter id="k2" value="1.3" constant="true"/>
      <parameter id="g" value="0.2" constant="true"/></listOfParameters>
    {rules}
    <listOfReactions>{reactions}</listOfReactions>
  </model>
</sbml>
""", encoding="utf-8")
    return path


def sbml_reaction(rid, reactant, product, formula):
    from libsbml import parseL3Formula, writeMathMLToString

    math = writeMathMLToString(parseL3Formula(formula)).split("?>", 1)[-1]
    return (f'<reaction id="{rid}" reversible="false"><listOfReactants><speciesReference species="{reactant}" '
            f'stoichiometry="1" constant="true"/></listOfReactants><listOfProducts><speciesReference '
            f'species="{product}" stoichiometry="1" constant="true"/></listOfProducts><kineticLaw>{math}'
            "</kineticLaw></reaction>")


def test_growing_compartment_dilutes_its_species(tmp_path):
    """A compartment growing at dV/dt = g (rate rule) keeps the amount of a species no reaction touches, so
    its concentration is c0·V0/(V0 + g·t), analytic, to 1e-9; a species in a constant compartment beside it
    keeps its concentration."""
    require_module("libsbml", "sbml")
    path = sbml(tmp_path / "grow.xml", [("cell", 2.0, False), ("bath", 5.0, True)],
                [("S", "cell", 3.0), ("X", "bath", 1.0), ("P", "bath", 0.0)],
                sbml_reaction("r", "X", "P", "k1 * X * bath * 0"),
                '<listOfRules><rateRule variable="cell"><math xmlns="http://www.w3.org/1998/Math/MathML">'
                "<ci> g </ci></math></rateRule></listOfRules>")
    t = np.linspace(0, 10, 11)
    ds = fs.simulate(path, t_eval=t, rtol=RTOL, atol=1e-16)
    np.testing.assert_allclose(ds.concentration.sel(species="S").values, 3.0 * 2.0 / (2.0 + 0.2 * t), rtol=1e-9)
    np.testing.assert_allclose(ds.concentration.sel(species="X").values, 1.0, rtol=1e-12)
    np.testing.assert_allclose(ds.observed.sel(observable="cell").values, 2.0 + 0.2 * t, rtol=1e-12)
    # A varying size has no one volume: NaN, and the observable named after it gives it over time.
    assert np.isnan(ds.compartment_volume.sel(species="S")) and ds.compartment_volume.sel(species="X") == 5.0


def test_sbml_compartments_agree_with_libroadrunner(tmp_path):
    """Transport between compartments of different sizes (laws in amount per time), a reaction in the target
    and a target growing by a rate rule: fentonsim's concentrations match libRoadRunner's CVODE to 1e-6."""
    require_module("libsbml", "sbml")
    roadrunner = require_module("roadrunner", "peers")
    path = sbml(tmp_path / "cells.xml", [("out", 5.0, True), ("cyt", 0.5, False)],
                [("A_out", "out", 2.0), ("A_in", "cyt", 0.0), ("B_in", "cyt", 0.0)],
                sbml_reaction("uptake", "A_out", "A_in", "k1 * (A_out - A_in) * cyt")
                + sbml_reaction("convert", "A_in", "B_in", "k2 * A_in * cyt / (1 + A_in)"),
                '<listOfRules><rateRule variable="cyt"><math xmlns="http://www.w3.org/1998/Math/MathML">'
                "<apply><times/><ci> g </ci><ci> cyt </ci></apply></math></rateRule></listOfRules>")
    t = np.linspace(0, 5, 51)
    ours = fs.simulate(path, t_eval=t, rtol=RTOL, atol=1e-16)
    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-14
    theirs = rr.simulate(0, 5, 51, ["time", "[A_out]", "[A_in]", "[B_in]", "cyt"])
    for j, name in enumerate(("A_out", "A_in", "B_in"), start=1):
        np.testing.assert_allclose(ours.concentration.sel(species=name).values, theirs[:, j], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(ours.observed.sel(observable="cyt").values, theirs[:, 4], rtol=1e-6)
    assert list(ours.compartment.sel(species=["A_out", "A_in"]).values) == ["out", "cyt"]


def test_run_time_rates_cannot_split_a_transport(tmp_path):
    """Overriding one channel of a transport would break amount conservation: `rates` naming it is an error
    that points to the transport section."""
    path = two_compartments(tmp_path, "{id: T, species: A, from: out, to: cyt, k: 1 1/s}")
    with pytest.raises(MechanismError, match="a reaction of transport `T`; its constant is set in the "
                                             "mechanism's `transport:` section"):
        fs.simulate(path, t_end=1, rates={"T/gain": 2.0})


def test_resizing_events_and_amount_rate_rules_agree_with_libroadrunner(tmp_path):
    """An event doubling a compartment halves the concentrations in it (amounts kept; 3 → 1.5 exactly), and a
    rate rule dn/dt on an amount in a growing compartment is divided by V(t) and diluted: fentonsim matches
    libRoadRunner to 1e-6 on both."""
    require_module("libsbml", "sbml")
    roadrunner = require_module("roadrunner", "peers")
    event = ('<listOfEvents><event id="double" useValuesFromTriggerTime="false"><trigger initialValue="false" '
             'persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><gt/><csymbol '
             'encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> t </csymbol><cn> 1 </cn>'
             '</apply></math></trigger><listOfEventAssignments><eventAssignment variable="cell"><math '
             'xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><cn> 2 </cn><ci> cell </ci></apply></math>'
             "</eventAssignment></listOfEventAssignments></event></listOfEvents>")
    path = sbml(tmp_path / "resize.xml", [("cell", 2.0, False)], [("S", "cell", 3.0), ("A", "cell", 1.0),
                                                                  ("B", "cell", 0.0)],
                sbml_reaction("r", "A", "B", "k1 * A * cell"), event)
    t = np.linspace(0, 3, 31)
    ours = fs.simulate(path, t_eval=t, rtol=RTOL, atol=1e-16)
    s = ours.concentration.sel(species="S").values
    np.testing.assert_allclose(s[t < 1], 3.0, rtol=1e-12)
    np.testing.assert_allclose(s[t > 1], 1.5, rtol=1e-12)
    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-14
    theirs = rr.simulate(0, 3, 31, ["time", "[A]", "[B]"])
    for j, name in enumerate(("A", "B"), start=1):
        np.testing.assert_allclose(ours.concentration.sel(species=name).values, theirs[:, j], rtol=1e-6, atol=1e-10)

    amount = tmp_path / "amount.xml"
    amount.write_text(path.read_text().replace(event, "").replace(
        '<listOfSpecies>', '<listOfSpecies><species id="N" compartment="cell" initialAmount="4" '
        'hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>').replace(
        "<listOfReactions>", '<listOfRules><rateRule variable="cell"><math xmlns="http://www.w3.org/1998/Math/MathML">'
        '<ci> g </ci></math></rateRule><rateRule variable="N"><math xmlns="http://www.w3.org/1998/Math/MathML">'
        "<apply><times/><ci> k2 </ci><ci> A </ci></apply></math></rateRule></listOfRules><listOfReactions>"),
        encoding="utf-8")
    ours = fs.simulate(amount, t_eval=t, rtol=RTOL, atol=1e-16)
    rr = roadrunner.RoadRunner(str(amount))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-14
    theirs = rr.simulate(0, 3, 31, ["time", "[N]", "[A]", "cell"])
    np.testing.assert_allclose(ours.concentration.sel(species="N").values, theirs[:, 1], rtol=1e-6)
    np.testing.assert_allclose(ours.concentration.sel(species="A").values, theirs[:, 2], rtol=1e-6)


_VALUES = st.sampled_from(["2 pL", "0.5 fL", "1e-12", "-1 pL", "0 L", "1 M", "abc", "", "[1, 2]", "{a: 1}", "1 1/s",
                           "0.1 1/s", "1 pL/s", "-2 1/s", "nan", "1e400 L", "out", "cyt", "A", "5"])
_KEYS = st.sampled_from(["name", "volume", "note", "pH", "temperature", "id", "species", "from", "to", "k",
                         "permeability-area", "ref", "colour"])


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.dictionaries(_KEYS, _VALUES, max_size=6), max_size=3),
       st.lists(st.dictionaries(_KEYS, _VALUES, max_size=7), max_size=3))
def test_any_compartment_or_transport_section_loads_or_fails_with_file_and_line(compartments, transports):
    """Whatever the `compartments:` and `transport:` entries hold, loading either succeeds or raises one
    MechanismError line naming the file and the line — never another exception."""
    def entries(items):
        return "\n".join("  - {" + ", ".join(f"{k}: {v}" for k, v in item.items()) + "}" for item in items) or "  []"
    text = (f"name: fuzz\ncompartments:\n{entries(compartments)}\nspecies:\n  - {{name: A@out, composition: {{C: 1}}}}\n"
            f"  - {{name: A@cyt, composition: {{C: 1}}}}\ntransport:\n{entries(transports)}\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            mechanism = fs.load(path)
        except MechanismError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith(f"{path}:"), message
            return
    assert {c.name for c in mechanism.compartments} >= {"out", "cyt"}
    assert all(c.volume > 0 for c in mechanism.compartments)


def test_an_amount_in_a_growing_compartment_catalysing_elsewhere_agrees_with_libroadrunner(tmp_path):
    """A law k·N·A read with N an amount in a growing compartment and A in a constant one is not mass action
    in the state (N's symbol is c·V(t)); it is integrated as a general law and matches libRoadRunner to 1e-6."""
    require_module("libsbml", "sbml")
    roadrunner = require_module("roadrunner", "peers")
    path = sbml(tmp_path / "catalyst.xml", [("cell", 1.0, False), ("bath", 4.0, True)],
                [("A", "bath", 1.0), ("B", "bath", 0.0)], sbml_reaction("r", "A", "B", "k1 * N * A"),
                '<listOfRules><rateRule variable="cell"><math xmlns="http://www.w3.org/1998/Math/MathML">'
                "<ci> g </ci></math></rateRule></listOfRules>")
    path.write_text(path.read_text().replace(
        "<listOfSpecies>", '<listOfSpecies><species id="N" compartment="cell" initialAmount="0.5" '
        'hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>').replace(
        "</listOfProducts>", '</listOfProducts><listOfModifiers><modifierSpeciesReference species="N"/>'
        "</listOfModifiers>"), encoding="utf-8")
    t = np.linspace(0, 5, 51)
    ours = fs.simulate(path, t_eval=t, rtol=RTOL, atol=1e-16)
    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-14
    theirs = rr.simulate(0, 5, 51, ["time", "[A]", "[N]"])
    np.testing.assert_allclose(ours.concentration.sel(species="A").values, theirs[:, 1], rtol=1e-6)
    np.testing.assert_allclose(ours.concentration.sel(species="N").values, theirs[:, 2], rtol=1e-6)


def test_a_compartment_acidity_is_a_clamped_hydrogen_ion_of_its_own(tmp_path):
    """pH is one per run, but a lysosome's own [H+] can be a clamped species `H+@lys` written into its rate
    laws: A is consumed at k·[H+@lys]·[A] (analytic exponential, 1e-8), and `buffered=` changes the
    lysosome's acidity at run time (pH 5 and 6)."""
    path = write(tmp_path / "lyso.yaml", """\
        name: lyso
        compartments:
          - {name: cyt, volume: 2 pL}
          - {name: lys, volume: 0.05 pL}
        species:
          - {name: H+@lys, composition: {H: 1}, charge: 1, buffered: 10 uM}
          - {name: A@lys, composition: {C: 1}}
          - {name: B@lys, composition: {C: 1}}
          - {name: A@cyt, composition: {C: 1}}
        reactions:
          - {id: acid, equation: A@lys + H+@lys => B@lys + H+@lys, rate: {type: constant, k: 1e5 M^-1 s^-1}}
        transport:
          - {id: T, species: A, from: cyt, to: lys, k: 0.1 1/s}
        """)
    t = np.linspace(0, 10, 11)
    for h in (1e-5, 1e-6):
        ds = fs.simulate(path, t_eval=t, initial={"A@lys": 1e-5}, buffered={"H+@lys": h}, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(ds.concentration.sel(species="A@lys").values, 1e-5 * np.exp(-1e5 * h * t),
                                   rtol=1e-8)


def test_info_lists_compartments_and_transport(tmp_path, capsys):
    """`fentonsim info` names each compartment with its volume and each transport with its constant and the
    reactions it compiles to."""
    from fentonsim.cli import main

    path = two_compartments(tmp_path, "{id: T, species: A, from: out, to: cyt, k: 0.5 1/s}")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "  out          1e-11 L" in out and "  cyt          2e-12 L" in out
    assert "transport T: A@out -> A@cyt, first order, k = 0.5 s^-1 (reactions T, T/gain)" in out


def test_sbml_export_of_compartments_agrees_with_libroadrunner_and_reimports(tmp_path):
    """A mechanism file with three compartments, passive and first-order transport and a reaction is exported
    with one SBML compartment per compartment (laws in the changed species' volume): libRoadRunner integrates
    the same concentrations (1e-6), and fentonsim's import of the file gives them back (1e-9)."""
    require_module("libsbml", "sbml")
    roadrunner = require_module("roadrunner", "peers")
    path = write(tmp_path / "three.yaml", """\
        name: three
        compartments:
          - {name: out, volume: 10 pL}
          - {name: cyt, volume: 2 pL}
          - {name: lys, volume: 0.05 pL}
        species:
          - {name: A@out, composition: {C: 1}}
          - {name: A@cyt, composition: {C: 1}}
          - {name: A@lys, composition: {C: 1}}
          - {name: B@lys, composition: {C: 2}}
        reactions:
          - {id: R, equation: 2 A@lys => B@lys, rate: {type: constant, k: 1e4 M^-1 s^-1}}
        transport:
          - {id: T1, species: A, from: out, to: cyt, permeability-area: 3 pL/s}
          - {id: T2, species: A, from: cyt, to: lys, k: 0.2 1/s}
        """)
    initial = {"A@out": 1e-4}
    t = np.linspace(0, 20, 41)
    ours = fs.simulate(path, t_eval=t, initial=initial, rtol=RTOL, atol=ATOL)
    xml = tmp_path / "three.xml"
    from fentonsim.sbml import export_model

    xml.write_text(export_model(path, initial=initial), encoding="utf-8")
    rr = roadrunner.RoadRunner(str(xml))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-22
    names = ["A@out", "A@cyt", "A@lys", "B@lys"]
    theirs = rr.simulate(0, 20, 41, ["time"] + [f"[{rr.model.getFloatingSpeciesIds()[i]}]" for i in range(4)])
    for j, name in enumerate(names, start=1):
        np.testing.assert_allclose(ours.concentration.sel(species=name).values, theirs[:, j], rtol=1e-6, atol=1e-14)
    back = fs.simulate(xml, t_eval=t, rtol=RTOL, atol=ATOL)
    for name in names:
        np.testing.assert_allclose(back.concentration.sel(species=name).values,
                                   ours.concentration.sel(species=name).values, rtol=1e-9, atol=1e-20)
    assert list(back.compartment.sel(species=names).values) == ["c_out", "c_cyt", "c_lys", "c_lys"]
