"""Import an SBML Level 2 or 3 model as a fentonsim :class:`Mechanism`.

What is supported, and how it maps (anything else is refused with an
:class:`SBMLError` naming the element — a model is never simulated wrongly):

- **Compartments** (fentonsim/sbml/compartments.py): any number, sizes in litres
  (or metre³, or a scaled litre; other dimensions in their own unit), from
  attributes or initial assignments, or varying by a rate rule, an assignment
  rule of time or events. Each species' concentration is per its own
  compartment. A size may be missing only when no value needs it (all species
  amounts, the compartment in no formula; a point's species are amounts).
- **Species** given as amounts or concentrations, ``hasOnlySubstanceUnits``
  true or false, initial values from attributes or initial assignments.
  Boundary and constant species keep their initial value; they become
  clamped (``buffered``) species whose values are folded into the rate laws
  (a non-constant boundary species that events set is a state that reactions
  read but do not change).
- **Parameters**, global and local, constant or set by an assignment rule or
  initial assignment that depends on constants only.
- **Kinetic laws** that are one mass-action term (or, for a reversible
  reaction, k₁·Π reactants − k₂·Π products: two directions): a product or quotient of
  numbers, parameters, compartment sizes and species to positive integer
  powers, at most three molecules in all. A law's order in each consumed
  species must equal the species' stoichiometry, which is what makes the law
  mass action; species that appear in the law without being consumed are
  catalysts (reactant and product). Factors ``(X - 1)`` and ``(X - 2)`` next to
  ``X`` — the falling factorial stochastic models write for ``2X`` or ``3X`` —
  are recognised; the SSA then uses c·n(n−1)…, the ODE the mass-action limit
  k·[X]² (a warning says so). A plain power of an amount (``k*X*X`` with X
  in ``hasOnlySubstanceUnits``) gets the propensity c·n² the SBML test suite's
  stochastic semantics prescribe; a power of a concentration is a
  deterministic rate law, whose stochastic reading is the chemical master
  equation's falling factorial (Gillespie 1977), as for fentonsim's own
  mechanisms and exports.
- **Stoichiometries**: attributes, ``stoichiometryMath`` (Level 2), or (Level 3)
  the value an initial assignment or assignment rule gives a species
  reference; whole constant ones keep a reaction mass action, others (non-whole,
  or varying with time and the state) split it per species with the law
  scaled exactly (:mod:`fentonsim.sbml.stoichiometry`).
- **Assignment rules** to species or parameters not used by any kinetic law
  become observables (derived outputs); initial values follow them. Outputs
  also report, constant over time, rules that reduce to a number, global
  parameters, compartment sizes and boundary or constant species, all in the
  model's units (a species as its symbol's value: amount or concentration).
- **rateOf** (L3V2) of species, parameters and compartments, as the right-hand
  side it stands for (:mod:`fentonsim.sbml.rates`).
- **Algebraic rules** that are exactly solvable (linear in the variable each determines, with a constant
  coefficient, and the variables paired with the rules uniquely): the assignment rules they are equivalent
  to (:mod:`fentonsim.sbml.algebraic`); others are refused.
- **Events** without delay whose trigger is ``time >= T`` (or ``>``, ``<=``,
  ``<`` the other way round) with T > 0 a constant, assigning species a
  non-negative constant (an :class:`~fentonsim.inputs.Assignment`) or
  ``X + constant`` (a :class:`~fentonsim.inputs.Bolus`). Events firing at the
  same time execute in SBML's order, highest constant ``priority`` first;
  where their order would change the result and is left to chance (equal or
  missing priorities) or to the state, the model is refused.
- At least one species that reactions change (an integrated state).

Units: values are converted to fentonsim's M, s and L from the model's
substance (mole, item or scaled mole), volume and time units; a model without
units is read as mole, litre, second. A model in items (molecule counts) is
flagged ``counts``: results report counts, and its ODE absolute tolerance is
10⁻⁶ molecules.

Stochastic semantics (one compartment: the SSA counts molecules in one volume)
follow the SBML test suite: species are amounts and the
propensity is the kinetic law evaluated on them. With the law K·Π q_i^ν_i
(q_i the symbol's value: an amount, or a concentration amount/V), the rate
constant in fentonsim's convention is k = K·(s/(V·t_u))·Π (V·g_i/s)^ν_i with s
the moles per model substance unit, V the volume [L], t_u the seconds per
model time unit and g_i 1 for amounts, 1/V_model for concentrations; for
counts (s = 1/N_A) the SSA propensity c = k·(N_A V)^(1−order) is then exactly
the law evaluated on counts.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from ..constants import AVOGADRO, STANDARD_TEMPERATURE
from ..errors import MechanismError
from ..expression import affine, evaluate, num, op, substitute, sym, symbols, to_text
from ..inputs import Assignment, Bolus
from ..mechanism.schema import (Branch, Compartment, Defaults, Location, Mechanism, Observable, RateLaw, Reaction,
                                Species, StateEvent)
from .algebraic import AlgebraicRefusal, candidates, check_coefficient
from .algebraic import solve as solve_rules
from .compartments import VaryingSizes, check_sizes, described, read_layout
from .compartments import replace_all as _replace_all
from .mathless import drop as drop_mathless
from .rates import define as define_rates
from .rates import local_values, rate_symbol
from .stoichiometry import add, is_varying, net_change, reference, stoichiometry

MAX_ORDER = 3
#: Value of the `avogadro` csymbol fixed by the SBML Level 3 specifications.
SBML_AVOGADRO = 6.02214179e23
COUNT_ATOL = 1e-6  # molecules


class SBMLError(MechanismError):
    """An SBML file cannot be read, or uses a construct fentonsim does not simulate."""


def _libsbml():
    try:
        import libsbml
    except ImportError:  # pragma: no cover - depends on the environment
        raise SBMLError("reading SBML needs python-libsbml; install it with `pip install \"fentonsim[sbml]\"`") \
            from None
    return libsbml


# ----------------------------------------------------------------------------- math


def _ast_to_expr(node, lib, where):
    """A fentonsim.expression tree from a libsbml AST node (``where`` names the element for errors)."""
    t = node.getType()
    children = [node.getChild(i) for i in range(node.getNumChildren())]
    if t in (lib.AST_INTEGER, lib.AST_REAL, lib.AST_REAL_E, lib.AST_RATIONAL):
        return num(node.getValue())
    if t == lib.AST_NAME:
        return sym(node.getName())
    if t == lib.AST_NAME_TIME:
        return sym("time")
    if t == lib.AST_FUNCTION_RATE_OF and len(children) == 1 and children[0].getType() == lib.AST_NAME:
        return sym(rate_symbol(children[0].getName()))  # defined from the model's right-hand sides (sbml.rates)
    if t == lib.AST_NAME_AVOGADRO:
        # The csymbol's value as SBML Level 3 defines it (CODATA 2006), not the 2019 SI constant.
        return num(SBML_AVOGADRO)
    if t == lib.AST_CONSTANT_E:
        return num(math.e)
    if t == lib.AST_CONSTANT_PI:
        return num(math.pi)
    simple = {lib.AST_PLUS: "plus", lib.AST_MINUS: "minus", lib.AST_TIMES: "times", lib.AST_DIVIDE: "divide",
              lib.AST_POWER: "power", lib.AST_FUNCTION_POWER: "power", lib.AST_FUNCTION_EXP: "exp",
              lib.AST_FUNCTION_LN: "ln", lib.AST_FUNCTION_ABS: "abs"}
    args = [_ast_to_expr(c, lib, where) for c in children]
    if t in simple:
        if t == lib.AST_PLUS and not args:
            return num(0.0)
        if t == lib.AST_TIMES and not args:
            return num(1.0)
        return op(simple[t], *args)
    if t == lib.AST_FUNCTION_LOG:
        # log with one child is base 10; with two the first is the base.
        if len(args) == 1:
            return op("log10", args[0])
        return op("divide", op("ln", args[1]), op("ln", args[0]))
    if t == lib.AST_FUNCTION_ROOT:
        if len(args) == 1:
            return op("sqrt", args[0])
        return op("power", args[1], op("divide", num(1.0), args[0]))
    relational = {lib.AST_RELATIONAL_GEQ: "geq", lib.AST_RELATIONAL_GT: "gt", lib.AST_RELATIONAL_LEQ: "leq",
                  lib.AST_RELATIONAL_LT: "lt", lib.AST_RELATIONAL_EQ: "eq", lib.AST_RELATIONAL_NEQ: "neq"}
    if t in relational and len(args) == 2:
        return ("rel", relational[t], tuple(args))
    if t in relational and len(args) > 2:
        # a < b < c: every neighbouring pair holds.
        return op("and", *(("rel", relational[t], (args[i], args[i + 1])) for i in range(len(args) - 1)))
    if t == lib.AST_CONSTANT_TRUE:
        return num(1.0)
    if t == lib.AST_CONSTANT_FALSE:
        return num(0.0)
    if t == lib.AST_FUNCTION_PIECEWISE and args:
        return op("piecewise", *args)
    logical = {lib.AST_LOGICAL_AND: "and", lib.AST_LOGICAL_OR: "or", lib.AST_LOGICAL_XOR: "xor"}
    if t in logical:
        if not args:
            return num(1.0 if t == lib.AST_LOGICAL_AND else 0.0)
        return op(logical[t], *args)
    if t == lib.AST_LOGICAL_NOT and len(args) == 1:
        return op("not", args[0])
    functions = {lib.AST_FUNCTION_FLOOR: "floor", lib.AST_FUNCTION_CEILING: "ceil",
                 lib.AST_FUNCTION_FACTORIAL: "factorial", lib.AST_FUNCTION_SIN: "sin", lib.AST_FUNCTION_COS: "cos",
                 lib.AST_FUNCTION_TAN: "tan", lib.AST_FUNCTION_SINH: "sinh", lib.AST_FUNCTION_COSH: "cosh",
                 lib.AST_FUNCTION_TANH: "tanh", lib.AST_FUNCTION_ARCSIN: "arcsin", lib.AST_FUNCTION_ARCCOS: "arccos",
                 lib.AST_FUNCTION_ARCTAN: "arctan", lib.AST_FUNCTION_ARCSINH: "arcsinh",
                 lib.AST_FUNCTION_ARCCOSH: "arccosh", lib.AST_FUNCTION_ARCTANH: "arctanh"}
    if t in functions and len(args) == 1:
        return op(functions[t], args[0])
    # The reciprocal functions, written with the base ones.
    reciprocal = {lib.AST_FUNCTION_SEC: ("cos", False), lib.AST_FUNCTION_CSC: ("sin", False),
                  lib.AST_FUNCTION_COT: ("tan", False), lib.AST_FUNCTION_SECH: ("cosh", False),
                  lib.AST_FUNCTION_CSCH: ("sinh", False), lib.AST_FUNCTION_COTH: ("tanh", False),
                  lib.AST_FUNCTION_ARCSEC: ("arccos", True), lib.AST_FUNCTION_ARCCSC: ("arcsin", True),
                  lib.AST_FUNCTION_ARCCOT: ("arctan", True), lib.AST_FUNCTION_ARCSECH: ("arccosh", True),
                  lib.AST_FUNCTION_ARCCSCH: ("arcsinh", True), lib.AST_FUNCTION_ARCCOTH: ("arctanh", True)}
    if t in reciprocal and len(args) == 1:
        base, inverse = reciprocal[t]
        if inverse:  # arcsec(x) = arccos(1/x)
            return op(base, op("divide", num(1.0), args[0]))
        return op("divide", num(1.0), op(base, args[0]))
    extrema = {getattr(lib, "AST_FUNCTION_MAX", None): "max", getattr(lib, "AST_FUNCTION_MIN", None): "min"}
    if t in extrema and t is not None and args:
        return op(extrema[t], *args)
    if t in (getattr(lib, "AST_FUNCTION_QUOTIENT", None), getattr(lib, "AST_FUNCTION_REM", None)) \
            and t is not None and len(args) == 2:
        # L3V2 integer division: the quotient truncated toward zero (from floor, ceiling and piecewise, which
        # the kernels already run), the remainder with the dividend's sign, exactly (C's fmod): quotient(-9, 2)
        # = -4, rem(-9, 2) = -1, rem(1, 0.1) = 0.09999999999999995, as libRoadRunner computes them.
        if t == lib.AST_FUNCTION_REM:
            return op("rem", *args)
        ratio = op("divide", args[0], args[1])
        return op("piecewise", op("floor", ratio), ("rel", "geq", (ratio, num(0.0))), op("ceil", ratio))
    formula = lib.formulaToL3String(node) or node.getName() or "?"
    raise SBMLError(f"{where} uses `{formula}`, which fentonsim does not support (supported: numbers, names, "
                    "+ - * /, power, exp, ln, log, root, abs, floor, ceiling, factorial, quotient, rem, trigonometric "
                    "and hyperbolic functions and their inverses, min, max, piecewise, relations and logic)")


# ----------------------------------------------------------------------------- limits

# libsbml, the function-definition expansion and the tree walks here all recurse, so hostile nesting
# would crash the interpreter (a segfault, not an exception) before any message could be written. The
# limits are checked first, by loops, and sit far above any model fentonsim can simulate.

#: Deepest nesting of elements in the file; libsbml builds its math trees recursively.
MAX_XML_DEPTH = 1000
#: Deepest math tree, before and after function definitions are expanded.
MAX_MATH_DEPTH = 200
#: Largest math tree once function definitions and assignment rules are expanded: f(f(f(…))) with f
#: using its argument twice doubles at every call, the math form of XML's billion laughs.
MAX_MATH_NODES = 100_000
#: Largest stoichiometry read: generous for any chemistry, and far inside the int64 stoichiometry arrays
#: downstream (1e300 molecules per event would overflow them).
MAX_STOICHIOMETRY = 10 ** 6


def _check_xml(path):
    """Refuse entity declarations and runaway nesting before libsbml parses ``path``.

    Entities are how XML reads local files (external entities) or multiplies a few bytes into gigabytes
    (nested internal ones); SBML never needs them, so any declaration is refused rather than resolved.
    A file that is not well-formed is left to libsbml, which says why.
    """
    from xml.parsers import expat

    parser = expat.ParserCreate()
    depth = [0]

    class Refused(Exception):
        pass

    def start(name, attributes):
        depth[0] += 1
        if depth[0] > MAX_XML_DEPTH:
            raise Refused(f"elements are nested more than {MAX_XML_DEPTH} deep (at <{name}>); expected SBML "
                          "of sane depth", parser.CurrentLineNumber)

    def end(name):
        depth[0] -= 1

    def entity(name, is_parameter, value, base, system_id, public_id, notation):
        kind = "an external" if system_id or public_id else "an internal"
        raise Refused(f"declares {kind} XML entity `{name}`; expected SBML without entity declarations "
                      "(they are refused: they can read local files or expand without bound)",
                      parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.EntityDeclHandler = entity
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        with open(path, "rb") as handle:
            parser.ParseFile(handle)
    except Refused as exc:
        raise SBMLError(exc.args[0], str(path), exc.args[1]) from None
    except (expat.ExpatError, ValueError):
        return  # not well-formed: libsbml reports it
    except OSError as exc:
        raise SBMLError(f"cannot read the file: {exc.strerror or exc}", str(path)) from None


def _math_depth(node):
    """Depth of a libsbml AST, by an explicit stack (recursion is what hostile input exploits)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        node, depth = stack.pop()
        if node is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_MATH_DEPTH:
            return deepest
        stack.extend((node.getChild(i), depth + 1) for i in range(node.getNumChildren()))
    return deepest


def _element_name(element):
    kind = element.getElementName()
    owner = element.getParentSBMLObject()
    ident = element.getId() if element.isSetId() else ""
    if not ident and owner is not None and owner.isSetId() and not owner.getElementName().startswith("listOf"):
        return f"{kind} of {owner.getElementName()} `{owner.getId()}`"
    if not ident and hasattr(element, "getVariable") and element.getVariable():
        return f"{kind} for `{element.getVariable()}`"
    if not ident and hasattr(element, "getSymbol") and element.getSymbol():
        return f"{kind} for `{element.getSymbol()}`"
    return f"{kind} `{ident}`" if ident else kind


def _check_math(doc, path, lib):
    """Refuse math too deep to walk, recursive function definitions and expansions that explode."""
    def refuse(message, element):
        raise SBMLError(message, str(path), element.getLine() or None)

    with_math = [e for e in doc.getListOfAllElements() if hasattr(e, "isSetMath") and e.isSetMath()]
    for element in with_math:
        depth = _math_depth(element.getMath())
        if depth > MAX_MATH_DEPTH:
            refuse(f"math of {_element_name(element)} is nested more than {MAX_MATH_DEPTH} levels deep; "
                   f"expected at most {MAX_MATH_DEPTH}", element)
    model = doc.getModel()
    functions = {model.getFunctionDefinition(i).getId(): model.getFunctionDefinition(i)
                 for i in range(model.getNumFunctionDefinitions())}
    if not functions:
        return

    def calls(node):
        found, stack = set(), [node]
        while stack:
            node = stack.pop()
            if node is None:
                continue
            if node.getType() == lib.AST_FUNCTION and node.getName() in functions:
                found.add(node.getName())
            stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
        return found

    # Kahn's algorithm: definitions left over after peeling off those whose callees are done form cycles.
    callees = {fid: calls(fd.getMath()) for fid, fd in functions.items()}
    order, done = [], set()
    ready = [fid for fid, called in callees.items() if not called]
    while ready:
        fid = ready.pop()
        order.append(fid)
        done.add(fid)
        ready.extend(f for f, called in callees.items() if f not in done and f not in ready and called <= done)
    cyclic = [fid for fid in functions if fid not in done]
    if cyclic:
        # Name a cycle, not just everything downstream of one: follow calls among the cyclic ones.
        path_ids, fid = [], cyclic[0]
        while fid not in path_ids:
            path_ids.append(fid)
            fid = sorted(callees[fid] & set(cyclic))[0]
        loop = path_ids[path_ids.index(fid):] + [fid]
        described = "calls itself" if len(loop) == 2 else "is recursive: " + " -> ".join(loop)
        refuse(f"function definition `{loop[0]}` {described}; expected function definitions that end "
               "(SBML forbids recursion)", functions[loop[0]])

    # Per definition: expanded node count, depth, and per argument how often and how deep it occurs.
    stats = {}

    def measure(node, params, element):
        t = node.getType()
        if t == lib.AST_NAME and node.getName() in params:
            name = node.getName()
            return 1, 1, {name: 1}, {name: 1}
        children = [measure(node.getChild(i), params, element) for i in range(node.getNumChildren())]
        if t == lib.AST_FUNCTION and node.getName() not in stats:
            refuse(f"{_element_name(element)} calls `{node.getName()}`, which is not a function definition of "
                   "the model (or is defined after its use); expected a defined function", element)
        if t == lib.AST_FUNCTION:
            if stats[node.getName()] is None:
                refuse(f"{_element_name(element)} calls `{node.getName()}`, whose function definition has no "
                       "body; expected a lambda", element)
            size, depth, arg_count, arg_depth, arity = stats[node.getName()]
            if len(children) != arity:
                refuse(f"{_element_name(element)} calls `{node.getName()}` with {len(children)} arguments; "
                       f"expected {arity}", element)
            total, deepest, occurs, reach = size, depth, {}, {}
            for i, (c_size, c_depth, c_occurs, c_reach) in enumerate(children):
                n, d = arg_count.get(i, 0), arg_depth.get(i, 0)
                if not n:
                    continue
                total += n * (c_size - 1)
                deepest = max(deepest, d - 1 + c_depth)
                for name, count in c_occurs.items():
                    occurs[name] = occurs.get(name, 0) + n * count
                    reach[name] = max(reach.get(name, 0), d - 1 + c_reach[name])
            return total, deepest, occurs, reach
        total, deepest, occurs, reach = 1, 1, {}, {}
        for c_size, c_depth, c_occurs, c_reach in children:
            total += c_size
            deepest = max(deepest, 1 + c_depth)
            for name, count in c_occurs.items():
                occurs[name] = occurs.get(name, 0) + count
                reach[name] = max(reach.get(name, 0), 1 + c_reach[name])
        return total, deepest, occurs, reach

    def check(element, size, depth):
        if depth > MAX_MATH_DEPTH or size > MAX_MATH_NODES:
            refuse(f"math of {_element_name(element)} expands (function definitions inlined) to "
                   f"{size} terms nested {depth} deep; expected at most {MAX_MATH_NODES} terms and "
                   f"{MAX_MATH_DEPTH} levels", element)

    for fid in order:
        fd = functions[fid]
        if not fd.isSetMath() or fd.getBody() is None:
            stats[fid] = None  # allowed in L3V2 while nothing calls it
            continue
        params = [fd.getArgument(i).getName() for i in range(fd.getNumArguments())]
        size, depth, occurs, reach = measure(fd.getBody(), set(params), fd)
        check(fd, size, depth)
        stats[fid] = (size, depth, {i: occurs.get(p, 0) for i, p in enumerate(params)},
                      {i: reach.get(p, 0) for i, p in enumerate(params)}, len(params))
    for element in with_math:
        if element.getElementName() != "functionDefinition":
            size, depth, _, _ = measure(element.getMath(), set(), element)
            check(element, size, depth)


# ----------------------------------------------------------------------------- units

_KIND_FACTORS = {  # unit kind -> (dimension, factor to mol, L or s)
    "mole": ("substance", 1.0), "item": ("substance", 1.0 / AVOGADRO),
    "litre": ("volume", 1.0), "liter": ("volume", 1.0), "second": ("time", 1.0),
}


#: Level 2's predefined unit ids and what they mean until a unitDefinition of the same id redefines them
#: (L2V4 §4.4.3); area and length are only here so that a wrong use names the right dimension.
_L2_PREDEFINED = {"substance": ("substance", 1.0), "volume": ("volume", 1.0), "time": ("time", 1.0),
                  "area": ("area", 1.0), "length": ("length", 1.0)}


def _unit_factor(model, unit_id, dimension, lib, where):
    """Factor converting one ``unit_id`` of ``dimension`` to mol, L or s (None when unset)."""
    if not unit_id:
        return None
    definition = model.getUnitDefinition(unit_id)
    builtin = _KIND_FACTORS.get(unit_id) or (
        _L2_PREDEFINED.get(unit_id) if model.getLevel() == 2 and definition is None else None)
    if builtin is not None:
        kind_dimension, factor = builtin
        if kind_dimension == dimension:
            return factor
    if definition is not None:
        factor, dims = 1.0, {}
        for i in range(definition.getNumUnits()):
            unit = definition.getUnit(i)
            kind = lib.UnitKind_toString(unit.getKind())
            exponent = unit.getExponentAsDouble()
            base = unit.getMultiplier() * 10.0 ** unit.getScale()
            if kind in _KIND_FACTORS:
                d, f = _KIND_FACTORS[kind]
                dims[d] = dims.get(d, 0.0) + exponent
                factor *= (base * f) ** exponent
            elif kind == "metre":
                dims["volume"] = dims.get("volume", 0.0) + exponent / 3.0
                factor *= (base * 10.0) ** exponent  # 1 m = 10 dm, and 1 dm³ = 1 L
            elif kind == "dimensionless":
                factor *= base ** exponent
            else:
                dims[kind] = exponent
        if {k: v for k, v in dims.items() if v} == {dimension: 1.0}:
            return factor
    raise SBMLError(f"{where}: unit `{unit_id}` is not a {dimension} unit fentonsim can convert "
                    f"(expected {'mole or item' if dimension == 'substance' else 'litre or metre^3' if dimension == 'volume' else 'second'}, "
                    "possibly scaled)")


# ----------------------------------------------------------------------------- the model


class _Reader(VaryingSizes):
    """One pass over a libsbml Model, collecting a Mechanism."""

    def __init__(self, doc, path, lib):
        self.lib = lib
        self.path = str(path)
        self.model = doc.getModel()
        self.warnings = []

    def error(self, message, element=None):
        line = element.getLine() if element is not None and element.getLine() > 0 else None
        return SBMLError(message, self.path, line)

    def arithmetic(self, compute, where, expr, element):
        """``compute()``, with arithmetic gone wrong on the model's numbers (k/0, 10^400, ln(-1)) refused."""
        try:
            with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
                return compute()
        except (ArithmeticError, ValueError, TypeError) as exc:
            text = to_text(expr)
            text = text if len(text) <= 120 else text[:117] + "..."
            reason = "division by zero" if isinstance(exc, ZeroDivisionError) else (
                str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise self.error(f"{where} ({text}) cannot be evaluated: {reason}; expected finite arithmetic",
                             element) from None

    def where(self, element, kind):
        return f"{kind} `{element.getId()}`" if element.getId() else kind

    def math(self, element, kind):
        if not element.isSetMath():
            raise self.error(f"{self.where(element, kind)} has no math", element)
        try:
            return _ast_to_expr(element.getMath(), self.lib, self.where(element, kind))
        except SBMLError as exc:
            raise self.error(exc.message, element) from None

    # -- units and compartment

    def unit_factor(self, unit_id, dimension, where, element):
        """:func:`_unit_factor`, its refusal located at ``element``'s line."""
        try:
            return _unit_factor(self.model, unit_id, dimension, self.lib, where)
        except SBMLError as exc:
            raise self.error(exc.message, element) from None

    def read_units(self):
        m = self.model
        self.substance = self.unit_factor(m.getSubstanceUnits() if m.isSetSubstanceUnits() else "", "substance",
                                          "model substanceUnits", m)
        if self.model.getLevel() == 2:
            self.substance = self.unit_factor("substance", "substance", "model", m) if \
                m.getUnitDefinition("substance") is not None else 1.0
        extent = self.unit_factor(m.getExtentUnits(), "substance", "model extentUnits", m) \
            if m.getLevel() == 3 and m.isSetExtentUnits() else None
        if self.substance is None:
            self.substance = extent if extent is not None else 1.0
            if extent is None and not any(m.getSpecies(i).isSetSubstanceUnits() for i in range(m.getNumSpecies())):
                self.warnings.append(f"{self.path}: warning: no substance units; read as mole")
        if extent is not None and not math.isclose(extent, self.substance, rel_tol=1e-12):
            raise self.error("model extentUnits differ from substanceUnits; conversion factors are not supported",
                             m)
        time_unit = m.getTimeUnits() if m.getLevel() == 3 and m.isSetTimeUnits() else (
            "time" if m.getUnitDefinition("time") is not None else "")
        self.time_factor = self.unit_factor(time_unit, "time", "model timeUnits", m) or 1.0
        self.volume_unit = m.getVolumeUnits() if m.getLevel() == 3 and m.isSetVolumeUnits() else (
            "volume" if m.getUnitDefinition("volume") is not None else "")
        declared = {self.unit_factor(m.getSpecies(i).getSubstanceUnits(), "substance",
                                     f"species `{m.getSpecies(i).getId()}`", m.getSpecies(i))
                    for i in range(m.getNumSpecies()) if m.getSpecies(i).isSetSubstanceUnits()} - {None}
        if len(declared) == 1 and (m.getLevel() == 2 or not m.isSetSubstanceUnits()):
            self.substance = declared.pop()  # every species says it, the model-wide default does not
        for i in range(m.getNumSpecies()):
            s = m.getSpecies(i)
            if s.isSetSubstanceUnits() and s.getSubstanceUnits():
                factor = self.unit_factor(s.getSubstanceUnits(), "substance", f"species `{s.getId()}`", s)
                if not math.isclose(factor, self.substance, rel_tol=1e-12):
                    raise self.error(f"species `{s.getId()}` has substance units `{s.getSubstanceUnits()}`, "
                                     "unlike the model; mixed substance units are not supported", s)
        # Conversion factors (Level 3): parameter ids, resolved to numbers once the constants are known.
        self.conversion_ids = {}
        if m.getLevel() == 3:
            default = m.getConversionFactor() if m.isSetConversionFactor() else None
            for i in range(m.getNumSpecies()):
                s = m.getSpecies(i)
                cf = s.getConversionFactor() if s.isSetConversionFactor() else default
                if cf:
                    self.conversion_ids[s.getId()] = (cf, s if s.isSetConversionFactor() else m)

    def read_compartment(self, used_symbols):
        m = self.model
        if m.getNumCompartments() == 0:
            if m.getNumSpecies():
                raise self.error("the model has no compartment; species need one", m)
        # Where each species lives, and which compartments' sizes are known (sbml/compartments.py).
        self.layout = read_layout(self, used_symbols)
        self.compartment_id = self.layout.main
        self.volume_factor = self.layout.factor.get(self.compartment_id, 1.0)

    def compartment_of(self, species):
        return self.layout.of_species[species.getId()]

    def amounts(self, species):
        """Whether ``species``' symbol is its amount (hasOnlySubstanceUnits, or a species of a point)."""
        return species.getHasOnlySubstanceUnits() or self.compartment_of(species) in self.layout.amounts

    def size_of(self, species):
        """Size of ``species``' compartment, model units."""
        return self.values[self.compartment_of(species)]

    def volume_of(self, species):
        """Volume [L] of ``species``' compartment."""
        cid = self.compartment_of(species)
        return self.values[cid] * self.layout.factor[cid]

    def reaction_volume(self, reactants, products):
        """Volume [L] of the one compartment size the species a reaction changes live in; None when they
        span compartments of different sizes (the reaction then moves matter: scaled_reactions)."""
        changed = {sid for sid in set(reactants) | set(products)
                   if sid in self.state_species and reactants.get(sid, 0) != products.get(sid, 0)}
        volumes = {self.volume_of(self.by_id[sid]) for sid in changed}
        if len(volumes) > 1 or any(self.in_varying(self.by_id[sid]) for sid in changed):
            return None
        return volumes.pop() if volumes else self.volume_L

    # -- values

    def collect(self):
        m = self.model
        self.read_units()
        rules, self.rule_elements = {}, {}
        self.rate_rules, self.rate_rule_elements = {}, {}
        algebraic, self.algebraic_coefficients = [], {}
        for i in range(m.getNumRules()):
            rule = m.getRule(i)
            if rule.isAssignment():
                rules[rule.getVariable()] = self.math(rule, f"assignment rule for `{rule.getVariable()}`")
                self.rule_elements[rule.getVariable()] = rule
            elif rule.isRate():
                self.rate_rules[rule.getVariable()] = self.math(rule, f"rate rule for `{rule.getVariable()}`")
                self.rate_rule_elements[rule.getVariable()] = rule
            elif rule.isSetMath():  # an algebraic rule without math says nothing (L3V2 allows it)
                algebraic.append(rule)
        self.rules = rules
        if algebraic:
            self.solve_algebraic(algebraic)
        self.laws = {}  # reaction id -> kinetic law, parsed once
        for i in range(m.getNumReactions()):
            reaction = m.getReaction(i)
            if reaction.isSetKineticLaw() and reaction.getKineticLaw().isSetMath():
                self.laws[reaction.getId()] = self.math(reaction.getKineticLaw(),
                                                        f"kinetic law of reaction `{reaction.getId()}`")
        self.derived = define_rates(self, self.lib)
        used = set().union(*(symbols(expr) for expr in self.laws.values()))
        for expr in list(rules.values()) + list(self.rate_rules.values()):
            used |= symbols(expr)
        self.read_compartment(used)

        # Initial values in model units: parameters, compartment, species symbols (amount or concentration).
        values = {}
        for i in range(m.getNumParameters()):
            p = m.getParameter(i)
            if p.isSetValue():
                values[p.getId()] = p.getValue()
        # Compartment sizes: attributes, 1 for those whose species are amounts (sbml/compartments.py), and
        # whatever initial assignments give below.
        for i in range(m.getNumCompartments()):
            compartment = m.getCompartment(i)
            if compartment.isSetSize():
                values[compartment.getId()] = compartment.getSize()
            elif compartment.getId() in self.layout.amounts:
                values[compartment.getId()] = 1.0
        self.species = [m.getSpecies(i) for i in range(m.getNumSpecies())]
        initial_assignments = {}
        for i in range(m.getNumInitialAssignments()):
            ia = m.getInitialAssignment(i)
            initial_assignments[ia.getSymbol()] = (self.math(ia, f"initial assignment to `{ia.getSymbol()}`"), ia)
        # Sizes known now are checked before species values divide by them.
        check_sizes(self, self.layout, values, skip=set(initial_assignments) | set(rules))
        # A species' symbol from its initial amount or concentration: a formula of its compartment's size,
        # evaluated with the rules and initial assignments (which may set that size).
        from_attributes = {}
        for s in self.species:
            cid, amounts = self.compartment_of(s), self.amounts(s)
            if s.isSetInitialAmount():
                value = num(s.getInitialAmount())
                from_attributes[s.getId()] = (value if amounts else op("divide", value, sym(cid)), s)
            elif s.isSetInitialConcentration():
                value = num(s.getInitialConcentration())
                from_attributes[s.getId()] = (op("times", value, sym(cid)) if amounts else value, s)
        # Level 3 stoichiometries of species references with an id: symbols whose values initial
        # assignments may set (and outputs may report).
        if m.getLevel() == 3:
            for ref in self.species_references():
                if ref.isSetId() and ref.isSetStoichiometry():
                    values[ref.getId()] = ref.getStoichiometry()
        pending = {**from_attributes, **{k: (e, self.rule_elements[k]) for k, e in rules.items()},
                   **initial_assignments}
        # Rules and initial assignments may refer to each other: evaluate until nothing changes.
        for _ in range(len(pending) + 1):
            progressed = False
            for name, (expr, element) in list(pending.items()):
                needed = symbols(expr) - {"time"}
                # A symbol whose own rule or initial assignment is still pending has only its attribute value
                # so far, which that assignment overrides: wait for it.
                if needed <= set(values) and not needed & set(pending):
                    where = f"the initial value of `{name}`"
                    values[name] = float(self.arithmetic(lambda: evaluate(substitute(expr, {"time": 0.0}), values),
                                                         where, expr, element))
                    del pending[name]
                    progressed = True
            if not progressed:
                break
        for name, (expr, element) in pending.items():
            missing = sorted(symbols(expr) - set(values) - {"time"})
            raise self.error(f"the value of `{name}` depends on undefined or circular ids: {', '.join(missing)}",
                             element)
        for s in self.species:
            if s.getId() not in values:
                raise self.error(f"species `{s.getId()}` has no initial amount or concentration", s)
            if not math.isfinite(values[s.getId()]):
                raise self.error(f"species `{s.getId()}` starts at {values[s.getId()]}; expected a finite initial "
                                 "amount or concentration", s)
        self.values = values
        # Species are called by their SBML names when every species has a distinct one (as fentonsim's own
        # exports do, so names survive a round trip), else by their ids.
        names = [s.getName() for s in self.species]
        use_names = all(names) and len(set(names)) == len(names) and not (set(names) & (set(values) - {
            s.getId() for s in self.species}))
        self.name_of = {s.getId(): (s.getName() if use_names else s.getId()) for s in self.species}
        check_sizes(self, self.layout, values)
        # The reference volume [L] (defaults.volume): the first compartment holding species, 1 L without one.
        self.size = values[self.compartment_id] if self.layout.holding else 1.0
        self.volume_L = self.size * self.volume_factor

        # Constants: parameters (global), the compartment, boundary/constant species, and rule variables
        # whose expressions reduce to numbers.
        self.parameter_states = self.rate_rule_targets() | self.event_parameters()
        self.state_species = {s.getId() for s in self.species
                              if (not (s.getBoundaryCondition() or s.getConstant()) and s.getId() not in rules)
                              or s.getId() in self.rate_rules} | self.event_boundary_species()
        self.constants = {k: v for k, v in values.items()
                          if k not in self.state_species and k not in self.parameter_states}
        for name, expr in rules.items():
            if symbols(self.expand(expr, f"assignment rule for `{name}`", self.rule_elements[name])) & (
                    self.state_species | self.parameter_states | {"time"}):
                del self.constants[name]
        events_touch = set()
        for i in range(m.getNumEvents()):
            ev = m.getEvent(i)
            for j in range(ev.getNumEventAssignments()):
                events_touch.add(ev.getEventAssignment(j).getVariable())
        for name in events_touch - self.state_species:
            self.constants.pop(name, None)
        for name in self.clamped_varying():
            self.constants.pop(name, None)
        for name, (coefficient, element) in self.algebraic_coefficients.items():
            reason = check_coefficient(name, coefficient, self.constants)
            if reason is not None:
                raise self.error(f"algebraic rule for `{name}`: {reason}; not supported", element)
        self.conversion = {}
        for sid, (cf, element) in self.conversion_ids.items():
            if cf not in self.constants or not math.isfinite(self.constants[cf]):
                raise self.error(f"conversion factor `{cf}` of species `{sid}` is not a constant parameter with a "
                                 "finite value; not supported", element)
            self.conversion[sid] = float(self.constants[cf])

    def solve_algebraic(self, elements):
        """Algebraic rules as the assignment rules they are equivalent to (fentonsim.sbml.algebraic), added to
        ``self.rules``; their coefficients are checked once the constants are known (:meth:`collect`)."""
        m = self.model
        exprs = [self.expand(self.math(rule, "algebraic rule"), "algebraic rule", rule) for rule in elements]
        allowed = candidates(m, set(self.rules) | set(self.rate_rules))
        try:
            solved = solve_rules(exprs, allowed)
        except AlgebraicRefusal as refusal:
            raise self.error(refusal.message, elements[refusal.index]) from None
        assigned = {m.getEvent(i).getEventAssignment(j).getVariable(): m.getEvent(i)
                    for i in range(m.getNumEvents()) for j in range(m.getEvent(i).getNumEventAssignments())}
        for name, (formula, coefficient, index) in solved.items():
            element = elements[index]
            if name in assigned:
                raise self.error(f"algebraic rule for `{name}`: an event also assigns `{name}`; a variable an "
                                 "algebraic rule determines cannot jump", assigned[name])
            if m.getInitialAssignment(name) is not None:
                raise self.error(f"algebraic rule for `{name}`: an initial assignment also sets `{name}`, which "
                                 "the rule already fixes at t0", m.getInitialAssignment(name))
            self.rules[name] = formula
            self.rule_elements[name] = element
            self.algebraic_coefficients[name] = (coefficient, element)
        self.__dict__.pop("_expanded", None)  # expansions made before these rules existed are stale

    def rate_rule_targets(self):
        """The parameters that rate rules drive (they become state variables); rate rules on anything but a
        species or a parameter, and rate rules on a species that reactions also change, are refused."""
        m = self.model
        parameters = set()
        in_reactions = {ref.getSpecies() for ref in self.species_references()}
        for var, rule in self.rate_rule_elements.items():
            species = m.getSpecies(var)
            if species is not None:
                if species.getConstant():
                    raise self.error(f"rate rule for `{var}`: the species is constant", rule)
                if var in in_reactions:
                    raise self.error(f"rate rule for `{var}`: the species also takes part in reactions; a "
                                     "boundary species with a rate rule in a reaction is not supported", rule)
            elif m.getCompartment(var) is not None and var in self.values:
                parameters.add(var)  # a varying size (sbml/compartments.py)
            elif m.getParameter(var) is not None or reference(m, var) is not None:
                # A parameter, or a species reference's stoichiometry (fentonsim.sbml.stoichiometry).
                kind = "parameter" if m.getParameter(var) is not None else "species reference"
                if (m.getParameter(var) or reference(m, var)).getConstant():
                    raise self.error(f"rate rule for `{var}`: the {kind} is constant", rule)
                if var not in self.values:
                    raise self.error(f"rate rule for `{var}`: the {kind} has no initial value", rule)
                parameters.add(var)
            else:
                what = "a compartment (a varying size)" if m.getCompartment(var) is not None else "not a species " \
                    "or a parameter"
                raise self.error(f"rate rule for `{var}`: its variable is {what}; not supported", rule)
        return parameters

    def event_parameters(self):
        """Parameters and species references that events set (not constant, no rule): state variables that only
        events change."""
        m = self.model
        out = set()
        for i in range(m.getNumEvents()):
            ev = m.getEvent(i)
            for j in range(ev.getNumEventAssignments()):
                var = ev.getEventAssignment(j).getVariable()
                p = m.getParameter(var) or reference(m, var) or m.getCompartment(var)
                if p is not None and not p.getConstant() and var not in self.rules and var in self.values:
                    out.add(var)
        return out

    def event_boundary_species(self):
        """Boundary species (not constant, no rule) that events set: state variables that reactions read but,
        being boundary species, never change (build_reaction leaves them out of the stoichiometry)."""
        m = self.model
        targets = {m.getEvent(i).getEventAssignment(j).getVariable()
                   for i in range(m.getNumEvents()) for j in range(m.getEvent(i).getNumEventAssignments())}
        return {sid for sid in targets if m.getSpecies(sid) is not None and m.getSpecies(sid).getBoundaryCondition()
                and not m.getSpecies(sid).getConstant() and sid not in self.rules and sid not in self.rate_rules}

    def species_references(self):
        """Every reactant and product reference of every reaction (modifiers have no stoichiometry)."""
        m = self.model
        for i in range(m.getNumReactions()):
            r = m.getReaction(i)
            yield from (r.getReactant(j) for j in range(r.getNumReactants()))
            yield from (r.getProduct(j) for j in range(r.getNumProducts()))

    def expand(self, expr, where="a formula", element=None):
        """``expr`` with assignment-rule variables replaced by their formulas."""
        expr = _replace_all(expr, {name: self.expanded_rule(name) for name in symbols(expr) & set(self.rules)})
        self.check_extent(expr, where, element)
        return expr

    def expanded_rule(self, name, trail=()):
        """The formula of rule variable ``name`` with other rule variables replaced, built once.

        Expansions are shared, not copied, so y2 = y1 + y1, y3 = y2 + y2, … costs nothing to build;
        :meth:`check_extent` then refuses what it would cost to walk.
        """
        cache = self.__dict__.setdefault("_expanded", {})
        if name not in cache:
            if name in trail or len(trail) > 50:
                raise self.error("assignment rules refer to each other in a cycle" + (
                    f" ({' -> '.join(trail[trail.index(name):] + (name,))})" if name in trail else
                    " or a chain longer than 50"), self.rule_elements.get(name, self.model))
            body = self.rules[name]
            cache[name] = _replace_all(body, {n: self.expanded_rule(n, trail + (name,))
                                              for n in symbols(body) & set(self.rules)})
            self.check_extent(cache[name], f"assignment rule for `{name}`", self.rule_elements.get(name))
        return cache[name]

    def check_extent(self, expr, where, element):
        nodes, depth = _extent(expr)
        if nodes > MAX_MATH_NODES or depth > MAX_MATH_DEPTH:
            raise self.error(f"{where} expands (assignment rules substituted) to {nodes} terms nested {depth} "
                             f"deep; expected at most {MAX_MATH_NODES} terms and {MAX_MATH_DEPTH} levels",
                             element if element is not None else self.model)

    # -- species, reactions, rules, events

    def to_molar(self, species, value):
        """A species value in model units (amount, or concentration if not hasOnlySubstanceUnits) -> M."""
        amount = value if self.amounts(species) else value * self.size_of(species)
        return amount * self.substance / self.volume_of(species)

    def symbol_scale(self, species):
        """Factor from the species' concentration [M] to its symbol's value in model units."""
        amount_per_molar = self.volume_of(species) / self.substance
        return amount_per_molar if self.amounts(species) else amount_per_molar / self.size_of(species)

    def build_species(self):
        out = []
        self.by_id = {s.getId(): s for s in self.species}
        in_reactions = set()
        for i in range(self.model.getNumReactions()):
            r = self.model.getReaction(i)
            for j in range(r.getNumReactants()):
                in_reactions.add(r.getReactant(j).getSpecies())
            for j in range(r.getNumProducts()):
                in_reactions.add(r.getProduct(j).getSpecies())
        for s in self.species:
            if s.getId() in self.rules and s.getId() not in in_reactions:
                continue  # an assignment-rule species is an observable, not a clamped input
            concentration = self.to_molar(s, self.values[s.getId()])
            if not math.isfinite(concentration):
                raise self.error(f"species `{s.getId()}` starts at {self.values[s.getId()]:g} model units, "
                                 f"{concentration} M; expected a finite concentration", s)
            note = f"SBML species `{s.getId()}`" + (f" ({s.getName()})" if s.getName() else "")
            name = self.name_of[s.getId()]
            compartment = self.compartment_of(s) if self.layout.several else ""
            if s.getId() in self.state_species:
                out.append(Species(name, 0, (), note=note, location=Location(self.path, s.getLine() or None),
                                   compartment=compartment))
            else:
                out.append(Species(name, 0, (), buffered=float(concentration), note=note,
                                   location=Location(self.path, s.getLine() or None), compartment=compartment))
        return tuple(out)

    def build_reaction(self, reaction):
        m = self.model
        rid = reaction.getId()
        where = f"reaction `{rid}`"
        # `fast` exists in Level 2 and in L3V1 (L3V2 dropped it).
        if (m.getLevel() == 2 or m.getVersion() == 1) and reaction.isSetFast() and reaction.getFast():
            raise self.error(f"{where} is `fast`; fast reactions are not supported", reaction)
        if not reaction.isSetKineticLaw() or not reaction.getKineticLaw().isSetMath():
            raise self.error(f"{where} has no kinetic law", reaction)
        law = reaction.getKineticLaw()
        local = local_values(law)
        law_where = f"kinetic law of {where}"
        for pid, value in local.items():
            if not math.isfinite(value):
                raise self.error(f"{law_where}: local parameter `{pid}` is {value}; expected a finite number", law)
        # Local parameters shadow global ids, including assignment-rule variables: substituted before the
        # rules are expanded, or a rule would replace a local parameter of the same id.
        shadowed = self.arithmetic(lambda: substitute(self.laws[rid], local), law_where, self.laws[rid], law)
        expr = self.expand(shadowed, law_where, law)
        raw = expr
        expr = self.arithmetic(lambda: substitute(raw, {**self.constants, **local}), law_where, raw, law)

        def side(getter, count, role):
            terms = {}
            for i in range(count):
                ref = getter(i)
                sid = ref.getSpecies()
                if sid not in self.by_id:
                    raise self.error(f"{where} lists {role} `{sid}`, which is not a species of the model", reaction)
                nu = stoichiometry(self, ref, where, reaction)
                if is_varying(nu):  # changes during the run: the reaction is split per species
                    terms[sid] = add(terms.get(sid, 0), nu)
                    continue
                # NaN and inf fail every comparison but this one; int() of them would raise. A negative one
                # (SBML allows it: the species moves the other way) is exact in the per-species split below.
                if not (-MAX_STOICHIOMETRY <= nu <= MAX_STOICHIOMETRY):
                    raise self.error(f"{where}: stoichiometry of `{sid}` is {nu:g}; expected a finite number "
                                     f"from -{MAX_STOICHIOMETRY} to {MAX_STOICHIOMETRY}",
                                     ref if ref.getLine() else reaction)
                # Whole numbers stay ints (mass action, the SSA); others make the reaction a scaled one.
                terms[sid] = add(terms.get(sid, 0), int(nu) if nu == int(nu) else float(nu))
            return {k: v for k, v in terms.items() if is_varying(v) or v}

        reactants = side(reaction.getReactant, reaction.getNumReactants(), "reactant")
        products = side(reaction.getProduct, reaction.getNumProducts(), "product")
        for sid in set(reactants) | set(products):
            if sid in self.state_species and self.by_id[sid].getBoundaryCondition():
                # Set by events, read by the law, never changed by the reaction.
                reactants.pop(sid, None)
                products.pop(sid, None)
        involved = set(reactants) | set(products)
        if any(isinstance(v, (float, tuple)) or v < 0 for v in (*reactants.values(), *products.values())) or any(
                self.conversion.get(sid, 1.0) != 1.0 for sid in involved) or self.reaction_volume(
                reactants, products) is None:
            return self.scaled_reactions(reaction, where, law, expr, reactants, products)
        try:
            return (self.mass_action_reaction(reaction, where, law, expr, reactants, products),)
        except SBMLError as refusal:
            return (self.general_reaction(reaction, where, law, expr, reactants, products, refusal),)

    def scaled_reactions(self, reaction, where, law, expr, reactants, products):
        """A reaction whose stoichiometry is not whole, whose species have conversion factors, or whose species
        are in compartments of different sizes, as one general-law reaction per species it changes: species S
        changes at cf_S·(ν_S,products − ν_S,reactants)·L/V_S (SBML's rule; L in substance per time), so each is a
        unit change at that rate's magnitude (k ≥ 0, the sign in the direction). The law is kept exactly; the
        reaction's extent is split over its species (ids `<reaction>__<species>`). A stoichiometry that changes
        during the run (fentonsim.sbml.stoichiometry) multiplies the law instead, so the species' rate carries
        its sign; a compartment of varying size divides it by V(t) (sbml/compartments.py)."""
        rid = reaction.getId()
        refusal = self.error(f"kinetic law of {where} reads a value that is not known over time", law)
        probe = self.general_reaction(reaction, where, law, expr, {}, {}, refusal)  # law, units, finite check
        out = []
        for sid in sorted(set(reactants) | set(products)):
            if sid not in self.state_species:
                continue
            change = net_change(reactants, products, sid, self.conversion.get(sid, 1.0))
            law_of_species = probe.law
            described = None if is_varying(change) else f"{change:g}"
            if is_varying(change):
                # A stoichiometry that changes: the law times the change, produced at a signed rate.
                scaled = self.law_in_state_units(change, self.error(
                    f"{where}: the stoichiometry of `{sid}` reads a value that is not known over time", reaction))
                law_of_species, change, described = op("times", probe.law, scaled), 1.0, to_text(change)
            if change == 0:
                continue
            name = self.name_of[sid]
            pid = f"{rid}__{name}"
            unit = ((name, 1),)
            # The law is in substance per time; S's concentration changes by it over S's own volume.
            species = self.by_id[sid]
            if self.in_varying(species):  # ... of size V(t): k·L/V(t) (sbml/compartments.py)
                k = self.substance / (self.layout.factor[self.compartment_of(species)] * self.time_factor) \
                    * abs(change)
                law_of_species = op("divide", law_of_species, self.size_expr(self.compartment_of(species)))
            else:
                k = self.substance / (self.volume_of(species) * self.time_factor) * abs(change)
            if not math.isfinite(k):
                raise self.error(f"{where}: the change of `{sid}` per unit of reaction is {change}; expected a "
                                 "finite number", reaction)
            out.append(Reaction(id=pid, reactants=unit if change < 0 else (),
                                branches=(Branch(pid, () if change < 0 else unit),),
                                rate=RateLaw("constant", float(k), STANDARD_TEMPERATURE), duplicate=True,
                                note=f"SBML reaction `{rid}`: its change of `{sid}` ({described} × the law)",
                                law=law_of_species, law_checked=False,
                                location=Location(self.path, reaction.getLine() or None)))
        return tuple(out)

    def law_in_state_units(self, expr, refusal):
        """``expr`` (model units, constants substituted) with species symbols as scale·[X] [M] of the state,
        rate-rule parameters as their state variables and model time as t [s] / (s per model time unit);
        ``refusal`` is raised for any other symbol."""
        replacements = {}
        for name in symbols(expr):
            if name == "time":
                # The law reads model time, t_s / (seconds per model time unit).
                replacements[name] = sym("time") if self.time_factor == 1 else op(
                    "times", num(1.0 / self.time_factor), sym("time"))
            elif name in self.parameter_states:
                replacements[name] = sym(name)
            elif name in self.state_species:
                factor = self.symbol_factor(self.by_id[name])
                replacements[name] = sym(self.name_of[name]) if factor == num(1.0) else op(
                    "times", factor, sym(self.name_of[name]))
            elif name in self.by_id and name in self.values and name not in self.rules:
                # A boundary or constant species: clamped at its value (events on it are refused elsewhere).
                replacements[name] = self.clamped_symbol(self.by_id[name])
            else:
                raise refusal
        g = _replace_all(expr, replacements)
        # A law that is not finite at the start (k/0, a NaN or infinite parameter) would only fail later, in the
        # solver, without naming the element: refuse it here.
        start = {self.name_of.get(sid, sid): (float(self.values[sid]) if sid in self.parameter_states
                                              else self.to_molar(self.by_id[sid], self.values[sid]))
                 for sid in self.state_species | self.parameter_states}
        with np.errstate(all="ignore"):
            try:
                value = float(evaluate(g, {**start, "time": 0.0}))
            except (ArithmeticError, ValueError):
                value = math.nan
        if not math.isfinite(value):
            raise refusal
        return g

    def rate_rule_reaction(self, var, taken):
        """A rate rule dX/dt = f as a reaction producing X at r = k·f: k = 1/(scale·t_u) turns the model's
        symbol per time unit into the state's unit per second (scale 1 for a parameter)."""
        element = self.rate_rule_elements[var]
        where = f"rate rule for `{var}`"
        expr = self.expand(self.rate_rules[var], where, element)
        raw = expr
        expr = self.arithmetic(lambda: substitute(raw, self.constants), where, raw, element)
        unknown = sorted(symbols(expr) - self.state_species - self.parameter_states - {"time"}
                         - {n for n in self.by_id if n in self.values and n not in self.rules})
        g = self.law_in_state_units(expr, self.error(f"{where} reads {', '.join(unknown)}, whose value is not "
                                                     "known over time", element))
        scale = 1.0 if var in self.parameter_states else self.symbol_scale(self.by_id[var])
        k = 1.0 / (scale * self.time_factor)
        if var in self.by_id and self.in_varying(self.by_id[var]) and self.amounts(self.by_id[var]):
            g, k = self.amount_rate_rule(var, g)
        rid = f"rate_rule_{var}"
        while rid in taken:
            rid += "_"
        name = var if var in self.parameter_states else self.name_of[var]
        return Reaction(id=rid, reactants=(), branches=(Branch(rid, ((name, 1),)),),
                        rate=RateLaw("constant", float(k), STANDARD_TEMPERATURE), duplicate=True,
                        note=f"SBML rate rule: d{var}/dt = {to_text(raw)}", law=g, law_checked=False,
                        location=Location(self.path, element.getLine() or None))

    def general_reaction(self, reaction, where, law, expr, reactants, products, refusal):
        """The reaction with its kinetic law kept as a general rate law (fentonsim.laws), for a law that is
        not one mass-action term: r = k·g with g the law in M and s and k = s/(V·t_u) converting the
        model's substance per time unit to M s⁻¹. ``refusal`` (why it is not mass action) is raised when the
        law reads something a general law cannot (a symbol that changes other than as a species)."""
        rid = reaction.getId()
        law_where = f"kinetic law of {where}"
        g = self.law_in_state_units(expr, refusal)
        volume = self.reaction_volume(reactants, products)
        scale = self.substance / ((self.volume_L if volume is None else volume) * self.time_factor)
        if not (math.isfinite(scale) and scale > 0):
            raise self.error(f"{law_where} converts to M s⁻¹ with factor {scale}; expected a finite positive "
                             "number", law)
        name = self.name_of
        reactant_terms = tuple(sorted((name[sid], nu) for sid, nu in reactants.items() if sid in self.state_species))
        product_terms = tuple(sorted((name[sid], nu) for sid, nu in products.items() if nu and sid in self.state_species))
        return Reaction(
            id=rid, reactants=reactant_terms, branches=(Branch(rid, product_terms),),
            rate=RateLaw("constant", float(scale), STANDARD_TEMPERATURE), duplicate=True,
            note=f"SBML kinetic law (general): {to_text(expr)}", law=g, law_checked=False,
            location=Location(self.path, reaction.getLine() or None))

    def mass_action_reaction(self, reaction, where, law, expr, reactants, products):
        """The reaction as one mass-action term (or two, reversible) of fentonsim's rate convention."""
        m = self.model
        rid = reaction.getId()
        # Own copies: catalysts join them below, and a refusal here falls back to the general law, which must
        # see the reaction as written (a catalyst of order 1e300 had overflowed the stoichiometry there).
        reactants, products = dict(reactants), dict(products)
        law_where = f"kinetic law of {where}"
        fail = (lambda msg: self.error(f"kinetic law of {where}: {msg}", law))
        reverse = None
        if (reaction.getReversible() and expr[0] == "op" and expr[1] == "minus" and len(expr[2]) == 2):
            # A reversible mass-action law k1·Π reactants − k2·Π products: two directions of one reaction.
            coefficient, powers, offsets = self.arithmetic(
                lambda: _mass_action(expr[2][0], self.state_species, fail), law_where, expr, law)
            reverse = self.arithmetic(lambda: _mass_action(expr[2][1], self.state_species, fail), law_where, expr, law)
            if reverse[2] or offsets:
                raise fail("falling factorials in a reversible law are not supported")
            for sid, nu in products.items():
                if sid not in self.state_species:
                    raise fail(f"boundary species `{sid}` on the product side of a reversible law is not supported")
                if reverse[1].get(sid, 0) != nu:
                    raise fail(f"the reverse term ({to_text(expr[2][1])}) has order {reverse[1].get(sid, 0)} in "
                               f"`{sid}`, a product of stoichiometry {nu}; it must be mass action in the products")
            if set(reverse[1]) - set(products) or set(powers) - set(reactants):
                raise fail("species outside the reaction's reactants and products appear in a reversible law")
        else:
            coefficient, powers, offsets = self.arithmetic(lambda: _mass_action(expr, self.state_species, fail),
                                                           law_where, expr, law)
        for value in (coefficient,) + (() if reverse is None else (reverse[0],)):
            if not math.isfinite(value):
                raise self.error(f"kinetic law of {where} ({to_text(expr)[:120]}) has rate coefficient {value}; "
                                 "expected a finite number", law)
        if coefficient < 0 or (reverse is not None and reverse[0] < 0):
            raise self.error(f"kinetic law of {where} is negative ({to_text(expr)}); a law must be one mass-action "
                             "term, or k1·reactants − k2·products for a reversible reaction", law)
        for sid, nu in reactants.items():
            if sid in self.state_species and powers.get(sid, 0) != nu:
                raise self.error(
                    f"kinetic law of {where} ({to_text(expr)}) has order {powers.get(sid, 0)} in `{sid}`, which "
                    f"the reaction consumes {nu} at a time; fentonsim needs mass-action laws (order = "
                    "stoichiometry) so that the stochastic and deterministic models agree", law)
        # Species in the law that the reaction does not consume act as catalysts: reactant and product.
        for sid, nu in powers.items():
            if sid not in reactants:
                reactants[sid] = nu
                products[sid] = products.get(sid, 0) + nu
        for terms in (powers,) + (() if reverse is None else (reverse[1],)):
            order = sum(terms.values())
            if order > MAX_ORDER or len(terms) > MAX_ORDER:
                raise self.error(f"kinetic law of {where} ({to_text(expr)}) has order {order} in {len(terms)} "
                                 f"species; at most {MAX_ORDER} molecules may meet", law)
        # Per species read by the law: its volume [L] and 1/size (concentration symbols) or 1 (amounts).
        g = {sid: 1.0 / self.size_of(self.by_id[sid]) if not self.amounts(self.by_id[sid]) else 1.0
             for sid in set(powers) | set(() if reverse is None else reverse[1])}
        volume = {sid: self.volume_of(self.by_id[sid]) for sid in g}
        reaction_volume = self.reaction_volume(reactants, products)
        varying = sorted(sid for sid in g if self.in_varying(self.by_id[sid]) and self.amounts(self.by_id[sid]))
        if varying:
            # Its symbol is c·V(t) (sbml/compartments.py): no constant times a power of the state.
            raise fail(f"`{varying[0]}` is an amount in a compartment of varying size")
        for sid in offsets:
            if g[sid] != 1.0:
                raise self.error(f"kinetic law of {where}: `{sid} - n` with `{sid}` a concentration in a "
                                 "compartment of size ≠ 1 is not a falling factorial", law)

        def rate_constant(coef, terms):
            k = coef * self.substance / (reaction_volume * self.time_factor)
            for sid, nu in terms.items():
                k *= (volume[sid] * g[sid] / self.substance) ** nu
            if not math.isfinite(k):
                raise self.error(f"kinetic law of {where} gives rate constant {k} in M and s (coefficient "
                                 f"{coef:g}); expected a finite number", law)
            return RateLaw("constant", float(k), STANDARD_TEMPERATURE)

        name = self.name_of
        orders = tuple((name[sid], 0.0) for sid in reactants if sid not in self.state_species)
        reactant_terms = tuple(sorted((name[sid], nu) for sid, nu in reactants.items()))
        product_terms = tuple(sorted((name[sid], nu) for sid, nu in products.items() if nu))
        if offsets:
            self.warnings.append(f"{self.path}:{reaction.getLine()}: warning: {where} writes a falling factorial; "
                                 "the SSA uses it exactly, the ODE integrates its mass-action limit k·[X]^n")
        powered = [powers] + ([] if reverse is None else [reverse[1]])
        return Reaction(
            id=rid, reactants=reactant_terms, branches=(Branch(rid, product_terms),),
            rate=rate_constant(coefficient, powers),
            reverse_rate=None if reverse is None else rate_constant(reverse[0], reverse[1]), orders=orders,
            duplicate=True, note=f"SBML kinetic law: {to_text(expr)}",
            propensity="power" if any(nu > 1 and sid not in offsets and self.amounts(self.by_id[sid])
                                      for terms in powered for sid, nu in terms.items()) else "falling-factorial",
            location=Location(self.path, reaction.getLine() or None))

    def build_observables(self):
        observables = []
        for name, element in self.rule_elements.items():
            if name in self.derived:
                continue  # a rateOf definition, not a model variable
            if name in self.constants:
                # A rule that reduces to a number: its value, constant over time.
                observables.append(Observable(self.name_of.get(name, name), num(float(self.constants[name])), (),
                                              self.value_units(name)))
                continue
            rule = self.expand(self.rules[name], f"assignment rule for `{name}`", element)
            expr = self.arithmetic(lambda: substitute(rule, self.constants), f"assignment rule for `{name}`", rule,
                                   element)
            # Species in compartments of varying size read their symbol as an expression (sbml/compartments.py).
            expr = _replace_all(expr, {sid: op("times", self.symbol_factor(self.by_id[sid]), sym(sid))
                                       for sid in symbols(expr) & self.state_species if self.in_varying(self.by_id[sid])})
            state = sorted(symbols(expr) - {"time"})
            # Species by their names and symbol scales; rate-rule parameters are state variables of scale 1.
            expr = _rename(expr, {sid: self.name_of.get(sid, sid) for sid in state})
            scale = tuple((self.name_of.get(sid, sid),
                           1.0 if sid in self.parameter_states or self.in_varying(self.by_id[sid])
                           else self.symbol_scale(self.by_id[sid])) for sid in state)
            observables.append(Observable(self.name_of.get(name, name), expr, scale, self.value_units(name)))
        for s in self.species:
            if s.getId() not in self.state_species and s.getId() not in self.rule_elements:
                value = self.clamped_symbol(s)
                observables.append(Observable(self.name_of[s.getId()], value,
                                              tuple((name, 1.0) for name in sorted(symbols(value) - {"time"})),
                                              self.value_units(s.getId())))
        # Global parameters and compartments keep their values (no rate rules or events change them: those
        # are refused), so they are reported as constants; only symbols with a value are.
        m = self.model
        for element in [m.getParameter(i) for i in range(m.getNumParameters())] + [
                m.getCompartment(i) for i in range(m.getNumCompartments())]:
            ident = element.getId()
            if ident in self.rule_elements or ident not in self.constants:
                continue
            observables.append(Observable(ident, num(float(self.constants[ident])), (), self.value_units(ident)))
        return tuple(observables)

    def value_units(self, name):
        substance = "item" if math.isclose(self.substance, 1.0 / AVOGADRO) else (
            "mol" if self.substance == 1.0 else f"{self.substance:g} mol")
        species = self.by_id.get(name)
        if species is None:
            return "model units"
        factor = self.layout.factor[self.compartment_of(species)]
        volume = "L" if factor == 1.0 else f"{factor:g} L"
        return substance if self.amounts(species) else f"{substance}/{volume}"

    def build_events(self):
        """(inputs, state events): the events as fixed-time inputs, simultaneous ones in the order SBML
        executes them (:meth:`order_events`) — or, when some event is triggered by the state or sets a value
        that depends on it, every event as a :class:`StateEvent` located by the ODE kernel (one mechanism for
        all, so their relative order stays SBML's)."""
        m = self.model
        try:
            return self.time_events(), ()
        except _NotATimeEvent:
            return (), tuple(self.state_event(m.getEvent(i)) for i in range(m.getNumEvents()))

    def state_event(self, ev):
        """``ev`` as a StateEvent: trigger and assignments in state units (law_in_state_units)."""
        where = self.where(ev, "event")
        trigger_element = ev.getTrigger()
        if trigger_element is None or not trigger_element.isSetMath():
            raise self.error(f"{where} has no trigger", ev)
        persistent = not (self.model.getLevel() == 3 and trigger_element.isSetPersistent()
                          and not trigger_element.getPersistent())
        delay = None
        if ev.isSetDelay():
            dwhat = f"delay of {where}"
            if not ev.getDelay().isSetMath():
                raise self.error(f"{dwhat} has no math", ev)
            draw = self.expand(self.math(ev.getDelay(), dwhat), dwhat, ev)
            dexpr = self.arithmetic(lambda: substitute(draw, self.constants), dwhat, draw, ev)
            delay = self.law_in_state_units(dexpr, self.error(f"{dwhat} reads a value that is not known over time",
                                                              ev))
            # The delay is in model time units; the kernel's clock runs in seconds.
            delay = delay if self.time_factor == 1 else op("times", num(self.time_factor), delay)
        what = f"trigger of {where}"
        raw = self.expand(self.math(trigger_element, what), what, ev)
        trigger = self.arithmetic(lambda: substitute(raw, self.constants), what, raw, ev)
        trigger = self.law_in_state_units(trigger, self.error(f"{what} reads a value that is not known over time "
                                                              "(a parameter that only events or rules change)", ev))
        priority = None
        if ev.isSetPriority() and ev.getPriority().isSetMath():
            pwhat = f"priority of {where}"
            praw = self.expand(self.math(ev.getPriority(), pwhat), pwhat, ev)
            value = self.arithmetic(lambda: _fold(substitute(praw, self.constants)), pwhat, praw, ev)
            if value[0] != "num" or not math.isfinite(value[1]):
                raise self.error(f"{pwhat} is `{to_text(value)}`; only constant priorities are supported", ev)
            priority = float(value[1])
        assignments = []
        for j in range(ev.getNumEventAssignments()):
            assignment = ev.getEventAssignment(j)
            target = assignment.getVariable()
            if target not in self.state_species and target not in self.parameter_states:
                raise self.error(f"{where} assigns `{target}`; events may only assign species that reactions "
                                 "change (assigning parameters, compartments or boundary species is not "
                                 "supported)", assignment)
            awhat = f"assignment to `{target}` in {where}"
            araw = self.expand(self.math(assignment, awhat), awhat, assignment)
            expr = self.arithmetic(lambda: substitute(araw, self.constants), awhat, araw, assignment)
            value = self.law_in_state_units(expr, self.error(f"{awhat} reads a value that is not known over time",
                                                             assignment))
            if target in self.state_species:
                # The expression gives the species' symbol (model units); the state holds its concentration [M].
                factor = self.symbol_factor(self.by_id[target])
                value = value if factor == num(1.0) else op("divide", value, factor)
                name = self.name_of[target]
            else:
                name = target
            assignments.append((name, value))
        replaced = dict(self.rescalings(assignments, ev))
        assignments = [(name, replaced.pop(name, value)) for name, value in assignments] + list(replaced.items())
        initial = (not trigger_element.isSetInitialValue() or bool(trigger_element.getInitialValue())) \
            if self.model.getLevel() == 3 else True
        return StateEvent(name=ev.getId() or where, trigger=trigger, assignments=tuple(assignments),
                          priority=priority, use_trigger_values=self.trigger_time_values(ev), initial_value=initial,
                          delay=delay, persistent=persistent, location=Location(self.path, ev.getLine() or None))

    def time_events(self):
        """The events as fixed-time inputs (build_events); _NotATimeEvent when one needs the state."""
        parsed = []  # (event, where, time [s], [Assignment or Bolus, ...])
        m = self.model
        if self.layout.varying:
            raise _NotATimeEvent()  # a value in model units is a concentration only at the size of that moment
        for i in range(m.getNumEvents()):
            ev = m.getEvent(i)
            events = []
            where = self.where(ev, "event")
            if ev.isSetDelay():
                raise _NotATimeEvent()  # delays are queued by the kernel's events
            if not ev.isSetTrigger() or not ev.getTrigger().isSetMath():
                raise self.error(f"{where} has no trigger", ev)
            raw = self.expand(self.math(ev.getTrigger(), f"trigger of {where}"), f"trigger of {where}", ev)
            trigger = self.arithmetic(lambda: substitute(raw, self.constants), f"trigger of {where}", raw, ev)
            time = _trigger_time(trigger)
            if time is None:
                raise _NotATimeEvent()
            time *= self.time_factor
            if time <= 0:
                raise _NotATimeEvent()  # true from the start: the kernel's events fire it at t0 as SBML says
            if not (time > 0 and math.isfinite(time)):
                raise self.error(f"trigger of {where} fires at t = {time:g} s; only events after the start "
                                 "(finite T > 0) are supported", ev)
            for j in range(ev.getNumEventAssignments()):
                assignment = ev.getEventAssignment(j)
                target = assignment.getVariable()
                if target in self.parameter_states:
                    raise _NotATimeEvent()  # a state variable that is not a species: the kernel's events
                if target not in self.state_species:
                    raise self.error(f"{where} assigns `{target}`; events may only assign species that reactions "
                                     "change (assigning parameters, compartments or boundary species is not "
                                     "supported)", assignment)
                species = self.by_id[target]
                what = f"assignment to `{target}` in {where}"
                raw = self.expand(self.math(assignment, what), what, assignment)
                expr = self.arithmetic(lambda: substitute(raw, self.constants), what, raw, assignment)
                linear = self.arithmetic(lambda: affine(expr), what, expr, assignment)
                if linear is not None and not all(math.isfinite(v) for v in (linear[0], *linear[1].values(),
                                                                             self.to_molar(species, linear[0]))):
                    raise self.error(f"{what} ({to_text(expr)[:120]}) is not finite; expected a finite value",
                                     assignment)
                name = self.name_of[target]
                if linear is not None and not linear[1] and linear[0] < 0:
                    raise self.error(f"{where} sets `{target}` to {linear[0]:g}; a species cannot be negative "
                                     "(expected a non-negative value)", assignment)
                if linear is not None and not linear[1]:
                    events.append(Assignment(name, self.to_molar(species, linear[0]), time))
                elif linear is not None and linear[1] == {target: 1.0} and linear[0] >= 0:
                    events.append(Bolus(name, self.to_molar(species, linear[0]), time))
                else:
                    raise _NotATimeEvent()  # a value computed from the state: the kernel's events
            parsed.append((ev, where, time, events))
        return tuple(item for group in self.order_events(parsed) for item in group)

    def order_events(self, parsed):
        """The events' inputs grouped per event, sorted by time and, among events firing at the same time,
        in SBML's execution order.

        Events firing together execute one after the other, highest ``priority`` first (L3 §4.12.7); an event
        whose ``useValuesFromTriggerTime`` is false computes its values when it executes, after the events
        before it, which is exactly how fentonsim applies same-time inputs in sequence. The order matters
        only between events that assign the same species, unless both add to it and compute at execution
        time; for such a pair both events need a constant priority, and different ones (equal or missing
        priorities leave the order to chance). An event computing ``X + c`` from the values at the trigger
        time cannot follow another event that changed X at that time: fentonsim would add to the changed value.
        """
        groups = {}
        for item in parsed:
            groups.setdefault(item[2], []).append(item)
        ordered = []
        for time in sorted(groups):
            group = groups[time]
            if len(group) > 1:
                group = self.order_simultaneous(group)
            ordered.extend(events for _, _, _, events in group)
        return ordered

    def trigger_time_values(self, ev):
        """Whether ``ev`` computes its assignments from the values at its trigger time (L2's default)."""
        if self.model.getLevel() == 2 and self.model.getVersion() < 4:
            return True
        return bool(ev.getUseValuesFromTriggerTime())

    def order_simultaneous(self, group):
        def targets(item):
            return {(a.species, isinstance(a, Bolus)) for a in item[3]}

        def conflict(a, b):
            adds_a = {name: add for name, add in targets(a)}
            adds_b = {name: add for name, add in targets(b)}
            both_add_late = not (self.trigger_time_values(a[0]) or self.trigger_time_values(b[0]))
            return any(not (adds_a[name] and adds_b[name] and both_add_late) for name in set(adds_a) & set(adds_b))

        conflicting = [(a, b) for i, a in enumerate(group) for b in group[i + 1:] if conflict(a, b)]
        if not conflicting:
            return group
        priority = {}
        for ev, where, _, _ in {id(x): x for pair in conflicting for x in pair}.values():
            if not ev.isSetPriority() or not ev.getPriority().isSetMath():
                raise self.error(f"{where} fires together with another event assigning the same species, and has "
                                 "no priority; SBML leaves their order to chance, which fentonsim does not "
                                 "simulate (give both events different constant priorities)", ev)
            what = f"priority of {where}"
            raw = self.expand(self.math(ev.getPriority(), what), what, ev)
            value = self.arithmetic(lambda: _fold(substitute(raw, self.constants)), what, raw, ev)
            if value[0] != "num" or not math.isfinite(value[1]):
                raise self.error(f"{what} is `{to_text(value)}`; events firing together and assigning the same "
                                 "species need constant priorities (a priority that changes with the state or "
                                 "time is not supported)", ev.getPriority() if ev.getPriority().getLine() else ev)
            priority[id(ev)] = value[1]
        for a, b in conflicting:
            if priority[id(a[0])] == priority[id(b[0])]:
                raise self.error(f"{a[1]} and {b[1]} fire together, assign the same species and have the same "
                                 f"priority ({priority[id(a[0])]:g}); SBML leaves their order to chance, which "
                                 "fentonsim does not simulate", b[0])
        # Events without a priority commute with every other one: they may go first.
        group = sorted(group, key=lambda item: -priority.get(id(item[0]), math.inf))
        for i, (ev, where, _, events) in enumerate(group):
            if not self.trigger_time_values(ev):
                continue
            earlier = {a.species for _, _, _, before in group[:i] for a in before}
            for a in events:
                if isinstance(a, Bolus) and a.species in earlier:
                    raise self.error(f"{where} adds to `{a.species}` from its value at the trigger time "
                                     "(useValuesFromTriggerTime), after an event of higher priority firing at the "
                                     "same time changed it; not supported", ev)
        return group


class _NotATimeEvent(Exception):
    """An event that fixed-time inputs cannot express (a state trigger, a value computed from the state)."""


def _fold(expr):
    """``expr`` as a number when it reads no symbol: substitute() folds arithmetic, not relations and the
    logic over them (`piecewise(1, 1 <= 2, 10)`)."""
    if expr[0] == "num" or symbols(expr):
        return expr
    return num(float(evaluate(expr, {})))


def _extent(expr):
    """(nodes, depth) of ``expr`` as a tree, counting shared subtrees once per use but visiting them once."""
    seen = {}

    def visit(node):
        key = id(node)
        if key not in seen:
            if node[0] in ("op", "rel"):
                parts = [visit(a) for a in node[2]]
                seen[key] = (1 + sum(n for n, _ in parts), 1 + max((d for _, d in parts), default=0))
            else:
                seen[key] = (1, 1)
        return seen[key]

    return visit(expr)


def _rename(expr, mapping):
    if expr[0] == "sym":
        return ("sym", mapping.get(expr[1], expr[1]))
    if expr[0] in ("op", "rel"):
        return (expr[0], expr[1], tuple(_rename(a, mapping) for a in expr[2]))
    return expr


def _trigger_time(trigger):
    """T for a trigger ``time >= T`` (or ``>``, or ``T <= time`` …) with T a number; else None."""
    if trigger[0] != "rel":
        return None
    left, right = trigger[2]
    if trigger[1] in ("geq", "gt") and left == ("sym", "time") and right[0] == "num":
        return right[1]
    if trigger[1] in ("leq", "lt") and right == ("sym", "time") and left[0] == "num":
        return left[1]
    return None


def _mass_action(expr, species, error):
    """(coefficient, {species: power}, {species: offsets}) of a single mass-action term.

    Factors are numbers, species to positive integer powers, and (X − m) for
    a falling factorial; any other structure raises ``error(message)``.
    """
    coefficient, powers, offsets = 1.0, {}, {}

    def visit(node, exponent):
        nonlocal coefficient
        kind = node[0]
        if kind == "num":
            coefficient *= node[1] ** exponent
            return
        if kind == "sym":
            if node[1] not in species:
                raise error(f"`{node[1]}` is not a constant or a species" + (
                    " (time-dependent laws are not mass action)" if node[1] == "time" else ""))
            if exponent < 0:
                raise error(f"divides by species `{node[1]}`; not mass action")
            powers[node[1]] = powers.get(node[1], 0) + exponent
            return
        if kind != "op":
            raise error("comparison in a kinetic law")
        name, args = node[1], node[2]
        if name == "times":
            for a in args:
                visit(a, exponent)
        elif name == "divide":
            visit(args[0], exponent)
            visit(args[1], -exponent)
        elif name == "power":
            if (args[1][0] != "num" or not math.isfinite(args[1][1]) or args[1][1] != int(args[1][1])
                    or (args[0][0] == "sym" and args[1][1] < 1)):
                raise error(f"power `{to_text(node)}` needs a positive whole exponent")
            visit(args[0], exponent * int(args[1][1]))
        elif (name == "minus" and len(args) == 2 and args[0][0] == "sym" and args[0][1] in species
              and args[1][0] == "num" and args[1][1] in (1.0, 2.0) and exponent == 1):
            offsets.setdefault(args[0][1], []).append(int(args[1][1]))
        else:
            raise error(f"`{to_text(node)}` is not a product of constants and species (a single mass-action "
                        "term); sums, differences and functions of species are not supported")

    visit(expr, 1)
    for sid, offs in offsets.items():
        power = powers.get(sid, 0)
        if sorted(offs) != list(range(1, len(offs) + 1)) or power != 1:
            raise error(f"factors of `{sid}` are not a falling factorial {sid}*({sid}-1)…")
        powers[sid] = power + len(offs)
    return coefficient, powers, offsets


def import_sbml(path) -> Mechanism:
    """Read the SBML file ``path`` as a :class:`Mechanism` (see the module docstring).

    Raises
    ------
    SBMLError
        The file is missing, not XML, not valid SBML, or uses an unsupported
        construct; the message names the element and line.
    """
    lib = _libsbml()
    path = Path(path)
    if not path.is_file():
        raise SBMLError(f"no such file: {path}")
    _check_xml(path)
    doc = lib.readSBMLFromFile(str(path))
    _raise_document_errors(doc, path, lib)
    if doc.getModel() is None:
        raise SBMLError("the document has no <model>", str(path))
    _check_math(doc, path, lib)
    # Only packages the file declares count (libsbml attaches plugins on its own); layout and render are
    # drawing information and change nothing, and extended math is caught construct by construct.
    namespaces = doc.getNamespaces()
    uris = [namespaces.getURI(i) for i in range(namespaces.getLength())] if namespaces is not None else []
    packages = sorted({uri.split("/")[6] for uri in uris
                       if uri.startswith("http://www.sbml.org/sbml/level3/") and len(uri.split("/")) > 6
                       and uri.split("/")[6] not in ("core", "layout", "render", "extendedmath")})
    if packages:
        raise SBMLError(f"SBML packages {', '.join(packages)} are not supported", str(path), doc.getLine() or None)
    if doc.getModel().getNumFunctionDefinitions():
        props = lib.ConversionProperties()
        props.addOption("expandFunctionDefinitions", True)
        if doc.convert(props) != lib.LIBSBML_OPERATION_SUCCESS:
            raise SBMLError("cannot expand the model's function definitions", str(path))
    ignored = drop_mathless(doc.getModel(), path)
    reader = _Reader(doc, path, lib)
    reader.warnings.extend(ignored)
    reader.collect()
    species = reader.build_species()
    events, state_events = reader.build_events()
    reactions = tuple(r for i in range(reader.model.getNumReactions())
                      for r in reader.build_reaction(reader.model.getReaction(i)))
    taken = {r.id for r in reactions}
    reactions += tuple(reader.rate_rule_reaction(var, taken) for var in reader.rate_rules)
    reactions += reader.dilution_reactions(taken | {r.id for r in reactions})
    observables = reader.build_observables()
    parameter_states = sorted(reader.parameter_states)
    if any(r.law is not None for r in reactions) or state_events:
        # Under general laws and rate rules the model's quantities follow SBML's arithmetic, signs included:
        # nothing floors them at 0 (kernels/laws.py).
        species = tuple(dataclasses.replace(s, signed=True) if s.buffered is None else s for s in species)
    species += tuple(Species(pid, 0, (), note=f"SBML parameter `{pid}` (driven by a rate rule)", signed=True)
                     for pid in parameter_states)
    observables += tuple(Observable(pid, sym(pid), ((pid, 1.0),), "model units") for pid in parameter_states)
    initial = tuple((reader.name_of[s.getId()], float(reader.to_molar(s, reader.values[s.getId()])))
                    for s in reader.species if s.getId() in reader.state_species)
    initial += tuple((pid, float(reader.values[pid])) for pid in parameter_states)
    counts = math.isclose(reader.substance, 1.0 / AVOGADRO)
    compartments = described(reader, reader.layout)
    # The ODE's absolute tolerance in M: 10⁻⁶ molecules in the largest volume (the strictest).
    largest = max([reader.volume_L] + [c.volume for c in compartments])
    model = reader.model
    mechanism = Mechanism(
        name=model.getId() or model.getName() or path.stem, species=species, reactions=reactions,
        defaults=Defaults(volume=reader.volume_L, atol=COUNT_ATOL / (AVOGADRO * largest) if counts else None,
                          initial=initial), compartments=compartments,
        description=f"Imported from SBML Level {model.getLevel()} Version {model.getVersion()}: {path.name}"
                    + (f" ({model.getName()})" if model.getName() else ""),
        events=events, observables=observables, counts=counts, state_events=state_events, files=(str(path),))
    return dataclasses.replace(mechanism, warnings=tuple(reader.warnings))


def _raise_document_errors(doc, path, lib):
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= lib.LIBSBML_SEV_ERROR:
            message = err.getMessage().strip().replace("\n", " ")
            raise SBMLError(f"invalid SBML: {message}", str(path), err.getLine() or None)
