"""PEtab v1 import (fentonsim.fitting.petab): a tiny PEtab problem written here, for the toy mechanism and for
its SBML export, fits back the constants it was made from; unsupported or malformed tables are DataErrors
naming file and line."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fentonsim as fs
from fentonsim import DataError
from fentonsim.cli import main
from fentonsim.fitting import read_petab
from fentonsim.fitting.petab import linear_observable, parse_formula
import fitting_toy as toy

TIMES = np.linspace(0, 600, 11)


def write_problem(directory, model_file, species_prefix="", parameter_prefix="", offset=0.0):
    """A PEtab problem of the toy network: three conditions (A0, B0), observables A (with an estimated offset
    `off_A`) and D, R1 and R2 estimated (log10 scale), R3 and R4 fixed at their true values."""
    model = str(directory / "toy.yaml")
    sp = species_prefix
    conditions = ["conditionId\t" + f"{sp}A\t{sp}B"]
    measurements = ["observableId\tsimulationConditionId\tmeasurement\ttime\tnoiseParameters"]
    for i, initial in enumerate(toy.INITIAL):
        conditions.append(f"c{i}\t{initial['A']!r}\t{initial['B']!r}")
        data = toy.clean(model, TIMES, initial)
        for t, a, d in zip(TIMES, data["A"], data["D"]):
            measurements.append(f"obs_A\tc{i}\t{float(a) + offset!r}\t{float(t)!r}\t1e-6")
            measurements.append(f"obs_D\tc{i}\t{float(d)!r}\t{float(t)!r}\t1e-6")
    pp = parameter_prefix
    parameters = ["parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate",
                  f"{pp}R1\tlog10\t1\t1000\t20\t1", f"{pp}R2\tlog10\t1e-4\t1\t0.03\t1",
                  f"{pp}R3\tlin\t0\t1e6\t50\t0", f"{pp}R4\tlin\t0\t1\t0.001\t0", "off_A\tlin\t-1e-4\t1e-4\t0\t1"]
    observables = ["observableId\tobservableFormula\tnoiseFormula\tobservableTransformation\tnoiseDistribution",
                   f"obs_A\toff_A + 1 * {sp}A\tnoiseParameter1_obs_A\tlin\tnormal",
                   f"obs_D\t(2 * {sp}D) / 2\t1e-6\tlin\tnormal"]
    for name, lines in (("conditions", conditions), ("measurements", measurements), ("parameters", parameters),
                        ("observables", observables)):
        (directory / f"{name}.tsv").write_text("\n".join(lines) + "\n")
    (directory / "problem.yaml").write_text(
        "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n"
        f"- sbml_files: [{model_file}]\n  condition_files: [conditions.tsv]\n"
        "  measurement_files: [measurements.tsv]\n  observable_files: [observables.tsv]\n")
    return directory / "problem.yaml"


@pytest.fixture
def directory(tmp_path):
    toy.write_mechanism(tmp_path)
    return tmp_path


def test_a_petab_problem_on_a_mechanism_fits_back_its_constants(directory):
    """PEtab tables for the fentonsim mechanism: R1, R2 and the offset of A (data shifted by 3e-6 M) come back
    to 1e-5 relative (1e-9 M for the offset); σ from the noise formula and from noiseParameters are known."""
    problem = write_problem(directory, "toy.yaml", offset=3e-6)
    spec = read_petab(problem)
    assert [p.name for p in spec.parameters] == ["rate:R1", "rate:R2", "off_A"]
    assert spec.observables["obs_A"].sigma == 1e-6 and spec.observables["obs_D"].species == (("D", 1.0),)
    assert spec.experiments[0].rates == {"R3": 50.0, "R4": 0.001}
    result = fs.fit(problem)
    assert result["R1"] == pytest.approx(50.0, rel=1e-5)
    assert result["R2"] == pytest.approx(0.01, rel=1e-5)
    assert result.estimate[2] == pytest.approx(3e-6, abs=1e-9)
    assert result.sigma_known


def test_a_petab_problem_on_sbml_fits_the_parameters_as_rate_constants(directory):
    """The same problem on fentonsim's SBML export of the toy (species s_A…, parameters k_R1… in reactions
    r_R1…): k_R1 and k_R2 are fitted as the constants of r_R1 and r_R2 and recovered; the CLI runs it and
    writes no parameter set for an SBML model."""
    pytest.importorskip("libsbml")
    from fentonsim.sbml.export import export_model

    (directory / "toy.xml").write_text(export_model(str(directory / "toy.yaml")))
    problem = write_problem(directory, "toy.xml", species_prefix="s_", parameter_prefix="k_")
    spec = read_petab(problem)
    assert [p.name for p in spec.parameters] == ["rate:r_R1", "rate:r_R2", "off_A"]
    result = fs.fit(spec)
    assert result["r_R1"] == pytest.approx(50.0, rel=1e-5)
    assert result["r_R2"] == pytest.approx(0.01, rel=1e-5)
    assert main(["fit", str(problem), "--out", str(directory / "out"), "--quiet"]) == 0
    assert (directory / "out" / "estimates.csv").exists() and not (directory / "out" / "parameter-set.yaml").exists()


@pytest.mark.parametrize("table, old, new, line, pattern", [
    ("observables", "\tlin\tnormal\n", "\tlog\tnormal\n", 2, "observableTransformation `log`"),
    ("observables", "off_A + 1 * A", "off_A * A * A", 2, "not linear in the species"),
    ("observables", "off_A + 1 * A", "off_A + 1 * A ^ 2", 2, r"`\^`"),
    ("observables", "off_A + 1 * A", "off_A + Zed", 2, "unknown name `Zed`"),
    ("measurements", "obs_D\tc1\t", "obs_Q\tc1\t", 25, "unknown observable `obs_Q`"),
    ("measurements", "obs_D\tc1\t", "obs_D\tc9\t", 25, "unknown condition `c9`"),
    ("measurements", "\t0.0\t1e-6\n", "\t-5.0\t1e-6\n", 2, "negative time"),
    ("parameters", "R2\tlog10\t1e-4\t1\t0.03\t1", "R2\tlog10\t1e-4\t1\tabc\t1", 3, "`abc` is not a number"),
    ("parameters", "R2\tlog10\t1e-4\t1\t0.03\t1", "R7\tlog10\t1e-4\t1\t0.03\t1", 3, "`R7` is neither"),
    ("conditions", "conditionId\tA\tB", "conditionId\tA\tWho", 1, "column `Who` is neither"),
    ("measurements", "\t0.0\t1e-6\n", "\t0.0\t2e-6\n", 4, "changes between rows"),
    ("observables", "\t1e-6\tlin", "\tsigma_D\tlin", 3, "noiseFormula `sigma_D` of `obs_D` is not supported"),
    ("parameters", "off_A\tlin\t-1e-4\t1e-4\t0\t1", "off_A\tlin\t-1e-4\t1e-4\t0\t1\noff_A\tlin\t-1\t1\t0\t1", 7,
     r"parameterId `off_A` is given twice \(lines 6 and 7\)"),
    ("observables", "off_A + 1 * A", "off_A + R1 * A", 2, "`R1` is a rate parameter of the model and cannot also be "
     "the observable's scale"),
    ("observables", "off_A + 1 * A", "R1 + A", 2, "`R1` is a rate parameter of the model and cannot also be the "
     "observable's offset"),
    ("parameters", "R2\tlog10\t1e-4\t1\t0.03\t1", "R2\tlog10\t1e-4\t1\t3\t1", 3,
     r"nominalValue 3 \(the fit's start\) lies outside \[0.0001, 1\]"),
])
def test_bad_petab_tables_name_file_and_line(directory, table, old, new, line, pattern):
    """Unsupported transformations and noise formulas, non-linear or unknown formulas, unknown observables,
    conditions and parameters, negative times, non-numeric values, a σ that changes between rows, a repeated
    parameterId (once: the last row silently won), an estimated rate parameter used as an observable's
    offset or scale (once: a bare StopIteration) and a nominal value outside the bounds (once: silently
    clipped) are DataErrors at `table.tsv:line`."""
    problem = write_problem(directory, "toy.yaml")
    path = directory / f"{table}.tsv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(DataError, match=pattern) as info:
        read_petab(problem)
    assert str(info.value).startswith(f"{path}:{line}: ")


_TOKENS = st.sampled_from(["A", "D", "off", "sc", "2", "0.5", "1e-3", "+", "-", "*", "/", "(", ")", "^", " ", "exp"])


@settings(max_examples=500, deadline=None)
@given(tokens=st.lists(_TOKENS, max_size=12))
def test_any_formula_parses_to_a_linear_observable_or_a_data_error(tokens):
    """Any string of names, numbers and operators is parsed and reduced to (offset, scale, weights) or refused
    with a one-line DataError at the table's line; when accepted, evaluating offset + scale·Σ w·species
    reproduces the formula at random values (so the reduction is exact)."""
    text = "".join(tokens)
    try:
        expr = parse_formula(text, "obs.tsv", 2, "observableFormula")
        offset, scale, weights = linear_observable("o", expr, {"A", "D"}, {"off", "sc"}, "obs.tsv", 2)
    except DataError as exc:
        assert str(exc).startswith("obs.tsv:2: ") and "\n" not in str(exc)
        return
    from fentonsim.expression import evaluate
    values = {"A": 0.3, "D": 1.7, "off": 0.11, "sc": 2.5}
    expected = evaluate(expr, values)
    got = (values[offset] if isinstance(offset, str) else offset) + (values[scale] if isinstance(scale, str)
                                                                      else scale) * sum(
        w * values[name] for name, w in weights.items())
    assert got == pytest.approx(float(expected), rel=1e-9, abs=1e-12)


def test_a_parameter_inside_a_general_rate_law_is_refused(directory):
    """An SBML parameter of a Michaelis–Menten law (K_m) is not a rate constant: scaling the reaction's k would
    scale the whole law, a different model. The import refuses it, naming the parameter and the reaction."""
    pytest.importorskip("libsbml")
    from test_laws import _sbml

    _sbml(directory / "mm.xml", [("A", 1e-3, False), ("B", 0.0, False), ("D", 0.0, False)],
          [("R", {"A": 1}, {"D": 1}, "cell * V * A / (Km + A)")], parameters=[("V", 1e-4), ("Km", 2e-4)])
    problem = write_problem(directory, "mm.xml")
    lines = (directory / "parameters.tsv").read_text().splitlines()
    (directory / "parameters.tsv").write_text("\n".join(
        [lines[0], "Km\tlog10\t1e-6\t1e-2\t2e-4\t1", "off_A\tlin\t-1e-4\t1e-4\t0\t1"]) + "\n")
    with pytest.raises(DataError, match="parameter `Km` is inside the general .* reaction `R`"):
        read_petab(problem)
