"""`fentonsim compare`: the catalyst comparison, its files, and one-line errors for bad flags."""
from __future__ import annotations

import csv
import os

import numpy as np
import pytest

import fentonsim
from fentonsim.cli import main
from fentonsim.compare import compare, markdown_table, write_outputs
from fentonsim.metrics import metrics

from conftest import MECHANISMS


@pytest.fixture(scope="module")
def default_result():
    return compare()


def test_default_comparison_covers_three_catalysts_at_tumour_and_normal_pH(default_result):
    """Defaults: Fe²⁺, Cu⁺, Mn²⁺ at the same dose; tme (pH 6.5) and normal (pH 7.4) presets."""
    r = default_result
    assert list(r["catalyst"].values) == ["iron", "copper", "manganese"]
    assert list(r["condition"].values) == ["tme", "normal"]
    np.testing.assert_allclose(r["pH"].values, [6.5, 7.4])
    assert r.attrs["dose_M"] == pytest.approx(20e-6) and r.attrs["method"] == "ode"
    assert r["oh_produced"].attrs["units"] == "M"


def test_comparison_values_are_those_of_a_direct_simulation(default_result):
    """Each cell is metrics(simulate(...)) of the catalyst + GSH mechanism at that preset with the dose."""
    ds = fentonsim.simulate([MECHANISMS / "iron.yaml", MECHANISMS / "glutathione.yaml"], conditions="normal",
                            initial={"Fe+2": 20e-6}, t_end=3600, n_points=121)
    expected = metrics(ds, dose=20e-6)
    for name in ("oh_produced", "oh_per_metal", "gsh_depleted", "t_half_h2o2"):
        assert float(default_result[name].sel(catalyst="iron", condition="normal")) == pytest.approx(
            float(expected[name]), rel=1e-12)


def test_gsh_override_removes_scavenging():
    """--gsh 0: nothing to deplete, and every ·OH consumed escapes GSH."""
    r = compare(["iron"], gsh=0)
    assert np.all(r["gsh_depleted"].values == 0)
    assert r["oh_escaping_gsh"].sel(catalyst="iron", condition="tme").item() > 0


def test_stochastic_comparison_has_confidence_intervals():
    r = compare(["iron"], ["lysosome"], stochastic=True, runs=6, t_end=60, volume="1 fL")
    cell = r["oh_produced"].sel(catalyst="iron", condition="lysosome").values
    assert list(r["statistic"].values) == ["mean", "ci_low", "ci_high"]
    assert cell[1] <= cell[0] <= cell[2] and cell[2] > cell[1]


def test_outputs_are_figure_csv_and_markdown(default_result, tmp_path):
    paths = write_outputs(default_result, tmp_path / "out", formats=("png", "svg"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "compare-decomposition.csv", "compare.csv", "compare.md", "compare.png", "compare.svg"]
    with open(paths["csv"], encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["catalyst", "condition", "pH"] and "total ·OH produced [M]" in rows[0]
    assert len(rows) == 1 + 6
    text = paths["markdown"].read_text(encoding="utf-8")
    assert "tme/normal" in text and "Caveats:" in text and "M10" in text


def test_user_catalyst_file(tmp_path):
    """FILE.yaml:SPECIES compares a user's mechanism (here a file including the shipped copper chemistry)."""
    own = tmp_path / "my_cu.yaml"
    include = os.path.relpath(MECHANISMS / "copper.yaml", tmp_path)
    own.write_text(f"name: my-copper\ninclude: [{include}]\n", encoding="utf-8")
    r = compare([f"{own}:Cu+"], ["normal"])
    assert list(r["catalyst"].values) == ["my_cu"] and r["oh_produced"].item() > 0


def test_cli_runs_with_no_arguments_and_writes_the_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compare"]) == 0
    out = capsys.readouterr().out
    assert "| Fe²⁺ | tme | 6.5 |" in out and "wrote" in out
    assert {p.name for p in (tmp_path / "fentonsim-compare").iterdir()} == {
        "compare.csv", "compare.md", "compare.png", "compare-decomposition.csv"}


@pytest.mark.parametrize("argv, message", [
    (["--catalyst", "gold"], "unknown catalyst `gold`"),
    (["--catalyst", "missing.yaml:Fe+2"], "catalyst file `missing.yaml` not found"),
    (["--dose", "-5 uM"], "non-negative concentration"),
    (["--dose", "0"], "`dose` must be positive"),
    (["--ph", "6.5"], "`ph` gives 1 values for 2 conditions"),
    (["--conditions", "mars"], "unknown conditions `mars`"),
    (["--gsh", "lots"], "expected a number"),
    (["--uncertainty", "1"], "`--uncertainty` must be 0 (off) or 2 to 10,000 samples"),
    (["--n-points", "1"], "`--n-points` must be at least 2"),
    (["--parameter-set", "nope"], "unknown parameter set `nope`"),
    (["--temperature", "37"], "liquid-water temperature"),
    (["--stochastic", "--uncertainty", "8"], "applies to the ODE comparison"),
])
def test_bad_flags_give_one_line_errors(argv, message, tmp_path, capsys):
    assert main(["compare", "--out", str(tmp_path), *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["--ph", "15", "7.4"], "between 0 and 14"),
    (["--metric", "vibes"], "unknown metric `vibes`"),
    (["--format", "bmp"], "invalid choice"),
])
def test_bad_flag_values_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["compare", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1]


def test_markdown_reports_ratio_and_settings(default_result):
    text = markdown_table(default_result)
    assert "Dose 20 µM, 3600 s, ODE" in text
    assert "| Mn²⁺ | tme/normal = — |" in text  # 0 / 0 is undefined, not infinite
