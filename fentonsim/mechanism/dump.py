"""Write a :class:`Mechanism` as a self-contained YAML file.

The dump uses canonical units in its header (M, s, J/mol, K, L) and flattens
includes, so ``load_mechanism(dump)`` reproduces the mechanism exactly
(floats are written with ``repr``, which round-trips). It is also the
canonical text hashed into ``Network.mechanism_sha256``. Models imported
from SBML may add ``events``, ``observables`` and ``counts``, which the YAML
format does not define: their dump is a faithful record, not a loadable file.
"""
from __future__ import annotations

import io

from ruamel.yaml import YAML

from ..compartments import split_name
from ..expression import symbols, to_text
from .equation import format_equation, format_side
from ..units import format_dims
from .law import law_text
from .schema import Mechanism, RateLaw


def _rate(rate: RateLaw, k_scale: float = 1.0) -> dict:
    out = {"type": rate.type, ("k_ref" if rate.type == "arrhenius" else "k"): rate.k * k_scale}
    if rate.type != "constant":
        out["T_ref"] = rate.T_ref
        out["Ea"] = rate.Ea
    if rate.factors:
        out["factors"] = {name: exponent for name, exponent in rate.factors}
    return out


def mechanism_to_dict(mechanism: Mechanism) -> dict:
    """Plain-data form of the mechanism in canonical units (see module docstring)."""
    doc = {
        "kind": "mechanism",
        "name": mechanism.name,
        "description": mechanism.description,
        "units": {"concentration": "M", "time": "s", "energy": "J/mol", "temperature": "K", "volume": "L"},
        "rate-convention": "mass-action",
        "ph-mode": "buffered",
        "defaults": {"pH": mechanism.defaults.pH, "temperature": mechanism.defaults.temperature,
                     "volume": mechanism.defaults.volume},
    }
    if mechanism.references:
        doc["references"] = {
            r.key: {k: v for k, v in (("citation", r.citation), ("doi", r.doi), ("note", r.note)) if v}
            for r in mechanism.references
        }
    if mechanism.compartments and not any(c.size for c in mechanism.compartments):
        # A mechanism file's compartments (an SBML import's varying sizes have no YAML form).
        doc["compartments"] = [dict({"name": c.name, "volume": c.volume}, **({"note": c.note} if c.note else {}))
                               for c in mechanism.compartments]
    doc["species"] = []
    for s in mechanism.species:
        entry = {"name": s.name, "composition": dict(s.composition), "charge": s.charge}
        if s.radical:
            entry["radical"] = True
        if s.buffered is not None:
            entry["buffered"] = s.buffered
        if s.note:
            entry["note"] = s.note
        doc["species"].append(entry)
    if mechanism.speciation:
        doc["speciation"] = []
        for g in mechanism.speciation:
            entry = {"pool": g.pool, "forms": list(g.forms),
                     "pKa": [{"value": p.value, "dH": p.dH, "T_ref": p.T_ref} for p in g.pka]}
            if g.buffered_total is not None:
                entry["buffered"] = g.buffered_total
            if g.ref:
                entry["ref"] = g.ref
            if g.note:
                entry["note"] = g.note
            doc["speciation"].append(entry)
    if mechanism.particles:
        doc["particles"] = [_particle(p) for p in mechanism.particles]
    # Transport is written as declared; the reactions it compiles to are rebuilt on load.
    compiled = {rid for t in mechanism.transports for rid in t.reactions}
    doc["reactions"] = [_reaction(r) for r in mechanism.reactions if r.id not in compiled]
    if mechanism.transports:
        doc["transport"] = [_transport(t) for t in mechanism.transports]
    if mechanism.defaults.atol is not None:
        doc["defaults"]["atol"] = mechanism.defaults.atol
    if mechanism.defaults.initial:
        doc["defaults"]["initial"] = dict(mechanism.defaults.initial)
    # Imported models only; YAML mechanisms have none of these.
    if mechanism.events:
        doc["events"] = [e.describe() for e in mechanism.events]
    if mechanism.observables:
        doc["observables"] = {o.name: {"expression": to_text(o.expression), "scale": dict(o.scale),
                                       "units": o.units} for o in mechanism.observables}
    if mechanism.counts:
        doc["counts"] = True
    events = [e for e in mechanism.state_events if e.checked]
    if events:
        doc["events"] = [_event(e, {s.name for s in mechanism.species}) for e in events]
    if mechanism.parameter_sets:
        doc["parameter-sets"] = {}
        for p in mechanism.parameter_sets:
            entry = {"description": p.description} if p.description else {}
            if p.ref:
                entry["ref"] = p.ref
            reactions = {}
            for rid, values in p.overrides:
                scale = 2.0 if mechanism.reaction(rid).tabulated_2k else 1.0
                override, fractions = {}, {}
                for key, value in values:
                    if key.startswith("fraction:"):
                        fractions[key.split(":", 1)[1]] = value
                    else:
                        override[key] = value * scale if key == "k" else value
                if fractions:
                    override["fractions"] = fractions
                reactions[rid] = override
            entry["reactions"] = reactions
            doc["parameter-sets"][p.name] = entry
    return doc


def _transport(t) -> dict:
    chemical, source = split_name(t.species)
    entry = {"id": t.id, "species": chemical, "from": source, "to": split_name(t.target)[1]}
    if t.k is not None:
        entry["k"] = t.k
    else:
        entry["permeability-area"] = t.permeability_area
    entry.update({key: value for key, value in (("note", t.note), ("ref", t.ref)) if value})
    return entry


def _particle(p) -> dict:
    """A particle in canonical units (dm, g/L), every value with its unit so it reads back exactly."""
    entry = {"species": p.species, "shape": p.shape}
    if p.shape == "sphere":
        entry["diameter"] = f"{p.size!r} dm"
    else:
        entry.update({"thickness": f"{p.size!r} dm", "lateral-size": f"{p.lateral_size!r} dm"})
    entry.update({"density": f"{p.density!r} g/L", "specific-surface-area": f"{p.specific_area!r} dm^2/g",
                  "site-density": f"{p.site_density!r} dm^-2", "molar-mass": f"{p.molar_mass!r} g/mol"})
    if p.dose:
        entry["dose"] = f"{p.dose!r} g/L"
    entry.update({k: v for k, v in (("ref", p.ref), ("note", p.note)) if v})
    return entry


def _constant_text(value, dims):
    return value if not any(dims) else f"{value!r} {format_dims(dims)}"


def _event(e, species) -> dict:
    names = {name for name, _, _ in e.constants}
    entry = {"id": e.name, "trigger": law_text(e.trigger, species - names),
             "set": {target: law_text(expr, species - names) for target, expr in e.assignments}}
    if e.constants:
        entry["constants"] = {name: _constant_text(value, dims) for name, value, dims in e.constants}
    if e.delay is not None:
        entry["delay"] = f"{e.delay[1]!r} s"
    if e.priority is not None:
        entry["priority"] = e.priority
    if not e.persistent:
        entry["persistent"] = False
    return entry


def _fraction(branch):
    if not branch.varies:
        return branch.fraction
    law = {"value": branch.fraction}
    if branch.per_pH:
        law.update({"per-pH": branch.per_pH, "pH_ref": branch.pH_ref})
    if branch.per_K:
        law.update({"per-K": branch.per_K, "T_ref": branch.T_ref})
    return law


def _reaction(r) -> dict:
    entry = {"id": r.id}
    only = r.branches[0]
    if r.is_branched or only.id != r.id or only.fraction != 1.0 or only.varies or only.note:
        entry["reactants"] = format_side(r.reactants)
        entry["branches"] = [
            {k: v for k, v in (("id", b.id), ("products", format_side(b.products)), ("fraction", _fraction(b)),
                               ("note", b.note)) if v != "" or k == "products"}
            for b in r.branches
        ]
    else:
        entry["equation"] = format_equation(r.reactants, r.branches[0].products, r.reversible)
    entry["rate"] = _rate(r.rate, 2.0 if r.tabulated_2k else 1.0)
    if r.law is not None:
        names = {name for name, _, _ in r.law_constants}
        entry["law"] = law_text(r.law, symbols(r.law) - {"time"} - names)
        if r.law_constants:
            entry["law-constants"] = {name: _constant_text(value, dims) for name, value, dims in r.law_constants}
        if not r.law_checked:
            entry["law-units"] = "unchecked"
    if r.reverse_rate is not None:
        entry["reverse-rate"] = _rate(r.reverse_rate)
    if r.orders:
        entry["orders"] = dict(r.orders)
    if r.tabulated_2k:
        entry["tabulated-as"] = "2k"
    if r.duplicate:
        entry["duplicate"] = True
    if r.ref:
        entry["ref"] = r.ref
    if r.uncertainty is not None:
        u, scale = r.uncertainty, 2.0 if r.tabulated_2k else 1.0
        unc = {}
        if u.factor is not None:
            unc["factor"] = u.factor
        if u.low is not None:
            unc["range"] = [u.low * scale, u.high * scale]
        if u.log10_sd is not None:
            unc["log10-sd"] = u.log10_sd
        entry["uncertainty"] = unc
    if r.evidence:
        entry["evidence"] = r.evidence
    if r.note:
        entry["note"] = r.note
    if r.propensity != "falling-factorial":
        entry["propensity"] = r.propensity
    if r.validity is not None:
        v = r.validity
        entry["validity"] = {k: val for k, val in (("pH", v.pH and list(v.pH)), ("T", v.T and list(v.T)),
                                                   ("medium", v.medium)) if val}
    return entry


def dump_mechanism(mechanism: Mechanism) -> str:
    """The mechanism as YAML text (see module docstring)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.sort_base_mapping_type_on_output = False
    stream = io.StringIO()
    yaml.dump(mechanism_to_dict(mechanism), stream)
    return stream.getvalue()
