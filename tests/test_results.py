"""The deterministic result Dataset is put together directly from checked parts (fentonsim.results._dataset)
because xarray's constructor cost more than the solve; these tests hold it identical to what the public
constructor builds from the same parts, usable as any Dataset, and independent between calls."""
from __future__ import annotations

import io

import numpy as np
import pytest
import xarray as xr

import fentonsim as fs
from conftest import MECHANISMS
from fentonsim import results
from fentonsim.sbml import export_sbml

IRON = str(MECHANISMS / "iron.yaml")


@pytest.fixture(scope="module")
def sbml_with_observables(tmp_path_factory):
    """The iron mechanism exported to SBML: its speciation forms come back as observables."""
    network = fs.compile_network(fs.load_mechanism(IRON))
    k = network.rate_constants(pH=6.5, temperature=310.15)
    y0 = network.initial_state(**{"Fe+2": 1e-4, "H2O2": 1e-4})
    path = tmp_path_factory.mktemp("sbml") / "iron.xml"
    path.write_text(export_sbml(network, k, y0, pH=6.5, temperature=310.15))
    return str(path)


CASES = {
    "mechanism, fluxes": lambda model: fs.simulate(IRON, t_end=60, n_points=7, conditions="tme",
                                                   initial={"Fe+2": "20 uM"}),
    "mechanism, no fluxes, a bolus": lambda model: fs.simulate(
        IRON, t_end=60, n_points=7, conditions="tme", fluxes=False,
        boluses=[fs.Bolus(time=30.0, species="H2O2", amount=1e-4)]),
    "SBML with observables": lambda model: fs.simulate(model, t_end=60, n_points=5),
}


@pytest.mark.parametrize("case", CASES)
def test_direct_dataset_is_identical_to_the_public_constructor(monkeypatch, sbml_with_observables, case):
    """Same variables, coordinates, indexes, dtypes, attributes and values as xr.Dataset(...) would give."""
    fast = CASES[case](sbml_with_observables)
    monkeypatch.setattr(results, "_dataset", results._public_dataset)
    reference = CASES[case](sbml_with_observables)
    xr.testing.assert_identical(fast.drop_attrs(), reference.drop_attrs())
    assert {k: v for k, v in fast.attrs.items() if k != "wall_time_s"} == \
        {k: v for k, v in reference.attrs.items() if k != "wall_time_s"}
    assert set(fast.xindexes) == set(reference.xindexes)
    for name in fast.variables:
        assert fast[name].dtype == reference[name].dtype, name
    assert list(fast.data_vars) == list(reference.data_vars)


def test_observables_match_the_generic_path(sbml_with_observables):
    """``observed`` built with the Dataset equals what observables.add_observables adds to one without it."""
    from fentonsim.observables import add_observables
    from fentonsim.problem import resolve_model

    dataset = fs.simulate(sbml_with_observables, t_end=60, n_points=5)
    network = resolve_model(sbml_with_observables)
    assert network.observables, "the exported model no longer has observables: the test checks nothing"
    bare = dataset.drop_vars(["observed", "observable_units", "observable"])
    xr.testing.assert_identical(add_observables(bare, network.observables), dataset)


def test_results_are_ordinary_independent_datasets():
    """Selection by label, arithmetic and a NetCDF round trip work; editing one result's labels or values
    leaves the next result of the same network untouched."""
    first = fs.simulate(IRON, t_end=60, n_points=7, conditions="tme")
    assert float(first.concentration.sel(species="peroxide", time=60.0)) > 0
    assert (first.extent.sel(reaction=first.reaction.values[0]) >= 0).all()
    buffer = io.BytesIO(first.to_netcdf(engine="scipy"))
    xr.testing.assert_allclose(xr.open_dataset(buffer, engine="scipy"), first)
    first["forms"].values[:] = "edited"
    first["concentration"].values[:] = -1.0
    second = fs.simulate(IRON, t_end=60, n_points=7, conditions="tme")
    assert "edited" not in set(second["forms"].values.tolist())
    assert (second["concentration"].values >= -1e-12).all()


def test_parts_that_do_not_fit_are_an_internal_error():
    """A variable whose shape disagrees with its dimensions is refused, never assembled into a Dataset."""
    network = fs.compile_network(fs.load_mechanism(IRON))
    time = np.linspace(0.0, 1.0, 3)
    with pytest.raises(ValueError, match="does not fit"):
        results._dataset(network, {"concentration": (("time", "species"), np.zeros((4, network.n_species)), {})},
                         {"time": (time, {})}, {})
