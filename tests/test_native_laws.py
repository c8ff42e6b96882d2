"""Native law code (fentonsim.native_laws): the generated functions compute what the interpreter computes, bit
for bit, so ODE and SSA runs give identical numbers with either; the mode decides when code is compiled."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fentonsim as fs
from fentonsim import native_laws
from fentonsim._jit import JIT_DISABLED
from fentonsim.expression import num, op, sym
from fentonsim.kernels.laws import _one_program, evaluate_programs
from fentonsim.laws import compile_laws

from test_laws import _michaelis_menten, _sbml, _state_event_model, trees

libsbml = pytest.importorskip("libsbml")
pytestmark = pytest.mark.skipif(JIT_DISABLED, reason="NUMBA_DISABLE_JIT=1: there is no native code to compare")

NAMES = ("A", "B")


def every_operation():
    """Expressions over every operation the programs have (comparisons, logic, rem, rounding, trigonometry,
    negation), values allowed to be infinite or NaN: the generated code must agree on those too."""
    leaves = st.one_of(st.floats(min_value=-4.0, max_value=4.0).map(num), st.sampled_from(NAMES + ("time",)).map(sym))
    unary = st.sampled_from(["exp", "ln", "log10", "sqrt", "abs", "not", "floor", "ceil", "sin", "cos", "tan",
                             "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh"])
    binary = st.sampled_from(["plus", "minus", "times", "divide", "power", "min", "max", "rem", "and", "or", "xor"])
    relation = st.sampled_from(["gt", "geq", "lt", "leq", "eq", "neq"])

    def extend(children):
        return st.one_of(
            st.tuples(unary, children).map(lambda t: op(t[0], t[1])),
            st.tuples(binary, children, children).map(lambda t: op(t[0], t[1], t[2])),
            children.map(lambda c: op("minus", c)),
            st.tuples(children, relation, children, children, children).map(
                lambda t: op("piecewise", t[0], ("rel", t[1], (t[2], t[3])), t[4])),
        )
    return st.recursive(leaves, extend, max_leaves=8)


def _pointer(array):
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def _same(a, b) -> bool:
    """The same values (equal, and NaN where the other is NaN: LLVM may swap a commutative operation's NaN
    operands, so a NaN's sign or payload is not compared)."""
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def _tables_agree(programs, x, t):
    """The generated rate table, derivative table and one-program function against the interpreter at (x, t)."""
    x = np.ascontiguousarray(x, dtype=float)
    stack = np.empty(max(programs.stack_size, 1))
    for kind, starts in (("rates", programs.rate_start), ("derivatives", programs.deriv_start)):
        scale = np.linspace(0.5, 2.0, starts.size - 1)
        expected, found = np.empty(starts.size - 1), np.empty(starts.size - 1)
        evaluate_programs(programs.code, programs.operand, programs.constants, starts, scale, x, t, stack, expected)
        (function,) = native_laws._functions(programs, ((kind, None),))
        function.ctypes(_pointer(x), t, _pointer(programs.constants), _pointer(scale), _pointer(found))
        assert _same(found, expected), kind
    n = programs.rate_start.size - 1
    (one,) = native_laws._functions(programs, (("propensity", n),))
    for j in range(n):
        expected = _one_program(programs.code, programs.operand, programs.constants, programs.rate_start, j, x, t,
                                stack)
        assert _same(one.ctypes(j, _pointer(x), t, _pointer(programs.constants)), expected)


@settings(max_examples=6, deadline=None)
@given(st.lists(every_operation(), min_size=20, max_size=30),
       st.lists(st.floats(min_value=-5.0, max_value=5.0), min_size=3, max_size=3))
def test_generated_code_computes_every_operation_as_the_interpreter_does(laws, point):
    """For random expressions over every opcode, at a random state and time (where values may be ±inf or NaN),
    the three generated functions return the interpreter's values bit for bit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(native_laws.MODE_VARIABLE, "always")
        _tables_agree(compile_laws(laws, list(NAMES)), point[:2], point[2])


@settings(max_examples=4, deadline=None)
@given(st.lists(trees(), min_size=20, max_size=30), st.floats(0.05, 5.0), st.floats(0.05, 5.0))
def test_generated_derivatives_match_the_interpreted_ones(laws, a, b):
    """The derivative programs of smooth laws (the Jacobian's entries), generated and interpreted, agree bit
    for bit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(native_laws.MODE_VARIABLE, "always")
        _tables_agree(compile_laws(laws, list(NAMES)), [a, b], 1.5)


def _run_both(monkeypatch, run):
    """(interpreted, native) results of ``run()``, checking that the second did run native code."""
    monkeypatch.setattr(native_laws, "_REGISTRY", native_laws._Registry())
    monkeypatch.setenv(native_laws.MODE_VARIABLE, "never")
    interpreted = run()
    assert not native_laws._REGISTRY.loaded
    monkeypatch.setenv(native_laws.MODE_VARIABLE, "always")
    native = run()
    assert native_laws._REGISTRY.loaded, "the native run interpreted"
    return interpreted, native


def test_an_ode_run_is_identical_with_native_code(monkeypatch, tmp_path):
    """A Michaelis–Menten model: concentrations, extents and step counters are identical with native code."""
    network = fs.compile_network(fs.load(_michaelis_menten(tmp_path)))
    k, y0, t = network.rate_constants(), network.initial_state(), np.linspace(0, 6, 31)
    a, b = _run_both(monkeypatch, lambda: fs.solve_ode(network, k, y0, t))
    assert _same(a.concentration, b.concentration) and _same(a.extent, b.extent)
    assert a.counters == b.counters


def test_state_events_and_batches_are_identical_with_native_code(monkeypatch, tmp_path):
    """A model with a state event, run as one solve and as a parallel batch over 4 rate constants, gives the
    same numbers with native code."""
    path = _state_event_model(tmp_path, [("half", "A < 5e-4", [("B", "1")], None)])
    network = fs.compile_network(fs.load(path))
    k = network.rate_constants() * np.array([[1.0], [0.7], [1.3], [2.0]])
    y0, t = network.initial_state(), np.linspace(0, 8, 41)
    single = _run_both(monkeypatch, lambda: fs.solve_ode(network, k[0], y0, t).concentration)
    batch = _run_both(monkeypatch, lambda: fs.solve_ode_batch(network, k, y0, t).concentration)
    assert _same(*single) and _same(*batch)
    assert _same(batch[1][0], single[1])


def test_an_ssa_ensemble_is_identical_with_native_code(monkeypatch, tmp_path):
    """Seeded general-law SSA runs (a Michaelis–Menten enzyme in molecule counts) fire the same events at the
    same times with native propensities."""
    path = _sbml(tmp_path / "mm_counts.xml", [("S", 400.0, False), ("P", 0.0, False)],
                 [("R", {"S": 1}, {"P": 1}, "V * S / (K + S)")], parameters=[("V", 30.0), ("K", 100.0)],
                 substance="item")
    run = lambda: fs.simulate(path, method="ssa", runs=8, seed=3, t_end=20.0, n_points=11)  # noqa: E731
    a, b = _run_both(monkeypatch, run)
    assert _same(a["count"].values, b["count"].values)


def test_auto_compiles_from_the_second_run_or_from_disk(monkeypatch, tmp_path):
    """``auto``: the first run of a structure interprets; the second compiles both its tables and writes them;
    a fresh process (a new registry) finds them on disk and runs native code from its first run."""
    monkeypatch.setenv(native_laws.MODE_VARIABLE, "auto")
    monkeypatch.setattr(native_laws, "native_cache_dir", lambda: tmp_path)
    monkeypatch.setattr(native_laws, "_REGISTRY", native_laws._Registry())
    # A structure no other test compiles: a sum of 13 distinct powers.
    law = op("plus", *[op("power", sym("A"), num(float(i))) for i in range(13)])
    programs = compile_laws([law], list(NAMES))
    assert native_laws.ode_functions(programs)[0] is False
    assert native_laws.ode_functions(programs)[0] is True
    assert len(list(tmp_path.glob("fentonsim_native_*.py"))) == 2  # rates and derivatives
    monkeypatch.setattr(native_laws, "_REGISTRY", native_laws._Registry())
    assert native_laws.ode_functions(compile_laws([law], list(NAMES)))[0] is True


def test_an_unusable_cache_directory_means_interpreting_with_one_warning(monkeypatch, tmp_path):
    """When the cache directory cannot be made, runs still succeed (interpreted, the same numbers) in ``auto``
    (whose first run does not even look for native code) and ``always``, with one warning naming the error."""
    def unusable():
        raise NotADirectoryError("Not a directory: '/dev/null/cache/fentonsim/native'")

    path = _michaelis_menten(tmp_path)
    monkeypatch.setenv(native_laws.MODE_VARIABLE, "never")
    expected = fs.simulate(path, t_end=1.0)["concentration"].values
    monkeypatch.setattr(native_laws, "native_cache_dir", unusable)
    for chosen in ("auto", "always"):
        monkeypatch.setattr(native_laws, "_REGISTRY", native_laws._Registry())
        monkeypatch.setenv(native_laws.MODE_VARIABLE, chosen)
        with pytest.warns(RuntimeWarning, match="interpreted, not compiled to native code .NotADirectoryError") \
                as seen:
            for _ in range(3):
                assert np.array_equal(fs.simulate(path, t_end=1.0)["concentration"].values, expected)
        assert len([w for w in seen if issubclass(w.category, RuntimeWarning)]) == 1, chosen


def test_never_and_oversized_tables_interpret(monkeypatch):
    """``never`` and a table above MAX_INSTRUCTIONS give the interpreter (use? False, address 0)."""
    programs = compile_laws([op("times", sym("A"), sym("B"))], list(NAMES))
    monkeypatch.setenv(native_laws.MODE_VARIABLE, "never")
    assert native_laws.ode_functions(programs) == (False, 0, 0)
    monkeypatch.setenv(native_laws.MODE_VARIABLE, "always")
    monkeypatch.setattr(native_laws, "MAX_INSTRUCTIONS", 1)
    assert native_laws.ode_functions(compile_laws([op("times", sym("A"), sym("B"))], list(NAMES))) == (False, 0, 0)


def test_an_unknown_mode_is_a_clear_error(monkeypatch, tmp_path):
    """A misspelt FENTONSIM_NATIVE_LAWS stops the run with a message naming the variable and the choices."""
    monkeypatch.setenv(native_laws.MODE_VARIABLE, "fast")
    with pytest.raises(ValueError, match="FENTONSIM_NATIVE_LAWS must be one of auto, always, never, found 'fast'"):
        fs.simulate(_michaelis_menten(tmp_path), t_end=1.0)


def test_a_large_ssa_ensemble_compiles_before_its_first_run(monkeypatch, tmp_path):
    """``auto``: an ensemble whose estimated events reach SSA_EVENTS_WORTH_COMPILING gets native propensities
    from its first trajectory; a smaller one stays interpreted."""
    monkeypatch.setenv(native_laws.MODE_VARIABLE, "auto")
    monkeypatch.setattr(native_laws, "native_cache_dir", lambda: tmp_path)
    path = _sbml(tmp_path / "mm_counts.xml", [("S", 400.0, False), ("P", 0.0, False)],
                 [("R", {"S": 1}, {"P": 1}, "V * S / (K + S)")], parameters=[("V", 30.0), ("K", 100.0)],
                 substance="item")
    # About 400 events per run (every S becomes P): 20 runs are 8,000 events.
    for threshold, compiled in ((10 ** 6, False), (5_000, True)):
        monkeypatch.setattr(native_laws, "_REGISTRY", native_laws._Registry())
        monkeypatch.setattr(native_laws, "SSA_EVENTS_WORTH_COMPILING", threshold)
        fs.simulate(path, method="ssa", runs=20, seed=1, t_end=60.0, n_points=3)
        assert bool(native_laws._REGISTRY.loaded) == compiled
