"""General rate laws (kernels/laws.py) against libRoadRunner, side by side on the same SBML files.

Models, written with libsbml:

* ``chain``: 20 Michaelis–Menten steps S0 → S1 → … → S20 (V_i·S/(K_i + S), V and K spread over a decade),
  the issue's example; 21 species, not stiff. The same chain with first-order laws (k_i = V_i/K_i) runs
  on fentonsim's mass-action kernel as a control: it shows what the method costs on this shape of model,
  apart from the laws.
* ``nanozyme``: a peroxidase-like nanozyme assay — H2O2 + TMB → oxTMB at k_cat·E·mm(H2O2)·mm(TMB) with
  GSH inhibition, and GSH reducing oxTMB with a Hill law; 5 species.

fentonsim imports general laws as programs for its interpreter kernel (compiled once for every model);
libRoadRunner compiles each model to machine code with LLVM and integrates with CVODE. Both at rtol 1e-6
on the same output times; the final states must agree to 1e-3 relative before a ratio counts.

Ratios: libRoadRunner time / fentonsim time (> 1: fentonsim faster), for the whole ``simulate(path)``
(Dataset with extents, the metric grid and provenance) and for ``solve_ode`` on the compiled Network.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

import fentonsim
from fentonsim.problem import resolve_model

from .bench_ode import _interleaved

N_STEPS = 20
T_END, N_POINTS = 600.0, 201


def _document(model_id):
    """(document, model): SBML L3V2 in mole, litre and second with one 1 L compartment `cell`."""
    import libsbml

    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId(model_id)
    for attribute, unit in (("setSubstanceUnits", "mole"), ("setTimeUnits", "second"), ("setVolumeUnits", "litre"),
                            ("setExtentUnits", "mole")):
        getattr(model, attribute)(unit)
    compartment = model.createCompartment()
    compartment.setId("cell")
    compartment.setSize(1.0)
    compartment.setConstant(True)
    compartment.setSpatialDimensions(3)
    return doc, model


def chain_sbml(n_steps=N_STEPS) -> str:
    """SBML L3V2 text of the Michaelis–Menten chain (mole, litre, second; 1 L compartment)."""
    import libsbml

    doc, model = _document("mm_chain")
    rng = np.random.default_rng(20)
    for i in range(n_steps + 1):
        species = model.createSpecies()
        species.setId(f"S{i}")
        species.setCompartment("cell")
        species.setInitialConcentration(1e-3 if i == 0 else 0.0)
        species.setHasOnlySubstanceUnits(False)
        species.setBoundaryCondition(False)
        species.setConstant(False)
    for i in range(n_steps):
        for name, value in ((f"V{i}", 10 ** rng.uniform(-6, -5)), (f"K{i}", 10 ** rng.uniform(-5, -4))):
            parameter = model.createParameter()
            parameter.setId(name)
            parameter.setValue(float(value))
            parameter.setConstant(True)
        reaction = model.createReaction()
        reaction.setId(f"R{i}")
        reaction.setReversible(False)
        reactant = reaction.createReactant()
        reactant.setSpecies(f"S{i}")
        reactant.setStoichiometry(1)
        reactant.setConstant(True)
        product = reaction.createProduct()
        product.setSpecies(f"S{i + 1}")
        product.setStoichiometry(1)
        product.setConstant(True)
        reaction.createKineticLaw().setMath(libsbml.parseL3Formula(f"cell * V{i} * S{i} / (K{i} + S{i})"))
    return libsbml.writeSBMLToString(doc)


def nanozyme_sbml() -> str:
    """SBML L3V2 text of the nanozyme assay model (module docstring)."""
    import libsbml

    doc, model = _document("nanozyme")
    for sid, value in (("H2O2", 1e-3), ("TMB", 5e-4), ("oxTMB", 0.0), ("GSH", 2e-4), ("GSSG", 0.0)):
        species = model.createSpecies()
        species.setId(sid)
        species.setCompartment("cell")
        species.setInitialConcentration(value)
        species.setHasOnlySubstanceUnits(False)
        species.setBoundaryCondition(False)
        species.setConstant(False)
    for pid, value in (("kcat", 4e3), ("E", 1e-7), ("Km", 3e-4), ("Kt", 1e-4), ("Ki", 5e-5), ("Vr", 2e-5),
                       ("Kr", 5e-5), ("n", 2.0), ("Kg", 1e-5)):
        parameter = model.createParameter()
        parameter.setId(pid)
        parameter.setValue(value)
        parameter.setConstant(True)
    for rid, reactants, products, formula in (
            ("peroxidase", {"H2O2": 1, "TMB": 1}, {"oxTMB": 1},
             "cell * kcat * E * H2O2 / (Km + H2O2) * TMB / (Kt + TMB) / (1 + GSH / Ki)"),
            ("reduction", {"oxTMB": 1, "GSH": 2}, {"TMB": 1, "GSSG": 1},
             "cell * Vr * oxTMB^n / (Kr^n + oxTMB^n) * GSH / (Kg + GSH)")):
        reaction = model.createReaction()
        reaction.setId(rid)
        reaction.setReversible(False)
        for role, terms in (("reactant", reactants), ("product", products)):
            for sid, nu in terms.items():
                ref = reaction.createReactant() if role == "reactant" else reaction.createProduct()
                ref.setSpecies(sid)
                ref.setStoichiometry(nu)
                ref.setConstant(True)
        reaction.createKineticLaw().setMath(libsbml.parseL3Formula(formula))
    return libsbml.writeSBMLToString(doc)


def first_order_chain_sbml() -> str:
    """The chain with k_i·S laws (k_i = V_i/K_i): mass action, for the control."""
    import libsbml

    doc = libsbml.readSBMLFromString(chain_sbml())
    model = doc.getModel()
    for i in range(model.getNumReactions()):
        model.getReaction(i).getKineticLaw().setMath(libsbml.parseL3Formula(f"cell * V{i} / K{i} * S{i}"))
    return libsbml.writeSBMLToString(doc)


def _case(label, text, t_end, n_points, quick):
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as fh:
        fh.write(text)
    path = fh.name
    try:
        network = resolve_model(path)
        k, y0 = network.rate_constants(), network.initial_state()
        t = np.linspace(0.0, t_end, n_points)
        solve = lambda: fentonsim.solve_ode(network, k, y0, t, fluxes=False)  # noqa: E731
        simulate = lambda: fentonsim.simulate(path, t_end=t_end, n_points=n_points)  # noqa: E731
        simulate()
        reference = solve().concentration[-1]
        kernel = "general-law kernel" if network.has_general_laws else "mass-action kernel"
        cases = {f"{label}: simulate(SBML path), {kernel}": simulate, f"{label}: solve_ode alone, {kernel}": solve}
        try:
            import roadrunner
        except ImportError:
            roadrunner = None
        agrees, deviation = None, None
        rr_case = f"{label}: libRoadRunner simulate (same SBML file)"
        if roadrunner is not None:
            rr = roadrunner.RoadRunner(path)

            def rr_simulate():
                rr.resetAll()
                return rr.simulate(0.0, t_end, n_points)

            final = np.array(rr_simulate())[-1, 1:]  # the file's species order, as fentonsim's
            big = np.abs(reference) > 1e-9
            deviation = float(np.max(np.abs(final[big] - reference[big]) / np.abs(reference[big])))
            agrees = deviation < 1e-3
            cases[rr_case] = rr_simulate
        timings = _interleaved(cases, 15 if quick else 40)
        return ratio_rows(timings, rr_case, {case: (agrees, deviation) for case in cases}, roadrunner is not None)
    finally:
        Path(path).unlink()


def ratio_rows(timings, rr_case, agreement, installed) -> list[dict]:
    """Result rows: each case's times and, against libRoadRunner's (``rr_case``), its ratio and
    ``agreement[case]`` = (agrees, largest relative deviation); a row saying so when it is not ``installed``."""
    rows = []
    rr_time = timings.get(rr_case, (None, None))[1]
    for case, (best, median) in timings.items():
        row = {"case": case, "min_s": best, "median_s": median}
        if rr_time is not None and case != rr_case:
            agrees, deviation = agreement[case]
            row.update(agrees=agrees, max_rel_deviation=deviation, speedup=rr_time / median,
                       ratio=f"{rr_time / median:.2f}x libRoadRunner")
        rows.append(row)
    if not installed:
        rows.append({"case": rr_case, "note": "not installed"})
    return rows


def run(quick: bool = False) -> list[dict]:
    try:
        import libsbml  # noqa: F401
    except ImportError:
        return [{"case": "general rate laws", "note": "python-libsbml not installed"}]
    return (_case(f"{N_STEPS} Michaelis–Menten chain", chain_sbml(), T_END, N_POINTS, quick)
            + _case("the same chain, first-order laws (control)", first_order_chain_sbml(), T_END, N_POINTS, quick)
            + _case("nanozyme assay (5 species, 2 laws)", nanozyme_sbml(), 60.0, 121, quick))
