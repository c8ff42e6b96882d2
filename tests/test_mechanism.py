"""Mechanism semantics: balance, the 2k flag, Arrhenius, branching, power laws,
includes and parameter sets, checked on small inline files and the shipped ones."""
from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from fentonsim import ConditionsError, MechanismError, compile_network, load_mechanism
from fentonsim.constants import GAS_CONSTANT

HEADER = """\
species:
- {name: H+, composition: {H: 1}, charge: 1, buffered: from-pH}
- {name: OH-, composition: {O: 1, H: 1}, charge: -1, buffered: from-pOH}
- {name: H2O, composition: {H: 2, O: 1}, buffered: solvent}
- {name: O2, composition: {O: 2}, buffered: 0.25 mM}
- {name: H2O2, composition: {H: 2, O: 2}}
- {name: HO*, composition: {H: 1, O: 1}, radical: true}
- {name: Fe+2, composition: {Fe: 1}}
- {name: Fe+3, composition: {Fe: 1}}
- {name: FeO+2, composition: {Fe: 1, O: 1}}
- {name: O*, composition: {O: 1}, radical: true}
"""


def write(tmp_path, text, name="m.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def load(tmp_path, reactions, extra=""):
    body = textwrap.dedent(reactions)
    separator = " " if body.startswith("[") else "\n"
    return load_mechanism(write(tmp_path, HEADER + extra + "reactions:" + separator + body))


def test_charge_inferred_from_name(tmp_path):
    """Without `charge`, the charge comes from the name suffix (Fe+3 -> 3, OH- -> -1)."""
    m = load(tmp_path, "[]\n")
    charges = {s.name: s.charge for s in m.species}
    assert charges["Fe+2"] == 2 and charges["Fe+3"] == 3 and charges["FeO+2"] == 2 and charges["H2O2"] == 0


def test_balanced_with_buffered_protons(tmp_path):
    """H+ written for balance passes the balance check and stays out of the rate law."""
    m = load(tmp_path, """\
        - id: X3
          equation: FeO+2 + Fe+2 + 2 H+ => 2 Fe+3 + H2O
          rate: {k: 1.4e5}
        """)
    net = compile_network(m)
    assert net.order[0] == 2
    assert net.rate_constants(pH=3.0)[0] == pytest.approx(1.4e5)
    assert net.rate_constants(pH=7.0)[0] == pytest.approx(1.4e5)


def test_two_k_flag_halves_the_constant(tmp_path):
    """`tabulated-as: 2k` stores k/2, so d[HO*]/dt = -2k[HO*]^2 uses the halved k."""
    m = load(tmp_path, """\
        - id: R3
          equation: 2 HO* => H2O2
          rate: {k: 1.1e10}
          tabulated-as: 2k
        """)
    assert m.reactions[0].rate.k == pytest.approx(5.5e9)
    net = compile_network(m)
    assert list(net.net_stoich[0]) == [-2 if s == "HO*" else (1 if s == "H2O2" else 0) for s in net.species]


def test_arrhenius(tmp_path):
    """k(T) = k_ref·exp(-Ea/R·(1/T - 1/T_ref)); Ea and Ea_over_R agree; k(T_ref) = k_ref."""
    m = load(tmp_path, """\
        - id: A
          equation: Fe+2 + H2O2 => Fe+3 + OH- + HO*
          rate: {type: arrhenius, k_ref: 55, T_ref: 298.15 K, Ea: 35.7 kJ/mol}
        - id: B
          equation: FeO+2 + H2O2 => Fe+3 + OH- + HO* + O*
          rate: {type: arrhenius, k_ref: 1e4, T_ref: 25 °C, Ea_over_R: 2766 K}
        """)
    net = compile_network(m)
    T = np.array([278.15, 298.15, 310.15, 318.15])
    k = net.rate_constants(pH=np.full(4, 5.0), temperature=T)
    expected_a = 55 * np.exp(-35700 / GAS_CONSTANT * (1 / T - 1 / 298.15))
    expected_b = 1e4 * np.exp(-2766 * (1 / T - 1 / 298.15))
    np.testing.assert_allclose(k[:, 0], expected_a, rtol=1e-12)
    np.testing.assert_allclose(k[:, 1], expected_b, rtol=1e-12)
    assert k[1, 0] == pytest.approx(55)


def test_buffered_species_enters_rate_law(tmp_path):
    """A clamped species (O2) multiplies k by its concentration; conditions override the default."""
    m = load(tmp_path, """\
        - id: AO
          equation: Fe+2 + O2 + H2O => Fe+3 + OH- + HO* + O*
          rate: {k: 10}
        """)
    net = compile_network(m)
    assert net.order[0] == 1
    assert net.rate_constants(pH=7)[0] == pytest.approx(10 * 0.25e-3)
    assert net.rate_constants(pH=7, buffered={"O2": 1e-3})[0] == pytest.approx(1e-2)


def test_power_law_on_buffered_species(tmp_path):
    """A power-law factor [OH-]^2 makes k pH dependent as 10^(2(pH - pKw))."""
    m = load(tmp_path, """\
        - id: AUTOX
          equation: Fe+2 + O2 + H2O => Fe+3 + OH- + HO* + O*
          rate: {type: power-law, k: 1e14 M^-3 s^-1, factors: {OH-: 2}}
        """)
    net = compile_network(m)
    from fentonsim.constants import pkw
    for pH in (6.5, 7.4):
        oh = 10 ** (pH - pkw(298.15))
        assert net.rate_constants(pH=pH)[0] == pytest.approx(1e14 * oh**2 * 0.25e-3, rel=1e-12)


def test_power_law_order_checks_units(tmp_path):
    """With a [OH-]^2 factor, a second-order unit for k is the wrong dimension."""
    with pytest.raises(MechanismError, match="expected M\\^-3 s\\^-1"):
        load(tmp_path, """\
            - id: AUTOX
              equation: Fe+2 + O2 + H2O => Fe+3 + OH- + HO* + O*
              rate: {type: power-law, k: 1e14 M^-1 s^-1, factors: {OH-: 2}}
            """)


def test_branching_splits_flux(tmp_path):
    """Branches become network reactions with k·fraction and their own products."""
    m = load(tmp_path, """\
        - id: F1
          reactants: Fe+2 + H2O2
          branches:
          - {id: F1-OH, products: Fe+3 + OH- + HO*, fraction: 0.75}
          - {id: F1-ferryl, products: FeO+2 + H2O, fraction: 0.25}
          rate: {k: 60}
        """)
    net = compile_network(m)
    assert net.reaction_ids == ("F1-OH", "F1-ferryl")
    np.testing.assert_allclose(net.rate_constants(pH=3), [45.0, 15.0])
    ferryl = net.species.index("FeO+2")
    assert net.net_stoich[1, ferryl] == 1 and net.net_stoich[0, ferryl] == 0


def test_reversible_expands_to_two_reactions(tmp_path):
    """`<=>` with reverse-rate gives a forward and a `:reverse` network reaction."""
    m = load(tmp_path, """\
        - id: EQ
          equation: Fe+2 + HO* <=> Fe+3 + OH-
          rate: {k: 3e8}
          reverse-rate: {k: 2 s^-1}
        """)
    net = compile_network(m)
    assert net.reaction_ids == ("EQ", "EQ:reverse")
    np.testing.assert_array_equal(net.net_stoich[0], -net.net_stoich[1])
    assert list(net.order) == [2, 1]


def test_speciation_weighting_and_pool_state(tmp_path):
    """A reaction of one form runs at k·α(form)·[pool]; the pool is the state variable."""
    m = load(tmp_path, """\
        - id: S1
          equation: HO2* + Fe+2 => Fe+3 + HO2-
          rate: {k: 1e6}
        """, extra="""\
- {name: HO2*, composition: {H: 1, O: 2}, radical: true}
- {name: O2*-, composition: {O: 2}, radical: true}
- {name: HO2-, composition: {H: 1, O: 2}}
speciation:
- {pool: superoxide, forms: [HO2*, O2*-], pKa: [4.8]}
""")
    net = compile_network(m)
    assert "superoxide" in net.species and "HO2*" not in net.species
    for pH in (3.0, 4.8, 7.4):
        alpha = 1 / (1 + 10 ** (pH - 4.8))
        assert net.rate_constants(pH=pH)[0] == pytest.approx(1e6 * alpha, rel=1e-12)


def test_include_diamond_loads_shared_file_once(tmp_path):
    """Two files including the same core merge without duplicate errors."""
    write(tmp_path, HEADER + "reactions: []\n", "core.yaml")
    species = lambda n: f"species:\n- {{name: {n}, composition: {{Fe: 1}}, charge: 0}}\nreactions: []\n"
    write(tmp_path, "include: [core.yaml]\n" + species("FeA"), "a.yaml")
    write(tmp_path, "include: [core.yaml]\n" + species("FeB"), "b.yaml")
    top = write(tmp_path, "include: [a.yaml, b.yaml]\nspecies: []\nreactions: []\n", "top.yaml")
    names = [s.name for s in load_mechanism(top).species]
    assert names.count("Fe+2") == 1 and "FeA" in names and "FeB" in names


def test_include_duplicate_reaction_across_files(tmp_path):
    """The same reaction defined in two files is reported with both locations."""
    reaction = "- {id: %s, equation: Fe+2 + HO* => Fe+3 + OH-, rate: {k: 3e8}}\n"
    write(tmp_path, HEADER + "reactions:\n" + reaction % "F5", "core.yaml")
    top = write(tmp_path, "include: [core.yaml]\nreactions:\n" + reaction % "F5b", "top.yaml")
    with pytest.raises(MechanismError, match="duplicates `F5`.*core.yaml"):
        load_mechanism(top)


def test_parameter_sets_on_shipped_iron():
    """Named parameter sets swap contested constants and record their name."""
    from conftest import MECHANISMS
    base = load_mechanism(MECHANISMS / "iron.yaml")
    alt = load_mechanism(MECHANISMS / "iron.yaml", parameter_set="DeLaat-Gallard-1999")
    assert base.reaction("F1").rate.k == 55 and alt.reaction("F1").rate.k == 63
    assert alt.reaction("F5").rate.k == 3.2e8
    assert compile_network(alt).parameter_set == "DeLaat-Gallard-1999"
    assert compile_network(alt).mechanism_sha256 != compile_network(base).mechanism_sha256
    ferryl = base.with_parameter_set("ferryl-neutral").reaction("F1")
    assert [b.fraction for b in ferryl.branches] == [0.5, 0.5]
    with pytest.raises(MechanismError, match="unknown parameter set `nope`"):
        load_mechanism(MECHANISMS / "iron.yaml", parameter_set="nope")


def test_parameter_set_unknown_reaction(tmp_path):
    """A parameter set overriding a reaction that does not exist is an error at its line."""
    with pytest.raises(MechanismError) as info:
        load(tmp_path, "- {id: F5, equation: Fe+2 + HO* => Fe+3 + OH-, rate: {k: 3e8}}\n"
                       "parameter-sets:\n  alt:\n    reactions:\n      F9: {k: 1}\n")
    assert "unknown reaction `F9`" in str(info.value) and info.value.line == 17


def test_missing_reference_is_a_warning(tmp_path):
    """A reaction without `ref` loads, with a warning naming the reaction and line."""
    m = load(tmp_path, "- {id: F5, equation: Fe+2 + HO* => Fe+3 + OH-, rate: {k: 3e8}}\n")
    assert len(m.warnings) == 1 and "`F5` has no `ref`" in m.warnings[0] and ":13:" in m.warnings[0]


def test_shipped_mechanisms_are_clean():
    """Every shipped mechanism validates with no warnings and every reaction cites a reference."""
    from conftest import MECHANISMS
    for path in sorted(MECHANISMS.glob("*.yaml")):
        m = load_mechanism(path)
        assert m.warnings == (), path
        assert all(r.ref for r in m.reactions), path


def test_default_pH_and_temperature_from_file(tmp_path):
    """`defaults` sets the pH and temperature used when none are given."""
    m = load_mechanism(write(tmp_path, "defaults: {pH: 5.5, temperature: 37 °C, volume: 1 fL}\n"
                                       + HEADER + "reactions: []\n"))
    assert (m.defaults.pH, m.defaults.temperature, m.defaults.volume) == (5.5, pytest.approx(310.15), 1e-15)


# Regressions for inputs the loader once accepted but the compiler or the dump mishandled.

def test_solvent_cannot_be_a_power_law_factor(tmp_path):
    """Water has activity 1: a power-law factor on it is a load error, not a compiler crash."""
    with pytest.raises(MechanismError, match="power-law factor `H2O`.*must be a buffered species"):
        load(tmp_path, "- {id: R1, equation: Fe+2 + HO* => Fe+3 + OH-, "
                       "rate: {type: power-law, k: 1.0, factors: {H2O: 1}}}\n")


def test_solvent_cannot_have_an_order(tmp_path):
    """`orders` on water is rejected rather than silently ignored."""
    with pytest.raises(MechanismError, match="`H2O`, the solvent"):
        load(tmp_path, "- {id: X1, equation: FeO+2 + H2O => Fe+3 + HO* + OH-, rate: {k: 1.3e-2}, "
                       "orders: {H2O: 1}}\n")


def test_reverse_direction_order_is_checked(tmp_path):
    """A reversible reaction whose reverse step has order 4 is rejected at load."""
    with pytest.raises(MechanismError, match="order 4 in its reverse direction"):
        load(tmp_path, "- {id: R1, equation: 2 H2O2 <=> 2 HO* + HO* + HO*, rate: {k: 1.0}, "
                       "reverse-rate: {k: 1.0}}\n")


def test_branch_id_clashing_with_reaction_id(tmp_path):
    """A branch named like another reaction would duplicate a network id: rejected."""
    with pytest.raises(MechanismError, match="already used by reaction"):
        load(tmp_path, """\
            - id: F1
              reactants: Fe+2 + H2O2
              branches:
              - {id: F5, products: Fe+3 + OH- + HO*, fraction: 0.5}
              - {id: F1b, products: FeO+2 + H2O, fraction: 0.5}
              rate: {k: 55}
            - {id: F5, equation: Fe+2 + HO* => Fe+3 + OH-, rate: {k: 3e8}}
            """)


def test_single_branch_with_note_round_trips(tmp_path):
    """A lone branch with the reaction's id keeps its note and fraction through dump and load."""
    from fentonsim import dump_mechanism
    m = load(tmp_path, """\
        - id: F5
          reactants: Fe+2 + HO*
          branches:
          - {id: F5, products: Fe+3 + OH-, fraction: 0.9999999999, note: kept}
          rate: {k: 3e8}
        """)
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_mechanism(m))
    assert load_mechanism(path) == m


def test_empty_citation_rejected(tmp_path):
    """A reference with an empty citation is an error (it could not be cited or dumped)."""
    with pytest.raises(MechanismError, match="empty citation"):
        load(tmp_path, "[]\n", extra='references: {K1: ""}\n')


def test_negative_power_law_exponent_is_a_pre_equilibrium(tmp_path):
    """factors {H+: -1} (complex formed in a fast pre-equilibrium with H+ release) scales k as 1/[H+]."""
    m = load(tmp_path, """\
        - id: F3
          equation: Fe+3 + H2O2 => Fe+2 + HO* + O* + H+
          rate: {type: power-law, k: 1e-5 s^-1, factors: {H+: -1}}
        """)
    net = compile_network(m)
    assert net.rate_constants(pH=3)[0] == pytest.approx(1e-5 / 1e-3, rel=1e-12)
    assert net.rate_constants(pH=4)[0] == pytest.approx(1e-5 / 1e-4, rel=1e-12)


def test_negative_exponent_on_a_zero_concentration_is_refused(tmp_path):
    """A negative order in a clamped species held at 0 would give an infinite rate: a clear error instead."""
    m = load(tmp_path, """\
        - id: X
          equation: Fe+3 + H2O2 => Fe+2 + HO* + O* + H+
          rate: {type: power-law, k: 1e-5 s^-1, factors: {O2: -1}}
        """)
    with pytest.raises(ConditionsError, match="`X` has a negative order"):
        compile_network(m).rate_constants(pH=7, buffered={"O2": 0.0})


YIELD = """\
    - id: Y
      reactants: Fe+2 + H2O2
      branches:
      - id: Y-OH
        products: Fe+3 + OH- + HO*
        fraction: {value: 0.2, per-pH: 0.02, pH_ref: 6.5, per-K: 0.005, T_ref: 288.15 K}
      - id: Y-ferryl
        products: FeO+2 + H2O
        fraction: {value: 0.8, per-pH: %s, pH_ref: 6.5, per-K: -0.005, T_ref: 288.15 K}
      rate: {k: 100}
    """


def test_yield_law_makes_branch_fractions_depend_on_pH_and_T(tmp_path):
    """A linear yield law: fraction = value + per-pH·(pH − pH_ref) + per-K·(T − T_ref), the other branch the rest."""
    net = compile_network(load(tmp_path, YIELD % "-0.02"))
    k = net.rate_constants(pH=7.5, temperature=298.15)
    expected = 0.2 + 0.02 * 1.0 + 0.005 * 10.0
    np.testing.assert_allclose(k, [100 * expected, 100 * (1 - expected)], rtol=1e-12)


def test_yield_law_slopes_must_cancel(tmp_path):
    """Fractions that sum to 1 only at the reference pH are an error naming the slopes."""
    with pytest.raises(MechanismError, match="slopes \\+0.01/pH"):
        load(tmp_path, YIELD % "-0.01")


def test_yield_law_outside_0_1_is_a_conditions_error(tmp_path):
    """At conditions where the law leaves [0, 1] (far beyond its range) the run is refused, naming the branch."""
    net = compile_network(load(tmp_path, YIELD % "-0.02"))
    with pytest.raises(ConditionsError, match="branch `Y-OH` gives a fraction of 1.07"):
        net.rate_constants(pH=7.0, temperature=460.0)


def test_yield_law_needs_its_reference(tmp_path):
    with pytest.raises(MechanismError, match="needs both `per-pH` and `pH_ref`"):
        load(tmp_path, YIELD.replace(", pH_ref: 6.5, per-K: 0.005", ", per-K: 0.005") % "-0.02")


def test_validity_ranges_are_parsed_and_checked(tmp_path):
    """`validity: {pH, T, medium}` records where a constant was measured; a reversed range is an error."""
    m = load(tmp_path, """\
        - id: F1
          equation: Fe+2 + H2O2 => Fe+3 + OH- + HO*
          rate: {k: 55}
          validity: {pH: [0, 3], T: [5 °C, 45 °C], medium: "I = 0.1 M"}
        """)
    v = m.reaction("F1").validity
    assert v.pH == (0.0, 3.0) and v.T == pytest.approx((278.15, 318.15)) and v.medium == "I = 0.1 M"
    with pytest.raises(MechanismError, match="low ≤ high, found \\[3, 0\\]"):
        load(tmp_path, """\
            - id: F1
              equation: Fe+2 + H2O2 => Fe+3 + OH- + HO*
              rate: {k: 55}
              validity: {pH: [3, 0]}
            """)


def test_several_files_merge_into_one_mechanism():
    """load([iron, glutathione]) merges the files (shared includes read once) and is named after both."""
    from conftest import MECHANISMS
    m = load_mechanism([MECHANISMS / "iron.yaml", MECHANISMS / "glutathione.yaml"])
    assert m.name == "iron+glutathione"
    names = {s.name for s in m.species}
    assert {"Fe+2", "GSH", "CO3*-"} <= names
    assert len(m.reactions) == len({r.id for r in m.reactions})


def test_constant_outside_its_own_uncertainty_range_is_a_warning(tmp_path):
    """A k outside its documented range (a range written for another quantity, e.g. an equilibrium constant)
    is reported with file and line, so sampling the range cannot silently move the constant elsewhere."""
    m = load(tmp_path, """\
        - id: R1
          equation: Fe+2 + H2O2 => Fe+3 + HO* + OH-
          rate: {k: 63 M^-1 s^-1}
          uncertainty: {range: [1.0e15, 1.0e18]}
        - id: R2
          equation: Fe+2 + HO* => Fe+3 + OH-
          rate: {k: 3e8 M^-1 s^-1}
          uncertainty: {range: [2.7e8, 4.3e8]}
        """)
    outside = [w for w in m.warnings if "outside its own uncertainty range" in w]
    assert len(outside) == 1 and "`R1`" in outside[0] and "m.yaml:" in outside[0]
