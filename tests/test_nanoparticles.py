"""Nanoparticle catalysts (fentonsim.mechanism.particles, fentonsim.dosing and the three shipped nanomaterials):
geometry against hand-computed values, per-area/per-particle constants against analytic rates, the Fe3O4
nanozyme against the published assay rate, MnO2's GSH/Mn stoichiometry against its analytic solution, compare
with mass doses, and hostile particle declarations rejected in one line."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fentonsim
from fentonsim.errors import ConditionsError, FentonsimError, MechanismError
from fentonsim.kernels.laws import evaluate_programs
from fentonsim.mechanism.dump import dump_mechanism
from fentonsim.mechanism.particles import describe, formula_units
from fentonsim.network import compile_network

from conftest import MECHANISMS

N_A = 6.02214076e23
M_FE3O4 = 3 * 55.845 + 4 * 15.999  # g/mol, IUPAC abridged atomic weights

HEADER = """kind: mechanism
name: toy-particles
species:
- {name: Fe3O4(s), composition: {Fe: 3, O: 4}}
- {name: S, composition: {C: 1}}
- {name: X, composition: {C: 1}}
"""


def _toy(tmp_path, particle: str, reactions: str = "", name="toy.yaml"):
    path = tmp_path / name
    path.write_text(HEADER + "particles:\n" + particle + (("reactions:\n" + reactions) if reactions else ""))
    return path


SPHERE = """- species: Fe3O4(s)
  diameter: {d}
  density: 5.17 g/cm^3
  site-density: 2.3 nm^-2
  dose: 40 ug/mL
"""
MM_REACTION = """- id: MM
  equation: S => X
  rate: {k: 1.1e5 s^-1, per: particle}
  law: "[Fe3O4(s)] * mm([S], Km)"
  law-constants: {Km: 154 mM}
  ref: 10.1038/nnano.2007.260
"""
SURFACE_REACTION = """- id: SURF
  equation: Fe3O4(s) + S => Fe3O4(s) + X
  rate: {k: 2e-9 m s^-1, per: area}
  ref: 10.1000/example
"""


def test_sphere_geometry_matches_hand_computed_values(tmp_path):
    """A 300-nm Fe3O4 sphere (ρ = 5.17 g/cm³) at 0.04 g/L: specific area 6/(ρd) = 3.8685 m²/g, area 0.15474 m²/L,
    sites 2.3 nm⁻²·A/N_A, particles m/(ρ·πd³/6·N_A) — each to 1e-12 relative, by arithmetic written out here."""
    mechanism = fentonsim.load(_toy(tmp_path, SPHERE.format(d="300 nm")))
    particle = mechanism.particles[0]
    d, rho = 300e-9, 5.17e6  # m, g/m³
    ssa = 6 / (rho * d)  # m²/g
    mass = 0.04  # g/L
    expected = {"specific_surface_area": ssa, "surface_area": mass * ssa, "surface_sites": mass * ssa * 2.3e18 / N_A,
                "particles": mass / (rho * math.pi * d ** 3 / 6) / N_A, "mass_concentration": mass, "size": 300.0}
    got = describe(particle, mass / M_FE3O4)
    for key, value in expected.items():
        assert got[key][0] == pytest.approx(value, rel=1e-12), key
    assert ssa == pytest.approx(3.8685, rel=1e-4) and mass * ssa == pytest.approx(0.15474, rel=1e-4)
    assert particle.dose == pytest.approx(mass) and particle.molar_mass == pytest.approx(M_FE3O4, rel=1e-12)


def test_sheet_area_and_derived_diameter(tmp_path):
    """A 50 × 50 × 3 nm square sheet has (2/t + 4/L)/ρ = 149.3 m²/g; a sphere given density and specific area
    gets the diameter 6/(ρ·SSA); a sphere given diameter and area gets ρ = 6/(d·SSA)."""
    sheet = """- species: Fe3O4(s)
  shape: sheet
  thickness: 3 nm
  lateral-size: 50 nm
  density: 5.0 g/cm^3
  site-density: 2 nm^-2
"""
    p = fentonsim.load(_toy(tmp_path, sheet)).particles[0]
    assert describe(p, 1.0)["specific_surface_area"][0] == pytest.approx((2 / 3e-9 + 4 / 50e-9) / 5.0e6, rel=1e-12)
    by_area = SPHERE.format(d="1 nm").replace("  diameter: 1 nm\n", "  specific-surface-area: 60 m^2/g\n")
    p = fentonsim.load(_toy(tmp_path, by_area, name="b.yaml")).particles[0]
    assert describe(p, 1.0)["size"][0] == pytest.approx(6 / (5.17e6 * 60) * 1e9, rel=1e-12)
    by_size = SPHERE.format(d="20 nm").replace("  density: 5.17 g/cm^3\n", "  specific-surface-area: 60 m^2/g\n")
    p = fentonsim.load(_toy(tmp_path, by_size, name="c.yaml")).particles[0]
    assert p.density == pytest.approx(6 / (20e-9 * 60) / 1e3, rel=1e-12)  # g/L


def _first_order_constant(path, dose_g_per_l):
    """k_obs [s⁻¹] of S → X catalysed by the particle at ``dose_g_per_l``, from the simulated X at 100 s."""
    ds = fentonsim.simulate(path, initial={"Fe3O4(s)": dose_g_per_l / M_FE3O4, "S": 1e-3}, t_end=100, n_points=2,
                            rtol=1e-10, atol=1e-18)
    x = float(ds["concentration"].sel(species="X").isel(time=-1))
    return -math.log(1 - x / 1e-3) / 100


def test_a_per_area_constant_scales_with_the_surface_area(tmp_path):
    """r = k_A·A·[S] with A = mass·6/(ρd): S decays with k_obs = k_A·A (analytic, to 1e-6); doubling the mass
    doubles k_obs, and halving the diameter at equal mass doubles it too."""
    base = _toy(tmp_path, SPHERE.format(d="300 nm"), SURFACE_REACTION)
    small = _toy(tmp_path, SPHERE.format(d="150 nm"), SURFACE_REACTION, name="small.yaml")
    k = _first_order_constant(base, 0.04)
    area = 0.04 * 6 / (5.17e6 * 300e-9)  # m²/L
    assert k == pytest.approx(2e-9 * 1e3 * area, rel=1e-6)  # m s⁻¹ → L m⁻² s⁻¹ is ×1000
    assert _first_order_constant(base, 0.08) / k == pytest.approx(2.0, rel=1e-6)
    assert _first_order_constant(small, 0.04) / k == pytest.approx(2.0, rel=1e-6)


def _initial_rates(network, initial, pH=7.0, temperature=298.15):
    """Rates r [M/s] of every network reaction at t = 0: r = k_eff·g(x0), g the compiled law programs."""
    laws = network.laws
    x0 = network.initial_state(**initial)
    k = network.rate_constants(pH, temperature)
    out = np.empty(network.n_reactions)
    evaluate_programs(laws.code, laws.operand, laws.constants, laws.rate_start, k, x0, 0.0,
                      np.empty(laws.stack_size), out)
    return out


def test_michaelis_menten_initial_rate_equals_kcat_e_s_over_km_plus_s(tmp_path):
    """A k_cat given per particle with ``mm()``: the rate at t = 0 equals k_cat·[particles]·[S]/(K_m + [S]),
    [particles] from the hand-computed particle mass, to 1e-9 relative, at several [S]."""
    network = compile_network(fentonsim.load(_toy(tmp_path, SPHERE.format(d="300 nm"), MM_REACTION)))
    particles = 0.04 / (5.17e6 * math.pi * (300e-9) ** 3 / 6) / N_A  # M
    for s in (1e-3, 0.154, 2.0):
        rate = _initial_rates(network, {"Fe3O4(s)": 0.04 / M_FE3O4, "S": s})[network.reaction_ids.index("MM")]
        assert rate == pytest.approx(1.1e5 * particles * s / (0.154 + s), rel=1e-9)


GAO = {"mass": 0.04, "tmb": 0.816e-3, "vmax": 9.78e-8, "km": 0.154, "km_tmb": 0.098e-3}


@pytest.fixture(scope="module")
def gao_network(tmp_path_factory):
    """The shipped Fe3O4 nanozyme with Gao et al.'s 300-nm particles and parameter set, compiled once."""
    text = (MECHANISMS / "fe3o4_nanozyme.yaml").read_text(encoding="utf-8").replace("diameter: 13 nm",
                                                                                   "diameter: 300 nm")
    path = tmp_path_factory.mktemp("gao") / "fe3o4_gao.yaml"
    path.write_text(text, encoding="utf-8")
    return compile_network(fentonsim.load(path, parameter_set="Gao-2007-pH3.5"))


@pytest.mark.slow
def test_fe3o4_nanozyme_reproduces_the_published_assay_rate(gao_network):
    """The whole network (surface activation, TMB, ·OH chemistry, Fe(II) release feeding iron.yaml) at Gao et
    al.'s assay (pH 3.5, 40 °C, 0.04 mg/mL of 300-nm Fe3O4, 0.816 mM TMB) over 60 s: the 652-nm product forms at
    V_max·[H2O2]/(K_m + [H2O2]) (one H2O2 per blue product, 2 TMB*+), at most 0.5·K_m,TMB/[TMB] = 6 % more (·OH
    of the TMB-free cycle reaching TMB, one TMB*+ each) and not less beyond TMB depletion (< 0.1 %); H2O2 is lost
    at that rate × (1 + 2·K_m,TMB/[TMB]) to × (1 + 3·K_m,TMB/[TMB]) (the regenerating H2O2 of the TMB-free
    cycle, plus one H2O2 per ·OH it may scavenge) — the released Fe(II) adds < 0.1 %."""
    ratio = GAO["km_tmb"] / GAO["tmb"]
    for h2o2 in (0.05, 0.154, 0.5):
        ds = fentonsim.simulate(gao_network, ph=3.5, temperature="40 °C", t_end=60, n_points=2,
                                initial={"Fe3O4(s)": GAO["mass"] / M_FE3O4, "TMB": GAO["tmb"], "H2O2": h2o2})
        end = ds["concentration"].isel(time=-1)
        published = GAO["vmax"] * h2o2 / (GAO["km"] + h2o2)
        blue = float(end.sel(species="TMB*+")) / 2 / 60
        assert 0.999 * published <= blue <= (1 + 0.5 * ratio) * published, h2o2
        lost = (h2o2 - float(end.sel(species="peroxide"))) / 60
        assert (1 + 2 * ratio) * published * 0.999 <= lost <= (1 + 3 * ratio) * published * 1.001, h2o2


def _element_total(ds, network, element):
    row = network.conservation_names.index(element)
    return ds["concentration"].values @ network.conservation[row]


def test_mno2_depletes_gsh_and_releases_mn_with_two_gsh_per_mn(tmp_path):
    """MnO2 nanosheets (50 µg/mL) with 1 mM GSH at pH 7.4, no H2O2 or HCO3⁻: Mn and S (GSH equivalents) are
    conserved to 1e-9; 2 GSH go per Mn²⁺ released and 1 GSSG forms per Mn²⁺; and MnO2(t) follows the analytic
    solution of dM/dt = −k·M·G, G − 2M = const, to 1e-6."""
    mechanism = fentonsim.load(MECHANISMS / "mno2_nanosheets.yaml")
    network = compile_network(mechanism)
    m0, g0 = 0.05 / 86.936, 1e-3
    ds = fentonsim.simulate(network, ph=7.4, initial={"MnO2(s)": m0, "GSH": g0}, t_end=600, n_points=7,
                            rtol=1e-10, atol=1e-18)
    c = ds["concentration"]
    mn, sulfur = _element_total(ds, network, "Mn"), _element_total(ds, network, "S")
    assert np.allclose(mn, mn[0], rtol=1e-9) and np.allclose(sulfur, sulfur[0], rtol=1e-9)
    released = c.sel(species="Mn+2").values
    gsh = c.sel(species="glutathione").values
    assert released[-1] > 0.2 * m0  # the scenario does deplete
    np.testing.assert_allclose(g0 - gsh, 2 * released, rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(c.sel(species="GSSG").values, released, rtol=1e-8, atol=1e-15)
    k = mechanism.reaction("MNO2-GSH").rate.k
    const = g0 - 2 * m0
    t = ds["time"].values
    analytic = const * m0 / ((const + 2 * m0) * np.exp(k * const * t) - 2 * m0)
    np.testing.assert_allclose(c.sel(species="MnO2(s)").values, analytic, rtol=1e-6)


def test_compare_cli_writes_mass_doses(tmp_path, capsys):
    """`fentonsim compare --catalyst fe3o4 --catalyst iron` runs (each at its default dose) and its table names
    each row's dose — the nanomaterial's by mass — and the derived surface quantities in the footer."""
    from fentonsim.cli import main

    assert main(["compare", "--catalyst", "fe3o4", "--catalyst", "iron", "--uncertainty", "0", "--no-decomposition",
                 "--t-end", "60", "--n-points", "3", "--quiet", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "compare.md").read_text(encoding="utf-8")
    assert "| Fe₃O₄ NPs (50 µg/mL) | tme |" in table and "| Fe²⁺ (20 µM) | tme |" in table
    assert "50 µg/mL Fe3O4(s) = 216 µM formula units (648 µM metal)" in table and "m²/L" in table
    assert "Fe₃O₄ NPs (50 µg/mL)" in (tmp_path / "compare.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("dose, message", [
    ("50", "bare number is ambiguous"),
    ("20 uM", "molar dose of nanoparticle catalyst `Fe3O4(s)` is ambiguous"),
    ("5 kg", "expected a mass concentration"),
    ("-1 ug/mL", "must be positive"),
])
def test_particle_doses_refuse_bare_molar_and_wrong_units(tmp_path, dose, message):
    """A particle dose is a mass concentration or particles per volume: a bare number, a molar value, another
    unit or a non-positive value is one line naming what was expected."""
    particle = fentonsim.load(_toy(tmp_path, SPHERE.format(d="300 nm"))).particles[0]
    with pytest.raises(ConditionsError, match=re.escape(message)) as info:
        formula_units(particle, dose)
    assert "\n" not in str(info.value)


def test_particle_dose_by_number_matches_the_mass_dose(tmp_path):
    """5.47e11 particles/L of 300-nm Fe3O4 weigh 0.04 g/L: both doses give the same formula units (1e-9)."""
    particle = fentonsim.load(_toy(tmp_path, SPHERE.format(d="300 nm"))).particles[0]
    per_litre = 0.04 / (5.17e6 * math.pi * (300e-9) ** 3 / 6)
    assert formula_units(particle, f"{per_litre / 1e3!r} mL^-1") == pytest.approx(
        formula_units(particle, "40 ug/mL"), rel=1e-9)


def test_compare_refuses_a_molar_dose_for_a_nanomaterial_and_a_mass_dose_for_an_ion(tmp_path):
    """compare(dose=...) for fe3o4 in M, or for iron in µg/mL, is a one-line ConditionsError naming the catalyst."""
    for catalyst, dose, message in (("fe3o4", "20 uM", "ambiguous"), ("iron", "50 ug/mL", "is dosed as Fe+2 in M")):
        with pytest.raises(ConditionsError, match=re.escape(message)):
            fentonsim.compare([catalyst], ["tme"], dose=dose, t_end=1, uncertainty=0, decompose=False)


HOSTILE = [
    (SPHERE.format(d="300 nm").replace("  diameter: 300 nm\n", ""), "needs two of `diameter`"),
    (SPHERE.format(d="300 nm").replace("  site-density: 2.3 nm^-2\n", ""), "missing `site-density`"),
    (SPHERE.format(d="300 nm") + "  specific-surface-area: 54 m^2/g\n", "give two of the three"),
    (SPHERE.format(d="300 nM"), "expected dm"),
    (SPHERE.format(d="300"), "needs its unit"),
    (SPHERE.format(d="300 nm").replace("Fe3O4(s)", "Fe3O4(x)"), "declare the solid"),
    (SPHERE.format(d="300 nm").replace("  dose: 40 ug/mL", "  dose: 40 uM"), "expected a mass concentration"),
    (SPHERE.format(d="300 nm") + "  shape: cube\n", "`shape` of particle"),
    (SPHERE.format(d="300 nm") + "  thickness: 3 nm\n", "describes a sheet"),
    (SPHERE.format(d="300 nm") + "  colour: black\n", "unknown key `colour`"),
]


@pytest.mark.parametrize("particle, message", HOSTILE)
def test_hostile_particle_declarations_are_one_line_errors_with_file_and_line(tmp_path, particle, message):
    """Missing size, missing site density, inconsistent density vs specific area, a concentration where a
    length belongs, a bare number, an undeclared species, a molar default dose, an unknown shape or key: each is
    one MechanismError line starting with file:line."""
    with pytest.raises(MechanismError, match=message) as info:
        fentonsim.load(_toy(tmp_path, particle))
    assert "\n" not in str(info.value) and str(info.value).startswith(f"{tmp_path / 'toy.yaml'}:")


@pytest.mark.parametrize("rate, message", [
    ("{k: 2e-9, per: area}", "write its unit"),
    ("{k: 2e-9 M^-1 s^-1, per: area}", "per area"),
    ("{k: 2e-9 m s^-1, per: volume}", "`per` of reaction `SURF` must be one of"),
])
def test_hostile_per_basis_constants_are_one_line_errors(tmp_path, rate, message):
    """A per-area constant without a unit, with the unit of a mass-action constant, or an unknown basis is one
    line naming the reaction."""
    with pytest.raises(MechanismError, match=message) as info:
        fentonsim.load(_toy(tmp_path, SPHERE.format(d="300 nm"), SURFACE_REACTION.replace(
            "{k: 2e-9 m s^-1, per: area}", rate)))
    assert "\n" not in str(info.value)


def test_a_per_particle_law_must_be_proportional_to_the_particle(tmp_path):
    """A k_cat per particle with a law not proportional to [particle] (here its square) is refused."""
    reaction = """- id: MM
  equation: S => X
  rate: {k: 1 s^-1, per: particle}
  law: "[Fe3O4(s)] * [Fe3O4(s)] / Kc"
  law-constants: {Kc: 1 mM}
  ref: 10.1000/example
"""
    with pytest.raises(MechanismError, match=re.escape("must be proportional to [Fe3O4(s)]")):
        fentonsim.load(_toy(tmp_path, SPHERE.format(d="300 nm"), reaction))


def test_a_basis_needs_exactly_one_particle_in_the_reaction(tmp_path):
    """`per: area` on a reaction that involves no particle species is refused, naming what was found."""
    reaction = SURFACE_REACTION.replace("Fe3O4(s) + S => Fe3O4(s) + X", "S => X").replace("m s^-1", "mol m^-2 s^-1")
    with pytest.raises(MechanismError, match="exactly one particle species.*found none"):
        fentonsim.load(_toy(tmp_path, SPHERE.format(d="300 nm"), reaction))


def test_particles_round_trip_through_dump(tmp_path):
    """dump_mechanism → load gives the same Mechanism (particles and converted constants) and the same digest."""
    mechanism = fentonsim.load(_toy(tmp_path, SPHERE.format(d="300 nm"), SURFACE_REACTION))
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_mechanism(mechanism))
    again = fentonsim.load(path)
    assert again.particles == mechanism.particles and again.reactions == mechanism.reactions
    assert compile_network(again).mechanism_sha256 == compile_network(mechanism).mechanism_sha256


_VALUES = st.one_of(st.sampled_from(["300 nm", "5.17 g/cm^3", "2.3 nm^-2", "40 ug/mL", "60 m^2/g", "3", "-1 nm",
                                     "0 nm", "1e400 nm", "nan nm", "nm", "", "sphere", "sheet", "[1, 2]", "{a: 1}",
                                     "300 nM", "5 kg", "1e-300 nm"]),
                    st.text(alphabet="0123456789.e-+ nmgLuM/^", max_size=12))
_KEYS = st.sampled_from(["diameter", "density", "site-density", "dose", "specific-surface-area", "shape",
                         "thickness", "lateral-size", "molar-mass"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_KEYS, _VALUES, max_size=6))
def test_any_particle_entry_loads_or_fails_in_one_line(tmp_path, entry):
    """Whatever keys and values a `particles:` entry has, loading either succeeds with finite positive geometry
    or raises a one-line FentonsimError (never another exception)."""
    lines = "".join(f"  {key}: {value if value else repr(value)}\n" for key, value in entry.items())
    path = tmp_path / "fuzz.yaml"
    path.write_text(HEADER + "particles:\n- species: Fe3O4(s)\n" + lines)
    try:
        particle = fentonsim.load(path).particles[0]
    except FentonsimError as exc:
        assert "\n" not in str(exc)
        return
    values = (particle.size, particle.density, particle.specific_area, particle.site_density, particle.molar_mass)
    assert all(math.isfinite(v) and v > 0 for v in values)


def test_sweeps_refuse_a_nanomaterial_by_name():
    """A sweep's dose is molar, which for a solid would silently mean formula units: naming `fe3o4` in a sweep
    is a one-line error that says how to dose it instead."""
    with pytest.raises(ConditionsError, match="nanomaterial dosed by mass") as info:
        fentonsim.sweep(["fe3o4"], {"pH": [6.5]}, t_end=1)
    assert "\n" not in str(info.value)


def test_a_law_reading_a_form_points_to_its_pool(tmp_path):
    """A law may read a pool total; reading one form of a pool (whose share depends on pH) is refused with the
    pool's name as the fix."""
    path = tmp_path / "form.yaml"
    path.write_text("""kind: mechanism
include: [ros_core.yaml]
reactions:
- id: L1
  equation: H2O2 => H2O2
  duplicate: true
  rate: {k: 1 s^-1}
  law: "[H2O2]"
  ref: 10.1000/example
""")
    with pytest.raises(MechanismError, match=re.escape("read its pool total [peroxide]")):
        fentonsim.load(path)


def test_simulate_doses_a_nanomaterial_by_mass(tmp_path):
    """simulate(initial={"Fe3O4(s)": "40 ug/mL"}) starts from 0.04/M_w formula units, exactly as the molar value;
    particles per volume work too; a molar value still means formula units there."""
    path = _toy(tmp_path, SPHERE.format(d="300 nm"), SURFACE_REACTION)
    start = {}
    per_litre = 0.04 / (5.17e6 * math.pi * (300e-9) ** 3 / 6)
    for dose in ("40 ug/mL", 0.04 / M_FE3O4, f"{per_litre / 1e3!r} mL^-1"):
        ds = fentonsim.simulate(path, initial={"Fe3O4(s)": dose, "S": "1 mM"}, t_end=1, n_points=2)
        start[str(dose)] = float(ds["concentration"].sel(species="Fe3O4(s)").isel(time=0))
    assert np.allclose(list(start.values()), 0.04 / M_FE3O4, rtol=1e-9)
    with pytest.raises(FentonsimError, match="expected M"):
        fentonsim.simulate(path, initial={"S": "40 ug/mL"}, t_end=1)


def test_run_time_rates_of_a_law_take_the_law_order(tmp_path):
    """`rates=` for a reaction with a Michaelis–Menten law is in the law's unit (s⁻¹ for k_cat·[E]·mm), not the
    equation's order: the overriding value is taken as written and doubles the initial rate."""
    mechanism = fentonsim.load(_toy(tmp_path, SPHERE.format(d="300 nm"), MM_REACTION))
    k = mechanism.reaction("MM").rate.k
    from fentonsim.mechanism.overrides import with_rates
    doubled = with_rates(mechanism, {"MM": f"{2 * k!r} s^-1"})
    assert doubled.reaction("MM").rate.k == pytest.approx(2 * k, rel=1e-15)
    network = compile_network(mechanism)
    assert network.rate_orders["MM"] == 1.0 and network.parse_rates({"MM": f"{k!r} s^-1"})["MM"] == k


def test_nanomaterials_show_their_other_oxidant_beside_the_default():
    """A nanomaterial whose metal chemistry has a contested oxidant shows the other published answer next to
    the default, as the metal-ion rows do: MnO₂'s Mn²⁺ makes Mn(IV)=O by default (no ·OH), and with
    `Stadtman-1990-OH` it makes ·OH, so its row is not a silent zero."""
    ds = fentonsim.compare(["mno2"], ["tme"], t_end=600, uncertainty=0, decompose=False)
    assert float(ds["oh_produced"].values.ravel()[0]) == 0.0
    assert float(ds["alternative_oh_produced"].values.ravel()[0]) > 0.0
