"""SBML interoperability (export needs no extra packages)."""
from .export import export_sbml

__all__ = ["export_sbml"]
