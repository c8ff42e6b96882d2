"""Hypothesis strategies for fentonsim mechanisms, built from the schema dataclasses.

Every generated :class:`Mechanism` is valid by construction and is one that
``load_mechanism`` reproduces exactly from ``dump_mechanism`` text, so
``load(dump(m)) == m`` is a property rather than a wish. The constraints that
make this so come from ``fentonsim/mechanism/load.py`` and ``dump.py``:

* ``Species.composition`` is a sorted tuple of (element, positive int);
  ``charge`` is explicit (dump always writes it).
* Balance holds by construction: every reaction side is a sum of *units* with
  fixed composition and charge, and both sides carry the same units:
  a plain unit (any plain species; they all share one composition, charge 0),
  an acid unit (``HZ``, or ``Z-`` + ``H+``) and a water unit (``H2O``, or
  ``H+`` + ``OH-``).
* Rate laws: ``constant`` has ``T_ref = 298.15``, ``Ea = 0`` and no factors
  (dump writes only ``k``); ``arrhenius`` has no factors (its YAML form has no
  ``factors`` key); ``power-law`` factors name clamped species that the network
  compiler can supply (the clamped plain species, H+, OH-, forms of a clamped
  pool — not the solvent, see the report on ``compile_network``).
* ``orders`` only for buffered reactants; total rate-law order ≤ 3.
* ``tabulated_2k`` only with a reactant other than H+, OH- or water of coefficient 2 (k, the uncertainty
  range and parameter-set ``k`` are halved on load and doubled on dump, exact
  for normal floats).
* A reaction with one branch whose id equals the reaction id is written as an
  ``equation``, which drops the branch's fraction and note, so such a branch
  has fraction 1.0 and an empty note; reversible reactions are always of that
  form (``reverse-rate`` only goes with ``equation``).
* Branch fractions sum to 1 within the loader's 1e-9 tolerance; branch ids are
  unique and distinct from reaction ids; no two reactions (or branches) share
  reactants and products unless both are marked ``duplicate``.
* Optional strings that dump omits when falsy (``ref``, ``doi``, notes,
  descriptions) are either None/"" as the loader would produce, or non-empty.
* ParameterSet overrides are ordered as the loader builds them: ``k``,
  ``T_ref``, ``Ea``, then ``fraction:<branch id>``.
"""
from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from fentonsim.constants import STANDARD_TEMPERATURE
from fentonsim.mechanism.schema import (
    Branch,
    Defaults,
    Mechanism,
    ParameterSet,
    PKa,
    RateLaw,
    Reaction,
    Reference,
    Species,
    SpeciationGroup,
    Uncertainty,
    Validity,
)

# Fixed species every generated mechanism has (besides the plain ones).
H_PLUS, OH_MINUS, WATER = "H+", "OH-", "H2O"
ACID, BASE, POOL = "HZ", "Z-", "Z(tot)"
RESERVED_NAMES = frozenset({H_PLUS, OH_MINUS, WATER, ACID, BASE, POOL})

#: Text for notes, citations and descriptions: letters, digits and characters
#: that YAML gives meaning to (the dumper has to quote them).
_TEXT_ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                  " .,;:-_()[]{}#&*!|>'\"%@`?/+=~^·µé–°₂⁻")


def _finite(min_value: float, max_value: float, **kwargs):
    """Finite, normal (non-subnormal) floats in [min_value, max_value]."""
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False, **kwargs)


def texts(min_size: int = 0, max_size: int = 24):
    """Free text (notes, citations, descriptions) including YAML-special characters."""
    return st.text(alphabet=_TEXT_ALPHABET, min_size=min_size, max_size=max_size)


def identifiers():
    """Reaction, branch, reference and parameter-set ids such as ``R1``, ``true``, ``F1-OH``."""
    return st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,5}", fullmatch=True)


def species_name():
    """One species name such as ``A``, ``Xb2``, ``Q+``, ``Fe(OH)2+``, ``O2*-`` or ``CO3--``.

    Starts with a capital letter (never a digit or ``+``), contains no white
    space (so never `` + ``) and is not one of the names the mechanism
    strategy reserves for H+, OH-, H2O, the acid/base pair and its pool.
    """
    return st.from_regex(r"[A-Z][a-z]?(\(OH\))?[0-9]?\*?([+-]{1,2}|[+-][2-3])?", fullmatch=True).filter(
        lambda name: name not in RESERVED_NAMES)


def species_names(min_size: int = 1, max_size: int = 6):
    """A list of distinct species names (see :func:`species_name`)."""
    return st.lists(species_name(), min_size=min_size, max_size=max_size, unique=True)


def rate_constants():
    """Finite positive rate constants in 1e-3..1e10 (normal floats, so 2k/2 == k)."""
    return _finite(1e-3, 1e10)


def activation_energies():
    """Activation energies [J mol⁻¹], including slightly negative ones."""
    return _finite(-2e4, 1.5e5)


def reference_temperatures():
    """Reference temperatures [K] from 0 to 100 °C."""
    return _finite(273.15, 373.15)


@st.composite
def rate_laws(draw, factor_names=()):
    """A RateLaw of type constant, arrhenius or power-law (factors from ``factor_names``)."""
    types = ["constant", "arrhenius"] + (["power-law"] if factor_names else [])
    kind = draw(st.sampled_from(types))
    k = draw(rate_constants())
    if kind == "constant":
        return RateLaw("constant", k, STANDARD_TEMPERATURE, 0.0, ())
    T_ref, Ea = draw(reference_temperatures()), draw(activation_energies())
    if kind == "arrhenius":
        return RateLaw("arrhenius", k, T_ref, Ea, ())
    names = draw(st.lists(st.sampled_from(sorted(factor_names)), min_size=1, max_size=len(factor_names),
                          unique=True))
    positive = _finite(0.0, 5.0, exclude_min=True)
    # Negative orders only in H+/OH-, which are never 0; a clamped species at 0 would make k infinite.
    signed = positive | _finite(-5.0, 0.0, exclude_max=True)
    exponents = [draw(signed if name in (H_PLUS, OH_MINUS) else positive) for name in names]
    return RateLaw("power-law", k, T_ref, Ea, tuple(zip(names, exponents)))


@st.composite
def uncertainties(draw):
    """An Uncertainty with any combination of factor (≥ 1), range (low ≤ high) and log10 sd."""
    factor = draw(st.none() | _finite(1.0, 20.0))
    low = high = None
    if draw(st.booleans()):
        low, high = sorted(draw(st.lists(_finite(0.0, 1e11), min_size=2, max_size=2)))
    log10_sd = draw(st.none() | _finite(0.0, 3.0))
    return Uncertainty(factor, low, high, log10_sd)


@st.composite
def validities(draw):
    """A Validity with optional pH and temperature ranges (low ≤ high) and a medium."""
    pH = tuple(sorted(draw(st.lists(_finite(0.0, 14.0), min_size=2, max_size=2)))) if draw(st.booleans()) else None
    T = tuple(sorted(draw(st.lists(_finite(250.0, 400.0), min_size=2, max_size=2)))) if draw(st.booleans()) else None
    return Validity(pH, T, draw(st.just("") | texts(min_size=1)))


@st.composite
def yield_laws(draw):
    """Two branches' linear yield laws whose slopes cancel (so the fractions sum to 1 everywhere); use with
    fractions in [0.3, 0.7]."""
    # Small enough that a fraction drawn in [0.3, 0.7] stays inside [0, 1] for any pH 0–14 and 250–400 K.
    per_pH = draw(st.just(0.0) | _finite(-0.02, 0.02))
    per_K = draw(st.just(0.0) | _finite(-5e-4, 5e-4))
    # A reference without its slope is not written out, so it must keep the default to round-trip.
    pH_ref = draw(_finite(3.0, 9.0)) if per_pH else 7.0
    T_ref = draw(reference_temperatures()) if per_K else STANDARD_TEMPERATURE
    return ({"per_pH": per_pH, "pH_ref": pH_ref, "per_K": per_K, "T_ref": T_ref},
            {"per_pH": -per_pH, "pH_ref": pH_ref, "per_K": -per_K, "T_ref": T_ref})


@st.composite
def branch_fractions(draw, n: int):
    """``n`` fractions in [0, 1] summing to 1 within the loader's 1e-9 tolerance."""
    if n == 1:
        return (1.0,)
    if draw(st.booleans()):
        exact = {2: [(0.25, 0.75), (0.5, 0.5), (0.0, 1.0), (0.125, 0.875)],
                 3: [(0.25, 0.25, 0.5), (0.5, 0.5, 0.0), (0.125, 0.375, 0.5)]}[n]
        return tuple(draw(st.permutations(draw(st.sampled_from(exact)))))
    fractions, rest = [], 1.0
    for _ in range(n - 1):
        f = draw(_finite(0.0, 1.0)) * rest
        fractions.append(f)
        rest = max(rest - f, 0.0)
    fractions.append(rest)
    assert abs(sum(fractions) - 1.0) <= 1e-12
    return tuple(fractions)


def _merge(terms):
    """[(name, coef), ...] -> tuple with each name once, in order of first appearance."""
    merged: dict[str, int] = {}
    for name, coef in terms:
        merged[name] = merged.get(name, 0) + coef
    return tuple(merged.items())


@st.composite
def _side(draw, n_plain: int, n_acid: int, n_water: int, plain, self_reaction=False):
    """One reaction side made of balanced units (see the module docstring)."""
    terms = []
    if self_reaction:
        name = draw(st.sampled_from(plain))
        terms.append((name, 2))
        n_plain -= 2
    terms += [(draw(st.sampled_from(plain)), 1) for _ in range(n_plain)]
    for _ in range(n_acid):
        terms += [(ACID, 1)] if draw(st.booleans()) else [(BASE, 1), (H_PLUS, 1)]
    for _ in range(n_water):
        terms += [(WATER, 1)] if draw(st.booleans()) else [(H_PLUS, 1), (OH_MINUS, 1)]
    order = draw(st.permutations(terms))
    return _merge(order)


def _key(terms):
    """The validator's duplicate key of a reaction side (sorted (name, coefficient) pairs)."""
    return tuple(sorted(terms))


@st.composite
def mechanisms(draw, max_reactions: int = 8):
    """A random valid Mechanism that survives dump -> load unchanged.

    Contents: 2–5 integrated plain species (optionally radical), one plain
    species clamped at a concentration, H+ (from pH), OH- (from pOH), H2O
    (solvent), optionally the acid/base pair HZ/Z- as an integrated or clamped
    speciation pool with one pKa, up to ``max_reactions`` balanced reactions
    (a candidate that would duplicate an earlier one, or leave its reactants
    unchanged, is skipped; so rarely none) — plain, reversible, branched,
    single branch with its own id, 2k self-reactions,
    power-law and Arrhenius rates, buffered-reactant orders, duplicates marked
    ``duplicate``), references cited by key or DOI (or not at all), optional
    parameter sets, uncertainties and defaults.
    """
    # ---- species
    names = draw(species_names(min_size=3, max_size=6))
    integrated, clamped = names[:-1], names[-1]
    element = draw(st.from_regex(r"[A-Z][a-z]?", fullmatch=True).filter(lambda e: e not in ("H", "O", "Z")))
    plain_composition = ((element, draw(st.integers(1, 3))),)
    species = [Species(n, 0, plain_composition, radical=draw(st.booleans()), note=draw(st.just("") | texts()))
               for n in integrated]
    species.append(Species(clamped, 0, plain_composition, buffered=draw(_finite(0.0, 1.0)),
                           note=draw(st.just("") | texts())))
    species += [
        Species(H_PLUS, 1, (("H", 1),), buffered="from-pH"),
        Species(OH_MINUS, -1, (("H", 1), ("O", 1)), buffered="from-pOH"),
        Species(WATER, 0, (("H", 2), ("O", 1)), buffered="solvent"),
    ]
    has_group = draw(st.booleans())
    group_clamped = has_group and draw(st.booleans())
    if has_group:
        species += [Species(ACID, 0, (("H", 1), ("Z", 1))), Species(BASE, -1, (("Z", 1),))]
    species = draw(st.permutations(species))

    # ---- references
    ref_keys = draw(st.lists(identifiers(), max_size=4, unique=True))
    references = tuple(
        Reference(key, draw(texts(min_size=1).filter(str.strip)), draw(st.none() | st.just("10.1000/") | texts(min_size=1)),
                  draw(st.just("") | texts(min_size=1)))
        for key in ref_keys)
    citable = st.none() | st.sampled_from(["10.1021/j100269a035", "doi:10.1063/1.555805"])
    if ref_keys:
        citable = citable | st.sampled_from(ref_keys)

    groups = ()
    if has_group:
        pka = PKa(draw(_finite(-2.0, 16.0)), draw(_finite(-1e5, 1e5)), draw(reference_temperatures()))
        groups = (SpeciationGroup(POOL, (ACID, BASE), (pka,),
                                  buffered_total=draw(_finite(0.0, 1.0)) if group_clamped else None,
                                  ref=draw(citable), note=draw(st.just("") | texts())),)

    # ---- reactions
    plain = list(integrated) + [clamped]
    factor_names = [clamped, H_PLUS, OH_MINUS] + ([ACID, BASE] if group_clamped else [])
    buffered_reactants = {clamped, H_PLUS, OH_MINUS} | ({ACID, BASE} if group_clamped else set())
    n_candidates = draw(st.integers(1, max_reactions))
    ids = draw(st.lists(identifiers(), min_size=3 * n_candidates + 3, max_size=3 * n_candidates + 3,
                        unique=True))
    id_iter = iter(ids)
    seen_keys: set = set()
    reactions: list[Reaction] = []
    for _ in range(n_candidates):
        n_acid = draw(st.integers(0, 1)) if has_group else 0
        n_plain = draw(st.integers(1 if n_acid == 0 else 0, 3 - n_acid))
        n_water = draw(st.integers(0, 1))
        self_reaction = n_plain >= 2 and draw(st.booleans())
        reactants = draw(_side(n_plain, n_acid, n_water, plain, self_reaction))
        shape = draw(st.sampled_from(["simple", "reversible", "branched", "renamed"]))
        n_branches = draw(st.integers(2, 3)) if shape == "branched" else 1
        products = [draw(_side(n_plain, n_acid, n_water, plain)) for _ in range(n_branches)]
        keys = [(_key(reactants), _key(p)) for p in products]
        if shape == "reversible":
            keys += [(_key(p), _key(reactants)) for p in products]
        if (len(set(keys)) != len(keys) or any(k in seen_keys for k in keys)
                or any(_key(p) == _key(reactants) for p in products)):
            continue  # would be a duplicate (or a null reaction); skip this candidate
        seen_keys.update(keys)

        rid = next(id_iter)
        if shape in ("simple", "reversible"):
            branches = (Branch(rid, products[0], 1.0, ""),)
        else:
            fractions = draw(branch_fractions(n_branches))
            with_law = n_branches == 2 and 0.3 <= fractions[0] <= 0.7 and draw(st.booleans())
            laws = draw(yield_laws()) if with_law else ({},) * n_branches
            laws = [law if law.get("per_pH") or law.get("per_K") else {} for law in laws]
            branches = tuple(Branch(next(id_iter), p, f, draw(st.just("") | texts(min_size=1)), **law)
                             for p, f, law in zip(products, fractions, laws))

        present_buffered = [n for n, _ in reactants if n in buffered_reactants]
        orders = ()
        if present_buffered and draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(present_buffered), min_size=1, unique=True))
            orders = tuple((n, draw(_finite(0.0, 3.0))) for n in chosen)
            overrides = dict(orders)
            kinds_zero = {H_PLUS, OH_MINUS, WATER}
            total = sum(overrides.get(n, 0.0 if n in kinds_zero else c) for n, c in reactants)
            if total > 3:
                orders = ()

        # The 2k convention belongs to self-reactions of a real species (2 A => ...), not to 2 H+ (the loader refuses it).
        tabulated_2k = any(c == 2 and n not in (H_PLUS, OH_MINUS, WATER) for n, c in reactants) and draw(st.booleans())
        reactions.append(Reaction(
            id=rid, reactants=reactants, branches=branches,
            rate=draw(rate_laws(factor_names)),
            reverse_rate=draw(rate_laws(factor_names)) if shape == "reversible" else None,
            orders=orders, tabulated_2k=tabulated_2k, duplicate=draw(st.booleans()),
            ref=draw(citable), uncertainty=draw(st.none() | uncertainties()),
            evidence=draw(st.sampled_from([None, "confirmed", "unconfirmed"])),
            note=draw(st.just("") | texts(min_size=1)),
            validity=draw(st.none() | validities()),
        ))

    # A deliberate duplicate pathway: same reactants and products, both marked.
    simple = [r for r in reactions if len(r.branches) == 1 and r.branches[0].id == r.id]
    if simple and draw(st.booleans()):
        original = draw(st.sampled_from(simple))
        twin_id = next(id_iter)
        twin = Reaction(id=twin_id, reactants=original.reactants,
                        branches=(Branch(twin_id, original.branches[0].products, 1.0, ""),),
                        rate=draw(rate_laws(factor_names)), duplicate=True, ref=draw(citable),
                        reverse_rate=(draw(rate_laws(factor_names)) if original.reversible else None))
        reactions = [replace(r, duplicate=True) if r is original else r for r in reactions]
        reactions.append(twin)

    # ---- parameter sets
    parameter_sets = []
    for set_name in draw(st.lists(identifiers(), max_size=2, unique=True)):
        chosen = draw(st.lists(st.sampled_from(reactions), max_size=len(reactions),
                               unique_by=lambda r: r.id)) if reactions else []
        overrides = []
        for r in chosen:
            values = []
            if draw(st.booleans()):
                values.append(("k", draw(rate_constants())))
            if draw(st.booleans()):
                values.append(("T_ref", draw(reference_temperatures())))
            if draw(st.booleans()):
                values.append(("Ea", draw(activation_energies())))
            if r.is_branched and draw(st.booleans()):
                fractions = draw(branch_fractions(len(r.branches)))
                values += [(f"fraction:{b.id}", f) for b, f in zip(r.branches, fractions)]
            overrides.append((r.id, tuple(values)))
        parameter_sets.append(ParameterSet(set_name, draw(st.just("") | texts(min_size=1)),
                                           draw(st.none() | st.sampled_from(list(ref_keys) or ["x"])),
                                           tuple(overrides)))

    defaults = Defaults(pH=draw(_finite(0.0, 14.0)), temperature=draw(_finite(273.15, 373.15)),
                        volume=draw(_finite(1e-15, 10.0)))
    return Mechanism(
        name=draw(identifiers()), species=tuple(species), reactions=tuple(reactions), speciation=groups,
        references=references, parameter_sets=tuple(parameter_sets), defaults=defaults,
        description=draw(st.just("") | texts()),
    )
