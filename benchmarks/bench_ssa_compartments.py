"""Stochastic simulation of several compartments against peers, side by side in one run.

The model is bench_compartments' cell — H₂O₂ crossing passively from the extracellular space (10 fL) into the
cytosol (2 fL, catalase) and on into a lysosome (0.05 fL, 1 mM Fe(II), Fenton chemistry) — with volumes in
femtolitres, so molecules are counted: 602,214 H₂O₂ outside and 30,110 Fe²⁺ in the lysosome at the start,
about 2×10⁶ events per trajectory over 60 s (4×10⁵ over 10 s in quick mode). fentonsim reads the mechanism
file (fentonsim.stochastic_compartments: each transport direction one channel moving one molecule, each
reaction at its own compartment's volume). The peers get the same model as SBML in items, written out here:
every reaction's law is its propensity — c·Π n(n−1)… with c = k·(N_A·V_c)^(1−m) for a reaction inside
compartment c, (P·A/V_from)·n_from for each direction of a transport — so COPASI (basico, direct method),
libRoadRunner (gillespie) and GillesPy2 (SSACSolver) fire the same events, single-threaded like fentonsim here.

Before any ratio, each peer's ensemble mean of the final counts is compared with fentonsim's (bench_ssa
``_agreement``: species above 1,000 molecules, Bonferroni-corrected Student t); peers do not report event
counts, so their events/s use fentonsim's mean events per trajectory.
"""
from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import numpy as np

import fentonsim
from fentonsim.constants import AVOGADRO
from fentonsim.sbml.export import sbml_id

from .bench_compartments import INITIAL, PERMEABILITY_AREA, REACTIONS, VOLUMES, add_reaction, mechanism_yaml, sbml_cell
from .bench_ssa import _ours, _peer_rows

FEMTOLITRE = 1e-15
T_END, QUICK_T_END = 60.0, 10.0


def _falling(name, n):
    """The falling factorial n(n−1)… of species ``name`` to coefficient ``n``, as a formula."""
    return " * ".join(name if m == 0 else f"({name} - {m})" for m in range(n))


def sbml_items(network, counts) -> str:
    """The cell as SBML in items (module docstring); species in ``network.species`` order, named as there,
    starting at ``counts`` (n_s) molecules."""
    import libsbml

    doc, model = sbml_cell("cell_compartments_items", "item", FEMTOLITRE)
    taken = set()
    ids = {name: sbml_id(name, "s_", taken) for name in network.species}
    for name, n in zip(network.species, counts):
        species = model.createSpecies()
        species.setId(ids[name])
        species.setName(name)
        species.setCompartment(name.split("@")[1])
        species.setInitialAmount(float(n))
        species.setHasOnlySubstanceUnits(True)
        species.setBoundaryCondition(False)
        species.setConstant(False)
    reaction = partial(add_reaction, model)
    for rid, reactants, products, k, c in REACTIONS:
        order = sum(reactants.values())
        constant = k * (AVOGADRO * VOLUMES[c] * FEMTOLITRE) ** (1 - order)
        terms = " * ".join(_falling(ids[f"{s}@{c}"], n) for s, n in reactants.items())
        reaction(rid, {ids[f"{s}@{c}"]: n for s, n in reactants.items()},
                 {ids[f"{s}@{c}"]: n for s, n in products.items()}, f"{constant!r} * {terms}")
    for (a, b), pa in PERMEABILITY_AREA.items():
        for source, target in ((a, b), (b, a)):
            x, y = ids[f"H2O2@{source}"], ids[f"H2O2@{target}"]
            reaction(f"H2O2_{source}_{target}", {x: 1}, {y: 1}, f"{pa / VOLUMES[source]!r} * {x}")
    return libsbml.writeSBMLToString(doc)


def run(quick: bool = False) -> list[dict]:
    try:
        import libsbml  # noqa: F401
    except ImportError:
        return [{"case": "cell compartments (SSA)", "note": "python-libsbml not installed"}]
    t_end = QUICK_T_END if quick else T_END
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cell.yaml"
        path.write_text(mechanism_yaml("fL"), encoding="utf-8")
        network = fentonsim.compile_network(fentonsim.load(path))
    k = network.rate_constants()
    per_molar = AVOGADRO * np.asarray(network.compartment_volumes)
    counts = np.round(network.initial_state(**INITIAL) * per_molar)
    runs = 4 if quick else 20
    finals, events, seconds = _ours(network, k, counts / per_molar, runs, "direct", volume=None, t_end=t_end)
    rate = events / seconds
    rows = [{"case": "fentonsim SSA direct (1 thread)", "min_s": seconds / runs, "median_s": seconds / runs,
             "events_per_s": rate, "note": f"{rate / 1e6:.2f} M events/s, {events / runs:.3g} events per run"}]
    rows += _peer_rows(network, sbml_items(network, counts), finals, events / runs, rate, 2 if quick else 5,
                       gillespy=not quick, t_end=t_end)
    return [{**row, "case": f"cell compartments (SSA): {row['case']}"} for row in rows]
