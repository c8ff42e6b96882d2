"""Latin-hypercube samples of the documented rate-constant ranges.

A reaction whose constant carries a documented ``range`` (the contested ones: Fe²⁺ + H2O2 50–76,
Cu⁺ + H2O2 7e3–1e4, ...) is sampled log-uniformly within it, each constant's range cut into
``n_samples`` equal-probability strata, each stratum used once. ``factor`` uncertainties join with
``include_factors=True`` ([k/f, k·f]). Samples are reference constants by mechanism reaction id, the
form ``Network.rate_constants(reference=...)`` and ``Conditions.rates`` take, so sampling never recompiles.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import ConditionsError


def mechanism_ranges(mechanisms, include_factors=False) -> dict:
    """{reaction id: (low, high)} [M^(1−m) s⁻¹, the r = k·Π convention] over ``mechanisms``."""
    ranges = {}
    for mechanism in mechanisms:
        for reaction in mechanism.reactions:
            u = reaction.uncertainty
            if u is None or reaction.rate.k <= 0:
                continue
            if u.low is not None and u.high is not None and u.high > u.low > 0:
                ranges[reaction.id] = (u.low, u.high)
            elif include_factors and u.factor is not None and u.factor > 1:
                ranges[reaction.id] = (reaction.rate.k / u.factor, reaction.rate.k * u.factor)
    return ranges


def latin_hypercube(ranges: dict, n_samples: int, seed: int = 0) -> list[dict]:
    """``n_samples`` dicts {reaction id: k}, log-uniform Latin-hypercube samples of ``ranges``."""
    if n_samples < 2:
        raise ConditionsError(f"`n_samples` must be at least 2, found {n_samples}")
    rng = np.random.default_rng(seed)
    columns = {}
    for rid, (low, high) in sorted(ranges.items()):
        u = (rng.permutation(n_samples) + rng.random(n_samples)) / n_samples
        columns[rid] = np.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    return [{rid: float(values[i]) for rid, values in columns.items()} for i in range(n_samples)]
