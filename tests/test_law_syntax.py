"""General rate laws in mechanism files (fentonsim.mechanism.law): the syntax reads back what it writes,
dimensions are checked with file:line errors, and a Michaelis–Menten mechanism follows its closed form."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.special import lambertw

import fentonsim as fs
from fentonsim.errors import ConditionsError, MechanismError
from fentonsim.expression import evaluate, num, op, sym
from fentonsim.mechanism.law import LawSyntaxError, law_text, parse_law

HEADER = """kind: mechanism
name: nanozyme-test
units: {concentration: M, time: s, energy: kJ/mol, temperature: K, volume: L}
rate-convention: mass-action
ph-mode: buffered
defaults: {pH: 7.4, temperature: 298.15 K, volume: 1 L}
references:
  test: {citation: "a test"}
species:
  - {name: H2O2, composition: {H: 2, O: 2}}
  - {name: H2O, composition: {H: 2, O: 1}, buffered: solvent}
  - {name: Fe+2, composition: {Fe: 1}, charge: 2}
  - {name: S, composition: {C: 1}}
  - {name: P, composition: {C: 1, O: 1}}
  - {name: Q, composition: {C: 1}}
reactions:
"""
MM = """  - id: N1
    equation: S + H2O2 => P + H2O
    rate: {k: 3.0e3 s^-1}
    law: "E * mm([S], Km)"
    law-constants: {E: 1e-7 M, Km: 0.2 mM}
    ref: test
"""


def _write(tmp_path, reactions=MM, name="law.yaml"):
    path = tmp_path / name
    path.write_text(HEADER + reactions)
    return path


names = st.sampled_from(["Km", "Vmax", "n", "time"])
species = st.sampled_from(["S", "H2O2", "Fe+2"])


def trees(max_leaves=8):
    leaves = st.one_of(st.floats(min_value=0.01, max_value=100).map(num), names.map(sym), species.map(sym))
    return st.recursive(leaves, lambda c: st.one_of(
        st.tuples(st.sampled_from(["plus", "times", "divide", "minus", "power"]), c, c).map(
            lambda t: op(t[0], t[1], t[2])),
        st.tuples(st.sampled_from(["exp", "ln", "sqrt", "abs"]), c).map(lambda t: op(t[0], t[1])),
        st.tuples(c, c, c).map(lambda t: op("piecewise", t[0], ("rel", "gt", (t[1], num(1.0))), t[2])),
    ), max_leaves=max_leaves)


@settings(max_examples=200, deadline=None)
@given(trees())
def test_law_text_parses_back_to_the_same_tree(tree):
    """parse_law(law_text(tree)) == tree: what the dumper writes, the loader reads unchanged."""
    species_here = {"S", "H2O2", "Fe+2"}
    parsed, found, constants = parse_law(law_text(tree, species_here))
    assert parsed == tree
    assert found <= species_here and not (constants & species_here)


def test_helpers_are_the_usual_laws():
    """mm, hill and inhibit expand to S/(K+S), Sⁿ/(Kⁿ+Sⁿ) and 1/(1 + I/Ki)."""
    values = {"S": 3.0, "K": 2.0, "n": 2.5, "I": 0.5, "Ki": 0.25}
    for text, expected in (("mm([S], K)", 3 / 5), ("hill([S], K, n)", 3 ** 2.5 / (2 ** 2.5 + 3 ** 2.5)),
                           ("inhibit([I], Ki)", 1 / 3)):
        tree, _, _ = parse_law(text)
        assert evaluate(tree, values) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("text, message", [
    ("[S] +", "expected more"), ("(Km + [S]", r"expected `\)`"), ("foo([S])", "unknown function `foo`"),
    ("mm([S])", "takes 2 arguments"), ("[S] $ 2", "cannot read"), ("", "empty"), ("exp", "needs its arguments"),
])
def test_unreadable_laws_say_what_is_wrong(text, message):
    """A law that does not parse raises LawSyntaxError naming the problem."""
    with pytest.raises(LawSyntaxError, match=message):
        parse_law(text)


def test_michaelis_menten_mechanism_follows_the_lambert_w_solution(tmp_path):
    """S(t) = Km·W((S0/Km)·exp((S0 − V t)/Km)) with V = k_cat·E, to 1e-7 relative; k is read in s⁻¹."""
    path = _write(tmp_path)
    t = np.linspace(0, 10, 41)
    result = fs.simulate(path, t_eval=t, initial={"S": "1 mM", "H2O2": "5 mM"}, rtol=1e-10)
    s0, vmax, km = 1e-3, 3.0e3 * 1e-7, 2e-4
    exact = km * lambertw((s0 / km) * np.exp((s0 - vmax * t) / km)).real
    np.testing.assert_allclose(result["concentration"].sel(species="S").values, exact, rtol=1e-7, atol=1e-14)
    np.testing.assert_allclose(result["concentration"].sel(species="H2O2").values, 5e-3 - (s0 - exact), rtol=1e-9)


def test_dump_then_load_keeps_law_and_constants(tmp_path):
    """A mechanism with a law survives dump_mechanism → load_mechanism unchanged (law, constants, digest)."""
    mechanism = fs.load(_write(tmp_path))
    again = tmp_path / "again.yaml"
    again.write_text(fs.dump_mechanism(mechanism))
    reloaded = fs.load(again)
    assert reloaded.reactions == mechanism.reactions
    assert fs.compile_network(reloaded).mechanism_sha256 == fs.compile_network(mechanism).mechanism_sha256


BAD = {
    "sum of M and 1": ('law: "[S] + 1"', "`plus` of M and 1"),
    "exp of M": ('law: "exp([S])"', "argument of `exp` must be dimensionless"),
    "power with a unit": ('law: "[S]^Km"\n    law-constants: {Km: 1 mM}', "exponent must be dimensionless"),
    "undeclared constant": ('law: "[S] / (Km + [S])"', "uses `Km`, which is not in its `law-constants`"),
    "unused constant": ('law: "[S]"\n    law-constants: {Kx: 1 mM}', "defines `Kx`, which the law does not use"),
    "clamped species": ('law: "[H2O]"', r"reads \[H2O\], a buffered-solvent species"),
    "unknown species": ('law: "[Zed]"', r"reads \[Zed\], not a species"),
    "constant named like a species": ('law: "[S] / (S + [S])"\n    law-constants: {S: 1 mM}', "both as a species"),
    "bad constant": ('law: "[S] / (Km + [S])"\n    law-constants: {Km: lots}', "law constant `Km`"),
    "k in the wrong unit": ('law: "[S]"', "`k` of reaction `N1`"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_laws_are_refused_with_file_and_line(tmp_path, case):
    """Each malformed law is a MechanismError naming the file, the line and the problem."""
    law, message = BAD[case]
    rate = "{k: 3.0e3 M^-1 s^-1}" if case == "k in the wrong unit" else "{k: 3.0e3 s^-1}"
    path = _write(tmp_path, f"""  - id: N1
    equation: S + H2O2 => P + H2O
    rate: {rate}
    {law}
    ref: test
""")
    with pytest.raises(MechanismError, match=message) as caught:
        fs.load(path)
    assert f"{path}:" in str(caught.value)


def test_a_law_on_a_reversible_reaction_is_refused(tmp_path):
    """`<=>` with a law is refused: the law is the net rate."""
    path = _write(tmp_path, """  - id: N1
    equation: S + H2O2 <=> P + H2O
    rate: {k: 3.0e3 s^-1}
    reverse-rate: {k: 1 s^-1}
    law: "mm([S], Km)"
    law-constants: {Km: 0.2 mM}
    ref: test
""")
    with pytest.raises(MechanismError, match="write the net rate in the law"):
        fs.load(path)


def test_stochastic_runs_of_a_law_reading_time_are_refused_by_name(tmp_path):
    """A law reading `time` changes its propensity between events, which the SSA cannot represent: refused
    naming the reaction (laws of the state run: tests/test_laws_ssa.py)."""
    path = _write(tmp_path, MM.replace('law: "E * mm([S], Km)"', 'law: "E * mm([S], Km) * exp(-time / tau)"')
                  .replace("Km: 0.2 mM}", "Km: 0.2 mM, tau: 5 s}"))
    with pytest.raises(ConditionsError, match=r"reaction `N1` .* reads `time`"):
        fs.simulate(path, t_end=1, method="ssa", volume=1e-15, initial={"S": "1 uM"})


def test_the_readme_law_example_loads_and_runs(tmp_path):
    """The reaction in README's "General rate laws" section loads as written (units checked) and runs."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## General rate laws", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    header = HEADER.replace("""  - {name: Fe+2, composition: {Fe: 1}, charge: 2}
  - {name: S, composition: {C: 1}}
  - {name: P, composition: {C: 1, O: 1}}
""", """  - {name: TMB, composition: {C: 16, H: 20, N: 2}}
  - {name: oxTMB, composition: {C: 16, H: 18, N: 2}}
  - {name: GSH, composition: {C: 10, H: 17, N: 3, O: 6, S: 1}}
""")
    path = tmp_path / "readme_law.yaml"
    path.write_text(header + "".join("  " + line + "\n" for line in block.splitlines()).replace("  ref", "  ref"))
    mechanism = fs.load(path)
    ds = fs.simulate(mechanism, t_end=60, n_points=7, initial={"TMB": "0.5 mM", "H2O2": "1 mM", "GSH": "20 uM"})
    assert float(ds.concentration.sel(species="oxTMB").values[-1]) > 0


REDOSE = """  - id: decay
    equation: S => Q
    rate: {k: 0.2 s^-1}
    ref: test
events:
  - id: redose
    trigger: "[S] < threshold"
    set: {S: "[S] + dose"}
    constants: {threshold: 0.1 mM, dose: 0.9 mM}
"""


def test_a_mechanism_event_redoses_when_the_level_falls(tmp_path):
    """`[S] < 0.1 mM` adds 0.9 mM: S decays from 1 mM, reaches 0.1 mM at t1 = ln 10 / k and restarts at 1 mM,
    so S(t) = 1 mM·e^(−k(t − n·t1)) between doses — checked at 30 s (two doses) to 1e-7."""
    path = _write(tmp_path, REDOSE)
    mechanism = fs.load(path)
    assert [e.name for e in mechanism.state_events] == ["redose"]
    t1 = math.log(10) / 0.2
    ds = fs.simulate(mechanism, t_eval=[0.0, 30.0], initial={"S": "1 mM"}, rtol=1e-10)
    expected = 1e-3 * math.exp(-0.2 * (30.0 - 2 * t1))
    assert float(ds.concentration.sel(species="S").values[-1]) == pytest.approx(expected, rel=1e-7)
    again = tmp_path / "again.yaml"
    again.write_text(fs.dump_mechanism(mechanism))
    assert fs.load(again).state_events == mechanism.state_events


BAD_EVENTS = {
    "trigger with units on one side only": ('"[S] < 0.1"', '{S: "[S] + dose"}', "{dose: 1 mM}",
                                            "comparison sets M against 1"),
    "a trigger that is not a comparison": ('"[S]"', '{S: "[S] + dose"}', "{dose: 1 mM}", "must be a comparison"),
    "value in the wrong unit": ('"[S] < c"', '{S: "[S] * c"}', "{c: 1 mM}", "M\\^2"),
    "a bare number": ('"[S] < c"', "{S: 5}", "{c: 1 mM}", "bare number"),
    "a clamped species": ('"[S] < c"', '{H2O: "c"}', "{c: 1 mM}", "events set integrated species"),
}


@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
def test_bad_events_are_refused_with_file_and_line(tmp_path, case):
    """Each malformed event is a MechanismError naming the file, the line and the problem."""
    trigger, assignments, constants, message = BAD_EVENTS[case]
    path = _write(tmp_path, f"""  - id: decay
    equation: S => Q
    rate: {{k: 0.2 s^-1}}
    ref: test
events:
  - id: e
    trigger: {trigger}
    set: {assignments}
    constants: {constants}
""")
    with pytest.raises(MechanismError, match=message) as caught:
        fs.load(path)
    assert f"{path}:" in str(caught.value)
