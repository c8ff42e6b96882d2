"""Exceptions raised by fentonsim.

Every error a user can cause by bad input is a :class:`FentonsimError`; the
CLI prints it as one line (``file:line: message``) and exits 1. Anything else
reaching the user is a bug in fentonsim.
"""
from __future__ import annotations


class FentonsimError(Exception):
    """Base class for errors caused by input the user can fix."""


class MechanismError(FentonsimError):
    """A mechanism or conditions file is malformed or chemically inconsistent.

    Parameters
    ----------
    message : str
        What was expected and what was found.
    path : str, optional
        The file the problem is in.
    line : int, optional
        1-based line number in ``path``.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(self.location_prefix() + message)

    def location_prefix(self) -> str:
        if self.path is None:
            return ""
        if self.line is None:
            return f"{self.path}: "
        return f"{self.path}:{self.line}: "


class DataError(MechanismError):
    """A measured-data file or fit specification is malformed: a missing column, a non-numeric value, an
    unknown species or condition, a negative time (named by file, line and column)."""


class UnitError(FentonsimError):
    """A unit string cannot be parsed or has the wrong dimension."""


class ConditionsError(FentonsimError):
    """Simulation conditions (pH, temperature, volume, concentrations) are invalid."""


class SolverError(FentonsimError):
    """A solver could not meet its tolerance or limits.

    Attributes
    ----------
    time : float
        Simulated time reached [s].
    step : float
        Last step size tried [s].
    species : str
        The species whose error limited the step (``"unknown"`` if none stood out).
    """

    def __init__(self, message: str, time: float = float("nan"), step: float = float("nan"),
                 species: str = "unknown"):
        super().__init__(message)
        self.time = time
        self.step = step
        self.species = species
