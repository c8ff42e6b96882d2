"""`fentonsim fit SPEC.yaml` end to end (fentonsim.fit_cli): the printed table, the written outputs, and bad
input as one line with the CLI's exit codes."""
from __future__ import annotations

import csv

import pytest

import fentonsim as fs
from fentonsim.cli import main
import fitting_toy as toy


@pytest.fixture
def directory(tmp_path, monkeypatch):
    toy.write_mechanism(tmp_path)
    toy.write_spec(tmp_path, noise=2e-7, seed=1)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_fit_prints_estimates_and_writes_its_outputs(directory, capsys):
    """Exit 0; the table lists every constant with its interval and the literature value; estimates.csv holds
    estimates containing the truth in their intervals, curves.csv every measured value (3 × 13 × 2), the
    parameter set loads with the fitted constants, and fit.png exists. A profile interval is printed on
    request and its Δχ² curve written (minimum 0 at the estimate)."""
    code = main(["fit", "spec.yaml", "--out", "result", "--starts", "2", "--seed", "3", "--profile", "R2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "| parameter | estimate | 95% interval | literature |" in out
    assert out.count("| rate:R") == 4 and "profile of rate:R2: 95% interval" in out
    result = directory / "result"
    with open(result / "estimates.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["parameter"] for r in rows] == [f"rate:{rid}" for rid in toy.TRUE]
    for row in rows:
        truth = toy.TRUE[row["parameter"].removeprefix("rate:")]
        assert float(row["ci_low"]) <= truth <= float(row["ci_high"])
        assert float(row["estimate"]) == pytest.approx(truth, rel=0.05)
    with open(result / "curves.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 3 * 13 * 2
    mechanism = fs.load_mechanism(result / "parameter-set.yaml", parameter_set="fit")
    for row in rows:
        assert mechanism.reaction(row["parameter"].removeprefix("rate:")).rate.k == float(row["estimate"])
    assert (result / "fit.png").stat().st_size > 1000
    assert "wrote result/estimates.csv" in out
    with open(result / "profile-rate_R2.csv") as fh:
        profile = list(csv.DictReader(fh))
    assert len(profile) == 15 and min(float(r["delta_chi2"]) for r in profile) == pytest.approx(0.0, abs=1e-6)
    assert (result / "profile-rate_R2.png").stat().st_size > 1000


def test_quiet_prints_only_the_written_paths(directory, capsys):
    """--quiet leaves out the table; the `wrote` line stays."""
    assert main(["fit", "spec.yaml", "--out", "q", "--quiet"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("wrote q/estimates.csv")


@pytest.mark.parametrize("argv, code, pattern", [
    (["fit", "missing.yaml"], 1, "missing.yaml"),
    (["fit", "spec.yaml", "--starts", "0"], 2, "--starts"),
    (["fit", "spec.yaml", "--seed", "-1"], 2, "--seed"),
    (["fit", "spec.yaml", "--profile", "R9"], 1, "unknown fitted parameter `R9`"),
    (["fit", "spec.yaml", "--out", "toy.yaml"], 1, "is not a directory"),
    (["fit", "spec.yaml", "--name", "a:b"], 1, "--name"),
])
def test_bad_arguments_are_one_line_errors(directory, capsys, argv, code, pattern):
    """A missing spec, an unknown profiled parameter, an output that is a file and a bad set name are user
    errors (exit 1, one line on stderr); malformed flag values are usage errors (exit 2). Nothing is written."""
    with pytest.raises(SystemExit) if code == 2 else _nothing() as exit_info:
        result = main(argv)
    result = exit_info.value.code if code == 2 else result
    err = capsys.readouterr().err
    assert result == code
    assert pattern in err
    if code == 1:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (directory / "fentonsim-fit").exists()


def test_a_fit_that_did_not_converge_is_flagged_in_the_output(directory, capsys, monkeypatch):
    """With the optimiser's budget cut to 2 evaluations (least_squares stops: success False) the summary says
    NOT CONVERGED, a `warning:` line says the intervals are not valid, and estimates.csv opens with a
    `# NOT CONVERGED` comment line; once the run looked like any other."""
    import functools
    import fentonsim.fitting

    monkeypatch.setattr(fentonsim.fitting, "fit", functools.partial(fentonsim.fitting.fit, max_nfev=2))
    assert main(["fit", "spec.yaml", "--out", "early"]) == 0
    out = capsys.readouterr().out
    assert "start(s); NOT CONVERGED" in out
    assert "warning: the optimiser stopped before converging" in out and "intervals are not valid" in out
    assert (directory / "early" / "estimates.csv").read_text().startswith("# NOT CONVERGED")


def test_a_bad_data_file_is_one_line_naming_file_and_line(directory, capsys):
    """A negative time in a data file: exit 1 and `e0.csv:<line>: column 1 (`time`): negative time` on
    stderr."""
    path = directory / "e0.csv"
    lines = path.read_text().splitlines()
    lines[3] = "-" + lines[3]
    path.write_text("\n".join(lines) + "\n")
    assert main(["fit", "spec.yaml"]) == 1
    err = capsys.readouterr().err
    # The data file is named as the spec names it, relative to the spec (here the working directory).
    assert err.startswith("e0.csv:4: column 1 (`time`): negative time") and len(err.strip().splitlines()) == 1


class _nothing:
    """A context manager that expects nothing (the counterpart of pytest.raises for the parametrised test)."""

    value = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_shipped_example_and_the_readme_spec_fit_the_constants_they_were_made_from(tmp_path, capsys):
    """examples/fit (synthetic data from the shipped iron constants) starts each constant 3–10× off those
    constants (so a fit that does nothing cannot pass), converges, moves each estimate to within 5 % of them
    (from ≥ 3× off) and has intervals containing them; the README's spec block is that file's content (it reads
    and fits the same); naming the form Fe+2 instead of the pool Fe(II) adds a note that the pool's total is
    observed (once silent); a value `n.d.` in a data file gives the README's error line."""
    import re
    import shutil
    import warnings
    from conftest import REPO

    example = REPO / "examples" / "fit"
    for path in example.iterdir():
        shutil.copy(path, tmp_path / path.name)
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```yaml\n(kind: fit\n.*?)```", readme.split("## Fitting", 1)[1], re.S).group(1)
    (tmp_path / "readme.yaml").write_text(block)
    mechanism = fs.load_mechanism("iron")
    for spec in ("spec.yaml", "readme.yaml"):
        starts = {p.name: p.start for p in fs.fitting.read_spec(tmp_path / spec).parameters}
        result = fs.fit(tmp_path / spec, curve_points=2)
        assert result.success and result.notes == (), (spec, result.message, result.notes)
        for rid in ("F1", "F2", "F5"):
            j = result.parameters.index(f"rate:{rid}")
            truth = mechanism.reaction(rid).rate.k
            assert 3 <= max(starts[f"rate:{rid}"] / truth, truth / starts[f"rate:{rid}"]) <= 10, (spec, rid)
            assert result.estimate[j] == pytest.approx(truth, rel=0.05), (spec, rid)
            assert result.ci_low[j] <= truth <= result.ci_high[j], (spec, rid)
    # Naming a form (Fe+2) instead of its pool observes the pool's total; the fit says so in a note.
    form = tmp_path / "form.yaml"
    form.write_text((tmp_path / "spec.yaml").read_text().replace("species: Fe(II)", "species: Fe+2"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # one evaluation: not converged
        notes = fs.fit(form, max_nfev=1, curve_points=2).notes
    assert notes == ("observable `A510` names `Fe+2`, a form of the pool `Fe(II)`: the pool's total is used (name "
                     "`Fe(II)` to say so)",)
    lines = (tmp_path / "pH3.csv").read_text().splitlines()
    lines[6] = lines[6].split(",")[0] + ", n.d., " + lines[6].split(",")[2]
    (tmp_path / "pH3.csv").write_text("\n".join(lines) + "\n")
    assert main(["fit", str(tmp_path / "spec.yaml"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"{tmp_path / 'pH3.csv'}:7: column 2 (`A510`): `n.d.` is not a finite number"
    assert "pH3.csv:7: column 2 (`A510`): `n.d.` is not a finite number" in readme
