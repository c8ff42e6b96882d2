"""SBML Level 3 Version 2's ``rateOf`` csymbol, and reaction ids read in math, replaced by the right-hand sides
they stand for.

A reaction id in a formula is the reaction's rate, its kinetic law (local parameters in place), in substance
per time; it is defined like an assignment rule of that id (:func:`define`).

``rateOf(x)`` is dx/dt at the current instant, in the model's units (x's unit per model time unit). Where that
derivative is a formula of the current state, the formula replaces it exactly:

- a species that reactions change: Σ over the reactions of (ν as product − ν as reactant)·law·cf (its
  amount per time), divided by its compartment's size when its symbol is a concentration;
- a species, parameter or compartment that a rate rule drives: the rate rule's formula;
- anything else that only events or nothing change (constants, boundary species, event-set parameters):
  0, as between events every such value is constant.

Each ``rateOf(x)`` is read as a symbol (:func:`rate_symbol`) that the importer defines like an assignment rule,
so every formula — kinetic laws, rules, initial assignments, event triggers, assignments and delays — sees the
same expansion. Refused: rateOf of a variable an assignment or algebraic rule sets (its derivative would need
the chain rule through the rule), of a concentration in a compartment whose size varies, of an argument that
is not an id, and a rateOf that depends on itself (a kinetic law reading the rate it sets).
"""
from __future__ import annotations

from ..expression import num, op, substitute, sym, symbols
from .stoichiometry import reference

PREFIX = "rateOf("


def rate_symbol(name: str) -> str:
    """The symbol standing for rateOf(``name``) (parentheses keep it apart from every SBML id)."""
    return f"{PREFIX}{name})"


def _math_nodes(model):
    """(element, node, local ids) for every node of every formula of ``model``, by an explicit stack."""
    for element in model.getListOfAllElements():
        if not (hasattr(element, "isSetMath") and element.isSetMath()):
            continue
        local = _local_ids(element)
        stack = [element.getMath()]
        while stack:
            node = stack.pop()
            if node is None:
                continue
            yield element, node, local
            stack.extend(node.getChild(i) for i in range(node.getNumChildren()))


def targets(model, lib):
    """{id: element} for every ``rateOf(id)`` in ``model``'s math (the first element using it, for messages);
    an argument that is not an id raises ValueError((message, element)). A kinetic law's local parameter has
    rate 0 and is left to the law (local_values)."""
    found = {}
    for element, node, local in _math_nodes(model):
        if node.getType() == lib.AST_FUNCTION_RATE_OF:
            arg = node.getChild(0) if node.getNumChildren() == 1 else None
            if arg is None or arg.getType() != lib.AST_NAME:
                raise ValueError(("rateOf needs one id as its argument, found "
                                  f"`{lib.formulaToL3String(node)}`", element))
            if arg.getName() not in local:
                found.setdefault(arg.getName(), element)
    return found


def reaction_symbols(model, lib):
    """{reaction id: element} for every reaction id ``model``'s math reads (its rate, SBML's meaning of the id),
    with the first element reading it; a kinetic law's local parameter of the same id shadows it."""
    reactions = {model.getReaction(i).getId() for i in range(model.getNumReactions())}
    found = {}
    for element, node, local in _math_nodes(model):
        if node.getType() == lib.AST_NAME and node.getName() in reactions and node.getName() not in local:
            found.setdefault(node.getName(), element)
    return found


def define(reader, lib):
    """Add the definition of every rateOf the model uses, and of every reaction id it reads (the reaction's
    kinetic law, its rate in substance per time), to ``reader.rules`` (with the element that uses it first in
    ``reader.rule_elements``); returns the symbols added."""
    model = reader.model
    try:
        used = targets(model, lib)
    except ValueError as exc:
        message, element = exc.args[0]
        raise reader.error(message, element) from None
    added = set()
    for rid, element in reaction_symbols(model, lib).items():
        if rid not in reader.laws:
            raise reader.error(f"`{rid}` is read as the rate of its reaction, which has no kinetic law", element)
        reader.rules[rid] = _local_law(model.getReaction(rid), reader.laws[rid])
        reader.rule_elements[rid] = element
        added.add(rid)
    for name, element in used.items():
        formula = _derivative(reader, name, element, lib)
        if rate_symbol(name) in symbols(formula):
            raise reader.error(f"rateOf({name}) depends on itself (a law or rule that sets the rate of `{name}` "
                               "reads it); such an implicit equation is not supported", element)
        reader.rules[rate_symbol(name)] = formula
        reader.rule_elements[rate_symbol(name)] = element
        added.add(rate_symbol(name))
    if added:
        reader.__dict__.pop("_expanded", None)  # expansions made before these definitions existed are stale
    return added


def _derivative(reader, name, element, lib):
    model = reader.model
    where = f"rateOf({name})"
    if name in reader.rules:
        raise reader.error(f"{where}: `{name}` is set by an assignment or algebraic rule; the rate of a rule "
                           "variable is not supported", element)
    if name in reader.rate_rules:
        return reader.rate_rules[name]
    species = model.getSpecies(name)
    if species is not None:
        if species.getBoundaryCondition() or species.getConstant():
            return num(0.0)
        amount_rate = _reaction_rate(reader, name, element, lib)
        if species.getHasOnlySubstanceUnits():
            return amount_rate
        compartment = model.getCompartment(species.getCompartment())
        if compartment is not None and not compartment.getConstant():
            raise reader.error(f"{where}: `{name}` is a concentration in compartment `{compartment.getId()}`, "
                               "whose size varies; not supported", element)
        return op("divide", amount_rate, sym(species.getCompartment()))
    if model.getParameter(name) is not None or model.getCompartment(name) is not None or reference(model, name):
        return num(0.0)  # constant, or changed only by events: flat between them
    raise reader.error(f"{where}: `{name}` is not a species, parameter, compartment or species reference of the "
                       "model", element)


def _reaction_rate(reader, sid, element, lib):
    """d(amount of ``sid``)/dt in model units: Σ over reactions of the net stoichiometry times the law."""
    model = reader.model
    terms = []
    for i in range(model.getNumReactions()):
        reaction = model.getReaction(i)
        refs = [(reaction.getReactant(j), -1.0) for j in range(reaction.getNumReactants())] + [
            (reaction.getProduct(j), 1.0) for j in range(reaction.getNumProducts())]
        net = [op("times", num(sign), _stoichiometry(reader, ref, lib)) for ref, sign in refs
               if ref.getSpecies() == sid]
        if not net:
            continue
        if reaction.getId() not in reader.laws:
            raise reader.error(f"rateOf({sid}): reaction `{reaction.getId()}` changes `{sid}` but has no kinetic "
                               "law", element)
        terms.append(op("times", op("plus", *net), _local_law(reaction, reader.laws[reaction.getId()])))
    if not terms:
        return num(0.0)
    rate = op("plus", *terms)
    factor = reader.conversion_ids.get(sid)
    return rate if factor is None else op("times", sym(factor[0]), rate)


def local_values(kinetic):
    """{id: value} of a kinetic law's local parameters, and {rateOf(id): 0}: they shadow global ids and never
    change."""
    local = {}
    for i in range(kinetic.getNumParameters()):
        local[kinetic.getParameter(i).getId()] = kinetic.getParameter(i).getValue()
    if hasattr(kinetic, "getNumLocalParameters"):
        for i in range(kinetic.getNumLocalParameters()):
            local[kinetic.getLocalParameter(i).getId()] = kinetic.getLocalParameter(i).getValue()
    return {**local, **{rate_symbol(name): 0.0 for name in local}}


def _local_ids(element):
    if element.getElementName() != "kineticLaw":
        return set()
    return {name for name in local_values(element) if not name.startswith(PREFIX)}


def _local_law(reaction, law):
    """``law`` with the reaction's local parameters as their numbers (local_values)."""
    return substitute(law, local_values(reaction.getKineticLaw()))


def _stoichiometry(reader, ref, lib):
    """The stoichiometry of ``ref`` as an expression the importer's rules and values resolve."""
    model = reader.model
    if hasattr(ref, "isSetStoichiometryMath") and ref.isSetStoichiometryMath():
        return reader.math(ref.getStoichiometryMath(), f"stoichiometryMath of `{ref.getSpecies()}`")
    # An id with a value (attribute, initial assignment) or a rule resolves like any symbol: to its rule, its
    # state variable (a rate rule or events drive it) or its constant value.
    if model.getLevel() == 3 and ref.isSetId() and (ref.isSetStoichiometry() or ref.getId() in reader.rules
                                                    or model.getInitialAssignment(ref.getId()) is not None):
        return sym(ref.getId())
    return num(ref.getStoichiometry() if (model.getLevel() == 2 or ref.isSetStoichiometry()) else 1.0)


