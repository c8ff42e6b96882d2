"""Compile a :class:`Mechanism` into a :class:`Network` of dense arrays.

The Network is the structure the numba kernels consume. It does not depend on
conditions: pH, temperature and buffered concentrations enter only through
:meth:`Network.rate_constants`, which is vectorised over many conditions at
once, so changing conditions never rebuilds the Network or recompiles kernels.

State variables (``species``, length n_s) are the integrated species plus one
entry per integrated speciation pool (its total concentration). Reactions
(length n_r) are the mechanism's reactions expanded: each product branch and
each reverse direction is one network reaction.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .compartments import transport_rates_message
from .conditions import Conditions
from .constants import GAS_CONSTANT, MAX_REACTION_ORDER, STANDARD_TEMPERATURE, pkw
from .errors import ConditionsError, MechanismError
from .expression import substitute, symbols, to_text
from .laws import TIME_SYMBOL, LawError, LawPrograms, compile_laws, mass_action_law
from .mechanism import validate
from .mechanism.digest import mechanism_digest
from .mechanism.equation import format_equation
from .mechanism.law import law_order
from .mechanism.schema import BUFFERED_FROM_PH, BUFFERED_FROM_POH, Mechanism
from .speciation import fractions, pka_at
from .units import Unit, parse_quantity, rate_constant_dims
from .validity import yield_laws as _yield_laws

#: Kinds of buffered inputs (Network.buffered_kind).
BUFFERED_KIND_CONC, BUFFERED_KIND_H, BUFFERED_KIND_OH, BUFFERED_KIND_FORM = 0, 1, 2, 3


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Network:
    """Dense-array form of a mechanism (immutable; arrays are read-only).

    Attributes
    ----------
    name : str
        Mechanism name.
    mechanism_sha256 : str
        SHA-256 of the mechanism's canonical form (fentonsim.mechanism.digest; any parameter set applied).
    parameter_set : str or None
        Name of the alternative parameter set applied, if any.
    species : tuple of str, length n_s
        State variables: integrated species and integrated pools.
    is_pool : ndarray of bool, shape (n_s,)
        True where the state variable is a speciation pool total.
    reaction_ids : tuple of str, length n_r
        Network reaction ids: the reaction id, its branch id, or ``<id>:reverse``.
    source_reaction : tuple of str, length n_r
        Mechanism reaction id each network reaction comes from.
    equations : tuple of str, length n_r
        Equation as written in the mechanism (forms, buffered species included).
    reactant_idx : ndarray of int32, shape (n_r, 3)
        State-variable indices of the reactants, padded with -1.
    reactant_coef : ndarray of int32, shape (n_r, 3)
        Coefficient of each entry of ``reactant_idx`` (0 for padding).
    order : ndarray of int8, shape (n_r,)
        Sum of ``reactant_coef`` per reaction (order in state variables).
    net_stoich : ndarray of int64, shape (n_r, n_s)
        Element ``[i, k]`` is the change in state variable ``k`` when reaction ``i`` fires once.
    k_ref : ndarray of float64, shape (n_r,)
        Rate constant at ``T_ref`` for the written forms [M^(1−m) s⁻¹, m = full rate-law order].
    T_ref : ndarray of float64, shape (n_r,)
        Reference temperature [K].
    Ea : ndarray of float64, shape (n_r,)
        Activation energy [J mol⁻¹].
    branch_fraction : ndarray of float64, shape (n_r,)
        Fraction of the reactant set's flux going to this branch (dimensionless)
        at the law's reference conditions.
    fraction_law : ndarray of float64, shape (n_r, 4)
        Columns per_pH [1/pH unit], pH_ref, per_K [K⁻¹], T_ref [K]: the fraction is
        ``branch_fraction + per_pH·(pH − pH_ref) + per_K·(T − T_ref)`` (Branch).
    form_names : tuple of str, length n_f
        Forms of integrated pools.
    form_group, form_position : ndarray of int32, shape (n_f,)
        Group index and position (0 = most protonated) of each form.
    form_power : ndarray of float64, shape (n_r, n_f)
        Exponent of each form's fraction α in the effective rate constant.
    buffered_names : tuple of str, length n_b
        Clamped inputs of rate laws (H+, OH-, clamped species, forms of clamped pools).
    buffered_kind : ndarray of int8, shape (n_b,)
        BUFFERED_KIND_* code of each clamped input.
    buffered_group : ndarray of int32, shape (n_b,)
        Group index for clamped forms (-1 otherwise); position in ``buffered_position``.
    buffered_default : ndarray of float64, shape (n_b,)
        Default concentration [M] (for clamped pools, the pool total).
    buffered_power : ndarray of float64, shape (n_r, n_b)
        Exponent of each clamped concentration in the effective rate constant.
    group_names : tuple of str, length n_g
        Speciation pools (integrated and clamped).
    group_pka, group_dH, group_T_ref : ndarray of float64, shape (n_g, max_forms − 1)
        pKa at T_ref [-], van 't Hoff enthalpy [J mol⁻¹] and T_ref [K]; padded with +inf pKa.
    conservation : ndarray of float64, shape (n_c, n_s)
        Rows are conserved linear combinations (elements, charge) of the state:
        ``conservation @ net_stoich.T == 0``.
    conservation_names : tuple of str, length n_c
        Element symbol (or ``charge``) of each conservation row.
    defaults : Defaults
        Default pH, temperature [K], volume [L] and absolute tolerance of the mechanism.
    propensity_power : ndarray of bool, shape (n_r,)
        True where the stochastic propensity is c·n^ν rather than the falling
        factorial c·n(n−1)… (see Reaction.propensity).
    events : tuple of Bolus/Assignment
        Inputs the model itself schedules (SBML events); simulations apply them.
    observables : tuple of Observable
        Derived outputs (SBML assignment rules).
    counts : bool
        True when the source model's species are molecule counts.
    laws : fentonsim.laws.LawPrograms or None
        Programs of every reaction's g in r = k·g when some reaction has a general rate law (mass-action
        reactions then carry g = Π x^ν); None for a mass-action network, which keeps the specialised kernels.
    particles : tuple of fentonsim.mechanism.schema.Particle
        Geometry of the nanomaterial species (fentonsim.mechanism.particles), so that a run can dose them by mass.
    yield_laws : tuple of fentonsim.validity.YieldLaw
        Reactions whose branch fractions vary with pH or T, with the range they were measured over
        (runs outside it carry ``validity_warnings``).
    user_rates : tuple of str
        Mechanism reaction ids whose constants were set in the Mechanism by
        fentonsim.mechanism.overrides.with_rates: a condition preset's constants for them are not
        applied (the user's value wins, as it does for ``rates=`` given at run time).
    rate_orders : dict of str to float
        Total rate-law order m of each mechanism reaction id (mass action plus power-law factors):
        its reference constant is in M^(1−m) s⁻¹ (:meth:`parse_rates`).
    """

    name: str
    mechanism_sha256: str
    parameter_set: str | None
    species: tuple
    is_pool: np.ndarray
    reaction_ids: tuple
    source_reaction: tuple
    equations: tuple
    reactant_idx: np.ndarray
    reactant_coef: np.ndarray
    order: np.ndarray
    net_stoich: np.ndarray
    k_ref: np.ndarray
    T_ref: np.ndarray
    Ea: np.ndarray
    branch_fraction: np.ndarray
    fraction_law: np.ndarray
    form_names: tuple
    form_group: np.ndarray
    form_position: np.ndarray
    form_power: np.ndarray
    buffered_names: tuple
    buffered_kind: np.ndarray
    buffered_group: np.ndarray
    buffered_position: np.ndarray
    buffered_default: np.ndarray
    buffered_power: np.ndarray
    group_names: tuple
    group_pka: np.ndarray
    group_dH: np.ndarray
    group_T_ref: np.ndarray
    conservation: np.ndarray
    conservation_names: tuple
    defaults: object
    pool_of_form: dict
    propensity_power: np.ndarray
    events: tuple = ()
    observables: tuple = ()
    counts: bool = False
    user_rates: tuple = ()
    yield_laws: tuple = ()
    rate_orders: dict = None
    laws: LawPrograms | None = None
    #: The compartment of each state variable, aligned with ``species`` (empty: one volume; see
    #: fentonsim.compartments).
    compartments: tuple = ()
    #: Volume [L] of each state variable's compartment, aligned with ``species`` (NaN for a size that varies,
    #: reported by the observable named after the compartment); empty for one volume.
    compartment_volumes: tuple = ()
    #: Volume [L] of the compartment each network reaction happens in, aligned with ``reaction_ids``: the one
    #: volume of the compartments its species (clamped ones included) live in; NaN where they have several
    #: (the gain channel of a transport), where one's size varies, or where all are run-wide; empty for one
    #: volume. The stochastic solvers count a reaction's molecules in it (fentonsim.stochastic_compartments).
    reaction_volumes: tuple = ()
    #: Mechanism reaction id -> the transport it is a channel of (their constants are set together).
    transport_of: dict = None
    particles: tuple = ()

    @property
    def has_general_laws(self) -> bool:
        """True when some reaction has a general rate law (fentonsim.laws): only the ODE solvers run it."""
        return self.laws is not None

    def require_mass_action(self, what: str) -> None:
        """Raise ConditionsError naming ``what`` when the network has general rate laws."""
        if self.laws is not None:
            general = self.laws.general_reactions
            if not general:
                raise ConditionsError(f"{what} cannot run `{self.name}`: its events are triggered by the state "
                                      f"({', '.join(self.laws.event_names[:5])}), which only the compiled ODE "
                                      "solvers (rodas5p, rodas4) locate")
            raise ConditionsError(
                f"{what} needs mass-action rate laws; `{self.name}` has general rate laws ({', '.join(general[:5])}"
                f"{', …' if len(general) > 5 else ''}), which only the compiled ODE solvers (rodas5p, rodas4) "
                "integrate")

    def require_one_volume(self, what: str, why: str = "it counts molecules in one volume; use the ODE "
                                                         "solvers") -> None:
        """Raise ConditionsError naming ``what``, the compartments and ``why`` when the network has several
        volumes: its states are concentrations per their own compartment (fentonsim.compartments)."""
        if self.compartments:
            names = ", ".join(dict.fromkeys(c for c in self.compartments if c))
            raise ConditionsError(f"{what} cannot take `{self.name}`: its species live in compartments ({names}) "
                                  f"of their own volumes, and {why}")

    @property
    def n_species(self) -> int:
        return len(self.species)

    @property
    def n_reactions(self) -> int:
        return len(self.reaction_ids)

    @property
    def depends_on_ph(self) -> bool:
        """True when some rate constant changes with pH: H+ or OH- in a rate law, a speciation form, a clamped
        pool's form or a pH-dependent yield."""
        ph_inputs = np.isin(self.buffered_kind, (BUFFERED_KIND_H, BUFFERED_KIND_OH, BUFFERED_KIND_FORM))
        return bool(np.any(self.buffered_power[:, ph_inputs] != 0) or np.any(self.form_power != 0)
                    or np.any(self.fraction_law[:, 0] != 0))

    @property
    def depends_on_temperature(self) -> bool:
        """True when some rate constant changes with temperature: an activation energy, a pKa enthalpy, OH-
        (through pKw) in a rate law or a temperature-dependent yield."""
        oh = self.buffered_kind == BUFFERED_KIND_OH
        return bool(np.any(self.Ea != 0) or (np.any(self.group_dH != 0) and self.depends_on_ph)
                    or np.any(self.buffered_power[:, oh] != 0) or np.any(self.fraction_law[:, 2] != 0))

    def species_index(self, name: str) -> int:
        """Index of state variable ``name`` (a species, a pool, or a form of a pool).

        Raises
        ------
        KeyError
            Naming the valid state variables.
        """
        name = self.pool_of_form.get(name, name)
        try:
            return self.species.index(name)
        except ValueError:
            raise KeyError(f"`{name}` is not a state variable of `{self.name}`; expected one of "
                           f"{', '.join(self.species)}") from None

    # ------------------------------------------------------------ conditions -> k

    def group_fractions(self, pH, temperature):
        """Form fractions of every speciation group.

        Parameters
        ----------
        pH, temperature : array_like, shape (n,) or scalar
            Conditions (temperature in K).

        Returns
        -------
        ndarray, shape (n, n_g, max_forms)
            α of each form (0 beyond a group's last form).
        """
        pH = np.atleast_1d(np.asarray(pH, dtype=float))
        T = np.atleast_1d(np.asarray(temperature, dtype=float))
        pH, T = np.broadcast_arrays(pH, T)
        pkas = pka_at(self.group_pka[None], self.group_dH[None], self.group_T_ref[None], T[:, None, None])
        return fractions(pkas, pH[:, None])

    def buffered_concentrations(self, pH, temperature, buffered=None):
        """Concentrations [M] of the clamped inputs, shape (n, n_b)."""
        pH = np.atleast_1d(np.asarray(pH, dtype=float))
        T = np.atleast_1d(np.asarray(temperature, dtype=float))
        pH, T = np.broadcast_arrays(pH, T)
        n = pH.shape[0]
        overrides = dict(buffered or {})
        unknown = set(overrides) - set(self.buffered_names) - set(self.group_names)
        if unknown:
            raise ConditionsError(
                f"buffered concentrations given for {', '.join(sorted(unknown))}, which "
                f"`{self.name}` does not clamp; clamped inputs are "
                f"{', '.join(n for n, k in zip(self.buffered_names, self.buffered_kind) if k == BUFFERED_KIND_CONC) or 'none'}"
                + (f" and pools {', '.join(self.group_names)}" if self.group_names else ""))
        alpha = self.group_fractions(pH, T) if len(self.group_names) else None
        out = np.empty((n, len(self.buffered_names)))
        for j, (name, kind) in enumerate(zip(self.buffered_names, self.buffered_kind)):
            if kind == BUFFERED_KIND_H:
                out[:, j] = 10.0 ** (-pH)
            elif kind == BUFFERED_KIND_OH:
                out[:, j] = 10.0 ** (pH - pkw(T))
            elif kind == BUFFERED_KIND_CONC:
                out[:, j] = overrides.get(name, self.buffered_default[j])
            else:
                group = self.buffered_group[j]
                total = self._clamped_pool_total(group, overrides, alpha, self.buffered_default[j])
                out[:, j] = np.asarray(total) * alpha[:, group, self.buffered_position[j]]
        if np.any(out < 0) or not np.all(np.isfinite(out)):
            raise ConditionsError("buffered concentrations must be finite and non-negative")
        return out

    def _clamped_pool_total(self, group, overrides, alpha, default):
        """Total of a clamped pool: given as the pool, or as one form at the run's pH (25 mM HCO3-)."""
        pool = self.group_names[group]
        forms = [(j, name) for j, name in enumerate(self.buffered_names)
                 if self.buffered_kind[j] == BUFFERED_KIND_FORM and self.buffered_group[j] == group
                 and name in overrides]
        given = ([pool] if pool in overrides else []) + [name for _, name in forms]
        if len(given) > 1:
            raise ConditionsError(f"buffered concentrations given for {' and '.join(given)}, which all set the "
                                  f"total of pool `{pool}`; give one")
        if pool in overrides:
            return overrides[pool]
        if not forms:
            return default
        j, name = forms[0]
        fraction = alpha[:, group, self.buffered_position[j]]
        if np.any(fraction <= 0):
            raise ConditionsError(f"buffered `{name}` cannot be held at {overrides[name]} M: its fraction of pool "
                                  f"`{pool}` is 0 at this pH; give the pool total `{pool}` instead")
        return np.asarray(overrides[name]) / fraction

    def parse_rates(self, rates) -> dict:
        """Run-time rate constants ``{mechanism reaction id: k}`` in canonical units M^(1−m) s⁻¹.

        Values are numbers in those units or quantities (``"63 M^-1 s^-1"``), checked against each
        reaction's order; the result goes to :meth:`rate_constants` as ``reference``, so an override
        changes k without recompiling anything.

        Raises
        ------
        MechanismError
            For an unknown id (a branch id is named as such), a wrong unit, or a negative or
            non-finite constant.
        """
        parsed = {}
        for rid, value in (rates or {}).items():
            if rid in (self.transport_of or {}):
                raise MechanismError(transport_rates_message(rid, self.transport_of[rid]))
            if rid not in self.rate_orders:
                branch_of = {b: s for b, s in zip(self.reaction_ids, self.source_reaction) if b != s}
                hint = (f"; `{rid}` is a branch of `{branch_of[rid]}` — override the reaction" if rid in branch_of
                        else "")
                raise MechanismError(f"`rates` names unknown reaction `{rid}` of `{self.name}`{hint}")
            dims = rate_constant_dims(self.rate_orders[rid])
            k = parse_quantity(value, dims, Unit(1.0, dims), f"rate constant of `{rid}` in `rates`")
            if not (np.isfinite(k) and k >= 0):
                raise MechanismError(f"rate constant of `{rid}` in `rates` must be finite and ≥ 0, found {value!r}")
            parsed[rid] = float(k)
        return parsed

    def reference_constants(self, overrides=None) -> np.ndarray:
        """``k_ref`` (n_r,) with reference constants replaced by mechanism reaction id (every branch of the
        reaction; a reversible reaction's reverse keeps its own). Values in M^(1−m) s⁻¹.

        Raises
        ------
        ConditionsError
            For an id the network lacks or a negative or non-finite value.
        """
        if not overrides:
            return self.k_ref
        k_ref = np.array(self.k_ref)
        for rid, value in overrides.items():
            rows = [i for i, (source, network_id) in enumerate(zip(self.source_reaction, self.reaction_ids))
                    if source == rid and not network_id.endswith(":reverse")]
            if not rows:
                raise ConditionsError(f"rate constant for `{rid}`: `{self.name}` has no reaction `{rid}`")
            if not (np.isfinite(value) and value >= 0):
                raise ConditionsError(f"rate constant for `{rid}` must be finite and ≥ 0, found {value!r}")
            k_ref[rows] = value
        return k_ref

    def rate_constants(self, pH=None, temperature=None, buffered=None, reference=None):
        """Effective rate constants for the state variables, vectorised over conditions.

        k_eff = k_ref · exp(−Ea/R·(1/T − 1/T_ref)) · Π_forms α^power · Π_clamped [B]^power · fraction,
        so that r = k_eff · Π_state [x]^ν with x the state (pool totals for pools).

        Parameters
        ----------
        pH : float or array_like, shape (n,), optional
            pH (default: the mechanism default).
        temperature : float or array_like, shape (n,), optional
            Temperature [K] (default: the mechanism default).
        buffered : mapping of str to float or array_like, optional
            Clamped concentrations [M] overriding the defaults (pool totals for clamped pools).
        reference : mapping of str to float, optional
            Reference constants replacing ``k_ref`` by mechanism reaction id (:meth:`reference_constants`),
            e.g. the O2 exchange constants a condition preset sets; no recompilation.

        Returns
        -------
        ndarray of float64, shape (n_r,) for scalar conditions or (n, n_r)
            Effective rate constants [M^(1−order) s⁻¹] with ``order`` from :attr:`order`.
        """
        pH = self.defaults.pH if pH is None else pH
        temperature = self.defaults.temperature if temperature is None else temperature
        scalar = np.ndim(pH) == 0 and np.ndim(temperature) == 0 and all(
            np.ndim(v) == 0 for v in (buffered or {}).values())
        pH_arr = np.atleast_1d(np.asarray(pH, dtype=float))
        T_arr = np.atleast_1d(np.asarray(temperature, dtype=float))
        if np.any((pH_arr < 0) | (pH_arr > 14)) or not np.all(np.isfinite(pH_arr)):
            raise ConditionsError(f"`pH` must be between 0 and 14, found {pH}")
        if np.any(~(T_arr > 0)) or not np.all(np.isfinite(T_arr)):
            raise ConditionsError(f"`temperature` must be a positive number of kelvin, found {temperature}")
        pH_arr, T_arr = np.broadcast_arrays(pH_arr, T_arr)
        arrhenius = np.exp(-self.Ea[None, :] / GAS_CONSTANT * (1.0 / T_arr[:, None] - 1.0 / self.T_ref[None, :]))
        k = self.reference_constants(reference)[None, :] * self.branch_fractions(pH_arr, T_arr) * arrhenius
        if len(self.form_names):
            alpha = self.group_fractions(pH_arr, T_arr)[:, self.form_group, self.form_position]
            k = k * np.prod(np.where(self.form_power[None] > 0, alpha[:, None, :] ** self.form_power[None], 1.0),
                            axis=-1)
        if len(self.buffered_names):
            conc = self.buffered_concentrations(pH_arr, T_arr, buffered)
            with np.errstate(divide="ignore"):
                k = k * np.prod(np.where(self.buffered_power[None] != 0,
                                         conc[:, None, :] ** self.buffered_power[None], 1.0), axis=-1)
            if not np.all(np.isfinite(k)):
                bad = int(np.flatnonzero(~np.all(np.isfinite(k), axis=0))[0])
                raise ConditionsError(
                    f"reaction `{self.reaction_ids[bad]}` has a negative order in a clamped species whose "
                    "concentration is 0 here, so its rate constant is infinite; give that species a "
                    "positive concentration")
        return k[0] if scalar else k

    def branch_fractions(self, pH, temperature) -> np.ndarray:
        """Branching fractions at each condition, shape (n, n_r) for pH, T of shape (n,).

        Raises
        ------
        ConditionsError
            If a yield law leaves [0, 1] at these conditions.
        """
        per_pH, pH_ref, per_K, T_ref = self.fraction_law.T
        fraction = (self.branch_fraction[None, :] + per_pH[None, :] * (pH[:, None] - pH_ref[None, :])
                    + per_K[None, :] * (temperature[:, None] - T_ref[None, :]))
        outside = (fraction < 0.0) | (fraction > 1.0)
        if np.any(outside):
            row, col = (int(i[0]) for i in np.nonzero(outside))
            raise ConditionsError(
                f"the yield law of branch `{self.reaction_ids[col]}` gives a fraction of {fraction[row, col]:.3g} "
                f"at pH {pH[row]:g} and {temperature[row]:g} K, outside [0, 1]; these conditions are beyond "
                "the law's range")
        return fraction

    def initial_state(self, conditions: Conditions | None = None, **initial) -> np.ndarray:
        """Initial concentrations [M] of the state variables, shape (n_s,).

        Concentrations come from the model's own initial values
        (``defaults.initial``, for imported SBML models), replaced for every
        state variable that ``conditions.initial`` or the ``initial`` keyword
        arguments name; a form of a pool adds to the pool total; other
        variables start at 0.
        """
        values = dict(conditions.initial) if conditions is not None else {}
        values.update(initial)
        x0 = np.zeros(self.n_species)
        named = {self.pool_of_form.get(name, name) for name in values}
        for name, value in self.defaults.initial:
            if name not in named:
                x0[self.species_index(name)] += value
        for name, value in values.items():
            try:
                index = self.species_index(name)
            except KeyError as exc:
                raise ConditionsError(f"initial concentration for {exc.args[0]}") from None
            value = float(value)
            if not np.isfinite(value) or value < 0:
                raise ConditionsError(f"initial concentration of `{name}` must be finite and ≥ 0, found {value}")
            x0[index] += value
        return x0


def compile_network(mechanism: Mechanism) -> Network:
    """Build the :class:`Network` of ``mechanism`` (see the module docstring)."""
    species = mechanism.species_by_name()
    groups = {g.pool: g for g in mechanism.speciation}
    kinds = validate.species_kinds(species, groups)
    form_group = mechanism.group_of_form()

    state = [s.name for s in mechanism.species if kinds[s.name] == validate.DYNAMIC]
    state += [g.pool for g in mechanism.speciation if g.buffered_total is None]
    state_index = {name: i for i, name in enumerate(state)}
    pool_of_form = {form: g.pool for g in mechanism.speciation if g.buffered_total is None for form in g.forms}

    group_names = tuple(g.pool for g in mechanism.speciation)
    group_index = {name: i for i, name in enumerate(group_names)}
    width = max((len(g.forms) - 1 for g in mechanism.speciation), default=0)
    group_pka = np.full((len(group_names), max(width, 1)), np.inf)
    group_dH = np.zeros_like(group_pka)
    group_T_ref = np.full_like(group_pka, 298.15)
    for gi, g in enumerate(mechanism.speciation):
        for j, p in enumerate(g.pka):
            group_pka[gi, j], group_dH[gi, j], group_T_ref[gi, j] = p.value, p.dH, p.T_ref

    form_names = tuple(f for g in mechanism.speciation if g.buffered_total is None for f in g.forms)
    form_index = {f: i for i, f in enumerate(form_names)}
    buffered_names, buffered_kind, buffered_group, buffered_position, buffered_default = [], [], [], [], []
    for s in mechanism.species:
        if kinds[s.name] in (validate.BUFFERED_CONC, validate.BUFFERED_PH):
            buffered_names.append(s.name)
            buffered_kind.append({BUFFERED_FROM_PH: BUFFERED_KIND_H, BUFFERED_FROM_POH: BUFFERED_KIND_OH}.get(
                s.buffered, BUFFERED_KIND_CONC))
            buffered_group.append(-1)
            buffered_position.append(-1)
            buffered_default.append(s.buffered if isinstance(s.buffered, float) else 0.0)
    for g in mechanism.speciation:
        if g.buffered_total is not None:
            for position, form in enumerate(g.forms):
                buffered_names.append(form)
                buffered_kind.append(BUFFERED_KIND_FORM)
                buffered_group.append(group_index[g.pool])
                buffered_position.append(position)
                buffered_default.append(g.buffered_total)
    buffered_index = {b: i for i, b in enumerate(buffered_names)}

    rows = []  # (id, source id, equation, reactants, products, rate, fraction, orders)
    power = []
    row_laws = []
    for r in mechanism.reactions:
        for b in r.branches:
            rows.append((b.id, r.id, format_equation(r.reactants, b.products), r.reactants, b.products,
                         r.rate, b, dict(r.orders)))
            power.append(r.propensity == "power")
            row_laws.append((r.law, r.law_constants))
        if r.reversible:
            products = r.branches[0].products
            rows.append((f"{r.id}:reverse", r.id, format_equation(products, r.reactants), products,
                         r.reactants, r.reverse_rate, None, {}))
            power.append(r.propensity == "power")
            row_laws.append((None, ()))

    n_r, n_s = len(rows), len(state)
    reactant_idx = np.full((n_r, MAX_REACTION_ORDER), -1, dtype=np.int32)
    reactant_coef = np.zeros((n_r, MAX_REACTION_ORDER), dtype=np.int32)
    net_stoich = np.zeros((n_r, n_s), dtype=np.int64)
    form_power = np.zeros((n_r, len(form_names)))
    buffered_power = np.zeros((n_r, len(buffered_names)))
    k_ref, T_ref, Ea, fraction = (np.zeros(n_r) for _ in range(4))
    fraction_law = np.zeros((n_r, 4))
    fraction_law[:, 3] = STANDARD_TEMPERATURE
    for i, (_, _, _, reactants, products, rate, branch, orders) in enumerate(rows):
        state_coefs: dict[int, int] = {}
        # A general law is the whole concentration dependence (r = k·g): its reactants weight k by no form
        # fraction and no clamped concentration.
        law_row = row_laws[i][0] is not None
        for name, coef in reactants:
            kind = kinds[name]
            if kind in (validate.DYNAMIC, validate.FORM):
                target = state_index[pool_of_form.get(name, name)]
                state_coefs[target] = state_coefs.get(target, 0) + coef
                net_stoich[i, target] -= coef
                if kind == validate.FORM and not law_row:
                    form_power[i, form_index[name]] += coef
            elif law_row:
                continue
            elif kind in (validate.BUFFERED_CONC, validate.BUFFERED_FORM):
                buffered_power[i, buffered_index[name]] += orders.get(name, coef)
            elif kind == validate.BUFFERED_PH and name in orders:
                buffered_power[i, buffered_index[name]] += orders[name]
        for name, coef in products:
            if kinds[name] in (validate.DYNAMIC, validate.FORM):
                net_stoich[i, state_index[pool_of_form.get(name, name)]] += coef
        for name, exponent in rate.factors:
            buffered_power[i, buffered_index[name]] += exponent
        if row_laws[i][0] is None:
            # A general law's reactants set only its stoichiometry (fentonsim.laws): no mass-action slots.
            for slot, (target, coef) in enumerate(sorted(state_coefs.items())):
                reactant_idx[i, slot], reactant_coef[i, slot] = target, coef
        k_ref[i], T_ref[i], Ea[i] = rate.k, rate.T_ref, rate.Ea
        fraction[i] = 1.0 if branch is None else branch.fraction
        if branch is not None:
            fraction_law[i] = branch.per_pH, branch.pH_ref, branch.per_K, branch.T_ref

    conservation, conservation_names = _conservation(mechanism, state, kinds, net_stoich)
    laws = None
    if any(law is not None for law, _ in row_laws) or mechanism.state_events:
        laws = _law_programs(mechanism, rows, row_laws, state, reactant_idx, reactant_coef)
    return Network(
        name=mechanism.name,
        mechanism_sha256=mechanism_digest(mechanism),
        parameter_set=mechanism.active_parameter_set,
        species=tuple(state), is_pool=_readonly(np.array([s in groups for s in state], dtype=bool)),
        reaction_ids=tuple(r[0] for r in rows), source_reaction=tuple(r[1] for r in rows),
        equations=tuple(r[2] for r in rows),
        reactant_idx=_readonly(reactant_idx), reactant_coef=_readonly(reactant_coef),
        order=_readonly(reactant_coef.sum(axis=1).astype(np.int8)), net_stoich=_readonly(net_stoich),
        k_ref=_readonly(k_ref), T_ref=_readonly(T_ref), Ea=_readonly(Ea), branch_fraction=_readonly(fraction),
        fraction_law=_readonly(fraction_law),
        form_names=form_names,
        form_group=_readonly(np.array([group_index[form_group[f].pool] for f in form_names], dtype=np.int32)),
        form_position=_readonly(np.array([form_group[f].forms.index(f) for f in form_names], dtype=np.int32)),
        form_power=_readonly(form_power),
        buffered_names=tuple(buffered_names), buffered_kind=_readonly(np.array(buffered_kind, dtype=np.int8)),
        buffered_group=_readonly(np.array(buffered_group, dtype=np.int32)),
        buffered_position=_readonly(np.array(buffered_position, dtype=np.int32)),
        buffered_default=_readonly(np.array(buffered_default, dtype=float)),
        buffered_power=_readonly(buffered_power),
        group_names=group_names, group_pka=_readonly(group_pka), group_dH=_readonly(group_dH),
        group_T_ref=_readonly(group_T_ref),
        conservation=_readonly(conservation), conservation_names=conservation_names,
        defaults=mechanism.defaults, pool_of_form=pool_of_form,
        propensity_power=_readonly(np.array(power, dtype=bool)), events=mechanism.events,
        observables=mechanism.observables, counts=mechanism.counts, yield_laws=_yield_laws(mechanism),
        user_rates=tuple(mechanism.user_rates),
        rate_orders={r.id: (law_order(r.law, r.law_constants) if r.law is not None and r.law_checked
                            else validate.rate_law_order(r, kinds)) + sum(e for _, e in r.rate.factors)
                     for r in mechanism.reactions},
        laws=laws, particles=mechanism.particles,
        compartments=_state_compartments(mechanism, state),
        compartment_volumes=_state_volumes(mechanism, _state_compartments(mechanism, state)),
        reaction_volumes=_reaction_volumes(mechanism, rows),
        transport_of={rid: t.id for t in mechanism.transports for rid in t.reactions},
    )


def _state_volumes(mechanism, compartments) -> tuple:
    """The volume [L] of each state variable's compartment (NaN: none, or a varying size)."""
    volume = {c.name: float("nan") if c.size else c.volume for c in mechanism.compartments}
    return tuple(volume.get(c, float("nan")) for c in compartments)


def _reaction_volumes(mechanism, rows) -> tuple:
    """The volume [L] each network reaction happens in (Network.reaction_volumes), or () for one volume."""
    if not mechanism.compartments:
        return ()
    volume = {c.name: float("nan") if c.size else c.volume for c in mechanism.compartments}
    of = {s.name: s.compartment for s in mechanism.species}
    out = []
    for _, _, _, reactants, products, rate, _, _ in rows:
        names = [n for n, _ in reactants] + [n for n, _ in products] + [n for n, _ in rate.factors]
        volumes = {volume[of[n]] for n in names if of.get(n)}
        out.append(volumes.pop() if len(volumes) == 1 else float("nan"))
    return tuple(out)


def _state_compartments(mechanism, state) -> tuple:
    """The compartment of each state variable ("" for a pool), or () for a single-volume mechanism."""
    if not mechanism.compartments:
        return ()
    of = {s.name: s.compartment for s in mechanism.species}
    of.update({g.pool: of.get(g.forms[0], "") for g in mechanism.speciation})  # a pool's forms share one
    return tuple(of.get(name, "") for name in state)


def _law_programs(mechanism, rows, row_laws, state, reactant_idx, reactant_coef) -> LawPrograms:
    """Programs of g for every network reaction: its general law, or Π x^ν of its state reactants."""
    trees = []
    allowed = set(state) | {TIME_SYMBOL}
    row_laws = [law if law is None else substitute(law, {name: value for name, value, _ in constants})
                for law, constants in row_laws]
    for i, law in enumerate(row_laws):
        unknown = set() if law is None else symbols(law) - allowed
        if unknown:
            reaction = mechanism.reaction(rows[i][1])
            where = f"{reaction.location.path}:{reaction.location.line}: " if reaction.location.path else ""
            raise MechanismError(f"{where}rate law of reaction `{reaction.id}` ({to_text(law)}) reads "
                                 f"{', '.join(sorted(unknown))}; a law may read the integrated species "
                                 f"({', '.join(state)}) and `time`")
        if law is None:
            terms = [(state[reactant_idx[i, s]], int(reactant_coef[i, s])) for s in range(reactant_idx.shape[1])
                     if reactant_idx[i, s] >= 0]
            trees.append(mass_action_law(terms))
        else:
            trees.append(law)
    general = tuple(row[0] for row, law in zip(rows, row_laws) if law is not None)
    by_name = mechanism.species_by_name()
    signed = [name in by_name and by_name[name].signed for name in state]
    events = [dataclasses.replace(
        e, trigger=substitute(e.trigger, constants), delay=None if e.delay is None else substitute(e.delay, constants),
        assignments=tuple((target, substitute(expr, constants)) for target, expr in e.assignments))
        for e in mechanism.state_events for constants in [{name: value for name, value, _ in e.constants}]]
    try:
        programs = compile_laws(trees, state, signed, events)
    except LawError as error:
        if error.index < 0:
            raise MechanismError(f"{mechanism.name}: {error}") from None
        reaction = mechanism.reaction(rows[error.index][1])
        where = f"{reaction.location.path}:{reaction.location.line}: " if reaction.location.path else ""
        raise MechanismError(f"{where}reaction `{reaction.id}`: {error}") from None
    return dataclasses.replace(programs, general_reactions=general)


def _conservation(mechanism, state, kinds, net_stoich):
    """Element and charge rows over the state that every reaction conserves.

    With H+, OH- and water clamped, hydrogen, oxygen and charge are exchanged
    with the buffer and usually drop out; metals and other elements remain.
    A pool has a composition for an element only if all its forms agree.
    """
    species = mechanism.species_by_name()
    groups = {g.pool: g for g in mechanism.speciation}
    elements = sorted({e for s in mechanism.species for e, _ in s.composition})
    rows, names = [], []
    for key in elements + ["charge"]:
        row = np.zeros(len(state))
        defined = True
        for j, name in enumerate(state):
            members = groups[name].forms if name in groups else (name,)
            values = {(species[m].charge if key == "charge" else dict(species[m].composition).get(key, 0))
                      for m in members}
            if len(values) != 1:
                defined = False
                break
            row[j] = values.pop()
        if defined and np.any(row) and not np.any(net_stoich @ row):
            rows.append(row)
            names.append(key)
    return np.array(rows).reshape(len(rows), len(state)), tuple(names)
