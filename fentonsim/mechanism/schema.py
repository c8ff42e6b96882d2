"""Validated mechanism data: frozen dataclasses holding values, not behaviour.

All numbers are in canonical units: concentrations M, time s, molar energies
J mol⁻¹, temperatures K, volumes L; a rate constant of total order m is in
M^(1−m) s⁻¹.

Rate convention (the only one in fentonsim): a reaction with reactant
coefficients ν_i proceeds at r = k · Π_i [c_i]^ν_i and species X changes as
d[X]/dt = Σ_reactions (ν_X,products − ν_X,reactants) · r. A self-reaction
2 A => P therefore consumes A at 2·k·[A]². Constants tabulated in the
radiation-chemistry "2k" convention are halved on load (``tabulated-as: 2k``).

Source locations are kept for error messages but excluded from equality, so
two mechanisms are equal when their chemistry is equal.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..constants import STANDARD_TEMPERATURE


@dataclass(frozen=True)
class Location:
    """Where a definition came from: file path and 1-based line."""

    path: str | None = None
    line: int | None = None


def _location() -> Location:
    return field(default=Location(), compare=False, repr=False)


#: Values of ``Species.buffered`` other than a concentration.
BUFFERED_FROM_PH = "from-pH"      # [H+] = 10^-pH
BUFFERED_FROM_POH = "from-pOH"    # [OH-] = Kw(T) / [H+]
BUFFERED_SOLVENT = "solvent"      # water: activity 1, never in a rate law
BUFFERED_KEYWORDS = (BUFFERED_FROM_PH, BUFFERED_FROM_POH, BUFFERED_SOLVENT)


@dataclass(frozen=True)
class Species:
    """A chemical species.

    ``composition`` is a sorted tuple of (element, count); ``buffered`` is
    None for an integrated species, one of BUFFERED_KEYWORDS, or a default
    clamped concentration [M] that conditions may override. ``signed`` marks a
    state variable that may be negative (an imported SBML model's quantities
    under general laws or rate rules); concentrations of chemistry are not.
    """

    name: str
    charge: int
    composition: tuple[tuple[str, int], ...]
    radical: bool = False
    buffered: str | float | None = None
    note: str = ""
    signed: bool = False
    location: Location = _location()
    #: The compartment holding it ("" in a single-volume mechanism): its concentration is per that
    #: compartment's volume (fentonsim.compartments).
    compartment: str = ""

    @property
    def is_buffered(self) -> bool:
        return self.buffered is not None


@dataclass(frozen=True)
class PKa:
    """An acid dissociation constant: pKa at ``T_ref`` [K] with van 't Hoff
    enthalpy ``dH`` [J mol⁻¹] (pKa(T) = pKa + dH/(R ln10)·(1/T − 1/T_ref))."""

    value: float
    dH: float = 0.0
    T_ref: float = STANDARD_TEMPERATURE


@dataclass(frozen=True)
class SpeciationGroup:
    """A pool of forms in rapid acid–base or hydrolysis equilibrium.

    ``forms`` go from most to least protonated; ``pka[i]`` links ``forms[i]``
    and ``forms[i+1]``. When ``buffered_total`` [M] is set the whole pool is
    clamped (e.g. total carbonate); otherwise the pool is integrated.
    """

    pool: str
    forms: tuple[str, ...]
    pka: tuple[PKa, ...]
    buffered_total: float | None = None
    ref: str | None = None
    note: str = ""
    location: Location = _location()


@dataclass(frozen=True)
class RateLaw:
    """k(T) = k · exp(−Ea/R · (1/T − 1/T_ref)) · Π [B]^n over ``factors``.

    ``type`` is "constant" (Ea = 0), "arrhenius" or "power-law" (``factors``
    are buffered species with exponents, e.g. (("HCO3-", 3.0),)). ``k`` is in
    M^(1−m) s⁻¹ where m counts every concentration in the rate law.
    """

    type: str
    k: float
    T_ref: float = STANDARD_TEMPERATURE
    Ea: float = 0.0
    factors: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Branch:
    """One product channel of a reaction, taken with probability

    fraction(pH, T) = ``fraction`` + ``per_pH``·(pH − ``pH_ref``) + ``per_K``·(T − ``T_ref``)

    (a measured yield law such as terephthalate's 2-hydroxyterephthalate
    yield; the slopes are 0 for a constant fraction, T in K).
    """

    id: str
    products: tuple[tuple[str, int], ...]
    fraction: float = 1.0
    note: str = ""
    per_pH: float = 0.0
    pH_ref: float = 7.0
    per_K: float = 0.0
    T_ref: float = STANDARD_TEMPERATURE

    @property
    def varies(self) -> bool:
        return self.per_pH != 0.0 or self.per_K != 0.0

    def fraction_at(self, pH, temperature):
        return self.fraction + self.per_pH * (pH - self.pH_ref) + self.per_K * (temperature - self.T_ref)


@dataclass(frozen=True)
class Uncertainty:
    """Uncertainty of a rate constant: a multiplicative ``factor`` (≥ 1), a
    ``low``–``high`` range in the constant's units, or ``log10_sd``."""

    factor: float | None = None
    low: float | None = None
    high: float | None = None
    log10_sd: float | None = None


@dataclass(frozen=True)
class Validity:
    """Where a rate constant was measured: pH range, temperature range [K] and medium."""

    pH: tuple[float, float] | None = None
    T: tuple[float, float] | None = None
    medium: str = ""


@dataclass(frozen=True)
class Reaction:
    """A reaction: one reactant set and one or more product branches.

    ``orders`` overrides the rate-law order of buffered reactants (integrated
    species always react with their stoichiometric coefficient, which the
    stochastic solvers require). ``reverse_rate`` is set for ``<=>``.

    ``propensity`` is how the stochastic solvers count reactant combinations:
    ``"falling-factorial"`` (c·n(n−1)… — the physical count, the default) or
    ``"power"`` (c·n^ν, what an SBML kinetic law written ``k*X*X`` means under the
    SBML test suite's stochastic semantics). It makes no difference to the ODE.

    ``law`` is a general rate law (a fentonsim.expression tree g of state species names [M] and
    ``time`` [s]): the reaction then proceeds at r = k·g instead of k·Π[c]^ν, and ``reactants`` give
    only its stoichiometry (fentonsim.laws). Such reactions are integrated by the ODE solvers only.
    ``law_constants`` are the law's named constants (name, value in canonical units, dimensions);
    ``law_checked`` is False for a law whose dimensions were not analysed (imported from SBML, where
    the model's own units apply).
    """

    id: str
    reactants: tuple[tuple[str, int], ...]
    branches: tuple[Branch, ...]
    rate: RateLaw
    reverse_rate: RateLaw | None = None
    orders: tuple[tuple[str, float], ...] = ()
    tabulated_2k: bool = False
    duplicate: bool = False
    ref: str | None = None
    uncertainty: Uncertainty | None = None
    evidence: str | None = None
    note: str = ""
    propensity: str = "falling-factorial"
    validity: Validity | None = None
    law: tuple | None = None
    law_constants: tuple[tuple[str, float, tuple], ...] = ()
    law_checked: bool = True
    location: Location = _location()

    @property
    def reversible(self) -> bool:
        return self.reverse_rate is not None

    @property
    def is_branched(self) -> bool:
        return len(self.branches) > 1


@dataclass(frozen=True)
class Reference:
    """A literature reference that reactions cite by ``key``."""

    key: str
    citation: str
    doi: str | None = None
    note: str = ""


@dataclass(frozen=True)
class ParameterSet:
    """Named alternative values for contested constants.

    ``overrides`` is a tuple of (reaction id, ((field, value), ...)) with
    fields among k, T_ref, Ea and fraction:<branch id>, canonical units; ``k``
    is in the reaction's own convention (already halved for 2k reactions).
    """

    name: str
    description: str = ""
    ref: str | None = None
    overrides: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()


@dataclass(frozen=True)
class Defaults:
    """Default conditions: pH, temperature [K], volume [L]; ``atol`` [M] is the
    default absolute ODE tolerance when the model's amounts are far from the
    nM–mM range fentonsim's default (1e-20 M) is made for (None: that default);
    ``initial`` holds (species, concentration [M]) pairs a model starts from
    unless told otherwise (SBML initial values; YAML ``defaults.initial``, e.g. O2 in ros_core.yaml)."""

    pH: float = 7.0
    temperature: float = STANDARD_TEMPERATURE
    volume: float = 1.0
    atol: float | None = None
    initial: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Compartment:
    """A well-mixed volume of a multi-compartment mechanism (fentonsim.compartments).

    ``volume`` [L] is its size at the start (a constant unless ``size`` is set); ``size`` is the name of the
    state variable or observable that gives its size over time in ``size_unit`` litres per model unit
    (an SBML compartment whose size a rule or event changes), else "".
    """

    name: str
    volume: float
    note: str = ""
    size: str = ""
    size_unit: float = 1.0
    location: Location = _location()


@dataclass(frozen=True)
class Transport:
    """Passage of one chemical between two compartments (fentonsim.compartments).

    ``species`` and ``target`` name the species in the source and the target compartment
    (``H2O2@extracellular``, ``H2O2@cytosol``). With ``k`` [s⁻¹] it is one-way and first order in the source:
    d[S_source]/dt = −k·[S_source]. With ``permeability_area`` P·A [L s⁻¹] it is passive, both ways:
    flux J = P·A·([S_source] − [S_target]) [mol s⁻¹]. ``reactions`` are the ids of the mechanism reactions
    it compiles to.
    """

    id: str
    species: str
    target: str
    k: float | None = None
    permeability_area: float | None = None
    note: str = ""
    ref: str | None = None
    reactions: tuple[str, ...] = ()
    location: Location = _location()


@dataclass(frozen=True)
class Observable:
    """A derived output: ``expression`` (a fentonsim.expression tree) of species values.

    Each symbol of the expression is a state variable (or ``time`` [s]); its
    value is the concentration [M] times the ``scale`` listed for it, so an
    imported SBML rule ``y = 2 * X`` is evaluated in the SBML model's own
    units (molecule counts, say). ``units`` names the result's unit.
    """

    name: str
    expression: tuple
    scale: tuple[tuple[str, float], ...] = ()
    units: str = ""


@dataclass(frozen=True)
class StateEvent:
    """An event triggered by the state: when ``trigger`` (a fentonsim.expression condition of state
    variables [M] and ``time`` [s]) turns from false to true, each (target, expression) of ``assignments``
    sets that state variable to the expression's value [M]. Several events firing at the same instant
    execute highest ``priority`` first (None: no priority); with ``use_trigger_values`` their values are
    computed at the trigger instant before any is applied, otherwise when each executes.
    ``initial_value`` is the trigger's value before the start (SBML's initialValue): an event whose trigger
    is already true at the start fires at the start only if this is False. ``delay`` (an expression [s],
    evaluated at the trigger instant) postpones the execution; a ``persistent`` event executes even if its
    trigger turns false before then. ``constants`` are named constants of the expressions (name, value in
    canonical units, dimensions), substituted when the network is compiled; ``checked`` marks an event
    written in a mechanism file, whose dimensions were checked (an SBML import's are in the model's units).
    """

    name: str
    trigger: tuple
    assignments: tuple[tuple[str, tuple], ...]
    priority: float | None = None
    use_trigger_values: bool = True
    initial_value: bool = True
    delay: tuple | None = None
    persistent: bool = True
    constants: tuple[tuple[str, float, tuple], ...] = ()
    checked: bool = False
    location: Location = _location()


@dataclass(frozen=True)
class Particle:
    """A solid catalyst (a nanomaterial) whose integrated species ``species`` counts formula units per litre [M].

    Canonical units, as everywhere in the schema: ``molar_mass`` g mol⁻¹ (of the formula unit), ``density``
    g L⁻¹, lengths in dm (L^(1/3)): ``size`` is the diameter of a ``sphere`` or the thickness of a ``sheet``
    (square, edge ``lateral_size``); ``specific_area`` dm² g⁻¹, ``site_density`` surface sites dm⁻² (a count),
    ``dose`` the default mass concentration g L⁻¹ (0: none). fentonsim.mechanism.particles derives the surface
    area, site and particle concentrations from them; the particles are monodisperse.
    """

    species: str
    shape: str
    molar_mass: float
    density: float
    size: float
    specific_area: float
    site_density: float
    lateral_size: float = 0.0
    dose: float = 0.0
    ref: str | None = None
    note: str = ""
    location: Location = _location()


@dataclass(frozen=True)
class Mechanism:
    """A validated reaction mechanism (see the module docstring for units).

    Models imported from SBML may carry ``events`` (fentonsim.Bolus and
    fentonsim.Assignment inputs every simulation applies), ``state_events``
    (events triggered by the state, run by the general-law ODE kernel),
    ``observables`` (assignment-rule outputs) and ``counts`` (species are
    molecule counts in the source model, so results report counts too).
    """

    name: str
    species: tuple[Species, ...]
    reactions: tuple[Reaction, ...]
    speciation: tuple[SpeciationGroup, ...] = ()
    references: tuple[Reference, ...] = ()
    parameter_sets: tuple[ParameterSet, ...] = ()
    defaults: Defaults = Defaults()
    description: str = ""
    active_parameter_set: str | None = None
    events: tuple = ()
    observables: tuple[Observable, ...] = ()
    counts: bool = False
    state_events: tuple[StateEvent, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False, repr=False)
    files: tuple[str, ...] = field(default=(), compare=False, repr=False)
    #: Reaction ids whose constants the user set at run time (fentonsim.mechanism.overrides.with_rates):
    #: a condition preset's own constants (its O2 exchange) never replace them.
    user_rates: tuple[str, ...] = ()
    #: The compartments of a multi-compartment mechanism (empty: one volume, ``defaults.volume``).
    compartments: tuple[Compartment, ...] = ()
    #: Transport between compartments, as declared; its reactions are among ``reactions``.
    transports: tuple[Transport, ...] = ()
    #: Nanomaterial catalysts: geometry of solid species (fentonsim.mechanism.particles).
    particles: tuple[Particle, ...] = ()

    def species_by_name(self) -> dict[str, Species]:
        return {s.name: s for s in self.species}

    def group_of_form(self) -> dict[str, SpeciationGroup]:
        return {form: g for g in self.speciation for form in g.forms}

    def reaction(self, reaction_id: str) -> Reaction:
        for reaction in self.reactions:
            if reaction.id == reaction_id:
                return reaction
        raise KeyError(reaction_id)

    def with_parameter_set(self, name: str) -> "Mechanism":
        """A copy with the named alternative constants applied.

        Raises
        ------
        KeyError
            If ``name`` is not one of ``parameter_sets`` (message lists them).
        """
        sets = {p.name: p for p in self.parameter_sets}
        if name not in sets:
            raise KeyError(
                f"unknown parameter set `{name}`; this mechanism defines "
                f"{', '.join(sorted(sets)) or 'none'}"
            )
        overrides = dict(sets[name].overrides)
        reactions = []
        for reaction in self.reactions:
            changes = dict(overrides.get(reaction.id, ()))
            if not changes:
                reactions.append(reaction)
                continue
            rate_changes = {k: v for k, v in changes.items() if k in ("k", "T_ref", "Ea")}
            rate = dataclasses.replace(reaction.rate, **rate_changes)
            if rate_changes.get("Ea", 0.0) and rate.type == "constant":
                rate = dataclasses.replace(rate, type="arrhenius")
            branches = tuple(
                dataclasses.replace(b, fraction=changes.get(f"fraction:{b.id}", b.fraction))
                for b in reaction.branches
            )
            reactions.append(dataclasses.replace(reaction, rate=rate, branches=branches))
        return dataclasses.replace(self, reactions=tuple(reactions), active_parameter_set=name)
