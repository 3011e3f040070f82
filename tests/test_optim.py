"""Optimizers: hand-computed trajectories, PyTorch's update rules, state, dtype, schedules."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import zerodl as zd
from zerodl import io, nn, optim
from zerodl.kernels import optim as kernels


@pytest.fixture(scope="module")
def torch():
    """PyTorch, the reference for the update rules (the `bench` extra); tests skip without it."""
    return pytest.importorskip("torch")


def descend(opt_factory, steps=3, w0=1.0):
    """Minimise f(w) = w² from w0 with the given optimizer; return w after each step."""
    w = nn.Parameter(np.array([w0]))
    opt = opt_factory([w])
    out = []
    for _ in range(steps):
        w.grad = zd.Tensor(2 * w.data)          # df/dw = 2w
        opt.step()
        out.append(w.data[0])
    return out


# ---------------------------------------------------------------- trajectories by hand
@pytest.mark.parametrize("factory, expected", [
    # w ← w - 0.1·2w = 0.8 w
    (lambda p: optim.SGD(p, lr=0.1), [0.8, 0.64, 0.512]),
    # d = 2w + 0.5w: w ← 0.75 w
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=0.5), [0.75, 0.5625, 0.421875]),
    # buf = 2, 0.9·2+1.6 = 3.4, 0.9·3.4+0.92 = 3.98;  w = 1-0.2, 0.8-0.34, 0.46-0.398
    (lambda p: optim.Momentum(p, lr=0.1, momentum=0.9), [0.8, 0.46, 0.062]),
    # buf = 2, 3.04, 3.1808;  d = g + 0.9 buf = 3.8, 3.976, 3.30752
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), [0.62, 0.2224, -0.108352]),
    (lambda p: optim.Nesterov(p, lr=0.1, momentum=0.9), [0.62, 0.2224, -0.108352]),
    # h = 4: w = 1 - 0.1·2/2 = 0.9;  h = 4 + 1.8² = 7.24: w = 0.9 - 0.18/√7.24 = 0.8331035
    (lambda p: optim.AdaGrad(p, lr=0.1), [0.9, 0.8331035341, 0.7804561901]),
    # v = 0.1·4 = 0.4: w = 1 - 0.2/√0.4 = 0.6837723
    (lambda p: optim.RMSProp(p, lr=0.1, alpha=0.9), [0.6837722840, 0.4988706730, 0.3691806245]),
    # step 1 of Adam moves by lr whatever the gradient: 0.9;  step 2: m̂ = 0.36/0.19,
    # v̂ = 0.007236/0.001999, w = 0.9 - 0.1·m̂/√v̂ = 0.8004122
    (lambda p: optim.Adam(p, lr=0.1), [0.9, 0.8004122287, 0.7015862729]),
    # AdamW first shrinks w by (1 - 0.1·0.1): 0.99 - 0.1 = 0.89
    (lambda p: optim.AdamW(p, lr=0.1, weight_decay=0.1), [0.89, 0.7815718559, 0.6751012216]),
])
def test_optimizer_follows_the_hand_computed_trajectory(factory, expected):
    np.testing.assert_allclose(descend(factory), expected, rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------- same as PyTorch
TORCH_CASES = [
    ("SGD", "SGD", dict(lr=0.1)),
    ("SGD", "SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", "SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("AdaGrad", "Adagrad", dict(lr=0.1, eps=1e-7)),
    ("AdaGrad", "Adagrad", dict(lr=0.1, eps=1e-7, weight_decay=0.05)),
    ("RMSProp", "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-7)),
    ("RMSProp", "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-7, centered=True, momentum=0.5,
                                weight_decay=0.1)),
    ("Adam", "Adam", dict(lr=0.01)),
    ("Adam", "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("AdamW", "AdamW", dict(lr=0.01)),
    ("AdamW", "AdamW", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.3)),
]


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("ours, theirs, kwargs", TORCH_CASES,
                         ids=[f"{a}-{i}" for i, (a, _, _) in enumerate(TORCH_CASES)])
def test_same_gradients_give_the_same_parameters_as_pytorch(ours, theirs, kwargs, dtype, atol,
                                                           torch):
    rng = np.random.default_rng(1)
    shapes = [(3, 4), (4,)]
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    params = [nn.Parameter(a.copy()) for a in start]
    reference = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    opt = getattr(optim, ours)(list(zip(["W", "b"], params)), **kwargs)
    ref = getattr(torch.optim, theirs)(reference, **kwargs)
    for _ in range(6):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        for p, r, g in zip(params, reference, grads):
            p.grad, r.grad = zd.Tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    for p, r in zip(params, reference):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.data, r.detach().numpy(), rtol=0, atol=atol)


# ---------------------------------------------------------------- behaviour
ALL = [lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
       lambda p: optim.AdaGrad(p, weight_decay=0.01),
       lambda p: optim.RMSProp(p, centered=True, momentum=0.5, weight_decay=0.01),
       lambda p: optim.Adam(p, weight_decay=0.01),
       lambda p: optim.AdamW(p)]


@pytest.mark.parametrize("factory", ALL, ids=["SGD", "AdaGrad", "RMSProp", "Adam", "AdamW"])
def test_float32_stays_float32_and_the_gradient_is_untouched(factory, rng):
    w = nn.Parameter(rng.standard_normal((4, 3)).astype(np.float32))
    opt = factory([w])
    opt.lr = np.float64(0.01)               # a float64 scalar must not upcast anything
    data = w.data
    g = zd.Tensor(rng.standard_normal((4, 3)).astype(np.float32))
    g_before = g.data.copy()
    for _ in range(3):
        w.grad = g
        opt.step()
    assert w.data is data and w.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state["0"].values() if hasattr(v, "dtype"))
    np.testing.assert_array_equal(g.data, g_before)
    assert not np.array_equal(w.data, data * 0)


@pytest.mark.parametrize("factory", ALL, ids=["SGD", "AdaGrad", "RMSProp", "Adam", "AdamW"])
def test_a_step_allocates_no_new_arrays(factory):
    w = nn.Parameter(np.ones(250_000, np.float32))                 # 1 MB
    w.grad = zd.Tensor(np.full(250_000, 0.5, np.float32))
    opt = factory([w])
    opt.step()
    opt.step()                                                     # state and scratch exist now
    tracemalloc.start()
    opt.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50_000


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}],
                         ids=["plain", "momentum", "nesterov"])
def test_sgd_on_a_parameter_larger_than_one_update_block(kwargs, rng):
    """Big parameters are updated block by block; every element, the last partial block's too."""
    n = 2 * kernels.BLOCK + 12_345
    p0 = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(2)]
    w = nn.Parameter(p0.copy())
    opt = optim.SGD([w], lr=0.1, **kwargs)
    expected, buf = p0.astype(np.float64), None
    for g in grads:
        w.grad = zd.Tensor(g)
        opt.step()
        d = g.astype(np.float64)
        if kwargs:
            buf = d if buf is None else 0.9 * buf + d
            d = d + 0.9 * buf if kwargs.get("nesterov") else buf
        expected -= 0.1 * d
    np.testing.assert_allclose(w.data, expected, rtol=1e-5, atol=1e-6)


def test_parameters_without_gradient_are_skipped():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = zd.Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_array_equal(b.data, 1.0)
    assert list(opt.state) == ["0"]
    opt.zero_grad()
    assert a.grad is None


def test_params_may_be_a_module_named_parameters_or_a_list():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    assert list(optim.SGD(net.named_parameters(), lr=0.1).params) == ["0.W", "0.b", "1.W", "1.b"]
    assert list(optim.SGD(net, lr=0.1).params) == ["0.W", "0.b", "1.W", "1.b"]
    assert list(optim.SGD(net.parameters(), lr=0.1).params) == ["0", "1", "2", "3"]
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([net[0].W, net[0].W], lr=0.1)


def test_state_dict_round_trip_continues_the_same_trajectory(tmp_path, rng):
    def make():
        net = nn.Sequential(nn.Linear(3, 2))
        net.load_state_dict({"0.W": np.full((3, 2), 0.5), "0.b": np.zeros(2)})
        return net, optim.Adam(net.named_parameters(), lr=0.01)

    grads = [rng.standard_normal((3, 2)).astype(np.float32) for _ in range(5)]

    def run(net, opt, gs):
        for g in gs:
            net[0].W.grad = zd.Tensor(g)
            opt.step()

    net1, opt1 = make()
    run(net1, opt1, grads[:3])
    state = opt1.state_dict()
    assert set(state["state"]) == {"0.W"} and state["state"]["0.W"]["step"] == 3
    assert state["hyperparameters"]["lr"] == 0.01
    io.save({"model": net1.state_dict(), "optimizer": state}, tmp_path / "ckpt.npz")

    net2, opt2 = make()
    opt2.lr = 0.5
    saved = io.load(tmp_path / "ckpt.npz")
    net2.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["optimizer"])
    assert opt2.lr == 0.01 and opt2.betas == (0.9, 0.999)
    run(net1, opt1, grads[3:])
    run(net2, opt2, grads[3:])
    np.testing.assert_array_equal(net1[0].W.data, net2[0].W.data)


def test_load_state_dict_refuses_foreign_state():
    a = nn.Parameter(np.ones(2))
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    with pytest.raises(KeyError, match="unknown parameters"):
        opt.load_state_dict({"type": "SGD", "state": {"W": {"step": 1}}})
    with pytest.raises(ValueError, match="from Adam"):
        opt.load_state_dict({"type": "Adam", "state": {}})
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict({"state": {"0": {"momentum_buffer": np.ones(3)}}})


# ---------------------------------------------------------------- schedules
@pytest.mark.parametrize("ours, theirs, kwargs", [
    (optim.StepLR, "StepLR", dict(step_size=3, gamma=0.5)),
    (optim.CosineAnnealingLR, "CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    (optim.CosineAnnealingLR, "CosineAnnealingLR", dict(T_max=4)),
])
def test_schedules_give_pytorchs_learning_rates(ours, theirs, kwargs, torch):
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    sched = ours(opt, **kwargs)
    ref_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    ref = getattr(torch.optim.lr_scheduler, theirs)(ref_opt, **kwargs)
    for _ in range(12):
        ref_opt.step()
        ref.step()
        sched.step()
        assert opt.lr == pytest.approx(ref.get_last_lr()[0], rel=1e-12, abs=1e-15)
    assert sched.get_last_lr() == opt.lr


def test_step_lr_values_by_hand_and_the_optimizer_uses_them():
    w = nn.Parameter(np.array([1.0]))
    opt = optim.SGD([w], lr=1.0)
    sched = optim.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(5):
        sched.step()
        lrs.append(opt.lr)
    assert lrs == pytest.approx([1.0, 0.1, 0.1, 0.01, 0.01])
    w.grad = zd.Tensor(np.array([1.0]))
    opt.step()
    assert w.data[0] == pytest.approx(0.99)
    again = optim.StepLR(optim.SGD([w], lr=1.0), step_size=2)
    again.load_state_dict(sched.state_dict())
    assert again.optimizer.lr == pytest.approx(0.01) and again.last_epoch == 5


@pytest.mark.parametrize("make, words", [
    (lambda opt: optim.StepLR(opt, step_size=0), "StepLR: step_size must be at least 1"),
    (lambda opt: optim.CosineAnnealingLR(opt, T_max=0), "CosineAnnealingLR: T_max must be at least 1"),
])
def test_a_schedule_of_zero_epochs_is_refused_when_made(make, words):
    """Not a ZeroDivisionError at the end of the first epoch."""
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match=words):
        make(opt)
