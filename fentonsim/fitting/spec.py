"""What a fit is made of: observables, fitted parameters, experiments — and reading them from a YAML file.

A fit specification (``kind: fit``; paths relative to the file)::

    kind: fit
    model: iron                       # a mechanism (file or shipped name), a list of them, or SBML
    parameter-set: DeLaat-Gallard-1999  # optional: the constants the fit starts from
    priors: true                      # Gaussian priors on ln k from each reaction's documented uncertainty
    observables:
      Fe2: {species: Fe+2, sigma: 1 uM}               # a concentration [M]
      hTA: {species: TAOH, yield: 0.35}                # probe product × yield
      A510: {species: {Fe(phen)3: 1}, epsilon: 11100, path-length: 1, offset: a0}   # ε [M^-1 cm^-1], l [cm]
    parameters:
      F1: {bounds: [10, 1000]}                         # a reaction id: fitted as ln k (r = k·Π[c]^ν units)
      F5: {bounds: [1e7, 1e10], per-experiment: true}  # one value per experiment
      initial:Fe+2: {bounds: [1 uM, 100 uM]}           # an initial concentration (ln c0)
      a0: {bounds: [-0.05, 0.05], start: 0}            # an observable's offset or scale (linear)
    experiments:
    - name: pH3
      data: pH3.csv                                    # fentonsim.fitting.data
      conditions: tme                                  # optional preset
      pH: 3
      temperature: 25 °C
      initial: {Fe+2: 100 uM, H2O2: 1 mM}
      doses: [{species: H2O2, amount: 50 uM, time: 10 min}]

An observable is ``offset + scale · factor · Σ_i w_i·c_i(t)`` — linear in the state, so its sensitivities
follow from the concentrations' (fentonsim.fitting.objective). ``factor`` is ``yield`` or ``epsilon ×
path-length``; a speciation form stands for its pool's total (the state variable; the fit adds a note
saying so), and two forms of one pool in one observable are refused. ``sigma`` is the measurement's
standard deviation in the observable's units, given for every observable or for none (a mix is refused);
without it, residuals are weighted by each observable's largest |value| and the noise variance is estimated
from the residuals. A ``start`` outside the ``bounds``, a parameter given twice (``F1`` and ``rate:F1``), an
offset or scale naming a rate constant, or a fitted constant that an experiment also sets under ``rates``
is refused.
Errors are :class:`fentonsim.errors.DataError` naming the spec file and line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import DataError, FentonsimError
from ..inputs import Bolus
from ..mechanism.yamlio import FileReader, read_mapping
from ..units import CONCENTRATION, DIMENSIONLESS, TEMPERATURE, TIME, Unit, parse_quantity, rate_constant_dims
from .data import read_table

TOP_KEYS = ("kind", "model", "parameter-set", "priors", "observables", "parameters", "experiments", "rtol",
            "description")
OBSERVABLE_KEYS = ("species", "yield", "epsilon", "path-length", "offset", "scale", "sigma")
PARAMETER_KEYS = ("bounds", "start", "scale", "per-experiment")
EXPERIMENT_KEYS = ("name", "data", "conditions", "pH", "temperature", "initial", "buffered", "rates", "doses")
DOSE_KEYS = ("species", "amount", "time")
#: Default bounds around the starting value of a log-scale parameter without `bounds` (a factor either way).
DEFAULT_RATE_SPAN = 1e3
DEFAULT_INITIAL_SPAN = 1e2


@dataclass(frozen=True)
class Observable:
    """``offset + scale · factor · Σ weight·c(species)``; ``offset``/``scale`` are numbers or the names of
    fitted parameters; ``sigma`` the measurement sd in the observable's units (None: unknown)."""

    name: str
    species: tuple  # ((species name, weight), ...)
    factor: float = 1.0
    offset: float | str = 0.0
    scale: float | str = 1.0
    absorbance: bool = False
    sigma: float | None = None

    @property
    def dims(self):
        return DIMENSIONLESS if self.absorbance else CONCENTRATION

    @property
    def units(self) -> str:
        return "1" if self.absorbance else "M"


@dataclass(frozen=True)
class Parameter:
    """A fitted quantity: ``rate:<reaction id>`` (reference k, M^(1−m) s⁻¹), ``initial:<species>`` (c0, M)
    or a name an observable uses as its offset or scale. ``log``: fitted as ln θ (default for rate and
    initial); ``per_experiment``: one value per experiment; ``start`` (None: the model's value, else the
    bounds' geometric or arithmetic middle)."""

    name: str
    lower: float = -math.inf
    upper: float = math.inf
    log: bool | None = None
    per_experiment: bool = False
    start: float | None = None

    @property
    def kind(self) -> str:
        head = self.name.partition(":")[0]
        return head if head in ("rate", "initial") and ":" in self.name else "observable"


@dataclass(frozen=True)
class Experiment:
    """One measured time course and the conditions it was run at (keys of fentonsim.simulate)."""

    name: str
    time: np.ndarray
    data: dict  # {observable: values (n,) in its units, NaN where missing}
    conditions: object = None
    ph: float | None = None
    temperature: float | None = None
    initial: dict = field(default_factory=dict)
    buffered: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)
    boluses: tuple = ()
    path: str | None = None


@dataclass(frozen=True)
class FitSpec:
    """Everything :func:`fentonsim.fit` needs; ``model`` as fentonsim.simulate takes it."""

    model: object
    observables: dict
    parameters: tuple
    experiments: tuple
    parameter_set: str | None = None
    priors: bool = False
    rtol: float = 1e-8
    path: str | None = None


class _Reader(FileReader):
    def error(self, message, node=None, key=None):
        return DataError(message, self.path, self.line(node, key) if node is not None else None)


def _relative(base: Path, name: str) -> str:
    path = Path(name)
    return str(path if path.is_absolute() else base / path)


def _model(reader, top, base):
    value = top.get("model")
    if value is None:
        raise reader.error("the fit specification is missing the required key `model`", top)
    names = list(value) if isinstance(value, CommentedSeq) else [value]
    out = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise reader.error(f"`model` entries must be file or shipped mechanism names, found `{name}`", top, "model")
        candidate = base / name
        out.append(str(candidate) if candidate.exists() else name)  # a shipped name ("iron") stays a name
    return out if isinstance(value, CommentedSeq) else out[0]


def _observable(reader, name, node, network) -> Observable:
    what = f"observable `{name}`"
    if isinstance(node, str):  # `Fe2: Fe+2`
        node = CommentedMap([("species", node)])
    if not isinstance(node, CommentedMap):
        raise reader.error(f"{what} must be a species name or a mapping with `species`", None)
    reader.check_keys(node, OBSERVABLE_KEYS, what, required=("species",))
    species = node["species"]
    pairs = [(species, 1.0)] if isinstance(species, str) else None
    if pairs is None:
        if not isinstance(species, CommentedMap) or not species:
            raise reader.error(f"`species` of {what} must be a name or a mapping {{species: weight}}", node, "species")
        pairs = [(str(s), reader.number(species, s, f"the weight of `{s}` in {what}", required=True)) for s in species]
    seen = {}
    for s, _ in pairs:
        try:
            index = network.species_index(s)
        except KeyError as exc:
            raise reader.error(f"{what}: {exc.args[0]}", node, "species") from None
        if index in seen:  # two forms of one pool (or a form and its pool): the pool would count twice
            raise reader.error(f"{what} lists `{seen[index]}` and `{s}`, both the pool `{network.species[index]}`: a "
                               "form stands for its pool's total, so the pool would count twice", node, "species")
        seen[index] = s
    absorbance = "epsilon" in node or "path-length" in node
    if absorbance and "yield" in node:
        raise reader.error(f"{what} gives both `yield` and `epsilon`; an absorbance is ε·l·c, a probe read-out "
                           "yield·c", node, "yield")
    factor = 1.0
    if "yield" in node:
        factor = reader.number(node, "yield", what, required=True)
        if not factor > 0:
            raise reader.error(f"`yield` of {what} must be positive, found {factor:g}", node, "yield")
    if absorbance:
        for key in ("epsilon", "path-length"):
            if key not in node:
                raise reader.error(f"{what} is an absorbance and needs both `epsilon` [M^-1 cm^-1] and "
                                   f"`path-length` [cm]; `{key}` is missing", node)
            value = reader.number(node, key, what, required=True)
            if not value > 0:
                raise reader.error(f"`{key}` of {what} must be positive, found {value:g}", node, key)
            factor *= value
    terms = {}
    for key, default in (("offset", 0.0), ("scale", 1.0)):
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise reader.error(f"`{key}` of {what} must be a number or a parameter name", node, key)
        if isinstance(value, str) and (value.partition(":")[0] in ("rate", "initial") and ":" in value
                                       or value in network.rate_orders):
            raise reader.error(f"`{key}` of {what} names `{value}`, a rate constant or initial concentration; an "
                               "offset or scale is a parameter of its own name", node, key)
        terms[key] = float(value) if isinstance(value, (int, float)) else str(value)
    sigma = None
    if "sigma" in node:
        try:
            sigma = parse_quantity(node["sigma"], DIMENSIONLESS if absorbance else CONCENTRATION,
                                   "1" if absorbance else "M", f"`sigma` of {what}")
        except FentonsimError as exc:
            raise reader.error(str(exc), node, "sigma") from None
        if not (math.isfinite(sigma) and sigma > 0):
            raise reader.error(f"`sigma` of {what} must be positive and finite", node, "sigma")
    return Observable(str(name), tuple(pairs), factor, terms["offset"], terms["scale"], absorbance, sigma)


def _parameter(reader, name, node, network, used) -> Parameter:
    what = f"parameter `{name}`"
    node = CommentedMap() if node is None else node
    if not isinstance(node, CommentedMap):
        raise reader.error(f"{what} must be a mapping such as `{{bounds: [10, 1000]}}`", None)
    reader.check_keys(node, PARAMETER_KEYS, what)
    text = str(name)
    head, colon, rest = text.partition(":")
    if not colon and text in network.rate_orders:
        text = f"rate:{text}"
    head, colon, rest = text.partition(":")
    dims = None
    if colon and head == "rate":
        if rest not in network.rate_orders:
            raise reader.error(f"{what}: `{network.name}` has no reaction `{rest}`", node)
        dims = rate_constant_dims(network.rate_orders[rest])
    elif colon and head == "initial":
        try:
            network.species_index(rest)
        except KeyError as exc:
            raise reader.error(f"{what}: {exc.args[0]}", node) from None
        dims = CONCENTRATION
    elif text not in used:
        raise reader.error(f"{what} is neither a reaction of `{network.name}` (`rate:<id>`), an initial "
                           "concentration (`initial:<species>`) nor an offset or scale of an observable", node)
    scale = node.get("scale")
    if scale not in (None, "log", "linear"):
        raise reader.error(f"`scale` of {what} must be `log` or `linear`, found `{scale}`", node, "scale")
    log = None if scale is None else scale == "log"

    def value(v, key):
        try:
            return parse_quantity(v, dims or DIMENSIONLESS, Unit(1.0, dims or DIMENSIONLESS), f"{key} of {what}")
        except FentonsimError as exc:
            raise reader.error(str(exc), node, key) from None

    lower, upper = -math.inf, math.inf
    if "bounds" in node:
        bounds = node["bounds"]
        if not isinstance(bounds, CommentedSeq) or len(bounds) != 2:
            raise reader.error(f"`bounds` of {what} must be `[low, high]`", node, "bounds")
        lower, upper = value(bounds[0], "bounds"), value(bounds[1], "bounds")
        if not lower < upper:
            raise reader.error(f"`bounds` of {what} must have low < high, found [{lower:g}, {upper:g}]", node, "bounds")
    start = value(node["start"], "start") if "start" in node else None
    if start is not None and not lower <= start <= upper:
        raise reader.error(f"`start` {start:g} of {what} lies outside its bounds [{lower:g}, {upper:g}]", node,
                           "start")
    per = reader.boolean(node, "per-experiment", what, default=False)
    return Parameter(text, lower, upper, log, per, start)


def _quantities(reader, node, key, what, dims, unit):
    mapping = reader.mapping(node, key, what) or {}
    out = {}
    for name in mapping:
        out[str(name)] = reader.quantity(mapping, name, dims, unit, f"`{key}` `{name}` of {what}")
    return out


def _experiment(reader, index, node, base, observables, network) -> Experiment:
    if not isinstance(node, CommentedMap):
        raise reader.error(f"experiment {index + 1} must be a mapping with `name` and `data`", None)
    what = f"experiment {index + 1}"
    reader.check_keys(node, EXPERIMENT_KEYS, what, required=("data",))
    name = reader.string(node, "name", what, default=f"experiment{index + 1}")
    what = f"experiment `{name}`"
    data_name = reader.string(node, "data", what, required=True)
    table = read_table(_relative(base, data_name), {o.name: o.dims for o in observables.values()})
    ph = reader.number(node, "pH", what)
    temperature = (reader.quantity(node, "temperature", TEMPERATURE, "K", f"`temperature` of {what}", positive=True)
                   if "temperature" in node else None)
    initial = _quantities(reader, node, "initial", what, CONCENTRATION, "M")
    buffered = _quantities(reader, node, "buffered", what, CONCENTRATION, "M")
    rates = {}
    for rid in reader.mapping(node, "rates", what) or {}:
        if rid not in network.rate_orders:
            raise reader.error(f"`rates` of {what}: `{network.name}` has no reaction `{rid}`", node["rates"], rid)
        dims = rate_constant_dims(network.rate_orders[rid])
        rates[str(rid)] = reader.quantity(node["rates"], rid, dims, Unit(1.0, dims),
                                          f"rate constant `{rid}` of {what}", non_negative=True)
    boluses = []
    for i, dose in enumerate(reader.sequence(node, "doses", what)):
        if not isinstance(dose, CommentedMap):
            raise reader.error(f"dose {i + 1} of {what} must be a mapping {{species, amount, time}}", node["doses"], i)
        reader.check_keys(dose, DOSE_KEYS, f"dose {i + 1} of {what}", required=("species", "amount"))
        species = reader.string(dose, "species", what, required=True)
        try:
            network.species_index(species)
        except KeyError as exc:
            raise reader.error(f"dose {i + 1} of {what}: {exc.args[0]}", dose, "species") from None
        amount = reader.quantity(dose, "amount", CONCENTRATION, "M", f"dose amount of {what}", non_negative=True)
        when = reader.quantity(dose, "time", TIME, "s", f"dose time of {what}", non_negative=True) \
            if "time" in dose else 0.0
        boluses.append(Bolus(species, amount, when))
    conditions = node.get("conditions")
    if conditions is not None and not isinstance(conditions, str):
        raise reader.error(f"`conditions` of {what} must be a preset name or a conditions file", node, "conditions")
    if conditions is not None and (base / conditions).exists():
        conditions = str(base / conditions)
    experiment = Experiment(name, table.time, table.columns, conditions, ph, temperature, initial, buffered, rates,
                            tuple(boluses), table.path)
    # Unknown species, presets or a pH the model cannot feel: found now, at this experiment's line.
    from ..problem import build_problem
    try:
        build_problem(network, [_point(experiment)], conditions=conditions, t_out=np.array([0.0, 1.0]))
    except FentonsimError as exc:
        raise reader.error(f"{what}: {exc}", node) from None
    return experiment


def _point(experiment: Experiment) -> dict:
    return {"pH": experiment.ph, "temperature": experiment.temperature, "initial": experiment.initial,
            "buffered": experiment.buffered, "rates": experiment.rates}


def _located(reader, parent, key, make):
    """``make()``, with an error that names no line placed at ``parent[key]``."""
    try:
        return make()
    except DataError as exc:
        if exc.line is None and exc.path == str(reader.path):
            raise DataError(exc.message, reader.path, reader.line(parent, key)) from None
        raise


def read_spec(path) -> FitSpec:
    """Read a fit specification and its data files (module docstring); every reference is checked against
    the model. Raises :class:`fentonsim.errors.DataError` (or MechanismError for the model) naming file and
    line."""
    from ..problem import resolve_model

    path = Path(path)
    top = read_mapping(path)
    reader = _Reader(path, {})
    if str(top.get("kind", "fit")) != "fit":
        raise reader.error(f"`kind: {top.get('kind')}` is not a fit specification (expected `kind: fit`, or a PEtab "
                           "problem with `format_version: 1`)", top, "kind")
    reader.check_keys(top, TOP_KEYS, "the fit specification", required=("model", "observables", "parameters",
                                                                          "experiments"))
    base = path.parent
    model = _model(reader, top, base)
    parameter_set = reader.string(top, "parameter-set", "the fit specification")
    try:
        network = resolve_model(model, parameter_set)
    except FentonsimError as exc:
        if getattr(exc, "path", None):
            raise
        raise reader.error(f"`model`: {exc}", top, "model") from None
    priors = reader.boolean(top, "priors", "the fit specification", default=False)
    rtol = reader.number(top, "rtol", "the fit specification", default=1e-8)
    if not 0 < rtol < 1:
        raise reader.error(f"`rtol` must be between 0 and 1, found {rtol:g}", top, "rtol")
    obs_node = reader.mapping(top, "observables", "the fit specification", required=True)
    observables = {str(n): _located(reader, obs_node, n, lambda n=n: _observable(reader, n, obs_node[n], network))
                   for n in obs_node}
    if not observables:
        raise reader.error("`observables` is empty; define at least one", top, "observables")
    used = {v for o in observables.values() for v in (o.offset, o.scale) if isinstance(v, str)}
    par_node = reader.mapping(top, "parameters", "the fit specification", required=True)
    parameters = []
    for name in par_node:
        parameters.append(_located(reader, par_node, name,
                                   lambda name=name: _parameter(reader, name, par_node[name], network, used)))
        if parameters[-1].name in [p.name for p in parameters[:-1]]:  # `F1` and `rate:F1`
            raise reader.error(f"parameter `{parameters[-1].name}` is given twice", par_node, name)
    missing = used - {p.name for p in parameters}
    if missing:
        raise reader.error(f"observable offset/scale `{sorted(missing)[0]}` is not a number and not listed under "
                           "`parameters`", top, "observables")
    if not parameters:
        raise reader.error("`parameters` is empty; name at least one constant to fit", top, "parameters")
    experiments = []
    nodes = reader.sequence(top, "experiments", "the fit specification")
    for i, node in enumerate(nodes):
        experiments.append(_located(reader, nodes, i,
                                    lambda i=i, node=node: _experiment(reader, i, node, base, observables, network)))
    if not experiments:
        raise reader.error("`experiments` is empty; list at least one with its `data` file", top, "experiments")
    measured = [n for n in observables if any(n in e.data for e in experiments)]
    given = [n for n in measured if observables[n].sigma is not None]
    if given and len(given) < len(measured):
        from .objective import sigma_mix_message
        missing = [n for n in measured if n not in given]
        raise reader.error(sigma_mix_message(given, missing), obs_node, missing[0])
    fitted = {p.name.partition(":")[2] for p in parameters if p.kind == "rate"}
    for node, experiment in zip(nodes, experiments):
        for rid in experiment.rates:
            if rid in fitted:
                raise reader.error(f"`rates` of experiment `{experiment.name}` sets `{rid}`, which is also fitted; "
                                   "drop one (the fit would silently override the experiment's value)",
                                   node["rates"], rid)
    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise reader.error(f"two experiments are named `{next(n for n in names if names.count(n) > 1)}`", top,
                           "experiments")
    return FitSpec(model, observables, tuple(parameters), tuple(experiments), parameter_set, priors, rtol, str(path))
