"""Local forward sensitivities (fentonsim.sensitivity) against one solve, central differences and libRoadRunner.

The issue-21 workload: the iron mechanism at the ``tme`` preset (pH 6.5, 37 °C) with 20 µM Fe(II), 600 s,
61 output times, rtol 1e-6 and fentonsim's default atol (1e-20 M); the sensitivities ∂c/∂ln k of every reaction
(37 requested; the 30 whose sensitivity is not identically 0 are integrated, the rest are exact zeros).

Timed side by side in interleaved rounds (medians; every side once per round, so a slow spell of the shared
machine hits all of them):

* ``one solve``: ``solve_ode(network, k, y0, t, fluxes=False)`` — the state alone, concentrations only;
* ``sensitivities(network)`` with ``error_control="full"`` (the default: the sensitivities error-controlled
  like the state, CVODES' errconS on) and with ``"state"`` (only the state's error controlled) — the whole
  public call, Dataset included;
* central differences: two ``solve_ode`` runs per live parameter at ln k ± 1e-3 (60 solves, same rtol) — the
  issue's baseline — and, for scale, the same 60 runs as one ``solve_ode_batch`` call on all cores;
* libRoadRunner's ``timeSeriesSensitivities`` (CVODES forward sensitivities, simultaneous corrector, its
  finite-difference parameter derivatives) on the same model exported to SBML, at rtol 1e-6 and its default
  atol 1e-12 (at atol 1e-16 it takes seconds, at 1e-18 it fails with CV_TOO_MUCH_WORK), for all 37 k (given
  a subset, libRoadRunner 2.10 returns zeros for all but the first parameter). A RoadRunner's sensitivities
  carry over from one call to the next (resetAll does not reset them), so every timed call gets a fresh
  RoadRunner, built outside the timing.

AMICI, the other peer the issue names, is not installed here: pip finds only its source distribution (1.0.1),
whose build needs SWIG, a C++ toolchain and BLAS, and every model is compiled to C++ before it runs.

Answers are checked before ratios count: fentonsim's against a tight run (rtol 1e-10) to 1e-4 (full) and 1e-3
(state) of each curve's maximum; libRoadRunner's ∂c/∂k·k against the same reference to 1e-2 of each curve's
maximum, over the curves it can resolve (maximum ≥ 1e-3 of that parameter's largest curve and ≥ 1e-10 M,
100 times its atol).

Ratios: ``slowdown`` = sensitivities / one solve (issue target ≤ 4); ``speedup`` = central differences /
sensitivities (target ≥ p/4 = 7.5) and libRoadRunner / sensitivities (target ≥ 3).
"""
from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import fentonsim
from fentonsim.problem import build_problem, resolve_model
from fentonsim.sensitivity import sensitivities

REPO = Path(__file__).resolve().parent.parent
IRON = REPO / "mechanisms" / "iron.yaml"
RUN = dict(conditions="tme", initial={"Fe+2": "20 uM"}, t_end=600.0, n_points=61)
FD_STEP = 1e-3
#: libRoadRunner's sensitivities are compared on curves above this [M] (100× its default atol, 1e-12).
PEER_FLOOR = 1e-10


def _deviation(values, reference, floor=0.0):
    """(largest |values − reference| / max_t|reference| per (species, parameter) curve, curves compared):
    over curves above 1e-3 of their parameter's largest curve and above ``floor``."""
    scale = np.abs(reference).max(axis=0)
    compared = (scale > 1e-3 * scale.max(axis=0, keepdims=True)) & (scale > floor)
    error = np.abs(values - reference).max(axis=0) / np.where(scale > 0, scale, 1.0)
    return float(error[compared].max()), int(compared.sum())


def _rounds(cases, repeats):
    """{name: median seconds}: each case timed once per round, round after round; a case is (setup, timed)
    with ``setup`` (untimed, may be None) returning the argument of ``timed``."""
    samples = {name: [] for name in cases}
    for _ in range(repeats):
        for name, (setup, timed) in cases.items():
            argument = setup() if setup is not None else None
            start = time.perf_counter()
            timed(argument)
            samples[name].append(time.perf_counter() - start)
    return {name: float(np.median(values)) for name, values in samples.items()}


def _roadrunner(network, live_rows):
    """(setup, timed, (deviation, curves compared), version) for libRoadRunner's time-series sensitivities of
    the live parameters, or None when libRoadRunner is not installed."""
    try:
        import roadrunner
    except ImportError:
        return None
    from fentonsim.sbml import export_model

    xml = export_model(IRON, **{key: RUN[key] for key in ("conditions", "initial")}, ph=6.5)
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False, encoding="utf-8") as fh:
        fh.write(xml)
    path = Path(fh.name)
    try:
        exported = resolve_model(path)
        reference = sensitivities(exported, t_end=RUN["t_end"], n_points=RUN["n_points"],
                                  rtol=1e-10).sensitivity.values[:, :, live_rows]
    finally:
        path.unlink()
    if len(exported.reaction_ids) != network.n_reactions or not all(r.startswith("r_") for r in exported.reaction_ids):
        raise RuntimeError("the SBML export no longer lists the mechanism's reactions in order as r_<id>")
    # The export names reaction <id> `r_<SBML id>` with its constant `k_<SBML id>`.
    ids = ["k_" + exported.reaction_ids[j][2:] for j in live_rows]

    def setup():
        rr = roadrunner.RoadRunner(xml)
        rr.integrator.relative_tolerance = 1e-6
        solver = rr.getSensitivitySolver()
        solver.setValue("relative_tolerance", 1e-6)
        return rr

    def timed(rr):
        # Every parameter (the k of all 37 reactions): libRoadRunner 2.10 given a subset returns zeros for all
        # but its first parameter; with all of them its answers agree.
        return rr.timeSeriesSensitivities(0.0, RUN["t_end"], RUN["n_points"])

    rr = setup()
    out = timed(rr)
    names, species = list(out[2]), list(out[3])
    if not set(ids) <= set(names) or len(species) != reference.shape[1]:
        raise RuntimeError(f"libRoadRunner returned parameters {names[:3]}…, species {species[:3]}…")
    columns = [names.index(i) for i in ids]
    k = np.array([rr[i] for i in ids])
    values = np.transpose(np.asarray(out[1])[:, columns, :], (0, 2, 1)) * k[None, None, :]  # ∂c/∂k·k = ∂c/∂ln k
    return setup, timed, _deviation(values, reference, PEER_FLOOR), roadrunner.__version__


def run(quick: bool = False) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # yield-law caveats of the tme preset: not what is timed
        return _run(quick)


def _run(quick):
    network = resolve_model(IRON)
    t = np.linspace(0.0, RUN["t_end"], RUN["n_points"])
    problem = build_problem(network, [{"initial": RUN["initial"]}], conditions=RUN["conditions"], t_out=t)
    k, y0 = problem.k[0].copy(), problem.y0[0].copy()
    reference = sensitivities(network, rtol=1e-10, **RUN)
    full = sensitivities(network, **RUN)
    state = sensitivities(network, error_control="state", **RUN)
    live_rows = [j for j in range(network.n_reactions) if np.any(full.sensitivity.values[:, :, j] != 0)]
    live = [network.reaction_ids[j] for j in live_rows]
    p = len(live)
    tight = reference.sensitivity.values[:, :, live_rows]
    full_dev, full_n = _deviation(full.sensitivity.values[:, :, live_rows], tight)
    state_dev, state_n = _deviation(state.sensitivity.values[:, :, live_rows], tight)

    def one(_):
        return fentonsim.solve_ode(network, k, y0, t, fluxes=False)

    def differences(_):
        out = np.empty((t.size, network.n_species, p))
        for column, j in enumerate(live_rows):
            up, down = k.copy(), k.copy()
            up[j] *= np.exp(FD_STEP)
            down[j] *= np.exp(-FD_STEP)
            out[:, :, column] = (fentonsim.solve_ode(network, up, y0, t, fluxes=False).concentration
                                 - fentonsim.solve_ode(network, down, y0, t, fluxes=False).concentration) / (2 * FD_STEP)
        return out

    fd_dev, fd_n = _deviation(differences(None), tight)
    perturbed = np.repeat(k[None, :], 2 * p, axis=0)
    for column, j in enumerate(live_rows):
        perturbed[2 * column, j] *= np.exp(FD_STEP)
        perturbed[2 * column + 1, j] *= np.exp(-FD_STEP)

    def batched(_):
        c = fentonsim.solve_ode_batch(network, perturbed, y0, t, fluxes=False).concentration
        return np.moveaxis((c[0::2] - c[1::2]) / (2 * FD_STEP), 0, -1)

    batched_dev, _ = _deviation(batched(None), tight)
    cases = {"one": (None, one), "full": (None, lambda _: sensitivities(network, **RUN)),
             "state": (None, lambda _: sensitivities(network, error_control="state", **RUN))}
    # The batch (on all cores) before libRoadRunner's long call, and the 60 solves last: whatever either leaves
    # behind (threads still spinning, cold caches) does not fall on fentonsim's timings or the one solve.
    cases["batched"] = (None, batched)
    peer = _roadrunner(network, live_rows)
    if peer is not None:
        cases["rr"] = (peer[0], peer[1])
    cases["fd"] = (None, differences)
    medians = _rounds(cases, 15 if quick else 40)  # a round takes ~0.2 s, libRoadRunner most of it
    one_s, full_s, state_s, fd_s = (medians[name] for name in ("one", "full", "state", "fd"))
    workload = f"iron at tme, 20 µM Fe(II), 600 s, rtol 1e-6; {p} live ln k of {network.n_reactions}"
    rows = [
        {"case": "iron: one solve_ode (state only, no fluxes)", "median_s": one_s, "note": workload},
        {"case": "iron: all ln k sensitivities (full error control) vs one solve", "median_s": full_s,
         "slowdown": full_s / one_s, "agrees": full_dev <= 1e-4, "max_rel_deviation": full_dev,
         "ratio": f"{full_s / one_s:.1f}x one solve (target ≤ 4)",
         "note": f"{full.attrs['n_steps']} steps; ≤ {full_dev:.1e} of the tight curves ({full_n} compared)"},
        {"case": "iron: all ln k sensitivities (state error control) vs one solve", "median_s": state_s,
         "slowdown": state_s / one_s, "agrees": state_dev <= 1e-3, "max_rel_deviation": state_dev,
         "ratio": f"{state_s / one_s:.1f}x one solve (target ≤ 4)",
         "note": f"{state.attrs['n_steps']} steps; ≤ {state_dev:.1e} of the tight curves ({state_n} compared)"},
        {"case": "iron: central differences of all ln k", "median_s": fd_s,
         "note": f"{2 * p} solve_ode runs, step {FD_STEP}; ≤ {fd_dev:.1e} of the tight curves ({fd_n} compared)"},
        {"case": "iron: central differences of all ln k, one batched call", "median_s": medians["batched"],
         "ratio": f"{medians['batched'] / state_s:.1f}x sensitivities (state), {medians['batched'] / full_s:.1f}x (full)",
         "note": f"solve_ode_batch of the {2 * p} perturbed k on all cores (no target; shown for scale); "
                 f"≤ {batched_dev:.1e} of the tight curves"},
        {"case": "iron: sensitivities (full) vs central differences", "median_s": full_s, "speedup": fd_s / full_s,
         "ratio": f"{fd_s / full_s:.1f}x central differences (target ≥ p/4 = {p / 4:.1f})"},
        {"case": "iron: sensitivities (state) vs central differences", "median_s": state_s,
         "speedup": fd_s / state_s, "ratio": f"{fd_s / state_s:.1f}x central differences (target ≥ p/4 = {p / 4:.1f})"},
    ]
    name = "iron: libRoadRunner timeSeriesSensitivities vs sensitivities (full)"
    if peer is None:
        rows.append({"case": name, "note": "not installed"})
    else:
        rr_s, (rr_dev, rr_n), version = medians["rr"], peer[2], peer[3]
        rows.append({"case": name, "median_s": rr_s, "speedup": rr_s / full_s, "agrees": rr_dev <= 1e-2,
                     "max_rel_deviation": rr_dev, "ratio": f"{rr_s / full_s:.1f}x libRoadRunner (target ≥ 3)",
                     "note": f"libRoadRunner {version}, CVODES forward, rtol 1e-6, atol 1e-12; ≤ {rr_dev:.1e} of the "
                             f"tight curves ({rr_n} compared)"})
    return rows
