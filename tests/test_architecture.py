"""Layering rules: numba is imported in one module, and kernels depend only on
_jit and constants (arrays in, arrays out)."""
from __future__ import annotations

import ast

from conftest import REPO

PACKAGE = REPO / "fentonsim"


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or "")


def test_numba_imported_only_in_jit_module():
    """Only fentonsim/_jit.py imports numba."""
    offenders = [p.relative_to(REPO) for p in PACKAGE.rglob("*.py")
                 if p.name != "_jit.py" and any(m.split(".")[0] == "numba" for m in _imports(p))]
    assert offenders == []


def test_kernels_do_not_import_higher_layers():
    """Kernels import nothing from mechanism, network, conditions, cli or result layers."""
    forbidden = ("mechanism", "network", "conditions", "cli", "result", "plotting")
    for path in (PACKAGE / "kernels").rglob("*.py"):
        for module in _imports(path):
            assert not any(part in forbidden for part in module.strip(".").split(".")), (path, module)
