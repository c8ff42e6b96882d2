"""Peak memory of a large ensemble: streaming statistics against stored trajectories.

Each case runs in a fresh process (so earlier allocations do not count) and reports how far its resident
set size rises above the loaded process during the run (sampled every 5 ms; Linux /proc): the shipped iron mechanism in a lysosome-sized 0.1 fL at pH 5 (~60 molecules of each reactant),
10⁵ trajectories (10⁴ in quick mode) of 60 s with 61 output points. Streaming keeps mean, sd and three P²
quantiles per time point, so its memory should not grow with the number of trajectories; stored
trajectories need runs × times × species × 16 bytes (counts and concentrations).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = """
import sys, threading, time, fentonsim as fs

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20

runs, stats = int(sys.argv[1]), sys.argv[2] == "stats"
model = fs.compile_network(fs.load_mechanism({path!r}))
fs.simulate(model, "ssa", conditions="lysosome", initial={{"Fe+2": "100 uM"}}, runs=64, t_end=60, n_points=61,
            stats=stats)  # load compiled code first so both cases start from the same footprint
base = rss_mb()
peak, running = [base], [True]

def watch():  # the kernel allocates outside Python's allocator, so sample the resident set instead
    while running[0]:
        peak[0] = max(peak[0], rss_mb())
        time.sleep(0.005)

watcher = threading.Thread(target=watch)
watcher.start()
ds = fs.simulate(model, "ssa", conditions="lysosome", initial={{"Fe+2": "100 uM"}}, runs=runs, t_end=60,
                 n_points=61, stats=stats, seed=1)
peak[0] = max(peak[0], rss_mb())
running[0] = False
watcher.join()
print(base, peak[0], ds.attrs["n_events"])
"""


def _peak(runs, stats):
    code = SCRIPT.format(path=str(REPO / "mechanisms" / "iron.yaml"))
    out = subprocess.run([sys.executable, "-c", code, str(runs), "stats" if stats else "store"],
                         capture_output=True, text=True, check=True)
    base, peak, events = out.stdout.split()
    return float(base), float(peak), int(events)


def run(quick: bool = False) -> list[dict]:
    runs = 10_000 if quick else 100_000
    rows = []
    results = {}
    for label, stats in (("streaming statistics", True), ("stored trajectories", False)):
        base, peak, events = _peak(runs, stats)
        results[label] = peak - base
        rows.append({"case": f"{runs:,} trajectories, {label}", "peak_MB": peak, "growth_MB": peak - base,
                     "note": f"peak RSS {peak:.0f} MB, {peak - base:.0f} MB above the loaded process; "
                             f"{events:,} events"})
    rows[-1]["ratio"] = (f"{results['stored trajectories'] / max(results['streaming statistics'], 1.0):.1f}x "
                         "the streaming growth")
    return rows
