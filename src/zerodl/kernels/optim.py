"""The optimizers' update rules, in place: no array allocated per step.

``zerodl.optim`` writes each rule as its formula (``Adam.update``); these are
the same rules rewritten for speed, and the optimizers call them in ordinary
use (``Optimizer.fast_update``). Each step works in place on the parameter
``p`` and its ``state`` arrays with NumPy's ``out=`` arguments, through
scratch arrays made once (``Scratch``), so that a step allocates nothing and
each array is read and written as few times as possible. On the CPU, SGD's
update ``p += scale·d`` goes block by block through a scratch block that stays
in the L2 cache (``add_scaled``).

Every kernel takes ``(p, g, state, scratch)`` and keyword hyperparameters
(Python floats, which never upcast a float32 array). ``g`` is only read: it
may be shared with other code. ``state`` is the parameter's dict of running
arrays under PyTorch's names (``exp_avg``, ``momentum_buffer``…), created
zero-filled the first time, and ``state["step"]`` is the step number t, already
counted for this step. ``tests/test_kernels_optim.py`` checks every kernel
against its readable rule.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module

BLOCK = 1 << 18  # elements per block of an update: 1 MiB of float32 stays in the L2 cache


def sgd(p, g, state: dict, scratch: Scratch, *, lr: float, momentum: float, dampening: float,
        nesterov: bool, weight_decay: float) -> None:
    """SGD with momentum, Nesterov and weight decay in place (the rule of ``optim.SGD.update``)."""
    d = _with_weight_decay(p, g, weight_decay, scratch)
    if momentum:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = d.astype(p.dtype, copy=True)
        else:
            buf *= momentum
            if dampening:
                buf += np.multiply(d, 1.0 - dampening, out=scratch.like(p, 1))
            else:
                buf += d
        if nesterov:
            ahead = np.multiply(buf, momentum, out=scratch.like(p, 1))
            ahead += d
            d = ahead
        else:
            d = buf
    add_scaled(p, -lr, d, scratch)


def adagrad(p, g, state: dict, scratch: Scratch, *, lr: float, eps: float,
            weight_decay: float) -> None:
    """AdaGrad in place (the rule of ``optim.AdaGrad.update``)."""
    g = _with_weight_decay(p, g, weight_decay, scratch)
    h = zeros_in(state, "sum", p)
    t = np.multiply(g, g, out=scratch.like(p, 1))
    h += t
    np.sqrt(h, out=t)
    t += eps
    np.divide(g, t, out=t)
    t *= -lr
    p += t


def rmsprop(p, g, state: dict, scratch: Scratch, *, lr: float, alpha: float, eps: float,
            weight_decay: float, momentum: float, centered: bool) -> None:
    """RMSProp, centered or not, with or without momentum, in place (``optim.RMSProp.update``)."""
    g = _with_weight_decay(p, g, weight_decay, scratch)
    v = zeros_in(state, "square_avg", p)
    t = np.multiply(g, g, out=scratch.like(p, 1))
    t *= 1.0 - alpha
    v *= alpha
    v += t
    if centered:
        mean = zeros_in(state, "grad_avg", p)
        _lerp(mean, g, 1.0 - alpha, t)
        np.multiply(mean, mean, out=t)
        np.subtract(v, t, out=t)
        np.sqrt(t, out=t)
    else:
        np.sqrt(v, out=t)
    t += eps
    np.divide(g, t, out=t)  # t = g / (√v + eps)
    if momentum:
        buf = zeros_in(state, "momentum_buffer", p)
        buf *= momentum
        buf += t
        np.multiply(buf, -lr, out=t)
    else:
        t *= -lr
    p += t


def adam(p, g, state: dict, scratch: Scratch, *, lr: float, beta1: float, beta2: float,
         eps: float, weight_decay: float, decoupled: bool) -> None:
    """Adam (AdamW when ``decoupled``) in place (the rule of ``optim.Adam.update``).

    The bias corrections are folded into two scalars, as PyTorch does:
    p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps).
    """
    if decoupled:
        if weight_decay:  # AdamW without decay (a bias under weight_decay_filter): no pass over p
            p *= 1.0 - lr * weight_decay
    else:
        g = _with_weight_decay(p, g, weight_decay, scratch)
    m = zeros_in(state, "exp_avg", p)
    v = zeros_in(state, "exp_avg_sq", p)
    t = scratch.like(p, 1)
    _lerp(m, g, 1.0 - beta1, t)
    np.multiply(g, g, out=t)
    t *= 1.0 - beta2
    v *= beta2
    v += t
    step = state["step"]
    step_size = lr / (1.0 - beta1 ** step)
    np.sqrt(v, out=t)
    t /= math.sqrt(1.0 - beta2 ** step)
    t += eps
    np.divide(m, t, out=t)
    t *= -step_size
    p += t


class Scratch:
    """Scratch arrays made once and reused by every step and every parameter.

    ``like(p, slot)`` is an uninitialised array shaped like ``p`` (on its
    device, in its dtype); different slots are different arrays, so a kernel
    can hold two at once.
    """

    def __init__(self) -> None:
        self._arrays: dict = {}

    def like(self, p, slot: int = 0):
        """The scratch array number ``slot`` with ``p``'s shape, dtype and device."""
        key = (p.shape, p.dtype.str, slot, get_array_module(p).__name__)
        buf = self._arrays.get(key)
        if buf is None:
            buf = self._arrays[key] = get_array_module(p).empty_like(p)
        return buf


def add_scaled(p, scale: float, d, scratch: Scratch) -> None:
    """p += scale·d in place.

    On the CPU, block by block: each scaled block goes to a small scratch array
    that stays in cache, so the update reads p and d and writes p once each (a
    whole-array temporary would add a write and a read of its own). On a GPU,
    one whole-array update (one kernel launch, not many).
    """
    if (p.size <= BLOCK or get_array_module(p) is not np
            or not (p.flags.c_contiguous and d.flags.c_contiguous)):
        p += np.multiply(d, scale, out=scratch.like(p, 1))
        return
    flat_p, flat_d = p.reshape(-1), d.reshape(-1)
    block_scratch = scratch.like(flat_p[:BLOCK], 2)
    for start in range(0, flat_p.size, BLOCK):
        block = flat_p[start:start + BLOCK]
        block += np.multiply(flat_d[start:start + BLOCK], scale, out=block_scratch[:block.size])


def zeros_in(state: dict, key: str, p):
    """The state array ``key`` for the parameter array ``p``, zeros the first time."""
    buf = state.get(key)
    if buf is None:
        buf = state[key] = get_array_module(p).zeros_like(p)
    return buf


def _with_weight_decay(p, g, weight_decay: float, scratch: Scratch):
    """g + weight_decay·p in a scratch array (g itself is never modified); g when it is 0."""
    if not weight_decay:
        return g
    d = np.multiply(p, weight_decay, out=scratch.like(p, 0))
    d += g
    return d


def _lerp(avg, x, weight: float, tmp) -> None:
    """avg ← avg + weight·(x − avg) in place: a running average (PyTorch's lerp_)."""
    np.subtract(x, avg, out=tmp)
    tmp *= weight
    avg += tmp
