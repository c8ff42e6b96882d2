"""Probes within their validity: a yield law (terephthalate → 2-hydroxyterephthalate, measured at pH 3.9–7.5
and 278–303 K) evaluated outside its stated range is never applied silently — the result says so in its
``validity_warnings`` attribute, simulate() issues a ValidityWarning and the CLI prints a line."""
from __future__ import annotations

import warnings

import pytest

import fentonsim
from conftest import MECHANISMS
from fentonsim import ValidityWarning, compile_network, load_mechanism, simulate, validity_warnings
from fentonsim.cli import main
from fentonsim.validity import VALIDITY_ATTRIBUTE, YieldLaw, yield_law_warnings

PROBES = MECHANISMS / "probes.yaml"
SHORT = dict(t_end=1.0, n_points=2)


@pytest.fixture(scope="module")
def probes():
    return compile_network(load_mechanism(PROBES))


def test_network_knows_the_terephthalate_law_and_its_range(probes):
    """Compiling keeps each yield law with the range its reaction states (P-TA: pH 3.9–7.5, 278.15–303.15 K)."""
    law = {law.reaction: law for law in probes.yield_laws}["P-TA"]
    assert law.pH == (3.9, 7.5) and law.T == pytest.approx((278.15, 303.15))
    assert law.varies_pH and law.varies_T and "P-TA-HTA" in law.branches


def test_warning_at_body_temperature(probes):
    """At 310.15 K (37 °C), above the law's 303.15 K, the result carries one caveat naming the law and the
    temperature, and simulate() warns with the same text."""
    with pytest.warns(ValidityWarning, match="P-TA") as record:
        ds = simulate(probes, ph=7.4, temperature="37 °C", **SHORT)
    lines = validity_warnings(ds)
    assert len(lines) == 1 and lines == ds.attrs[VALIDITY_ATTRIBUTE].split("\n")
    assert "P-TA" in lines[0] and "310.15 K" in lines[0] and "278.15–303.15 K" in lines[0]
    assert "pH" not in lines[0].split(":", 1)[1]  # pH 7.4 is within 3.9–7.5
    assert str(record[0].message) == lines[0]


def test_no_warning_within_range(probes):
    """At 298.15 K and pH 7.0, inside both ranges, the attribute is empty and nothing is warned."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ValidityWarning)
        ds = simulate(probes, ph=7.0, temperature=298.15, **SHORT)
    assert ds.attrs[VALIDITY_ATTRIBUTE] == "" and validity_warnings(ds) == []


def test_warning_for_ph_out_of_range(probes):
    """pH 8.0 at 298.15 K is outside the law's pH range 3.9–7.5 (temperature fine): the caveat names the pH."""
    with pytest.warns(ValidityWarning):
        ds = simulate(probes, ph=8.0, temperature=298.15, **SHORT)
    (line,) = validity_warnings(ds)
    assert "pH 8 outside 3.9–7.5" in line and " K " not in line.split(":", 1)[1]


def test_stochastic_results_carry_the_warning_too(probes):
    """The caveat depends on the conditions, not the method: an SSA ensemble records it as well."""
    with pytest.warns(ValidityWarning):
        ds = simulate(probes, "ssa", ph=7.4, temperature=310.15, runs=2, volume="1 fL", **SHORT)
    assert len(validity_warnings(ds)) == 1


def test_models_without_yield_laws_have_an_empty_attribute():
    """A mechanism with constant branch fractions only (the ROS core) reports no caveat."""
    iron = compile_network(load_mechanism(MECHANISMS / "ros_core.yaml"))
    assert iron.yield_laws == () and validity_warnings(simulate(iron, temperature=310.15, **SHORT)) == []


def test_law_without_stated_range_is_flagged():
    """A law that depends on T but states no temperature range cannot be checked, and says so."""
    law = YieldLaw("X", ("X-a", "X-b"), varies_pH=False, varies_T=True, pH=(4.0, 8.0), T=None)
    (line,) = yield_law_warnings([law], 7.0, 298.15)
    assert "no stated temperature range" in line
    assert yield_law_warnings([YieldLaw("Y", ("Y-a",), True, False, pH=(4.0, 8.0))], 7.0, 350.0) == []


def test_validity_warnings_survive_netcdf(tmp_path, probes):
    """The attribute is a plain string, so a result written to NetCDF keeps its caveats."""
    xr = pytest.importorskip("xarray")
    with pytest.warns(ValidityWarning):
        ds = simulate(probes, ph=7.4, temperature=310.15, **SHORT)
    path = tmp_path / "run.nc"
    try:
        ds.to_netcdf(path)
    except (ImportError, ValueError) as exc:  # no NetCDF backend installed
        pytest.skip(str(exc))
    assert validity_warnings(xr.open_dataset(path)) == validity_warnings(ds)


def test_cli_simulate_prints_the_caveat(capsys, tmp_path):
    """`fentonsim simulate` at 37 °C prints a `warning:` line naming the law, even with --quiet."""
    out = tmp_path / "run.csv"
    code = main(["simulate", str(PROBES), "--temperature", "37 C", "--t-end", "1", "--n-points", "2",
                 "--quiet", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "warning: yield law of P-TA" in printed and "310.15 K" in printed
    assert fentonsim.validity_warnings  # public API


def test_sweep_collects_the_caveats_of_its_points():
    """A sweep records the distinct caveats of its points: at 37 °C the law is out of range at every pH,
    and pH 8 adds a pH caveat; within range there are none."""
    from fentonsim.sweep import sweep

    result = sweep(PROBES, {"pH": [7.0, 8.0], "temperature": [310.15]}, t_end=1.0, n_points=2, progress=False)
    lines = validity_warnings(result)
    assert any("310.15 K" in line for line in lines) and any("pH 8 outside" in line for line in lines)
    cool = sweep(PROBES, {"pH": [7.0], "temperature": [298.15]}, t_end=1.0, n_points=2, progress=False)
    assert validity_warnings(cool) == []
