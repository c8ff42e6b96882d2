"""Several compartments: the semantics, written down once.

A multi-compartment mechanism has well-mixed compartments c of volume V_c [L] (extracellular space, cytosol,
lysosome). Each species lives in one compartment and its state is its **concentration [M] in that
compartment** — ``H2O2@cytosol`` is the cytosolic concentration; results carry a ``compartment`` coordinate
along ``species`` and the names say it too.

Why concentrations and not amounts: everything else in fentonsim — initial values, boluses, clamps,
conditions presets, metrics, the rate constants of the literature — is in M of the solution the species is
in. Keeping each species' concentration in its own compartment as the state leaves all of them meaning
what they meant; volumes enter only where matter crosses a boundary, or where a compartment's size changes.

- **Reactions inside one compartment** follow the one convention r = k·g (g = Π[c]^ν for mass action) with
  the compartment's concentrations, as in a single volume. A reaction may not mix species of different
  compartments (a one-line error names it) unless it is transport.
- **Transport** of S from compartment a to b moves amount: an amount flux J [mol s⁻¹] changes
  d[S_a]/dt = −J/V_a and d[S_b]/dt = +J/V_b, so V_a·[S_a] + V_b·[S_b] is conserved. First order (``k``,
  s⁻¹, per the source): J = k·V_a·[S_a]. Passive (``permeability-area`` P·A, L s⁻¹): J = P·A·([S_a] − [S_b]).
  Each direction compiles to two mass-action reactions of integer stoichiometry — a loss S_a → ∅ at k and
  a gain S_a → S_a + S_b at k·V_a/V_b — so the fast mass-action kernels integrate it exactly (the ODE is
  d[S_b]/dt = k·(V_a/V_b)·[S_a]).
- **SBML** kinetic laws are in substance per time: a reaction changes S by d[S]/dt = ν_S·L/V_S
  (fentonsim.sbml.compartments). A compartment whose size V(t) a rule or an event changes keeps amounts:
  reactions divide by V(t), d[S]/dt gains −[S]·(dV/dt)/V, and an event changing V multiplies the
  concentrations in it by V_before/V_after.
- **pH and temperature** are one per run: a compartment cannot declare its own (refused with a message).
- **Stochastic simulation** (SSA, tau-leaping; fentonsim.stochastic_compartments) counts each species in its
  own compartment, n_S = [S]·N_A·V_c, and a reaction inside compartment c has c_j = k_j·(N_A·V_c)^(1−m), the
  one-volume convention with that compartment's volume. The two channels above would conserve amount only
  on average, so the SSA fires each direction of a transport as one channel S_a → S_b moving one molecule,
  at k·n_a (passive: (P·A/V_a)·n_a and (P·A/V_b)·n_b): amount is conserved in every trajectory, and the
  mean flux is the ODE's. The ODE keeps its loss/gain pair. Results are concentrations in each species'
  compartment, as for the ODE. A run-wide ``volume`` is refused, and so are general rate laws or state
  events together with compartments (the law SSA evaluates laws in one volume) and compartments of
  varying size. SBML export in molecule counts refuses several compartments; in concentrations it writes
  one compartment per compartment, each reaction's law in the volume of the species it changes.

This module holds the parts every reader shares: compartment-qualified names and the reactions a transport
compiles to.
"""
from __future__ import annotations

from .constants import STANDARD_TEMPERATURE
from .mechanism.schema import Branch, RateLaw, Reaction, Transport

#: Separates a species from its compartment in a name: ``H2O2@cytosol``.
SEPARATOR = "@"


def split_name(name: str) -> tuple[str, str]:
    """(chemical, compartment) of a species name; compartment is "" for a name without ``@``."""
    base, sep, compartment = name.rpartition(SEPARATOR)
    return (base, compartment) if sep and base else (name, "")


def transport_rates_message(reaction_id: str, transport_id: str) -> str:
    """Why a run-time constant for one channel of a transport is refused."""
    # The channels share one constant; changing one would create or destroy matter at the boundary.
    return (f"`rates` names `{reaction_id}`, a reaction of transport `{transport_id}`; its constant is set in "
            "the mechanism's `transport:` section, for all its channels at once")


def transport_reaction_ids(transport_id: str, passive: bool) -> tuple[str, ...]:
    """Ids of the mass-action reactions a transport compiles to (loss and gain, then back for passive)."""
    ids = (transport_id, f"{transport_id}/gain")
    return ids + ((f"{transport_id}/back", f"{transport_id}/back-gain") if passive else ())


def transport_reactions(transport: Transport, volumes: dict) -> tuple[Reaction, ...]:
    """The reactions of ``transport`` (module docstring); ``volumes`` maps compartment to V [L]."""
    source, target = transport.species, transport.target
    v_source, v_target = volumes[split_name(source)[1]], volumes[split_name(target)[1]]
    passive = transport.permeability_area is not None
    ids = transport_reaction_ids(transport.id, passive)

    def channels(rid, gain_id, a, b, k_loss, v_a, v_b, what):
        note = f"transport `{transport.id}`: {what}" + (f"; {transport.note}" if transport.note else "")
        loss = Reaction(id=rid, reactants=((a, 1),), branches=(Branch(rid, ()),),
                        rate=RateLaw("constant", float(k_loss), STANDARD_TEMPERATURE), duplicate=True,
                        ref=transport.ref, note=note + f" (loss from {split_name(a)[1]})",
                        location=transport.location)
        # The gain is the same amount over the other volume: k·V_a/V_b, with a as a catalyst.
        gain = Reaction(id=gain_id, reactants=((a, 1),), branches=(Branch(gain_id, tuple(sorted(((a, 1), (b, 1))))),),
                        rate=RateLaw("constant", float(k_loss * v_a / v_b), STANDARD_TEMPERATURE), duplicate=True,
                        ref=transport.ref, note=note + f" (gain in {split_name(b)[1]})", location=transport.location)
        return (loss, gain)

    if not passive:
        return channels(ids[0], ids[1], source, target, transport.k, v_source, v_target, "first order")
    pa = transport.permeability_area
    return (channels(ids[0], ids[1], source, target, pa / v_source, v_source, v_target, "passive")
            + channels(ids[2], ids[3], target, source, pa / v_target, v_target, v_source, "passive, back"))
