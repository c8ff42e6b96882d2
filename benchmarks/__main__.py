"""Run every benchmark module and print a table of ratios."""
from __future__ import annotations

import argparse
import json
import platform
import sys

from . import bench_ode, bench_rate_constants, bench_ssa, bench_ssa_scaling, bench_sweep

BENCHMARKS = {"rate_constants": bench_rate_constants.run, "ode": bench_ode.run, "ssa": bench_ssa.run,
              "ssa_scaling": bench_ssa_scaling.run, "sweep": bench_sweep.run}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI mode)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these benchmarks")
    args = parser.parse_args(argv)
    results = {"machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                           "processor": platform.processor()}, "benchmarks": {}}
    for name, run in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        results["benchmarks"][name] = run(quick=args.quick)
        for row in results["benchmarks"][name]:
            timing = f"{row['median_s'] * 1e3:10.3f} ms" if "median_s" in row else " " * 13
            agreement = "" if "agrees" not in row else ("agrees" if row["agrees"] else "DISAGREES")
            print(f"{name:<16} {row['case']:<48} {timing}   {row.get('ratio', ''):<18} {agreement:<9} "
                  f"{row.get('note', '')}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
