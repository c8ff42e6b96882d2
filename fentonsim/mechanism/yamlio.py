"""Reading YAML with line numbers, and the checks every mapping in a file gets.

ruamel.yaml's round-trip loader keeps the position of every key, so each
error can name the file and line where the problem is.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from ..errors import MechanismError, UnitError
from ..units import parse_quantity


def read_mapping(path: Path) -> CommentedMap:
    """Read ``path`` and return its top-level mapping.

    Raises
    ------
    MechanismError
        Missing or unreadable file, binary content, empty file, YAML syntax
        error, duplicate key, or a top level that is not a mapping.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MechanismError("file not found", path) from None
    except IsADirectoryError:
        raise MechanismError("is a directory; expected a YAML file", path) from None
    except OSError as exc:
        raise MechanismError(f"cannot read file: {exc.strerror}", path) from None
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MechanismError("binary file; expected a UTF-8 YAML text file", path, 1) from None
    try:
        loaded = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        problem = exc.problem or exc.context or "invalid YAML"
        if type(exc).__name__ == "DuplicateKeyError":
            found = re.search(r'duplicate key "([^"]*)"', str(exc))
            key = found.group(1) if found else "?"
            problem = f"duplicate key `{key}`; each key may appear once per mapping"
        raise MechanismError(f"YAML syntax error: {problem}", path, line) from None
    except Exception as exc:  # ruamel raises a few unmarked errors for odd bytes
        raise MechanismError(f"YAML syntax error: {exc}", path, 1) from None
    if loaded is None:
        raise MechanismError(
            "file is empty; expected a mapping with `species` and `reactions` "
            "(or `kind: conditions`)", path, 1
        )
    if not isinstance(loaded, CommentedMap):
        raise MechanismError(
            f"expected a mapping (`key: value` lines) at the top level, found a "
            f"{_kind(loaded)}", path, 1
        )
    return loaded


def _kind(value) -> str:
    if isinstance(value, (CommentedSeq, list)):
        return "list"
    if isinstance(value, (CommentedMap, dict)):
        return "mapping"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


class FileReader:
    """Helpers bound to one file: line lookup, key checks, typed access."""

    def __init__(self, path: Path, default_units: dict):
        self.path = path
        self.units = default_units

    def line(self, node, key=None) -> int | None:
        """1-based line of ``key`` in mapping ``node`` (or index in a list)."""
        try:
            if key is None:
                return node.lc.line + 1
            if isinstance(node, CommentedSeq):
                return node.lc.item(key)[0] + 1
            return node.lc.key(key)[0] + 1
        except (AttributeError, KeyError, IndexError, TypeError):
            return None

    def error(self, message: str, node=None, key=None) -> MechanismError:
        return MechanismError(message, self.path, self.line(node, key) if node is not None else None)

    def check_keys(self, node, allowed, what: str, required=()) -> None:
        """Reject unknown keys (suggesting the closest valid one) and missing ones."""
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.5)
                if not close:
                    close = [a for a in allowed if str(a).lower() == str(key).lower()]
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                raise self.error(
                    f"unknown key `{key}` in {what}{hint}; expected one of "
                    f"{', '.join(f'`{a}`' for a in sorted(allowed))}",
                    node, key,
                )
        for key in required:
            if key not in node:
                raise self.error(f"{what} is missing the required key `{key}`", node)

    def mapping(self, node, key, what: str, required=False):
        value = node.get(key)
        if value is None:
            if required:
                raise self.error(f"{what} is missing the required key `{key}`", node)
            return None
        if not isinstance(value, CommentedMap):
            raise self.error(f"`{key}` in {what} must be a mapping, found a {_kind(value)}", node, key)
        return value

    def sequence(self, node, key, what: str):
        value = node.get(key)
        if value is None:
            return CommentedSeq()
        if not isinstance(value, CommentedSeq):
            raise self.error(f"`{key}` in {what} must be a list, found a {_kind(value)}", node, key)
        return value

    def string(self, node, key, what: str, required=False, default=None) -> str | None:
        value = node.get(key, default)
        if value is None:
            if required:
                raise self.error(f"{what} is missing the required key `{key}`", node)
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(f"`{key}` in {what} must be text, found a {_kind(value)}", node, key)
        return str(value)

    def number(self, node, key, what: str, default=None, integer=False):
        value = node[key] if isinstance(node, CommentedSeq) else node.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"`{key}` in {what} must be a number, found {_kind(value)} `{value}`", node, key)
        if integer and int(value) != value:
            raise self.error(f"`{key}` in {what} must be a whole number, found `{value}`", node, key)
        return int(value) if integer else float(value)

    def boolean(self, node, key, what: str, default=False) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"`{key}` in {what} must be true or false, found `{value}`", node, key)
        return value

    def quantity(self, node, key, dims, default_unit, what: str, positive=False, non_negative=False):
        """Convert ``node[key]`` to canonical units, with file:line on error."""
        try:
            value = parse_quantity(node[key], dims, default_unit, what)
        except UnitError as exc:
            raise self.error(str(exc), node, key) from None
        if positive and not value > 0:
            raise self.error(f"{what} must be positive, found `{node[key]}`", node, key)
        if non_negative and value < 0:
            raise self.error(f"{what} must not be negative, found `{node[key]}`", node, key)
        return value
