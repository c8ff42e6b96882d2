"""Expression trees (the math of imported SBML rules and events): evaluation, folding and the affine
decomposition that streaming statistics rely on."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, strategies as st

from fentonsim.expression import affine, evaluate, num, op, substitute, sym, symbols, to_text

NAMES = ("X", "Y", "k")
numbers = st.floats(min_value=-10, max_value=10, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


def trees(max_leaves=8):
    leaves = st.one_of(numbers.map(num), st.sampled_from(NAMES).map(sym))
    return st.recursive(leaves, lambda children: st.one_of(
        st.tuples(st.sampled_from(["plus", "times", "minus"]), st.lists(children, min_size=2, max_size=3)).map(
            lambda t: op(t[0], *(t[1][:2] if t[0] == "minus" else t[1]))),
        st.tuples(children, numbers).map(lambda t: op("divide", t[0], num(t[1]))),
        children.map(lambda c: op("minus", c)),
    ), max_leaves=max_leaves)


@given(trees(), st.dictionaries(st.sampled_from(NAMES), numbers, min_size=3))
def test_affine_decomposition_reproduces_the_value(expr, values):
    """When affine() decomposes a tree, constant + Σ coef·value equals evaluate() (to round-off)."""
    linear = affine(expr)
    if linear is None:
        return
    constant, coefficients = linear
    expected = evaluate(expr, values)
    got = constant + sum(c * values[name] for name, c in coefficients.items())
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-6 * (1 + abs(expected)))


@given(trees(), st.dictionaries(st.sampled_from(NAMES), numbers, min_size=3))
def test_substitution_then_evaluation_equals_evaluation(expr, values):
    """Folding known symbols first never changes the value, and removes them from the tree."""
    partial = {"k": values["k"]}
    folded = substitute(expr, partial)
    assert "k" not in symbols(folded)
    assert math.isclose(evaluate(folded, values), evaluate(expr, values), rel_tol=1e-9, abs_tol=1e-9)


def test_products_of_two_symbols_are_not_affine_and_arrays_broadcast():
    """X·Y is not affine; evaluation works element-wise on arrays; text is readable."""
    expr = op("plus", op("times", num(2), sym("X")), num(1))
    assert affine(op("times", sym("X"), sym("Y"))) is None
    assert affine(expr) == (1.0, {"X": 2.0})
    np.testing.assert_allclose(evaluate(expr, {"X": np.array([0.0, 1.0, 2.0])}), [1.0, 3.0, 5.0])
    assert to_text(expr) == "((2 * X) + 1)"
