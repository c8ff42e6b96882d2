"""The benchmark regression check: ratios below thresholds, disagreeing peers and missing peers."""
from __future__ import annotations

import numpy as np

from benchmarks.thresholds import MAX_SLOWDOWN, MIN_SPEEDUP, check


def _results(rows):
    return {"benchmarks": {"any": rows}}


def test_met_thresholds_pass_and_missing_peers_are_skipped():
    rows = [{"case": case, "speedup": limit * 1.1, "agrees": True} for case, limit in MIN_SPEEDUP.items()]
    rows[0] = {"case": rows[0]["case"], "note": "not installed"}
    rows += [{"case": case, "slowdown": limit * 0.9, "agrees": True} for case, limit in MAX_SLOWDOWN.items()]
    assert check(_results(rows)) == []


def test_a_regressed_ratio_fails_with_the_numbers():
    case, limit = next(iter(MIN_SPEEDUP.items()))
    failures = check(_results([{"case": case, "speedup": limit * 0.5, "agrees": True}]))
    assert len(failures) == 1 and case in failures[0] and f"threshold {limit}x" in failures[0]


def test_a_disagreeing_peer_fails_even_when_slow():
    case = next(iter(MIN_SPEEDUP))
    failures = check(_results([{"case": case, "agrees": False, "note": "z = 40"}]))
    assert failures and "disagree" in failures[0]


def test_dask_slowdown_is_bounded():
    case, limit = next(iter(MAX_SLOWDOWN.items()))
    assert check(_results([{"case": case, "slowdown": limit * 2, "agrees": True}]))


def test_the_ssa_agreement_check_is_calibrated_for_the_quick_ensembles():
    """The peer-agreement test (4 of fentonsim's runs against 2 of a peer's, 5 species) almost never flags
    two ensembles of one distribution (the old z-score did about once in tens of runs), yet flags a peer
    whose means are off by a few standard deviations of a single run."""
    from benchmarks.bench_ssa import _agreement

    rng = np.random.default_rng(7)
    mean, sd = np.full(5, 5.0e4), np.full(5, 300.0)
    false_alarms = sum(not _agreement(rng.normal(mean, sd, (2, 5)), rng.normal(mean, sd, (4, 5)))[0]
                       for _ in range(2000))
    assert false_alarms <= 3  # FALSE_ALARM = 1e-4 per check: 0.2 expected in 2,000
    assert not _agreement(rng.normal(mean + 40 * sd, sd, (2, 5)), rng.normal(mean, sd, (4, 5)))[0]
