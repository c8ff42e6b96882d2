"""Where the default exact SSA algorithm switches from the direct to the next-reaction method.

Generated mass-action networks of 10 to 1,280 reactions: n_r/2 species, each
reaction a conversion A → B or a bimolecular exchange A + B → C + D between
random species (molecule-conserving, so runs never die out), 1,000 molecules
per species. Each algorithm fires 200,000 events on one thread (fixed seed);
the table reports events/s and the ratio next-reaction / direct. The rule in
``fentonsim.stochastic.choose_ssa_algorithm`` (direct up to
DIRECT_MAX_REACTIONS) should sit where the ratio crosses 1.
"""
from __future__ import annotations

import os
import time

import numpy as np

from fentonsim.stochastic import DIRECT_MAX_REACTIONS, StochasticProblem, dependency_graph, run_block

SIZES = (10, 20, 40, 80, 160, 320, 640, 1280)
EVENTS = 200_000


def generated_problem(n_reactions: int, seed: int = 0) -> StochasticProblem:
    rng = np.random.default_rng(seed)
    n_x = max(n_reactions // 2, 4)
    reactant_idx = np.zeros((n_reactions, 3), dtype=np.int64)
    reactant_coef = np.zeros_like(reactant_idx)
    changes = np.zeros((n_reactions, n_x), dtype=np.int64)
    c = np.empty(n_reactions)
    for j in range(n_reactions):
        a, b, p, q = rng.choice(n_x, 4, replace=False)
        if rng.random() < 0.5:
            reactant_idx[j, 0], reactant_coef[j, 0] = a, 1
            changes[j, a] -= 1
            changes[j, p] += 1
            c[j] = rng.uniform(0.5, 2.0)
        else:
            reactant_idx[j, :2], reactant_coef[j, :2] = (a, b), 1
            changes[j, [a, b]] -= 1
            changes[j, [p, q]] += 1
            c[j] = rng.uniform(0.5, 2.0) / 1000
    change_ptr = np.concatenate([[0], np.cumsum(np.count_nonzero(changes, axis=1))]).astype(np.int64)
    rows, cols = np.nonzero(changes)
    dep_ptr, dep_idx = dependency_graph(reactant_idx, reactant_coef, change_ptr, cols.astype(np.int64))
    slot_idx = np.full((n_reactions, 3), n_x, dtype=np.int64)
    slot_idx[:, :2] = np.where(reactant_coef[:, :2] > 0, reactant_idx[:, :2], n_x)
    t_out = np.array([0.0, 1e9])
    return StochasticProblem(
        n_species=n_x, n_reactions=n_reactions, volume=1.0, molecules_per_molar=1.0, c=c,
        window_start=np.full(n_reactions, -np.inf), window_stop=np.full(n_reactions, np.inf),
        reactant_idx=reactant_idx, reactant_coef=reactant_coef, slot_idx=slot_idx,
        slot_off=np.zeros((n_reactions, 3)), change_ptr=change_ptr, change_idx=cols.astype(np.int64),
        change_val=changes[rows, cols].astype(np.int64), dep_ptr=dep_ptr, dep_idx=dep_idx,
        hor_order=reactant_coef.sum(axis=1).max(initial=0) * np.ones(n_x, dtype=np.int64),
        hor_coef=np.ones(n_x, dtype=np.int64), x0_mean=np.full(n_x, 1000.0), t0=0.0, t_out=t_out,
        stops=np.array([1e9]), bolus_time=np.zeros(0), bolus_species=np.zeros(0, dtype=np.int64),
        bolus_count=np.zeros(0), inputs=None)


def events_per_second(problem, algorithm, repeats=3):
    run_block(problem, algorithm, 1, 0, 1, 0.03, 1000)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        _, _, counters, _, _ = run_block(problem, algorithm, 1, 0, 1, 0.03, EVENTS)
        best = min(best, time.perf_counter() - start)
    return counters[0, 0] / best


def run(quick: bool = False) -> list[dict]:
    import numba

    numba.set_num_threads(1)
    rows = []
    try:
        for size in SIZES[:5] if quick else SIZES:
            problem = generated_problem(size)
            direct = events_per_second(problem, "direct")
            nrm = events_per_second(problem, "next-reaction")
            mean_dependents = float(np.diff(problem.dep_ptr).mean())
            rows.append({"case": f"{size} reactions ({mean_dependents:.1f} dependents/event)",
                         "ratio": f"{nrm / direct:.2f}x NRM/direct",
                         "note": f"direct {direct / 1e6:.2f}, next-reaction {nrm / 1e6:.2f} M events/s; default "
                                 f"{'direct' if size <= DIRECT_MAX_REACTIONS else 'next-reaction'}"})
    finally:
        numba.set_num_threads(os.cpu_count() or 1)
    return rows
