"""Robertson and POLLU against the published reference solutions of the Test Set
for IVP Solvers (tests/data/reference/*.yaml, sources inside): error in units of
the tolerance below 5 for rtol from 1e-4 to 1e-10."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from ruamel.yaml import YAML

from conftest import DATA
from fentonsim import solve_ode
from fentonsim.deterministic import ROSENBROCK_SOLVERS

TOLERANCES = [1e-4, 1e-6, 1e-8, 1e-10]
#: Smallest absolute tolerance [dimensionless concentration] that ROBER's A can be held to in double
#: precision: about 10·eps times the conserved total A + B + C = 1 (see test_robertson).
ROUND_OFF_FLOOR = 1e-15


def _readonly(array):
    array.setflags(write=False)
    return array


def network_from_reference(path):
    """The arrays solve_ode needs, straight from a reference file (these test problems are not
    element-balanced chemistry, so they bypass the mechanism loader)."""
    data = YAML(typ="safe").load(path.read_text())
    names = [s["name"] for s in data["species"]]
    index = {n: i for i, n in enumerate(names)}
    n_r = len(data["reactions"])
    reactant_idx = np.full((n_r, 3), -1, dtype=np.int32)
    reactant_coef = np.zeros((n_r, 3), dtype=np.int32)
    net = np.zeros((n_r, len(names)), dtype=np.int64)
    k = np.empty(n_r)
    for i, reaction in enumerate(data["reactions"]):
        for slot, (name, coef) in enumerate(reaction["reactants"].items()):
            reactant_idx[i, slot], reactant_coef[i, slot] = index[name], coef
            net[i, index[name]] -= coef
        for name, coef in reaction["products"].items():
            net[i, index[name]] += coef
        k[i] = float(reaction["k"])
    network = SimpleNamespace(
        name=path.stem, species=tuple(names), n_species=len(names), n_reactions=n_r,
        reactant_idx=_readonly(reactant_idx), reactant_coef=_readonly(reactant_coef), net_stoich=_readonly(net),
        species_index=lambda name: index[name], has_general_laws=False)
    y0 = np.array([float(data["initial"].get(n, 0.0)) for n in names])
    return network, k, y0, data


@pytest.mark.parametrize("solver", ROSENBROCK_SOLVERS)
@pytest.mark.parametrize("rtol", TOLERANCES)
def test_robertson(rtol, solver):
    """ROBER to t = 1e11 (values spanning 1e-13..1): published A, B, C within 5 tolerance units.

    atol is rtol·1e-6 but not below ROUND_OFF_FLOOR: A ends at 2e-8 after starting at 1 beside
    C ≈ 1, and its absolute error cannot fall below a few eps·(A + B + C) = a few 1e-16 whatever the
    tolerance (measured at rtol 1e-12, atol 1e-18: |ΔA| ≈ 1e-16). With atol = 1e-16 at rtol 1e-10 the
    tolerance unit is that floor itself, and perturbing y0 by 1e-9 relative moved the error between
    0.3 and 8 units: a test of rounding luck, not of the integrator."""
    network, k, y0, data = network_from_reference(DATA / "reference" / "robertson.yaml")
    published = data["reference"][0]
    reference = np.array([float(published[n]) for n in network.species])
    atol = max(rtol * 1e-6, ROUND_OFF_FLOOR)
    sol = solve_ode(network, k, y0, [0.0, float(published["t"])], rtol=rtol, atol=atol, solver=solver)
    error = np.abs(sol.concentration[-1] - reference) / (atol + rtol * np.abs(reference))
    assert error.max() < 5, dict(zip(network.species, error))


@pytest.mark.parametrize("solver", ROSENBROCK_SOLVERS)
@pytest.mark.parametrize("rtol", TOLERANCES)
def test_pollu(rtol, solver):
    """POLLU (20 species, 25 reactions) at t = 60: every component within 5 tolerance units."""
    network, k, y0, data = network_from_reference(DATA / "reference" / "pollu.yaml")
    reference = np.array([float(data["reference"][n]) for n in network.species])
    atol = rtol * 1e-6
    sol = solve_ode(network, k, y0, [0.0, float(data["t_end"])], rtol=rtol, atol=atol, solver=solver)
    error = np.abs(sol.concentration[-1] - reference) / (atol + rtol * np.abs(reference))
    assert error.max() < 5, dict(zip(network.species, error))
