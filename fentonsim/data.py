"""Where the shipped mechanisms and condition presets live, in a checkout and in an installed wheel.

``mechanisms/`` at the top of the repository is the source of truth. The wheel carries the same
files as the package data ``fentonsim/_mechanisms`` (pyproject.toml maps the package
``fentonsim._mechanisms`` onto that folder), read through :mod:`importlib.resources`. A checkout
(or an editable install) uses the folder itself, so an edit to a mechanism file shows at once.

A shipped mechanism can be named instead of given as a path: ``fs.load("iron")``,
``simulate("iron", ...)``, ``include: iron`` in a user's file, ``conditions="tme"``.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import ConditionsError

_CHECKOUT = Path(__file__).resolve().parent.parent / "mechanisms"


def mechanism_directory() -> Path:
    """The folder of the shipped mechanism files (``conditions/`` inside holds the presets)."""
    if (_CHECKOUT / "ros_core.yaml").is_file():
        return _CHECKOUT
    installed = Path(str(resources.files("fentonsim").joinpath("_mechanisms")))
    if (installed / "ros_core.yaml").is_file():
        return installed
    raise ConditionsError("fentonsim's shipped mechanisms are missing: neither the checkout's mechanisms/ nor "
                          "the installed fentonsim/_mechanisms holds ros_core.yaml; reinstall fentonsim")


def preset_directory() -> Path:
    """The folder of the shipped condition presets."""
    return mechanism_directory() / "conditions"


def shipped_mechanisms() -> list[str]:
    """Names of the shipped mechanisms (``iron``, ``copper``, ...), sorted."""
    return sorted(p.stem for p in mechanism_directory().glob("*.yaml"))


def shipped_presets() -> list[str]:
    """Names of the shipped condition presets (``tme``, ``normal``, ``lysosome``), sorted."""
    return sorted(p.stem for p in preset_directory().glob("*.yaml"))


def shipped_mechanism(name) -> Path | None:
    """The path of the shipped mechanism called ``name`` (``"iron"`` or ``"iron.yaml"``), None if there is none.

    Only a bare name counts: anything with a folder in it is a user's path, never redirected.
    """
    text = str(name)
    if not text or "/" in text or "\\" in text:
        return None
    stem = text[:-5] if text.endswith(".yaml") else text
    path = mechanism_directory() / f"{stem}.yaml"
    return path if path.is_file() else None


def resolve_mechanism_path(name) -> Path:
    """``name`` as given when it is an existing file; otherwise the shipped mechanism of that name; otherwise
    the path as given (so the loader reports it missing)."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = shipped_mechanism(name)
    return shipped if shipped is not None else path


__all__ = ["mechanism_directory", "preset_directory", "resolve_mechanism_path", "shipped_mechanism",
           "shipped_mechanisms", "shipped_presets"]
