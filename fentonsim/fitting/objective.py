"""Residuals of a fit and their exact Jacobian, from the forward sensitivities of each experiment.

The free vector x holds one entry per fitted parameter and, for a ``per_experiment`` parameter, one per
experiment (named ``<name>[<experiment>]``); a log-scale entry is ln θ. Experiment e is one call of
:func:`fentonsim.sensitivities` at its own conditions with the current rate constants and initial
concentrations, at its measurement times, so ∂c/∂ln k and ∂c/∂c0 come from the compiled augmented
Rosenbrock integration, not from finite differences. Observables are linear in the state
(fentonsim.fitting.spec), so the chain rule is

    y = offset + scale·factor·Σ w_i c_i
    ∂y/∂ln k = scale·factor·Σ w_i ∂c_i/∂ln k,   ∂y/∂offset = 1,   ∂y/∂scale = factor·Σ w_i c_i

and a log-scale entry multiplies its column by θ (∂/∂ln θ = θ·∂/∂θ). Residuals are (y − data)/σ per
measured value; Gaussian priors add rows (ln k − ln k_documented)/sd (fentonsim.fitting.priors).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConditionsError, DataError, SolverError
from ..sensitivity import sensitivities

#: The state (hence every residual) is error-controlled to rtol; the sensitivities ride on its steps, accurate to
#: a few rtol — plenty for a Gauss–Newton step and for intervals — at about 60 % of the cost of controlling them.
SENSITIVITY_ERROR_CONTROL = "state"
#: Residual of every measurement at parameters where the solver fails: large, finite, so the trust region
#: rejects the step and shrinks instead of stopping.
FAILED_RESIDUAL = 1e6


def sigma_mix_message(given, missing) -> str:
    """Why σ must be given for every measured observable or for none (one line)."""
    return (f"`sigma` is given for {', '.join(f'`{n}`' for n in given)} but not for "
            f"{', '.join(f'`{n}`' for n in missing)}: give it for every observable (known noise) or for none "
            "(noise estimated from the residuals); a mix would weigh one group by σ and scale both by one s²")


@dataclass(frozen=True)
class Free:
    """One entry of x: ``parameter`` (a spec Parameter), ``experiment`` (index or None: shared), ``log``,
    bounds in natural units and the start value."""

    name: str
    parameter: object
    experiment: int | None
    log: bool
    lower: float
    upper: float
    start: float

    @property
    def kind(self) -> str:
        return self.parameter.kind

    @property
    def target(self) -> str:
        return self.parameter.name.partition(":")[2] if self.kind != "observable" else self.parameter.name


class Objective:
    """Residuals r(x) and Jacobian J(x) of ``spec`` on ``network``; one evaluation serves both (cached)."""

    def __init__(self, spec, network, priors=None, atol=None):
        self.spec, self.network, self.atol = spec, network, atol
        self.experiments = spec.experiments
        self.clipped = []  # names whose start (the model's value) was moved onto a bound
        self.free = self._layout()
        self.priors = priors or {}  # {free index: (mean of ln θ, sd)}
        measured = [name for name in spec.observables if any(name in e.data for e in self.experiments)]
        given = [name for name in measured if spec.observables[name].sigma is not None]
        if given and len(given) < len(measured):
            raise DataError(sigma_mix_message(given, [n for n in measured if n not in given]), spec.path)
        self.sigma_known = bool(given)
        self._check_observables()
        self._check_rates()
        self._blocks = [self._data_block(e) for e in range(len(self.experiments))]
        self.n_data = sum(len(b["rows"]) for b in self._blocks)
        if self.n_data == 0:
            raise ConditionsError("the experiments have no measured values")
        self._prior_index = sorted(self.priors)
        self._cache_x, self._cache = None, None
        self.n_evaluations = 0
        self.n_failures = 0

    # ------------------------------------------------------------------------------------------ layout

    def _layout(self):
        free = []
        for p in self.spec.parameters:
            log = p.log if p.log is not None else p.kind in ("rate", "initial")
            scopes = list(range(len(self.experiments))) if p.per_experiment else [None]
            for e in scopes:
                start = self._start(p, log, e)
                name = p.name if e is None else f"{p.name}[{self.experiments[e].name}]"
                lower, upper = p.lower, p.upper
                if log and math.isinf(lower) and math.isinf(upper):
                    span = 1e3 if p.kind == "rate" else 1e2
                    lower, upper = start / span, start * span
                if log and not lower > 0:
                    lower = start * 1e-12 if start > 0 else lower
                if log and not (start > 0 and lower > 0):
                    raise ConditionsError(f"parameter `{name}` is fitted on a log scale and needs a positive start "
                                          "and lower bound; give `bounds` (or `scale: linear`)")
                if not (lower < upper) or not math.isfinite(start):
                    raise ConditionsError(f"parameter `{name}` needs lower < upper bounds and a finite start, found "
                                          f"[{lower:g}, {upper:g}] and {start!r}")
                if not lower <= start <= upper:
                    if p.start is not None:
                        raise DataError(f"parameter `{name}`: start {start:g} lies outside its bounds "
                                        f"[{lower:g}, {upper:g}]", self.spec.path)
                    # The model's own value outside the bounds the user chose: start at the nearest bound, said
                    # in the result's notes.
                    self.clipped.append(name)
                    start = min(max(start, lower), upper)
                free.append(Free(name, p, e, log, lower, upper, start))
        names = [f.name for f in free]
        if len(set(names)) != len(names):
            raise DataError(f"parameter `{next(n for n in names if names.count(n) > 1)}` is given twice",
                            self.spec.path)
        return free

    def _check_observables(self):
        """Offsets and scales name observable parameters; no two entries of an observable are one pool."""
        for name, observable in self.spec.observables.items():
            for role in ("offset", "scale"):
                term = getattr(observable, role)
                if isinstance(term, str) and not any(f.kind == "observable" and f.target == term
                                                     for f in self.free):
                    raise DataError(f"`{role}` of observable `{name}` names `{term}`, which is not an offset or "
                                    "scale parameter (a rate constant or initial concentration cannot be one)",
                                    self.spec.path)
            seen = {}
            for species, _ in observable.species:
                try:
                    index = self.network.species_index(species)
                except KeyError as exc:
                    raise DataError(f"observable `{name}`: {exc.args[0]}", self.spec.path) from None
                if index in seen:
                    raise DataError(f"observable `{name}` lists `{seen[index]}` and `{species}`, both the pool "
                                    f"`{self.network.species[index]}`: a form stands for its pool's total, so "
                                    "the pool would count twice", self.spec.path)
                seen[index] = species

    def _check_rates(self):
        """A fitted rate constant must not also be an experiment's own fixed `rates` entry."""
        for f in self.free:
            if f.kind != "rate":
                continue
            for e, experiment in enumerate(self.experiments):
                if f.experiment in (None, e) and f.target in experiment.rates:
                    raise DataError(f"experiment `{experiment.name}` sets `rates: {f.target}`, which is also "
                                    "fitted; drop one (the fit would silently override the experiment's value)",
                                    self.spec.path)

    def _start(self, p, log, e):
        if p.start is not None:
            return p.start
        if p.kind == "rate":
            rid = p.name.partition(":")[2]
            rows = [i for i, s in enumerate(self.network.source_reaction) if s == rid
                    and not self.network.reaction_ids[i].endswith(":reverse")]
            if not rows:
                raise ConditionsError(f"parameter `{p.name}`: `{self.network.name}` has no reaction `{rid}`")
            k = float(self.network.k_ref[rows[0]])
            if k > 0:
                return k
        if p.kind == "initial":
            species = p.name.partition(":")[2]
            experiment = self.experiments[0 if e is None else e]
            if species in experiment.initial and experiment.initial[species] > 0:
                return float(experiment.initial[species])
        if math.isfinite(p.lower) and math.isfinite(p.upper):
            return math.sqrt(p.lower * p.upper) if log and p.lower > 0 else 0.5 * (p.lower + p.upper)
        raise ConditionsError(f"parameter `{p.name}` needs a `start` value or finite `bounds`")

    @property
    def names(self):
        return [f.name for f in self.free]

    def to_x(self, values) -> np.ndarray:
        return np.array([math.log(v) if f.log else v for f, v in zip(self.free, values)])

    def from_x(self, x) -> np.ndarray:
        return np.array([math.exp(v) if f.log else v for f, v in zip(self.free, x)])

    def bounds_x(self):
        lower = np.array([math.log(f.lower) if f.log else f.lower for f in self.free])
        upper = np.array([math.log(f.upper) if f.log else f.upper for f in self.free])
        return lower, upper

    def start_x(self) -> np.ndarray:
        return self.to_x([f.start for f in self.free])

    # ------------------------------------------------------------------------------------------ data

    def _data_block(self, e):
        experiment = self.experiments[e]
        times = np.unique(experiment.time)
        rows, where, observed, sigma = [], [], [], []
        for name, values in experiment.data.items():
            observable = self.spec.observables.get(name)
            if observable is None:
                raise ConditionsError(f"experiment `{experiment.name}` has data for `{name}`, which is no observable")
            if observable.sigma is not None:
                weight = observable.sigma
            else:  # relative weights: each observable on its own scale (fentonsim.fitting.spec)
                peak = max(np.nanmax(np.abs(ex.data[name])) for ex in self.experiments if name in ex.data)
                weight = peak if peak > 0 else 1.0
            for i in np.flatnonzero(np.isfinite(values)):
                rows.append(name)
                where.append(int(np.searchsorted(times, experiment.time[i])))
                observed.append(values[i])
                sigma.append(weight)
        species = {}
        for name in set(rows):
            observable = self.spec.observables[name]
            species[name] = [(self.network.species_index(s), w) for s, w in observable.species]
        return {"times": times, "rows": rows, "where": np.array(where, dtype=np.int64),
                "observed": np.array(observed), "sigma": np.array(sigma), "species": species}

    # ------------------------------------------------------------------------------------------ evaluation

    def _experiment_run(self, e, theta):
        """(parameters for fs.sensitivities, {free index: sensitivity column}, rates, initial) of experiment e."""
        experiment = self.experiments[e]
        rates, initial = dict(experiment.rates), dict(experiment.initial)
        labels, columns = [], {}
        for j, f in enumerate(self.free):
            if f.experiment not in (None, e):
                continue
            if f.kind == "rate":
                rates[f.target] = theta[j]
                label = f"rate:{f.target}"
            elif f.kind == "initial":
                initial[f.target] = theta[j]
                label = f"initial:{f.target}"
            else:
                continue
            columns[j] = len(labels)
            labels.append(label)
        return labels, columns, rates, initial

    def _observable_terms(self, e, theta):
        """{observable: (offset, scale, [(free index, 'offset'|'scale')])} for experiment e; one parameter may
        be both the offset and the scale of an observable (two entries, whose derivatives add)."""
        out = {}
        for name, observable in self.spec.observables.items():
            values, roles = {}, []
            for role in ("offset", "scale"):
                term = getattr(observable, role)
                if isinstance(term, str):
                    j = next(j for j, f in enumerate(self.free)
                             if f.kind == "observable" and f.target == term and f.experiment in (None, e))
                    values[role] = theta[j]
                    roles.append((j, role))
                else:
                    values[role] = term
            out[name] = (values["offset"], values["scale"], roles)
        return out

    def simulate(self, e, theta, labels, rates, initial, t_eval):
        experiment = self.experiments[e]
        # With only observable parameters one cheap column stands in for "every reaction" (parameters=None).
        labels = labels or [f"rate:{self.network.reaction_ids[0]}"]
        return sensitivities(self.network, labels, t_eval=t_eval, conditions=experiment.conditions,
                             ph=experiment.ph, temperature=experiment.temperature, initial=initial,
                             buffered=experiment.buffered or None, rates=rates, boluses=experiment.boluses,
                             rtol=self.spec.rtol, atol=self.atol, error_control=SENSITIVITY_ERROR_CONTROL)

    def evaluate(self, x):
        """(residuals (m,), Jacobian (m, n_x), model values of the data rows (n_data,)); cached on x."""
        x = np.asarray(x, dtype=float)
        if self._cache_x is not None and np.array_equal(x, self._cache_x):
            return self._cache
        theta = self.from_x(x)
        n_x = len(self.free)
        residuals, jac, model = [], [], []
        failed = False
        for e, block in enumerate(self._blocks):
            labels, columns, rates, initial = self._experiment_run(e, theta)
            try:
                ds = self.simulate(e, theta, labels, rates, initial, list(block["times"]))
            except SolverError:
                failed = True
                break
            conc = ds["concentration"].values
            sens = ds["sensitivity"].values if labels else np.zeros(conc.shape + (0,))
            terms = self._observable_terms(e, theta)
            m = len(block["rows"])
            y, jb = np.empty(m), np.zeros((m, n_x))
            combined = {}
            for name, pairs in block["species"].items():
                c = sum(w * conc[:, i] for i, w in pairs)
                s = sum(w * sens[:, i, :] for i, w in pairs)
                combined[name] = (c, s)
            for r, (name, t) in enumerate(zip(block["rows"], block["where"])):
                observable = self.spec.observables[name]
                offset, scale, roles = terms[name]
                c, s = combined[name]
                y[r] = offset + scale * observable.factor * c[t]
                for j, col in columns.items():
                    jb[r, j] = scale * observable.factor * s[t, col]
                for j, role in roles:
                    jb[r, j] += 1.0 if role == "offset" else observable.factor * c[t]
            residuals.append((y - block["observed"]) / block["sigma"])
            jac.append(jb / block["sigma"][:, None])
            model.append(y)
        self.n_evaluations += 1
        if failed:
            self.n_failures += 1
            r = np.full(self.n_data + len(self._prior_index), FAILED_RESIDUAL)
            result = (r, np.zeros((r.size, n_x)), np.full(self.n_data, np.nan))
            self._cache_x, self._cache = x.copy(), result
            return result
        jac = np.vstack(jac)
        # Entries on a log scale: ∂/∂ln θ = θ·∂/∂θ; rate columns already are ∂/∂ln k.
        for j, f in enumerate(self.free):
            if f.kind == "rate":
                if not f.log:
                    jac[:, j] /= theta[j]
            elif f.log:
                jac[:, j] *= theta[j]
        residuals = np.concatenate(residuals)
        if self._prior_index:
            prior_r = np.array([(x[j] - self.priors[j][0]) / self.priors[j][1] for j in self._prior_index])
            prior_j = np.zeros((len(self._prior_index), n_x))
            for row, j in enumerate(self._prior_index):
                prior_j[row, j] = 1.0 / self.priors[j][1]
            residuals = np.concatenate([residuals, prior_r])
            jac = np.vstack([jac, prior_j])
        result = (residuals, jac, np.concatenate(model))
        self._cache_x, self._cache = x.copy(), result
        return result

    def residuals(self, x):
        return self.evaluate(x)[0]

    def jacobian(self, x):
        return self.evaluate(x)[1]

    def rows(self):
        """[(experiment index, observable, time [s], observed, sigma)] of the data residuals, in order."""
        out = []
        for e, block in enumerate(self._blocks):
            for r, name in enumerate(block["rows"]):
                out.append((e, name, float(block["times"][block["where"][r]]), float(block["observed"][r]),
                            float(block["sigma"][r])))
        return out

    def curves(self, theta, e, t_eval):
        """{observable: model values at ``t_eval``} of experiment e at natural parameters ``theta``."""
        labels, _, rates, initial = self._experiment_run(e, theta)
        ds = self.simulate(e, theta, labels[:1], rates, initial, list(t_eval))
        conc = ds["concentration"].values
        terms = self._observable_terms(e, theta)
        out = {}
        for name in self.experiments[e].data:
            observable = self.spec.observables[name]
            offset, scale, _ = terms[name]
            c = sum(w * conc[:, self.network.species_index(s)] for s, w in observable.species)
            out[name] = offset + scale * observable.factor * c
        return out
