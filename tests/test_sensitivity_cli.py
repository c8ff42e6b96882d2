"""`fentonsim sensitivity` ranks the rate constants by ∂ln y/∂ln k: the ranking is by magnitude, the numbers
agree with finite differences of the ·OH metric simulate() reports, and bad targets are one-line errors;
`--global` gives the API's global indices, `--plot` tornado charts, and `compare --sensitivity` local
sensitivities that agree with finite differences of compare itself."""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import fentonsim as fs
from conftest import MECHANISMS
from fentonsim.cli import main
from fentonsim.metrics import metrics

IRON = str(MECHANISMS / "iron.yaml")
RUN = ["--conditions", "tme", "--initial", "Fe+2=20 uM", "--t-end", "600"]


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_ranked_table_matches_finite_differences_of_the_oh_metric(tmp_path, capsys):
    """Every reaction gets a row, ranked by |∂ln ·OH/∂ln k|; the top three agree with central differences of
    ln(oh_produced) from simulate() with k scaled by 1 ± 1e-3 (`rates=`) to 1e-3 absolute — the difference's
    truncation error is ~h²·|∂³| ≲ 1e-6 here and both runs use rtol 1e-6, whose error in a log-ratio over
    2h = 2e-3 is ≲ 1e-3."""
    out = tmp_path / "sens.csv"
    assert main(["sensitivity", IRON, *RUN, "--top", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| rank | reaction |" in printed and "oh_produced" in printed
    rows = _rows(out)
    network = fs.compile_network(fs.load_mechanism(IRON))
    assert len(rows) == len(network.reaction_ids)
    values = [abs(float(r["d_ln_target_d_ln_k"])) for r in rows]
    assert values == sorted(values, reverse=True)
    checked = 0
    for row in rows[:3]:
        reaction = row["parameter"].removeprefix("rate:")
        source = network.source_reaction[network.reaction_ids.index(reaction)]
        if sum(s == source for s in network.source_reaction) > 1:
            continue  # `rates=` scales every branch of a mechanism reaction; the row is one branch
        k = float(row["k"]) / _fold(network, reaction)
        ln = [math.log(float(metrics(fs.simulate(IRON, conditions="tme", initial={"Fe+2": "20 uM"}, t_end=600,
                                                  rates={source: k * factor}))["oh_produced"]))
              for factor in (1 + 1e-3, 1 - 1e-3)]
        assert float(row["d_ln_target_d_ln_k"]) == pytest.approx((ln[0] - ln[1]) / 2e-3, abs=1e-3), reaction
        checked += 1
    assert checked >= 2, "the top rows are branches: the finite-difference oracle checked too little"


def _fold(network, reaction):
    """Effective k / reference k of a network reaction at the run's conditions (speciation and clamped species
    folded in), so that the reference constant `rates=` takes can be recovered from the row's effective k."""
    point = fs.simulate(IRON, conditions="tme", initial={"Fe+2": "20 uM"}, t_end=1, n_points=2)
    i = network.reaction_ids.index(reaction)
    return float(point["rate_constant"].values[i]) / float(network.k_ref[i])


def test_species_target_and_form_names(tmp_path, capsys):
    """`--target H2O2` (a form) ranks the constants by their control of its pool's final concentration, the
    same numbers as `--target peroxide`."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["sensitivity", IRON, *RUN, "--target", "H2O2", "--quiet", "--out", str(a)]) == 0
    assert main(["sensitivity", IRON, *RUN, "--target", "peroxide", "--quiet", "--out", str(b)]) == 0
    capsys.readouterr()
    ra, rb = _rows(a), _rows(b)
    assert [r["d_ln_target_d_ln_k"] for r in ra] == [r["d_ln_target_d_ln_k"] for r in rb]
    assert ra[0]["target"] == "H2O2"


def test_bad_target_is_a_one_line_error(tmp_path, capsys):
    """An unknown target is exit 1 with one line naming it and what is expected; nothing is written."""
    out = tmp_path / "s.csv"
    assert main(["sensitivity", IRON, *RUN, "--target", "nope", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert "`--target nope`: no such species; expected `oh_produced`" in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_bad_top_is_a_usage_error(capsys):
    """`--top 0` is an argparse usage error (exit 2) naming the flag."""
    with pytest.raises(SystemExit) as exit_info:
        main(["sensitivity", IRON, *RUN, "--top", "0"])
    assert exit_info.value.code == 2 and "--top" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- global, plots, compare
GLOBAL = [*RUN, "--global", "morris", "--samples", "8", "--seed", "4"]


def test_global_morris_table_and_csv_are_the_api_result(tmp_path, capsys):
    """`--global morris` prints the ranked table and writes one CSV row per documented range of the mechanism,
    ranked by mu*, with the numbers fs.global_sensitivity gives for the same mechanism, conditions, N and
    seed (the CLI adds nothing of its own); the tornado chart is a PNG fentonsim recognises as its own, so
    the same command runs again without --overwrite."""
    pytest.importorskip("SALib")
    from fentonsim.global_sensitivity import global_sensitivity

    out, plot = tmp_path / "g.csv", tmp_path / "g.png"
    assert main(["sensitivity", IRON, *GLOBAL, "--out", str(out), "--plot", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert "morris over" in printed and "| rank | reaction | range | mu* ±" in printed
    rows = _rows(out)
    api = global_sensitivity({"iron": IRON}, ["tme"], "morris", 8, t_end=600, initial={"Fe+2": "20 uM"}, seed=4)
    factors = [str(r) for r in api.reaction.values if api.is_factor.sel(model="iron", reaction=r)]
    assert sorted(r["reaction"] for r in rows) == sorted(factors)
    mu = [float(r["mu_star"]) for r in rows]
    assert mu == sorted(mu, reverse=True) and mu[0] > 0
    for row in rows:
        cell = api.sel(model="iron", condition="tme", reaction=row["reaction"]).isel(n=-1)
        assert float(row["mu_star"]) == float(cell.mu_star) and float(row["sigma_conf"]) == float(cell.sigma_conf)
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert main(["sensitivity", IRON, *GLOBAL, "--quiet", "--out", str(out), "--plot", str(plot)]) == 0
    assert _rows(out) == rows


def test_global_sobol_csv_columns(tmp_path, capsys):
    """`--global sobol --samples 8` writes ST, S1 and their bootstrap half-widths per factor, ranked by ST."""
    pytest.importorskip("SALib")
    out = tmp_path / "s.csv"
    assert main(["sensitivity", IRON, *RUN, "--global", "sobol", "--samples", "8", "--quiet", "--out", str(out)]) == 0
    rows = _rows(out)
    assert list(rows[0]) == ["rank", "model", "condition", "reaction", "k_low", "k_high", "ST", "ST_conf", "S1",
                             "S1_conf", "n", "metric", "scale"]
    st = [float(r["ST"]) for r in rows]
    assert st == sorted(st, reverse=True) and rows[0]["n"] == "8" and rows[0]["scale"] == "log"


@pytest.mark.parametrize("extra, message", [
    (["--samples", "8"], "`--samples` applies to global sensitivities"),
    (["--seed", "1", "--include-factors"], "`--seed` and `--include-factors` apply to global"),
    (["--global", "morris", "--target", "H2O2"], "`--target H2O2`: global sensitivities analyse a metric"),
    (["--global", "sobol", "--samples", "12"], "power of 2"),
    (["--plot", "x.bmp"], "`--plot x.bmp`: the figure's suffix must be .png, .svg or .pdf"),
    (["--out", "f.png", "--plot", "./f.png"], "`--plot` and `--out` are the same file `f.png`"),
    (["--global", "morris", "--rate", "NOPE=1"], "NOPE"),
])
def test_global_and_plot_mistakes_are_one_line_errors(extra, message, tmp_path, capsys, monkeypatch):
    """A flag of the other mode, a species target for a global analysis, a Sobol' N that is not a power of 2,
    an unknown figure format, a figure written over the table, an unknown override: exit 1, one line naming
    it, and no file written."""
    pytest.importorskip("SALib")
    monkeypatch.chdir(tmp_path)
    out = [] if "--out" in extra else ["--out", "s.csv"]
    assert main(["sensitivity", IRON, *RUN, *extra, *out]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


def test_unknown_global_method_is_a_usage_error(capsys):
    """`--global fast` is an argparse usage error (exit 2) listing the methods."""
    with pytest.raises(SystemExit) as exit_info:
        main(["sensitivity", IRON, *RUN, "--global", "fast"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--global" in err and "morris" in err


def test_missing_salib_is_one_line_naming_the_extra(monkeypatch, capsys, tmp_path):
    """Without SALib, `--global` exits 1 with one line saying which extra to install."""
    import sys
    monkeypatch.setitem(sys.modules, "SALib", None)
    assert main(["sensitivity", IRON, *GLOBAL, "--out", str(tmp_path / "g.csv")]) == 1
    err = capsys.readouterr().err.strip()
    assert "pip install 'fentonsim[analysis]'" in err and len(err.splitlines()) == 1, err


def test_local_plot_is_a_tornado_of_the_table(tmp_path, capsys):
    """`--plot` in the local mode writes a figure (SVG here) whose bars are the top rows of the table: every
    reaction label of the top 15 appears in it."""
    out, plot = tmp_path / "l.csv", tmp_path / "l.svg"
    assert main(["sensitivity", IRON, *RUN, "--quiet", "--out", str(out), "--plot", str(plot)]) == 0
    text = plot.read_text()
    assert "<dc:title>fentonsim</dc:title>" in text
    capsys.readouterr()
    for row in _rows(out)[:15]:
        label = row["parameter"].removeprefix("rate:")
        assert f"{label}" in text or "".join(f"&#x{ord(c):x};" if not c.isalnum() else c for c in label) in text


def test_compare_sensitivity_matches_finite_differences_of_compare(tmp_path, capsys):
    """`compare --sensitivity` writes compare-sensitivity.csv (every reaction per catalyst × condition, ranked by
    |∂ln ·OH/∂ln k|), its tornado figure and a Markdown section. For the top unbranched copper reaction at each
    condition, the value agrees with a central difference of ln(oh_produced) from fs.compare itself with that
    constant scaled by 1 ± 1e-3 (`rates=`) to 1e-3 absolute (truncation ~h² and rtol 1e-6 over 2h = 2e-3;
    measured: CG4 at both, 1e-7 and 2e-5)."""
    from fentonsim import compare
    from fentonsim.problem import resolve_mechanism

    directory = tmp_path / "cmp"
    argv = ["compare", "--catalyst", "iron", "--catalyst", "copper", "--t-end", "600", "--uncertainty", "0",
            "--no-decomposition", "--sensitivity", "--out", str(directory)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Which constants drive total ·OH produced" in printed and "| Cu⁺/Fe²⁺ |" in printed
    assert (directory / "compare-sensitivity.png").stat().st_size > 0
    rows = _rows(directory / "compare-sensitivity.csv")
    mechanism = resolve_mechanism([str(MECHANISMS / "copper.yaml"), str(MECHANISMS / "glutathione.yaml")])
    reference = {r.id: r.rate.k for r in mechanism.reactions if not r.is_branched and not r.reversible and r.rate.k}
    for condition in ("tme", "normal"):
        cell = [r for r in rows if r["catalyst"] == "Cu⁺" and r["condition"] == condition]
        values = [abs(float(r["d_ln_oh_d_ln_k"])) for r in cell]
        assert values == sorted(values, reverse=True)
        assert [int(r["rank"]) for r in cell] == list(range(1, len(cell) + 1))
        row = next(r for r in cell if r["reaction"] in reference)
        k = reference[row["reaction"]]
        ln = [math.log(float(compare(["copper"], [condition], t_end=600, uncertainty=0, decompose=False,
                                     rates={row["reaction"]: k * factor}, progress=False)
                             ["oh_produced"].values[0, 0])) for factor in (1 + 1e-3, 1 - 1e-3)]
        assert float(row["d_ln_oh_d_ln_k"]) == pytest.approx((ln[0] - ln[1]) / 2e-3, abs=1e-3), row


def test_compare_sensitivity_dataset_is_nan_where_undefined():
    """fs.compare(sensitivity=True): `oh_sensitivity` over (catalyst, condition, sensitivity_reaction) is finite
    on every reaction of iron (which makes ·OH), NaN on the reactions iron lacks (manganese's M10-MnIV) and NaN
    throughout for manganese, which makes no ·OH (∂ln 0 is undefined) — shown as "—" in the Markdown — while
    `oh_sensitivity_k` still gives manganese's constants."""
    from fentonsim import compare
    from fentonsim.compare import sensitivity_lines

    result = compare(["iron", "manganese"], ["tme"], t_end=600, uncertainty=0, decompose=False, sensitivity=True,
                     progress=False)
    s = result["oh_sensitivity"]
    assert s.dims == ("catalyst", "condition", "sensitivity_reaction") and s.attrs["units"] == "1"
    iron_k = result["oh_sensitivity_k"].sel(catalyst="iron", condition="tme").values
    iron_s = s.sel(catalyst="iron", condition="tme").values
    assert np.all(np.isfinite(iron_s) == np.isfinite(iron_k)) and np.isfinite(iron_s).sum() > 20
    assert np.isnan(s.sel(catalyst="iron", sensitivity_reaction="M10-MnIV").values).all()
    assert np.isnan(s.sel(catalyst="manganese").values).all()
    assert np.isfinite(result["oh_sensitivity_k"].sel(catalyst="manganese", sensitivity_reaction="M10-MnIV").values)
    assert "| Mn²⁺ | — |" in "\n".join(sensitivity_lines(result))


def test_merged_model_is_compares_catalyst(tmp_path, capsys):
    """MODEL may be several mechanisms, merged: `copper glutathione` with 20 µM Cu⁺ at tme is compare's copper
    catalyst, so its local ∂ln ·OH/∂ln k equal compare --sensitivity's Cu⁺ row by row (to 1e-6 relative: the
    same integration), and `--global` samples the ranges of both files (Cu–glutathione constants CG* included)
    under the model name `copper+glutathione`."""
    pytest.importorskip("SALib")
    local, global_, directory = tmp_path / "l.csv", tmp_path / "g.csv", tmp_path / "cmp"
    run = ["copper", "glutathione", "--conditions", "tme", "--initial", "Cu+=20 uM", "--t-end", "600", "--quiet"]
    assert main(["sensitivity", *run, "--out", str(local)]) == 0
    assert main(["compare", "--catalyst", "copper", "--conditions", "tme", "--t-end", "600", "--uncertainty", "0",
                 "--sensitivity", "--quiet", "--out", str(directory)]) == 0
    ours = {r["parameter"].removeprefix("rate:"): float(r["d_ln_target_d_ln_k"]) for r in _rows(local)}
    theirs = {r["reaction"]: float(r["d_ln_oh_d_ln_k"]) for r in _rows(directory / "compare-sensitivity.csv")}
    assert set(ours) == set(theirs)
    for reaction, value in theirs.items():
        assert ours[reaction] == pytest.approx(value, rel=1e-6, abs=1e-12), reaction
    assert main(["sensitivity", *run, "--global", "morris", "--samples", "4", "--out", str(global_)]) == 0
    rows = _rows(global_)
    assert {r["model"] for r in rows} == {"copper+glutathione"}
    assert {"CG2", "CG3", "CG4", "G4", "C1"} <= {r["reaction"] for r in rows}
