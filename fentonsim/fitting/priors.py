"""Gaussian priors on ln k from the uncertainty each reaction documents, and the literature values.

A mechanism reaction's ``uncertainty`` (fentonsim.mechanism.schema.Uncertainty) becomes a normal prior on
ln k centred on the documented constant (the active parameter set's, r = k·Π[c]^ν convention):

- ``log10-sd: s``       sd = s·ln 10;
- ``factor: f``         sd = ln f (an uncertainty factor read as one standard deviation, as JPL and
                        IUPAC evaluations state theirs);
- ``range: [lo, hi]``   sd = (ln hi − ln lo)/4 (a spread of published values read as a 95 % interval).

``log10-sd`` wins over ``factor``, which wins over ``range``. Reactions without a documented uncertainty
get no prior (listed in the fit's notes).
"""
from __future__ import annotations

import math


def prior_of(reaction) -> tuple[float, float] | None:
    """(mean of ln k, sd) for a mechanism Reaction, or None without a usable uncertainty."""
    u, k = reaction.uncertainty, reaction.rate.k
    if u is None or not k > 0:
        return None
    if u.log10_sd is not None and u.log10_sd > 0:
        return math.log(k), u.log10_sd * math.log(10.0)
    if u.factor is not None and u.factor > 1:
        return math.log(k), math.log(u.factor)
    if u.low is not None and u.high is not None and u.high > u.low > 0:
        return math.log(k), (math.log(u.high) - math.log(u.low)) / 4.0
    return None


def literature(mechanism, reaction_id: str) -> float:
    """The documented constant of ``reaction_id`` [M^(1−m) s⁻¹] (NaN when unknown)."""
    if mechanism is None:
        return math.nan
    try:
        return float(mechanism.reaction(reaction_id).rate.k)
    except KeyError:
        return math.nan
