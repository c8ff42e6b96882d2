"""Several compartments (fentonsim.compartments) against libRoadRunner, side by side on one model.

The model: H₂O₂ dosed outside a cell (``ext``, 10 L) crosses passively into the cytosol (``cyt``, 2 L), where
it disproportionates (2 H₂O₂ → 2 H₂O + O₂), and on into a lysosome (``lys``, 0.05 L) holding Fe(II), where
Fenton chemistry runs (Fe²⁺ + H₂O₂ → Fe³⁺ + OH⁻ + HO•, HO• + Fe²⁺ → Fe³⁺ + OH⁻, Fe³⁺ + H₂O₂ → Fe²⁺ + HO₂• + H⁺)
— stiff (k from 0.002 to 3.2·10⁸ M⁻¹ s⁻¹) and spread over volumes 200× apart. Volumes are in litres so that
both sides integrate amounts of ordinary size; the numbers are illustrative.

It is written twice: as a mechanism file (``compartments:`` and ``transport:``; transport compiles to
mass-action channels for the mass-action kernel) and as SBML with kinetic laws in amount per time (fentonsim
imports the transport laws, which span two volumes, as general laws). libRoadRunner integrates the SBML file
with CVODE. Every side at rtol 1e-6; the final concentrations above 1 nM must agree to 1e-3 relative before a
ratio counts.

Ratios: libRoadRunner time / fentonsim time (> 1: fentonsim faster) for ``solve_ode`` on the compiled Network.
"""
from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import numpy as np

import fentonsim

from .bench_laws import _document, ratio_rows
from .bench_ode import _interleaved

T_END, N_POINTS = 600.0, 201
VOLUMES = {"ext": 10.0, "cyt": 2.0, "lys": 0.05}  # L
PERMEABILITY_AREA = {("ext", "cyt"): 0.5, ("cyt", "lys"): 0.02}  # L/s
#: (id, reactants, products, k in M^(1-order) s^-1, compartment); H+ and OH- are written for balance only.
REACTIONS = (
    ("catalase", {"H2O2": 2}, {"H2O": 2, "O2": 1}, 1.0e3, "cyt"),
    ("fenton", {"Fe+2": 1, "H2O2": 1}, {"Fe+3": 1, "HO*": 1}, 63.0, "lys"),
    ("scavenge", {"HO*": 1, "Fe+2": 1}, {"Fe+3": 1}, 3.2e8, "lys"),
    ("reduce", {"Fe+3": 1, "H2O2": 1}, {"Fe+2": 1, "HO2*": 1}, 2.0e-3, "lys"),
)
INITIAL = {"H2O2@ext": 1e-4, "Fe+2@lys": 1e-3}
SPECIES = {"H2O2": ({"H": 2, "O": 2}, ("ext", "cyt", "lys")), "H2O": ({"H": 2, "O": 1}, ("cyt",)),
           "O2": ({"O": 2}, ("cyt",)), "Fe+2": ({"Fe": 1}, ("lys",)), "Fe+3": ({"Fe": 1}, ("lys",)),
           "HO*": ({"H": 1, "O": 1}, ("lys",)), "HO2*": ({"H": 1, "O": 2}, ("lys",))}


def _sid(name, compartment):
    """An SBML id for ``name@compartment``."""
    return name.replace("+", "p").replace("*", "r") + "_" + compartment


def mechanism_yaml(volume_unit="L") -> str:
    """The model as a mechanism file, volumes in ``volume_unit`` and P·A in it per second, so every rate
    stays the same (bench_ssa_compartments counts molecules in femtolitres)."""
    lines = ["name: cell-compartments", "compartments:"]
    lines += [f"  - {{name: {c}, volume: {v!r} {volume_unit}}}" for c, v in VOLUMES.items()]
    lines += ["species:", "  - {name: H+, composition: {H: 1}, buffered: from-pH}",
              "  - {name: OH-, composition: {O: 1, H: 1}, buffered: from-pOH}"]
    for name, (composition, places) in SPECIES.items():
        radical = ", radical: true" if "*" in name else ""
        elements = ", ".join(f"{e}: {n}" for e, n in composition.items())
        lines += [f"  - {{name: {name}@{c}, composition: {{{elements}}}{radical}}}" for c in places]
    balance = {"fenton": ("", " + OH-"), "scavenge": ("", " + OH-"), "reduce": ("", " + H+")}
    lines.append("reactions:")
    for rid, reactants, products, k, c in REACTIONS:
        side = lambda terms: " + ".join(f"{n} {s}@{c}" if n > 1 else f"{s}@{c}" for s, n in terms.items())  # noqa: E731
        order = sum(reactants.values())
        unit = "1/s" if order == 1 else f"M^-{order - 1} s^-1"
        lines.append(f"  - {{id: {rid}, equation: {side(reactants)} => {side(products)}{balance.get(rid, ('', ''))[1]}, "
                     f"rate: {{type: constant, k: {k!r} {unit}}}}}")
    lines.append("transport:")
    for (a, b), pa in PERMEABILITY_AREA.items():
        lines.append(f"  - {{id: H2O2_{a}_{b}, species: H2O2, from: {a}, to: {b}, "
                     f"permeability-area: {pa!r} {volume_unit}/s}}")
    return "\n".join(lines) + "\n"


def sbml_cell(model_id, substance, litres_per_unit):
    """(document, model): SBML L3V2 in ``substance`` with the three compartments, of sizes
    VOLUMES × ``litres_per_unit``."""
    doc, model = _document(model_id, substance)
    model.removeCompartment("cell")  # the three below instead
    for cid, volume in VOLUMES.items():
        compartment = model.createCompartment()
        compartment.setId(cid)
        compartment.setSize(volume * litres_per_unit)
        compartment.setConstant(True)
        compartment.setSpatialDimensions(3)
    return doc, model


def add_reaction(model, rid, reactants, products, formula):
    """An irreversible reaction of ``model``: {species id: stoichiometry} each side, kinetic law ``formula``."""
    import libsbml

    r = model.createReaction()
    r.setId(rid)
    r.setReversible(False)
    for sid, nu, make in ([(sid, nu, r.createReactant) for sid, nu in reactants.items()]
                          + [(sid, nu, r.createProduct) for sid, nu in products.items()]):
        ref = make()
        ref.setSpecies(sid)
        ref.setStoichiometry(nu)
        ref.setConstant(True)
    r.createKineticLaw().setMath(libsbml.parseL3Formula(formula))


def sbml_text() -> str:
    """The model as SBML L3V2, kinetic laws in mole per second."""
    import libsbml

    doc, model = sbml_cell("cell_compartments", "mole", 1.0)
    for name, (_, places) in SPECIES.items():
        for c in places:
            species = model.createSpecies()
            species.setId(_sid(name, c))
            species.setCompartment(c)
            species.setInitialConcentration(INITIAL.get(f"{name}@{c}", 0.0))
            species.setHasOnlySubstanceUnits(False)
            species.setBoundaryCondition(False)
            species.setConstant(False)
    reaction = partial(add_reaction, model)

    for rid, reactants, products, k, c in REACTIONS:
        terms = " * ".join(f"{_sid(s, c)}^{n}" if n > 1 else _sid(s, c) for s, n in reactants.items())
        reaction(rid, {_sid(s, c): n for s, n in reactants.items()}, {_sid(s, c): n for s, n in products.items()},
                 f"{k!r} * {terms} * {c}")
    for (a, b), pa in PERMEABILITY_AREA.items():
        source, target = _sid("H2O2", a), _sid("H2O2", b)
        reaction(f"H2O2_{a}_{b}", {source: 1}, {target: 1}, f"{pa!r} * ({source} - {target})")
    return libsbml.writeSBMLToString(doc)


def run(quick: bool = False) -> list[dict]:
    try:
        import libsbml  # noqa: F401
    except ImportError:
        return [{"case": "compartments", "note": "python-libsbml not installed"}]
    with tempfile.TemporaryDirectory() as folder:
        yaml_path, xml_path = Path(folder) / "cell.yaml", Path(folder) / "cell.xml"
        yaml_path.write_text(mechanism_yaml(), encoding="utf-8")
        xml_path.write_text(sbml_text(), encoding="utf-8")
        t = np.linspace(0.0, T_END, N_POINTS)
        yaml_net = fentonsim.compile_network(fentonsim.load(yaml_path))
        xml_net = fentonsim.compile_network(fentonsim.load(xml_path))
        k_yaml, y0_yaml = yaml_net.rate_constants(), yaml_net.initial_state(**INITIAL)
        k_xml, y0_xml = xml_net.rate_constants(), xml_net.initial_state()
        yaml_case = "cell compartments: solve_ode alone, mechanism file, mass-action kernel"
        sbml_case = "cell compartments: solve_ode alone, SBML import, general-law kernel"
        sides = {yaml_case: lambda: fentonsim.solve_ode(yaml_net, k_yaml, y0_yaml, t, fluxes=False),
                 sbml_case: lambda: fentonsim.solve_ode(xml_net, k_xml, y0_xml, t, fluxes=False)}
        # The SBML side's species are ids: map them back to the names they stand for.
        ids = {_sid(*name.split("@")): name for name in yaml_net.species}
        finals = {yaml_case: dict(zip(yaml_net.species, sides[yaml_case]().concentration[-1])),
                  sbml_case: {ids[s]: v for s, v in zip(xml_net.species, sides[sbml_case]().concentration[-1])}}
        try:
            import roadrunner
        except ImportError:
            roadrunner = None
        rr_case = "cell compartments: libRoadRunner simulate (same SBML file)"
        cases = dict(sides)
        agreement = {}
        if roadrunner is not None:
            rr = roadrunner.RoadRunner(str(xml_path))
            rr.integrator.relative_tolerance = 1e-6
            selections = ["time"] + [f"[{sid}]" for sid in ids]

            def rr_simulate():
                rr.resetAll()
                return rr.simulate(0.0, T_END, N_POINTS, selections)

            theirs = dict(zip(ids.values(), np.array(rr_simulate())[-1, 1:]))
            for case, final in finals.items():
                # HO• sits near 1e-12 M, inside CVODE's default absolute tolerance: compared above 1e-9 M only.
                big = [n for n in theirs if abs(theirs[n]) > 1e-9]
                deviation = max(abs(final[n] - theirs[n]) / abs(theirs[n]) for n in big)
                agreement[case] = (deviation < 1e-3, float(deviation))
            cases[rr_case] = rr_simulate
        timings = _interleaved(cases, 15 if quick else 40)
        return ratio_rows(timings, rr_case, agreement, roadrunner is not None)
