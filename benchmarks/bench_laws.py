"""General rate laws (kernels/laws.py) against libRoadRunner, side by side on the same SBML files.

Models, written with libsbml:

* ``chain``: 20 Michaelis–Menten steps S0 → S1 → … → S20 (V_i·S/(K_i + S), V and K spread over a decade),
  the issue's example; 21 species, not stiff. The same chain with first-order laws (k_i = V_i/K_i) runs
  on fentonsim's mass-action kernel as a control: it shows what the method costs on this shape of model,
  apart from the laws.
* ``nanozyme``: a peroxidase-like nanozyme assay — H2O2 + TMB → oxTMB at k_cat·E·mm(H2O2)·mm(TMB) with
  GSH inhibition, and GSH reducing oxTMB with a Hill law; 5 species.
* ``fe3o4 nanozyme at tme``: the shipped fe3o4_nanozyme mechanism (iron Fenton chemistry, probes and six
  Michaelis–Menten surface laws; 33 species, 61 reactions, stiff) at the tumour preset with 1 mM H2O2, 0.5 mM
  TMB and 50 µg/mL particles, exported by fentonsim (SBML with general laws): the project's own kind of
  general-law model, over 1 h (ODE) and, in molecule counts in 1e-15 L, 600 s (SSA).

fentonsim imports general laws as programs for its interpreter kernel (compiled once for every model);
libRoadRunner compiles each model to machine code with LLVM and integrates with CVODE. Both at rtol 1e-6
on the same output times; the final states must agree to 1e-3 relative before a ratio counts.

Ratios: libRoadRunner time / fentonsim time (> 1: fentonsim faster), for the whole ``simulate(path)``
(Dataset with extents, the metric grid and provenance) and for ``solve_ode`` on the compiled Network.

Stochastic: the 20-step chain in molecule counts (``chain_sbml(counts=True)``: 20,000 S0 molecules, K_i in
molecules, V_i in molecules/s for a hundredfold faster enzyme, over 5 s, when five species hold > 1,000, so each law is evaluated on counts as SBML's stochastic semantics say), run by
fentonsim's general-law SSA (kernels/laws_ssa.py, one thread) and COPASI's direct method (basico) on the
same file. The ratio is events per second (COPASI's from fentonsim's mean events per run, as in
bench_ssa.py), counted only if the two ensembles' final means agree (bench_ssa._agreement: pooled-variance
Student t, Bonferroni over the species above 1,000 molecules). The same chain in counts with first-order laws
runs on the mass-action SSA kernel as a control: no law to evaluate, so it shows how fast an event on this
shape of network can be, against COPASI on the same file.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

import fentonsim
from fentonsim.problem import resolve_model

from .bench_ode import _interleaved
from .bench_ssa import _agreement, _threads

N_STEPS = 20
T_END, N_POINTS = 600.0, 201
#: The stochastic chain: S0 molecules, duration [s], output points and enzyme speed-up over the molar chain.
SSA_MOLECULES, SSA_T_END, SSA_POINTS, SSA_SPEED = 20000, 5.0, 51, 100.0
#: The nanozyme Fenton model: initial concentrations beside the tme preset's, and the SSA's volume [L].
NANOZYME_DOSE = {"TMB": "0.5 mM", "H2O2": "1 mM", "Fe3O4(s)": "50 ug/mL"}
NANOZYME_VOLUME = 1e-15


def _document(model_id, substance="mole"):
    """(document, model): SBML L3V2 in ``substance``, litre and second with one 1 L compartment `cell`."""
    import libsbml

    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId(model_id)
    for attribute, unit in (("setSubstanceUnits", substance), ("setTimeUnits", "second"),
                            ("setVolumeUnits", "litre"), ("setExtentUnits", substance)):
        getattr(model, attribute)(unit)
    compartment = model.createCompartment()
    compartment.setId("cell")
    compartment.setSize(1.0)
    compartment.setConstant(True)
    compartment.setSpatialDimensions(3)
    return doc, model


def chain_sbml(n_steps=N_STEPS, counts=False) -> str:
    """SBML L3V2 text of the Michaelis–Menten chain (mole, litre, second; 1 L compartment). ``counts``: the
    same chain in molecules (module docstring), V_i and K_i scaled from the molar chain's ranges."""
    import libsbml

    doc, model = _document("mm_chain", "item" if counts else "mole")
    rng = np.random.default_rng(20)
    for i in range(n_steps + 1):
        species = model.createSpecies()
        species.setId(f"S{i}")
        species.setCompartment("cell")
        if counts:
            species.setInitialAmount(SSA_MOLECULES if i == 0 else 0.0)
        else:
            species.setInitialConcentration(1e-3 if i == 0 else 0.0)
        species.setHasOnlySubstanceUnits(counts)
        species.setBoundaryCondition(False)
        species.setConstant(False)
    # Counts: S0 = 20,000 molecules stands for 1 mM, so K scales by 2e7 per M (200–2,000 molecules) and V too,
    # times SSA_SPEED so that a run is tens of thousands of events and no peer's per-run overhead dominates.
    k_scale = SSA_MOLECULES / 1e-3 if counts else 1.0
    v_scale = k_scale * (SSA_SPEED if counts else 1.0)
    for i in range(n_steps):
        for name, value in ((f"V{i}", v_scale * 10 ** rng.uniform(-6, -5)),
                            (f"K{i}", k_scale * 10 ** rng.uniform(-5, -4))):
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


def first_order_chain_sbml(counts=False) -> str:
    """The chain with k_i·S laws (k_i = V_i/K_i): mass action, for the control (in molecules with ``counts``)."""
    import libsbml

    doc = libsbml.readSBMLFromString(chain_sbml(counts=counts))
    model = doc.getModel()
    for i in range(model.getNumReactions()):
        model.getReaction(i).getKineticLaw().setMath(libsbml.parseL3Formula(f"cell * V{i} / K{i} * S{i}"))
    return libsbml.writeSBMLToString(doc)


def _case(label, text, t_end, n_points, quick):
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False, encoding="utf-8") as fh:
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


def _ssa_case(label, text, t_end, n_points, runs, peer_runs):
    """fentonsim's general-law SSA against COPASI's direct method on the SBML file ``text`` in molecule counts
    (module docstring): ``runs`` of ours on one thread, ``peer_runs`` of COPASI's."""
    from fentonsim.stochastic import build_problem, run_block

    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False, encoding="utf-8") as fh:
        fh.write(text)
    path = fh.name
    try:
        network = resolve_model(path)
        t = np.linspace(0.0, t_end, n_points)
        problem = build_problem(network, network.rate_constants(), network.initial_state(), t,
                                network.defaults.volume)
        run_block(problem, "direct", 1, 0, 1, 0.03, 10 ** 12)  # compile / load
        _threads(1)
        try:
            start = time.perf_counter()
            counts, _, counters, _, _ = run_block(problem, "direct", 12345, 0, runs, 0.03, 10 ** 12)
            seconds = time.perf_counter() - start
        finally:
            _threads(os.cpu_count() or 1)
        ours = counts[:, -1, :network.n_species].astype(float)
        events_per_run = float(counters[:, 0].mean())
        rate = events_per_run * runs / seconds
        kernel = "general-law kernel" if network.has_general_laws else "mass-action kernel"
        rows = [{"case": f"{label}: SSA, {kernel} (1 thread)", "min_s": seconds / runs,
                 "median_s": seconds / runs, "events_per_s": rate,
                 "note": f"{rate / 1e6:.2f} M events/s, {events_per_run:,.0f} events per run"}]
        peer = f"{label}: COPASI stochastic (basico, direct method)"
        try:
            import basico
        except ImportError:
            return rows + [{"case": peer, "note": "not installed"}]
        model = basico.load_model(path)
        finals, start = [], time.perf_counter()
        for _ in range(peer_runs):
            frame = basico.run_time_course(duration=t_end, intervals=n_points - 1, model=model,
                                           method="directMethod", use_numbers=True, max_steps=2 ** 31 - 1)
            finals.append([frame[name].iloc[-1] for name in network.species])
        peer_seconds = time.perf_counter() - start
        agrees, z = _agreement(np.array(finals), ours)
        peer_rate = events_per_run * peer_runs / peer_seconds
        row = {"case": peer, "min_s": peer_seconds / peer_runs, "median_s": peer_seconds / peer_runs,
               "agrees": agrees, "max_rel_deviation": z, "events_per_s": peer_rate,
               "note": f"{peer_rate / 1e6:.2f} M events/s; agreement t = {z:.1f}"}
        if agrees:
            row.update(speedup=rate / peer_rate, ratio=f"{rate / peer_rate:.2f}x fentonsim")
        return rows + [row]
    finally:
        Path(path).unlink()


def nanozyme_fenton_sbml(amounts=False) -> str:
    """The shipped fe3o4_nanozyme mechanism (iron Fenton chemistry, probes, six Michaelis–Menten surface laws;
    33 species, 61 reactions) at the tumour preset with NANOZYME_DOSE, exported to SBML (in molecule counts
    in NANOZYME_VOLUME with ``amounts``)."""
    import warnings

    from fentonsim.sbml import export_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the preset's validity caveats: not what is timed
        return export_model("fe3o4_nanozyme", conditions="tme", initial=NANOZYME_DOSE,
                            volume=NANOZYME_VOLUME if amounts else None, amounts=amounts)


def run(quick: bool = False) -> list[dict]:
    try:
        import libsbml  # noqa: F401
    except ImportError:
        return [{"case": "general rate laws", "note": "python-libsbml not installed"}]
    chain = f"{N_STEPS} Michaelis–Menten chain (counts)"
    nanozyme = "fe3o4 nanozyme at tme"
    return (_ssa_case(chain, chain_sbml(counts=True), SSA_T_END, SSA_POINTS, 100 if quick else 1000,
                      8 if quick else 40)
            + _ssa_case("the same chain in counts, first-order laws (control)", first_order_chain_sbml(counts=True),
                        SSA_T_END, SSA_POINTS, 100 if quick else 1000, 8 if quick else 40)
            + _ssa_case(nanozyme + " (counts)", nanozyme_fenton_sbml(amounts=True), 600.0, 61,
                        10 if quick else 50, 3 if quick else 15)
            + _case(nanozyme, nanozyme_fenton_sbml(), 3600.0, 61, quick)
            + _case(f"{N_STEPS} Michaelis–Menten chain", chain_sbml(), T_END, N_POINTS, quick)
            + _case("the same chain, first-order laws (control)", first_order_chain_sbml(), T_END, N_POINTS, quick)
            + _case("nanozyme assay (5 species, 2 laws)", nanozyme_sbml(), 60.0, 121, quick))
