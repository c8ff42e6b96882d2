"""Stochastic core vs peers, side by side in one run.

Models: the shipped iron, copper and manganese mechanisms at tumour conditions
(pH 6.5, 37 °C; 100 µM metal, 100 µM H2O2; see bench_ode.MODELS) in V = 1e-14 L
(602,214 molecules each; 1e-15 L in quick mode) over 600 s with 61 output points
— about 9×10⁵ events per iron trajectory, 6.5×10⁷ per copper trajectory (Cu⁺/O2
redox cycling). It is exported to SBML with
molecule counts and propensities written out (``export_sbml(amounts=True)``),
so COPASI (basico, direct method), libRoadRunner (gillespie) and GillesPy2
(SSACSolver, C++) fire the same events. Peers are single-threaded, so
fentonsim is timed on one thread for the per-core ratio.

Before any ratio, each peer's ensemble mean of the final counts is compared
with fentonsim's: species above 1000 molecules must agree within 5 combined
standard errors (a fast wrong answer gets no ratio). Peers do not report event
counts; their events/s use fentonsim's mean events per trajectory on the same
model.

Also measured: 1 → 2 core speed-up of a 10,000-trajectory ensemble (smaller
volume, 1e-16 L), and tau-leaping vs SSA on A + B ⇌ C with every species
≥ 10⁴ molecules (steps and deviation of the mean from the ODE).
"""
from __future__ import annotations

import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import fentonsim
from fentonsim.constants import AVOGADRO
from fentonsim.sbml import export_sbml
from fentonsim.stochastic import build_problem, run_block

from .bench_ode import MODELS, catalyst_model

REPO = Path(__file__).resolve().parent.parent
VOLUME = 1e-14
#: Quick (CI) mode: ten times fewer molecules and events per trajectory, the same per-event work.
QUICK_VOLUME = 1e-15
T_END, N_POINTS = 600.0, 61


def _threads(n):
    import numba
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def _model(name="iron", volume=VOLUME):
    network, k, y0 = catalyst_model(name)
    nv = AVOGADRO * volume
    return network, k, np.round(y0 * nv) / nv, nv


def _ours(network, k, y0, runs, algorithm, volume=VOLUME, t_end=T_END):
    t = np.linspace(0.0, t_end, N_POINTS)
    problem = build_problem(network, k, y0, t, volume)
    run_block(problem, algorithm, 1, 0, 1, 0.03, 10 ** 9)  # compile / load
    _threads(1)
    try:
        start = time.perf_counter()
        counts, _, counters, _, _ = run_block(problem, algorithm, 12345, 0, runs, 0.03, 10 ** 9)
        seconds = time.perf_counter() - start
    finally:
        _threads(os.cpu_count() or 1)
    return counts[:, -1, :network.n_species].astype(float), float(counters[:, 0].sum()), seconds


#: Family-wise false-alarm rate of the agreement test (over the species compared).
FALSE_ALARM = 1e-4


def _agreement(final, reference):
    """(agrees, max t) between two ensembles' final means over the species above 1000 molecules.

    Under the hypothesis that both sample one distribution, each species' difference of means over its
    pooled standard error follows Student's t with n_a + n_b − 2 degrees of freedom. The quick benchmark
    compares 2 peer runs with 4 of fentonsim's: the peer's own variance from 2 runs (one degree of freedom)
    made the old z-score heavy-tailed, and it flagged a correct peer about once in tens of runs. The
    threshold is the t quantile for FALSE_ALARM spread over the species compared (Bonferroni).
    """
    from scipy.stats import t as student

    big = reference.mean(axis=0) > 1000
    n_a, n_b = reference.shape[0], final.shape[0]
    dof = max(n_a + n_b - 2, 1)
    pooled = ((n_a - 1) * reference[:, big].var(axis=0, ddof=1)
              + (max(n_b - 1, 0) * final[:, big].var(axis=0, ddof=1) if n_b > 1 else 0.0)) / dof
    se = np.sqrt(np.maximum(pooled, 1.0) * (1.0 / n_a + 1.0 / n_b))
    z = float(np.max(np.abs(final[:, big].mean(axis=0) - reference[:, big].mean(axis=0)) / se))
    threshold = float(student.ppf(1.0 - FALSE_ALARM / (2 * max(int(big.sum()), 1)), dof))
    return z <= threshold, z


def _peer_rows(network, xml, reference, events_per_run, baseline_rate, runs, gillespy=True, t_end=T_END):
    """Rows of COPASI, libRoadRunner and GillesPy2 running ``xml`` (molecule counts, species named as
    ``network.species`` and in their order) over ``t_end``, against fentonsim's ``reference`` final counts."""
    rows = []

    def add(case, finals, seconds, note=""):
        agrees, z = _agreement(finals, reference)
        rate = events_per_run * finals.shape[0] / seconds
        entry = {"case": case, "min_s": seconds / finals.shape[0], "median_s": seconds / finals.shape[0],
                 "agrees": agrees, "max_rel_deviation": z, "events_per_s": rate,
                 "note": f"{rate / 1e6:.2f} M events/s; agreement z = {z:.1f}" + (f"; {note}" if note else "")}
        if agrees:
            entry["speedup"] = baseline_rate / rate
            entry["ratio"] = f"{baseline_rate / rate:.2f}x fentonsim"
        rows.append(entry)

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "iron_amounts.xml")
        Path(path).write_text(xml)
        try:
            import basico
        except ImportError:
            rows.append({"case": "COPASI stochastic (basico, direct method)", "note": "not installed"})
        else:
            model = basico.load_model(path)
            finals, start = [], time.perf_counter()
            for _ in range(runs):
                # COPASI stops at 10⁶ internal steps by default; these models need up to ~10⁷ events.
                frame = basico.run_time_course(duration=t_end, intervals=N_POINTS - 1, model=model,
                                               method="directMethod", use_numbers=True, max_steps=10 ** 9)
                finals.append([frame[name].iloc[-1] for name in network.species])
            add("COPASI stochastic (basico, direct method)", np.array(finals), time.perf_counter() - start)
        try:
            import roadrunner
        except ImportError:
            rows.append({"case": "libRoadRunner gillespie", "note": "not installed"})
        else:
            rr = roadrunner.RoadRunner(xml)
            rr.setIntegrator("gillespie")
            rr.timeCourseSelections = ["time"] + list(rr.model.getFloatingSpeciesIds())
            finals, start = [], time.perf_counter()
            for seed in range(runs):
                rr.resetAll()
                rr.integrator.seed = seed + 1
                finals.append(np.array(rr.simulate(0.0, t_end, N_POINTS))[-1, 1:])
            add("libRoadRunner gillespie", np.array(finals), time.perf_counter() - start)
        try:
            if not gillespy:
                raise ModuleNotFoundError("skipped in quick mode (its C++ build takes longer than the budget)")
            import gillespy2
            from gillespy2 import SSACSolver
        except ImportError as exc:
            rows.append({"case": "GillesPy2 SSACSolver (C++)",
                         "note": "not installed" if "quick" not in str(exc) else str(exc)})
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model, _ = gillespy2.import_SBML(path)
                    model.timespan(np.linspace(0.0, t_end, N_POINTS))
                    solver = SSACSolver(model=model)  # compiles the C++ solver once, outside the timing
                    ids = [_sbml_name(name) for name in network.species]
                    start = time.perf_counter()
                    result = model.run(solver=solver, number_of_trajectories=runs, seed=1)
                    seconds = time.perf_counter() - start
                    finals = [[trajectory[sid][-1] for sid in ids] for trajectory in result]
            except Exception as exc:  # a peer that cannot build or run is a row, not a crashed benchmark run
                rows.append({"case": "GillesPy2 SSACSolver (C++)",
                             "note": f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"})
            else:
                add("GillesPy2 SSACSolver (C++)", np.array(finals), seconds,
                    f"{runs} trajectories in one call (one solver process)")
    return rows


def _sbml_name(name):
    from fentonsim.sbml.export import sbml_id
    return sbml_id(name, "s_", set())


def _scaling(network, k, quick):
    """1 → 2 core speed-up of a 10,000-trajectory ensemble (V = 1e-16 L, ~9×10³ events each)."""
    runs = 2000 if quick else 10_000
    y0 = network.initial_state(**{"Fe(II)": 1e-4, "H2O2": 1e-4})
    t = np.linspace(0.0, T_END, N_POINTS)
    problem = build_problem(network, k, y0, t, 1e-16)
    run_block(problem, "direct", 1, 0, 4, 0.03, 10 ** 9)
    times = {}
    for threads in (1, 2):
        _threads(threads)
        start = time.perf_counter()
        run_block(problem, "direct", 7, 0, runs, 0.03, 10 ** 9)
        times[threads] = time.perf_counter() - start
    _threads(os.cpu_count() or 1)
    return [{"case": f"ensemble of {runs}, 1 thread", "min_s": times[1], "median_s": times[1]},
            {"case": f"ensemble of {runs}, 2 threads", "min_s": times[2], "median_s": times[2],
             "ratio": f"{times[1] / times[2]:.2f}x speed-up", "note": f"{os.cpu_count()} cores on this machine"}]


def _tau_leap(quick):
    """A + B ⇌ C, every species ≥ 10⁴ molecules: SSA events vs tau-leaping steps; mean vs ODE."""
    text = """kind: mechanism
name: binding
units: {concentration: M, time: s, energy: kJ/mol, temperature: K, volume: L}
references:
  analytic: {citation: "benchmark network"}
species:
- {name: A, composition: {X: 1}, charge: 0}
- {name: B, composition: {Y: 1}, charge: 0}
- {name: C, composition: {X: 1, Y: 1}, charge: 0}
reactions:
- {id: T1, equation: A + B => C, rate: {k: 1e6 M^-1 s^-1}, ref: analytic}
- {id: T2, equation: C => A + B, rate: {k: 0.2 s^-1}, ref: analytic}
"""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "binding.yaml"
        path.write_text(text)
        network = fentonsim.compile_network(fentonsim.load_mechanism(path))
    volume = 1e5 / 1e-6 / AVOGADRO
    y0, k, t = np.array([1e-6, 1.5e-6, 0.5e-6]), np.array([1e6, 0.2]), np.linspace(0, 20.0, 5)
    ode = fentonsim.solve_ode(network, k, y0, t, rtol=1e-10, atol=1e-20).concentration
    exact = fentonsim.run_stochastic(network, k, y0, t, volume=volume, method="ssa", runs=2 if quick else 8, seed=1)
    leap = fentonsim.run_stochastic(network, k, y0, t, volume=volume, method="tau-leap", runs=20 if quick else 100,
                                    seed=1)
    events = exact.counters[0] / exact.runs
    steps = (leap.counters[1] + leap.counters[2]) / leap.runs
    mean = leap.counts.mean(axis=0) * 1.0 / leap.molecules_per_molar
    deviation = float(np.max(np.abs(mean[1:] - ode[1:]) / ode[1:]))
    return [{"case": "tau-leaping, A + B <=> C, counts >= 1e4", "min_s": leap.wall_time_s / leap.runs,
             "median_s": leap.wall_time_s / leap.runs, "ratio": f"{events / steps:.0f}x fewer steps",
             "note": f"SSA {events:.3g} events vs {steps:.3g} steps per run; mean within "
                     f"{100 * deviation:.2f} % of the ODE; min count {leap.counts.min()}"}]


def run(quick: bool = False) -> list[dict]:
    rows = []
    for name in MODELS:
        rows += [{**row, "case": f"{name}: {row['case']}"} for row in _catalyst(name, quick)]
    network, k, _, _ = _model("iron")
    rows += _scaling(network, k, quick)
    rows += _tau_leap(quick)
    return rows


def _catalyst(name, quick):
    volume = QUICK_VOLUME if quick else VOLUME
    network, k, y0, nv = _model(name, volume)
    ours_runs = 4 if quick else 20
    rows = []
    finals, events, seconds = _ours(network, k, y0, ours_runs, "direct", volume)
    rate = events / seconds
    rows.append({"case": "fentonsim SSA direct (1 thread)", "min_s": seconds / ours_runs,
                 "median_s": seconds / ours_runs, "events_per_s": rate,
                 "note": f"{rate / 1e6:.2f} M events/s, {events / ours_runs:.3g} events per run"})
    nrm_finals, nrm_events, nrm_seconds = _ours(network, k, y0, ours_runs, "next-reaction", volume)
    nrm_rate = nrm_events / nrm_seconds
    agrees, z = _agreement(nrm_finals, finals)
    rows.append({"case": "fentonsim SSA next-reaction (1 thread)", "min_s": nrm_seconds / ours_runs,
                 "median_s": nrm_seconds / ours_runs, "agrees": agrees, "max_rel_deviation": z,
                 "events_per_s": nrm_rate, "note": f"{nrm_rate / 1e6:.2f} M events/s"})
    xml = export_sbml(network, k, y0, volume=volume, pH=6.5, temperature=310.15, amounts=True)
    rows += _peer_rows(network, xml, finals, events / ours_runs, rate, 2 if quick else 5, gillespy=not quick)
    return rows
