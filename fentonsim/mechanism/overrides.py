"""Rate constants set at run time: ``simulate(..., rates={"REL-Fe3O4": "2e-4 s^-1"})``.

Material-specific constants (ion release from a nanoparticle, an enzyme's
turnover) and sensitivity studies need a value that no mechanism file can
ship. An override replaces the reference constant ``k`` (at the reaction's
``T_ref``; Arrhenius and power-law factors still apply) of every branch of
the reaction, in the one rate convention r = k·Π[c]^ν — for a
``tabulated-as: 2k`` self-reaction this is the halved value.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..compartments import transport_rates_message
from ..errors import MechanismError
from ..units import Unit, rate_constant_dims, parse_quantity
from . import validate
from .law import law_order
from .schema import Mechanism


def rate_order(mechanism: Mechanism, reaction_id: str) -> float:
    """Total order of the rate law of ``reaction_id`` (mass-action part, or a checked general law's concentration
    order, plus power-law factors)."""
    reaction = mechanism.reaction(reaction_id)
    if reaction.law is not None and reaction.law_checked:
        return law_order(reaction.law, reaction.law_constants) + sum(e for _, e in reaction.rate.factors)
    kinds = validate.species_kinds(mechanism.species_by_name(), {g.pool: g for g in mechanism.speciation})
    return validate.rate_law_order(reaction, kinds) + sum(e for _, e in reaction.rate.factors)


def with_rates(mechanism: Mechanism, rates: Mapping) -> Mechanism:
    """A copy of ``mechanism`` with the reference rate constants in ``rates`` replaced.

    Parameters
    ----------
    rates : mapping of str to float or str
        Reaction id (as written in the file, not a branch id) to k in canonical
        units M^(1−m) s⁻¹ (m the rate-law order) or a quantity such as ``"63 M^-1 s^-1"``.

    Raises
    ------
    MechanismError
        For an unknown reaction id, a wrong unit or a negative constant.
    """
    if not rates:
        return mechanism
    ids = {r.id for r in mechanism.reactions}
    new_k = {}
    for rid, value in rates.items():
        if rid not in ids:
            branch_of = {b.id: r.id for r in mechanism.reactions for b in r.branches}
            hint = (f"; `{rid}` is a branch of `{branch_of[rid]}` — override the reaction" if rid in branch_of
                    else "")
            raise MechanismError(f"`rates` names unknown reaction `{rid}` of `{mechanism.name}`{hint}")
        transport = next((t for t in mechanism.transports if rid in t.reactions), None)
        if transport is not None:
            raise MechanismError(transport_rates_message(rid, transport.id))
        order = rate_order(mechanism, rid)
        dims = rate_constant_dims(order)
        k = parse_quantity(value, dims, Unit(1.0, dims), f"rate constant of `{rid}` in `rates`")
        if not k >= 0:
            raise MechanismError(f"rate constant of `{rid}` in `rates` must be ≥ 0, found {value!r}")
        new_k[rid] = k
    reactions = tuple(dataclasses.replace(r, rate=dataclasses.replace(r.rate, k=new_k[r.id]))
                      if r.id in new_k else r for r in mechanism.reactions)
    user_rates = tuple(sorted(set(mechanism.user_rates) | set(new_k)))
    return dataclasses.replace(mechanism, reactions=reactions, user_rates=user_rates)
