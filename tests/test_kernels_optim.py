"""The in-place optimizer kernels against the rules written as formulas (their oracle).

Every optimizer is run twice on the same gradients: once through
``zerodl.kernels.optim`` (``fast_update``, what ``step`` runs) and once through
its readable ``update`` (``opt.fast = False``). Parameters and state must agree
after every step. Not bit for bit: the two evaluate the same formula in
another order (a running average as m + (1-β)(g - m) or as βm + (1-β)g),
so they differ by rounding only.
"""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
from zerodl import nn, optim
from zerodl.kernels import optim as kernels

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("Momentum", dict(lr=0.1)),
    ("Nesterov", dict(lr=0.1, weight_decay=0.01)),
    ("AdaGrad", dict(lr=0.1)),
    ("AdaGrad", dict(lr=0.1, weight_decay=0.05)),
    ("RMSProp", dict(lr=0.01, alpha=0.9)),
    ("RMSProp", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSProp", dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1)),
    ("RMSProp", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.3)),
]
# Rounding of a few operations per step, over 8 steps, on values of order 1.
TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=1e-5, atol=1e-6)}


def twin_runs(name, kwargs, dtype, shapes, steps, rng):
    """The kernel run and the formula run of one optimizer, step by step: yields both."""
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    fast = [nn.Parameter(a.copy()) for a in start]
    readable = [nn.Parameter(a.copy()) for a in start]
    opt_fast = getattr(optim, name)(fast, **kwargs)
    opt_readable = getattr(optim, name)(readable, **kwargs)
    opt_readable.fast = False
    for _ in range(steps):
        for a, b in zip(fast, readable):
            g = rng.standard_normal(a.shape).astype(dtype)
            a.grad, b.grad = zd.Tensor(g), zd.Tensor(g.copy())
        opt_fast.step()
        opt_readable.step()
        yield (fast, opt_fast), (readable, opt_readable)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_the_kernel_gives_the_parameters_and_state_of_the_formula(name, kwargs, dtype, rng):
    tol = TOLERANCE[dtype]
    for (fast, opt_fast), (readable, opt_readable) in twin_runs(
            name, kwargs, dtype, [(3, 4), (4,), (2, 3, 5)], steps=8, rng=rng):
        for a, b in zip(fast, readable):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_allclose(a.data, b.data, **tol)
        assert opt_fast.state.keys() == opt_readable.state.keys()
        for key, s in opt_fast.state.items():
            r = opt_readable.state[key]
            assert s.keys() == r.keys(), f"{name}: state {sorted(s)} against {sorted(r)}"
            for k, v in s.items():
                if k == "step":
                    assert v == r[k]
                else:
                    assert v.dtype == np.asarray(r[k]).dtype == dtype, k
                    np.testing.assert_allclose(v, r[k], **tol, err_msg=f"{name} state {k}")


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True},
                                    {"weight_decay": 0.1}],
                         ids=["plain", "momentum", "nesterov", "weight-decay"])
def test_sgd_kernel_over_several_cache_blocks_matches_the_formula(kwargs, rng):
    """The blocked update (2 full blocks and a partial one) leaves no element out."""
    n = 2 * kernels.BLOCK + 777
    for (fast, _), (readable, _) in twin_runs("SGD", dict(lr=0.1, **kwargs), np.float32, [(n,)],
                                             steps=3, rng=rng):
        np.testing.assert_allclose(fast[0].data, readable[0].data, rtol=1e-6, atol=1e-7)


def test_the_formula_is_what_runs_when_fast_is_off(rng, monkeypatch):
    """opt.fast = False never calls a kernel; the default always does."""
    calls = []
    real = kernels.adam
    monkeypatch.setattr(kernels, "adam", lambda *a, **k: calls.append(1) or real(*a, **k))
    w = nn.Parameter(rng.standard_normal(5))
    opt = optim.Adam([w], lr=0.1)
    w.grad = zd.Tensor(np.ones(5))
    opt.fast = False
    opt.step()
    assert calls == []
    opt.fast = True
    opt.step()
    assert calls == [1]


def test_the_formula_never_modifies_the_gradient(rng):
    g = rng.standard_normal((4, 3))
    for name, kwargs in CASES:
        w = nn.Parameter(rng.standard_normal((4, 3)))
        opt = getattr(optim, name)([w], **kwargs)
        opt.fast = False
        for _ in range(2):
            w.grad = zd.Tensor(g)
            before = g.copy()
            opt.step()
            np.testing.assert_array_equal(g, before, err_msg=name)


def test_scratch_arrays_are_made_once_per_shape_dtype_and_slot():
    scratch = kernels.Scratch()
    a, b = np.zeros((3, 4), np.float32), np.ones((3, 4), np.float32)
    assert scratch.like(a, 1) is scratch.like(b, 1)
    assert scratch.like(a, 1) is not scratch.like(a, 2)
    assert scratch.like(a.astype(np.float64), 1).dtype == np.float64
    assert scratch.like(a, 1).shape == (3, 4)
