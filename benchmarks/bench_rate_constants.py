"""Effective rate constants for many (pH, T) conditions: one vectorised call
versus one call per condition, on the shipped iron mechanism."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from fentonsim import compile_network, load_mechanism

MECHANISM = Path(__file__).resolve().parent.parent / "mechanisms" / "iron.yaml"


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(quick: bool = False) -> list[dict]:
    net = compile_network(load_mechanism(MECHANISM))
    n = 1000 if quick else 10_000
    pH = np.linspace(3, 9, n)
    T = np.full(n, 310.15)
    repeats = 3 if quick else 7
    vectorised = _median_time(lambda: net.rate_constants(pH=pH, temperature=T), repeats)
    loop_n = min(n, 1000)
    looped = _median_time(lambda: [net.rate_constants(pH=p, temperature=310.15) for p in pH[:loop_n]], repeats)
    looped *= n / loop_n
    return [
        {"case": f"vectorised, {n} conditions", "median_s": vectorised},
        {"case": f"one call per condition, {n} (extrapolated)", "median_s": looped,
         "ratio": f"vectorised is {looped / vectorised:.0f}x faster"},
    ]
