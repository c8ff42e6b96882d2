"""Mechanism files: parsing, validation and the frozen schema."""
from .equation import Equation, format_equation, parse_equation
from .load import load_mechanism
from .schema import (
    Branch,
    Defaults,
    Mechanism,
    ParameterSet,
    PKa,
    RateLaw,
    Reaction,
    Reference,
    Species,
    SpeciationGroup,
    Uncertainty,
    Validity,
)

__all__ = [
    "Branch", "Defaults", "Equation", "Mechanism", "ParameterSet", "PKa", "RateLaw", "Reaction",
    "Reference", "Species", "SpeciationGroup", "Uncertainty", "Validity", "format_equation", "load_mechanism",
    "parse_equation",
]
