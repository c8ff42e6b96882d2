"""Validation of the shipped chemistry against published numbers.

Each test names its source and the source's tolerance. Where the simulator
disagrees with a source, the test pins what the simulator does and says why
(a missing sub-mechanism), rather than tuning constants to the source.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import fentonsim
from fentonsim.constants import pkw
from fentonsim.network import compile_network

from conftest import MECHANISMS
from validation import check

IRON = MECHANISMS / "iron.yaml"
COPPER = MECHANISMS / "copper.yaml"
MANGANESE = MECHANISMS / "manganese.yaml"
PROBES = MECHANISMS / "probes.yaml"
RELEASE = MECHANISMS / "release.yaml"
T25 = 298.15


def final(ds, variable, name):
    return float(ds[variable].isel(time=-1).sel(species=name))


def extent(ds, *reactions):
    return float(ds["extent"].isel(time=-1).sel(reaction=list(reactions)).sum())


# ---------------------------------------------------------------- De Laat & Gallard (1999): Fe(III)/H2O2


def initiation_per_iron(ph, fe3=1e-4, h2o2=1e-2, parameter_set="DeLaat-Gallard-1999"):
    """Fe(II) formation through the hydroperoxo complexes per Fe(III) [s⁻¹] over the first second."""
    ds = fentonsim.simulate(IRON, parameter_set=parameter_set, ph=ph, temperature=T25,
                            initial={"Fe+3": fe3, "H2O2": h2o2}, t_end=1.0, n_points=2)
    return extent(ds, "F3", "F4") / 1.0 / fe3


def test_fe3_initiation_rate_at_pH3_matches_de_laat_gallard():
    """De Laat & Gallard 1999 (25 °C, I = 0.1, pH 3, 10 mM H2O2): with their complexation constants (K 3.1e-3,
    2e-4) and decay 2.7e-3 s⁻¹, and De Laat & Le's hydrolysis constants, the dossier (§1.2) derives initiation at
    2.5e-5 s⁻¹ × [Fe(III)]; rate-constant-level tolerance ±10 %. The default set (De Laat & Le's decay 2.3e-3 s⁻¹)
    is 14 % lower, inside the dossier's ±10–30 % band for older Fenton constants."""
    check("V4 (a)", "Fe(III) initiation per Fe(III), pH 3, 10 mM H2O2, 25 °C, `DeLaat-Gallard-1999`",
          initiation_per_iron(3.0), 2.5e-5, unit="s⁻¹", rel=0.10, source="De Laat & Gallard 1999 (dossier §1.2)")
    assert initiation_per_iron(3.0, parameter_set=None) == pytest.approx(2.5e-5 * 2.3 / 2.7, rel=0.02)


def test_fe3_initiation_is_first_order_in_iron():
    """De Laat & Gallard 1999 check (b): the initiation rate is proportional to [Fe(III)]₀ (50 µM–1 mM)."""
    check("V4 (b)", "initiation per Fe(III) at 50 µM / at 1 mM Fe(III), pH 3",
          initiation_per_iron(3.0, fe3=5e-5) / initiation_per_iron(3.0, fe3=1e-3), 1.0, unit="", rel=1e-3,
          source="De Laat & Gallard 1999 (rate ∝ [Fe(III)]₀)")


def test_fe3_initiation_peaks_near_pH_3_to_4_because_fe3_precipitates_above():
    """De Laat & Gallard's H2O2 decomposition peaks near pH 3 (unconfirmed claim) because Fe(III) precipitates
    above it. With precipitation (FP1/FP2, Rose & Waite 2003, nucleation ∝ [H⁺]⁻², growth ∝ [H⁺]⁻¹) and
    dissolution (FD, FD-H), initiation over the first second (100 µM Fe(III), 10 mM H2O2) rises to the FeOH2+
    plateau up to pH 3.5–4 and then falls: slightly at pH 5 (precipitation under way) and > 5-fold at pH 6
    (precipitated within the second). At pH ≤ 3 precipitation is negligible on that time scale, so the rates
    there are the hydroperoxo-complex values of the tests above. (Before precipitation was modelled the rate
    stayed on the plateau, 2.7e-3 M⁻¹ s⁻¹ × [H2O2], up to pH 6.)"""
    rates = [initiation_per_iron(ph) for ph in (2.0, 3.0, 4.0, 5.0, 6.0)]
    assert rates[0] < rates[1] < rates[2]
    assert rates[3] < rates[2] and rates[4] < rates[2] / 5
    assert rates[2] == pytest.approx(2.7e-3 * 1e-2, rel=0.15)


# ---------------------------------------------------------------- Millero & Sotolongo (1989): Fe(II) + H2O2 vs pH


def apparent_fe2_h2o2(ph, temperature=T25, parameter_set=None):
    """Apparent k [M⁻¹ s⁻¹] of Fe(II) + H2O2 = extent of F1 + F2 / (∫[Fe(II)]dt · [H2O2]), H2O2 in 1000× excess."""
    h2o2 = 1e-3
    ds = fentonsim.simulate(IRON, parameter_set=parameter_set, ph=ph, temperature=temperature,
                            initial={"Fe+2": 1e-6, "H2O2": h2o2}, t_end=1.0, n_points=2, rtol=1e-8)
    branches = [r for r in ds.reaction.values if str(r).startswith(("F1-", "F2-"))]
    return extent(ds, *branches) / (final(ds, "exposure", "Fe(II)") * h2o2)


def millero_k(ph, ionic_strength, temperature=T25):
    """k = k2·[OH⁻] with log k2 = 11.72 − 2.14√I + 1.38·I (Millero & Sotolongo 1989, pH 6–8, T-independent k2)."""
    log_k2 = 11.72 - 2.14 * math.sqrt(ionic_strength) + 1.38 * ionic_strength
    return 10.0 ** (log_k2 + ph - pkw(temperature))


# Millero & Sotolongo report σ(log k) = 0.11–0.12 for their fitted laws.
MILLERO_SIGMA = 0.12


@pytest.mark.parametrize("ph", [6.0, 6.5, 7.0, 7.4])
def test_apparent_fe2_h2o2_rate_matches_millero_at_ionic_strength_0_1(ph):
    """Millero & Sotolongo 1989 (NaCl, 25 °C, I = 0.1): k = 1.5e3, 4.8e3, 1.5e4, 3.8e4 M⁻¹ s⁻¹ at pH 6.0, 6.5,
    7.0, 7.4 — an independent measurement of what De Laat & Le's constants (I ≈ 0.1; FeOH⁺ pK 9.5) predict.
    Agreement within 1σ of their fit (σ log k = 0.12, i.e. ±32 %); measured +20–25 %."""
    check("V3", f"apparent k(Fe(II) + H2O2), pH {ph:g}, 25 °C, I = 0.1", apparent_fe2_h2o2(ph), millero_k(ph, 0.1),
          unit="M⁻¹ s⁻¹", low=millero_k(ph, 0.1) * 10 ** -MILLERO_SIGMA, high=millero_k(ph, 0.1) * 10 ** MILLERO_SIGMA,
          source="Millero & Sotolongo 1989 (±1σ of log k)")


@pytest.mark.parametrize("ph", [6.0, 6.5, 7.4])
def test_millero_parameter_set_matches_millero_at_zero_ionic_strength(ph):
    """The `Millero-Sotolongo-1989` set (log k0, log k1 at I = 0) against the same paper's I = 0 law
    (5.3e3, 1.7e4, 1.3e5 M⁻¹ s⁻¹ at pH 6.0, 6.5, 7.4). Partly documented discrepancy: the set is +40–45 % high,
    outside 1σ but within 2σ, because it pairs Millero's k1 with fentonsim's FeOH⁺ hydrolysis constant
    (pK 9.5, Baes & Mesmer) rather than the one Millero fitted with. Ionic strength itself is not modelled:
    the factor ≈3.5 between the I = 0 and I = 0.1 columns is carried by the choice of parameter set."""
    k = apparent_fe2_h2o2(ph, parameter_set="Millero-Sotolongo-1989")
    published = millero_k(ph, 0.0)
    check("V3", f"apparent k(Fe(II) + H2O2), pH {ph:g}, 25 °C, I = 0, `Millero-Sotolongo-1989`", k, published,
          unit="M⁻¹ s⁻¹", low=published * 10 ** (-2 * MILLERO_SIGMA), high=published * 10 ** (2 * MILLERO_SIGMA),
          source="Millero & Sotolongo 1989 (±2σ)", note="+40–45 %: Millero's k1 with fentonsim's FeOH⁺ pK")


def test_neutral_fe2_h2o2_temperature_dependence_is_that_of_hydroxide():
    """Millero & Sotolongo 1989: at fixed pH 6–8, k2 = k/[OH⁻] is independent of T, so k(37 °C)/k(25 °C) equals
    Kw(37 °C)/Kw(25 °C) (≈2.4 with Harned & Robinson's pKw); fentonsim's FeOH⁺ pathway (Ea 56.4 kJ/mol) must agree
    within σ(log k) = 0.12."""
    ratio = apparent_fe2_h2o2(7.0, temperature=310.15) / apparent_fe2_h2o2(7.0)
    expected = 10.0 ** (pkw(T25) - pkw(310.15))
    check("V3", "k(37 °C)/k(25 °C) of Fe(II) + H2O2 at pH 7.0", ratio, expected, unit="", low=expected * 10 ** -0.12,
          high=expected * 10 ** 0.12, source="Millero & Sotolongo 1989 (k2 = k/[OH⁻] independent of T)")


# ---------------------------------------------------------------- probes: terephthalate and DMPO


def probe_yield(product, ph, initial, temperature=288.15, rate=1e-10, t_end=100.0, model=PROBES):
    """Product formed per ·OH supplied by a constant ·OH source (a probe-only buffer)."""
    source = fentonsim.Source.zero_order("HO*", rate)
    ds = fentonsim.simulate(model, ph=ph, temperature=temperature, initial=initial, sources=[source],
                            t_end=t_end, n_points=2, rtol=1e-9)
    return final(ds, "concentration", product) / (rate * t_end)


@pytest.mark.parametrize("ph, expected", [(5.0, 0.170), (6.5, 0.2072), (7.4, 0.2295)])
def test_terephthalate_yield_follows_charbouillot(ph, expected):
    """Charbouillot et al. 2011 (288 K, aerated, TA ≥ 0.5 mM traps > 95 % of ·OH): [2-OH-TA] = Y·∫R_OH dt with
    Y = 0.0248·pH + 0.046 (0.17 at pH 5, 0.21 at 6.5, 0.23 at 7.4). With 1 mM TA as the only sink the
    simulated yield equals Y within 1 % (the residual is ·OH lost to radical–radical reactions). A pipeline check
    of the yield law and the flux bookkeeping rather than an independent validation: Y is an input."""
    check("V6", f"2-OH-terephthalate per ·OH, 1 mM TA, pH {ph:g}, 288 K", probe_yield("HTA-2", ph, {"TA-2": 1e-3}),
          expected, unit="", rel=0.01, source="Charbouillot et al. 2011", note="Y is an input: a pipeline check")


def test_terephthalate_yield_temperature_law_against_charbouillot_second_fit():
    """Charbouillot et al. 2011 fit the temperature dependence separately at pH 5.4: Y = 0.0059·T − 1.50 (0.26 at
    298 K). fentonsim anchors its law on the pH fit and adds that slope, so at 298 K and pH 5.4 it gives 0.239:
    8 % under the second fit — the disagreement of the two published fits (0.180 vs 0.200 at 288 K), within
    the dossier's ±20–50 % for multi-step experiments and checked here at ±10 %."""
    check("V6", "2-OH-terephthalate per ·OH, pH 5.4, 298 K (second fit)",
          probe_yield("HTA-2", 5.4, {"TA-2": 1e-3}, temperature=298.15), 0.0059 * 298.15 - 1.50, unit="", rel=0.10,
          source="Charbouillot et al. 2011 (T fit)", note="the two published fits differ by 0.02")


def test_terephthalate_signal_only_counts_hydroxyl_that_escapes_gsh():
    """Dossier modelling rule (§5): the probe sees Y × its share of the ·OH budget. With 5 mM GSH
    (k 1.3e10) competing with 0.5 mM TA (k 4.0e9), the signal falls to Y·k_TA[TA]/(k_TA[TA] + k_GSH[GSH])."""
    share = 4.0e9 * 5e-4 / (4.0e9 * 5e-4 + 1.3e10 * 5e-3)
    observed = probe_yield("HTA-2", 7.4, {"TA-2": 5e-4, "GSH": 5e-3},
                           model=[MECHANISMS / "glutathione.yaml", PROBES])
    assert observed == pytest.approx(0.2295 * share, rel=0.02)


def test_dmpo_formate_competition_recovers_madden_taniguchi():
    """Madden & Taniguchi 1996: DMPO-OH yield 0.94 and k(DMPO + ·OH) = 2.8e9 from competition with formate
    (3.1e9). The simulated adduct yield vs [formate]/[DMPO] must give back, through the Stern–Volmer-type fit
    1/Y = (1 + (k_F/k_D)·r)/0.94, the ratio 3.1/2.8 and the yield 0.94 within 3 %."""
    ratios = np.array([0.0, 0.5, 1.0, 2.0, 5.0])
    inverse_yield = [1.0 / probe_yield("DMPO-OH", 7.4, {"DMPO": 1e-3, "HCOO-": r * 1e-3}, temperature=T25)
                     for r in ratios]
    slope, intercept = np.polyfit(ratios, inverse_yield, 1)
    check("V7", "DMPO-OH yield from the formate competition fit", 1.0 / intercept, 0.94, unit="", rel=0.03,
          source="Madden & Taniguchi 1996")
    check("V7", "k(formate)/k(DMPO) for ·OH from the competition fit", slope / intercept, 3.1 / 2.8, unit="",
          rel=0.03, source="Madden & Taniguchi 1996")


# ---------------------------------------------------------------- Cu–GSH (Ngamchuea 2016; Kachur 1998; Speisky 2008)
# With the Cu(I)/Cu(II)–glutathione complexes in copper.yaml these targets (V11: no oxidation without Cu,
# first order in Cu, ½ order in O2, −½ in H2O2, negative in GSH, 4 RSH per O2) and the physical-sanity
# checks at finite O2 live in tests/test_chemistry_copper_gsh.py, with the missed ones as strict xfails.


# ---------------------------------------------------------------- Mn(II)/HCO3- (Stadtman, Berlett & Chock 1990)

# Overrides the shipped provisional M10 (1e4) so the rate is measurable in 60 s; the shipped value, its derivation
# and network-level checks are in test_chemistry_manganese.py.
MN_TEST_K = "1e6 M^-4 s^-1"


def h2o2_loss_rate(mn=10e-6, hco3=25e-3, rates=None, t_end=60.0):
    ds = fentonsim.simulate(MANGANESE, ph=7.4, temperature=310.15, initial={"Mn+2": mn, "H2O2": 1e-4},
                            buffered={"HCO3-": hco3}, rates=rates, t_end=t_end, n_points=2, atol=1e-22)
    return (1e-4 - final(ds, "concentration", "peroxide")) / t_end


def test_mn_bicarbonate_law_orders():
    """Stadtman et al. 1990: H2O2 disproportionation rate ∝ [Mn(II)]·[H2O2]·[HCO3⁻]³ at pH 7.4. The law is written
    into M10, so this checks only that the rest of the network (Mn(III), Mn(IV)=O, the superoxide adduct, the
    catalase-like M4 step) does not distort it: orders 3 in HCO3⁻ and 1 in Mn(II) within 5 %, and no H2O2 loss
    from Mn(II) without HCO3⁻."""
    rates = {"M10": MN_TEST_K}
    base = h2o2_loss_rate(rates=rates)
    assert math.log2(h2o2_loss_rate(hco3=50e-3, rates=rates) / base) == pytest.approx(3.0, abs=0.15)
    assert math.log2(h2o2_loss_rate(mn=20e-6, rates=rates) / base) == pytest.approx(1.0, abs=0.05)
    assert h2o2_loss_rate(hco3=0.0, rates=rates) < 1e-6 * base


# ---------------------------------------------------------------- nanomaterial release and cascades


def test_fe3o4_release_is_pH_dependent_and_conserves_iron():
    """REL-Fe3O4 (r = k[Fe3O4][H⁺], k user-set): release is 10^(7.4−5) ≈ 251× faster at pH 5 than at 7.4 (the
    written H⁺ order, checked through the whole pipeline), and every dissolved formula unit adds one Fe(II) and
    two Fe(III)."""
    def run(ph):
        return fentonsim.simulate(RELEASE, ph=ph, initial={"Fe3O4(s)": 1e-5}, rates={"REL-Fe3O4": 100.0},
                                  t_end=10.0, n_points=2)
    acid, neutral = run(5.0), run(7.4)
    dissolved = [1e-5 - final(ds, "concentration", "Fe3O4(s)") for ds in (acid, neutral)]
    assert dissolved[0] / dissolved[1] == pytest.approx(10 ** 2.4, rel=0.01)
    iron = sum(final(acid, "concentration", name) * n for name, n in
               (("Fe3O4(s)", 3), ("Fe(II)", 1), ("Fe(III)", 1), ("FeO+2", 1), ("Fe(OH)3(s)", 1)))
    assert iron == pytest.approx(3e-5, rel=1e-9)


def test_mno2_dissolution_by_gsh_and_glucose_oxidase_stoichiometry():
    """Lin et al. 2018: MnO2 + 2 GSH → Mn²⁺ + GSSG; glucose oxidase: one H2O2 per gluconic acid."""
    ds = fentonsim.simulate(RELEASE, ph=6.5, initial={"MnO2(s)": 1e-5, "GSH": 1e-3, "GOx": 1e-8, "glucose": 5e-3},
                            rates={"REL-MnO2": "1e3 M^-2 s^-1", "GOX": "1e7 M^-2 s^-1"}, t_end=60.0, n_points=2)
    assert extent(ds, "REL-MnO2") > 0
    assert extent(ds, "REL-MnO2") == pytest.approx(1e-5 - final(ds, "concentration", "MnO2(s)"), rel=1e-6)
    assert final(ds, "delivered", "GOx") == 0.0
    assert final(ds, "concentration", "gluconic-acid") == pytest.approx(extent(ds, "GOX"), rel=1e-9)
    assert final(ds, "concentration", "GOx") == pytest.approx(1e-8, rel=1e-12)


def test_release_constants_default_to_zero_and_say_so():
    """Material-specific release constants ship as 0 and each note says they must be set."""
    mechanism = fentonsim.load(RELEASE)
    for rid in ("REL-Fe3O4", "REL-CuO2", "REL-MnO2", "REL-CaO2", "REL-ZnO2", "GOX"):
        reaction = mechanism.reaction(rid)
        assert reaction.rate.k == 0.0 and reaction.evidence == "unconfirmed"
    assert "until set" in mechanism.description


def test_rates_override_rejects_branch_ids_and_wrong_units():
    """`rates` names mechanism reactions and checks the unit against the rate-law order."""
    with pytest.raises(fentonsim.MechanismError, match="branch of `C1`"):
        fentonsim.simulate(COPPER, rates={"C1-OH": 1.0}, t_end=1.0)
    with pytest.raises(fentonsim.UnitError, match="M\\^-1 s\\^-1"):
        fentonsim.simulate(COPPER, rates={"C1": "5 s^-1"}, t_end=1.0)


# ---------------------------------------------------------------- contested constants as parameter sets


@pytest.mark.parametrize("path, name, reaction, k", [
    (IRON, "DeLaat-Gallard-1999", "F1", 63.0),
    (IRON, "Walling-1975", "F1", 76.0),
    (IRON, "DeLaat-Gallard-1999", "F5", 3.2e8),
    (IRON, "CAPRAM-2.4", "F5", 4.3e8),
    (IRON, "CAPRAM-2.4", "F9", 1.5e8),
    (COPPER, "CDT-1e4", "C1", 1.0e4),
    (COPPER, "seawater-Zafiriou-1998", "C5", 6.6e8),
])
def test_contested_constants_come_as_named_parameter_sets(path, name, reaction, k):
    """Dossier §9: each contested constant (Fe²⁺+H2O2 55/63/76; Fe²⁺+·OH 2.7/3.2/4.3e8; Fe³⁺+O2·⁻ 5e7/1.5e8;
    Cu⁺+H2O2 7e3/1e4) is selectable by name."""
    assert fentonsim.load(path, parameter_set=name).reaction(reaction).rate.k == pytest.approx(k)


def test_cu_iii_parameter_set_removes_hydroxyl_from_cu_fenton():
    """Pham et al. 2013 (pH 8): Cu(I) + H2O2 gives Cu(III), not ·OH. With `CuIII-Pham-2013` no ·OH comes from C1."""
    ds = fentonsim.simulate(COPPER, parameter_set="CuIII-Pham-2013", initial={"Cu+": 1e-5, "H2O2": 1e-4},
                            t_end=10.0, n_points=2)
    assert extent(ds, "C1-OH") == 0.0 and extent(ds, "C1-CuIII") > 0.0


def test_hco3_form_sets_the_carbonate_total_at_the_run_pH():
    """`buffered={"HCO3-": 25 mM}` holds HCO3⁻ itself at 25 mM whatever the pH (the pool total follows)."""
    network = compile_network(fentonsim.load(MECHANISMS / "carbonate.yaml"))
    index = network.buffered_names.index("HCO3-")
    for ph in (5.0, 6.5, 7.4):
        conc = network.buffered_concentrations(ph, T25, {"HCO3-": 0.025})
        assert conc[0, index] == pytest.approx(0.025)
