"""The tumour/normal difference split into causes: stages, steps and their factors.

``fentonsim.compare`` runs one deterministic simulation per stage — from the reference
condition (e.g. ``normal``) to the target (e.g. ``tme``), each stage changing one thing
more — and stores each stage's metrics as ``stage_<metric>`` variables over
(``catalyst``, ``stage``). This module names the stages and turns them into factors;
the writers and plotting read it, so neither depends on the other.
"""
from __future__ import annotations

import math

import xarray as xr

DEFAULT_METRIC = "oh_produced"

#: Stages of the decomposition, from the reference condition (e.g. normal) to the target (e.g. tumour):
#: each changes one thing more. ``pH at target composition`` is the target with the reference pH — the pH
#: effect measured the other way round (the two differ where pH interacts with H2O2 or GSH).
STAGES = ("reference", "+ pH", "+ H2O2", "+ GSH", "target", "pH at target composition")
#: Multiplicative steps shown in the decomposition: (label, numerator stage, denominator stage).
STEPS = (("pH alone", "+ pH", "reference"), ("H2O2", "+ H2O2", "+ pH"), ("GSH", "+ GSH", "+ H2O2"),
         ("the rest", "target", "+ GSH"), ("pH at target composition", "target", "pH at target composition"))


def decomposition_rows(result: xr.Dataset, metric=DEFAULT_METRIC):
    """Per catalyst: (label, reference value, [factor per STEPS], target value); factors are ratios of
    the metric between consecutive stages (:func:`ratio`)."""
    name = f"stage_{metric}"
    if name not in result:
        return []
    values = result[name]
    rows = []
    for i, label in enumerate(result["label"].values):
        by_stage = dict(zip(result["stage"].values, values.values[i]))
        factors = [ratio(by_stage[num], by_stage[den]) for _, num, den in STEPS]
        rows.append((str(label), by_stage["reference"], factors, by_stage["target"]))
    return rows


def ratio(a: float, b: float) -> float:
    """a / b as a factor (negative when a metric changes sign, e.g. O2 consumed turning into O2 made): inf when
    only b is 0, NaN when both are (no ratio exists)."""
    if b != 0:
        return a / b
    return math.inf if a != 0 else math.nan
