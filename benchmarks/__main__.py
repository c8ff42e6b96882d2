"""Run the benchmarks side by side with the peer simulators and print a table of ratios.

    python -m benchmarks                      # everything (about 10 minutes here)
    python -m benchmarks --quick --check      # CI mode (about 2 minutes): fail on a ratio regression
    python -m benchmarks --only ode --json out.json --plots DIR

Ratios, never absolute times, are what to compare between machines (benchmarks/thresholds.py).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

from . import (bench_compartments, bench_fit, bench_growth, bench_laws, bench_memory, bench_ode, bench_rate_constants,
               bench_run_path, bench_sensitivity, bench_ssa, bench_ssa_compartments, bench_ssa_scaling, bench_sweep)
from .thresholds import check

BENCHMARKS = {"rate_constants": bench_rate_constants.run, "ode": bench_ode.run, "ssa": bench_ssa.run,
              "ssa_scaling": bench_ssa_scaling.run, "sweep": bench_sweep.run, "memory": bench_memory.run,
              "growth": bench_growth.run, "run_path": bench_run_path.run, "fit": bench_fit.run, "laws": bench_laws.run,
              "sensitivity": bench_sensitivity.run, "compartments": bench_compartments.run,
              "ssa_compartments": bench_ssa_compartments.run}
VERSIONED = ("fentonsim", "numpy", "scipy", "numba", "xarray", "roadrunner", "basico", "COPASI", "gillespy2",
             "dask", "distributed")


def _versions() -> dict:
    out = {}
    for name in VERSIONED:
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a peer that fails to import is simply absent
            out[name] = "not installed"
            continue
        out[name] = str(getattr(module, "__version__", "unknown"))
    return out


def _line(name, row) -> str:
    timing = f"{row['median_s'] * 1e3:10.3f} ms" if "median_s" in row else " " * 13
    agreement = "" if "agrees" not in row else ("agrees" if row["agrees"] else "DISAGREES")
    return f"{name:<14} {row['case']:<58} {timing}   {row.get('ratio', ''):<34} {agreement:<9} {row.get('note', '')}"


def markdown(results: dict) -> str:
    lines = [f"# Benchmark results ({results['mode']} mode)", "",
             f"Machine: {results['machine']['platform']}, {results['machine']['cores']} cores, Python "
             f"{results['machine']['python']}; " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()),
             f"Run: {results['started']}, {results['wall_time_s']:.0f} s.", "",
             "| benchmark | case | median | ratio | agreement | note |", "|---|---|---|---|---|---|"]
    for name, rows in results["benchmarks"].items():
        for row in rows:
            median = f"{row['median_s'] * 1e3:.3f} ms" if "median_s" in row else ""
            agreement = "" if "agrees" not in row else ("agrees" if row["agrees"] else "DISAGREES")
            lines.append(f"| {name} | {row['case']} | {median} | {row.get('ratio', '')} | {agreement} | "
                         f"{row.get('note', '')} |")
    if results.get("check"):
        lines += ["", "Regression check: " + ("passed" if not results["check"] else "; ".join(results["check"]))]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and sizes (CI mode)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    parser.add_argument("--plots", metavar="DIR", help="write growth.png (needs the growth benchmark)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a ratio misses its threshold (benchmarks/thresholds.py)")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these benchmarks")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = {"mode": "quick" if args.quick else "full", "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                           "processor": platform.processor(), "cores": os.cpu_count()},
               "versions": _versions(), "benchmarks": {}}
    only = args.only or [name for name in BENCHMARKS if not (args.quick and name == "growth" and not args.plots)]
    for name in only:
        results["benchmarks"][name] = BENCHMARKS[name](quick=args.quick)
        for row in results["benchmarks"][name]:
            print(_line(name, row), flush=True)
    results["wall_time_s"] = time.perf_counter() - start
    failures = check(results) if args.check else []
    results["check"] = failures if args.check else None
    if args.plots and "growth" in results["benchmarks"]:
        from .plots import write_growth_plots
        Path(args.plots).mkdir(parents=True, exist_ok=True)
        print(f"wrote {write_growth_plots(bench_growth.series, args.plots)}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float), encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(markdown(results), encoding="utf-8")
    print(f"benchmarks: {results['wall_time_s']:.0f} s")
    if args.check:
        for failure in failures:
            print(f"REGRESSION: {failure}", file=sys.stderr)
        print("regression check: " + ("passed" if not failures else f"{len(failures)} failed"))
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
