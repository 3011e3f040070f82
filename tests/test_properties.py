"""Property-based checks over random shapes: every elementwise operation and reduction agrees
with NumPy in the forward pass and with central differences in the backward pass."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import zerodl as zd
import zerodl.functional as F
from zerodl.numerical import gradcheck

FAST = settings(max_examples=25, deadline=None)
SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
SEEDS = st.integers(0, 2 ** 32 - 1)


def _away_from_zero(x):
    return np.where(np.abs(x) < 0.1, 0.5, x)


# name: (zerodl function, NumPy reference, input domain (lo, hi), needs a kink-free input)
UNARY = {
    "neg": (F.neg, np.negative, (-2, 2), False),
    "exp": (F.exp, np.exp, (-2, 2), False),
    "log": (F.log, np.log, (0.2, 3), False),
    "sqrt": (F.sqrt, np.sqrt, (0.2, 3), False),
    "pow 3": (lambda t: t ** 3, lambda a: a ** 3, (-2, 2), False),
    "pow -1.5": (lambda t: t ** -1.5, lambda a: a ** -1.5, (0.3, 3), False),
    "abs": (F.abs, np.abs, (-2, 2), True),
    "tanh": (F.tanh, np.tanh, (-3, 3), False),
    "sigmoid": (F.sigmoid, lambda a: 1 / (1 + np.exp(-a)), (-6, 6), False),
    "softplus": (F.softplus, lambda a: np.log1p(np.exp(a)), (-6, 6), False),
    "relu": (F.relu, lambda a: np.maximum(a, 0), (-2, 2), True),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.1), lambda a: np.where(a > 0, a, 0.1 * a), (-2, 2), True),
    "gelu tanh": (lambda t: F.gelu(t, approximate="tanh"),
                  lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3))),
                  (-3, 3), False),
    "step": (F.step, lambda a: (a > 0).astype(float), (-2, 2), True),
    "identity": (F.identity, lambda a: a, (-2, 2), False),
}

BINARY = {
    "add": (F.add, np.add),
    "sub": (F.sub, np.subtract),
    "mul": (F.mul, np.multiply),
    "div": (lambda a, b: F.div(a, b * b + 0.5), lambda a, b: a / (b * b + 0.5)),
    "maximum": (F.maximum, np.maximum),
    "minimum": (F.minimum, np.minimum),
    "pow tensor": (lambda a, b: F.pow(a * a + 0.5, b), lambda a, b: (a * a + 0.5) ** b),
}

REDUCTIONS = {"sum": (F.sum, np.sum), "mean": (F.mean, np.mean),
              "max": (F.max, np.max), "min": (F.min, np.min)}


@FAST
@given(name=st.sampled_from(sorted(UNARY)), shape=SHAPES, seed=SEEDS)
def test_unary_elementwise(name, shape, seed):
    fn, ref, (lo, hi), kink = UNARY[name]
    data = np.random.default_rng(seed).uniform(lo, hi, shape)
    if kink:
        data = _away_from_zero(data)
    x = zd.tensor(data, requires_grad=True)
    y = fn(x)
    assert y.shape == shape
    np.testing.assert_allclose(y.data, ref(data), rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, x)


@FAST
@given(name=st.sampled_from(sorted(BINARY)),
       shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
       seed=SEEDS)
def test_binary_elementwise_broadcasting(name, shapes, seed):
    fn, ref = BINARY[name]
    rng = np.random.default_rng(seed)
    (sa, sb), result = shapes.input_shapes, shapes.result_shape
    a = zd.tensor(rng.uniform(-2, 2, sa), requires_grad=True)
    b = zd.tensor(rng.uniform(-2, 2, sb), requires_grad=True)
    y = fn(a, b)
    assert y.shape == result
    np.testing.assert_allclose(y.data, ref(a.data, b.data), rtol=1e-12)
    assert gradcheck(fn, a, b)
    a.grad = b.grad = None
    y = fn(a, b)
    y.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb


@st.composite
def reduction_args(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    axis = draw(st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
    ))
    return shape, axis, draw(st.booleans())


@FAST
@given(name=st.sampled_from(sorted(REDUCTIONS)), args=reduction_args(), seed=SEEDS)
def test_reductions(name, args, seed):
    shape, axis, keepdims = args
    fn, ref = REDUCTIONS[name]
    size = int(np.prod(shape))
    data = np.random.default_rng(seed).permutation(np.linspace(-2, 2, size)).reshape(shape)
    x = zd.tensor(data, requires_grad=True)  # distinct values: max and min have no ties
    y = fn(x, axis=axis, keepdims=keepdims)
    expected = ref(data, axis=axis, keepdims=keepdims)
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-15)
    assert gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), x)


@FAST
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data(),
       seed=SEEDS)
def test_softmax_any_axis(shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = zd.tensor(np.random.default_rng(seed).uniform(-3, 3, shape), requires_grad=True)
    p = F.softmax(x, axis=axis)
    np.testing.assert_allclose(p.data.sum(axis=axis), 1.0, rtol=1e-13)
    np.testing.assert_allclose(F.log_softmax(x, axis=axis).data, np.log(p.data), atol=1e-13)
    assert gradcheck(lambda t: F.softmax(t, axis=axis), x)
    assert gradcheck(lambda t: F.log_softmax(t, axis=axis), x)
