"""The benchmark regression check: ratios below thresholds, disagreeing peers and missing peers."""
from __future__ import annotations

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
