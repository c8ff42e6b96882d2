"""The notebooks in examples/ match their scripts and execute from start to end (so they never rot)."""
from __future__ import annotations

import pytest

from conftest import REPO, require_module
from notebooks import EXAMPLES, NOTEBOOK_SCRIPTS, notebook_cells, script_cells


@pytest.mark.parametrize("name", NOTEBOOK_SCRIPTS)
def test_notebook_matches_its_script(name):
    """examples/<name>.ipynb has exactly the cells of examples/<name>.py (rebuild: python tests/notebooks.py)."""
    assert notebook_cells(EXAMPLES / f"{name}.ipynb") == script_cells((EXAMPLES / f"{name}.py").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_SCRIPTS)
def test_notebook_executes(name, tmp_path):
    """Every cell runs without error in a fresh Python 3 kernel, from a scratch directory."""
    nbformat = require_module("nbformat", "test")
    nbclient = require_module("nbclient", "test")
    notebook = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert not errors
    assert (REPO / "examples" / f"{name}.py").exists()
