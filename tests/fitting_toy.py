"""A small network with known constants and synthetic time courses of it, for the fitting tests.

A + B → C (R1), C → D (R2), 2 C → E (R3, tabulated as 2k = 100, so k = 50 in r = k·Π[c]^ν), A → F (R4):
four constants that three experiments with different A0/B0 determine from A(t) and D(t).
"""
from __future__ import annotations

import numpy as np

import fentonsim as fs
from fentonsim.fitting import Experiment, FitSpec, Observable, Parameter

MECHANISM = """kind: mechanism
name: toyfit
units: {concentration: M, time: s, energy: kJ/mol, temperature: K, volume: L}
references:
  synthetic: {citation: "synthetic test network"}
species:
- {name: A, composition: {X: 1}, charge: 0}
- {name: B, composition: {Y: 1}, charge: 0}
- {name: C, composition: {X: 1, Y: 1}, charge: 0}
- {name: D, composition: {X: 1, Y: 1}, charge: 0}
- {name: E, composition: {X: 2, Y: 2}, charge: 0}
- {name: F, composition: {X: 1}, charge: 0}
reactions:
- {id: R1, equation: A + B => C, rate: {k: 50}, ref: synthetic, uncertainty: {factor: 2}}
- {id: R2, equation: C => D, rate: {k: 0.01}, ref: synthetic, uncertainty: {range: [0.005, 0.02]}}
- {id: R3, equation: 2 C => E, rate: {k: 100}, ref: synthetic, tabulated-as: 2k, uncertainty: {factor: 3}}
- {id: R4, equation: A => F, rate: {k: 0.001}, ref: synthetic, uncertainty: {log10-sd: 0.3}}
"""
#: The constants in the r = k·Π[c]^ν convention (R3 is half its tabulated 2k).
TRUE = {"R1": 50.0, "R2": 0.01, "R3": 50.0, "R4": 0.001}
INITIAL = ({"A": 1e-4, "B": 2e-4}, {"A": 2e-4, "B": 1e-4}, {"A": 5e-5, "B": 5e-4})


def write_mechanism(directory) -> str:
    path = directory / "toy.yaml"
    path.write_text(MECHANISM)
    return str(path)


def clean(model, times, initial, rates=None, observed=("A", "D")):
    """Noise-free concentrations [M] of ``observed`` at ``times`` [s]."""
    ds = fs.simulate(model, t_eval=list(times), initial=initial, rates=rates, rtol=1e-10)
    return {name: ds.concentration.sel(species=name).values.copy() for name in observed}


def spec(model, times=np.linspace(0, 600, 13), noise=0.0, seed=0, sigma=None, starts=None, rates=None,
         parameters=None):
    """A FitSpec of the three experiments (A and D observed), with Gaussian noise of sd ``noise`` [M]."""
    rng = np.random.default_rng(seed)
    experiments = []
    for i, initial in enumerate(INITIAL):
        data = clean(model, times, initial, rates)
        data = {k: v + noise * rng.standard_normal(v.size) for k, v in data.items()}
        experiments.append(Experiment(f"e{i}", np.asarray(times, float), data, initial=dict(initial)))
    observables = {"A": Observable("A", (("A", 1.0),), sigma=sigma), "D": Observable("D", (("D", 1.0),), sigma=sigma)}
    starts = starts or {"R1": 20.0, "R2": 0.03, "R3": 20.0, "R4": 0.003}
    parameters = parameters or tuple(Parameter(f"rate:{rid}", TRUE[rid] / 100, TRUE[rid] * 100, start=starts[rid])
                                     for rid in TRUE)
    return FitSpec(model, observables, tuple(parameters), tuple(experiments), rtol=1e-8)


def write_spec(directory, model_name="toy.yaml", noise=0.0, seed=0):
    """The same fit as files: a spec YAML and three CSVs (time in min, concentrations in µM)."""
    model = str(directory / model_name)
    times = np.linspace(0, 600, 13)
    rng = np.random.default_rng(seed)
    entries = []
    for i, initial in enumerate(INITIAL):
        data = clean(model, times, initial)
        lines = ["# synthetic", "time [min], A [uM], D [uM]"]
        for t, a, d in zip(times, data["A"], data["D"]):
            a, d = a + noise * rng.standard_normal(), d + noise * rng.standard_normal()
            lines.append(f"{float(t) / 60!r}, {float(a) * 1e6!r}, {float(d) * 1e6!r}")
        (directory / f"e{i}.csv").write_text("\n".join(lines) + "\n")
        entries.append(f"- {{name: e{i}, data: e{i}.csv, initial: {{A: {initial['A']} M, B: {initial['B']} M}}}}")
    text = "\n".join([
        "kind: fit", f"model: {model_name}",
        "observables:", "  A: {species: A}", "  D: {species: D}",
        "parameters:",
        "  R1: {bounds: [1, 1000], start: 20}",
        "  R2: {bounds: [1e-4, 1 s^-1], start: 0.03}",
        "  R3: {bounds: [1, 1e4], start: 20}",
        "  R4: {bounds: [1e-5, 0.1], start: 0.003}",
        "experiments:", *entries]) + "\n"
    path = directory / "spec.yaml"
    path.write_text(text)
    return path
