"""``fentonsim.load``: any model file — a YAML mechanism or an SBML model — as a Mechanism."""
from __future__ import annotations

from pathlib import Path

from .data import resolve_mechanism_path
from .errors import ConditionsError
from .mechanism import Mechanism, load_mechanism

SBML_SUFFIXES = (".xml", ".sbml")


def is_sbml(path) -> bool:
    return Path(path).suffix.lower() in SBML_SUFFIXES


def load(path, parameter_set=None) -> Mechanism:
    """Load a mechanism (``.yaml``), several merged (a list of ``.yaml`` paths) or an SBML model (``.xml``, ``.sbml``);
    a shipped mechanism may be named (``"iron"``, ``["copper", "probes"]``).

    The result works everywhere a mechanism does (``simulate``, ``compile_network``, the CLI).
    SBML import needs the ``sbml`` extra (python-libsbml); see fentonsim.sbml.importer
    for what is supported.

    Raises
    ------
    MechanismError
        For a malformed or unsupported file (SBMLError for SBML), naming the file and line.
    ConditionsError
        When ``parameter_set`` is given for an SBML model (SBML has no alternative sets).
    """
    if isinstance(path, (list, tuple)):
        sbml = [p for p in path if is_sbml(p)]
        if sbml:
            raise ConditionsError(f"only fentonsim mechanism files can be merged; {sbml[0]} is SBML")
        return load_mechanism(list(path), parameter_set=parameter_set)
    if not isinstance(path, (list, tuple)):
        if isinstance(path, str) and not path.strip():
            raise ConditionsError("the model is empty; expected a mechanism file (.yaml), a shipped mechanism's "
                                  "name (iron, copper, ...) or an SBML model (.xml)")
        path = resolve_mechanism_path(path)  # "iron" names the shipped file (fentonsim.data)
    if is_sbml(path):
        if parameter_set is not None:
            raise ConditionsError(f"`parameter_set` applies to fentonsim mechanisms; {path} is SBML")
        from .sbml.importer import import_sbml
        return import_sbml(path)
    return load_mechanism(path, parameter_set=parameter_set)
