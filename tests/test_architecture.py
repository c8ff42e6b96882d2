"""Layering rules: numba is imported in one module; every fentonsim module sits in one layer of an allow-list
and imports only its own layer or lower ones; the import graph has no cycle. Imports inside functions count:
a lazy import is still an arrow. The checker itself is tested on planted arrows, so a rule that cannot fail
would show."""
from __future__ import annotations

import ast
from fnmatch import fnmatch

import pytest

from conftest import REPO

PACKAGE = REPO / "fentonsim"

#: Lowest first. A module may import modules of its own layer or of lower ones (patterns: fnmatch on the
#: dotted name below ``fentonsim``; "" is the package itself).
LAYERS = (
    ("foundation", ("version", "errors", "constants", "units", "data", "_jit", "expression", "validity",
                    "progress")),
    ("kernels", ("kernels", "kernels.*")),
    ("description", ("speciation", "mechanism", "mechanism.*", "conditions", "inputs", "observables",
                     "sbml.importer", "sbml.algebraic", "sbml.stoichiometry", "sbml.rates", "sbml.mathless",
                     "sbml.compartments", "compartments", "models", "catalysts",
                     "dosing")),
    ("network", ("laws", "native_laws", "network", "live_laws")),
    ("solvers", ("solution", "deterministic", "scipy_solvers", "stochastic_laws", "stochastic_compartments",
                 "stochastic")),
    ("results", ("results", "metrics", "decomposition", "sampling", "tables")),
    ("run", ("problem", "simulate", "sweep_store", "sweep_worker", "sweep")),
    ("jobs", ("compare", "uncertainty", "plotting", "sbml", "sbml.export", "sbml.mathml", "sensitivity",
              "global_sensitivity",
              "fitting", "fitting.*")),
    ("interface", ("cli_args", "cli", "compare_cli", "sweep_cli", "sensitivity_cli", "fit_cli", "__main__",
                   "")),
)
#: Kernels are arrays in, arrays out: beyond their own layer they may use only these.
KERNEL_ALLOWED = ("_jit", "constants")


def _module_name(path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or ""), [alias.name for alias in node.names]


def import_graph() -> dict:
    """{module: set of fentonsim modules it imports}, names relative to the package ("" is the package)."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for item in _imports(path):
            if isinstance(item, str):
                if item == "fentonsim" or item.startswith("fentonsim."):
                    targets.add(item[len("fentonsim."):] if item != "fentonsim" else "")
                continue
            module, names = item
            level = len(module) - len(module.lstrip("."))
            if level == 0:
                if not (module == "fentonsim" or module.startswith("fentonsim.")):
                    continue
                base = module[len("fentonsim."):] if module != "fentonsim" else ""
            else:
                anchor = package.split(".") if package else []
                anchor = anchor[:len(anchor) - (level - 1)] if level > 1 else anchor
                base = ".".join(anchor + ([module.lstrip(".")] if module.lstrip(".") else []))
            for imported in names:  # `from . import x` imports module x when there is one
                candidate = f"{base}.{imported}" if base else imported
                targets.add(candidate if candidate in paths else base)
        graph[name] = {t for t in targets if t != name and t in paths}
    return graph


def layer_of(module: str) -> int:
    for index, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch(module, pattern) for pattern in patterns):
            return index
    raise LookupError(module)


def violations(graph) -> list[str]:
    """Every rule broken by ``graph``: a module in no layer, a wrong-way arrow, a kernel importing beyond its
    allowance, a cycle."""
    problems = []
    for module, targets in sorted(graph.items()):
        try:
            own = layer_of(module)
        except LookupError:
            problems.append(f"`{module}` is in no layer: add it to LAYERS in tests/test_architecture.py")
            continue
        for target in sorted(targets):
            try:
                theirs = layer_of(target)
            except LookupError:
                continue  # reported once, as a module
            if theirs > own:
                problems.append(f"wrong-way import: `{module}` ({LAYERS[own][0]}) imports `{target}` "
                                f"({LAYERS[theirs][0]})")
            if LAYERS[own][0] == "kernels" and LAYERS[theirs][0] != "kernels" and target not in KERNEL_ALLOWED:
                problems.append(f"kernel `{module}` imports `{target}`: kernels take arrays, not objects")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return problems


def cycles(graph) -> list[list[str]]:
    """One cycle (as a closed path) per strongly connected component with more than one module."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_closed_path(graph, set(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _closed_path(graph, component) -> list[str]:
    start = min(component)
    path, seen, node = [start], {start}, start
    while True:
        nxt = min(t for t in graph[node] if t in component)
        path.append(nxt)
        if nxt in seen:
            return path[path.index(nxt):]
        seen.add(nxt)
        node = nxt


def test_numba_imported_only_in_jit_module():
    """Only fentonsim/_jit.py imports numba."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for item in _imports(path):
            module = item if isinstance(item, str) else item[0]
            if path.name != "_jit.py" and module.split(".")[0] == "numba":
                offenders.append(path.relative_to(REPO))
    assert offenders == []


def test_the_package_keeps_its_layers_and_has_no_cycle():
    """Every module is in a layer, imports point down (or within a layer), kernels stay arrays-only, and the
    import graph is acyclic."""
    assert violations(import_graph()) == []


@pytest.mark.parametrize("planted, expected", [
    (("sweep_store", "sweep"), "import cycle: sweep -> sweep_store -> sweep"),
    (("kernels.ssa", "results"), "wrong-way import: `kernels.ssa`"),
    (("kernels.ssa", "network"), "kernel `kernels.ssa` imports `network`"),
    (("deterministic", "problem"), "wrong-way import: `deterministic` (solvers) imports `problem` (run)"),
    (("newmodule", "errors"), "`newmodule` is in no layer"),
])
def test_the_checker_catches_a_planted_arrow(planted, expected):
    """One added wrong-way import, cycle, kernel dependency or unlisted module is reported."""
    graph = {module: set(targets) for module, targets in import_graph().items()}
    source, target = planted
    graph.setdefault(source, set()).add(target)
    assert any(expected in problem for problem in violations(graph)), violations(graph)
