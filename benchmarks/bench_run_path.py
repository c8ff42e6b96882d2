"""The run path (fentonsim.problem) against the solver alone and against libRoadRunner, side by side.

1. Warm ``simulate()`` of iron + glutathione at the tme preset from a path, from a Mechanism and from a
   compiled Network: the path and the Mechanism hit the compile cache, so their ratio to the Network should
   be ≈ 1 (issue target ≤ 1.3).
2. End to end on one SBML model (the iron mechanism at pH 6.5, 37 °C, exported by fentonsim): ``simulate(path)``
   — the whole result Dataset with fluxes, the metric grid and provenance — and ``simulate(path, fluxes=False)``
   against ``RoadRunner.simulate`` on the same file and output grid, with default tolerances on both
   sides (rtol 1e-6). The final states must agree before a ratio counts.
3. Rate constants as data: Latin-hypercube samples of the contested constants of iron and copper at two pH
   values, run as ``uncertainty.propagate`` does (every sample a row of k, one batched solve per catalyst)
   against recompiling a network per sample (``with_rates`` + ``compile_network`` + ``simulate``, the path
   before fentonsim.problem). Both must give the same metric.

Ratios: peer (or old path) time / fentonsim time, > 1 is fentonsim faster; for (1) the ratio is path time /
Network time, ≤ 1.3 is the target.
"""
from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import fentonsim
from fentonsim.problem import resolve_mechanism, resolve_model

from .bench_ode import _interleaved

REPO = Path(__file__).resolve().parent.parent
IRON_GSH = [str(REPO / "mechanisms" / "iron.yaml"), str(REPO / "mechanisms" / "glutathione.yaml")]
KWARGS = dict(conditions="tme", initial={"Fe+2": 2e-5}, t_end=3600.0, n_points=201)


def _warm_simulate(quick):
    mechanism = resolve_mechanism(IRON_GSH)
    network = resolve_model(mechanism)
    cases = {"simulate(Network), iron + GSH": lambda: fentonsim.simulate(network, **KWARGS),
             "simulate(path), iron + GSH": lambda: fentonsim.simulate(IRON_GSH, **KWARGS),
             "simulate(Mechanism), iron + GSH": lambda: fentonsim.simulate(mechanism, **KWARGS)}
    for function in cases.values():
        function()
    timings = _interleaved(cases, 15 if quick else 40)
    base = timings["simulate(Network), iron + GSH"][1]
    rows = []
    for case, (best, median) in timings.items():
        row = {"case": case, "min_s": best, "median_s": median}
        if "Network" not in case:
            row["slowdown"] = median / base
            row["ratio"] = f"{median / base:.2f}x simulate(Network) (target ≤ 1.3)"
        rows.append(row)
    return rows


def _end_to_end(quick):
    from fentonsim.sbml import export_sbml
    from .bench_ode import catalyst_model

    network, k, y0 = catalyst_model("iron")
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as fh:
        fh.write(export_sbml(network, k, y0, pH=6.5, temperature=310.15))
    path = fh.name
    try:
        import roadrunner
    except ImportError:
        return [{"case": "libRoadRunner simulate (same SBML file)", "note": "not installed"}]
    rr = roadrunner.RoadRunner(path)
    t_end, n_points = 3600.0, 201

    def rr_simulate():
        rr.resetAll()
        return rr.simulate(0.0, t_end, n_points)

    ours = lambda fluxes: fentonsim.simulate(path, t_end=t_end, n_points=n_points, fluxes=fluxes)  # noqa: E731
    reference = ours(True)["concentration"].values[-1]
    final_rr = np.array(rr_simulate())[-1, 1:]  # both list the file's species in its order
    big = np.abs(reference) > 1e-10
    deviation = float(np.max(np.abs(final_rr[big] - reference[big]) / np.abs(reference[big])))
    agrees = deviation < 1e-3  # both at rtol 1e-6: a global error of a few 1e-4 is the tolerance's own
    cases = {"simulate(SBML path), full Dataset": lambda: ours(True),
             "simulate(SBML path, fluxes=False)": lambda: ours(False),
             "solve_ode alone (compiled Network)": None,
             "libRoadRunner simulate (same SBML file)": rr_simulate}
    compiled = resolve_model(path)
    kk, yy = compiled.rate_constants(), compiled.initial_state()
    t = np.linspace(0.0, t_end, n_points)
    cases["solve_ode alone (compiled Network)"] = lambda: fentonsim.solve_ode(compiled, kk, yy, t, fluxes=False)
    timings = _interleaved(cases, 15 if quick else 40)
    rr_time = timings["libRoadRunner simulate (same SBML file)"][1]
    rows = []
    for case, (best, median) in timings.items():
        row = {"case": case, "min_s": best, "median_s": median}
        if case.startswith("simulate"):
            row.update(agrees=agrees, max_rel_deviation=deviation, speedup=rr_time / median,
                       ratio=f"{rr_time / median:.2f}x libRoadRunner")
        rows.append(row)
    Path(path).unlink()
    return rows


def _rates_as_data(quick):
    from fentonsim.catalysts import parse_catalyst
    from fentonsim.mechanism.overrides import with_rates
    from fentonsim.sampling import latin_hypercube
    from fentonsim.uncertainty import contested_ranges, propagate

    n = 8 if quick else 64
    catalysts, ph = ("iron", "copper"), (6.5, 7.4)
    propagate(catalysts, ph, 2, progress=False)  # compile, load
    start = time.perf_counter()
    batched = propagate(catalysts, ph, n, progress=False)
    t_batched = time.perf_counter() - start

    samples = latin_hypercube(contested_ranges(catalysts), n, 0)
    mechanisms = {c: resolve_mechanism([str(f) for f in parse_catalyst(c).files]) for c in catalysts}
    start = time.perf_counter()
    old = np.empty((n, len(catalysts), len(ph)))
    for s, sample in enumerate(samples):
        for c, name in enumerate(catalysts):
            own = {rid: k for rid, k in sample.items() if rid in {r.id for r in mechanisms[name].reactions}}
            network = fentonsim.compile_network(with_rates(mechanisms[name], own))
            for j, value in enumerate(ph):
                ds = fentonsim.simulate(network, conditions="tme", ph=value,
                                        initial={parse_catalyst(name).species: 2e-5}, t_end=3600.0, n_points=61)
                old[s, c, j] = float(fentonsim.metrics(ds, dose=2e-5)["oh_produced"])
    t_old = time.perf_counter() - start
    new = batched["oh_produced"].values
    agrees = bool(np.allclose(old, new, rtol=1e-9, atol=0.0))
    return [{"case": "uncertainty.propagate(iron, copper), samples batched on k", "min_s": t_batched,
             "median_s": t_batched, "agrees": agrees, "speedup": t_old / t_batched,
             "ratio": f"{t_old / t_batched:.1f}x a network per sample", "note": f"{n} samples x 2 pH"},
            {"case": "the same samples, a network compiled and simulated per sample", "min_s": t_old,
             "median_s": t_old, "note": "a loop of simulate() calls, one per sample and pH"}]


def run(quick: bool = False) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # yield-law caveats of the tme preset: not what is timed
        return _warm_simulate(quick) + _end_to_end(quick) + _rates_as_data(quick)
