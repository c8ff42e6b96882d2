"""Reading YAML with line numbers, and the checks every mapping in a file gets.

ruamel.yaml's round-trip loader keeps the position of every key, so each
error can name the file and line where the problem is.
"""
from __future__ import annotations

import difflib
import errno
import math
import os
import re
import stat
import sys
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent

from ..errors import MechanismError, UnitError
from ..units import parse_quantity

#: Largest mechanism or preset file read [bytes]; the biggest shipped file is under 20 kB.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Most YAML nodes a file may hold once every alias is expanded. Anchors that repeat small blocks stay far
#: below; nested aliases (billion laughs) reach it after a few hundred bytes instead of eating memory.
MAX_EXPANDED_NODES = 100_000
#: Deepest nesting of YAML collections; the format needs about six levels.
MAX_DEPTH = 100

_FILE_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))


class _LimitError(MarkedYAMLError):
    """A file that parses but would expand past MAX_EXPANDED_NODES or refers to itself."""


class _BoundedComposer(Composer):
    """ruamel's composer, counting nodes as if every alias were expanded.

    ruamel builds an alias as a shared reference, so loading nested aliases is cheap; the blow-up comes
    later, when any code walks or prints the value. Refusing while composing stops it at the source.
    """

    def __init__(self, loader=None):
        super().__init__(loader)
        self.expanded = 0
        self.weights: dict = {}  # anchor -> expanded node count of its value
        self.open_anchors: set = set()

    def compose_node(self, parent, index):
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self.open_anchors:
                raise _LimitError(None, None, f"alias `*{event.anchor}` refers to the block that contains it "
                                  "(a recursive structure); expected plain data", event.start_mark)
            self._count(self.weights.get(event.anchor, 1), event)
            return super().compose_node(parent, index)
        anchor, before = event.anchor, self.expanded
        self._count(1, event)
        if anchor is not None:
            self.open_anchors.add(anchor)
        node = super().compose_node(parent, index)
        if anchor is not None:
            self.open_anchors.discard(anchor)
            self.weights[anchor] = self.expanded - before
        return node

    def _count(self, nodes: int, event) -> None:
        self.expanded += nodes
        if self.expanded > MAX_EXPANDED_NODES:
            raise _LimitError(None, None, f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes "
                              "(nested anchors such as a billion-laughs file); expected a plain mechanism "
                              "or preset file", event.start_mark)


class _CheckedConstructor(RoundTripConstructor):
    """Round-trip constructor that refuses numbers a double cannot hold instead of rounding them to inf or 0."""

    def construct_yaml_float(self, node):
        value = super().construct_yaml_float(node)
        text = str(node.value).strip().lower().replace("_", "")
        mantissa = text.split("e")[0]
        if math.isinf(value) and not text.lstrip("+-").startswith(".inf"):
            raise _LimitError(None, None, f"number `{node.value}` is too large (overflows a double to "
                              "infinity); expected a finite number", node.start_mark)
        if value == 0 and re.search(r"[1-9]", mantissa):
            raise _LimitError(None, None, f"number `{node.value}` is too small (underflows a double to 0); "
                              "expected a number above 1e-300 in magnitude, or 0", node.start_mark)
        return value


_CheckedConstructor.add_constructor("tag:yaml.org,2002:float", _CheckedConstructor.construct_yaml_float)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Composer = _BoundedComposer
    yaml.Constructor = _CheckedConstructor
    yaml.max_depth = MAX_DEPTH
    return yaml


def file_problem(path) -> str | None:
    """Why ``path`` cannot be read as a mechanism or preset file, or None if it can.

    Missing files, symbolic link loops, directories, devices, FIFOs, sockets and files over
    MAX_FILE_BYTES are told apart by ``stat`` alone: reading /dev/zero never ends and opening a FIFO
    blocks until a writer appears.
    """
    try:
        return _stat_problem(os.stat(path))
    except OSError as exc:
        return _os_problem(exc)
    except ValueError:  # a NUL byte in the name
        return "file name contains a NUL byte; expected a path"


def _read_regular_file(path: Path) -> bytes:
    """The bytes of ``path``, a regular file of at most MAX_FILE_BYTES.

    The file is opened non-blocking and checked again, so a FIFO swapped in after the first check is
    refused too rather than blocking.
    """
    problem = file_problem(path)
    if problem is not None:
        raise MechanismError(problem, path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise MechanismError(_os_problem(exc), path) from None
    with os.fdopen(fd, "rb") as handle:
        problem = _stat_problem(os.fstat(handle.fileno()))
        if problem is not None:
            raise MechanismError(problem, path)
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise MechanismError(_os_problem(exc), path) from None
    if len(data) > MAX_FILE_BYTES:  # grew after the check
        raise MechanismError(_too_big(len(data)), path)
    return data


def _stat_problem(info: os.stat_result) -> str | None:
    if stat.S_ISDIR(info.st_mode):
        return "is a directory; expected a YAML file"
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a regular file")
        return f"is {kind}; expected a regular YAML file"
    if info.st_size > MAX_FILE_BYTES:
        return _too_big(info.st_size)
    return None


def _too_big(size: int) -> str:
    return (f"file is {size} bytes, more than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit; expected a "
            "mechanism or preset text file")


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (a link that leads back to itself); expected a YAML file"
    if exc.errno == errno.EISDIR:
        return "is a directory; expected a YAML file"
    return f"cannot read file: {exc.strerror or exc}"


def read_mapping(path: Path) -> CommentedMap:
    """Read ``path`` and return its top-level mapping.

    Raises
    ------
    MechanismError
        Missing or unreadable file, a device, FIFO or oversized file, binary
        content, empty file, YAML syntax error, duplicate key, aliases that
        expand too far, or a top level that is not a mapping.
    """
    data = _read_regular_file(Path(path))
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MechanismError("binary file; expected a UTF-8 YAML text file", path, 1) from None
    try:
        loaded = _yaml().load(text)
    except _LimitError as exc:
        raise MechanismError(exc.problem, path, exc.problem_mark.line + 1) from None
    except MaxDepthExceededError as exc:
        raise MechanismError(f"YAML nested more than {MAX_DEPTH} levels deep; expected a mechanism or preset "
                             "file (about six levels)", path, exc.problem_mark.line + 1) from None
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
        raise MechanismError(f"YAML syntax error: {_first_line(exc)}", path, 1) from None
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


def _is_finite(value) -> bool:
    """True for an int or float a double holds finitely (an int of 400 digits does not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _nonzero(raw) -> bool:
    """Whether a quantity as written has a non-zero number (``"1e-200 nM"`` does; ``0`` does not)."""
    if isinstance(raw, (int, float)):
        return raw != 0
    number = re.match(r"\s*[+-]?([\d.]*)", str(raw).replace("−", "-"))
    return bool(number and re.search(r"[1-9]", number.group(1)))


def _short(value, limit: int = 60) -> str:
    """``value`` as text for a message, cut so a huge list cannot flood the one error line."""
    text = str(value).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


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
            if required and key in node:  # `key:` written with nothing after it
                raise self.error(f"`{key}` in {what} is empty; expected text", node, key)
            if required:
                raise self.error(f"{what} is missing the required key `{key}`", node)
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(f"`{key}` in {what} must be text, found a {_kind(value)}", node, key)
        return str(value)

    def number(self, node, key, what: str, default=None, integer=False, required=False):
        value = node[key] if isinstance(node, CommentedSeq) else node.get(key, default)
        if value is None:
            if required:
                raise self.error(f"`{key}` in {what} is empty; expected a number", node, key)
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"`{key}` in {what} must be a number, found {_kind(value)} `{_short(value)}`",
                             node, key)
        if not _is_finite(value):
            raise self.error(f"`{key}` in {what} must be a finite number, found `{_short(value)}`", node, key)
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
        if not math.isfinite(value):
            raise self.error(f"{what}: `{_short(node[key])}` overflows to infinity in canonical units; "
                             "expected a finite value", node, key)
        if (value == 0 and _nonzero(node[key])) or 0 < abs(value) < sys.float_info.min:
            raise self.error(f"{what}: `{_short(node[key])}` underflows to 0 in canonical units; expected a "
                             "value a double can hold", node, key)
        if positive and not value > 0:
            raise self.error(f"{what} must be positive, found `{node[key]}`", node, key)
        if non_negative and value < 0:
            raise self.error(f"{what} must not be negative, found `{node[key]}`", node, key)
        return value
