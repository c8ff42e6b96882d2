"""Run SBML Test Suite semantic (deterministic time-course) cases through fentonsim and classify them.

One case directory ``NNNNN/`` (layout in ``../shared/validation/sbml-semantic/cases/README.md``) is loaded
with :func:`fentonsim.load`, simulated with :func:`fentonsim.simulate` (ODE, tight tolerances) on the output
times of its expected results, and judged with the suite's own criterion: for every requested variable and
time, |simulated − expected| ≤ absolute + relative·|expected| (NaN must be NaN, ±INF equal).

Outcomes (:class:`Outcome`.status):

- ``pass``    — every requested value within the tolerance;
- ``wrong``   — a value outside it, or a requested variable fentonsim did not report (an answer that
  leaves out what was asked is as wrong as a wrong number);
- ``refused`` — fentonsim raised one of its own errors (:class:`fentonsim.FentonsimError`) while loading or
  simulating: a clear refusal, whose message is kept and reduced to the construct it names
  (:func:`construct_of`);
- ``crash``   — any other exception (a bug).

Values are read back in the model's own units, as the suite reports them: species as amounts or
concentrations as ``settings.txt`` asks (independently of how the model declares them), from the integrated
concentration [M] of a state species (amount = c·V/substance unit; concentration = amount / compartment size),
or from the ``observed`` variable fentonsim reports for an assignment-rule, boundary or constant species, a
parameter or the compartment (values in model units: a species' symbol value is its amount when
``hasOnlySubstanceUnits`` is true, else its concentration).

Run as a script for a summary: ``python tests/sbml_semantic.py [CASE ...]``.
"""
from __future__ import annotations

import collections
import csv
import json
import math
import re
import sys
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SUITE = REPO.parent / "shared" / "validation" / "sbml-semantic"
CASES_DIR = SUITE / "cases"
#: Integrator tolerances well below every case's (the suite's relative tolerances are 1e-4 … 1e-3), so that the
#: comparison measures the model's semantics rather than the integrator's error.
RTOL = 1e-10
ATOL = 1e-16
AVOGADRO = 6.02214076e23


@dataclass
class Outcome:
    case: str
    status: str  # pass, wrong, refused, crash
    message: str = ""
    construct: str = ""
    located: bool = False  # a refusal names file:line
    seconds: float = 0.0
    worst: dict = field(default_factory=dict)  # for wrong answers: variable, time, simulated, expected


def case_ids(directory=CASES_DIR):
    """The case folders present, sorted."""
    if not Path(directory).is_dir():
        return []
    return sorted(p.name for p in Path(directory).iterdir() if p.is_dir() and p.name.isdigit())


def model_file(case_dir: Path) -> Path:
    """The l3v2 file, else l3v1, else the highest Level 2 version (as the suite's README says)."""
    case = case_dir.name
    for suffix in ("l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1"):
        path = case_dir / f"{case}-sbml-{suffix}.xml"
        if path.is_file():
            return path
    raise FileNotFoundError(f"no SBML file in {case_dir}")


def read_settings(case_dir: Path) -> dict:
    case = case_dir.name
    settings = {}
    for line in (case_dir / f"{case}-settings.txt").read_text().splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            settings[key.strip()] = value.strip()

    def names(key):
        return [v.strip() for v in settings.get(key, "").split(",") if v.strip()]

    return {"start": float(settings["start"]), "duration": float(settings["duration"]),
            "steps": int(float(settings["steps"])), "variables": names("variables"),
            "absolute": float(settings["absolute"]), "relative": float(settings["relative"]),
            "amount": set(names("amount")), "concentration": set(names("concentration"))}


def _number(text):
    text = text.strip().lower()
    if text in ("nan", "-nan"):
        return math.nan
    if text in ("inf", "+inf", "infinity"):
        return math.inf
    if text in ("-inf", "-infinity"):
        return -math.inf
    return float(text)


def read_results(case_dir: Path):
    """(header, data) of the expected results: header without ``time``; data[:, 0] is time."""
    case = case_dir.name
    with open(case_dir / f"{case}-results.csv", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    header = [h.strip() for h in rows[0]]
    data = np.array([[_number(v) for v in row] for row in rows[1:]], dtype=float)
    return header[1:], data


# ----------------------------------------------------------------------------- refusals

#: (pattern in a refusal message, construct name), first match wins; the fallback is the message with ids and
#: numbers blanked, so every refusal is counted under some construct.
CONSTRUCTS = [
    (r"SBML packages? .*comp", "comp package"),
    (r"SBML packages?", "SBML package"),
    (r"which fentonsim does not support \(supported: numbers", "unsupported MathML"),
    (r"algebraic rule", "algebraic rule"),
    (r"varying size", "non-constant compartment"),
    (r"assignment rule for compartment .* reads", "compartment size following the state"),
    (r"value that depends on the size of compartment", "event with trigger-time values on a varying size"),
    (r"an amount \(hasOnlySubstanceUnits\) in compartment", "rate rule on an amount in a varying size"),
    (r"rate rule", "rate rule"),
    (r"has a delay", "event delay"),
    (r"priorit", "event priority"),
    (r"persistent", "event persistence"),
    (r"initialValue|true at the start|t0", "event firing at t0"),
    (r"useValuesFromTriggerTime|trigger-time values", "event useValuesFromTriggerTime"),
    (r"trigger of .*only time triggers", "state-dependent event trigger"),
    (r"trigger of .*fires at", "event trigger at t <= 0"),
    (r"events may only assign", "event assigning a non-species"),
    (r"cannot be negative", "event setting a negative value"),
    (r"event .* sets `", "event assignment that is not constant or X+constant"),
    (r"stoichiometryMath", "stoichiometryMath"),
    (r"variable stoichiometry", "variable stoichiometry"),
    (r"stoichiometry of `.*` is", "non-integer stoichiometry"),
    (r"spread over compartments|compartments? .* holds no species", "multiple compartments"),
    (r"spatial dimensions", "compartment of dimension != 3"),
    (r"compartment `.*` gets its size from an initial assignment", "compartment initial assignment"),
    (r"compartment `.*` has no size", "compartment without size"),
    (r"conversion factor", "conversion factor"),
    (r"fast reactions?|is `fast`", "fast reaction"),
    (r"falling factorial", "falling factorial"),
    (r"reversible law|reverse term", "reversible kinetic law"),
    (r"divides by species", "kinetic law dividing by a species"),
    (r"time-dependent laws", "time-dependent kinetic law"),
    (r"is not a product of constants and species|comparison in a kinetic law", "non-mass-action kinetic law"),
    (r"needs a positive whole exponent", "kinetic law with non-integer power"),
    (r"has order .* which the reaction consumes|order = stoichiometry", "kinetic law order != stoichiometry"),
    (r"at most \d+ molecules may meet", "kinetic law of order > 3"),
    (r"kinetic law .* is negative", "negative kinetic law"),
    (r"has no kinetic law", "reaction without kinetic law"),
    (r"rate constant|rate coefficient", "non-finite rate constant"),
    (r"depends on undefined or circular", "undefined or circular initial value"),
    (r"no initial amount or concentration", "species without initial value"),
    (r"cannot be evaluated", "non-finite arithmetic"),
    (r"invalid SBML", "invalid SBML"),
    (r"no compartment", "model without compartment"),
    (r"no species that reactions change", "no integrated species"),
    (r"of a varying argument is not supported", "function of a varying argument (factorial)"),
    (r"has no trigger", "event without trigger"),
    (r"triggered again at t = .* before its pending", "event triggered twice in one instant"),
    (r"fires at t = .* together with another event of equal", "event priority"),
    (r"delayed executions were pending", "event queue overflow"),
    (r"has no math", "element without math"),
]


def construct_of(message: str) -> str:
    """The construct a refusal names (see CONSTRUCTS), for counting refusals by cause."""
    body = re.sub(r"^\S+?:\d+: |^\S+?\.xml: ", "", message)
    for pattern, name in CONSTRUCTS:
        if re.search(pattern, body, flags=re.IGNORECASE):
            return name
    text = re.sub(r"`[^`]*`", "`…`", body)
    text = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", text)
    return "other: " + text[:100]


# ----------------------------------------------------------------------------- values


def _model_info(path):
    """(per species id: (hasOnlySubstanceUnits, compartment size attribute in model units, compartment id)) read
    with libsbml."""
    import libsbml

    doc = libsbml.readSBMLFromFile(str(path))
    model = doc.getModel()
    info = {}
    for i in range(model.getNumSpecies()):
        s = model.getSpecies(i)
        c = model.getCompartment(s.getCompartment())
        info[s.getId()] = (bool(s.getHasOnlySubstanceUnits()), c.getSize() if c is not None and c.isSetSize() else 1.0,
                           s.getCompartment())
    return info


def _species_names(mechanism):
    """SBML id -> fentonsim species name, from the importer's species notes ("SBML species `id` …")."""
    names = {}
    for s in mechanism.species:
        found = re.match(r"SBML species `([^`]*)`", s.note or "")
        if found:
            names[found.group(1)] = s.name
    return names


def simulated_values(mechanism, dataset, path, variables, settings):
    """{variable: values at the output times, in the model's units}; a variable fentonsim did not report is
    absent."""
    info = _model_info(path)
    names = _species_names(mechanism)
    species = [str(s) for s in dataset.species.values]
    observables = [str(o) for o in dataset.observable.values] if "observable" in dataset.coords else []
    # Substance unit of the model in mol: the semantic cases declare mole (or nothing) or, flagged `counts`, item.
    substance = 1.0 / AVOGADRO if mechanism.counts else 1.0
    # Each species' concentration is per its own compartment's volume (fentonsim.compartments); a varying
    # size is reported as the observable the compartment names, in size_unit litres per model unit.
    volumes = {}
    for c in mechanism.compartments:
        volumes[c.name] = (dataset.observed.sel(observable=c.size).values * c.size_unit) if c.size else c.volume
    volume_of = {s.name: volumes.get(s.compartment, mechanism.defaults.volume) for s in mechanism.species}
    out = {}
    for var in variables:
        if var in info:
            hosu, size, compartment = info[var]
            if compartment in observables:
                # The size fentonsim reports (an initial assignment may have replaced the attribute).
                size = dataset.observed.sel(observable=compartment).values
            name = names.get(var, var)
            if name in species:
                amount = dataset.concentration.sel(species=name).values * volume_of[name] / substance
            elif name in observables:
                symbol = dataset.observed.sel(observable=name).values
                amount = symbol if hosu else symbol * size
            else:
                continue
            out[var] = amount if var in settings["amount"] or var not in settings["concentration"] else amount / size
        elif var in observables:
            out[var] = dataset.observed.sel(observable=var).values
    return out


def judge(header, data, values, settings):
    """(ok, worst) by the suite's criterion; worst describes the largest violation (or a missing variable)."""
    a, r = settings["absolute"], settings["relative"]
    worst, worst_excess = {}, 0.0
    for j, var in enumerate(header, start=1):
        expected = data[:, j]
        if var not in values:
            return False, {"variable": var, "missing": True}
        sim = np.asarray(values[var], dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            nan_ok = np.isnan(expected) & np.isnan(sim)
            inf_ok = np.isinf(expected) & (sim == expected)
            finite = np.isfinite(expected)
            diff = np.abs(sim - expected)
            ok = nan_ok | inf_ok | (finite & (diff <= a + r * np.abs(expected)))
        if not ok.all():
            excess = np.where(ok, 0.0, np.nan_to_num(diff - (a + r * np.abs(expected)), nan=np.inf, posinf=np.inf))
            i = int(np.argmax(excess))
            if not worst or excess[i] > worst_excess:
                worst_excess = excess[i]
                worst = {"variable": var, "time": float(data[i, 0]), "simulated": float(sim[i]),
                         "expected": float(expected[i])}
    return not worst, worst


def run_case(case_dir) -> Outcome:
    """Load, simulate and judge one case folder (see the module docstring)."""
    import fentonsim

    case_dir = Path(case_dir)
    started = time.perf_counter()
    outcome = Outcome(case_dir.name, "crash")
    try:
        settings = read_settings(case_dir)
        header, data = read_results(case_dir)
        path = model_file(case_dir)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mechanism = fentonsim.load(path)
            dataset = fentonsim.simulate(mechanism, "ode", t_eval=data[:, 0], rtol=RTOL, atol=ATOL)
        values = simulated_values(mechanism, dataset, path, header, settings)
        ok, worst = judge(header, data, values, settings)
        outcome.status, outcome.worst = ("pass", {}) if ok else ("wrong", worst)
        if not ok:
            outcome.message = json.dumps(worst)
    except fentonsim.FentonsimError as exc:
        outcome.status = "refused"
        outcome.message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        outcome.construct = construct_of(outcome.message)
        outcome.located = bool(re.match(r"^\S+:\d+: ", outcome.message))
    except Exception as exc:  # noqa: BLE001 - anything else is a crash, which is the point of the runner
        outcome.status = "crash"
        outcome.message = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
    outcome.seconds = time.perf_counter() - started
    return outcome


def run_cases(cases=None, directory=CASES_DIR, processes=1):
    """Outcomes of ``cases`` (default: all), in-process or with a small process pool."""
    cases = case_ids(directory) if cases is None else list(cases)
    dirs = [Path(directory) / c for c in cases]
    if processes <= 1:
        return [run_case(d) for d in dirs]
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return pool.map(run_case, dirs, chunksize=8)


def summary(outcomes) -> dict:
    """Counts by status, refusals by construct, and per-case outcomes (JSON-ready)."""
    counts = collections.Counter(o.status for o in outcomes)
    constructs = collections.Counter(o.construct for o in outcomes if o.status == "refused")
    return {"counts": {s: counts.get(s, 0) for s in ("pass", "wrong", "refused", "crash")},
            "refused_by_construct": dict(constructs.most_common()),
            "unlocated_refusals": [o.case for o in outcomes if o.status == "refused" and not o.located],
            "cases": [asdict(o) for o in outcomes]}


if __name__ == "__main__":
    chosen = sys.argv[1:] or None
    t0 = time.perf_counter()
    results = run_cases(chosen, processes=1 if chosen else 2)
    report = summary(results)
    for o in results:
        if o.status in ("wrong", "crash") or chosen:
            print(o.case, o.status, o.construct, o.message[:400])
    print(json.dumps(report["counts"]), f"{time.perf_counter() - t0:.1f} s")
    for name, n in list(report["refused_by_construct"].items())[:25]:
        print(f"{n:5d}  {name}")
    Path("/tmp/sbml_semantic_report.json").write_text(json.dumps(report, indent=1))
