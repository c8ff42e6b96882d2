"""fentonsim.simulate: the documented Dataset schema, condition precedence, units on
inputs, NetCDF round trip and one-line errors for bad arguments."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import fentonsim
from conftest import MECHANISMS
from fentonsim import Bolus, ConditionsError, Source, compile_network, load_mechanism, simulate


@pytest.fixture(scope="module")
def iron():
    return compile_network(load_mechanism(MECHANISMS / "iron.yaml"))


@pytest.fixture(scope="module")
def tme_run(iron):
    return simulate(iron, conditions="tme", initial={"Fe(II)": "100 uM"}, t_end="10 min", n_points=31,
                    boluses=[Bolus("H2O2", "50 uM", "5 min")])


def test_schema(tme_run, iron):
    """Dimensions, coordinates, variables, units and attributes are those documented in fentonsim.results."""
    ds = tme_run
    sizes = dict(ds.sizes)
    assert sizes.pop("metric_time") > 200  # the metric grid (fentonsim.deterministic.metric_times)
    assert sizes == {"time": 31, "species": iron.n_species, "reaction": iron.n_reactions}
    assert list(ds.species.values) == list(iron.species)
    assert ds.forms.sel(species="peroxide") == "H2O2, HO2-" and ds.forms.sel(species="FeO+2") == ""
    assert list(ds.reaction.values) == list(iron.reaction_ids)
    expected_units = {"concentration": "M", "extent": "M", "exposure": "M s", "delivered": "M",
                      "rate_constant": "M^(1-order) s^-1", "net_stoich": "1", "order": "1",
                      "metric_concentration": "M", "metric_exposure": "M s"}
    for name, unit in expected_units.items():
        assert ds[name].attrs["units"] == unit and ds[name].attrs["long_name"]
    assert ds.time.attrs["units"] == "s" and ds.time.values[-1] == 600.0
    for key in ("method", "solver", "rtol", "atol", "pH", "temperature_K", "conditions", "mechanism",
                "mechanism_sha256", "parameter_set", "inputs", "ignored_inputs", "n_steps", "n_rejected",
                "n_rhs", "n_jac", "n_lu", "wall_time_s", "rate_convention", "fentonsim_version"):
        assert key in ds.attrs, key
    assert ds.attrs["method"] == "ode" and ds.attrs["solver"] == "rodas5p"
    assert ds.attrs["mechanism_sha256"] == iron.mechanism_sha256
    assert ds.attrs["n_steps"] > 0 and ds.attrs["wall_time_s"] > 0


def test_conditions_precedence_and_ignored_species(tme_run, iron):
    """The tme preset sets pH 6.5 and 37 °C, holds HCO3- at 25 mM and supplies O2 (tissue-like, toward 50 µM at
    0.1 s⁻¹); species it names that iron lacks (GSH) are listed."""
    assert tme_run.attrs["pH"] == 6.5 and tme_run.attrs["temperature_K"] == pytest.approx(310.15)
    assert tme_run.attrs["ignored_inputs"] == "GSH"
    np.testing.assert_allclose(tme_run.rate_constant, iron.rate_constants(
        pH=6.5, temperature=310.15, buffered={"O2(supply)": 50e-6, "HCO3-": 25e-3},
        reference={"O2X-in": 0.1, "O2X-out": 0.1}))
    assert float(tme_run.concentration.sel(species="O2")[0]) == pytest.approx(50e-6)  # the preset's oxygen section
    h2o2 = tme_run.concentration.sel(species="peroxide")
    assert float(h2o2[0]) == pytest.approx(100e-6)  # preset value
    override = simulate(iron, conditions="tme", ph=7.4, temperature="25 °C", initial={"H2O2": 1e-3},
                        t_end=1.0, n_points=2)
    assert override.attrs["pH"] == 7.4 and override.attrs["temperature_K"] == pytest.approx(298.15)
    assert float(override.concentration.sel(species="peroxide")[0]) == 1e-3


def test_mass_balance_with_inputs(tme_run):
    """concentration = initial + extent·net_stoich + delivered, with a bolus half-way."""
    ds = tme_run
    initial = ds.concentration.isel(time=0) - ds.delivered.isel(time=0)
    predicted = initial + xr.dot(ds.extent, ds.net_stoich, dim="reaction") + ds.delivered
    np.testing.assert_allclose(ds.concentration, predicted.transpose("time", "species"), rtol=1e-5, atol=1e-11)
    assert float(ds.delivered.sel(species="peroxide").isel(time=-1)) == pytest.approx(50e-6)
    assert "bolus 5e-05 M H2O2 at 300 s" in ds.attrs["inputs"]


def test_hydroxyl_production_is_exact_from_extents(tme_run):
    """Total ·OH produced = Σ over reactions of max(ν,0)·extent, consistent with the exposure balance."""
    ds = tme_run
    nu = ds.net_stoich.sel(species="hydroxyl")
    produced = float((ds.extent.isel(time=-1) * nu.where(nu > 0, 0)).sum())
    consumed = float((ds.extent.isel(time=-1) * (-nu).where(nu < 0, 0)).sum())
    final = float(ds.concentration.sel(species="hydroxyl").isel(time=-1))
    assert produced > 0
    assert produced - consumed == pytest.approx(final, rel=1e-6, abs=1e-15)


def test_netcdf_round_trip(tme_run, tmp_path):
    """The Dataset writes to NetCDF and reads back unchanged (attributes are plain values)."""
    path = tmp_path / "run.nc"
    tme_run.to_netcdf(path)
    back = xr.load_dataset(path)
    xr.testing.assert_allclose(back, tme_run)
    assert back.attrs["mechanism_sha256"] == tme_run.attrs["mechanism_sha256"]


def test_model_forms_agree(iron):
    """A path, a Mechanism and a Network give the same result."""
    runs = [simulate(m, t_end=60, n_points=5, initial={"Fe(II)": 1e-4, "H2O2": 1e-4})
            for m in (MECHANISMS / "iron.yaml", load_mechanism(MECHANISMS / "iron.yaml"), iron)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.concentration, runs[0].concentration)


def test_parameter_set_and_sources(iron):
    """A parameter set is applied and recorded; a source is described in the attributes."""
    ds = simulate(MECHANISMS / "iron.yaml", parameter_set="Walling-1975", t_end=60, n_points=3,
                  initial={"Fe(II)": 1e-4}, sources=[Source.zero_order("H2O2", "1 uM/s")])
    assert ds.attrs["parameter_set"] == "Walling-1975"
    assert "zero-order source 1e-06 M/s H2O2" in ds.attrs["inputs"]
    assert float(ds.delivered.sel(species="peroxide").isel(time=-1)) == pytest.approx(60e-6)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"method": "gillespie"}, "unknown method"),
    ({"t_end": -1}, "t_end"),
    ({"t_end": "5 M"}, "t_end"),
    ({"n_points": 1}, "n_points"),
    ({"t_eval": [0, 1], "t_end": 5}, "either"),
    ({"ph": 15}, "ph"),
    ({"initial": {"Cu(I)": 1e-5}}, "Cu\\(I\\)"),
    ({"buffered": {"H2O2": 1e-3}}, "not clamped"),
    ({"conditions": "mars"}, "unknown conditions"),
    ({"solver": "rk4"}, "solver"),
])
def test_bad_arguments(iron, kwargs, fragment):
    """Each bad argument raises a FentonsimError naming it (the CLI prints these as one line)."""
    with pytest.raises(fentonsim.FentonsimError, match=fragment):
        simulate(iron, **kwargs)


def test_unknown_model_type():
    with pytest.raises(ConditionsError, match="model"):
        simulate(42)
