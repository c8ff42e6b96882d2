"""Uncertainty propagation: Latin-hypercube samples of the contested rate constants.

Every reaction whose constant carries a documented ``range`` (the contested ones: Fe²⁺ + H2O2 50–76,
Cu⁺ + H2O2 7e3–1e4, ...) is sampled log-uniformly within it, on a Latin hypercube (each constant's range cut
into ``n_samples`` equal-probability strata, each stratum used once). ``factor`` uncertainties are included
with ``include_factors=True`` ([k/f, k·f]). The same sample is applied to every catalyst, so reactions they
share (ROS core, GSH) move together and ratios between catalysts are meaningful.
"""
from __future__ import annotations


import numpy as np
import xarray as xr

from .catalysts import DEFAULT_CATALYSTS, DEFAULT_DOSE, parse_catalyst
from .compare import DEFAULT_METRIC
from .errors import ConditionsError
from .problem import resolve_mechanism
from .sampling import latin_hypercube, mechanism_ranges
from .sweep import sweep


def contested_ranges(catalysts=DEFAULT_CATALYSTS, include_factors=False) -> dict:
    """{reaction id: (low, high)} [M^(1−m) s⁻¹, the r = k·Π convention] over the catalysts' mechanisms."""
    return mechanism_ranges([resolve_mechanism([str(f) for f in parse_catalyst(c).files]) for c in catalysts],
                            include_factors)


def propagate(catalysts=("iron", "copper"), ph=(6.5, 7.4), n_samples=32, *, metric=DEFAULT_METRIC,
              conditions="tme", dose=DEFAULT_DOSE, t_end="1 h", seed=0, include_factors=False,
              backend="batch", client=None, store=None, progress=None) -> xr.Dataset:
    """Spread of ``metric`` over Latin-hypercube samples of the contested constants, per catalyst and pH.

    Returns a Dataset with ``metric`` over (sample, catalyst, pH); ``ratio`` over (sample, pH) of the second
    catalyst's metric to the first's (Cu/Fe by default); and ``<metric>_quantiles`` / ``ratio_quantiles`` at
    5, 50 and 95 %. The sampled constants are the variable ``k_sampled`` over (sample, reaction).
    """
    names = [parse_catalyst(c).name for c in catalysts]
    ranges = contested_ranges(catalysts, include_factors)
    if not ranges:
        raise ConditionsError("no reaction of these catalysts has a documented range to sample")
    samples = latin_hypercube(ranges, n_samples, seed)
    own_ids = {}
    for c in catalysts:
        catalyst = parse_catalyst(c)
        own_ids[catalyst.name] = {r.id for r in resolve_mechanism([str(f) for f in catalyst.files]).reactions}
    points = []
    for s, sample in enumerate(samples):
        for name in names:
            rates = {f"rate:{rid}": k for rid, k in sample.items() if rid in own_ids[name]}
            for value in ph:
                points.append({"model": name, "pH": float(value), "sample": s, **rates})
    # `sample` is bookkeeping, not a condition: keep it out of the sweep and put it back afterwards.
    conditions_only = [{k: v for k, v in p.items() if k != "sample"} for p in points]
    result = sweep(list(catalysts), points=conditions_only, conditions=conditions, dose=dose, t_end=t_end,
                   backend=backend, client=client, store=store, progress=progress)
    values = result[metric].values.reshape(n_samples, len(names), len(ph))
    out = xr.Dataset(
        {metric: (("sample", "catalyst", "pH"), values, dict(result[metric].attrs)),
         "k_sampled": (("sample", "reaction"), np.array([[s[r] for r in sorted(ranges)] for s in samples]),
                       {"units": "M^(1-order) s^-1", "long_name": "sampled reference rate constant"})},
        coords={"sample": np.arange(n_samples), "catalyst": names, "pH": np.asarray(ph, dtype=float),
                "reaction": sorted(ranges), "quantile": [0.05, 0.5, 0.95],
                "k_low": ("reaction", [ranges[r][0] for r in sorted(ranges)]),
                "k_high": ("reaction", [ranges[r][1] for r in sorted(ranges)])},
        attrs={"n_samples": n_samples, "seed": seed, "metric": metric, "conditions": str(conditions),
               "design": "Latin hypercube, log-uniform within documented ranges"})
    out[f"{metric}_quantiles"] = (("quantile", "catalyst", "pH"), np.nanquantile(values, [0.05, 0.5, 0.95], axis=0),
                                  dict(result[metric].attrs))
    if len(names) >= 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = values[:, 1, :] / values[:, 0, :]
        out["ratio"] = (("sample", "pH"), ratio, {"units": "1", "long_name": f"{names[1]}/{names[0]} {metric}"})
        out["ratio_quantiles"] = (("quantile", "pH"), np.nanquantile(ratio, [0.05, 0.5, 0.95], axis=0),
                                  {"units": "1", "long_name": f"{names[1]}/{names[0]} {metric}"})
    return out
