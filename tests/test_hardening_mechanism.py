"""Hostile mechanism and preset input: alias bombs, devices and FIFOs, link loops, non-finite and
overflowing numbers, absurd unit exponents and a misused `tabulated-as: 2k` each give one clean
FentonsimError naming the file (and line where there is one) — never a hang, a traceback or silent
acceptance — while the shipped files still load."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fentonsim as fs
from fentonsim import FentonsimError, MechanismError, UnitError, load_conditions, load_mechanism
from fentonsim.mechanism.yamlio import MAX_EXPANDED_NODES, MAX_FILE_BYTES
from fentonsim.units import parse_quantity, parse_unit, rate_constant_dims

REPO = Path(__file__).resolve().parent.parent
MECHANISMS = REPO / "mechanisms"
PRESETS = MECHANISMS / "conditions"

HEADER = """\
species:
- {name: H+, composition: {H: 1}, charge: 1, buffered: from-pH}
- {name: OH-, composition: {O: 1, H: 1}, charge: -1, buffered: from-pOH}
- {name: H2O, composition: {H: 2, O: 1}, buffered: solvent}
- {name: O2, composition: {O: 2}, buffered: 0.25 mM}
- {name: O2*-, composition: {O: 2}, radical: true}
- {name: H2O2, composition: {H: 2, O: 2}}
- {name: HO*, composition: {H: 1, O: 1}, radical: true}
- {name: Fe+2, composition: {Fe: 1}}
- {name: Fe+3, composition: {Fe: 1}}
"""
FENTON = "- id: F1\n  equation: Fe+2 + H2O2 => Fe+3 + HO* + OH-\n"

PRESET = """\
kind: conditions
pH: 7
temperature: 298.15 K
initial:
  H2O2: {value: 100 uM, range: [50 uM, 200 uM]}
"""


def write(tmp_path, text, name="m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def finishes(function, timeout=10.0):
    """Run ``function`` in a thread; return (finished, result or exception). A blocked thread is left as a
    daemon so that a regression fails the test instead of hanging the run."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome["value"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), outcome.get("value")


def unblock_fifo(fifo: Path) -> None:
    """Open the write end once, so a reader stuck in open() (the bug) returns and its thread ends."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass  # no reader waiting


# ---------------------------------------------------------------- alias bombs


def _laughs(levels=9, width=9) -> list[str]:
    """Anchors &a..&i, each a list of ``width`` aliases of the previous one: width**levels leaves."""
    names = "abcdefghijklmnop"[:levels]
    lines = [f"&{names[0]} [" + ", ".join(["lol"] * width) + "]"]
    for previous, name in zip(names, names[1:]):
        lines.append(f"&{name} [" + ", ".join([f"*{previous}"] * width) + "]")
    return lines


BOMB_MECHANISM = ("species:\n- name: X\n  composition: {H: 1}\n  note: [" + ", ".join(_laughs()) + "]\n"
                  "  buffered: *i\nreactions: []\n")
BOMB_PRESET = ("kind: conditions\ninitial:\n  X:\n    note: [" + ", ".join(_laughs()) + "]\n"
               "    value: 1 uM\n    range: [*i, 1 uM]\n")


def _load_in_bounded_process(kind: str, path: Path) -> subprocess.CompletedProcess:
    """Load ``path`` in a child limited to 1 GB of address space and 60 s, so the bug cannot harm pytest."""
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        import fentonsim as fs
        try:
            fs.{kind}(sys.argv[1])
        except fs.FentonsimError as exc:
            print("ERROR", exc)
    """)
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
@pytest.mark.parametrize("kind, text", [("load_mechanism", BOMB_MECHANISM), ("load_conditions", BOMB_PRESET)])
def test_alias_bomb_is_refused_with_the_file_name(tmp_path, kind, text):
    """A few hundred bytes of nested aliases (billion laughs) give a prompt one-line error naming the file,
    not minutes of work and gigabytes of memory."""
    path = write(tmp_path, text, "bomb.yaml")
    assert len(text.encode()) < 600
    proc = _load_in_bounded_process(kind, path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stdout.startswith(f"ERROR {path}:"), proc.stdout[:500]
    assert "aliases expand" in proc.stdout and len(proc.stdout.splitlines()) == 1


def test_modest_aliases_still_load(tmp_path):
    """Anchors that repeat a small block (far below the expansion limit) are valid YAML and still load."""
    m = load_mechanism(write(tmp_path, HEADER + "reactions:\n" + FENTON + "  rate: &r {k: 55}\n"
                             "- id: F2\n  equation: Fe+3 + O2*- => Fe+2 + O2\n  rate: *r\n"))
    assert [r.rate.k for r in m.reactions] == [55.0, 55.0]
    assert MAX_EXPANDED_NODES >= 10_000


def test_recursive_alias_is_refused(tmp_path):
    """An alias inside the block it names (a cyclic structure) is refused at its line."""
    path = write(tmp_path, "species: &s [*s]\nreactions: []\n")
    with pytest.raises(MechanismError, match="recursive") as info:
        load_mechanism(path)
    assert info.value.path == str(path) and info.value.line == 1


def test_deep_nesting_is_refused(tmp_path):
    """Thousands of nested brackets give a clean error naming the file, not a RecursionError."""
    path = write(tmp_path, "species: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(MechanismError) as info:
        load_mechanism(path)
    assert info.value.path == str(path) and "nested" in str(info.value)


# ---------------------------------------------------------------- files are data, never devices


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_include_of_a_device_is_refused_at_the_include_line(tmp_path, device):
    """`include: /dev/zero` is refused from its stat alone, at the include line, without reading."""
    path = write(tmp_path, f"include: {device}\nspecies: []\nreactions: []\n")
    done, result = finishes(lambda: load_mechanism(path))
    assert done, "loading hung on a device"
    assert isinstance(result, MechanismError), repr(result)
    assert (result.path, result.line) == (str(path), 1)
    assert "character device" in str(result) and device in str(result)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_device_as_mechanism_or_preset_is_refused():
    """A device given as the mechanism or preset itself is refused promptly, naming it."""
    for load in (load_mechanism, load_conditions, fs.load):
        done, result = finishes(lambda: load("/dev/zero"))
        assert done and isinstance(result, MechanismError), repr(result)
        assert str(result).startswith("/dev/zero: is a character device")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("how", ["mechanism", "include", "preset"])
def test_fifo_is_refused_without_blocking(tmp_path, how):
    """A FIFO (whose open() would block until a writer appears) is refused at once, naming it."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    if how == "include":
        path = write(tmp_path, "include: [pipe.yaml]\nspecies: []\nreactions: []\n")
        call = lambda: load_mechanism(path)  # noqa: E731
    else:
        call = (lambda: load_mechanism(fifo)) if how == "mechanism" else (lambda: load_conditions(fifo))  # noqa: E731
    try:
        done, result = finishes(call, timeout=10)
    finally:
        unblock_fifo(fifo)
    assert done, "loading blocked on a FIFO"
    assert isinstance(result, MechanismError), repr(result)
    assert "named pipe (FIFO)" in str(result) and "pipe.yaml" in str(result)
    if how == "include":
        assert (result.path, result.line) == (str(path), 1)


def test_oversized_file_is_refused_without_reading(tmp_path):
    """A file over the size cap (sparse, so the test stays cheap) is refused from its size."""
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(MechanismError, match="MB limit") as info:
        load_mechanism(big)
    assert info.value.path == str(big)
    path = write(tmp_path, "include: big.yaml\nspecies: []\nreactions: []\n")
    with pytest.raises(MechanismError, match="MB limit") as info:
        load_mechanism(path)
    assert (info.value.path, info.value.line) == (str(path), 1)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_loop_is_named(tmp_path):
    """A symbolic link loop, included or loaded directly, is a MechanismError naming it, not RuntimeError."""
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    path = write(tmp_path, "include: [a.yaml]\nspecies: []\nreactions: []\n", "top.yaml")
    with pytest.raises(MechanismError, match="symbolic link loop") as info:
        load_mechanism(path)
    assert (info.value.path, info.value.line) == (str(path), 1)
    with pytest.raises(MechanismError, match="symbolic link loop"):
        load_mechanism(tmp_path / "a.yaml")
    with pytest.raises(MechanismError, match="symbolic link loop"):
        load_conditions(tmp_path / "a.yaml")


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_include_cycle_through_a_symlink_is_named(tmp_path):
    """A file that includes a link to itself is reported as an include cycle at the include line."""
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "top.yaml")
    path = write(tmp_path, "include: [alias.yaml]\nspecies: []\nreactions: []\n", "top.yaml")
    with pytest.raises(MechanismError, match="include cycle") as info:
        load_mechanism(path)
    assert (info.value.path, info.value.line) == (str(path), 1)


# ---------------------------------------------------------------- numbers and units


def _reaction(rate="{k: 55}", extra=""):
    return HEADER + "reactions:\n" + FENTON + f"  rate: {rate}\n" + extra


# case -> (a whole mechanism text, fragment the message must contain)
NUMERIC_CASES = {
    "k .nan": (_reaction("{k: .nan}"), "finite"),
    "k 1e400": (_reaction("{k: 1e400}"), "too large"),
    "k -1e400": (_reaction("{k: -1e400}"), "too large"),
    "k 1e-400": (_reaction("{k: 1e-400}"), "too small"),
    "k 400-digit int": (_reaction("{k: 1" + "0" * 400 + "}"), "finite"),
    "k string 1e400": (_reaction("{k: '1e400 M^-1 s^-1'}"), "finite"),
    "k overflows in units": (_reaction("{k: '1e300 nM^-1 s^-1'}"), "infinite in canonical units"),
    "buffered underflows in units": (HEADER + "- {name: X, composition: {H: 1}, buffered: '1e-300 pM'}\n"
                                     "reactions: []\n", "underflows"),
    "k huge exponent": (_reaction("{k: '55 M^-1e6 s^-1'}"), "out of range"),
    "k exponent overflows": (_reaction("{k: '55 mM^-400 s^-1'}"), "out of range"),
    "k list": (_reaction("{k: [1, 2]}"), "expected a number"),
    "Ea 1e400": (_reaction("{k: 55, Ea: 1e400}"), "too large"),
    "Ea overflows in units": (_reaction("{k: 55, Ea: '1e306 kcal/mol'}"), "infinite"),
    "Ea absurd": (_reaction("{k: 55, Ea: '1e30 kJ/mol'}"), "kJ/mol"),
    "Ea_over_R overflows": (_reaction("{k: 55, Ea_over_R: 1e307}"), "kJ/mol"),
    "rate type list": (_reaction("{type: [constant], k: 55}"), "rate type"),
    "uncertainty factor inf": (_reaction("{k: 55}", "  uncertainty: {factor: .inf}\n"), "finite"),
    "uncertainty log10-sd nan": (_reaction("{k: 55}", "  uncertainty: {log10-sd: .nan}\n"), "finite"),
    "uncertainty log10-sd negative": (_reaction("{k: 55}", "  uncertainty: {log10-sd: -1}\n"), "negative"),
    "validity pH inf": (_reaction("{k: 55}", "  validity: {pH: [0, .inf]}\n"), "finite"),
    "evidence list": (_reaction("{k: 55}", "  evidence: [confirmed]\n"), "evidence"),
    "charge nan": (HEADER + "- {name: X, composition: {H: 1}, charge: .nan}\nreactions: []\n", "finite"),
    "charge inf": (HEADER + "- {name: X, composition: {H: 1}, charge: .inf}\nreactions: []\n", "finite"),
    "buffered 1e400": (HEADER + "- {name: X, composition: {H: 1}, buffered: '1e400 M'}\nreactions: []\n",
                       "finite"),
    "pKa dH absurd": (HEADER + "- {name: HO2*, composition: {H: 1, O: 2}}\nspeciation:\n"
                      "- {pool: HO2tot, forms: [HO2*, O2*-], pKa: [{value: 4.8, dH: 1e300}]}\nreactions: []\n",
                      "dH"),
    "fraction per-pH nan": (HEADER + "reactions:\n- id: B\n  reactants: Fe+2 + H2O2\n  rate: {k: 55}\n"
                            "  branches:\n  - {id: B1, products: Fe+3 + HO* + OH-, fraction: {value: 1, "
                            "per-pH: .nan, pH_ref: 7}}\n", "finite"),
    "default temperature inf": (HEADER + "defaults: {temperature: '1e400 K'}\nreactions: []\n", "finite"),
}


@pytest.mark.parametrize("name", sorted(NUMERIC_CASES))
def test_bad_number_is_refused_with_file_and_line(tmp_path, name):
    """Non-finite, overflowing or underflowing numbers, absurd unit exponents and values of the wrong
    type are MechanismErrors at file:line naming the problem (before: accepted, or a bare Python error)."""
    text, fragment = NUMERIC_CASES[name]
    path = write(tmp_path, text)
    with pytest.raises(MechanismError) as info:
        load_mechanism(path)
    assert info.value.path == str(path) and info.value.line is not None, str(info.value)
    assert fragment in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_parameter_set_override_numbers_are_checked(tmp_path):
    """Overrides in a parameter set get the same finiteness and range checks as the rates they replace."""
    for override, fragment in (("{k: 1e400}", "too large"), ("{Ea: '1e30 kJ/mol'}", "kJ/mol"),
                               ("{Ea: 1, Ea_over_R: 1}", "both")):
        path = write(tmp_path, _reaction() + f"parameter-sets:\n  alt:\n    reactions:\n      F1: {override}\n")
        with pytest.raises(MechanismError, match=re.escape(fragment)) as info:
            load_mechanism(path)
        assert info.value.path == str(path) and info.value.line is not None


@pytest.mark.parametrize("text", ["M^-1e6 s^-1", "mM^-400", "fL^-30", "fL^-20 fL^-20", "fL^30"])
def test_unit_with_absurd_exponent_is_a_unit_error(text):
    """Unit strings whose exponent or scale a double cannot hold raise UnitError, not OverflowError."""
    with pytest.raises(UnitError):
        parse_unit(text)


def test_quantities_that_leave_the_double_range_are_unit_errors():
    """A finite number that overflows on conversion, or a huge int, is a UnitError (underflow is refused
    in files, by FileReader.quantity)."""
    for value, order in (("1e300 nM^-2 s^-1", 3), (10**400, 3)):
        with pytest.raises(UnitError):
            parse_quantity(value, rate_constant_dims(order), "M^-2 s^-1", "k")
    assert parse_quantity("63 M^-1 s^-1", rate_constant_dims(2), "M^-1 s^-1", "k") == 63.0


PRESET_CASES = {
    "range nan": (PRESET.replace("[50 uM, 200 uM]", "[.nan, 200 uM]"), "finite"),
    "pH range inf": (PRESET.replace("pH: 7", "pH: {value: 7, range: [6, .inf]}"), "finite"),
    "pH 1e400": (PRESET.replace("pH: 7", "pH: 1e400"), "too large"),
    "unknown unit header": ("units: {concentration: furlongs}\n" + PRESET, "furlongs"),
    "oxygen empty": (PRESET + "oxygen:\n", "oxygen"),
    "initial overflow": (PRESET.replace("100 uM,", "1e400 uM,"), "finite"),
}


@pytest.mark.parametrize("name", sorted(PRESET_CASES))
def test_bad_preset_value_is_refused_with_file_and_line(tmp_path, name):
    """Condition presets refuse the same bad numbers and units, naming file and line."""
    text, fragment = PRESET_CASES[name]
    path = write(tmp_path, text, "preset.yaml")
    with pytest.raises(MechanismError) as info:
        load_conditions(path)
    assert info.value.path == str(path) and info.value.line is not None, str(info.value)
    assert fragment in str(info.value), str(info.value)


# ---------------------------------------------------------------- tabulated-as: 2k


@pytest.mark.parametrize("equation", ["Fe+2 + O2*- + 2 H+ => Fe+3 + H2O2",
                                      "Fe+3 + 2 OH- => Fe+2 + HO* + OH-",
                                      "HO* + 2 H2O => H2O2 + H2O + H+ + OH- + HO*"])
def test_2k_needs_a_real_self_reaction(tmp_path, equation):
    """`tabulated-as: 2k` with only H+, OH- or water at coefficient 2 is refused, not silently halved."""
    path = write(tmp_path, HEADER + f"reactions:\n- id: X\n  equation: {equation}\n  rate: {{k: 1e7}}\n"
                 "  tabulated-as: 2k\n")
    with pytest.raises(MechanismError, match="not a self-reaction") as info:
        load_mechanism(path)
    assert (info.value.path, info.value.line) == (str(path), HEADER.count("\n") + 5)


def test_2k_on_a_true_self_reaction_still_halves(tmp_path):
    """2 HO* => H2O2 tabulated as 2k is still accepted and stored as k/2."""
    path = write(tmp_path, HEADER + "reactions:\n- id: R\n  equation: 2 HO* => H2O2\n  rate: {k: 1.1e10}\n"
                 "  tabulated-as: 2k\n")
    assert load_mechanism(path).reactions[0].rate.k == pytest.approx(5.5e9)


# ---------------------------------------------------------------- shipped names


@pytest.mark.parametrize("cwd", ["repo", "elsewhere"])
def test_shipped_file_names_merge(tmp_path, monkeypatch, cwd):
    """`fs.load(["copper.yaml", "probes.yaml"])` resolves shipped names from the repository root and from
    any other directory."""
    monkeypatch.chdir(REPO if cwd == "repo" else tmp_path)
    mechanism = fs.load(["copper.yaml", "probes.yaml"])
    assert mechanism.name == "copper+probes"
    assert {Path(f).name for f in mechanism.files} >= {"copper.yaml", "probes.yaml", "ros_core.yaml"}


# ---------------------------------------------------------------- fuzz of the shipped files

_NUMBER = re.compile(r"(?<![\w.*+^-])[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])")
_UNIT = re.compile(r"\b(?:M|mM|uM|s)\^-?\d+(?:\.\d+)?")
_KEY = re.compile(r"^\s*-?\s*([A-Za-z_][\w-]*):")
BAD_VALUES = (".nan", "nan", ".inf", "-.inf", "1e400", "-1e400", "1e-400", "'1e400 M'", "1" + "0" * 400,
              "abc", "[1, 2]", "{a: 1}", "true", "~", "''", "-5", "0", "1e308", "'1e300 nM^-3 s^-1'",
              "'1 M^-1e6 s^-1'", "'1 mM^-400 s^-1'", "'1e-300 pM^2 s^-1'", "[]", "{}", "[[1, 2]]",
              "{k: .nan}", "-1", "1.5", "2", "'10 K'", "'2 H+ => H2'", "[.nan, 1]", "[1, .inf]")
BAD_UNITS = ("M^-1e6", "M^-400", "fL^-30", "M^99", "M^.5")
SHIPPED = sorted(p.name for p in MECHANISMS.glob("*.yaml"))
SHIPPED_PRESETS = sorted(p.name for p in PRESETS.glob("*.yaml"))


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory) -> Path:
    """A copy of mechanisms/ (with conditions/), so mutated files include mutated-or-pristine copies."""
    target = tmp_path_factory.mktemp("shipped") / "mechanisms"
    shutil.copytree(MECHANISMS, target)
    return target


@st.composite
def mutations(draw, names):
    """(file name, mutated text): one number, unit or value replaced, or one keyed line deleted."""
    name = draw(st.sampled_from(names))
    lines = ((MECHANISMS / name) if (MECHANISMS / name).is_file() else PRESETS / name).read_text().splitlines()
    kind = draw(st.sampled_from(["number", "unit", "value", "delete"]))
    pattern = {"number": _NUMBER, "unit": _UNIT, "value": _KEY, "delete": _KEY}[kind]
    candidates = [i for i, line in enumerate(lines) if pattern.search(line)]
    index = draw(st.sampled_from(candidates))
    line = lines[index]
    if kind == "delete":
        lines.pop(index)
    elif kind == "value":
        key = _KEY.search(line)
        lines[index] = line[:key.end()] + " " + draw(st.sampled_from(BAD_VALUES))
    else:
        matches = list(pattern.finditer(line))
        match = draw(st.sampled_from(matches))
        replacement = draw(st.sampled_from(BAD_VALUES if kind == "number" else BAD_UNITS))
        lines[index] = line[:match.start()] + replacement + line[match.end():]
    return name, "\n".join(lines) + "\n"


def _check_clean(load, path: Path, folder: Path) -> None:
    """Either ``load(path)`` succeeds or it raises a FentonsimError whose one-line message names a file."""
    try:
        load(path)
    except FentonsimError as exc:
        message = str(exc)
        assert str(folder) in message, f"error does not name the file: {message}"
        assert "Traceback" not in message


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(mutation=mutations(SHIPPED))
def test_fuzzed_shipped_mechanisms_load_or_fail_cleanly(shipped_copy, mutation):
    """Mutating one number, unit or value of a shipped mechanism (nan, inf, 1e400, text, huge unit
    exponents, …) or deleting one keyed line gives either a loadable mechanism or a FentonsimError naming
    the file — never a bare Python exception."""
    name, text = mutation
    _check_mutated(load_mechanism, shipped_copy / name, text, shipped_copy)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations(SHIPPED_PRESETS))
def test_fuzzed_shipped_presets_load_or_fail_cleanly(shipped_copy, mutation):
    """Mutating one value of a shipped condition preset gives a preset or a FentonsimError naming the
    file — never a bare Python exception."""
    name, text = mutation
    _check_mutated(load_conditions, shipped_copy / "conditions" / name, text, shipped_copy)


def _check_mutated(loader, target, text, root):
    """Write the mutated ``text`` over ``target``, check the loader fails cleanly or loads, restore the file."""
    original = target.read_text()
    target.write_text(text)
    try:
        _check_clean(loader, target, root)
    finally:
        target.write_text(original)


def test_shipped_files_still_load():
    """Every shipped mechanism and preset loads under the new limits (valid input is never refused)."""
    for name in SHIPPED:
        load_mechanism(MECHANISMS / name)
    for name in SHIPPED_PRESETS:
        load_conditions(PRESETS / name)
