"""Molecule counts per compartment: how the stochastic solvers count a network's molecules.

The semantics of fentonsim.compartments, read in molecules. A state variable S of compartment c holds
n_S = [S]·N_A·V_c molecules; initial values, boluses and sources, all given in M of the species' own
compartment, become counts with that compartment's N_A·V (stochastically rounded by the kernels, as in one
volume). A single-volume network is the special case of one V for everything.

- A reaction inside compartment c of order m in its integrated species has the stochastic constant
  c_j = k_j·(N_A·V_c)^(1−m) and the falling-factorial propensity of kernels/ssa.py — the convention of one
  volume, with the volume of the compartment it happens in. 2A → B in a 0.05 fL lysosome thus has
  a = k·n(n−1)/(N_A·V_lys), and its SSA mean follows d[A]/dt = −2k[A]² as counts grow.
- A transport moves one molecule per firing. The ODE compiles each direction into a loss S_a → ∅ at k and a
  gain S_a → S_a + S_b at k·V_a/V_b, which conserve amount only on average if fired as two channels. Here
  the loss row becomes the one channel S_a → S_b (n_a − 1, n_b + 1) with the loss row's propensity,
  k·n_a: first order k·n_a; passive (P·A/V_a)·n_a one way and (P·A/V_b)·n_b back. Its mean is the ODE's
  flux J = k·V_a·[S_a] (in molecules, times N_A), and n_a + n_b is conserved by every firing. A clamped end
  needs no special case: a clamped source makes the channel zero order (c = k·[S_a]·N_A·V_a), a clamped
  target makes it S_a → ∅.
- The gain row never fires on its own (c = 0): it reports its loss row's event count, since each firing is
  one molecule lost from a and one gained by b. So, per trajectory and in molecules,
  counts(t) = counts(0) + boluses + Σ_j events_j·net_stoich_j holds with the ODE's net stoichiometry.

Refused, each with a one-line reason: general rate laws or state events with compartments (the law SSA,
fentonsim.stochastic_laws, evaluates laws on the concentrations of one volume), a compartment whose size
varies, a reaction whose species span compartments of different volumes that is no transport, and a
run-wide ``volume`` (the compartments set their own).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .compartments import transport_reaction_ids
from .constants import AVOGADRO
from .errors import ConditionsError

#: Relative mismatch of a transport's loss and gain constants (k_gain·V_b against k_loss·V_a) beyond round-off.
_CHANNEL_RTOL = 1e-9
_SOLVERS = "the stochastic solvers (SSA, tau-leaping)"


@dataclass(frozen=True)
class CountView:
    """How one run counts a network's molecules (module docstring).

    ``volume`` [L]: the one volume, NaN for several compartments. ``per_molar`` (n_s) float: N_A·V
    [molecules M⁻¹] of each state variable's compartment. ``c`` (n_r) float: stochastic rate constants
    [s⁻¹ molecule^(1−m)]. ``changes`` (n_r, n_s) int64: molecules of each state variable one firing changes.
    ``extent_per_molar`` (n_r) float: N_A·V turning a row's ODE extent [M] into its own firings (0 for a
    gain row, which does not fire on its own). ``mirror_from``, ``mirror_to`` (n_m) int64: row
    ``mirror_to[i]`` reports the event count of row ``mirror_from[i]``. ``where``: the volumes, for messages.
    """

    volume: float
    per_molar: np.ndarray
    c: np.ndarray
    changes: np.ndarray
    extent_per_molar: np.ndarray
    mirror_from: np.ndarray
    mirror_to: np.ndarray
    where: str


def one_volume(network, k, volume: float) -> CountView:
    """The view of a single-volume network in ``volume`` litres (checked by the caller)."""
    nv = AVOGADRO * volume
    order = np.asarray(network.order, dtype=float)
    none = np.zeros(0, dtype=np.int64)
    return CountView(volume, np.full(network.n_species, nv), k * nv ** (1.0 - order),
                     np.asarray(network.net_stoich, dtype=np.int64), np.full(network.n_reactions, nv), none, none,
                     f"V = {volume:g} L")


def compartments(network, k, volume=None) -> CountView:
    """The view of a multi-compartment network at rate constants ``k`` (n_r) [M^(1−order) s⁻¹].

    Raises
    ------
    ConditionsError
        For what the module docstring lists as refused, naming the reason.
    """
    names = _names(network)
    if volume is not None:
        refuse_volume(network)
    if network.laws is not None:
        what = (f"general rate laws ({', '.join(network.laws.general_reactions[:5])})"
                if network.laws.general_reactions else "events triggered by the state")
        raise ConditionsError(f"{_SOLVERS} cannot take `{network.name}`: it has {what} and compartments ({names}) "
                              "of their own volumes, and the general-law SSA evaluates laws on concentrations of "
                              "one volume; use method='ode'")
    state_volume = np.asarray(network.compartment_volumes, dtype=float)
    if not np.all(np.isfinite(state_volume)):
        i = int(np.flatnonzero(~np.isfinite(state_volume))[0])
        place = network.compartments[i]
        reason = (f"compartment `{place}` changes size" if place else "it lies in no compartment")
        raise ConditionsError(f"{_SOLVERS} cannot take `{network.name}`: `{network.species[i]}` has no constant "
                              f"volume to count its molecules in ({reason}); use method='ode'")
    per_molar = AVOGADRO * state_volume
    order = np.asarray(network.order, dtype=float)
    reaction_volume = np.asarray(network.reaction_volumes, dtype=float)
    changes = np.array(network.net_stoich, dtype=np.int64)
    loss, gain = _transport_pairs(network)
    for j, g in zip(loss, gain):
        _check_channel(network, k, j, g, reaction_volume[j], _gain_volume(network, g))
    channel = np.zeros(network.n_reactions, dtype=bool)
    channel[loss], channel[gain] = True, True
    bad = np.flatnonzero(~channel & ~np.isfinite(reaction_volume))
    if bad.size:
        rid = network.reaction_ids[int(bad[0])]
        raise ConditionsError(f"{_SOLVERS} cannot take `{network.name}`: reaction `{rid}` has species in "
                              "compartments of different or varying volumes, so no one volume counts its "
                              "molecules; write passage between compartments as `transport:`, or use method='ode'")
    # A gain row's volume is unused (c = 0); 1 L keeps the arithmetic finite.
    reaction_volume = np.where(channel & ~np.isfinite(reaction_volume), 1.0, reaction_volume)
    nv = AVOGADRO * reaction_volume
    c = k * nv ** (1.0 - order)
    extent_per_molar = nv.copy()
    changes[loss] += changes[gain]
    changes[gain] = 0
    c[gain] = 0.0
    extent_per_molar[gain] = 0.0
    where = "compartments " + ", ".join(f"{name} ({v:g} L)" for name, v in
                                        dict(zip(network.compartments, state_volume)).items() if name)
    return CountView(math.nan, per_molar, c, changes, extent_per_molar, np.array(loss, dtype=np.int64),
                     np.array(gain, dtype=np.int64), where)


def _names(network) -> str:
    return ", ".join(dict.fromkeys(c for c in network.compartments if c))


def refuse_volume(network):
    """Raise the ConditionsError for a run-wide ``volume`` given to a multi-compartment network."""
    raise ConditionsError(f"`volume` does not apply to `{network.name}`: its compartments ({_names(network)}) have "
                          "their own volumes, set in the mechanism's `compartments:`; drop `volume`")


def _transport_pairs(network):
    """(loss rows, gain rows) of every direction of every transport, paired in order."""
    rows = {rid: j for j, rid in enumerate(network.reaction_ids)}
    transports = dict.fromkeys((network.transport_of or {}).values())
    loss, gain = [], []
    for tid in transports:
        ids = transport_reaction_ids(tid, f"{tid}/back" in rows)
        loss += [rows[rid] for rid in ids[0::2]]
        gain += [rows[rid] for rid in ids[1::2]]
    return loss, gain


def _gain_volume(network, g) -> float:
    """Volume [L] of the compartment a gain row delivers to: that of its product (a state or clamped species)."""
    target = np.flatnonzero(network.net_stoich[g] > 0)
    if target.size:
        return float(network.compartment_volumes[int(target[0])])
    return math.nan  # a clamped target: no state changes, nothing to check against


def _check_channel(network, k, loss, gain, v_source, v_target) -> None:
    """Refuse a transport whose two rows no longer carry one flux (k_gain·V_b = k_loss·V_a, fentonsim.compartments):
    one firing could then not stand for both."""
    if not math.isfinite(v_target):
        return
    expected = k[loss] * v_source
    if abs(k[gain] * v_target - expected) > _CHANNEL_RTOL * abs(expected):
        tid = network.transport_of[network.source_reaction[loss]]
        raise ConditionsError(
            f"transport `{tid}`: the constants of `{network.reaction_ids[loss]}` ({k[loss]:.6g}) and "
            f"`{network.reaction_ids[gain]}` ({k[gain]:.6g}) no longer carry one flux (expected the gain "
            f"k·V_from/V_to = {expected / v_target:.6g}); set the transport's constant in its `transport:` entry")
