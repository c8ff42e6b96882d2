"""The result of a simulation: an ``xarray.Dataset`` with a fixed schema.

Deterministic result (``method="ode"``)
----------------------------------------
Dimensions
    ``time`` (n_out), ``species`` (n_s), ``reaction`` (n_r).
Coordinates
    ``time`` (time) float64 [s];
    ``species`` (species) str — state variables (species and speciation-pool totals);
    ``forms`` (species) str — the forms a pool totals, comma-separated ("" for a plain species);
    ``reaction`` (reaction) str — network reaction ids (branch ids, ``<id>:reverse``);
    ``equation`` (reaction) str; ``source_reaction`` (reaction) str — the mechanism reaction.
Data variables
    ``concentration`` (time, species) float64 [M];
    ``extent`` (time, reaction) float64 [M] — cumulative extent ∫₀ᵗ r dt of each reaction,
    integrated with the solution (not from the sampled points), so ∫ production of
    ·OH is ``(extent * stoich).sum("reaction")`` exactly;
    ``exposure`` (time, species) float64 [M s] — ∫₀ᵗ concentration dt
    (``extent`` and ``exposure`` are absent when run with ``fluxes=False``);
    ``delivered`` (time, species) float64 [M] — cumulative amount added by boluses and sources;
    ``net_stoich`` (reaction, species) int64 — change of each species per unit extent;
    ``rate_constant`` (reaction) float64 [M^(1−order) s⁻¹] — effective constants at the run's
    conditions (speciation, temperature and clamped species folded in);
    ``order`` (reaction) int8 — order in the state variables.
    Mass balance holds exactly (to round-off):
    ``concentration(t) = concentration(t0 before inputs) + extent(t)·net_stoich + delivered(t)``.
Attributes
    ``fentonsim_version``; ``method`` ("ode"); ``solver``; ``rtol``; ``atol`` [M] (a number,
    or a list per species); ``pH``; ``temperature_K``; ``conditions`` (preset name or "");
    ``mechanism`` (name); ``mechanism_sha256``; ``parameter_set`` (or ""); ``inputs``
    (one line per bolus/source, or ""); ``ignored_inputs`` (preset species absent from the
    mechanism, or ""); counters ``n_steps``, ``n_rejected``, ``n_rhs``, ``n_jac``, ``n_lu``
    (−1: not reported by the solver); ``wall_time_s``; ``rate_convention``.

Every data variable carries ``units`` and ``long_name`` attributes. Attribute
values are strings and numbers only, so the dataset writes to NetCDF as is.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

RATE_CONVENTION = ("r = k·Π[x]^ν over reactants (self-reactions 2A→P: r = k[A]², d[A]/dt = −2r); "
                   "d[x]/dt = Σ_reactions ν_net·r")


def delivered_by_inputs(network, inputs, time) -> np.ndarray:
    """Cumulative amounts [M] added by ``inputs`` by each time, shape (n_out, n_s)."""
    out = np.zeros((time.size, network.n_species))
    for b in range(inputs.bolus_time.size):
        out[time >= inputs.bolus_time[b], inputs.bolus_species[b]] += inputs.bolus_amount[b]
    for j, source in enumerate(inputs.sources):
        out[:, inputs.source_species[j]] += source.delivered(time)
    return out


def ode_dataset(network, solution, k, attrs) -> xr.Dataset:
    """Build the deterministic-result Dataset (schema in the module docstring)."""
    delivered = (delivered_by_inputs(network, solution.inputs, solution.time)
                 if solution.inputs is not None else np.zeros_like(solution.concentration))
    fluxes = {} if solution.extent is None else {
        "extent": (("time", "reaction"), solution.extent,
                   {"units": "M", "long_name": "cumulative reaction extent ∫r dt"}),
        "exposure": (("time", "species"), solution.exposure,
                     {"units": "M s", "long_name": "exposure ∫[x] dt"}),
    }
    dataset = xr.Dataset(
        data_vars={
            "concentration": (("time", "species"), solution.concentration,
                              {"units": "M", "long_name": "concentration"}),
            **fluxes,
            "delivered": (("time", "species"), delivered,
                          {"units": "M", "long_name": "cumulative amount added by boluses and sources"}),
            "net_stoich": (("reaction", "species"), np.asarray(network.net_stoich),
                           {"units": "1", "long_name": "net stoichiometric coefficient"}),
            "rate_constant": (("reaction",), np.asarray(k, dtype=float),
                              {"units": "M^(1-order) s^-1", "long_name": "effective rate constant"}),
            "order": (("reaction",), np.asarray(network.order), {"units": "1", "long_name": "reaction order"}),
        },
        coords={
            "time": ("time", solution.time, {"units": "s", "long_name": "time"}),
            "species": ("species", list(network.species)),
            "forms": ("species", [", ".join(f for f, pool in network.pool_of_form.items() if pool == name)
                                  for name in network.species]),
            "reaction": ("reaction", list(network.reaction_ids)),
            "equation": ("reaction", list(network.equations)),
            "source_reaction": ("reaction", list(network.source_reaction)),
        },
    )
    atol = solution.atol
    dataset.attrs.update({
        "method": "ode",
        "solver": solution.solver,
        "rtol": float(solution.rtol),
        "atol": float(atol[0]) if np.all(atol == atol[0]) else [float(a) for a in atol],
        **{name: int(value) for name, value in solution.counters.items()},
        "wall_time_s": float(solution.wall_time_s),
        "rate_convention": RATE_CONVENTION,
        **attrs,
    })
    return dataset
