"""O2 is a budget (dynamic species, supply set by the condition preset) and compare separates the
tumour/normal difference into pH alone, H2O2, GSH and the rest."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fentonsim as fs
from fentonsim.compare import compare, figure_footer, markdown_table, write_outputs
from fentonsim.conditions import load_conditions
from fentonsim.decomposition import STAGES, decomposition_rows
from fentonsim.errors import ConditionsError, MechanismError

from conftest import MECHANISMS

IRON = [MECHANISMS / "iron.yaml", MECHANISMS / "glutathione.yaml"]
PRESET_HEADER = "kind: conditions\nname: test\nunits: {concentration: M, temperature: K, volume: L}\npH: 7.0\n"


def _preset(tmp_path, oxygen: str):
    path = tmp_path / "preset.yaml"
    path.write_text(PRESET_HEADER + oxygen)
    return path


def test_o2_is_integrated_and_starts_air_saturated_without_a_preset():
    """Without a preset O2 is a state variable starting at 258 µM (closed vessel): Fe(II) oxygenation uses it up."""
    net = fs.compile_network(fs.load_mechanism(MECHANISMS / "iron.yaml"))
    assert "O2" in net.species
    ds = fs.simulate(net, initial={"Fe+2": 100e-6}, ph=7.4, t_end="2 h", n_points=3)
    o2 = ds.concentration.sel(species="O2").values
    assert o2[0] == pytest.approx(258e-6)
    assert o2[-1] < o2[0]  # consumed, nothing resupplies a closed vessel
    assert ds.attrs["oxygen_supply"].startswith("closed vessel")


def test_o2_change_is_the_sum_of_reaction_and_exchange_fluxes():
    """O2's change equals Σ extent·ν over every reaction, the exchange included; a supply set point of 0
    gives no inflow while the tissue-like outflow still runs."""
    ds = fs.simulate(IRON, conditions="tme", initial={"Fe+2": 20e-6}, t_end=600, n_points=3,
                     buffered={"O2(supply)": 0.0})
    nu = ds.net_stoich.sel(species="O2")
    exchange = ds.extent.isel(time=-1).sel(reaction=["O2X-in", "O2X-out"])
    assert float(exchange.sel(reaction="O2X-in")) == pytest.approx(0.0, abs=1e-30)
    change = float(ds.concentration.sel(species="O2").isel(time=-1) - ds.concentration.sel(species="O2").isel(time=0))
    assert change == pytest.approx(float((ds.extent.isel(time=-1) * nu).sum()), rel=1e-6, abs=1e-15)
    assert float(exchange.sel(reaction="O2X-out")) > 0  # tme supplies tissue-like exchange


@pytest.mark.parametrize("supply, k_expected", [("closed", 0.0), ("open", 2e-3), ("tissue", 0.1)])
def test_preset_oxygen_section_sets_initial_set_point_and_transfer(tmp_path, supply, k_expected):
    """`oxygen:` becomes O2's start, the clamped O2(supply) and the exchange constants of O2X-in/O2X-out."""
    extra = "" if supply == "closed" else f"  set-point: 200 uM\n  transfer: {k_expected} s^-1\n"
    preset = load_conditions(_preset(tmp_path, f"oxygen:\n  supply: {supply}\n  initial: 150 uM\n{extra}"))
    assert preset.initial["O2"] == pytest.approx(150e-6)
    assert preset.rates == {"O2X-in": k_expected, "O2X-out": k_expected}
    net = fs.compile_network(fs.load_mechanism(MECHANISMS / "ros_core.yaml"))
    run = fs.simulate(net, conditions=preset, t_end=10, n_points=2)
    k = run.rate_constant.to_series()
    assert k["O2X-out"] == pytest.approx(k_expected)
    assert k["O2X-in"] == pytest.approx(k_expected * (200e-6 if supply != "closed" else 0.0))
    assert supply in run.attrs["oxygen_supply"] or (supply == "open" and "open vessel" in run.attrs["oxygen_supply"])


def test_open_vessel_relaxes_to_the_set_point_exponentially(tmp_path):
    """With no chemistry, [O2](t) = set + (O2₀ − set)·exp(−kLa·t) (analytic solution of the exchange)."""
    preset = load_conditions(_preset(tmp_path, "oxygen:\n  supply: open\n  initial: 10 uM\n"
                                               "  set-point: 258 uM\n  transfer: 1e-3 s^-1\n"))
    net = fs.compile_network(fs.load_mechanism(MECHANISMS / "ros_core.yaml"))
    t = np.array([0.0, 300.0, 1000.0, 3000.0])
    ds = fs.simulate(net, conditions=preset, t_eval=t)
    expected = 258e-6 + (10e-6 - 258e-6) * np.exp(-1e-3 * t)
    np.testing.assert_allclose(ds.concentration.sel(species="O2").values, expected, rtol=1e-5)


@pytest.mark.parametrize("oxygen, message", [
    ("oxygen:\n  supply: windy\n  initial: 1 uM\n", "must be one of closed, open, tissue"),
    ("oxygen:\n  supply: open\n  initial: 1 uM\n", "needs `oxygen.set-point`"),
    ("oxygen:\n  supply: closed\n  initial: 1 uM\n  transfer: 1 s^-1\n", "a closed vessel exchanges no O2"),
    ("oxygen:\n  supply: tissue\n  initial: 1 uM\n  set-point: 1 uM\n  transfer: 1 uM\n", "transfer"),
    ("initial:\n  O2: 1 uM\noxygen:\n  supply: closed\n  initial: 1 uM\n", "both in `initial`"),
])
def test_bad_oxygen_sections_name_file_and_line(tmp_path, oxygen, message):
    """A wrong `oxygen` section is a MechanismError naming the preset file and what was expected."""
    path = _preset(tmp_path, oxygen)
    with pytest.raises(MechanismError) as info:
        load_conditions(path)
    assert message in str(info.value) and "preset.yaml" in str(info.value)


def test_clamping_integrated_o2_is_refused_with_advice():
    """`buffered={"O2": ...}` on a model where O2 is integrated says to use `initial` or the preset."""
    with pytest.raises(ConditionsError, match="give its starting value with `initial`"):
        fs.simulate(MECHANISMS / "iron.yaml", buffered={"O2": 50e-6}, t_end=1, n_points=2)


def test_rate_constants_take_reference_overrides_without_recompiling():
    """Network.rate_constants(reference=...) replaces k_ref by reaction id for that call only."""
    net = fs.compile_network(fs.load_mechanism(MECHANISMS / "ros_core.yaml"))
    i = net.reaction_ids.index("O2X-out")
    assert net.rate_constants(pH=7)[i] == 0.0
    assert net.rate_constants(pH=7, reference={"O2X-out": 0.5})[i] == pytest.approx(0.5)
    assert net.rate_constants(pH=7)[i] == 0.0
    with pytest.raises(ConditionsError, match="no reaction `nope`"):
        net.rate_constants(pH=7, reference={"nope": 1.0})


@pytest.fixture(scope="module")
def iron_comparison():
    return compare(["iron"], ("tme", "normal"))


def test_decomposition_steps_multiply_to_the_tumour_normal_ratio(iron_comparison):
    """reference × pH alone × H2O2 × GSH × the rest = target, and the stages' end points are the table's cells."""
    r = iron_comparison
    (label, start, factors, end), = decomposition_rows(r)
    assert label == "Fe²⁺"
    assert end == pytest.approx(float(r.oh_produced.sel(catalyst="iron", condition="tme")), rel=1e-12)
    assert start == pytest.approx(float(r.oh_produced.sel(catalyst="iron", condition="normal")), rel=1e-12)
    assert start * math.prod(factors[:4]) == pytest.approx(end, rel=1e-9)
    assert list(r["stage"].values) == list(STAGES)


def test_ph_alone_stage_differs_from_reference_only_in_ph(iron_comparison):
    """The `+ pH` stage is the normal preset at tumour pH: a direct simulation gives the same number."""
    normal = load_conditions(MECHANISMS / "conditions" / "normal.yaml")
    ds = fs.simulate(IRON, conditions=normal, ph=6.5, initial={"Fe+2": 20e-6}, t_end=3600, n_points=121)
    expected = float(fs.metrics(ds, dose=20e-6)["oh_produced"])
    assert float(iron_comparison.stage_oh_produced.sel(catalyst="iron", stage="+ pH")) == pytest.approx(
        expected, rel=1e-12)


def test_equal_doses_leave_only_the_ph_effect():
    """With the same H2O2 and GSH at both conditions, the H2O2 and GSH steps are exactly 1."""
    r = compare(["iron"], ("tme", "normal"), h2o2="100 uM", gsh="2 mM")
    (_, _, factors, _), = decomposition_rows(r)
    assert factors[1] == pytest.approx(1.0, rel=1e-12) and factors[2] == pytest.approx(1.0, rel=1e-12)


def test_outputs_state_differences_overrides_and_decomposition(iron_comparison, tmp_path):
    """Markdown, figure footer and files say what differs between the conditions and hold the decomposition."""
    text = markdown_table(iron_comparison)
    assert "pH alone" in text and "H2O2 100 µM vs 5 µM" in text and "GSH 10 mM vs 2 mM" in text
    assert "tissue-like supply" in text
    footer = figure_footer(iron_comparison)
    assert "pH 6.5 vs 7.4" in footer
    paths = write_outputs(iron_comparison, tmp_path, formats=("png",))
    assert paths["decomposition"].read_text().count("\n") == 1 + len(STAGES)


def test_overrides_are_recorded(tmp_path):
    """compare records rate overrides, parameter set and temperature in attrs, Markdown and footer."""
    r = compare(["iron"], ("tme", "normal"), rates={"F5": 3.2e8}, parameter_set="ferryl-neutral",
                temperature="25 °C", decompose=False)
    assert r.attrs["rate_overrides"] == "F5 = 3.2e+08 M^-1 s^-1"
    assert r.attrs["parameter_set"] == "ferryl-neutral" and r.attrs["temperature_override"] == "298.15 K"
    assert "ferryl-neutral" in markdown_table(r) and "F5 = " in figure_footer(r)
    with pytest.raises(ConditionsError, match="unknown parameter set `nope`"):
        compare(["iron"], parameter_set="nope")
    with pytest.raises(ConditionsError, match="liquid-water temperature"):
        compare(["iron"], temperature=37)


def test_alternative_oxidant_is_the_parameter_set_run(iron_comparison):
    """`alternative_<metric>` is metrics(simulate(...)) with the catalyst's alternative parameter set."""
    assert str(iron_comparison["alternative"].sel(catalyst="iron").values) == "ferryl-neutral"
    ds = fs.simulate(IRON, parameter_set="ferryl-neutral", conditions="tme", initial={"Fe+2": 20e-6},
                     t_end=3600, n_points=121)
    expected = float(fs.metrics(ds, dose=20e-6)["oh_produced"])
    got = float(iron_comparison.alternative_oh_produced.sel(catalyst="iron", condition="tme"))
    assert got == pytest.approx(expected, rel=1e-12)


def test_uncertainty_band_comes_from_reproducible_latin_hypercube_samples():
    """The band is the 5/50/95 % quantiles of per-sample runs; the same seed gives the same samples; a constant
    the user overrides is not sampled; one sample equals a direct run with those constants."""
    a = compare(["iron"], ("tme", "normal"), uncertainty=6, decompose=False, seed=4)
    constants = dict(zip(a["reaction"].values, a.k_sampled.values[2]))
    direct = fs.simulate(fs.load_mechanism(IRON), rates=constants, conditions="tme", initial={"Fe+2": 20e-6},
                         t_end=3600, n_points=121)
    assert float(a.samples_oh_produced.values[0, 0, 2]) == pytest.approx(
        float(fs.metrics(direct)["oh_produced"]), rel=1e-9)
    b = compare(["iron"], ("tme", "normal"), uncertainty=6, decompose=False, seed=4)
    np.testing.assert_array_equal(a.samples_oh_produced.values, b.samples_oh_produced.values)
    values = a.samples_oh_produced.values[0, 0]
    np.testing.assert_allclose(a.range_oh_produced.values[0, 0], np.quantile(values, [0.05, 0.5, 0.95]))
    assert a.attrs["uncertainty_failed"] == 0 and "F1 " in a.attrs["uncertainty_constants"]
    c = compare(["iron"], ("tme", "normal"), uncertainty=6, decompose=False, rates={"F1": 60.0})
    assert "F1 " not in c.attrs["uncertainty_constants"]
    assert np.ptp(a.samples_oh_produced.values[0, 0]) > 0  # the sampled constants do change the answer
    with pytest.raises(ConditionsError, match="`uncertainty` must be 0"):
        compare(["iron"], uncertainty=1)


def test_no_band_when_nothing_is_left_to_sample():
    """When the user fixes every constant that has a documented range, nothing is sampled: no band and no claim
    of failed runs."""
    from fentonsim.sampling import mechanism_ranges
    mechanism = fs.load_mechanism(IRON)
    fixed = {rid: mechanism.reaction(rid).rate.k for rid in mechanism_ranges([mechanism])}
    r = compare(["iron"], ("tme", "normal"), decompose=False, rates=fixed)
    assert r.attrs["uncertainty_samples"] == 0 and "samples_oh_produced" not in r
    assert "runs failed" not in markdown_table(r)


def test_users_own_exchange_constant_wins_over_the_preset():
    """rates={"O2X-out": 0, "O2X-in": 0} closes the vessel even under a preset with tissue supply, and the
    result says so (attributes describe what the run used)."""
    ds = fs.simulate(IRON, conditions="tme", rates={"O2X-in": 0.0, "O2X-out": 0.0}, initial={"Fe+2": 20e-6},
                     t_end=60, n_points=2)
    k = ds.rate_constant.to_series()
    assert k["O2X-in"] == 0.0 and k["O2X-out"] == 0.0
    assert ds.attrs["oxygen_supply"] == "closed vessel (no O2 exchange), O2 starts at 50 µM"
    started = fs.simulate(IRON, conditions="tme", initial={"Fe+2": 20e-6, "O2": 1e-6}, t_end=60, n_points=2)
    assert started.attrs["oxygen_supply"].endswith("starts at 1 µM")


def test_a_preset_clamping_integrated_o2_is_refused(tmp_path):
    """An old-style preset (`buffered: {O2: 50 uM}`) would silently run a closed vessel at 258 µM; it is refused
    with advice instead."""
    path = tmp_path / "old.yaml"
    path.write_text(PRESET_HEADER + "buffered:\n  O2: 50 uM\n")
    with pytest.raises(ConditionsError, match="describe its supply with an `oxygen:` section"):
        fs.simulate(IRON, conditions=path, t_end=1, n_points=2)


def test_decomposition_factors_of_a_metric_that_changes_sign():
    """Factors are plain ratios whenever the denominator is non-zero (O2 consumed can be negative: O2 made)."""
    from fentonsim.decomposition import ratio
    assert ratio(-2.0, 1.0) == -2.0 and ratio(-1.0, -4.0) == 0.25
    assert math.isinf(ratio(1.0, 0.0)) and math.isinf(ratio(-1.0, 0.0)) and math.isnan(ratio(0.0, 0.0))
