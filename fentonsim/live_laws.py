"""The live subsystem of a network with general rate laws, for the general-law ODE kernel.

The mass-action kernel integrates only the species that can change (kernels/rosenbrock.py, ``live_subsystem``).
The general-law kernel interprets every reaction's program and integrates every state variable, so a
mechanism that carries probes, spin traps and scavengers nobody dosed (fe3o4_nanozyme at ``tme``: 12 of 33
species and 35 of 61 reactions can ever change) paid for all of them. Here the same reduction is made before
the kernel runs:

- a species is **seeded** when it starts at a non-zero value or a bolus or a source acts on it;
- a reaction is **live** when its k is not 0 and it has a general law (which may be non-zero whatever the
  state) or all its mass-action reactants are live; a species is **live** when seeded or changed by a live
  reaction; the two grow together to a fixed point;
- every other species stays at 0 for the whole run and every other reaction has rate 0, exactly — so the
  kernel integrates the live species and reactions only, with the dead species' 0 written into the laws
  (``expression.substitute``), and the results are scattered back (dead species 0, dead extents 0).

The step's error norm stays the network's: an RMS over all n_s species, to which the dead ones add 0 — the
kernel is given n_s for its RMS, so it accepts exactly the steps the whole network would.

Networks with events triggered by the state are not reduced (an event may set a dead species). The reduced
programs are compiled once per network and starting set (:func:`for_run`, cached).
"""
from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass

import numpy as np

from . import native_laws
from .expression import substitute
from .laws import LawPrograms, compile_laws

#: {network: {key: live sets or Reduction}}; entries go with their network.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class Reduction:
    """The live part of a general-law network (module docstring).

    ``species`` (n_ls,) and ``reactions`` (n_lr,) int64: indices of the live state variables and reactions in
    the network; ``laws``: their programs (species indexed in ``species``' order); ``net_stoich`` (n_lr, n_ls).
    """

    species: np.ndarray
    reactions: np.ndarray
    laws: LawPrograms
    net_stoich: np.ndarray

    def kernel_structure(self) -> tuple:
        """What kernels/laws.py takes before y0 (deterministic._structure for the reduced network)."""
        return (*self.laws.kernel_arguments(), native_laws.ode_functions(self.laws), self.net_stoich)


def live_sets(network, k, y0, seeded=()) -> tuple[np.ndarray, np.ndarray]:
    """(live species (n_s,) bool, live reactions (n_r,) bool) for rate constants k (n_r,) or (n_c, n_r) and
    initial state y0 (n_s,) or (n_c, n_s) [M] — the union over conditions — and ``seeded`` species indices
    (bolus and source targets)."""
    live_s, nonzero = _starting_sets(k, y0, seeded)
    if live_s.size == 0:  # no state variables (an SBML model of parameters only): nothing to reduce
        return live_s, np.ones(nonzero.size, dtype=bool)
    return _fixed_point(network, live_s, nonzero)


def for_run(network, k, y0, inputs) -> Reduction | None:
    """The Reduction a kernel run of ``network`` at k, y0 (as in :func:`live_sets`) with CompiledInputs
    ``inputs`` takes, or None; remembered per network and starting sets (a call costs a few µs)."""
    live_s, nonzero = _starting_sets(k, y0, seeded_species(inputs))
    key = (live_s.tobytes(), nonzero.tobytes())
    known = _CACHE.setdefault(network, {})
    if key not in known:
        known[key] = None if live_s.size == 0 else reduction(network, *_fixed_point(network, live_s, nonzero))
    return known[key]


def _starting_sets(k, y0, seeded):
    """(seeded species, reactions with k ≠ 0 in some condition): where the fixed point starts. A state variable
    that starts at any non-zero value is seeded (an imported model's quantities may start below 0)."""
    live_s = (y0 != 0) if y0.ndim == 1 else np.any(y0 != 0, axis=0)
    if len(seeded):
        live_s[np.asarray(seeded, dtype=np.int64)] = True
    return live_s, (k != 0) if k.ndim == 1 else np.any(k != 0, axis=0)


def _fixed_point(network, live_s, nonzero):
    """Grow the live species and reactions from the starting sets until neither changes (module docstring)."""
    general = np.isin(network.reaction_ids, network.laws.general_reactions)
    slots = network.reactant_idx
    changed = network.net_stoich != 0
    while True:
        reactants_live = np.all((slots < 0) | live_s[np.maximum(slots, 0)], axis=1)
        live_r = nonzero & (general | reactants_live)
        grown = live_s | np.any(changed[live_r], axis=0)
        if np.array_equal(grown, live_s):
            return live_s, live_r
        live_s = grown


def reduction(network, live_s, live_r) -> Reduction | None:
    """The Reduction for these live sets, or None when nothing is dead or the network has state events."""
    laws = network.laws
    if laws is None or laws.event_names or (live_s.all() and live_r.all()) or len(laws.trees) != network.n_reactions \
            or not live_s.any():
        return None
    species = np.flatnonzero(live_s)
    reactions = np.flatnonzero(live_r)
    dead = {network.species[j]: 0.0 for j in np.flatnonzero(~live_s)}
    try:
        trees = [substitute(laws.trees[i], dead) for i in reactions]
    except (ArithmeticError, ValueError):
        # Folding a 0 in can divide by zero where the kernel would not (a piecewise guarding a quotient of two
        # dead species takes its other branch there): such a network runs whole.
        return None
    programs = compile_laws(trees, [network.species[j] for j in species], laws.signed[species])
    general = set(laws.general_reactions)
    return Reduction(species=species, reactions=reactions,
                     laws=dataclasses.replace(programs, general_reactions=tuple(
                         network.reaction_ids[i] for i in reactions if network.reaction_ids[i] in general)),
                     net_stoich=np.ascontiguousarray(network.net_stoich[np.ix_(reactions, species)]))


def remap_inputs(inputs, species) -> dict:
    """The kernel's bolus and source species arrays in the reduced indices (a bolus's −1 − index code too)."""
    position = np.full(max(int(species.max(initial=-1)) + 1, 1), -1, dtype=np.int64)
    position[species] = np.arange(species.size)

    def remap(codes):
        codes = np.asarray(codes, dtype=np.int64)
        out = np.where(codes >= 0, position[np.maximum(codes, 0)], -1 - position[np.maximum(-1 - codes, 0)])
        return np.ascontiguousarray(out, dtype=np.int64)

    return {"bolus_species": remap(inputs.bolus_species), "source_species": remap(inputs.source_species)}


def seeded_species(inputs) -> np.ndarray:
    """Indices of the species a bolus (or assignment) or a source acts on."""
    if not (inputs.bolus_species.size or inputs.source_species.size):
        return ()
    codes = np.asarray(inputs.bolus_species, dtype=np.int64)
    return np.unique(np.concatenate([np.where(codes >= 0, codes, -1 - codes),
                                     np.asarray(inputs.source_species, dtype=np.int64)]))
