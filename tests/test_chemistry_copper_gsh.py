"""Copper–glutathione chemistry (mechanisms/copper.yaml, CG reactions) against published observations.

Sources: Morgan, Nguyen, Hancock & Fahrni (2017) (aquo Cu⁺ below 1 fM at physiological GSH);
Ngamchuea, Batchelor-McAuley & Compton (2016) (Cu-catalysed GSH oxidation: −d[RSH]/dt =
k[Cu–GSH][O2]^½[H2O2]^−½, inverse in [GSH], no oxidation without Cu); Kachur et al. (1998)
(4 RSH per O2 in the first phase); Sharma & Millero (1988) (Cu(I) + O2 in seawater). The dossier's
target list is /work/shared/chemistry/fenton_kinetics.md §7 V11.

Targets the mechanism misses are strict xfails carrying the measured value, so a change that makes
them pass is noticed. O2 is a finite, integrated species here (closed vessel: no supply), as in
the dossier's sanity condition; every run is deterministic except the SSA test (fixed seed).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import fentonsim

from conftest import MECHANISMS
from validation import check

COPPER = MECHANISMS / "copper.yaml"
T25, T37 = 298.15, 310.15


def closed_o2(mechanism):
    """The mechanism with O2 integrated (a no-op once ros_core.yaml integrates O2 itself)."""
    species = tuple(dataclasses.replace(s, buffered=None) if s.name == "O2" and s.is_buffered else s
                    for s in mechanism.species)
    return dataclasses.replace(mechanism, species=species)


MECH = closed_o2(fentonsim.load(COPPER))


def run(initial, ph=7.4, temperature=T25, t_eval=None, t_end=3600.0, mechanism=MECH, **kw):
    return fentonsim.simulate(mechanism, ph=ph, temperature=temperature, initial=initial,
                              t_eval=t_eval, t_end=None if t_eval is not None else t_end,
                              n_points=None if t_eval is not None else 2, **kw)


def conc(ds, name, i=-1):
    return float(ds["concentration"].isel(time=i).sel(species=name))


def extent(ds, *reactions, i=-1):
    return float(ds["extent"].isel(time=i).sel(reaction=list(reactions)).sum())


def produced(ds, pool, i=-1):
    """Σ extent × positive stoichiometry of a species or pool [M] (e.g. total ·OH made)."""
    nu = ds["net_stoich"].sel(species=pool).clip(min=0)
    return float((ds["extent"].isel(time=i) * nu).sum())


def thiol(ds, i=-1):
    """Unoxidised glutathione: free plus copper-bound [M]."""
    return conc(ds, "glutathione", i) + 2 * conc(ds, "Cu(I)(SG)2-", i) + 2 * conc(ds, "Cu(II)(SG)2", i)


def oxidation_rate(cu=10e-6, gsh=1e-3, o2=200e-6, h2o2=0.0, t1=2.0, t2=12.0):
    """Rate of thiol loss [M s⁻¹] between t1 and t2 (after the fast Cu(II)–GSH step), pH 7.4, 25 °C, Cu²⁺ dosed,
    as in Ngamchuea et al. (2016); also returns the O2 uptake rate."""
    ds = run({"Cu+2": cu, "GSH": gsh, "H2O2": h2o2, "O2": o2}, t_eval=[0.0, t1, t2])
    return (thiol(ds, 1) - thiol(ds, 2)) / (t2 - t1), (conc(ds, "O2", 1) - conc(ds, "O2", 2)) / (t2 - t1)


def order(low, high, factor):
    return math.log(high / low) / math.log(factor)


# ---------------------------------------------------------------- complexation (Morgan et al. 2017)


@pytest.mark.parametrize("gsh, cu", [
    (1e-3, 1e-6), (2e-3, 20e-6), (10e-3, 20e-6),
    pytest.param(1e-3, 20e-6, marks=pytest.mark.xfail(strict=True, reason=(
        "measured 2.4e-15 M: K' = 1e16 M^-2 is the lower bound chosen for ≥ 2 mM GSH at 20 µM Cu; at 1 mM "
        "GSH and 20 µM Cu it leaves 2.4 fM (Morgan et al.'s cluster constants were not retrieved)"))),
])
def test_glutathione_holds_aquo_copper_i_below_a_femtomolar(gsh, cu):
    """Morgan et al. (2017): at physiological GSH (1–10 mM) aquo Cu⁺ is sub-femtomolar. Anaerobic (O2 = 0),
    pH 7.4, after 10 s: free Cu⁺ < 1e-15 M and ≥ 99.999 % of Cu(I) is bound."""
    ds = run({"Cu+": cu, "GSH": gsh, "O2": 0.0}, t_end=10.0)
    assert conc(ds, "Cu+") < 1e-15
    assert conc(ds, "Cu(I)(SG)2-") > (1 - 1e-5) * cu


@pytest.mark.parametrize("ph, gsh", [(6.5, 10e-3), (7.4, 2e-3)])
def test_aquo_copper_i_no_longer_drives_the_aerobic_chemistry(ph, gsh):
    """In air with GSH, Cu(I) is oxidised by O2 and H2O2 as the glutathione complex: the aquo-Cu⁺ reactions
    with O2 (C2, the low-chloride 4.6e5) and H2O2 (C1) carry < 0.1 % of the Cu(I) oxidation flux over 1 h
    (20 µM Cu⁺, 100 µM H2O2, 200 µM O2, 37 °C)."""
    ds = run({"Cu+": 20e-6, "GSH": gsh, "H2O2": 100e-6, "O2": 200e-6}, ph=ph, temperature=T37,
             buffered={"HCO3-": 25e-3})
    aquo = extent(ds, "C1-OH", "C1-CuIII", "C2")
    complexed = extent(ds, "CG2", "CG3-OH", "CG3-CuIII")
    assert aquo < 1e-3 * complexed


# ---------------------------------------------------------------- V11: Cu-catalysed GSH oxidation


def test_no_gsh_oxidation_without_copper():
    """Ngamchuea et al. (2016): GSH is not oxidised by O2 without a catalyst (1 mM GSH, 200 µM O2, 1 h)."""
    ds = run({"GSH": 1e-3, "O2": 200e-6})
    check("V11", "GSH oxidised in 1 h without Cu (1 mM GSH, 200 µM O2)", 1e-3 - thiol(ds), 0.0, unit="M",
          abs_tol=1e-12, source="Ngamchuea et al. 2016")
    assert conc(ds, "O2") == pytest.approx(200e-6, rel=1e-9)


def test_copper_catalysed_gsh_oxidation_is_first_order_in_copper():
    """Ngamchuea et al. (2016): −d[RSH]/dt ∝ [Cu–GSH complex], first order in copper (10 → 20 µM Cu²⁺,
    1 mM GSH, 200 µM O2); measured 1.08, tolerance ±0.15."""
    check("V11", "order of Cu-catalysed GSH oxidation in Cu (10 → 20 µM)",
          order(oxidation_rate(cu=10e-6)[0], oxidation_rate(cu=20e-6)[0], 2), 1.0, unit="", abs_tol=0.15,
          source="Ngamchuea et al. 2016")


@pytest.mark.xfail(strict=True, reason="measured order 0.95 (50 → 200 µM O2), 1.08 (200 → 800 µM): no "
                                       "pre-equilibrium before the rate-determining step is modelled")
def test_copper_catalysed_gsh_oxidation_is_half_order_in_o2():
    """Ngamchuea et al. (2016): ½ order in O2 (10 µM Cu²⁺, 1 mM GSH, O2 50 → 200 µM); tolerance ±0.15."""
    check("V11", "order of Cu-catalysed GSH oxidation in O2 (50 → 200 µM)",
          order(oxidation_rate(o2=50e-6)[0], oxidation_rate(o2=200e-6)[0], 4), 0.5, unit="", abs_tol=0.15,
          source="Ngamchuea et al. 2016", note="missed: no pre-equilibrium before the rate-determining step")


@pytest.mark.xfail(strict=True, reason="measured order +0.50 (100 → 400 µM H2O2): H2O2 feeds CG3 "
                                       "(Cu(I)–GSH + H2O2 → ·OH, scavenged by GSH) and nothing in the model "
                                       "makes H2O2 inhibit")
def test_copper_catalysed_gsh_oxidation_is_inhibited_by_h2o2():
    """Ngamchuea et al. (2016): order −½ in H2O2 (10 µM Cu²⁺, 1 mM GSH, 200 µM O2, H2O2 100 → 400 µM);
    tolerance ±0.2."""
    low, high = oxidation_rate(h2o2=100e-6)[0], oxidation_rate(h2o2=400e-6)[0]
    check("V11", "order of Cu-catalysed GSH oxidation in H2O2 (100 → 400 µM)", order(low, high, 4), -0.5, unit="",
          abs_tol=0.2, source="Ngamchuea et al. 2016", note="missed: H2O2 feeds CG3; nothing makes it inhibit")


@pytest.mark.xfail(strict=True, reason="measured order in GSH is not negative throughout: +1.19 "
                                       "(0.1 → 0.2 mM), −0.21 (0.25 → 0.5 mM), −0.10 (1 → 4 mM), +0.74 "
                                       "(2.5 → 10 mM) at 10 µM Cu²⁺; the competing complexation Ngamchuea et al. "
                                       "propose (higher Cu–GSH complexes) is not modelled")
def test_copper_catalysed_gsh_oxidation_slows_with_more_gsh():
    """Ngamchuea et al. (2016): the rate decreases with increasing [GSH] (GSH ≥ 3× Cu). Checked as a negative
    order on every doubling from 0.1 to 10 mM GSH at 10 µM Cu²⁺ and 200 µM O2."""
    levels = [0.1e-3, 0.2e-3, 0.5e-3, 1e-3, 2e-3, 4e-3, 10e-3]
    rates = [oxidation_rate(gsh=g)[0] for g in levels]
    check("V11", "GSH steps (0.1–10 mM, 10 µM Cu) where the oxidation rate does not fall",
          sum(b >= a for a, b in zip(rates, rates[1:])), 0, unit="", abs_tol=0, source="Ngamchuea et al. 2016",
          note="missed: higher Cu–GSH complexes not modelled")


@pytest.mark.xfail(strict=True, reason="measured 2.4 RSH per O2 over the first phase (0.5 mM GSH used up "
                                       "in 60 s, 163 µM H2O2 left): H2O2 accumulates instead of being "
                                       "reduced by the complex without ·OH")
def test_first_phase_uses_four_thiols_per_o2():
    """Kachur et al. (1998): in the first phase 1 O2 is consumed per 4 RSH, with little ·OH. 10 µM Cu²⁺,
    0.5 mM GSH, 250 µM O2 (so neither runs out first by construction), pH 7.4, until the thiol is used up
    (60 s); tolerance ±20 %."""
    ds = run({"Cu+2": 10e-6, "GSH": 0.5e-3, "O2": 250e-6}, t_eval=[0.0, 60.0])
    assert thiol(ds) < 0.05 * 0.5e-3
    ratio = (0.5e-3 - thiol(ds)) / (250e-6 - conc(ds, "O2"))
    check("V11", "RSH oxidised per O2 in the first phase (10 µM Cu, 0.5 mM GSH)", ratio, 4.0, unit="", rel=0.2,
          source="Kachur et al. 1998", note="missed: H2O2 accumulates instead")


# ---------------------------------------------------------------- physical sanity (finite O2)

SANITY = [(6.5, 10e-3), (7.4, 2e-3)]


def sanity_run(ph, gsh, o2=200e-6, h2o2=100e-6):
    return run({"Cu+": 20e-6, "H2O2": h2o2, "GSH": gsh, "O2": o2}, ph=ph, temperature=T37,
               buffered={"HCO3-": 25e-3})


@pytest.mark.parametrize("ph, gsh", SANITY)
def test_hydroxyl_is_bounded_by_the_oxidising_equivalents(ph, gsh):
    """20 µM Cu⁺, 100 µM H2O2, 200 µM O2 (closed: not clamped, not resupplied), 37 °C, 1 h. Every ·OH comes
    from one H2O2, and every H2O2 beyond the initial one from one O2, so ·OH produced ≤ [H2O2]0 + O2 used;
    the electrons glutathione gave up (2 per GSSG or GSOH, 1 per GSSG·⁻ or GS·) are at most what the oxidants
    can take, 2·[H2O2]0 + 4·O2 used (1e-6 relative slack for round-off). Before the Cu–GSH complexes the
    (clamped-O2) model gave 25× [H2O2]0 as ·OH."""
    ds = sanity_run(ph, gsh)
    o2_used = 200e-6 - conc(ds, "O2")
    assert 0.0 <= o2_used <= 200e-6
    assert produced(ds, "hydroxyl") <= (100e-6 + o2_used) * (1 + 1e-6)
    electrons = 2 * (conc(ds, "GSSG") + conc(ds, "GSOH")) + conc(ds, "GSSG*-") + conc(ds, "GS*")
    assert electrons <= (2 * 100e-6 + 4 * o2_used) * (1 + 1e-6)


@pytest.mark.parametrize("ph, gsh", SANITY)
def test_gsh_raises_hydroxyl_only_as_the_electron_donor_and_scavenges_it(ph, gsh):
    """Why GSH raises ·OH here (Kachur et al. 1998: GSH is a pro-oxidant with copper): without GSH, 20 µM Cu⁺
    is the only reductant and is oxidised to Cu(II) for good (Cu(II) + H2O2 is slow), so ·OH stops after tens
    of µM; with GSH, Cu(II) is reduced back (C11/CG4) and Cu turns the O2 + H2O2 budget into ·OH. The extra
    ·OH is paid for by GSH (extra ·OH ≤ GSH oxidised), and ≥ 97 % of all ·OH is scavenged by GSH itself
    (G1a/G1b), so little reaches anything else (competition with 25 mM HCO3⁻ at the ~1 mM GSH left at pH 7.4
    predicts 98.4 %). Same run as the bound test."""
    with_gsh, without = sanity_run(ph, gsh), sanity_run(ph, 0.0)
    oh, oh0 = produced(with_gsh, "hydroxyl"), produced(without, "hydroxyl")
    assert oh > oh0                                    # GSH still raises ·OH (documented, not hidden)
    assert oh - oh0 <= gsh - thiol(with_gsh)           # ... by spending itself
    assert oh0 <= 100e-6 + 20e-6                       # without GSH: bounded by H2O2 and the Cu(I) dose
    assert extent(with_gsh, "G1a", "G1b") >= 0.97 * oh


# ---------------------------------------------------------------- chloride: the seawater parameter set


def test_seawater_set_uses_the_chloride_complexed_cu_i_oxidation_rate():
    """Sharma & Millero (1988): in seawater Cu(I) (mostly Cl⁻ complexes) is oxidised by O2 at
    log k = 10.73 + 0.23 pH − 2373/T − 3.33 I^½ + 1.45 I (k in kg mol⁻¹ min⁻¹), Ea 45.6 kJ/mol. The
    `seawater-Zafiriou-1998` set must carry that k (pH 8.0, I = 0.7, 25 °C; 2 %) and its temperature
    dependence (15 °C, 3 %), not the low-chloride 4.6e5, alongside Zafiriou's superoxide constants."""
    def sharma_millero(T):
        log_k = 10.73 + 0.23 * 8.0 - 2373 / T - 3.33 * math.sqrt(0.7) + 1.45 * 0.7
        return 10 ** log_k / 60.0
    sea = closed_o2(fentonsim.load(COPPER, parameter_set="seawater-Zafiriou-1998"))
    for T, tol in ((T25, 0.02), (288.15, 0.03)):
        ds = run({"Cu+": 1e-9, "O2": 250e-6}, ph=8.0, temperature=T, t_end=1.0, mechanism=sea)
        assert float(ds["rate_constant"].sel(reaction="C2")) == pytest.approx(sharma_millero(T), rel=tol)
    assert sea.reaction("C3").rate.k == pytest.approx(1.98e9) and sea.reaction("C5").rate.k == pytest.approx(6.6e8)


def test_seawater_cu_i_lives_minutes_not_milliseconds():
    """Consequence of the above: 1 nM Cu(I) in air-saturated seawater (250 µM O2, pH 8, 25 °C, no GSH, no
    H2O2) has a half-life of minutes (Sharma & Millero 1988: ln2/(k[O2]) ≈ 4 min; tolerance: 1–10 min),
    against ~6 ms with the low-chloride constant."""
    sea = closed_o2(fentonsim.load(COPPER, parameter_set="seawater-Zafiriou-1998"))
    t = np.linspace(0.0, 1800.0, 361)
    ds = run({"Cu+": 1e-9, "O2": 250e-6}, ph=8.0, temperature=T25, t_eval=list(map(float, t)), mechanism=sea)
    cu = ds["concentration"].sel(species="Cu+").values
    half = float(np.interp(0.5e-9, cu[::-1], t[::-1]))
    assert 60.0 < half < 600.0


# ---------------------------------------------------------------- stochastic solver


def test_complexation_runs_in_the_ssa_and_agrees_with_the_ode():
    """The fast, strong complexation is written as explicit reactions (CG1 ⇌), which the exact SSA handles
    without stiffness because the reverse is slow (1e-6 s⁻¹): 1 fL, pH 7.4, 20 µM Cu⁺ (12 ions), 2 mM GSH,
    100 µM H2O2, 200 µM O2, 300 s, 8 runs (seed 1). All runs complete, and the mean thiol lost is within 5 %
    of the ODE."""
    initial = {"Cu+": 20e-6, "H2O2": 100e-6, "GSH": 2e-3, "O2": 200e-6}
    ode = run(initial, t_end=300.0)
    ssa = run(initial, t_end=300.0, method="ssa", volume="1 fL", runs=8, seed=1)
    assert (ssa["status"].values == 0).all()
    lost_ode = 2e-3 - thiol(ode)
    c = ssa["concentration"].isel(time=-1)
    lost_ssa = 2e-3 - float((c.sel(species="glutathione") + 2 * c.sel(species="Cu(I)(SG)2-")
                             + 2 * c.sel(species="Cu(II)(SG)2")).mean("run"))
    assert lost_ssa == pytest.approx(lost_ode, rel=0.05)
