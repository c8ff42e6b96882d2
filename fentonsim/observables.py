"""Derived outputs (imported SBML assignment rules) added to a result Dataset.

Variables (dimension ``observable``, coordinate ``observable`` with ``units``
per entry in the ``observable_units`` coordinate):

- ODE result: ``observed`` (time, observable);
- stochastic result with trajectories: ``observed`` (run, time, observable);
- stochastic result with streaming statistics: ``observed_mean`` and
  ``observed_sd`` (time, observable). These are exact when the observable is
  affine in at most one species (``y = a·X + b``: mean a·E[X] + b, sd |a|·sd X);
  for anything else the trajectories are needed, so the values are NaN and
  the variable's ``not_available`` attribute names the observables affected.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .expression import affine, evaluate


def _values(observable, concentration, species, time):
    """Evaluate on ``concentration`` (…, time, species) [M]; returns (…, time)."""
    scale = dict(observable.scale)
    values = {"time": time}
    for name in scale:
        values[name] = concentration[..., species.index(name)] * scale[name]
    result = evaluate(observable.expression, values)
    return np.broadcast_to(np.asarray(result, dtype=float), concentration.shape[:-1]).copy()


@lru_cache(maxsize=4096)
def _has_symbols(expression) -> bool:
    return expression[0] == "sym" or (expression[0] not in ("num", "sym") and
                                      any(_has_symbols(a) for a in expression[2]))


def observed_values(observables, concentration, species, time):
    """Every observable on ``concentration`` (…, time, species) [M]; returns (…, time, observable).

    An observable without symbols (an SBML model's constant parameter or compartment size) is one number,
    filled in directly: an imported model can carry dozens of them, each a full evaluation otherwise.
    """
    out = np.empty(concentration.shape[:-1] + (len(observables),))
    for j, o in enumerate(observables):
        if _has_symbols(o.expression):
            out[..., j] = _values(o, concentration, species, time)
        else:
            out[..., j] = float(evaluate(o.expression, {}))
    return out


def add_observables(dataset, observables):
    """``dataset`` with the observables' variables (see the module docstring); unchanged when there are none."""
    if not observables:
        return dataset
    species = [str(s) for s in dataset.species.values]
    time = dataset.time.values
    names = [o.name for o in observables]
    coords = {"observable": ("observable", names),
              "observable_units": ("observable", [o.units for o in observables])}
    dataset = dataset.assign_coords(coords)
    if "concentration" in dataset:
        conc = dataset.concentration.values
        values = observed_values(observables, conc, species, time)
        dims = dataset.concentration.dims[:-1] + ("observable",)
        dataset["observed"] = (dims, values, {"units": "see observable_units", "long_name": "observable"})
        return dataset
    mean = dataset.concentration_mean.values
    sd = dataset.concentration_sd.values
    out_mean = np.full((time.size, len(observables)), np.nan)
    out_sd = np.full_like(out_mean, np.nan)
    unavailable = []
    for j, o in enumerate(observables):
        linear = affine(o.expression)
        variables = {} if linear is None else {k: v for k, v in linear[1].items() if v}
        if linear is None or len(variables) > 1 or "time" in variables:
            unavailable.append(o.name)
            continue
        constant = linear[0]
        if not variables:
            out_mean[:, j], out_sd[:, j] = constant, 0.0
            continue
        (name, coefficient), = variables.items()
        a = coefficient * dict(o.scale)[name]
        out_mean[:, j] = constant + a * mean[:, species.index(name)]
        out_sd[:, j] = abs(a) * sd[:, species.index(name)]
    note = {"not_available": ", ".join(unavailable)} if unavailable else {}
    dataset["observed_mean"] = (("time", "observable"), out_mean,
                                {"units": "see observable_units", "long_name": "ensemble mean of observable", **note})
    dataset["observed_sd"] = (("time", "observable"), out_sd,
                              {"units": "see observable_units", "long_name": "ensemble sd of observable", **note})
    return dataset
