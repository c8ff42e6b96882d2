"""Exact SSA and tau-leaping for general rate laws and state events (fentonsim.stochastic_laws,
kernels/laws_ssa.py): exact stationary laws, the rate equations at large volume, mass action written as a
law, SBML's count convention, events firing at the exact instant with delays, priorities and persistence,
non-negative tau-leaping, and one-line refusals. Seeds are fixed; tolerances are multiples of standard
errors computed from the samples (or, where known, from the exact distribution)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fentonsim as fs
from fentonsim.errors import ConditionsError, SolverError

libsbml = pytest.importorskip("libsbml")
from test_laws import _sbml  # noqa: E402  (after the skip: it needs libsbml)

HEADER = """name: {name}
units: {{concentration: M, time: s, energy: kJ/mol, temperature: K, volume: L}}
rate-convention: mass-action
ph-mode: buffered
defaults: {{pH: 7.4, temperature: 298.15 K, volume: 1 L}}
references:
  test: {{citation: "a test"}}
species:
"""
#: S ⇌ P: forward by a saturating law of S (format `law`), back by mass action.
SATURATING = """reactions:
  - id: MM
    equation: S => P
    rate: {{k: 2.0 s^-1}}
    law: "{law}"
    law-constants: {{E: 5 uM, Km: 5 uM}}
    ref: test
  - id: back
    equation: P => S
    rate: {{k: 0.2 s^-1}}
    ref: test
"""
#: Z beyond which a difference of means counts as real (two-sided p ≈ 7e-6 under the normal law).
Z_MAX = 4.5


def _mechanism(tmp_path, species, body, name="lawssa"):
    """A mechanism file of ``species`` (names, or {name: carbon atoms}) and ``body`` (reactions, events)."""
    path = tmp_path / f"{name}.yaml"
    carbon = species if isinstance(species, dict) else dict.fromkeys(species, 1)
    text = HEADER.format(name=name) + "".join(f"  - {{name: {s}, composition: {{C: {n}}}}}\n"
                                              for s, n in carbon.items())
    path.write_text(text + body)
    return path


def _counts_sbml(tmp_path, species, parameters, reactions, events=(), name="counts"):
    """An SBML L3V2 model in molecule counts (tests/test_laws.py's builder with substance `item`, 1 L):
    species {id: count}, reactions (id, {reactant: ν}, {product: ν}, law in counts), events
    (id, trigger, [(variable, value)]) with values from the trigger instant."""
    path = _sbml(tmp_path / f"{name}.xml", [(sid, n, False) for sid, n in species.items()], reactions,
                 list(parameters.items()), substance="item")
    doc = libsbml.readSBMLFromFile(str(path))
    for eid, trigger, assignments in events:
        e = doc.getModel().createEvent()
        e.setId(eid)
        e.setUseValuesFromTriggerTime(True)
        t = e.createTrigger()
        t.setMath(libsbml.parseL3Formula(trigger))
        t.setInitialValue(True)
        t.setPersistent(True)
        for variable, value in assignments:
            a = e.createEventAssignment()
            a.setVariable(variable)
            a.setMath(libsbml.parseL3Formula(value))
    path.write_text(libsbml.writeSBMLToString(doc))
    return path


def _z_two_sample(a, b):
    """Difference of means over its pooled standard error (a, b: samples along axis 0)."""
    se = np.sqrt(a.var(axis=0, ddof=1) / a.shape[0] + b.var(axis=0, ddof=1) / b.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, (a.mean(axis=0) - b.mean(axis=0)) / np.where(se > 0, se, 1), 0.0)


def test_birth_and_saturating_death_reach_the_exact_stationary_distribution(tmp_path):
    """Birth λ and a Michaelis–Menten death d(n) = V·n/(K + n) written in counts: the stationary law is
    π(n) ∝ Π_{m≤n} λ/d(m). The ensemble mean and variance at t = 30 s (≫ the relaxation time 1/d'(0) = 0.33 s)
    lie within 4.5 standard errors of the exact ones (SEs from the exact law: σ/√n and √((μ₄ − σ⁴)/n))."""
    lam, vmax, km = 20.0, 30.0, 10.0
    path = _counts_sbml(tmp_path, {"X": 0}, {"lam": lam, "V": vmax, "K": km},
                        [("birth", {}, {"X": 1}, "lam"), ("death", {"X": 1}, {}, "V * X / (K + X)")])
    n = np.arange(4000)
    log_ratio = np.concatenate([[0.0], np.cumsum(np.log(lam * (km + n[1:]) / (vmax * n[1:])))])
    p = np.exp(log_ratio - log_ratio.max())
    p /= p.sum()
    mean = p @ n
    var = p @ (n - mean) ** 2
    mu4 = p @ (n - mean) ** 4
    runs = 4000
    counts = fs.simulate(path, method="ssa", runs=runs, seed=7, t_eval=[0.0, 30.0])["count"].values[:, -1, 0]
    assert abs(counts.mean() - mean) < Z_MAX * np.sqrt(var / runs)
    assert abs(counts.var(ddof=1) - var) < Z_MAX * np.sqrt((mu4 - var ** 2) / runs)


def test_propensities_of_a_law_are_n_a_v_k_g_of_the_concentrations(tmp_path):
    """stochastic.propensities (the event estimate's fallback) gives N_A·V·k·E·S/(K_m + S) for the law reaction
    and the mass-action k·n for the other, at 500 S and 300 P molecules in 1 fL."""
    from fentonsim.problem import resolve_model
    from fentonsim.stochastic import build_problem, propensities

    network = resolve_model(_mechanism(tmp_path, ["S", "P"], SATURATING.format(law="E * mm([S], Km)")))
    problem = build_problem(network, network.rate_constants(), np.zeros(2), np.array([1.0]), 1e-15)
    per_molar = problem.molecules_per_molar
    s = 500 / per_molar
    expected = [per_molar * 2.0 * 5e-6 * s / (5e-6 + s), 0.2 * 300]
    np.testing.assert_allclose(propensities(problem, [500.0, 300.0]), expected, rtol=1e-12)


def test_a_michaelis_menten_model_follows_the_rate_equations_at_large_volume(tmp_path):
    """Law of large numbers: S ⇌ P with a Michaelis–Menten forward law in 10 fL (60,000 molecules). The SSA
    mean of S stays within 4.5 SE of the ODE at every output time (the O(1/N) system-size bias, ~2e-5
    relative, is far below the SE)."""
    path = _mechanism(tmp_path, ["S", "P"], SATURATING.format(law="E * mm([S], Km)"))
    t = np.linspace(0.0, 10.0, 6)
    ode = fs.simulate(path, t_eval=t, initial={"S": "10 uM"}, rtol=1e-10)["concentration"].values[:, 0]
    ssa = fs.simulate(path, method="ssa", runs=100, seed=3, t_eval=t, volume=1e-14, initial={"S": "10 uM"})
    conc = ssa["concentration"].values[:, :, 0]
    se = conc[:, 1:].std(axis=0, ddof=1) / np.sqrt(conc.shape[0])
    assert np.all(np.abs(conc[:, 1:].mean(axis=0) - ode[1:]) < Z_MAX * se)


def test_mass_action_written_as_a_law_has_the_distribution_of_mass_action(tmp_path):
    """A + B → C with g = [A][B] (general-law kernel) and as mass action (the mass-action SSA) from 30 and 20
    molecules: the means of C at five times agree within 4.5 pooled SE, as do the variances (two-sample z
    on the squared deviations)."""
    species = {"A": 1, "B": 1, "C": 2}
    reaction = """reactions:
  - id: R
    equation: A + B => C
    rate: {k: 6.0e7 M^-1 s^-1}
    ref: test
"""
    law = _mechanism(tmp_path, species, reaction.replace("    ref: test", '    law: "[A] * [B]"\n    ref: test'),
                     "law")
    plain = _mechanism(tmp_path, species, reaction, "plain")
    t = np.linspace(0.0, 2.0, 6)
    runs = dict(method="ssa", runs=4000, t_eval=t, volume=1e-15, initial={"A": 30 / 6.02214076e8,
                                                                               "B": 20 / 6.02214076e8})
    a = fs.simulate(law, seed=1, **runs)["count"].values[:, 1:, 2].astype(float)
    b = fs.simulate(plain, seed=2, **runs)["count"].values[:, 1:, 2].astype(float)
    assert np.all(np.abs(_z_two_sample(a, b)) < Z_MAX)
    assert np.all(np.abs(_z_two_sample((a - a.mean(axis=0)) ** 2, (b - b.mean(axis=0)) ** 2)) < Z_MAX)


def test_sbml_counts_law_and_state_event_fire_exactly(tmp_path):
    """The issue's SBML example in counts: P2 made at k·(100 − 2·P2) (the law evaluated on counts), and an
    event `P2 > 30` that takes 10 away and records P2 at its instant in M. The event fires the moment P2
    first exceeds 30 — M is exactly 31 in every run — and so P2 never shows more than 30."""
    path = _counts_sbml(tmp_path, {"P2": 0, "M": 0}, {"k": 0.05},
                        [("make", {}, {"P2": 1}, "k * (100 - 2 * P2)")],
                        [("cap", "P2 > 30", [("M", "P2"), ("P2", "P2 - 10")])])
    counts = fs.simulate(path, method="ssa", runs=200, seed=5, t_eval=np.linspace(0, 40, 81))["count"]
    p2 = counts.sel(species="P2").values
    marker = counts.sel(species="M").values
    assert p2.max() <= 30 and p2.min() >= 0
    fired = marker[:, -1] > 0
    assert fired.all() and np.all(marker[:, -1] == 31)


def test_a_law_negative_on_a_reachable_state_is_an_error_naming_the_reaction(tmp_path):
    """k·(10 − X) with X also made by another reaction turns negative once X > 10: a one-line SolverError
    naming the reaction and the value, never a clipped propensity."""
    path = _counts_sbml(tmp_path, {"X": 0}, {"k": 1.0},
                        [("capped", {}, {"X": 1}, "k * (10 - X)"), ("more", {}, {"X": 1}, "5")])
    with pytest.raises(SolverError, match=r"reaction `capped` has propensity -\d"):
        fs.simulate(path, method="ssa", runs=4, seed=1, t_end=20.0)


def test_a_law_positive_without_its_reactant_is_an_error_naming_both(tmp_path):
    """X → ∅ at a constant law k (positive at X = 0) would make X negative: refused naming reaction and species."""
    path = _counts_sbml(tmp_path, {"X": 3}, {"k": 1.0}, [("drain", {"X": 1}, {}, "k + 0 * X")])
    with pytest.raises(SolverError, match=r"reaction `drain` fired .* no `X` left"):
        fs.simulate(path, method="ssa", runs=2, seed=1, t_end=50.0)


#: S → P at 1 s⁻¹, then the events that follow it.
DECAY = """reactions:
  - id: D
    equation: S => P
    rate: {k: 1.0 s^-1}
    ref: test
events:
"""
#: Two events on S falling below 1 µM (a format template: `persistent` of the delayed one).
EVENTS = """  - id: lift
    trigger: "[S] < threshold"
    set: {{S: "[S] + dose", Q: "[S]", U: "time * rate"}}
    constants: {{threshold: 1 uM, dose: 10 uM, rate: 1 M/s}}
    priority: 2
  - id: late
    trigger: "[S] < threshold"
    set: {{W: "[W] + dose"}}
    constants: {{threshold: 1 uM, dose: 10 uM}}
    delay: 0.5 s
    priority: 1
    persistent: {persistent}
"""
SPECIES = ["S", "P", "Q", "U", "W"]


def test_a_state_event_fires_at_the_first_event_below_its_threshold(tmp_path):
    """`[S] < 1 µM` (60.2 molecules in 0.1 fL) fires the instant S reaches 60: the value recorded at the
    instant (Q) is exactly 60 molecules in every run, and S never shows below it."""
    path = _mechanism(tmp_path, SPECIES, DECAY + EVENTS.format(persistent="true"))
    counts = fs.simulate(path, method="ssa", runs=50, seed=2, t_eval=np.linspace(0, 10, 101), volume=1e-16,
                         initial={"S": "10 uM"})["count"]
    assert np.all(counts.sel(species="Q").values[:, -1] == 60)
    assert counts.sel(species="S").values.min() >= 60


def test_a_delayed_persistent_event_executes_its_delay_after_the_trigger(tmp_path):
    """`late` (delay 0.5 s) first changes W within the output step after U + 0.5 s, U being the instant `lift`
    recorded for the same crossing (time × 1 M/s in molecules), to the output grid's 10 ms."""
    path = _mechanism(tmp_path, SPECIES, DECAY + EVENTS.format(persistent="true"))
    t = np.linspace(0, 5, 501)
    ds = fs.simulate(path, method="ssa", runs=20, seed=4, t_eval=t, volume=1e-16, initial={"S": "10 uM"})
    per_molar = ds.attrs["molecules_per_molar"]
    counts = ds["count"]
    for run in range(20):
        w = counts.sel(species="W").values[run]
        first = int(np.argmax(w > 0))
        crossing = counts.sel(species="U").values[run, first] / per_molar  # s (rate 1 M/s)
        assert w[first] > 0 and t[first - 1] < crossing + 0.5 <= t[first] + 1e-7


def test_a_non_persistent_delayed_event_is_dropped_when_its_trigger_falls(tmp_path):
    """`lift` (higher priority, no delay) lifts S above the threshold at the very instant `late` is queued:
    non-persistent, `late` is dropped every time, so W stays 0; persistent, it executes (W > 0)."""
    kwargs = dict(method="ssa", runs=20, seed=4, t_end=10.0, volume=1e-16, initial={"S": "10 uM"})
    dropped = fs.simulate(_mechanism(tmp_path, SPECIES, DECAY + EVENTS.format(persistent="false"), "np"), **kwargs)
    kept = fs.simulate(_mechanism(tmp_path, SPECIES, DECAY + EVENTS.format(persistent="true"), "p"), **kwargs)
    assert np.all(dropped["count"].sel(species="W").values == 0)
    assert np.all(kept["count"].sel(species="W").values[:, -1] > 0)


@pytest.mark.parametrize("first, expected", [("add", 0), ("double", 1)])
def test_events_at_one_instant_execute_by_priority(tmp_path, first, expected):
    """Two events on the one crossing of `[P] > 1 µM` set W from 0: W + 10 µM, and 2·W, both valued at the
    trigger instant (SBML's useValuesFromTriggerTime), so the one executed last wins: highest priority first
    means add-then-double leaves 0 doses, double-then-add 1 (in molecules, ±1 for the rounding of 602.2)."""
    priorities = {"add": (2, 1), "double": (1, 2)}[first]
    body = DECAY + f"""  - id: add
    trigger: "[P] > threshold"
    set: {{W: "[W] + dose"}}
    constants: {{threshold: 1 uM, dose: 10 uM}}
    priority: {priorities[0]}
  - id: double
    trigger: "[P] > threshold"
    set: {{W: "[W] * two"}}
    constants: {{threshold: 1 uM, two: 2}}
    priority: {priorities[1]}
"""
    path = _mechanism(tmp_path, ["S", "P", "W"], body)
    w = fs.simulate(path, method="ssa", runs=10, seed=1, t_end=5.0, volume=1e-16,
                    initial={"S": "10 uM"})["count"].sel(species="W").values[:, -1]
    dose = 10e-6 * 6.02214076e7
    assert np.all(np.abs(w - expected * dose) <= expected + 1)


def test_an_event_setting_a_negative_count_is_an_error_naming_the_species(tmp_path):
    """An assignment [S] − 10 µM below the 1 µM threshold is refused at run time, naming S and the value."""
    path = _mechanism(tmp_path, ["S", "P"], DECAY + """  - id: overdraw
    trigger: "[S] < threshold"
    set: {S: "[S] - dose"}
    constants: {threshold: 1 uM, dose: 10 uM}
""")
    with pytest.raises(SolverError, match=r"an event sets `S` to -5\d\d(\.\d+)? molecules"):
        fs.simulate(path, method="ssa", runs=2, seed=1, t_end=10.0, volume=1e-16, initial={"S": "10 uM"})


def test_a_strict_time_trigger_fires_just_after_its_time(tmp_path):
    """`time > 2.5 s`: the output at 2.5 s is before the event (right-continuous paths, the trigger still
    false), the output at 2.5 s + 1 µs after it, with `time` at execution 2.5 s to the count's resolution."""
    path = _mechanism(tmp_path, ["S", "P", "T"], DECAY + """  - id: clock
    trigger: "time > t_on"
    set: {T: "time * rate"}
    constants: {rate: 1 M/s, t_on: 2.5 s}
""")
    ds = fs.simulate(path, method="ssa", runs=5, seed=1, t_eval=[0.0, 2.5, 2.500001, 4.0], volume=1e-16,
                     initial={"S": "10 uM"})
    marker = ds["count"].sel(species="T").values / ds.attrs["molecules_per_molar"]
    assert np.all(marker[:, 1] == 0)
    assert np.allclose(marker[:, 2:], 2.5, rtol=0, atol=2 / ds.attrs["molecules_per_molar"])


@st.composite
def law_networks(draw):
    """A random network over A, B, C: each reaction a Michaelis–Menten, Hill or mass-action conversion."""
    names = ["A", "B", "C"]
    lines = []
    for i in range(draw(st.integers(2, 5))):
        source, target = draw(st.permutations(names))[:2]
        kind = draw(st.sampled_from(["mm", "hill", "mass"]))
        k = draw(st.floats(0.1, 20.0))
        lines.append(f"  - id: R{i}\n    equation: {source} => {target}\n    ref: test\n    duplicate: true\n")
        if kind == "mass":
            lines.append(f"    rate: {{k: {k:.4g} s^-1}}\n")
        elif kind == "mm":
            lines.append(f"    rate: {{k: {k:.4g} s^-1}}\n    law: \"E * mm([{source}], K)\"\n"
                         f"    law-constants: {{E: 20 nM, K: {draw(st.floats(5, 500)):.4g} nM}}\n")
        else:
            n = draw(st.integers(2, 4))
            lines.append(f"    rate: {{k: {k:.4g} s^-1}}\n    law: \"E * hill([{source}], K, {n})\"\n"
                         f"    law-constants: {{E: 20 nM, K: {draw(st.floats(5, 500)):.4g} nM}}\n")
    initial = {n: f"{draw(st.integers(0, 300)) * 1e-9 / 0.602214076:.6g} M" for n in names}
    return "reactions:\n" + "".join(lines), initial


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_tau_leaping_never_makes_a_count_negative(tmp_path, data):
    """Tau-leaping random law networks from counts of 0–300 (where leaps are coarse and reactants run out):
    every run completes and no count is ever negative."""
    body, initial = data.draw(law_networks())
    path = _mechanism(tmp_path, ["A", "B", "C"], body, "random")
    ds = fs.simulate(path, method="tau-leap", runs=20, seed=data.draw(st.integers(0, 2 ** 32)),
                     t_eval=np.linspace(0, 5, 11), volume=1e-15, initial=initial, epsilon=0.1)
    assert np.all(ds["status"].values == 0)
    assert ds["count"].values.min() >= 0


def test_tau_leaping_agrees_with_the_ssa_means(tmp_path):
    """A Hill-law conversion S ⇌ P in 1 fL (6,000 molecules), 1,000 runs per method. Explicit tau-leaping is
    first-order: its mean is biased by O(ε) while the state moves (measured at t = 2 s: −19 molecules at
    ε = 0.03, −7 at 0.01; at 4 s −7 at 0.03; SE 1.3). So: once relaxed (t ≥ 6 s) the means at the default
    ε = 0.03 agree with the exact SSA's within 4.5 pooled SE, and at ε = 0.003 they agree at every time."""
    path = _mechanism(tmp_path, ["S", "P"], SATURATING.format(law="E * hill([S], Km, 2)"))
    kwargs = dict(runs=1000, t_eval=np.linspace(0, 10, 6), volume=1e-15, initial={"S": "10 uM"})
    exact = fs.simulate(path, method="ssa", seed=1, **kwargs)["count"].values[:, 1:, 0].astype(float)
    coarse = fs.simulate(path, method="tau-leap", seed=2, **kwargs)
    fine = fs.simulate(path, method="tau-leap", seed=3, epsilon=0.003, **kwargs)
    for leapt in (coarse, fine):
        assert leapt.attrs["method"] == "tau-leap" and leapt["n_events"].values.sum() > 0
    assert np.all(np.abs(_z_two_sample(exact[:, 2:], coarse["count"].values[:, 3:, 0].astype(float))) < Z_MAX)
    assert np.all(np.abs(_z_two_sample(exact, fine["count"].values[:, 1:, 0].astype(float))) < Z_MAX)


def test_what_the_stochastic_solvers_cannot_run_is_refused_by_name(tmp_path):
    """A trigger reading time other than against a constant, and the next-reaction method, are one-line
    ConditionsErrors."""
    path = _mechanism(tmp_path, ["S", "P"], DECAY + """  - id: wobble
    trigger: "[S] * sin(time / tau) > threshold"
    set: {S: "[S] + threshold"}
    constants: {tau: 1 s, threshold: 1 uM}
""")
    with pytest.raises(ConditionsError, match=r"a trigger of .* reads `time` other than"):
        fs.simulate(path, method="ssa", t_end=1.0, volume=1e-16, initial={"S": "10 uM"})
    law = _mechanism(tmp_path, ["S", "P"], """reactions:
  - id: D
    equation: S => P
    rate: {k: 1.0 s^-1}
    law: "[S]"
    ref: test
""", "nrm")
    with pytest.raises(ConditionsError, match="next-reaction.*direct method"):
        fs.simulate(law, method="ssa", ssa_algorithm="next-reaction", t_end=1.0, volume=1e-16,
                    initial={"S": "10 uM"})
