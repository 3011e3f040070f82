"""kernels/loss.py against the readable SoftmaxWithLoss rule, as its oracle."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl.kernels import loss as fast_loss

TOL = {np.float64: dict(rtol=1e-12, atol=1e-15), np.float32: dict(rtol=1e-5, atol=1e-7)}


def _targets(kind, rng, n, c, dtype):
    labels = rng.integers(0, c, n)
    return labels if kind == "labels" else np.eye(c, dtype=dtype)[labels]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["labels", "one-hot"])
def test_fast_and_readable_softmax_with_loss_agree(kind, dtype, rng):
    x = (rng.standard_normal((7, 5)) * 4).astype(dtype)
    t = _targets(kind, rng, 7, 5, dtype)
    results = []
    for fast in (True, False):
        f = F.SoftmaxWithLoss(fast=fast)
        loss = f(x, t)
        dx, dt = f.backward_by_hand(2.5)  # an upstream gradient other than 1
        assert dt is None  # targets are constants
        results.append((loss.data, dx.data))
    (loss_fast, dx_fast), (loss_readable, dx_readable) = results
    assert dx_fast.dtype == dx_readable.dtype == dtype
    np.testing.assert_array_equal(loss_fast, loss_readable)
    np.testing.assert_allclose(dx_fast, dx_readable, **TOL[dtype])


def test_the_kernel_is_the_books_backward(rng):
    """dx = (y - t) / N with y = softmax(x), the book's SoftmaxWithLoss.backward, times gy."""
    x = rng.standard_normal((4, 3))
    labels = np.array([2, 0, 1, 1])
    y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    expected = (y - np.eye(3)[labels]) / 4 * 0.5
    np.testing.assert_allclose(fast_loss.softmax_with_loss_backward(y, labels, np.float64(0.5)),
                               expected, rtol=1e-12)
    np.testing.assert_allclose(fast_loss.softmax_with_loss_backward(y, np.eye(3)[labels], 0.5),
                               expected, rtol=1e-12)


def test_the_kernel_leaves_forwards_probabilities_alone(rng):
    y = rng.dirichlet(np.ones(3), size=4)
    kept = y.copy()
    fast_loss.softmax_with_loss_backward(y, np.array([0, 1, 2, 0]), 1.0)
    np.testing.assert_array_equal(y, kept)


def test_create_graph_runs_the_readable_rule_with_the_same_first_derivative(rng):
    x = zd.Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    t = rng.integers(0, 4, 5)
    F.cross_entropy(x, t).backward()
    plain = x.grad.data.copy()
    x.grad = None
    F.cross_entropy(x, t).backward(create_graph=True)
    assert x.grad.creator is not None
    np.testing.assert_allclose(x.grad.data, plain, rtol=1e-12, atol=1e-15)
