"""The fast pooling kernels (zerodl.kernels.pool) against the book's readable versions.

``Pooling(..., fast=False)`` unrolls the windows with im2col (one window per
row), takes each row's max and argmax, and in backward sends each gradient to
the argmax and folds the rows back with col2im; ``AvgPool2d`` likewise with
the mean. The fast kernels must agree, ties and overlapping windows included.
"""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
from zerodl.functional.pool import AvgPool2d, Pooling
from zerodl.kernels import threads
from zerodl.numerical import gradcheck

CASES = [  # x shape, (pool_h, pool_w), stride, pad
    ((2, 3, 4, 6), (2, 2), None, 0),      # non-overlapping tiles: the reshape path
    ((2, 2, 5, 5), (2, 2), None, 0),      # not divisible: the last row/column dropped
    ((2, 2, 5, 6), (3, 3), 2, 1),         # padding, overlapping windows
    ((1, 2, 5, 5), (2, 3), 1, (1, 1)),    # non-square, stride 1
    ((2, 1, 6, 6), (3, 3), (1, 2), 0),    # (h, w) stride
    ((3, 4, 7, 9), (3, 2), (2, 1), (1, 0)),
]


def run(cls, fast, x, args, gy, dtype):
    t = zd.Tensor(x.astype(dtype), requires_grad=True)
    y = cls(*args[0], stride=args[1], pad=args[2], fast=fast)(t)
    y.backward(gy.astype(dtype))
    return y.data, t.grad.data


def output_shape(cls, xs, args):
    with zd.no_grad():
        return cls(*args[0], stride=args[1], pad=args[2])(np.zeros(xs)).shape


@pytest.mark.parametrize("cls", [Pooling, AvgPool2d])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("xs, k, stride, pad", CASES)
def test_fast_pooling_matches_the_readable_version(cls, xs, k, stride, pad, dtype, tol, ties, rng):
    x = rng.standard_normal(xs)
    if ties:
        x = np.round(x)  # many equal values in a window: the first maximum takes the gradient
    args = (k, stride, pad)
    gy = rng.standard_normal(output_shape(cls, xs, args))
    y_fast, gx_fast = run(cls, True, x, args, gy, dtype)
    y_read, gx_read = run(cls, False, x, args, gy, dtype)
    assert y_fast.dtype == y_read.dtype == gx_fast.dtype == dtype
    np.testing.assert_allclose(y_fast, y_read, rtol=tol, atol=tol)
    np.testing.assert_allclose(gx_fast, gx_read, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("fast", [True, False])
def test_tied_window_gives_its_gradient_to_the_first_maximum_both_ways(fast):
    x = zd.Tensor(np.array([[[[1.0, 3.0], [3.0, 3.0]]]]), requires_grad=True)
    Pooling(2, 2, fast=fast)(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0, 1], [0, 0]])


@pytest.mark.parametrize("fast", [True, False])
def test_overlapping_windows_add_their_gradients_both_ways(fast):
    x = zd.Tensor(np.array([[[[0.0, 0.1, 0.2], [0.3, 9.0, 0.4], [0.5, 0.6, 0.7]]]]),
                  requires_grad=True)
    y = Pooling(2, 2, stride=1, fast=fast)(x)
    y.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


@pytest.mark.parametrize("fast", [True, False])
def test_pooling_driven_by_hand_after_a_call_that_recorded_nothing(fast, rng):
    """The book's pool.forward(x); pool.backward(dout), on plain arrays."""
    x = rng.permutation(np.arange(32.0)).reshape(1, 2, 4, 4)
    pool = Pooling(2, 2, fast=fast)
    y = pool(x)
    dx = pool.backward_by_hand(np.ones(y.shape))
    np.testing.assert_array_equal(dx.data.reshape(1, 2, 2, 2, 2, 2).sum(axis=(3, 5)), 1.0)
    np.testing.assert_array_equal(x * dx.data, np.where(dx.data > 0, x, 0))
    assert (x * dx.data).sum() == y.data.sum()


@pytest.mark.parametrize("cls", [Pooling, AvgPool2d])
@pytest.mark.parametrize("xs, k, stride, pad", CASES)
def test_readable_pooling_gradients_match_central_differences(cls, xs, k, stride, pad, rng):
    x = zd.Tensor(rng.permutation(np.linspace(-2, 2, int(np.prod(xs)))).reshape(xs),
                  requires_grad=True)
    assert gradcheck(lambda a: cls(*k, stride=stride, pad=pad, fast=False)(a), x)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("cls", [Pooling, AvgPool2d])
@pytest.mark.parametrize("xs, k, stride, pad", [CASES[0], CASES[2]])
def test_the_same_result_on_any_number_of_kernel_threads(cls, xs, k, stride, pad, n_threads, rng):
    """The batch split into ranges, one per thread (overlapping windows too): equal results."""
    x = np.round(rng.standard_normal((7, *xs[1:])))  # ties as well
    args = (k, stride, pad)
    gy = rng.standard_normal(output_shape(cls, x.shape, args))
    try:
        threads.set_num_threads(n_threads)
        y, gx = run(cls, True, x, args, gy, np.float64)
    finally:
        threads.set_num_threads(None)
    y_read, gx_read = run(cls, False, x, args, gy, np.float64)
    np.testing.assert_allclose(y, y_read, rtol=1e-14, atol=1e-14)  # the mean: summation order
    np.testing.assert_allclose(gx, gx_read, atol=1e-12)
