"""``fentonsim sweep``: a grid of conditions from the command line (fentonsim.sweep does the work).

    fentonsim sweep iron --ph 4:8:0.05 --h2o2 10uM,100uM --conditions tme --out sweep.nc
    fentonsim sweep iron copper --ph 5:8:0.5 --backend dask --scheduler tcp://10.0.0.5:8786 --store run1/

Grid axes come from --ph, --temperature, --h2o2, --gsh and repeatable --grid NAME=VALUES (any grid key of
fentonsim.sweep: a species, `buffered:O2`, `rate:F1`). VALUES is START:STOP:STEP of plain numbers in
canonical units (stop included) or a comma list whose values may carry units. The result is written as NetCDF; a summary line reports the timing.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .cli_args import EXIT_OK, input_files, number_or_quantity, seed
from .errors import ConditionsError
from .sweep import BACKENDS, parse_range, sweep
from .sweep_store import netcdf3_bytes
from .validity import validity_warnings


def _grid_item(text: str) -> tuple:
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise argparse.ArgumentTypeError(f"`--grid` expects NAME=VALUES (e.g. 'GSH=0,1mM,10mM'), found `{text}`")
    return name.strip(), values.strip()


#: Seconds to wait for a Dask scheduler to answer before calling the address wrong (dask's default is 30).
SCHEDULER_TIMEOUT_S = 5


def add_sweep_parser(sub) -> None:
    parser = sub.add_parser(
        "sweep", help="run a grid of conditions (pH, H2O2, GSH, ...) and write NetCDF",
        description="Sweep MODEL(s) over a grid of conditions; ·OH metrics (or full time courses) per condition "
                    "are written to a NetCDF file. Backends: batch (in process, all cores), process, dask.")
    parser.add_argument("models", nargs="+", metavar="MODEL",
                        help="catalyst (iron, copper, manganese, FILE.yaml:SPECIES) or mechanism file(s)")
    parser.add_argument("--ph", help="pH values, e.g. 4:8:0.05 or 6.5,7.4")
    parser.add_argument("--temperature", help="temperatures in K, e.g. 298.15,310.15")
    parser.add_argument("--h2o2", help="initial H2O2 values, e.g. '1e-5,1e-4' (M)")
    parser.add_argument("--gsh", help="initial GSH values, e.g. 0,1e-3,1e-2 (M)")
    parser.add_argument("--grid", type=_grid_item, action="append", metavar="NAME=VALUES",
                        help="another axis: a species, buffered:NAME or rate:ID (repeatable)")
    parser.add_argument("--conditions", help="preset under every point (tme, normal, lysosome or a file)")
    parser.add_argument("--dose", default="20 uM", help="metal dose of catalyst models (default 20 uM)")
    parser.add_argument("--method", choices=("ode", "ssa", "tau-leap", "auto"), default="ode")
    parser.add_argument("--runs", type=int, default=20, help="trajectories per condition (stochastic)")
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--t-end", default="1 h", help="simulated time (default 1 h)")
    parser.add_argument("--n-points", type=int, default=61)
    parser.add_argument("--full", action="store_true", help="keep time courses, not only metrics")
    parser.add_argument("--backend", choices=BACKENDS, default="batch")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler to use (backend dask)")
    parser.add_argument("--workers", type=int, help="workers of the process pool or local Dask cluster")
    parser.add_argument("--chunk-size", type=int, help="conditions per task (default 256)")
    parser.add_argument("--store", metavar="DIR", help="directory that makes the sweep resumable")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no summary line (warnings are still printed)")
    parser.add_argument("--verbose", action="store_true",
                        help="log what fentonsim and Dask's scheduler and workers do (INFO lines on stderr)")
    parser.add_argument("--out", required=True, metavar="FILE.nc", help="output NetCDF file")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out file that fentonsim did not write")
    parser.set_defaults(run=cmd_sweep)


def cmd_sweep(args) -> int:
    from .tables import atomic_output, check_output

    check_output(args.out, inputs=input_files(args.models, args.conditions), overwrite=args.overwrite)
    if args.store is not None and Path(args.store).resolve() == Path(args.out).resolve():
        raise ConditionsError(f"`--out {args.out}` is the `--store` directory; give the output another name")
    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(levelname)s: %(message)s")
        logging.getLogger("fentonsim").setLevel(logging.INFO)
    grid = {}
    for flag, key in (("ph", "pH"), ("temperature", "temperature"), ("h2o2", "H2O2"), ("gsh", "GSH")):
        text = getattr(args, flag)
        if text is not None:
            grid[key] = [number_or_quantity(v) if isinstance(v, str) else v for v in parse_range(text)]
    for name, text in args.grid or []:
        grid[name] = [number_or_quantity(v) if isinstance(v, str) else v for v in parse_range(text)]
    if not grid:
        raise ConditionsError("give at least one grid axis (--ph, --temperature, --h2o2, --gsh or --grid)")
    client = None
    if args.scheduler:
        if args.backend != "dask":
            raise ConditionsError("`--scheduler` needs `--backend dask`")
        try:
            from dask.distributed import Client
        except ImportError:
            raise ConditionsError("--backend dask needs dask.distributed: pip install -e '.[distributed]'") from None
        try:
            client = Client(args.scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:  # unreachable, refused, or not an address
            raise ConditionsError(f"`--scheduler {args.scheduler}`: no Dask scheduler answered within "
                                  f"{SCHEDULER_TIMEOUT_S} s ({type(exc).__name__}); check the address and that "
                                  "the scheduler is running") from None
    models = args.models if len(args.models) > 1 else args.models[0]
    try:
        result = sweep(models, grid, method=args.method, conditions=args.conditions,
                       dose=number_or_quantity(args.dose), t_end=number_or_quantity(args.t_end),
                       n_points=args.n_points, output="full" if args.full else "metrics", runs=args.runs,
                       seed=args.seed, backend=args.backend, client=client, n_workers=args.workers,
                       chunk_size=args.chunk_size, store=args.store, progress=False if args.no_progress or args.quiet else None)
    finally:
        if client is not None:
            client.close()
    content = netcdf3_bytes(result)
    with atomic_output(args.out, binary=True) as fh:
        fh.write(content)
    attrs = result.attrs
    failed = int((result["status"].values != 0).sum())
    if not args.quiet:
        print(f"wrote {args.out}: {attrs['n_conditions']} conditions ({' × '.join(f'{d} {n}' for d, n in result['status'].sizes.items())}), "
              f"{attrs['method']}, {attrs['backend']} backend, {attrs['n_chunks']} chunks, {attrs['wall_time_s']:.2f} s"
              + (f", {failed} failed" if failed else ""), file=sys.stdout)
    for line in validity_warnings(result):  # yield laws outside their measured range (fentonsim.validity)
        print(f"warning: {line}", file=sys.stdout)
    return EXIT_OK
