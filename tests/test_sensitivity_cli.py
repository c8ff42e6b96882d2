"""`fentonsim sensitivity` ranks the rate constants by ∂ln y/∂ln k: the ranking is by magnitude, the numbers
agree with finite differences of the ·OH metric simulate() reports, and bad targets are one-line errors."""
from __future__ import annotations

import csv
import math

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
