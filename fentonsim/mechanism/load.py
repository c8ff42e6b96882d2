"""Mechanism YAML files (with includes) -> validated :class:`Mechanism`.

The file format is documented in ``mechanisms/README.md``. Loading happens in
three passes: read every file (includes first, each once), parse each entry
into schema objects while the file's unit header is at hand, then merge the
files and run the whole-mechanism checks in :mod:`.validate`. Rate constants
are converted last, because the dimension of ``k`` depends on the reaction
order, which depends on which species are buffered, possibly declared in
another file.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..constants import BRANCH_FRACTION_TOLERANCE, GAS_CONSTANT, STANDARD_TEMPERATURE
from ..compartments import split_name
from ..data import resolve_mechanism_path, shipped_mechanism
from ..errors import MechanismError, UnitError
from ..expression import num, symbols
from ..units import (
    CONCENTRATION,
    MOLAR_ENERGY,
    TEMPERATURE,
    TIME,
    VOLUME,
    Unit,
    format_dims,
    parse_unit,
    rate_constant_dims,
)
from . import compartments, validate
from . import particles as particle_model
from .equation import EquationError, parse_equation
from .law import LawSyntaxError, concentration_order, law_dims, law_order, parse_constant, parse_law
from .schema import (
    BUFFERED_KEYWORDS,
    Branch,
    Defaults,
    Location,
    Mechanism,
    ParameterSet,
    PKa,
    RateLaw,
    Reaction,
    Reference,
    Species,
    SpeciationGroup,
    StateEvent,
    Uncertainty,
    Validity,
)
from .yamlio import FileReader, file_problem, read_mapping

TOP_LEVEL_KEYS = (
    "kind", "name", "description", "units", "rate-convention", "ph-mode", "defaults",
    "include", "references", "species", "speciation", "reactions", "parameter-sets", "events",
    "compartments", "transport", "particles",
)
EVENT_KEYS = ("id", "trigger", "set", "constants", "delay", "priority", "persistent", "note")
UNIT_KEYS = {"concentration": CONCENTRATION, "time": TIME, "energy": MOLAR_ENERGY,
             "temperature": TEMPERATURE, "volume": VOLUME}
DEFAULT_UNITS = {"concentration": "M", "time": "s", "energy": "J/mol", "temperature": "K", "volume": "L"}
#: The one rate convention: r = k·Π[c]^ν and d[X]/dt = Σ ν_X·r (see schema).
RATE_CONVENTION = "mass-action"
PH_MODES = ("buffered",)
SPECIES_KEYS = ("name", "composition", "charge", "radical", "buffered", "note", "ref")
GROUP_KEYS = ("pool", "forms", "pKa", "buffered", "ref", "note")
PKA_KEYS = ("value", "dH", "T_ref")
REACTION_KEYS = ("id", "equation", "reactants", "branches", "rate", "reverse-rate", "orders",
                 "tabulated-as", "duplicate", "ref", "uncertainty", "evidence", "note", "propensity", "validity",
                 "law", "law-constants", "law-units")
VALIDITY_KEYS = ("pH", "T", "medium")
PROPENSITIES = ("falling-factorial", "power")
BRANCH_KEYS = ("id", "products", "fraction", "note")
FRACTION_KEYS = ("value", "per-pH", "pH_ref", "per-K", "T_ref")
RATE_KEYS = {
    "constant": ("type", "k", "per"),
    "arrhenius": ("type", "k_ref", "k", "T_ref", "Ea", "Ea_over_R", "per"),
    "power-law": ("type", "k", "k_ref", "factors", "T_ref", "Ea", "Ea_over_R", "per"),
}
UNCERTAINTY_KEYS = ("factor", "range", "log10-sd")
EVIDENCE = {"confirmed": "confirmed", "✔": "confirmed", "unconfirmed": "unconfirmed", "~": "unconfirmed"}
REFERENCE_KEYS = ("citation", "doi", "note")
PARAMETER_SET_KEYS = ("description", "ref", "reactions")
OVERRIDE_KEYS = ("k", "k_ref", "T_ref", "Ea", "Ea_over_R", "fractions", "per")
DEFAULTS_KEYS = ("pH", "temperature", "volume", "initial")

#: Largest stoichiometric coefficient: lumped steps need a handful (8 H+ for MnO4-); 10**400 overflows floats.
MAX_COEFFICIENT = 1000
#: Largest |Ea| (and pKa |dH|) accepted [J/mol]: 1000 kJ/mol is beyond any bond energy, and keeps
#: exp(-Ea/RT) and 10^pKa(T) finite.
MAX_ACTIVATION_ENERGY = 1.0e6

_CHARGE_SUFFIX = re.compile(r"(?:([+-])(\d+)|([+-]+))$")


def charge_from_name(name: str) -> int:
    """Charge implied by a name's suffix: ``Fe+3`` -> 3, ``O2*-`` -> -1, ``CO3--`` -> -2."""
    match = _CHARGE_SUFFIX.search(name)
    if match is None or match.start() == 0:
        return 0
    if match.group(1):
        return int(match.group(2)) * (1 if match.group(1) == "+" else -1)
    signs = match.group(3)
    return len(signs) * (1 if signs[0] == "+" else -1) if len(set(signs)) == 1 else 0


@dataclass
class _PendingReaction:
    """A reaction whose rate nodes wait for the merged species table."""

    reader: FileReader
    node: CommentedMap
    reaction: Reaction  # rate fields are placeholders until finalised
    rate_node: CommentedMap
    reverse_node: CommentedMap | None
    uncertainty_node: CommentedMap | None


@dataclass
class _FileContent:
    reader: FileReader
    top: CommentedMap
    species: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    reactions: list = field(default_factory=list)
    references: list = field(default_factory=list)
    parameter_sets: list = field(default_factory=list)  # (name, node)
    events: list = field(default_factory=list)  # nodes
    compartments: list = field(default_factory=list)  # (Compartment, node)
    transports: list = field(default_factory=list)  # (Transport, node)
    particles: list = field(default_factory=list)  # (reader, node), built once species are merged


def load_mechanism(path, parameter_set: str | None = None) -> Mechanism:
    """Load and validate the mechanism in ``path`` (following ``include:``).

    Parameters
    ----------
    path : str or Path, or a list of them
        A mechanism YAML file, or several merged as if one file included them all
        (a catalyst with an assay: ``["iron.yaml", "probes.yaml"]``; files they share
        are read once). The merged mechanism is named after the files, ``iron+probes``.
    parameter_set : str, optional
        Name of an alternative parameter set to apply (see ``parameter-sets``).

    Raises
    ------
    MechanismError
        Naming file, line, what was expected and what was found.
    """
    # A bare name of a shipped mechanism ("iron") stands for its file (fentonsim.data); a file of that name in
    # the working directory wins.
    paths = [resolve_mechanism_path(p) for p in (path if isinstance(path, (list, tuple)) else [path])]
    if not paths:
        raise MechanismError("no mechanism file given (expected a path or a non-empty list of paths)")
    contents: list[_FileContent] = []
    seen: set[Path] = set()
    for one in paths:
        _read_tree(one, stack=[], seen=seen, out=contents)
    mechanism = _build(paths[-1], contents)
    if len(paths) > 1:
        names = [_top_name(c) for c in contents if c.reader.path.resolve() in {p.resolve() for p in paths}]
        mechanism = replace(mechanism, name="+".join(names),
                            description=f"{' + '.join(names)} merged: " + " | ".join(
                                c.top.get("description", "") or "" for c in contents
                                if c.reader.path.resolve() in {p.resolve() for p in paths}))
    path = paths[-1]
    if parameter_set is not None:
        try:
            mechanism = mechanism.with_parameter_set(parameter_set)
        except KeyError as exc:
            raise MechanismError(exc.args[0], path) from None
    return mechanism


# ---------------------------------------------------------------- reading files


def _top_name(content) -> str:
    return str(content.top.get("name") or content.reader.path.stem)


def _read_tree(path: Path, stack: list[Path], seen: set[Path], out: list[_FileContent],
               include_reader: FileReader | None = None, include_node=None, include_key=None) -> None:
    resolved = _resolve(path, include_reader, include_node, include_key)
    if resolved in stack:
        chain = " -> ".join(p.name for p in stack[stack.index(resolved):] + [resolved])
        raise include_reader.error(f"include cycle: {chain}", include_node, include_key)
    if resolved in seen:
        return
    problem = file_problem(path)
    if problem is not None and include_reader is not None:
        # Named at the `include:` line: the including file is where the user has to fix it.
        what = "not found" if problem == "file not found" else problem
        raise include_reader.error(f"included file `{path}` {what}", include_node, include_key)
    top = read_mapping(path)
    reader = FileReader(path, _units_header(path, top))
    if str(top.get("kind", "mechanism")) != "mechanism":
        raise reader.error(
            f"`kind: {top.get('kind')}` is not a mechanism; load conditions files with "
            "`load_conditions` (expected `kind: mechanism` or no `kind`)", top, "kind")
    reader.check_keys(top, TOP_LEVEL_KEYS, "the mechanism file")
    _check_header(reader, top)
    includes = top.get("include", [])
    if isinstance(includes, str):
        includes = CommentedSeq([includes])
        includes._yaml_set_line_col(reader.line(top, "include") - 1, 0)
        includes._yaml_set_idx_line_col(0, [reader.line(top, "include") - 1, 0])
    if not isinstance(includes, (list, CommentedSeq)):
        raise reader.error("`include` must be a file name or a list of file names", top, "include")
    stack.append(resolved)
    for index, name in enumerate(includes):
        if not isinstance(name, str):
            raise reader.error(f"`include` entries must be file names, found `{name}`", includes, index)
        included = path.parent / name
        if not included.is_file():
            included = shipped_mechanism(name) or included  # `include: iron` names a shipped file
        _read_tree(included, stack, seen, out, reader, includes, index)
    stack.pop()
    seen.add(resolved)
    out.append(_parse_file(reader, top))


def _resolve(path: Path, include_reader, include_node, include_key) -> Path:
    """``path`` made absolute with links followed; a link loop is the user's error, not ours."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python < 3.13 raises RuntimeError("Symlink loop ...")
        problem = "is a symbolic link loop (a link that leads back to itself); expected a YAML file"
        if include_reader is None:
            raise MechanismError(problem, path) from None
        raise include_reader.error(f"included file `{path}` {problem}", include_node, include_key) from None


def _units_header(path: Path, top) -> dict:
    units = dict(DEFAULT_UNITS)
    node = top.get("units")
    if node is None:
        return {k: parse_unit(v) for k, v in units.items()}
    reader = FileReader(path, {})
    if not isinstance(node, CommentedMap):
        raise reader.error("`units` must be a mapping such as `{concentration: M, time: s}`", top, "units")
    reader.check_keys(node, tuple(UNIT_KEYS), "`units`")
    parsed = {}
    for key, dims in UNIT_KEYS.items():
        text = node.get(key, units[key])
        try:
            unit = parse_unit(str(text))
        except Exception as exc:  # UnitError
            raise reader.error(f"`units.{key}`: {exc}", node, key) from None
        if unit.dims != dims:
            raise reader.error(
                f"`units.{key}` must be a {key} unit, found `{text}`", node, key)
        parsed[key] = unit
    return parsed


def _check_header(reader: FileReader, top) -> None:
    convention = top.get("rate-convention", RATE_CONVENTION)
    if convention != RATE_CONVENTION:
        raise reader.error(
            f"`rate-convention` must be `{RATE_CONVENTION}` (r = k·Π[c]^ν; d[X]/dt = Σ ν_X·r), "
            f"found `{convention}`; constants tabulated as 2k are marked per reaction with "
            "`tabulated-as: 2k`", top, "rate-convention")
    mode = top.get("ph-mode", "buffered")
    if mode not in PH_MODES:
        raise reader.error(
            f"`ph-mode` must be one of {', '.join(PH_MODES)}, found `{mode}` (a dynamic pH "
            "with H+ as an integrated species is not supported)", top, "ph-mode")


# ---------------------------------------------------------------- parsing entries


def _parse_file(reader: FileReader, top) -> _FileContent:
    content = _FileContent(reader, top)
    for index, node in enumerate(reader.sequence(top, "species", "the mechanism file")):
        content.species.append(_parse_species(reader, _entry(reader, top, "species", index, node)))
    for index, node in enumerate(reader.sequence(top, "speciation", "the mechanism file")):
        content.groups.append(_parse_group(reader, _entry(reader, top, "speciation", index, node)))
    for index, node in enumerate(reader.sequence(top, "reactions", "the mechanism file")):
        content.reactions.append(_parse_reaction(reader, _entry(reader, top, "reactions", index, node)))
    for index, node in enumerate(reader.sequence(top, "events", "the mechanism file")):
        content.events.append(_entry(reader, top, "events", index, node))
    content.compartments = compartments.parse_compartments(reader, top)
    content.transports = compartments.parse_transports(reader, top)
    content.particles = particle_model.parse_particles(reader, top)
    references = reader.mapping(top, "references", "the mechanism file") or {}
    for key, node in references.items():
        content.references.append(_parse_reference(reader, references, key, node))
    sets = reader.mapping(top, "parameter-sets", "the mechanism file") or {}
    for name, node in sets.items():
        if not isinstance(node, CommentedMap):
            raise reader.error(f"parameter set `{name}` must be a mapping", sets, name)
        reader.check_keys(node, PARAMETER_SET_KEYS, f"parameter set `{name}`")
        content.parameter_sets.append((str(name), node))
    return content


def _entry(reader, top, section, index, node):
    if not isinstance(node, CommentedMap):
        raise reader.error(f"entry {index + 1} of `{section}` must be a mapping, found `{node}`",
                           top[section], index)
    return node


def _location(reader, node, key=None) -> Location:
    return Location(str(reader.path), reader.line(node, key))


def _parse_species(reader: FileReader, node) -> Species:
    name = reader.string(node, "name", "a species", required=True)
    what = f"species `{name}`"
    reader.check_keys(node, SPECIES_KEYS, what)
    if any(ch.isspace() for ch in name):
        raise reader.error(f"species name `{name}` contains white space", node, "name")
    composition_node = reader.mapping(node, "composition", what, required=True)
    composition = []
    for element, count in composition_node.items():
        if not re.fullmatch(r"[A-Z][a-z]?", str(element)):
            raise reader.error(f"{what}: `{element}` is not an element symbol such as `Fe` or `O`",
                               composition_node, element)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise reader.error(f"{what}: count of `{element}` must be a positive whole number, found `{count}`",
                               composition_node, element)
        composition.append((str(element), int(count)))
    charge = reader.number(node, "charge", what, integer=True)
    if charge is None:
        charge = charge_from_name(split_name(name)[0])  # Fe+2@cytosol is Fe+2 in the cytosol
    buffered = node.get("buffered")
    if buffered is not None and not (isinstance(buffered, str) and buffered in BUFFERED_KEYWORDS):
        buffered = reader.quantity(node, "buffered", CONCENTRATION, reader.units["concentration"],
                                   f"buffered concentration of {what}", non_negative=True)
    return Species(
        name=name, charge=charge, composition=tuple(sorted(composition)),
        radical=reader.boolean(node, "radical", what), buffered=buffered,
        note=reader.string(node, "note", what, default="") or "",
        location=_location(reader, node),
    )


def _parse_group(reader: FileReader, node) -> SpeciationGroup:
    pool = reader.string(node, "pool", "a speciation group", required=True)
    what = f"speciation group `{pool}`"
    reader.check_keys(node, GROUP_KEYS, what, required=("forms", "pKa"))
    forms = reader.sequence(node, "forms", what)
    pkas_node = node["pKa"]
    if not isinstance(pkas_node, CommentedSeq):
        pkas_node = CommentedSeq([pkas_node])
        pkas_node._yaml_set_line_col(reader.line(node, "pKa") - 1, 0)
    pkas = []
    for index, item in enumerate(pkas_node):
        if isinstance(item, CommentedMap):
            reader.check_keys(item, PKA_KEYS, f"a pKa of {what}", required=("value",))
            value = reader.number(item, "value", f"pKa of {what}", required=True)
            dH = (reader.quantity(item, "dH", MOLAR_ENERGY, reader.units["energy"], f"dH of {what}")
                  if "dH" in item else 0.0)
            if not abs(dH) <= MAX_ACTIVATION_ENERGY:  # 10^pKa(T) would overflow
                raise reader.error(f"dH of {what} is {dH / 1e3:.3g} kJ/mol; expected at most "
                                   f"{MAX_ACTIVATION_ENERGY / 1e3:g} kJ/mol in magnitude", item, "dH")
            T_ref = (reader.quantity(item, "T_ref", TEMPERATURE, reader.units["temperature"],
                                     f"T_ref of {what}", positive=True)
                     if "T_ref" in item else STANDARD_TEMPERATURE)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            value = reader.number(pkas_node, index, f"pKa of {what}", required=True)
            dH, T_ref = 0.0, STANDARD_TEMPERATURE
        else:
            raise reader.error(f"pKa of {what} must be a number or `{{value, dH, T_ref}}`, found `{item}`",
                               pkas_node, index)
        if not (value == value and abs(value) < 1e3):
            raise reader.error(f"pKa of {what} must be a finite number, found `{value}`", pkas_node, index)
        pkas.append(PKa(value, dH, T_ref))
    if len(pkas) != len(forms) - 1:
        raise reader.error(
            f"{what} has {len(forms)} forms and so needs {len(forms) - 1} pKa values "
            f"(one per adjacent pair), found {len(pkas)}", node, "pKa")
    total = None
    if node.get("buffered") is not None:
        total = reader.quantity(node, "buffered", CONCENTRATION, reader.units["concentration"],
                                f"buffered total of {what}", non_negative=True)
    return SpeciationGroup(
        pool=pool, forms=tuple(str(f) for f in forms), pka=tuple(pkas), buffered_total=total,
        ref=reader.string(node, "ref", what), note=reader.string(node, "note", what, default="") or "",
        location=_location(reader, node),
    )


def _equation_side(reader, node, key, text, what, side):
    try:
        equation = parse_equation(f"{text} => " if side == "reactants" else f"=> {text}")
    except EquationError as exc:
        raise reader.error(f"{what}: {exc}", node, key) from None
    terms = equation.reactants if side == "reactants" else equation.products
    _check_coefficients(reader, node, key, terms, what)
    return terms


def _check_coefficients(reader, node, key, terms, what) -> None:
    """Coefficients stay small integers, so stoichiometry and orders are exact as floats."""
    for name, coef in terms:
        if coef > MAX_COEFFICIENT:
            raise reader.error(f"{what}: coefficient {_short_int(coef)} of `{name}` is too large; expected at "
                               f"most {MAX_COEFFICIENT}", node, key)


def _short_int(value: int) -> str:
    text = str(value)
    return text if len(text) <= 12 else f"{text[:6]}… ({len(text)} digits)"


def _parse_reaction(reader: FileReader, node) -> _PendingReaction:
    rid = reader.string(node, "id", "a reaction", required=True)
    what = f"reaction `{rid}`"
    reader.check_keys(node, REACTION_KEYS, what, required=("rate",))
    has_equation, has_branches = "equation" in node, "branches" in node
    if has_equation == has_branches:
        raise reader.error(
            f"{what} needs either `equation` or `reactants` with `branches`, not "
            f"{'both' if has_equation else 'neither'}", node)
    reverse_node = None
    if has_equation:
        text = reader.string(node, "equation", what)
        try:
            equation = parse_equation(text)
        except EquationError as exc:
            raise reader.error(f"{what}: {exc}", node, "equation") from None
        if "reactants" in node:
            raise reader.error(f"{what}: `reactants` goes with `branches`; the equation already names them",
                               node, "reactants")
        _check_coefficients(reader, node, "equation", equation.reactants + equation.products, what)
        reactants = equation.reactants
        branches = (Branch(rid, equation.products, 1.0),)
        if equation.reversible:
            reverse_node = reader.mapping(node, "reverse-rate", what)
            if reverse_node is None:
                raise reader.error(f"{what} is reversible (`<=>`) and needs `reverse-rate`", node, "equation")
        elif "reverse-rate" in node:
            raise reader.error(f"{what} has `reverse-rate` but its equation uses `=>`; write `<=>`",
                               node, "reverse-rate")
    else:
        reactants = _equation_side(reader, node, "reactants",
                                   reader.string(node, "reactants", what, required=True), what, "reactants")
        branches_node = reader.sequence(node, "branches", what)
        if len(branches_node) == 0:
            raise reader.error(f"{what}: `branches` must list at least one product set", node, "branches")
        branches = []
        for index, bnode in enumerate(branches_node):
            if not isinstance(bnode, CommentedMap):
                raise reader.error(f"branch {index + 1} of {what} must be a mapping", branches_node, index)
            reader.check_keys(bnode, BRANCH_KEYS, f"a branch of {what}", required=("id", "products", "fraction"))
            bid = reader.string(bnode, "id", f"a branch of {what}")
            products = _equation_side(reader, bnode, "products", reader.string(bnode, "products", what),
                                      f"branch `{bid}` of {what}", "products")
            law = _parse_fraction(reader, bnode, f"branch `{bid}`")
            branches.append(Branch(bid, products, note=reader.string(bnode, "note", what, default="") or "",
                                   **law))
        _check_fraction_sum(reader, node, branches, what)
        branches = tuple(branches)
    rate_node = reader.mapping(node, "rate", what, required=True)
    tabulated = reader.string(node, "tabulated-as", what, default="k")
    if tabulated not in ("k", "2k"):
        raise reader.error(f"`tabulated-as` of {what} must be `k` or `2k`, found `{tabulated}`",
                           node, "tabulated-as")
    orders = []
    orders_node = reader.mapping(node, "orders", what) or {}
    for species, order in orders_node.items():
        if isinstance(order, bool) or not isinstance(order, (int, float)) or not (0 <= order <= 3):
            raise reader.error(f"order of `{species}` in {what} must be a number from 0 to 3, found `{order}`",
                               orders_node, species)
        orders.append((str(species), float(order)))
    evidence = node.get("evidence")
    if evidence is not None and (not isinstance(evidence, str) or evidence not in EVIDENCE):
        raise reader.error(f"`evidence` of {what} must be one of confirmed (✔), unconfirmed (~); "
                           f"found `{evidence}`", node, "evidence")
    propensity = reader.string(node, "propensity", what, default="falling-factorial")
    if propensity not in PROPENSITIES:
        raise reader.error(f"`propensity` of {what} must be one of {', '.join(PROPENSITIES)}; found "
                           f"`{propensity}`", node, "propensity")
    reaction = Reaction(
        id=rid, reactants=reactants, branches=branches, rate=RateLaw("constant", 0.0), propensity=propensity,
        orders=tuple(orders), tabulated_2k=tabulated == "2k",
        duplicate=reader.boolean(node, "duplicate", what), ref=reader.string(node, "ref", what),
        evidence=None if evidence is None else EVIDENCE[evidence],
        note=reader.string(node, "note", what, default="") or "", location=_location(reader, node),
        validity=_parse_validity(reader, node, what),
    )
    return _PendingReaction(reader, node, reaction, rate_node, reverse_node,
                            reader.mapping(node, "uncertainty", what))


def _parse_validity(reader: FileReader, node, what: str) -> Validity | None:
    """``validity: {pH: [lo, hi], T: [lo, hi], medium: text}`` — where the constant was measured."""
    vnode = reader.mapping(node, "validity", what)
    if vnode is None:
        return None
    reader.check_keys(vnode, VALIDITY_KEYS, f"the validity of {what}")
    ranges = {}
    for key, parse in (("pH", lambda seq, i: reader.number(seq, i, f"`validity.pH` of {what}",
                                                           required=True)),
                       ("T", lambda seq, i: reader.quantity(seq, i, TEMPERATURE, reader.units["temperature"],
                                                            f"`validity.T` of {what}", positive=True))):
        if key not in vnode:
            continue
        seq = reader.sequence(vnode, key, f"the validity of {what}")
        if len(seq) != 2:
            raise reader.error(f"`validity.{key}` of {what} must be [low, high], found {len(seq)} values",
                               vnode, key)
        low, high = parse(seq, 0), parse(seq, 1)
        if not low <= high:
            raise reader.error(f"`validity.{key}` of {what} must be [low, high] with low ≤ high, found "
                               f"[{low:g}, {high:g}]", vnode, key)
        ranges[key] = (low, high)
    return Validity(ranges.get("pH"), ranges.get("T"), reader.string(vnode, "medium", what, default="") or "")


def _parse_reference(reader, references, key, node) -> Reference:
    what = f"reference `{key}`"
    if isinstance(node, str):
        if not node.strip():
            raise reader.error(f"{what} has an empty citation", references, key)
        return Reference(str(key), node)
    if not isinstance(node, CommentedMap):
        raise reader.error(f"{what} must be a citation string or a mapping with `citation`", references, key)
    reader.check_keys(node, REFERENCE_KEYS, what, required=("citation",))
    citation = reader.string(node, "citation", what, required=True)
    if not citation.strip():
        raise reader.error(f"{what} has an empty `citation`", node, "citation")
    return Reference(str(key), citation, reader.string(node, "doi", what),
                     reader.string(node, "note", what, default="") or "")


# ---------------------------------------------------------------- rates (need the merged species)


def rate_unit(reader: FileReader, order: float) -> Unit:
    """Unit of a bare-number rate constant of ``order`` under the file's header."""
    conc, time = reader.units["concentration"], reader.units["time"]
    try:
        factor = conc.factor ** (1.0 - order) / time.factor
    except OverflowError:  # caught as an infinite value by FileReader.quantity
        factor = float("inf")
    return Unit(factor, rate_constant_dims(order))


def _constant_units(reader: FileReader, order: float, basis: Unit | None):
    """(dims, unit of a bare number, factor into k) of a rate constant of ``order``: in the file's units, or in a
    particle ``basis`` (fentonsim.mechanism.particles), whose unit must be written and whose factor converts it."""
    if basis is None:
        return rate_constant_dims(order), rate_unit(reader, order), 1.0
    return particle_model.divide_dims(rate_constant_dims(order), basis), None, basis.factor


def _parse_fraction(reader: FileReader, bnode, what: str) -> dict:
    """A branch fraction: a number, or a linear yield law ``{value, per-pH, pH_ref, per-K, T_ref}``."""
    if not isinstance(bnode["fraction"], CommentedMap):
        fraction = reader.number(bnode, "fraction", what, required=True)
        if not 0.0 <= fraction <= 1.0:
            raise reader.error(f"fraction of {what} must be in [0, 1], found `{fraction}`", bnode, "fraction")
        return {"fraction": fraction}
    node = bnode["fraction"]
    reader.check_keys(node, FRACTION_KEYS, f"the fraction law of {what}", required=("value",))
    law = {"fraction": reader.number(node, "value", f"the fraction of {what}", required=True)}
    if not 0.0 <= law["fraction"] <= 1.0:
        raise reader.error(f"fraction of {what} must be in [0, 1], found `{law['fraction']}`", node, "value")
    for slope, ref in (("per-pH", "pH_ref"), ("per-K", "T_ref")):
        if (slope in node) != (ref in node):
            raise reader.error(f"the fraction law of {what} needs both `{slope}` and `{ref}`", node)
    if "per-pH" in node:
        law["per_pH"] = reader.number(node, "per-pH", f"`per-pH` of {what}", required=True)
        law["pH_ref"] = reader.number(node, "pH_ref", f"`pH_ref` of {what}", required=True)
    if "per-K" in node:
        law["per_K"] = reader.number(node, "per-K", f"`per-K` of {what}", required=True)
        law["T_ref"] = reader.quantity(node, "T_ref", TEMPERATURE, reader.units["temperature"],
                                       f"`T_ref` of {what}", positive=True)
    if "per-pH" not in node and "per-K" not in node:
        raise reader.error(f"the fraction law of {what} needs `per-pH` or `per-K`; for a constant fraction "
                           "write the number", node)
    return law


def _check_fraction_sum(reader: FileReader, node, branches, what: str) -> None:
    """Fractions must sum to one at every pH and temperature, so their slopes must cancel."""
    total = sum(b.fraction - b.per_pH * b.pH_ref - b.per_K * b.T_ref for b in branches)
    slopes = (sum(b.per_pH for b in branches), sum(b.per_K for b in branches))
    if abs(total - 1.0) > BRANCH_FRACTION_TOLERANCE or any(abs(s) > 1e-12 for s in slopes):
        laws = ", ".join(f"{b.id}: {b.fraction:g}" + (f" {b.per_pH:+g}/pH" if b.per_pH else "")
                         + (f" {b.per_K:+g}/K" if b.per_K else "") for b in branches)
        raise reader.error(f"branching fractions of {what} sum to {sum(b.fraction for b in branches):g}"
                           + (f" with slopes {slopes[0]:+g}/pH and {slopes[1]:+g}/K" if any(slopes) else "")
                           + f", expected 1 at every pH and temperature ({laws}); give the other "
                           "branch the opposite slopes and the same references", node, "branches")


def _parse_rate(reader: FileReader, node, order: float, what: str, buffered_names, basis: Unit | None = None) -> RateLaw:
    """A rate law; with ``basis`` (a particle rate per area, site, particle or mass) its k is given in that basis
    and multiplied by ``basis`` into the r = k·g convention (fentonsim.mechanism.particles)."""
    declared = node.get("type")
    if declared is None:
        declared = "power-law" if "factors" in node else ("arrhenius" if "k_ref" in node or "Ea" in node
                                                          or "Ea_over_R" in node else "constant")
    if not isinstance(declared, str) or declared not in RATE_KEYS:
        raise reader.error(f"rate type of {what} must be one of {', '.join(RATE_KEYS)}, found `{declared}`",
                           node, "type")
    reader.check_keys(node, RATE_KEYS[declared], f"the `{declared}` rate of {what}")
    factors = []
    factors_node = reader.mapping(node, "factors", what) or {}
    for species, exponent in factors_node.items():
        if str(species) not in buffered_names:
            raise reader.error(
                f"power-law factor `{species}` of {what} must be a buffered species (its concentration "
                "is fixed by the conditions); integrated species enter through the equation", factors_node, species)
        # Negative exponents express pre-equilibria such as Fe3+ + H2O2 = Fe(HO2)2+ + H+, whose
        # complex decays at k·K·[Fe3+][H2O2]/[H+].
        if (isinstance(exponent, bool) or not isinstance(exponent, (int, float)) or exponent == 0
                or not -5 <= exponent <= 5):
            raise reader.error(f"exponent of `{species}` in {what} must be a non-zero number in [-5, 5], "
                               f"found `{exponent}`", factors_node, species)
        factors.append((str(species), float(exponent)))
    total_order = order + sum(e for _, e in factors)
    key = "k_ref" if "k_ref" in node else "k"
    if key not in node:
        raise reader.error(f"the rate of {what} is missing `k`" + (" (or `k_ref`)" if declared != "constant" else ""),
                           node)
    if "k" in node and "k_ref" in node:
        raise reader.error(f"the rate of {what} gives both `k` and `k_ref`; give one", node, "k")
    if "per" in node and basis is None:
        raise reader.error(f"`per` in the rate of {what}: only a forward rate involving a particle may be given per "
                           "area, site, particle or mass", node, "per")
    dims, unit, scale = _constant_units(reader, total_order, basis)
    k = reader.quantity(node, key, dims, unit, f"`{key}` of {what}" + (f" (per {node['per']})" if basis else ""),
                        non_negative=True) * scale
    T_ref = (reader.quantity(node, "T_ref", TEMPERATURE, reader.units["temperature"], f"`T_ref` of {what}",
                             positive=True) if "T_ref" in node else STANDARD_TEMPERATURE)
    if "Ea" in node and "Ea_over_R" in node:
        raise reader.error(f"the rate of {what} gives both `Ea` and `Ea_over_R`; give one", node, "Ea")
    Ea = _activation_energy(reader, node, what)
    return RateLaw(declared, k, T_ref, Ea, tuple(factors))


def _activation_energy(reader: FileReader, node, what: str) -> float:
    """``Ea`` [J/mol] from ``Ea`` or ``Ea_over_R`` (0 without either), bounded by MAX_ACTIVATION_ENERGY."""
    if "Ea" in node:
        key, Ea = "Ea", reader.quantity(node, "Ea", MOLAR_ENERGY, reader.units["energy"], f"`Ea` of {what}")
    elif "Ea_over_R" in node:
        key, Ea = "Ea_over_R", GAS_CONSTANT * reader.quantity(
            node, "Ea_over_R", TEMPERATURE, reader.units["temperature"], f"`Ea_over_R` of {what}")
    else:
        return 0.0
    if not abs(Ea) <= MAX_ACTIVATION_ENERGY:
        raise reader.error(f"`{key}` of {what} is {Ea / 1e3:.3g} kJ/mol; expected at most "
                           f"{MAX_ACTIVATION_ENERGY / 1e3:g} kJ/mol in magnitude (beyond any bond energy, and "
                           "exp(-Ea/RT) would overflow)", node, key)
    return Ea


def _parse_uncertainty(reader, node, order, what, halve, basis: Unit | None = None) -> Uncertainty:
    reader.check_keys(node, UNCERTAINTY_KEYS, f"the uncertainty of {what}")
    factor = reader.number(node, "factor", f"uncertainty of {what}")
    if factor is not None and factor < 1:
        raise reader.error(f"uncertainty factor of {what} must be ≥ 1, found `{factor}`", node, "factor")
    low = high = None
    if "range" in node:
        bounds = node["range"]
        if not isinstance(bounds, CommentedSeq) or len(bounds) != 2:
            raise reader.error(f"uncertainty range of {what} must be `[low, high]`", node, "range")
        dims, unit, scale = _constant_units(reader, order, basis)  # in the same basis as k
        low, high = (reader.quantity(bounds, i, dims, unit, f"uncertainty range of {what}", non_negative=True)
                     * scale for i in (0, 1))
        if low > high:
            raise reader.error(f"uncertainty range of {what} has low > high", node, "range")
        if halve:
            low, high = low / 2, high / 2
    log10_sd = reader.number(node, "log10-sd", f"uncertainty of {what}")
    if log10_sd is not None and log10_sd < 0:
        raise reader.error(f"`log10-sd` of {what} must not be negative, found `{log10_sd:g}`", node, "log10-sd")
    return Uncertainty(factor, low, high, log10_sd)


# ---------------------------------------------------------------- merging and finalising


def _merge(items, key, what):
    """Merge (name, object, reader, node) items, rejecting duplicate names."""
    merged, where = {}, {}
    for name, obj, reader, node in items:
        if name in merged:
            first = where[name]
            raise reader.error(f"duplicate {what} `{name}` (first defined at {first.path}:{first.line})", node, key)
        merged[name] = obj
        where[name] = _location(reader, node, key)
    return merged


def _build(path: Path, contents: list[_FileContent]) -> Mechanism:
    top_content = contents[-1]
    reader, top = top_content.reader, top_content.top
    species = _merge([(s.name, s, c.reader, _node_at(c, "species", i)) for c in contents
                      for i, s in enumerate(c.species)], "name", "species")
    groups = _merge([(g.pool, g, c.reader, _node_at(c, "speciation", i)) for c in contents
                     for i, g in enumerate(c.groups)], "pool", "speciation pool")
    references = _merge([(r.key, r, c.reader, c.top["references"]) for c in contents
                         for r in c.references], None, "reference key")
    pending = [p for c in contents for p in c.reactions]
    _merge([(p.reaction.id, p, p.reader, p.node) for p in pending], "id", "reaction id")
    _merge([(b.id, p, p.reader, p.node) for p in pending for b in p.reaction.branches
            if b.id != p.reaction.id], "branches", "branch id")
    validate.check_species_table(species, groups)
    kinds = validate.species_kinds(species, groups)
    # Water (activity 1) never enters a rate law, so it cannot carry an order or a power-law factor.
    buffered_names = {name for name, kind in kinds.items()
                      if kind.startswith("buffered") and kind != validate.BUFFERED_SOLVENT_KIND}
    particles = particle_model.build([entry for c in contents for entry in c.particles], species, kinds,
                                     validate.DYNAMIC)
    reactions = []
    for p in pending:
        reactions.append(_finalise_reaction(p, kinds, buffered_names, species, groups, particles))
    warnings = validate.check_reactions(reactions, species, groups, kinds, references)
    events = [(e.name, e, c.reader, node) for c in contents for e, node in
              ((_parse_event(c.reader, node, kinds), node) for node in c.events)]
    _merge(events, None, "event id")
    mechanism = Mechanism(
        name=reader.string(top, "name", "the mechanism file", default=path.stem),
        description=reader.string(top, "description", "the mechanism file", default="") or "",
        species=tuple(species.values()), reactions=tuple(reactions), speciation=tuple(groups.values()),
        references=tuple(references.values()),
        parameter_sets=(), defaults=_defaults(contents, species), warnings=tuple(warnings),
        files=tuple(str(c.reader.path) for c in contents), state_events=tuple(e for _, e, _, _ in events),
        particles=tuple(particles.values()),
    )
    mechanism = compartments.place(mechanism, contents, _merge)
    sets = [(name, _parse_parameter_set(c.reader, name, node, mechanism, pending, kinds), c.reader, node)
            for c in contents for name, node in c.parameter_sets]
    _merge(sets, None, "parameter set")
    sets = [s for _, s, _, _ in sets]
    return replace(mechanism, parameter_sets=tuple(sets))


def _node_at(content, section, index):
    return content.top[section][index]


def _finalise_reaction(p: _PendingReaction, kinds, buffered_names, species, groups, particles) -> Reaction:
    reaction, reader, node = p.reaction, p.reader, p.node
    what = f"reaction `{reaction.id}`"
    validate.check_declared(reaction, kinds, reader, node)
    for name, _ in reaction.orders:
        if name not in dict(reaction.reactants):
            raise reader.error(f"`orders` of {what} names `{name}`, which is not a reactant; "
                               "use a `power-law` rate with `factors` for buffered species outside the equation",
                               node, "orders")
        if kinds.get(name) == validate.BUFFERED_SOLVENT_KIND:
            raise reader.error(f"`orders` of {what} names `{name}`, the solvent (activity 1), which never "
                               "enters a rate law; fold it into k", node, "orders")
        if name not in buffered_names:
            raise reader.error(
                f"`orders` of {what} sets the order of integrated species `{name}`; only buffered species "
                "may have orders different from their coefficients (stochastic propensities need integer "
                "mass-action orders)", node, "orders")
    order = validate.rate_law_order(reaction, kinds, "reactants")
    law, law_constants, law_checked = None, (), True
    if "law" in node:
        law, law_constants, law_checked, law_m = _parse_law(reader, node, reaction, p.reverse_node is not None,
                                                                kinds, what, groups)
        order = law_m if law_checked else order
    else:
        for key in ("law-constants", "law-units"):
            if key in node:
                raise reader.error(f"{what} has `{key}` but no `law`", node, key)
    law_species = () if law is None else symbols(law) - {"time"} - {name for name, _, _ in law_constants}
    basis = particle_model.rate_basis(reader, p.rate_node, reaction, law_species, particles, what, law, law_constants)
    rate = _parse_rate(reader, p.rate_node, order, what, buffered_names, basis)
    if reaction.tabulated_2k:
        # H+, OH- and water enter the rate law at order 0 (or not at all), so `2 H+` makes no self-reaction.
        if not any(coef == 2 and kinds.get(name) not in (validate.BUFFERED_PH, validate.BUFFERED_SOLVENT_KIND)
                   for name, coef in reaction.reactants):
            raise reader.error(
                f"{what} is marked `tabulated-as: 2k` but is not a self-reaction (no reactant other than "
                "H+, OH- or water with coefficient 2); the 2k convention only applies to 2 A => products",
                node, "tabulated-as")
        rate = replace(rate, k=rate.k / 2.0)
    reverse = None
    if p.reverse_node is not None:
        reverse = _parse_rate(reader, p.reverse_node, validate.rate_law_order(reaction, kinds, "products"),
                              f"the reverse of {what}", buffered_names)
    uncertainty = None
    if p.uncertainty_node is not None:
        uncertainty = _parse_uncertainty(reader, p.uncertainty_node,
                                         order + sum(e for _, e in rate.factors), what, reaction.tabulated_2k, basis)
    return replace(reaction, rate=rate, reverse_rate=reverse, uncertainty=uncertainty, law=law,
                   law_constants=law_constants, law_checked=law_checked)


def _parse_law(reader: FileReader, node, reaction: Reaction, reversible: bool, kinds, what: str, groups=None):
    """(law tree, its constants (name, canonical value, dims), whether its dimensions were checked,
    concentration order m of the law) of ``node["law"]`` (fentonsim.mechanism.law); errors name the file
    and line of the key at fault. ``law-units: unchecked`` skips the dimensional analysis (a law written
    back from an SBML import, whose numbers carry the model's units)."""
    checked = node.get("law-units", "checked")
    if checked not in ("checked", "unchecked"):
        raise reader.error(f"`law-units` of {what} must be `checked` or `unchecked`, found `{checked}`",
                           node, "law-units")
    if reversible:
        raise reader.error(f"{what} has a `law` and a reverse rate (`<=>`); write the net rate in the law "
                           "and the equation with `=>`", node, "law")
    if reaction.orders:
        raise reader.error(f"{what} has a `law`, so `orders` mean nothing; write the concentrations into the law",
                           node, "orders")
    try:
        tree, species, names = parse_law(node["law"])
    except LawSyntaxError as exc:
        raise reader.error(f"`law` of {what}: {exc}", node, "law") from None
    pool_of = {form: g.pool for g in (groups or {}).values() for form in g.forms}
    for name in sorted(species):
        # A pool total is a state variable too ([peroxide] = [H2O2] + [HO2-]); a single form is not, since its
        # share depends on pH.
        if kinds.get(name) not in (validate.DYNAMIC, validate.POOL):
            found = "not a species of the mechanism" if name not in kinds else f"a {kinds[name]} species"
            hint = f"; read its pool total [{pool_of[name]}]" if name in pool_of else ""
            raise reader.error(f"`law` of {what} reads [{name}], {found}; a law reads integrated species or pool "
                               f"totals (clamped concentrations go into `law-constants`){hint}", node, "law")
    for name in sorted(species & names):
        raise reader.error(f"`law` of {what} uses `{name}` both as a species ([{name}]) and as a constant; "
                           "rename the constant", node, "law")
    constants_node = reader.mapping(node, "law-constants", what) or {}
    values, dims_of = {}, {name: CONCENTRATION for name in species}
    dims_of["time"] = TIME
    for key in constants_node:
        if str(key) not in names:
            raise reader.error(f"`law-constants` of {what} defines `{key}`, which the law does not use",
                               constants_node, key)
    for name in sorted(names):
        if name not in constants_node:
            raise reader.error(f"`law` of {what} uses `{name}`, which is not in its `law-constants` (nor `time`)",
                               node, "law")
        try:
            values[name], dims_of[name] = parse_constant(constants_node[name], f"law constant `{name}` of {what}")
        except (LawSyntaxError, UnitError) as exc:
            raise reader.error(str(exc), constants_node, name) from None
        if not math.isfinite(values[name]):
            raise reader.error(f"law constant `{name}` of {what} must be finite, found `{constants_node[name]}`",
                               constants_node, name)
    order = 0.0
    if checked == "checked":
        try:
            order = concentration_order(law_dims(tree, dims_of))
        except LawSyntaxError as exc:
            raise reader.error(f"`law` of {what}: {exc}", node, "law") from None
    constants = tuple((name, values[name], tuple(dims_of[name])) for name in sorted(names))
    return tree, constants, checked == "checked", order


def _parse_event(reader: FileReader, node, kinds) -> StateEvent:
    """An ``events:`` entry: a trigger (a comparison, or and/or/not of comparisons, of integrated species in
    brackets, named constants and ``time``), the species it ``set``s (each to an expression in M), optional
    ``delay`` [time], ``priority`` (number) and ``persistent`` (default true); units checked as for laws."""
    eid = reader.string(node, "id", "an event", required=True)
    what = f"event `{eid}`"
    reader.check_keys(node, EVENT_KEYS, what, required=("trigger", "set"))
    constants_node = reader.mapping(node, "constants", what) or {}
    values, dims_of = {}, {"time": TIME}
    for name in constants_node:
        try:
            values[str(name)], dims_of[str(name)] = parse_constant(constants_node[name], f"constant `{name}` of {what}")
        except (LawSyntaxError, UnitError) as exc:
            raise reader.error(str(exc), constants_node, name) from None
    used = set()

    def expression(container, key, label):
        try:
            tree, species, names = parse_law(container[key])
        except LawSyntaxError as exc:
            raise reader.error(f"{label} of {what}: {exc}", container, key) from None
        for name in sorted(species):
            if kinds.get(name) != validate.DYNAMIC:
                found = "not a species of the mechanism" if name not in kinds else f"a {kinds[name]} species"
                raise reader.error(f"{label} of {what} reads [{name}], {found}; events read integrated species",
                                   container, key)
            dims_of[name] = CONCENTRATION
        for name in sorted(names):
            if name not in values:
                raise reader.error(f"{label} of {what} uses `{name}`, which is not in its `constants` (nor `time`)",
                                   container, key)
            if name in species:
                raise reader.error(f"{label} of {what} uses `{name}` both as a species and as a constant",
                                   container, key)
        used.update(names)
        return tree

    trigger = expression(node, "trigger", "the trigger")
    try:
        if trigger[0] not in ("rel", "op") or (trigger[0] == "op" and trigger[1] not in ("and", "or", "xor", "not")):
            raise LawSyntaxError("a trigger must be a comparison such as `[H2O2] < threshold`, or and/or/not of them")
        law_dims(trigger, dims_of)
    except LawSyntaxError as exc:
        raise reader.error(f"the trigger of {what}: {exc}", node, "trigger") from None
    set_node = reader.mapping(node, "set", what, required=True)
    assignments = []
    for target in set_node:
        if kinds.get(str(target)) != validate.DYNAMIC:
            raise reader.error(f"{what} sets `{target}`; events set integrated species", set_node, target)
        if isinstance(set_node[target], (int, float)) and not isinstance(set_node[target], bool):
            raise reader.error(f"{what} sets `{target}` to a bare number; write it with its unit in `constants` "
                               f"(e.g. `set: {{{target}: dose}}`, `constants: {{dose: 100 uM}}`)", set_node, target)
        tree = expression(set_node, target, f"the value of `{target}`")
        try:
            dims = law_dims(tree, dims_of)
        except LawSyntaxError as exc:
            raise reader.error(f"the value of `{target}` in {what}: {exc}", set_node, target) from None
        if not all(abs(a - b) < 1e-9 for a, b in zip(dims, CONCENTRATION)):
            raise reader.error(f"the value of `{target}` in {what} has unit {format_dims(dims)}; a concentration "
                               "(M) is expected", set_node, target)
        assignments.append((str(target), tree))
    for name in constants_node:
        if str(name) not in used:
            raise reader.error(f"`constants` of {what} defines `{name}`, which it does not use", constants_node, name)
    delay = None
    if "delay" in node:
        seconds = reader.quantity(node, "delay", TIME, reader.units["time"], f"`delay` of {what}", non_negative=True)
        delay = num(seconds) if seconds > 0 else None
    priority = reader.number(node, "priority", f"`priority` of {what}")
    return StateEvent(name=eid, trigger=trigger, assignments=tuple(assignments),
                      priority=None if priority is None else float(priority), use_trigger_values=True,
                      initial_value=True, delay=delay, persistent=reader.boolean(node, "persistent", what, default=True),
                      constants=tuple((name, values[name], tuple(dims_of[name])) for name in sorted(used)),
                      checked=True, location=_location(reader, node))


def _parse_parameter_set(reader, name, node, mechanism: Mechanism, pending, kinds) -> ParameterSet:
    what = f"parameter set `{name}`"
    by_id = {p.reaction.id: p for p in pending}
    overrides = []
    reactions_node = reader.mapping(node, "reactions", what) or {}
    for rid, changes in reactions_node.items():
        if rid not in by_id:
            raise reader.error(f"{what} overrides unknown reaction `{rid}`", reactions_node, rid)
        if not isinstance(changes, CommentedMap):
            raise reader.error(f"override of `{rid}` in {what} must be a mapping such as `{{k: 63}}`",
                               reactions_node, rid)
        reader.check_keys(changes, OVERRIDE_KEYS, f"the override of `{rid}` in {what}")
        reaction = mechanism.reaction(str(rid))
        order = law_order(reaction.law, reaction.law_constants) if reaction.law is not None and \
            reaction.law_checked else validate.rate_law_order(reaction, kinds, "reactants")
        order += sum(e for _, e in reaction.rate.factors)
        values = []
        basis = particle_model.rate_basis(reader, changes, reaction, _law_species(reaction),
                                          {p.species: p for p in mechanism.particles},
                                          f"the override of `{rid}` in {what}", reaction.law, reaction.law_constants)
        dims, unit, scale = _constant_units(reader, order, basis)  # a particle basis as in `rate`
        for key in ("k", "k_ref"):
            if key in changes:
                k = reader.quantity(changes, key, dims, unit, f"`{key}` of `{rid}` in {what}", non_negative=True)
                k *= scale
                values.append(("k", k / 2.0 if reaction.tabulated_2k else k))
        if "T_ref" in changes:
            values.append(("T_ref", reader.quantity(changes, "T_ref", TEMPERATURE, reader.units["temperature"],
                                                    f"`T_ref` of `{rid}` in {what}", positive=True)))
        if "Ea" in changes and "Ea_over_R" in changes:
            raise reader.error(f"the override of `{rid}` in {what} gives both `Ea` and `Ea_over_R`; give one",
                               changes, "Ea")
        if "Ea" in changes or "Ea_over_R" in changes:
            values.append(("Ea", _activation_energy(reader, changes, f"`{rid}` in {what}")))
        fractions = reader.mapping(changes, "fractions", what) or {}
        branch_ids = {b.id for b in reaction.branches}
        new_fractions = {b.id: b.fraction for b in reaction.branches}
        for bid, fraction in fractions.items():
            if bid not in branch_ids:
                raise reader.error(f"{what} sets the fraction of `{bid}`, which is not a branch of `{rid}` "
                                   f"(branches: {', '.join(sorted(branch_ids))})", fractions, bid)
            value = reader.number(fractions, bid, f"fraction of `{bid}` in {what}", required=True)
            if not 0 <= value <= 1:
                raise reader.error(f"fraction of `{bid}` in {what} must be in [0, 1], found `{value}`",
                                   fractions, bid)
            new_fractions[str(bid)] = value
            values.append((f"fraction:{bid}", value))
        if fractions and abs(sum(new_fractions.values()) - 1.0) > BRANCH_FRACTION_TOLERANCE:
            raise reader.error(f"with {what}, the branching fractions of `{rid}` sum to "
                               f"{sum(new_fractions.values()):g}, expected 1", changes, "fractions")
        overrides.append((str(rid), tuple(values)))
    return ParameterSet(name, reader.string(node, "description", what, default="") or "",
                        reader.string(node, "ref", what), tuple(overrides))


def _law_species(reaction: Reaction) -> set:
    if reaction.law is None:
        return set()
    return symbols(reaction.law) - {"time"} - {name for name, _, _ in reaction.law_constants}


def _defaults(contents: list[_FileContent], species: dict) -> Defaults:
    """Merged defaults: per key the top file wins; ``initial`` values merge per species (the top file wins)."""
    values, initial = {}, {}
    for content in contents:  # includes first, so the top file wins
        reader, node = content.reader, content.reader and content.top.get("defaults")
        if node is None:
            continue
        if not isinstance(node, CommentedMap):
            raise reader.error("`defaults` must be a mapping with pH, temperature, volume", content.top, "defaults")
        reader.check_keys(node, DEFAULTS_KEYS, "`defaults`")
        if "pH" in node:
            pH = reader.number(node, "pH", "`defaults`", required=True)
            if not 0 <= pH <= 14:
                raise reader.error(f"default pH must be between 0 and 14, found `{pH}`", node, "pH")
            values["pH"] = pH
        if "temperature" in node:
            values["temperature"] = reader.quantity(node, "temperature", TEMPERATURE, reader.units["temperature"],
                                                    "default temperature", positive=True)
        if "volume" in node:
            values["volume"] = reader.quantity(node, "volume", VOLUME, reader.units["volume"],
                                               "default volume", positive=True)
        initial_node = reader.mapping(node, "initial", "`defaults`")
        for name in initial_node or {}:
            if str(name) not in species:
                raise reader.error(f"`defaults.initial` names `{name}`, which is not a species of the mechanism",
                                   initial_node, name)
            if species[str(name)].buffered is not None:
                raise reader.error(f"`defaults.initial` gives `{name}` a starting value, but `{name}` is clamped "
                                   "(`buffered`); set its clamp instead", initial_node, name)
            initial[str(name)] = reader.quantity(initial_node, name, CONCENTRATION, reader.units["concentration"],
                                                 f"default initial concentration of `{name}`", non_negative=True)
    if initial:
        values["initial"] = tuple(sorted(initial.items()))
    return Defaults(**values)
