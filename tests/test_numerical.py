"""Numerical differentiation (the book's ch. 4.3-4.4) and the gradient check."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import zerodl as zd
from zerodl.numerical import gradcheck, gradient_errors, numerical_diff, numerical_gradient


def function_1(x):
    """The book's example of ch. 4.3.2: y = 0.01x² + 0.1x, dy/dx = 0.02x + 0.1."""
    return 0.01 * x ** 2 + 0.1 * x


def function_2(x):
    """The book's example of ch. 4.3.3: f(x0, x1) = x0² + x1²."""
    return np.sum(x ** 2)


# ---------------------------------------------------------------- numerical_diff
@pytest.mark.parametrize("x, slope", [(5.0, 0.2), (10.0, 0.3)])
def test_numerical_diff_reproduces_the_book(x, slope):
    central = numerical_diff(function_1, x)
    forward = numerical_diff(function_1, x, method="forward")
    assert central == pytest.approx(slope, abs=1e-9)  # the book prints 0.1999999999990898
    assert forward == pytest.approx(slope + 0.01 * 1e-4, abs=1e-9)  # O(h) bias: 0.01·h
    assert abs(forward - slope) > 100 * abs(central - slope)


@pytest.mark.parametrize("h", [1e-2, 1e-3, 1e-4])
def test_central_error_is_orders_of_magnitude_smaller_for_the_same_h(h):
    """Seed 003: central difference beats forward difference (error h² against h)."""
    x = 1.0
    central = abs(numerical_diff(np.sin, x, h) - np.cos(x))
    forward = abs(numerical_diff(np.sin, x, h, method="forward") - np.cos(x))
    assert forward == pytest.approx(h / 2 * np.sin(x), rel=0.1)  # Taylor: f''·h/2
    assert central < forward / 100


def test_error_orders_h_and_h_squared():
    x, hs = 1.0, np.array([1e-1, 5e-2, 2.5e-2])
    forward = [abs(numerical_diff(np.exp, x, h, "forward") - np.e) for h in hs]
    central = [abs(numerical_diff(np.exp, x, h) - np.e) for h in hs]
    np.testing.assert_allclose(np.diff(np.log(forward)) / np.diff(np.log(hs)), 1.0, atol=0.05)
    np.testing.assert_allclose(np.diff(np.log(central)) / np.diff(np.log(hs)), 2.0, atol=0.05)


def test_error_against_h_is_v_shaped():
    """Too large h: truncation error; too small: rounding error (the book's 1e-50 trap)."""
    hs = 10.0 ** -np.arange(1, 15)
    errors = np.array([abs(numerical_diff(np.sin, 1.0, h) - np.cos(1.0)) for h in hs])
    best = int(np.argmin(errors))
    assert 2 <= best <= 8  # somewhere near h = 1e-5, not at either end
    assert errors[0] > 1e4 * errors[best]
    assert errors[-1] > 1e4 * errors[best]
    assert numerical_diff(function_1, 10.0, h=1e-50) == 0.0  # 10 + 1e-50 == 10 in float64


def test_numerical_diff_is_elementwise_on_arrays():
    x = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(numerical_diff(np.exp, x), np.exp(x), rtol=1e-8)


def test_numerical_diff_rejects_unknown_methods():
    with pytest.raises(ValueError, match="method must be 'central' or 'forward'"):
        numerical_diff(np.sin, 1.0, method="backward")


# ---------------------------------------------------------------- numerical_gradient
@pytest.mark.parametrize("point, expected", [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)),
                                             ((3.0, 0.0), (6.0, 0.0))])
def test_numerical_gradient_of_the_book_function(point, expected):
    x = np.array(point)
    np.testing.assert_allclose(numerical_gradient(function_2, x), expected, atol=1e-7)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)], ids=str)
def test_numerical_gradient_any_shape_leaves_x_unchanged(shape, rng):
    x = rng.uniform(-2, 2, shape)
    w = rng.uniform(-2, 2, shape)
    before = x.copy()
    grad = numerical_gradient(lambda a: np.sum(w * a ** 2), x)
    assert grad.shape == shape
    np.testing.assert_allclose(grad, 2 * w * before, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x, before)  # bit for bit


def test_numerical_gradient_of_a_non_contiguous_view(rng):
    base = rng.uniform(-2, 2, (3, 4))
    x = base.T  # Fortran-ordered view
    before = base.copy()
    grad = numerical_gradient(lambda a: np.sum(np.arange(12.0).reshape(4, 3) * a), x)
    np.testing.assert_allclose(grad, np.arange(12.0).reshape(4, 3), atol=1e-9)
    np.testing.assert_array_equal(base, before)


def test_numerical_gradient_through_the_engine():
    x = zd.tensor(np.array([[1.0, -2.0], [0.5, 3.0]]))
    grad = numerical_gradient(lambda a: (zd.Tensor(a) ** 3).sum(), x.data)
    np.testing.assert_allclose(grad, 3 * x.data ** 2, rtol=1e-7)


def test_numerical_gradient_needs_a_float_array():
    with pytest.raises(TypeError, match="float ndarray"):
        numerical_gradient(function_2, np.array([3, 4]))


# ---------------------------------------------------------------- gradcheck
class Square(zd.Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * 2 * self.inputs[0]


class CorruptMul(zd.Function):
    """z = x * y with the gradient of y's element (1, 2) off by one."""

    def forward(self, x, y):
        return x * y

    def backward(self, gz):
        x, y = self.inputs
        gy = (gz * x).data.copy()
        gy[1, 2] += 1.0
        return gz * y, zd.Tensor(gy)


class IgnoresUpstream(zd.Function):
    """y = 2x with a backward that forgets to multiply by gy: right only for y.sum()."""

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return zd.Tensor(np.full(gy.shape, 2.0))


def test_gradcheck_accepts_a_correct_backward(rng):
    assert gradcheck(lambda t: Square()(t), zd.tensor(rng.standard_normal((3, 4)), requires_grad=True))


def test_gradcheck_names_input_element_and_both_values(rng):
    x = zd.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = zd.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    with pytest.raises(AssertionError) as info:
        gradcheck(lambda a, b: CorruptMul()(a, b).sum(), x, y)
    message = str(info.value)
    assert "input 1" in message and "element (1, 2)" in message
    autodiff, numerical = (float(v) for v in re.search(
        r"autodiff (\S+) vs numerical (\S+)", message).groups())
    assert autodiff == pytest.approx(x.data[1, 2] + 1.0, rel=1e-8)
    assert numerical == pytest.approx(x.data[1, 2], rel=1e-6)


def test_gradcheck_projects_non_scalar_outputs_randomly(rng):
    x = zd.tensor(rng.standard_normal(5), requires_grad=True)
    assert gradcheck(lambda t: IgnoresUpstream()(t).sum(), x)  # sum hides the mistake
    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda t: IgnoresUpstream()(t), x)  # a random projection does not


def test_gradcheck_runs_in_float64_and_leaves_inputs_alone(rng):
    x = zd.tensor(rng.uniform(0.5, 2.0, (2, 3)).astype(np.float32), requires_grad=True)
    assert gradcheck(lambda t: t.log() * t, x, atol=1e-8, rtol=1e-6)  # too tight for float32
    assert x.grad is None and x.dtype == np.float32


def test_gradcheck_skips_inputs_without_grad_and_needs_one(rng):
    a = zd.tensor(rng.standard_normal(3), requires_grad=True)
    c = zd.tensor(rng.standard_normal(3))
    [only] = gradient_errors(lambda p, q: (p * q).sum(), a, c)
    assert only.input_index == 0 and only.ok and only.max_abs_error < 1e-8
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        gradcheck(lambda q: q * 2, c)


# ---------------------------------------------------------------- float32 is warned about
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_numerical_gradient_warns_on_low_precision_data_and_names_it(dtype):
    x = np.array([3.0, 4.0], dtype=dtype)
    expected = rf"numerical_gradient: x is {np.dtype(dtype).name}.*float64"
    with pytest.warns(UserWarning, match=expected) as record:
        numerical_gradient(function_2, x)
    assert record[0].filename == __file__  # points at the caller's line


def test_numerical_gradient_in_float32_really_loses_digits():
    """Why it warns: the book's h = 1e-4 in float32 gets the gradient of x0² + x1² wrong
    in the third digit, where float64 is right to seven."""
    point = np.array([3.0, 4.0])
    with pytest.warns(UserWarning):
        low = numerical_gradient(function_2, point.astype(np.float32))
    high = numerical_gradient(function_2, point)
    assert np.abs(low - [6.0, 8.0]).max() > 1e-3
    assert np.abs(high - [6.0, 8.0]).max() < 1e-7


def test_numerical_gradient_warns_when_f_computes_in_float32():
    x = np.array([1.0, 2.0])
    with pytest.warns(UserWarning, match=r"numerical_gradient: f\(x\) is float32"):
        numerical_gradient(lambda a: np.float32((a ** 2).sum()), x)


def test_numerical_diff_warns_on_float32_and_not_on_float64():
    with pytest.warns(UserWarning, match=r"numerical_diff: x is float32.*use float64"):
        numerical_diff(np.sin, np.float32(1.0))
    with pytest.warns(UserWarning, match=r"numerical_diff: f\(x\) is float32"):
        numerical_diff(lambda v: np.float32(v) ** 2, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        numerical_diff(np.sin, 1.0)
        numerical_diff(np.sin, np.array([1.0, 2.0]))
        numerical_gradient(function_2, np.array([3.0, 4.0]))


class TwiceInFloat32(zd.Function):
    """y = 2x, computed in float32 whatever x is (as a float32 model would)."""

    def forward(self, x):
        return (2 * x).astype(np.float32)

    def backward(self, gy):
        return gy * 2.0


def test_gradcheck_warns_when_fn_computes_in_float32_whatever_its_inputs(rng):
    x = zd.tensor(rng.standard_normal(4), requires_grad=True)
    with pytest.warns(UserWarning, match=r"gradcheck: fn's output is float32.*float64") as record:
        gradcheck(lambda t: TwiceInFloat32()(t), x, atol=1.0)
    assert record[0].filename == __file__


def test_gradcheck_of_float32_inputs_runs_in_float64_without_a_warning(rng):
    x = zd.tensor(rng.uniform(0.5, 2.0, (2, 3)).astype(np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda t: t.log() * t, x)
