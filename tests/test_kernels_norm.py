"""kernels/norm.py against the readable BatchNormalization (the book's steps), as its oracle."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl.kernels import norm as fast_norm

SHAPES = [(8, 5), (4, 3, 5, 6)]
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


def run(fast: bool, x, gamma, beta, gy, training: bool, running=None, **options):
    """Forward and hand-driven backward of one BatchNormalization, fast or readable."""
    rm, rv = (None, None) if running is None else (running[0].copy(), running[1].copy())
    f = F.BatchNormalization(rm, rv, training, fast=fast, **options)
    y = f(x, gamma, beta)
    dx, dgamma, dbeta = f.backward_by_hand(gy)
    return y.data, dx.data, dgamma.data, dbeta.data, rm, rv


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False], ids=["training", "evaluation"])
def test_fast_and_readable_batch_norm_agree_on_values_and_gradients(shape, dtype, training, rng):
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    C = shape[1]
    gamma, beta = rng.uniform(0.5, 2, C).astype(dtype), rng.standard_normal(C).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    running = (rng.standard_normal(C).astype(dtype), rng.uniform(0.5, 2, C).astype(dtype))
    fast = run(True, x, gamma, beta, gy, training, running)
    readable = run(False, x, gamma, beta, gy, training, running)
    for name, a, b in zip(["y", "dx", "dgamma", "dbeta", "running_mean", "running_var"],
                          fast, readable):
        assert a.dtype == b.dtype == dtype, name
        np.testing.assert_allclose(a, b, err_msg=name, **TOL[dtype])
    if not training:  # the running statistics were only read
        np.testing.assert_array_equal(fast[4], running[0])


@pytest.mark.parametrize("shape", SHAPES)
def test_fast_and_readable_agree_with_the_book_options(shape, rng):
    x = rng.standard_normal(shape) * 2
    C = shape[1]
    gamma, beta, gy = rng.uniform(0.5, 2, C), rng.standard_normal(C), rng.standard_normal(shape)
    running = (np.zeros(C), np.zeros(C))
    book = dict(momentum=0.9, eps=1e-7, momentum_of="running", unbiased=False)
    fast = run(True, x, gamma, beta, gy, True, running, **book)
    readable = run(False, x, gamma, beta, gy, True, running, **book)
    for a, b in zip(fast, readable):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_the_kernels_backward_is_the_books_chain_in_one_formula(rng):
    """The kernel's dx = γ/std·(dy - dβ/n - xn·dγ/n) equals the book's dxn → dxc → dstd →
    dvar → dμ steps, written out here on (N, D) exactly as in the book's layer."""
    x, dout = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    gamma = rng.uniform(0.5, 2, 4)
    eps, N = 1e-5, 6
    mu = x.mean(axis=0)
    xc = x - mu
    var = np.mean(xc ** 2, axis=0)
    std = np.sqrt(var + eps)
    xn = xc / std
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(xn * dout, axis=0)
    dxn = gamma * dout
    dxc = dxn / std
    dstd = -np.sum((dxn * xc) / (std * std), axis=0)
    dvar = 0.5 * dstd / std
    dxc += (2.0 / N) * xc * dvar
    dmu = np.sum(dxc, axis=0)
    dx = dxc - dmu / N
    y, xn_k, inv_std, mean, variance = fast_norm.batch_norm_forward(x, gamma, np.zeros(4), eps)
    np.testing.assert_allclose(mean, mu, rtol=1e-12)
    np.testing.assert_allclose(variance, var, rtol=1e-12)
    np.testing.assert_allclose(xn_k, xn, rtol=1e-12)
    gx, gg, gb = fast_norm.batch_norm_backward(dout, gamma, xn_k, inv_std, True)
    np.testing.assert_allclose(gx, dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gg, dgamma, rtol=1e-12)
    np.testing.assert_allclose(gb, dbeta, rtol=1e-12)


def test_the_kernel_computes_only_the_gradients_asked_for(rng):
    x = rng.standard_normal((5, 3))
    _, xn, inv_std, _, _ = fast_norm.batch_norm_forward(x, np.ones(3), np.zeros(3), 1e-5)
    gx, gg, gb = fast_norm.batch_norm_backward(rng.standard_normal((5, 3)), np.ones(3), xn,
                                               inv_std, True, need=(False, True, False))
    assert gx is None and gb is None and gg.shape == (3,)


def test_channel_sums_are_the_sums_over_every_axis_but_one(rng):
    a, b = rng.standard_normal((4, 3, 5, 2)), rng.standard_normal((4, 3, 5, 2))
    np.testing.assert_allclose(fast_norm.channel_sum(a), a.sum(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(fast_norm.channel_dot(a, b), (a * b).sum(axis=(0, 2, 3)),
                               rtol=1e-12)


def test_create_graph_runs_the_readable_rule_and_matches_the_kernels_first_derivative(rng):
    x = zd.Tensor(rng.standard_normal((4, 3, 2, 2)), requires_grad=True)
    gamma = zd.Tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    gy = rng.standard_normal((4, 3, 2, 2))
    F.batch_norm(x, gamma, None, None, None, training=True).backward(gy)
    plain = x.grad.data.copy()
    x.grad = gamma.grad = None
    F.batch_norm(x, gamma, None, None, None, training=True).backward(gy, create_graph=True)
    assert x.grad.creator is not None  # recorded: the rule ran on Tensors
    np.testing.assert_allclose(x.grad.data, plain, rtol=1e-10, atol=1e-12)
