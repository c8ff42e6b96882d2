"""Notebooks in examples/ are built from the matching percent-format scripts (``# %%`` cells).

The script is the source: edit it, then run ``python tests/notebooks.py`` to rebuild every
``examples/<name>.ipynb`` (outputs are not stored; CI executes the notebooks instead).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOK_SCRIPTS = ("quick_start", "ph_gsh_sweep", "stochastic_lysosome")


def script_cells(text: str):
    """(kind, source) pairs of a percent-format script: ``# %%`` code, ``# %% [markdown]`` comment lines."""
    cells = []
    for chunk in text.split("# %%")[1:]:
        header, _, body = chunk.partition("\n")
        if header.strip() == "[markdown]":
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.strip().splitlines()]
            cells.append(("markdown", "\n".join(lines)))
        else:
            cells.append(("code", body.strip()))
    return cells


def build_notebook(script: Path):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, source in script_cells(script.read_text(encoding="utf-8")):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(source))
    return notebook


def notebook_cells(path: Path):
    notebook = nbformat.read(path, as_version=4)
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


if __name__ == "__main__":
    for name in NOTEBOOK_SCRIPTS:
        notebook = build_notebook(EXAMPLES / f"{name}.py")
        for index, cell in enumerate(notebook.cells):
            cell["id"] = f"{name}-{index}"  # stable ids keep rebuilt notebooks diff-free
        nbformat.write(notebook, EXAMPLES / f"{name}.ipynb")
        print(f"wrote examples/{name}.ipynb")
