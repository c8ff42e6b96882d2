"""Reading fit inputs (fentonsim.fitting.data, fentonsim.fitting.spec): units in CSV headers, missing values,
and every bad data file or specification as a one-line DataError naming file, line (and column)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fentonsim import DataError, MechanismError
from fentonsim.fitting import read_spec, read_table
from fentonsim.units import CONCENTRATION, DIMENSIONLESS
import fitting_toy as toy

EXPECTED = {"A": CONCENTRATION, "Abs": DIMENSIONLESS}


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_units_in_the_header_are_converted_and_empty_cells_are_missing(tmp_path):
    """`time [min]` and `A [uM]` become s and M; a dimensionless absorbance takes no unit; comment and blank
    lines are skipped; an empty cell is NaN; replicates may share a time."""
    path = write(tmp_path, "# run 1\n\ntime [min], A [uM], Abs\n0, 100, 0.5\n1, 50,\n1, 51, 0.3\n")
    table = read_table(path, EXPECTED)
    np.testing.assert_array_equal(table.time, [0.0, 60.0, 60.0])
    np.testing.assert_allclose(table.columns["A"], [1e-4, 5e-5, 5.1e-5])
    assert np.isnan(table.columns["Abs"][1]) and table.columns["Abs"][2] == 0.3
    assert table.lines.tolist() == [4, 5, 6]


@pytest.mark.parametrize("text, line, pattern", [
    ("", 1, "data file is empty"),
    ("# only a comment\n\n", 1, "data file is empty"),
    ("A [uM]\n1\n", 1, "missing column `time`"),
    ("time [s]\n0\n1\n", 1, "no observable column besides `time`"),
    ("time [s], A [uM]\n", 1, "no data rows"),
    ("time [s], A [uM]\n0, 1\n5, abc\n", 3, r"column 2 \(`A`\): `abc` is not a finite number"),
    ("time [s], A [uM]\n0, 1\n5, nan\n", 3, r"column 2 \(`A`\): `nan` is not a finite number"),
    ("time [s], A [uM]\n0, 1\nx, 2\n", 3, r"column 1 \(`time`\): `x` is not a finite number"),
    ("time [s], A [uM]\n-1, 1\n5, 2\n", 2, r"column 1 \(`time`\): negative time -1 s"),
    ("time [s], A [uM]\n0, 1\n5, 2\n3, 1\n", 4, "3 s comes after 5 s"),
    ("time [s], A [uM]\n0, 1\n5\n", 3, "1 cells, expected 2"),
    ("time [s], Q [uM]\n0, 1\n", 1, r"column 2: unknown observable `Q`"),
    ("time [s], A [uM], A\n0, 1, 2\n", 1, "`A` appears twice"),
    ("time [min], A [uM], Time [s]\n0, 1, 0\n", 1, r"column 3: `time` appears twice"),
    ("time [kg], A\n0, 1\n", 1, r"column 1 \(`time`\)"),
    ("time [s], A [s]\n0, 1\n5, 2\n", 1, r"column 2 \(`A`\): unit `s` is not"),
    ("time [s], Abs [uM]\n0, 1\n5, 2\n", 1, r"column 2 \(`Abs`\): unit `uM` is not dimensionless"),
    ("time [s], A\n0,\n5,\n", 1, r"column 2 \(`A`\) has no values"),
    ("time [s], A\n0, 1\n, 2\n", 3, "every row needs a time"),
    ("time [s], A\n0, 1\n0, 2\n", 3, "every time is 0"),
])
def test_bad_data_files_name_file_line_and_column(tmp_path, text, line, pattern):
    """Each malformed file is a DataError whose one-line message starts with `file:line:` and names what is
    wrong (and the column, where there is one)."""
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=pattern) as info:
        read_table(path, EXPECTED)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ") and "\n" not in message


def test_a_missing_or_binary_data_file_is_named(tmp_path):
    """A missing file, a directory and a binary file are DataErrors naming the file."""
    with pytest.raises(DataError, match="not found") as info:
        read_table(tmp_path / "nope.csv", EXPECTED)
    assert str(tmp_path / "nope.csv") in str(info.value)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DataError, match="is a directory; expected a CSV file"):
        read_table(tmp_path / "dir.csv", EXPECTED)
    path = tmp_path / "bin.csv"
    path.write_bytes(b"time,A\n\x00\x01")
    with pytest.raises(DataError, match="binary"):
        read_table(path, EXPECTED)


@pytest.fixture
def directory(tmp_path):
    toy.write_mechanism(tmp_path)
    toy.write_spec(tmp_path)
    return tmp_path


def test_a_valid_spec_reads_with_its_data(directory):
    """The spec names the model relative to itself; bounds with units are converted; data in min and µM
    become s and M; the three experiments carry their initial concentrations."""
    spec = read_spec(directory / "spec.yaml")
    assert [e.name for e in spec.experiments] == ["e0", "e1", "e2"]
    assert spec.experiments[0].initial == {"A": 1e-4, "B": 2e-4}
    assert spec.experiments[0].time[-1] == pytest.approx(600.0)
    assert spec.experiments[0].data["A"][0] == pytest.approx(1e-4)
    assert [p.name for p in spec.parameters] == ["rate:R1", "rate:R2", "rate:R3", "rate:R4"]
    assert spec.parameters[1].upper == 1.0


def test_doses_and_conditions_in_a_spec_are_read(directory):
    """`doses` become boluses with their units converted; `temperature` and `rates` of an experiment are
    read in K and M^(1−m) s⁻¹."""
    path = directory / "spec.yaml"
    text = path.read_text().replace("  R4: {bounds: [1e-5, 0.1], start: 0.003}\n", "")  # R4 is set, not fitted
    path.write_text(text.replace(
        "- {name: e1, data: e1.csv,",
        "- {name: e1, data: e1.csv, doses: [{species: B, amount: 50 uM, time: 5 min}], rates: {R4: 2e-3 s^-1},"))
    spec = read_spec(path)
    experiment = spec.experiments[1]
    assert len(experiment.boluses) == 1
    bolus = experiment.boluses[0]
    assert (bolus.species, bolus.amount, bolus.time) == ("B", pytest.approx(5e-5), 300.0)
    assert experiment.rates == {"R4": pytest.approx(2e-3)}


def _replace_line(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    lines = text.replace(old, new).splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(new.splitlines()[0]))


@pytest.mark.parametrize("old, new, pattern", [
    ("  A: {species: A}", "  A: {species: Zz}", "observable `A`: `Zz` is not a state variable of `toyfit`"),
    ("  R4: {bounds: [1e-5, 0.1], start: 0.003}", "  R9: {bounds: [1, 2]}", "parameter `R9` is neither a reaction"),
    ("  R4: {bounds: [1e-5, 0.1], start: 0.003}", "  R4: {bounds: [0.1, 1e-5]}", "must have low < high"),
    ("  R4: {bounds: [1e-5, 0.1], start: 0.003}", "  R4: {bounds: [1e-5, 0.1 s], start: 0.003}",
     "bounds of parameter `R4`"),
    ("  R4: {bounds: [1e-5, 0.1], start: 0.003}", "  R4: {bound: [1e-5, 0.1]}", "unknown key `bound`"),
    ("- {name: e1, data: e1.csv,", "- {name: e1, data: e1.csv, conditions: nowhere,", "unknown conditions `nowhere`"),
    ("- {name: e1, data: e1.csv,", "- {name: e1, data: e1.csv, x: 1,", "unknown key `x`"),
    ("- {name: e2, data: e2.csv, initial: {A: 5e-05 M,", "- {name: e2, data: e2.csv, initial: {Qx: 5e-05 M,",
     "initial concentration of `Qx`"),
    ("- {name: e2, data: e2.csv,", "- {name: e2, data: e2.csv, pH: 5,", "`ph` has no effect"),
    ("- {name: e2, data: e2.csv,", "- {name: e2, data: e2.csv, doses: [{species: Zq, amount: 1 uM}],",
     "dose 1 of experiment `e2`: `Zq` is not a state variable"),
    ("model: toy.yaml", "model: toy.yaml\npriors: maybe", "`priors`"),
    ("kind: fit", "kind: mechanism", "`kind: mechanism` is not a fit specification"),
    ("  R4: {bounds: [1e-5, 0.1], start: 0.003}", "  R4: {bounds: [1e-5, 0.1], start: 0.3}",
     r"`start` 0.3 of parameter `R4` lies outside its bounds \[1e-05, 0.1\]"),
    ("  R4: {bounds: [1e-5, 0.1], start: 0.003}", "  rate:R1: {bounds: [1, 1000]}\n  R4: {bounds: [1e-5, 0.1]}",
     "parameter `rate:R1` is given twice"),
    ("- {name: e1, data: e1.csv,", "- {name: e1, data: e1.csv, rates: {R2: 0.02 s^-1},",
     "`rates` of experiment `e1` sets `R2`, which is also fitted"),
])
def test_bad_specs_name_the_spec_line(directory, old, new, pattern):
    """An unknown species, reaction, preset, key or initial species, a condition the model cannot feel,
    inverted bounds, a start outside the bounds (once clipped silently), a parameter given twice (`R1` and
    `rate:R1`; once an error without a line) or an experiment's own `rates` entry for a fitted constant (once
    silently overridden by the fit) in the spec is a DataError at the spec's line of that entry."""
    path = directory / "spec.yaml"
    line = _replace_line(path, old, new)
    with pytest.raises(DataError, match=pattern) as info:
        read_spec(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:"), message
    if "priors" not in new:
        assert message.startswith(f"{path}:{line}: "), message


def test_a_bad_data_file_named_by_a_spec_is_reported_at_its_own_line(directory):
    """A spec whose data file has a non-numeric value reports the data file's line and column, not the
    spec's."""
    csv = directory / "e1.csv"
    lines = csv.read_text().splitlines()
    lines[5] = lines[5].split(",")[0] + ", 1.0e, 3"
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"column 2 \(`A`\): `1.0e` is not a finite number") as info:
        read_spec(directory / "spec.yaml")
    assert str(info.value).startswith(f"{csv}:6: ")


def test_a_missing_model_is_a_mechanism_error(directory):
    """A model file that does not exist is refused at the spec's `model` line (a MechanismError)."""
    path = directory / "spec.yaml"
    path.write_text(path.read_text().replace("model: toy.yaml", "model: missing.yaml"))
    with pytest.raises(MechanismError, match="missing.yaml"):
        read_spec(path)


def test_observable_maps_are_read(directory):
    """A probe read-out (`yield`), an absorbance (ε·l, weights per species, an offset parameter and a numeric
    scale) and their units: absorbance columns take no unit, concentration ones do."""
    path = directory / "spec.yaml"
    text = path.read_text().replace("  D: {species: D}", "  D: {species: D, yield: 0.5}\n"
                                    "  Abs: {species: {C: 1, D: 2}, epsilon: 100, path-length: 2, offset: a0, "
                                    "scale: 1.5, sigma: 0.01}")
    path.write_text(text.replace("parameters:\n", "parameters:\n  a0: {bounds: [-1, 1], start: 0}\n"))
    spec = read_spec(path)
    d, absorbance = spec.observables["D"], spec.observables["Abs"]
    assert (d.factor, d.absorbance, d.units) == (0.5, False, "M")
    assert absorbance.species == (("C", 1.0), ("D", 2.0)) and absorbance.factor == 200.0
    assert (absorbance.offset, absorbance.scale, absorbance.sigma, absorbance.units) == ("a0", 1.5, 0.01, "1")
    assert spec.parameters[0].name == "a0" and spec.parameters[0].kind == "observable"


@pytest.mark.parametrize("entry, pattern", [
    ("{species: D, yield: 0.5, epsilon: 3, path-length: 1}", "both `yield` and `epsilon`"),
    ("{species: D, epsilon: 3}", "`path-length` is missing"),
    ("{species: D, yield: -1}", "must be positive"),
    ("{species: D, offset: nowhere}", "`nowhere` is not a number and not listed"),
    ("{species: D, sigma: 2 s}", "`sigma` of observable `D`"),
    ("{species: D, offset: rate:R1}", "`offset` of observable `D` names `rate:R1`, a rate constant"),
    ("{species: D, scale: R1}", "`scale` of observable `D` names `R1`, a rate constant"),
    ("{species: D, scale: initial:A}", "`scale` of observable `D` names `initial:A`"),
])
def test_bad_observables_are_refused(directory, entry, pattern):
    """Contradictory or incomplete observable maps, a negative yield, an unlisted offset parameter, a σ in the
    wrong unit and an offset or scale naming a rate constant or initial concentration (once a bare
    StopIteration inside the fit) are DataErrors in the spec file."""
    path = directory / "spec.yaml"
    path.write_text(path.read_text().replace("  D: {species: D}", f"  D: {entry}"))
    with pytest.raises(DataError, match=pattern) as info:
        read_spec(path)
    assert str(info.value).startswith(f"{path}:")


def test_sigma_for_some_observables_only_is_refused_at_the_first_without(directory):
    """σ given for D but not for A would weigh D by σ and A by its peak and scale both by one estimated s²
    (once accepted): a one-line DataError at A's line naming both observables."""
    path = directory / "spec.yaml"
    path.write_text(path.read_text().replace("  D: {species: D}", "  D: {species: D, sigma: 1 uM}"))
    line = path.read_text().splitlines().index("  A: {species: A}") + 1
    with pytest.raises(DataError, match="`sigma` is given for `D` but not for `A`") as info:
        read_spec(path)
    assert str(info.value).startswith(f"{path}:{line}: ") and "\n" not in str(info.value)


@pytest.mark.parametrize("species", ["{Fe+2: 1, FeOH+: 1}", "{Fe+2: 1, Fe(II): 1}"])
def test_two_forms_of_one_pool_in_an_observable_are_refused(tmp_path, species):
    """Fe+2 and FeOH+ (or Fe+2 and its pool Fe(II)) both stand for the pool Fe(II): summing them would count the
    pool twice (once accepted silently), so the spec is refused at the observable's line."""
    path = tmp_path / "spec.yaml"
    path.write_text(f"kind: fit\nmodel: iron\nobservables:\n  Fe: {{species: {species}}}\nparameters:\n"
                    "  F1: {bounds: [5, 5000]}\nexperiments:\n- {name: a, data: a.csv}\n")
    with pytest.raises(DataError, match=r"observable `Fe` lists `Fe\+2` and `.*`, both the pool `Fe\(II\)`") as info:
        read_spec(path)
    assert str(info.value).startswith(f"{path}:4: ")


_CELLS = st.sampled_from(["time", "time [min]", "A", "A [uM]", "Abs", "Abs [1]", "0", "1.5", "-2", "1e400", "nan",
                          "x", "", " ", "#", "[", "]", "A [kg]", "1e-3", "60"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELLS, min_size=0, max_size=4), max_size=6), raw=st.text(max_size=40))
def test_any_text_is_a_table_or_a_data_error(tmp_path, rows, raw):
    """Whatever the file holds — CSV-like rows of header words, numbers and junk, or arbitrary text — reading it
    gives a Table with finite, non-negative, sorted times or a one-line DataError naming the file, never another
    exception."""
    for text in ("\n".join(",".join(r) for r in rows), raw):
        path = write(tmp_path, text, "fuzz.csv")
        try:
            table = read_table(path, EXPECTED)
        except DataError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)
            continue
        assert np.all(np.isfinite(table.time)) and np.all(table.time >= 0) and np.all(np.diff(table.time) >= 0)
