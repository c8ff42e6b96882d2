"""Whole-mechanism checks: declared species, speciation groups, element and
charge balance, reaction order, duplicates and references.

Each check raises :class:`MechanismError` at the offending definition's file
and line, or returns warnings (``file:line: warning: ...``) for problems that
do not make the network wrong.
"""
from __future__ import annotations

import difflib
import re
from collections import Counter

from ..constants import MAX_REACTION_ORDER
from ..errors import MechanismError
from .equation import format_equation, format_side
from .schema import (
    BUFFERED_FROM_PH,
    BUFFERED_FROM_POH,
    BUFFERED_SOLVENT,
    Reaction,
    Species,
    SpeciationGroup,
)

#: Species kinds (see species_kinds).
DYNAMIC, FORM, POOL = "dynamic", "form", "pool"
BUFFERED_CONC, BUFFERED_FORM, BUFFERED_PH, BUFFERED_SOLVENT_KIND = (
    "buffered-conc", "buffered-form", "buffered-pH", "buffered-solvent")
_DOI = re.compile(r"^(doi:\s*)?10\.\d{4,9}/\S+$", re.IGNORECASE)


def _error(message, location) -> MechanismError:
    return MechanismError(message, location.path, location.line)


def species_kinds(species: dict[str, Species], groups: dict[str, SpeciationGroup]) -> dict[str, str]:
    """Map every name usable in the mechanism to its kind.

    dynamic: integrated species; form: a form of an integrated pool;
    buffered-conc: clamped at a concentration; buffered-form: a form of a
    clamped pool; buffered-pH: H+ or OH- from pH (order 0 unless overridden);
    buffered-solvent: water (never in a rate law); pool: a pool name (not
    allowed in equations).
    """
    kinds = {}
    for s in species.values():
        if s.buffered in (BUFFERED_FROM_PH, BUFFERED_FROM_POH):
            kinds[s.name] = BUFFERED_PH
        elif s.buffered == BUFFERED_SOLVENT:
            kinds[s.name] = BUFFERED_SOLVENT_KIND
        elif s.buffered is not None:
            kinds[s.name] = BUFFERED_CONC
        else:
            kinds[s.name] = DYNAMIC
    for g in groups.values():
        for form in g.forms:
            kinds[form] = BUFFERED_FORM if g.buffered_total is not None else FORM
        kinds[g.pool] = POOL
    return kinds


def rate_law_order(reaction: Reaction, kinds: dict[str, str], side: str = "reactants") -> float:
    """Total order of the concentrations in the mass-action part of a rate law.

    H+/OH- from pH and the solvent count 0 unless ``orders`` overrides them;
    power-law ``factors`` are not included.
    """
    overrides = dict(reaction.orders) if side == "reactants" else {}
    terms = reaction.reactants if side == "reactants" else reaction.branches[0].products
    order = 0.0
    for name, coef in terms:
        if name in overrides:
            order += overrides[name]
        elif kinds.get(name) not in (BUFFERED_PH, BUFFERED_SOLVENT_KIND):
            order += coef
    return order


def check_species_table(species: dict[str, Species], groups: dict[str, SpeciationGroup]) -> None:
    """Speciation groups: forms declared, integrated, in one group, one proton apart."""
    owner = {}
    for g in groups.values():
        if g.pool in species:
            raise _error(f"speciation pool `{g.pool}` has the same name as a species; pools need their own "
                         "names (e.g. `Fe(III)` for Fe+3/FeOH+2)", g.location)
        if len(g.forms) < 2:
            raise _error(f"speciation group `{g.pool}` needs at least two forms, found {len(g.forms)}", g.location)
        for form in g.forms:
            if form not in species:
                raise _error(f"form `{form}` of speciation group `{g.pool}` is not a declared species"
                             + _suggest(form, species), g.location)
            if species[form].is_buffered:
                raise _error(f"form `{form}` of speciation group `{g.pool}` is declared `buffered`; "
                             "buffer the whole pool with `buffered:` on the group instead", g.location)
            if form in owner:
                raise _error(f"form `{form}` is in two speciation groups, `{owner[form]}` and `{g.pool}`",
                             g.location)
            owner[form] = g.pool
        for acid, base in zip(g.forms, g.forms[1:]):
            _check_proton_pair(species[acid], species[base], g)


def _check_proton_pair(acid: Species, base: Species, group: SpeciationGroup) -> None:
    diff = Counter(dict(acid.composition))
    diff.subtract(Counter(dict(base.composition)))
    delta = {element: n for element, n in diff.items() if n}
    charge = acid.charge - base.charge
    # Acid–base: HA = A + H+. Hydrolysis: M + H2O = MOH + H+, so the acid has
    # one H and one O fewer than its conjugate base.
    if charge == 1 and delta in ({"H": 1}, {"H": -1, "O": -1}):
        return
    raise _error(
        f"forms `{acid.name}` and `{base.name}` of speciation group `{group.pool}` must differ by one proton "
        f"(`{acid.name}` = `{base.name}` + H+, or + H+ − H2O for hydrolysis); found a difference of "
        f"{_format_delta(delta)} and charge {charge:+d}", group.location)


def _format_delta(delta) -> str:
    return ", ".join(f"{n:+d} {e}" for e, n in sorted(delta.items())) or "no atoms"


def _suggest(name: str, known) -> str:
    if "+" in name[1:] and all(part in known for part in name.split("+") if part):
        return f"; did you mean `{' + '.join(p for p in name.split('+') if p)}` (spaces around +)?"
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def check_declared(reaction: Reaction, kinds, reader, node) -> None:
    """Every name in the equation is a declared species (not a pool name)."""
    names = [n for n, _ in reaction.reactants] + [n for b in reaction.branches for n, _ in b.products]
    for name in names:
        kind = kinds.get(name)
        if kind == POOL:
            raise reader.error(f"reaction `{reaction.id}` uses pool name `{name}`; write the form that reacts "
                               "(the rate is weighted by that form's fraction at the pH)", node)
        if kind is None:
            raise reader.error(f"reaction `{reaction.id}` uses undeclared species `{name}`"
                               + _suggest(name, [k for k, v in kinds.items() if v != POOL]), node)


def _element_totals(terms, species) -> Counter:
    totals = Counter()
    for name, coef in terms:
        for element, count in species[name].composition:
            totals[element] += coef * count
        totals["charge"] += coef * species[name].charge
    return totals


def _balance_table(reactants: Counter, products: Counter) -> str:
    rows = [f"  {'element':<9}{'reactants':>10}{'products':>10}"]
    for key in sorted(set(reactants) | set(products), key=lambda k: (k == "charge", k)):
        if reactants[key] != products[key]:
            rows.append(f"  {key:<9}{reactants[key]:>10}{products[key]:>10}")
    return "\n".join(rows)


def check_reactions(reactions, species, groups, kinds, references) -> list[str]:
    """Order, balance, duplicates and references; returns warnings."""
    warnings = []
    seen = {}
    network_ids = {}
    for reaction in reactions:
        loc = reaction.location
        u = reaction.uncertainty
        if u is not None and u.low is not None and u.high is not None and reaction.rate.k > 0 and not (
                u.low * (1 - 1e-9) <= reaction.rate.k <= u.high * (1 + 1e-9)):
            warnings.append(f"{loc.path}:{loc.line}: reaction `{reaction.id}` has k = {reaction.rate.k:g}, outside "
                            f"its own uncertainty range [{u.low:g}, {u.high:g}] (ranges are for k itself, in "
                            "the r = k·Π[c]^ν convention)")
        sides = [("reactants", "in its equation")] + ([("products", "in its reverse direction")]
                                                       if reaction.reversible else [])
        for side, where in sides:
            order = rate_law_order(reaction, kinds, side)
            if order > MAX_REACTION_ORDER:
                raise _error(f"reaction `{reaction.id}` has order {order:g} {where}; at most "
                             f"{MAX_REACTION_ORDER} reactant molecules may meet in an elementary step "
                             "(use a power-law rate with `factors` for an empirical law)", loc)
        ids = [b.id for b in reaction.branches] + ([f"{reaction.id}:reverse"] if reaction.reversible else [])
        for network_id in ids:
            if network_id in network_ids:
                other = network_ids[network_id]
                raise _error(f"reaction `{reaction.id}` defines the id `{network_id}`, already used by "
                             f"reaction `{other.id}` ({other.location.path}:{other.location.line}); "
                             "branch ids must be unique across the mechanism", loc)
            network_ids[network_id] = reaction
        left = _element_totals(reaction.reactants, species)
        for branch in reaction.branches:
            right = _element_totals(branch.products, species)
            if +left != +right or left["charge"] != right["charge"]:
                equation = format_equation(reaction.reactants, branch.products, reaction.reversible)
                label = reaction.id if branch.id == reaction.id else f"{reaction.id}` branch `{branch.id}"
                raise _error(f"reaction `{label}` is unbalanced: {equation}\n"
                             f"{_balance_table(left, right)}", loc)
            keys = [(_side_key(reaction.reactants), _side_key(branch.products))]
            if reaction.reversible:
                keys.append((_side_key(branch.products), _side_key(reaction.reactants)))
            for key in keys:
                if key in seen and not (reaction.duplicate and seen[key].duplicate):
                    other = seen[key]
                    raise _error(
                        f"reaction `{reaction.id}` duplicates `{other.id}` ({other.location.path}:"
                        f"{other.location.line}): both are {format_side(reaction.reactants)} => "
                        f"{format_side(branch.products)}; merge them, or mark both `duplicate: true` "
                        "if they are distinct pathways", loc)
                seen.setdefault(key, reaction)
        warnings += _check_reference(reaction.ref, f"reaction `{reaction.id}`", loc, references)
    for g in groups.values():
        warnings += _check_reference(g.ref, f"speciation group `{g.pool}`", g.location, references)
    for s in species.values():
        if "*" in s.name and not s.radical:
            warnings.append(f"{s.location.path}:{s.location.line}: warning: species `{s.name}` has `*` in "
                            "its name but is not marked `radical: true`")
    return warnings


def _side_key(terms):
    return tuple(sorted(terms))


def _check_reference(ref, what, loc, references) -> list[str]:
    if ref is None or not str(ref).strip():
        return [f"{loc.path}:{loc.line}: warning: {what} has no `ref` (a DOI or a key of `references`)"]
    if _DOI.match(ref) or ref in references:
        return []
    raise _error(f"{what} cites `{ref}`, which is neither a DOI (10.xxxx/...) nor a key of `references`"
                 + _suggest(ref, references), loc)
