"""The lab's formula parser: what a learner types becomes zerodl operations, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
from zerodl.lab.formula import (
    MAX_DEPTH,
    MAX_LENGTH,
    FormulaError,
    compile_formula,
    cos,
    sin,
    to_text,
)
from zerodl.numerical import gradcheck


def value_and_grad(text, x, y):
    """f(x, y) and (df/dx, df/dy) by autodiff, on float64 arrays."""
    tx = zd.tensor(x, requires_grad=True)
    ty = zd.tensor(y, requires_grad=True)
    z = compile_formula(text)(tx, ty)
    z.sum().backward()
    return z.numpy(), tx.grad.numpy(), ty.grad.numpy()


# Each case: formula, f, df/dx, df/dy written by hand.
CASES = [
    ("x^2/20 + y^2", lambda x, y: x**2 / 20 + y**2, lambda x, y: x / 10, lambda x, y: 2 * y),
    ("(1 - x)^2 + 100*(y - x^2)^2",
     lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
     lambda x, y: -2 * (1 - x) - 400 * x * (y - x**2),
     lambda x, y: 200 * (y - x**2)),
    ("sin(x) * cos(y)",
     lambda x, y: np.sin(x) * np.cos(y),
     lambda x, y: np.cos(x) * np.cos(y),
     lambda x, y: -np.sin(x) * np.sin(y)),
    ("exp(-(x^2 + y^2)/2)",
     lambda x, y: np.exp(-(x**2 + y**2) / 2),
     lambda x, y: -x * np.exp(-(x**2 + y**2) / 2),
     lambda x, y: -y * np.exp(-(x**2 + y**2) / 2)),
    ("log(1 + x^2) + sqrt(1 + y^2)",
     lambda x, y: np.log(1 + x**2) + np.sqrt(1 + y**2),
     lambda x, y: 2 * x / (1 + x**2),
     lambda x, y: y / np.sqrt(1 + y**2)),
    ("abs(x) + tanh(y)",
     lambda x, y: np.abs(x) + np.tanh(y),
     lambda x, y: np.sign(x),
     lambda x, y: 1 - np.tanh(y) ** 2),
    ("x*y - y/x", lambda x, y: x * y - y / x, lambda x, y: y + y / x**2, lambda x, y: x - 1 / x),
    ("2^x + pi*y", lambda x, y: 2**x + np.pi * y, lambda x, y: np.log(2) * 2**x,
     lambda x, y: np.full_like(y, np.pi)),
    ("e^x", lambda x, y: np.exp(x), lambda x, y: np.exp(x), lambda x, y: np.zeros_like(y)),
    ("3", lambda x, y: np.full_like(x, 3.0), lambda x, y: 0 * x, lambda x, y: 0 * y),
]


@pytest.mark.parametrize("text, f, fx, fy", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_match_the_hand_written_formula(text, f, fx, fy, rng):
    x = rng.uniform(0.5, 2.0, size=(4, 5))          # positive and away from abs's kink
    y = rng.uniform(-2.0, 2.0, size=(4, 5))
    z, gx, gy = value_and_grad(text, x, y)
    assert z.shape == x.shape
    np.testing.assert_allclose(z, f(x, y), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, fx(x, y), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gy, fy(x, y), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("2 ^ 3 ^ 2", 512.0),            # right-associative: 2^(3^2)
    ("(2 ^ 3) ^ 2", 64.0),
    ("-2 ^ 2", -4.0),                # ^ binds tighter than unary minus
    ("2 ^ -1", 0.5),
    ("8 / 4 / 2", 1.0),              # left-associative
    ("10 - 4 - 3", 3.0),
    ("2 ** 3", 8.0),                 # ** is a synonym of ^
    ("--3", 3.0),
    ("+3", 3.0),
    ("1.5e2 + .5", 150.5),
    ("sqrt(16) + abs(-3)", 7.0),
])
def test_precedence_and_associativity(text, expected):
    z, _, _ = value_and_grad(text, np.array(0.0), np.array(0.0))
    assert float(z) == expected


def test_the_parse_tree_reads_back_with_every_operation_in_parentheses():
    assert to_text(compile_formula("x^2/20 + y^2").tree) == "(((x ^ 2) / 20) + (y ^ 2))"
    assert to_text(compile_formula("-x^2").tree) == "-(x ^ 2)"
    assert to_text(compile_formula("2^3^2").tree) == "(2 ^ (3 ^ 2))"


def test_sin_and_cos_pass_the_gradient_check_including_second_order(rng):
    x = zd.tensor(rng.uniform(-3, 3, size=(3, 4)), requires_grad=True)
    assert gradcheck(sin, x)
    assert gradcheck(cos, x)
    # d²/dx² sin x = -sin x: backward is written with Tensor operations.
    y = sin(x).sum()
    y.backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(x.numpy()), rtol=1e-12)


@pytest.mark.parametrize("text, position, words", [
    ("__import__('os')", 0, "unknown name '__import__'"),
    ("x.real", 1, "unexpected character '.'"),
    ("x.__class__", 1, "unexpected character '.'"),
    ("os.system('ls')", 0, "unknown name 'os'"),
    ("foo(x)", 0, "unknown name 'foo'"),
    ("x + z", 4, "unknown name 'z'"),
    ("lambda: 1", 0, "unknown name 'lambda'"),
    ("x[0]", 1, "unexpected character '['"),
    ("'x'", 0, "unexpected character"),
    ("2x", 1, "multiplication needs '*'"),
    ("(x + 1", 0, "'(' is never closed"),
    ("x + 1)", 5, "unmatched ')'"),
    ("x +", 3, "ends where a number"),
    ("sin x", 4, "sin needs its argument in parentheses"),
    ("x * * y", 4, "expected a number"),
    ("", 0, "empty"),
    ("   ", 0, "empty"),
    ("1e999", 0, "too large"),
])
def test_rejected_formulas_say_what_and_where(text, position, words):
    with pytest.raises(FormulaError) as info:
        compile_formula(text)
    assert info.value.position == position
    assert words in str(info.value)
    assert f"at position {position}" in str(info.value)


@pytest.mark.parametrize("text, kind, token", [
    ("x.y", "character", "."), ("1e999", "big", "1e999"), ("x + z", "name", "z"),
    ("x + 1)", "unmatched", None), ("2x", "multiply", "x"), ("x (1)", "multiply", "("),
    ("x 2", "operator", "2.0"), ("sin x", "call", "sin"), ("x +", "ends", None),
    ("x * * y", "operand", "*"), ("(x + 1", "unclosed", None), ("sin(x y)", "close", "y"),
    ("", "empty", None), ("x" * (MAX_LENGTH + 1), "long", str(MAX_LENGTH)),
    ("-" * (MAX_DEPTH + 5) + "x", "deep", str(MAX_DEPTH)),
])
def test_a_rejected_formula_names_its_fault_for_the_page_to_word(text, kind, token):
    """``kind`` and ``token`` let the lab's page say the fault in its own language."""
    with pytest.raises(FormulaError) as info:
        compile_formula(text)
    assert (info.value.kind, info.value.token) == (kind, token)


def test_too_long_and_too_deep_formulas_are_rejected():
    with pytest.raises(FormulaError, match=f"longer than {MAX_LENGTH}"):
        compile_formula("x" + " + x" * MAX_LENGTH)
    with pytest.raises(FormulaError, match="nested deeper"):
        compile_formula("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(FormulaError, match="nested deeper"):
        compile_formula("-" * (MAX_DEPTH + 5) + "x")
    compile_formula("(" * (MAX_DEPTH - 2) + "x" + ")" * (MAX_DEPTH - 2))   # just inside the limit


def test_a_formula_of_one_variable_still_gives_both_gradients():
    z, gx, gy = value_and_grad("x^2", np.array(3.0), np.array(5.0))
    assert (float(z), float(gx), float(gy)) == (9.0, 6.0, 0.0)


def test_the_parser_never_calls_eval(monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    z, _, _ = value_and_grad("x^2 + sin(y)", np.array(2.0), np.array(0.0))
    assert float(z) == 4.0
