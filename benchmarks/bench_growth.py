"""How cost grows with work, for the plots: simulated time, molecule count (volume), number of reactions.

- ODE (iron, tme): warm solve time against t_end from 1 min to 10 h.
- SSA (iron, pH 6.5): events/s and time per trajectory against volume 1e-16 … 1e-14 L (60 … 6×10⁴
  molecules per 100 µM) — the event count grows with the molecules, the rate per event should not.
- SSA on generated networks (benchmarks.bench_ssa_scaling): events/s of the direct and next-reaction
  methods against the number of reactions.

``run`` returns table rows; ``series`` keeps the raw points for benchmarks.plots.
"""
from __future__ import annotations

import time

import numpy as np

import fentonsim
from fentonsim.stochastic import build_problem, run_block

from .bench_ode import catalyst_model
from .bench_ssa_scaling import SIZES, events_per_second, generated_problem

series: dict = {}


def run(quick: bool = False) -> list[dict]:
    network, k, y0 = catalyst_model("iron")
    rows = []
    t_ends = [60.0, 600.0, 3600.0] if quick else [60.0, 300.0, 1200.0, 3600.0, 14400.0, 36000.0]
    ode = []
    for t_end in t_ends:
        t = np.linspace(0.0, t_end, 61)
        fentonsim.solve_ode(network, k, y0, t, rtol=1e-8, atol=1e-14)
        start = time.perf_counter()
        solution = fentonsim.solve_ode(network, k, y0, t, rtol=1e-8, atol=1e-14)
        seconds = time.perf_counter() - start
        ode.append((t_end, seconds, solution.counters["n_steps"]))
        rows.append({"case": f"ODE iron, t_end {t_end:g} s", "min_s": seconds, "median_s": seconds,
                     "note": f"{solution.counters['n_steps']} steps"})
    series["ode_time"] = ode
    ssa = []
    for volume in ([1e-16, 1e-15] if quick else [1e-16, 3e-16, 1e-15, 3e-15, 1e-14]):
        t = np.linspace(0.0, 60.0, 7)
        problem = build_problem(network, k, y0, t, volume)
        run_block(problem, "direct", 1, 0, 1, 0.03, 10 ** 9)
        start = time.perf_counter()
        _, _, counters, _, _ = run_block(problem, "direct", 3, 0, 8, 0.03, 10 ** 9)
        seconds = time.perf_counter() - start
        events = float(counters[:, 0].sum())
        ssa.append((volume, seconds / 8, events / 8, events / seconds))
        rows.append({"case": f"SSA iron, V = {volume:g} L", "min_s": seconds / 8, "median_s": seconds / 8,
                     "note": f"{events / 8:.3g} events per run, {events / seconds / 1e6:.2f} M events/s "
                             "(2 threads)"})
    series["ssa_volume"] = ssa
    import os
    from fentonsim._jit import set_threads
    set_threads(1)
    try:
        scaling = []
        for size in SIZES[:4] if quick else SIZES:
            problem = generated_problem(size)
            scaling.append((size, events_per_second(problem, "direct", 2),
                            events_per_second(problem, "next-reaction", 2)))
    finally:
        set_threads(os.cpu_count() or 1)
    series["reactions"] = scaling
    return rows
