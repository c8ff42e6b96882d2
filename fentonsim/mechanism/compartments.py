"""The ``compartments:`` and ``transport:`` sections of a mechanism file (semantics: fentonsim.compartments).

.. code-block:: yaml

    compartments:
      - {name: extracellular, volume: 10 pL}
      - {name: cytosol, volume: 2 pL}
    species:
      - {name: H2O2@extracellular, composition: {H: 2, O: 2}}
      - {name: H2O2@cytosol, composition: {H: 2, O: 2}}
    transport:
      - {id: H2O2_uptake, species: H2O2, from: extracellular, to: cytosol, permeability-area: 0.2 pL/s}

A file without ``compartments:`` is read exactly as before (a name with ``@`` is then an error: it names a
compartment the file lacks). With it, every species is named
``<chemical>@<compartment>`` except the run-wide ones (``buffered: from-pH``, ``from-pOH``, ``solvent``); a
reaction's species share one compartment; a transport moves one chemical from one compartment to another,
first order (``k``, s⁻¹) or passively (``permeability-area`` P·A, volume per time: P = 10⁻⁴ cm/s across
A = 1000 µm² is 1 pL/s). Every mistake is a one-line error naming file:line.
"""
from __future__ import annotations

import re
from dataclasses import replace

from ..compartments import split_name, transport_reaction_ids, transport_reactions
from ..errors import MechanismError
from ..expression import symbols
from ..units import FREQUENCY, VOLUME
from .schema import BUFFERED_KEYWORDS, Compartment, Location, Transport

COMPARTMENT_KEYS = ("name", "volume", "note", "pH", "temperature")
TRANSPORT_KEYS = ("id", "species", "from", "to", "k", "permeability-area", "note", "ref")
VOLUME_PER_TIME = tuple(v - f for v, f in zip(VOLUME, (0, 0, 1, 0, 0)))
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def parse_compartments(reader, top) -> list:
    """[(Compartment, node)] of the file's ``compartments:`` section."""
    out = []
    for index, node in enumerate(reader.sequence(top, "compartments", "the mechanism file")):
        if not isinstance(node, dict):
            raise reader.error(f"entry {index + 1} of `compartments` must be a mapping such as "
                               f"`{{name: cytosol, volume: 2 pL}}`, found `{node}`", top["compartments"], index)
        name = reader.string(node, "name", "a compartment", required=True)
        what = f"compartment `{name}`"
        reader.check_keys(node, COMPARTMENT_KEYS, what)
        if not _NAME.fullmatch(name):
            raise reader.error(f"{what}: expected a name of letters, digits, `_` and `-` (it follows `@` in species "
                               "names)", node, "name")
        for key in ("pH", "temperature"):
            if key in node:
                hint = (f"; its own acidity can be a clamped species `H+@{name}` written into its reactions"
                        if key == "pH" else "")
                raise reader.error(f"{what} sets its own {key}; {key} is one per run (conditions, `--ph`, "
                                   f"`--temperature`){hint}", node, key)
        reader.check_keys(node, COMPARTMENT_KEYS, what, required=("volume",))
        volume = reader.quantity(node, "volume", VOLUME, reader.units["volume"], f"volume of {what}", positive=True)
        out.append((Compartment(name, volume, note=reader.string(node, "note", what, default="") or "",
                                location=Location(str(reader.path), reader.line(node))), node))
    return out


def parse_transports(reader, top) -> list:
    """[(Transport without its reactions, node)] of the file's ``transport:`` section."""
    out = []
    for index, node in enumerate(reader.sequence(top, "transport", "the mechanism file")):
        if not isinstance(node, dict):
            raise reader.error(f"entry {index + 1} of `transport` must be a mapping, found `{node}`",
                               top["transport"], index)
        tid = reader.string(node, "id", "a transport", required=True)
        what = f"transport `{tid}`"
        reader.check_keys(node, TRANSPORT_KEYS, what, required=("species", "from", "to"))
        chemical = reader.string(node, "species", what, required=True)
        source = reader.string(node, "from", what, required=True)
        target = reader.string(node, "to", what, required=True)
        if source == target:
            raise reader.error(f"{what} goes from `{source}` to itself; expected two different compartments",
                               node, "to")
        given = [key for key in ("k", "permeability-area") if key in node]
        if len(given) != 1:
            raise reader.error(f"{what} needs exactly one of `k` (first order, e.g. `0.1 1/s`) and "
                               f"`permeability-area` (passive, P·A e.g. `1 pL/s`); found "
                               f"{' and '.join(f'`{g}`' for g in given) or 'neither'}", node)
        k = reader.quantity(node, "k", FREQUENCY, "1/s", f"`k` of {what}", positive=True) if "k" in node else None
        pa = reader.quantity(node, "permeability-area", VOLUME_PER_TIME, "L/s", f"`permeability-area` of {what}",
                             positive=True) if "permeability-area" in node else None
        out.append((Transport(tid, f"{chemical}@{source}", f"{chemical}@{target}", k=k, permeability_area=pa,
                              note=reader.string(node, "note", what, default="") or "",
                              ref=reader.string(node, "ref", what, default=None),
                              location=Location(str(reader.path), reader.line(node))), node))
    return out


def place(mechanism, contents, merge):
    """``mechanism`` with its compartments, the compartment of every species and the transport reactions;
    ``contents`` are the loader's file contents (``.compartments``, ``.transports``, ``.reader``, ``.top``)
    and ``merge`` its duplicate-rejecting merge."""
    compartments = merge([(c.name, c, f.reader, node) for f in contents for c, node in f.compartments],
                         "name", "compartment")
    transports = [(t, f.reader, node) for f in contents for t, node in f.transports]
    if not compartments:
        qualified = next((s for s in mechanism.species if split_name(s.name)[1]), None)
        if qualified is not None:
            raise _error(f"species `{qualified.name}` names compartment `{split_name(qualified.name)[1]}`, but the "
                         "mechanism declares no `compartments:`; declare them, or drop `@` from the name",
                         qualified.location)
        if transports:
            t, reader, node = transports[0]
            raise reader.error(f"transport `{t.id}` moves `{split_name(t.species)[0]}` between compartments, but "
                               "the mechanism declares none; add a `compartments:` section", node)
        return mechanism
    declared = ", ".join(compartments)
    species = []
    for s in mechanism.species:
        chemical, compartment = split_name(s.name)
        if not compartment and s.buffered not in BUFFERED_KEYWORDS:
            raise _error(f"species `{s.name}` has no compartment; name it `{s.name}@<compartment>` "
                         f"(compartments: {declared}); only pH, pOH and solvent species are run-wide", s.location)
        if compartment and compartment not in compartments:
            raise _error(f"species `{s.name}` names compartment `{compartment}`, which `compartments` does not "
                         f"declare (declared: {declared})", s.location)
        species.append(replace(s, compartment=compartment))
    where = {s.name: s.compartment for s in species}
    for g in mechanism.speciation:
        places = {where.get(f, "") for f in g.forms}
        if len(places) > 1:
            raise _error(f"speciation pool `{g.pool}` has forms in compartments {', '.join(sorted(places))}; "
                         "expected one", g.location)
    for r in mechanism.reactions:
        _check_one_compartment(r, where)
    taken = {r.id for r in mechanism.reactions}
    volumes = {name: c.volume for name, c in compartments.items()}
    reactions, placed = [], []
    merge([(t.id, t, reader, node) for t, reader, node in transports], "id", "transport id")
    for t, reader, node in transports:
        for name, key in ((t.species, "from"), (t.target, "to")):
            if split_name(name)[1] not in compartments:
                raise reader.error(f"transport `{t.id}`: compartment `{split_name(name)[1]}` is not declared "
                                   f"(declared: {declared})", node, key)
            if name not in where:
                raise reader.error(f"transport `{t.id}` moves `{name}`, which is not a declared species", node, key)
        ids = transport_reaction_ids(t.id, t.permeability_area is not None)
        clash = sorted(set(ids) & taken)
        if clash:
            raise reader.error(f"transport `{t.id}` compiles to reaction `{clash[0]}`, an id already taken; "
                               "rename one of them", node, "id")
        taken |= set(ids)
        t = replace(t, reactions=ids)
        placed.append(t)
        reactions.extend(transport_reactions(t, volumes))
    return replace(mechanism, species=tuple(species), reactions=mechanism.reactions + tuple(reactions),
                   compartments=tuple(compartments.values()), transports=tuple(placed))


def _error(message, location) -> MechanismError:
    """A one-line error at a location recorded when the entry was parsed."""
    return MechanismError(message, location.path, location.line)


def _check_one_compartment(reaction, where):
    names = {name for name, _ in reaction.reactants}
    names |= {name for b in reaction.branches for name, _ in b.products}
    names |= {name for name, _ in reaction.rate.factors}
    if reaction.law is not None:
        names |= symbols(reaction.law) & set(where)
    places = {}
    for name in sorted(names):
        if where.get(name):
            places.setdefault(where[name], name)
    if len(places) > 1:
        shown = ", ".join(f"{c} (`{n}`)" for c, n in sorted(places.items()))
        raise _error(f"reaction `{reaction.id}` mixes compartments {shown}; a reaction happens in one "
                     "compartment, and passage between them is declared in `transport:`", reaction.location)
