"""PEtab v1 import: a fit problem from the community's TSV tables, without the petab package.

``read_petab("problem.yaml")`` reads the problem file (``format_version: 1``, ``parameter_file``, one entry
under ``problems`` with ``sbml_files``, ``condition_files``, ``measurement_files``, ``observable_files``) and
returns a :class:`fentonsim.fitting.FitSpec` for :func:`fentonsim.fit`. The model may be SBML or a fentonsim
mechanism (``.yaml``, a fentonsim extension).

What is supported, and refused otherwise with a DataError naming file, line and column:

- parameters (``parameterId``, ``parameterScale`` lin/log/log10, ``lowerBound``, ``upperBound``,
  ``nominalValue``, ``estimate``): a reaction's rate constant — for a mechanism the reaction id, for SBML a
  global parameter that appears in exactly one reaction's kinetic law, as a factor, and is then fitted as
  that reaction's k (k = parameter × the law's other constants, so bounds and nominal value are scaled by
  the model's own k/parameter) — or an offset or scale of an observable. Fixed parameters (``estimate`` 0)
  set rate constants or observable constants. PEtab priors are not read (use ``priors`` of fentonsim.fit);
- observables: ``observableFormula`` of the form ``offset + scale · (Σ w_i·species_i)`` with numbers or
  parameters for offset and scale; ``observableTransformation`` lin; ``noiseFormula`` a number (σ) or
  ``noiseParameter1_<observableId>`` with numeric ``noiseParameters`` in the measurements; normal noise;
- conditions: ``conditionId`` plus columns of species (initial concentrations, M for mechanisms), of fixed
  parameters (rate constants), and the fentonsim extensions ``pH`` and ``temperature`` [K];
- measurements: ``observableId``, ``simulationConditionId``, ``measurement``, ``time`` [s]; no
  pre-equilibration and no ``observableParameters``.
"""
from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np

from ..errors import DataError, FentonsimError
from ..expression import affine, num, op, substitute, sym, symbols
from ..mechanism.yamlio import file_problem, read_mapping
from ..models import is_sbml
from .spec import Experiment, FitSpec, Observable, Parameter

_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


# ------------------------------------------------------------------------------------------------ tables

def _table(path, required):
    """[(line, {column: text})] of a TSV file, with its header checked for ``required`` columns."""
    path = Path(path)
    problem = file_problem(path)
    if problem is not None:
        raise DataError(f"PEtab table {problem}".replace("a YAML file", "a TSV file"), path)
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=None), delimiter="\t")
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise DataError(f"not a TSV table: {exc}", path, reader.line_num or 1) from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise DataError("empty PEtab table; expected a tab-separated header", path, 1)
    header = [c.strip() for c in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"missing column `{missing[0]}` (header: {', '.join(header)})", path, 1)
    out = []
    for number, cells in enumerate(rows[1:], 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise DataError(f"{len(cells)} cells, the header has {len(header)}", path, number)
        out.append((number, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}))
    return out


def _number(text, path, line, column, what="a number"):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(f"column `{column}`: `{text}` is not {what}", path, line)
    return value


# ------------------------------------------------------------------------------------------------ formulas

def parse_formula(text, path, line, column):
    """An expression tree of ``+ - * /``, parentheses, numbers and names."""
    tokens = []
    for match in _TOKEN.finditer(text):
        if match.group(3) is not None and match.group(3) not in "+-*/()":
            if match.group(3).strip():
                raise DataError(f"column `{column}`: `{match.group(3)}` in `{text}` is not supported (+ - * / and "
                                "parentheses only)", path, line)
            continue
        tokens.append(match.group(1) and ("num", match.group(1)) or match.group(2) and ("name", match.group(2))
                      or ("op", match.group(3)))
    position = [0]

    def peek():
        return tokens[position[0]] if position[0] < len(tokens) else None

    def take():
        token = peek()
        position[0] += 1
        return token

    def fail(message):
        raise DataError(f"column `{column}`: {message} in `{text}`", path, line)

    def atom():
        token = take()
        if token is None:
            fail("unexpected end")
        if token == ("op", "("):
            inner = expression()
            if take() != ("op", ")"):
                fail("missing `)`")
            return inner
        if token == ("op", "-"):
            return op("minus", atom())
        if token[0] == "num":
            return num(float(token[1]))
        if token[0] == "name":
            return sym(token[1])
        fail(f"unexpected `{token[1]}`")

    def product():
        node = atom()
        while peek() in (("op", "*"), ("op", "/")):
            name = "times" if take()[1] == "*" else "divide"
            node = op(name, node, atom())
        return node

    def expression():
        node = product()
        while peek() in (("op", "+"), ("op", "-")):
            name = "plus" if take()[1] == "+" else "minus"
            node = op(name, node, product())
        return node

    tree = expression()
    if peek() is not None:
        fail(f"unexpected `{peek()[1]}`")
    return tree


def _terms(expr, sign=1.0):
    """The signed summands of ``expr``."""
    if expr[0] == "op" and expr[1] == "plus":
        return [t for a in expr[2] for t in _terms(a, sign)]
    if expr[0] == "op" and expr[1] == "minus" and len(expr[2]) == 2:
        return _terms(expr[2][0], sign) + _terms(expr[2][1], -sign)
    if expr[0] == "op" and expr[1] == "minus":
        return _terms(expr[2][0], -sign)
    return [(sign, expr)]


def _factors(expr):
    if expr[0] == "op" and expr[1] == "times":
        return [f for a in expr[2] for f in _factors(a)]
    return [expr]


def linear_observable(name, expr, species, estimated, path, line):
    """Observable(offset, scale, weights) of ``expr`` = offset + scale·Σ w·species (module docstring)."""
    def refuse(why):
        raise DataError(f"observableFormula of `{name}`: {why}; expected offset + scale * (w1 * species1 + ...)",
                        path, line)

    offset, offset_name, scale_name, weights = 0.0, None, None, {}
    for sign, term in _terms(expr):
        names = symbols(term)
        if not names & species:
            if term[0] == "sym" and term[1] in estimated and sign > 0:
                if offset_name is not None:
                    refuse("two parameter offsets")
                offset_name = term[1]
            elif not names:
                offset += sign * substitute(term, {})[1]
            else:
                refuse(f"`{term}` is neither a number, an offset parameter nor a species term")
            continue
        factors = _factors(term)
        scales = [f for f in factors if f[0] == "sym" and f[1] in estimated]
        if len(scales) > 1 or (scales and scale_name not in (None, scales[0][1])):
            refuse("more than one scale parameter")
        if scales:
            scale_name = scales[0][1]
        rest = [f for f in factors if not (f[0] == "sym" and f[1] in estimated)]
        linear = affine(op("times", num(sign), *rest))
        if linear is None or linear[0] != 0.0 or set(linear[1]) - species:
            refuse("a term is not linear in the species")
        for s, w in linear[1].items():
            weights[s] = weights.get(s, 0.0) + w
    if offset_name is not None and offset != 0.0:
        refuse("both a number and a parameter as offset")
    if not weights:
        refuse("no species")
    return offset_name if offset_name is not None else offset, scale_name if scale_name is not None else 1.0, weights


# ------------------------------------------------------------------------------------------------ SBML

def _sbml_parameters(path):
    """{global parameter id: [reaction ids whose kinetic law uses it]} and {species id: name}."""
    import libsbml

    document = libsbml.readSBMLFromFile(str(path))
    model = document.getModel()
    if model is None:
        raise DataError("no SBML model in the file", path)
    uses = {model.getParameter(i).getId(): [] for i in range(model.getNumParameters())}
    for i in range(model.getNumReactions()):
        reaction = model.getReaction(i)
        law = reaction.getKineticLaw()
        if law is None or not law.isSetMath():
            continue
        local = {law.getParameter(j).getId() for j in range(law.getNumParameters())}
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", libsbml.formulaToL3String(law.getMath())))
        for pid in names - local:
            if pid in uses:
                uses[pid].append(reaction.getId())
    values = {model.getParameter(i).getId(): model.getParameter(i).getValue() for i in range(model.getNumParameters())}
    names = {model.getSpecies(i).getId(): model.getSpecies(i).getName() or model.getSpecies(i).getId()
             for i in range(model.getNumSpecies())}
    return uses, values, names


# ------------------------------------------------------------------------------------------------ reading

def _files(problem, key, base, reader_path):
    value = problem.get(key)
    names = list(value) if isinstance(value, list) else [value] if value else []
    if not names:
        raise DataError(f"the PEtab problem has no `{key}`", reader_path)
    return [base / str(n) for n in names]


def read_petab(path) -> FitSpec:
    """A FitSpec from the PEtab v1 problem ``path`` (module docstring)."""
    from ..problem import resolve_model

    path = Path(path)
    top = read_mapping(path)
    version = str(top.get("format_version", ""))
    if version not in ("1", "1.0.0"):
        raise DataError(f"`format_version` must be 1 (PEtab v1), found `{version or 'nothing'}`", path, 1)
    problems = top.get("problems")
    if not isinstance(problems, list) or len(problems) != 1 or not hasattr(problems[0], "get"):
        raise DataError("`problems` must list exactly one problem", path, 1)
    problem, base = problems[0], path.parent
    models = _files(problem, "sbml_files", base, path)
    if len(models) != 1:
        raise DataError("exactly one model file is supported in `sbml_files`", path)
    model = str(models[0])
    network = resolve_model(model)
    sbml = is_sbml(model)
    uses, sbml_values, species_names = _sbml_parameters(model) if sbml else ({}, {}, {})

    def species_of(name):
        for candidate in (name, species_names.get(name)):
            if candidate is None:
                continue
            try:
                return network.species[network.species_index(candidate)], candidate
            except KeyError:
                continue
        return None

    def reaction_of(pid):
        """(reaction id, k per unit of the parameter) or None."""
        if not sbml:
            return (pid, 1.0) if pid in network.rate_orders else None
        reactions = uses.get(pid)
        if not reactions:
            return None
        if len(reactions) > 1:
            raise DataError(f"parameter `{pid}` appears in the kinetic laws of {', '.join(reactions)}; fentonsim "
                            "fits one rate constant per reaction", parameter_file)
        rid = reactions[0]
        if network.has_general_laws and rid in network.laws.general_reactions:
            # The law's constants are folded into its program; scaling k would scale the whole law, which is
            # the parameter's effect only when the law is linear in it.
            raise DataError(f"parameter `{pid}` is inside the general (non-mass-action) kinetic law of reaction "
                            f"`{rid}`; fentonsim fits SBML parameters only as mass-action rate constants",
                            parameter_file)
        value = sbml_values.get(pid, math.nan)
        k = float(network.k_ref[network.source_reaction.index(rid)])
        if not (value > 0 and k > 0):
            raise DataError(f"parameter `{pid}` has value {value} in the model; a fitted rate parameter needs a "
                            "positive nominal value in the SBML file", parameter_file)
        return rid, k / value

    parameter_file = base / str(top.get("parameter_file", ""))
    if not top.get("parameter_file"):
        raise DataError("the PEtab problem has no `parameter_file`", path)
    parameter_rows = _table(parameter_file, ("parameterId", "parameterScale", "lowerBound", "upperBound",
                                             "nominalValue", "estimate"))
    estimated, fixed, seen_ids = {}, {}, {}
    for line, row in parameter_rows:
        for column in ("objectivePriorType", "initializationPriorType"):
            if row.get(column):
                raise DataError(f"column `{column}` is not supported (use fentonsim.fit(priors=True) for the "
                                "documented uncertainties)", parameter_file, line)
        pid = row["parameterId"]
        if pid in seen_ids:
            raise DataError(f"parameterId `{pid}` is given twice (lines {seen_ids[pid]} and {line})", parameter_file,
                            line)
        seen_ids[pid] = line
        scale = row["parameterScale"] or "lin"
        if scale not in ("lin", "log", "log10"):
            raise DataError(f"column `parameterScale`: `{scale}` is not lin, log or log10", parameter_file, line)
        nominal = _number(row["nominalValue"], parameter_file, line, "nominalValue")
        if row["estimate"] not in ("0", "1"):
            raise DataError(f"column `estimate`: `{row['estimate']}` is not 0 or 1", parameter_file, line)
        if row["estimate"] == "1":
            lower = _number(row["lowerBound"], parameter_file, line, "lowerBound")
            upper = _number(row["upperBound"], parameter_file, line, "upperBound")
            if not lower < upper:
                raise DataError(f"lowerBound {lower:g} is not below upperBound {upper:g}", parameter_file, line)
            if not lower <= nominal <= upper:
                raise DataError(f"nominalValue {nominal:g} (the fit's start) lies outside [{lower:g}, {upper:g}]",
                                parameter_file, line)
            estimated[pid] = (line, scale != "lin", lower, upper, nominal)
        else:
            fixed[pid] = nominal
    observable_file = _files(problem, "observable_files", base, path)[0]
    observables, noise_placeholder = {}, {}
    state = set(network.species) | set(network.pool_of_form) | set(species_names)
    for line, row in _table(observable_file, ("observableId", "observableFormula", "noiseFormula")):
        oid = row["observableId"]
        if row.get("observableTransformation", "lin") not in ("", "lin"):
            raise DataError(f"observableTransformation `{row['observableTransformation']}` of `{oid}` is not "
                            "supported (lin only)", observable_file, line)
        if row.get("noiseDistribution", "normal") not in ("", "normal"):
            raise DataError(f"noiseDistribution `{row['noiseDistribution']}` of `{oid}` is not supported (normal "
                            "only)", observable_file, line)
        expr = substitute(parse_formula(row["observableFormula"], observable_file, line, "observableFormula"),
                          {p: v for p, v in fixed.items() if p not in state})
        unknown = symbols(expr) - state - set(estimated)
        if unknown:
            raise DataError(f"observableFormula of `{oid}`: unknown name `{sorted(unknown)[0]}` (not a species or a "
                            "parameter of the parameter table)", observable_file, line)
        offset, scale, weights = linear_observable(oid, expr, state, set(estimated), observable_file, line)
        for role, term in (("offset", offset), ("scale", scale)):
            if isinstance(term, str) and reaction_of(term) is not None:
                raise DataError(f"observableFormula of `{oid}`: `{term}` is a rate parameter of the model and "
                                f"cannot also be the observable's {role}", observable_file, line)
        pairs, pools = [], {}
        for s, w in weights.items():
            found = species_of(s)
            if found is None:
                raise DataError(f"observableFormula of `{oid}`: `{s}` is not a state variable of the model",
                                observable_file, line)
            if found[0] in pools:
                raise DataError(f"observableFormula of `{oid}`: `{pools[found[0]]}` and `{s}` are both the pool "
                                f"`{found[0]}`, which would count twice", observable_file, line)
            pools[found[0]] = s
            pairs.append((found[1], w))
        noise = row["noiseFormula"]
        sigma = None
        try:
            sigma = float(noise)
        except ValueError:
            if noise != f"noiseParameter1_{oid}":
                raise DataError(f"noiseFormula `{noise}` of `{oid}` is not supported: give a number or "
                                f"`noiseParameter1_{oid}` with numeric noiseParameters", observable_file,
                                line) from None
            noise_placeholder[oid] = None
        if sigma is not None and not (math.isfinite(sigma) and sigma > 0):
            raise DataError(f"noiseFormula of `{oid}` must be positive, found {noise}", observable_file, line)
        observables[oid] = Observable(oid, tuple(pairs), 1.0, offset, scale, False, sigma)
    condition_file = _files(problem, "condition_files", base, path)[0]
    conditions = {}
    for line, row in _table(condition_file, ("conditionId",)):
        cid = row["conditionId"]
        entry = {"initial": {}, "rates": {}, "ph": None, "temperature": None}
        for column, text in row.items():
            if column in ("conditionId", "conditionName") or text == "":
                continue
            value = _number(text, condition_file, line, column)
            if column == "pH":
                entry["ph"] = value
            elif column == "temperature":
                entry["temperature"] = value
            elif species_of(column) is not None:
                entry["initial"][species_of(column)[1]] = value
            elif column in estimated:
                raise DataError(f"column `{column}`: an estimated parameter cannot also be set per condition",
                                condition_file, line)
            elif reaction_of(column) is not None:
                rid, factor = reaction_of(column)
                entry["rates"][rid] = value * factor
            else:
                raise DataError(f"column `{column}` is neither a species nor a rate parameter of the model",
                                condition_file, 1)
        conditions[cid] = (line, entry)
    fixed_rates = {}
    for pid, value in fixed.items():
        found = reaction_of(pid)
        if found is not None:
            fixed_rates[found[0]] = value * found[1]
    measurement_file = _files(problem, "measurement_files", base, path)[0]
    rows = _table(measurement_file, ("observableId", "simulationConditionId", "measurement", "time"))
    grouped = {}
    for line, row in rows:
        if row.get("preequilibrationConditionId"):
            raise DataError("pre-equilibration is not supported", measurement_file, line)
        if row.get("observableParameters"):
            raise DataError("column `observableParameters` is not supported (write the values into the formula)",
                            measurement_file, line)
        oid, cid = row["observableId"], row["simulationConditionId"]
        if oid not in observables:
            raise DataError(f"column `observableId`: unknown observable `{oid}`", measurement_file, line)
        if cid not in conditions:
            raise DataError(f"column `simulationConditionId`: unknown condition `{cid}`", measurement_file, line)
        t = _number(row["time"], measurement_file, line, "time")
        if t < 0:
            raise DataError(f"column `time`: negative time {t:g} s", measurement_file, line)
        value = _number(row["measurement"], measurement_file, line, "measurement")
        if oid in noise_placeholder:
            noise = _number(row.get("noiseParameters", ""), measurement_file, line, "noiseParameters",
                            "a number (the σ of noiseParameter1)")
            if noise_placeholder[oid] not in (None, noise):
                raise DataError(f"column `noiseParameters`: σ of `{oid}` changes between rows "
                                f"({noise_placeholder[oid]:g}, {noise:g}); one σ per observable is supported",
                                measurement_file, line)
            noise_placeholder[oid] = noise
        grouped.setdefault(cid, []).append((t, oid, value))
    for oid, noise in noise_placeholder.items():
        o = observables[oid]
        observables[oid] = Observable(o.name, o.species, o.factor, o.offset, o.scale, o.absorbance, noise)
    experiments = []
    for cid, items in grouped.items():
        items.sort(key=lambda item: item[0])
        times = np.array([t for t, _, _ in items])
        data = {}
        for r, (_, oid, value) in enumerate(items):
            data.setdefault(oid, np.full(times.size, np.nan))[r] = value
        entry = conditions[cid][1]
        experiments.append(Experiment(cid, times, data, None, entry["ph"], entry["temperature"], entry["initial"], {},
                                      {**fixed_rates, **entry["rates"]}, (), str(measurement_file)))
    if not experiments:
        raise DataError("no measurements", measurement_file, 1)
    used = {v for o in observables.values() for v in (o.offset, o.scale) if isinstance(v, str)}
    parameters, fitted_by = [], {}
    for pid, (line, log, lower, upper, nominal) in estimated.items():
        found = reaction_of(pid)
        if found is not None:
            rid, factor = found
            if rid in fitted_by:
                raise DataError(f"parameters `{fitted_by[rid]}` and `{pid}` are both the rate constant of reaction "
                                f"`{rid}`", parameter_file, line)
            fitted_by[rid] = pid
            parameters.append(Parameter(f"rate:{rid}", lower * factor, upper * factor, log, False, nominal * factor))
        elif pid in used:
            parameters.append(Parameter(pid, lower, upper, log, False, nominal))
        else:
            raise DataError(f"estimated parameter `{pid}` is neither a rate parameter of the model nor used by an "
                            "observable", parameter_file, line)
    try:
        spec = FitSpec(model, observables, tuple(parameters), tuple(experiments), path=str(path))
        from .objective import Objective
        Objective(spec, network)  # every reference resolves before a fit starts
    except FentonsimError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(str(exc), path) from None
    return spec
