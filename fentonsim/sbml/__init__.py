"""SBML interoperability: export (no extra packages) and import (needs python-libsbml, the `sbml` extra)."""
from .export import export_model, export_sbml
from .importer import SBMLError, import_sbml

__all__ = ["SBMLError", "export_model", "export_sbml", "import_sbml"]
