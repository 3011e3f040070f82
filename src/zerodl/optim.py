"""Optimizers (the book's ch. 6.1) and learning-rate schedules.

Each optimizer updates ``p.data`` in place from ``p.grad``, with the same
update rule as PyTorch's optimizer of the same name, so the same gradients
give the same parameters. Their state (momentum buffers, running averages,
step counts) is keyed by parameter names::

    opt = optim.Adam(model.named_parameters(), lr=1e-3)   # or model.parameters()
    loss.backward(); opt.step(); opt.zero_grad()

Updates are done with in-place NumPy operations into buffers made once, so a
step allocates nothing per parameter; a float32 model stays float32 (the
hyperparameters are Python floats, which never upcast an array). Gradients
are read, never written: they may be shared with other code.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from .autograd import Tensor
from .backend import as_numpy, get_array_module, is_gpu_array

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "RMSprop", "Adam",
           "AdamW", "LRScheduler", "StepLR", "CosineAnnealingLR"]


class Optimizer:
    """Base class: holds named parameters, their state, and the hyperparameters as attributes.

    ``params``: a list of Parameters (named "0", "1", … in order),
    ``model.named_parameters()`` (the names key the state), or a Module.
    Subclasses write ``_update(name, p, g, state)`` on arrays.
    """

    def __init__(self, params, **hyperparameters) -> None:
        self.params: OrderedDict[str, Tensor] = _named_params(type(self).__name__, params)
        self._hyper = tuple(hyperparameters)
        for key, value in hyperparameters.items():
            setattr(self, key, value)
        self.state: dict[str, dict] = {}
        self._scratch: dict = {}

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``)."""
        for p in self.params.values():
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient (parameters with ``grad=None`` are skipped)."""
        for name, p in self.params.items():
            if p.grad is None:
                continue
            g = p.grad.data if isinstance(p.grad, Tensor) else p.grad
            if g.shape != p.data.shape:
                raise ValueError(f"{type(self).__name__}.step: gradient of {name!r} has shape "
                                 f"{g.shape} but the parameter has shape {p.data.shape}")
            state = self.state.setdefault(name, {"step": 0})
            state["step"] += 1
            self._update(name, p.data, g, state)

    def _update(self, name: str, p, g, state: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__}._update is not defined")

    def _tmp(self, p, slot: int = 0):
        """A scratch array shaped like ``p``, made once and reused by every step (and parameter)."""
        key = (p.shape, p.dtype.str, slot, get_array_module(p).__name__)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = get_array_module(p).empty_like(p)
        return buf

    def _add_scaled(self, p, scale: float, d) -> None:
        """p += scale·d. On the CPU, block by block: each scaled block goes to a small
        scratch array that stays in cache, so the update reads p and d and writes p once
        each (a whole-array temporary would add a write and a read of its own)."""
        if (p.size <= _BLOCK or get_array_module(p) is not np
                or not (p.flags.c_contiguous and d.flags.c_contiguous)):
            p += np.multiply(d, scale, out=self._tmp(p, 1))  # on a GPU: one kernel, not many
            return
        flat_p, flat_d = p.reshape(-1), d.reshape(-1)
        scratch = self._tmp(flat_p[:_BLOCK], 2)
        for start in range(0, flat_p.size, _BLOCK):
            block = flat_p[start:start + _BLOCK]
            block += np.multiply(flat_d[start:start + _BLOCK], scale, out=scratch[:block.size])

    def _buffer(self, state: dict, key: str, p):
        """The state array ``key`` for parameter array ``p``, zeros the first time."""
        buf = state.get(key)
        if buf is None:
            buf = state[key] = get_array_module(p).zeros_like(p)
        return buf

    @property
    def hyperparameters(self) -> dict:
        """The settings, such as ``{"lr": 0.01, "momentum": 0.9}``."""
        return {k: getattr(self, k) for k in self._hyper}

    def state_dict(self) -> dict:
        """``{"type", "hyperparameters", "state": {param name: {"step": n, buffer: array}}}`` (copies)."""
        state = {name: {k: (as_numpy(v).copy() if _is_array(v) else v)
                        for k, v in s.items()}
                 for name, s in self.state.items()}
        hyper = {k: (list(v) if isinstance(v, tuple) else v)
                 for k, v in self.hyperparameters.items()}
        return {"type": type(self).__name__, "hyperparameters": hyper, "state": state}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters (``lr`` included) and state saved by ``state_dict()``.

        The state's parameter names must belong to this optimizer and its arrays
        must have the parameters' shapes; they are copied in the parameters' dtype.
        """
        kind = state_dict.get("type", type(self).__name__)
        if kind != type(self).__name__:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state is from {kind}")
        saved = state_dict.get("state", {})
        unknown = [n for n in saved if n not in self.params]
        if unknown:
            raise KeyError(f"{type(self).__name__}.load_state_dict: state for unknown parameters "
                           f"{unknown}; this optimizer has {list(self.params)}")
        for name, s in saved.items():
            for k, v in s.items():
                if _is_array(v) and tuple(v.shape) != self.params[name].shape:
                    raise ValueError(
                        f"{type(self).__name__}.load_state_dict: {name}.{k} has shape "
                        f"{tuple(v.shape)}, the parameter {self.params[name].shape}"
                    )
        for k, v in state_dict.get("hyperparameters", {}).items():
            if k in self._hyper:
                setattr(self, k, tuple(v) if isinstance(getattr(self, k), tuple) else v)
        self.state = {name: {k: _restore(k, v, self.params[name].data) for k, v in s.items()}
                      for name, s in saved.items()}

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


# ---------------------------------------------------------------- the optimizers
class SGD(Optimizer):
    """Stochastic gradient descent (ch. 6.1.2), with optional momentum, Nesterov and weight decay.

    d = g + weight_decay·p
    with momentum: buf = momentum·buf + (1 - dampening)·d (buf = d on the first step),
                   d = d + momentum·buf if nesterov else buf
    p ← p - lr·d
    With constant lr this is exactly the book's Momentum, v = αv - η g, p ← p + v,
    with v = -lr·buf.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, dampening: float = 0.0) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")
        super().__init__(params, lr=lr, momentum=momentum, nesterov=nesterov,
                         weight_decay=weight_decay, dampening=dampening)

    def _update(self, name, p, g, state):
        lr, m, wd = float(self.lr), float(self.momentum), float(self.weight_decay)
        d = _with_weight_decay(self, p, g, wd)
        if m:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = d.astype(p.dtype, copy=True)
            else:
                buf *= m
                if self.dampening:
                    scaled = np.multiply(d, 1.0 - float(self.dampening), out=self._tmp(p, 1))
                    buf += scaled
                else:
                    buf += d
            if self.nesterov:
                ahead = np.multiply(buf, m, out=self._tmp(p, 1))
                ahead += d
                d = ahead
            else:
                d = buf
        self._add_scaled(p, -lr, d)


class Momentum(SGD):
    """The book's Momentum (ch. 6.1.4): v ← αv - η∇L, W ← W + v; SGD(momentum=α) by another name."""

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


class Nesterov(SGD):
    """Nesterov's accelerated gradient: SGD(momentum=α, nesterov=True).

    p ← p - lr·(g + α·buf) with buf = α·buf + g: the momentum step is taken
    from the looked-ahead point. (The book's Nesterov class writes this with
    α² times the already-updated velocity, a slightly different trajectory.)
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, momentum=momentum, nesterov=True,
                         weight_decay=weight_decay)


class AdaGrad(Optimizer):
    """AdaGrad (ch. 6.1.5): each weight's step shrinks with the gradients it has seen.

    h ← h + g²,  p ← p - lr·g / (√h + eps). eps = 1e-7 as the book's code.
    """

    def __init__(self, params, lr: float = 0.01, eps: float = 1e-7,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, eps=eps, weight_decay=weight_decay)

    def _update(self, name, p, g, state):
        g = _with_weight_decay(self, p, g, float(self.weight_decay))
        h = self._buffer(state, "sum", p)
        t = np.multiply(g, g, out=self._tmp(p, 1))
        h += t
        np.sqrt(h, out=t)
        t += float(self.eps)
        np.divide(g, t, out=t)
        t *= -float(self.lr)
        p += t


class RMSProp(Optimizer):
    """RMSProp: AdaGrad with a forgetting running average of g² (ch. 6.1.5).

    v ← α·v + (1 - α)·g²,  p ← p - lr·g / (√v + eps). ``centered`` subtracts
    the squared running mean of g from v; ``momentum`` accumulates the steps.
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-7,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered)

    def _update(self, name, p, g, state):
        alpha = float(self.alpha)
        g = _with_weight_decay(self, p, g, float(self.weight_decay))
        v = self._buffer(state, "square_avg", p)
        t = np.multiply(g, g, out=self._tmp(p, 1))
        t *= 1.0 - alpha
        v *= alpha
        v += t
        if self.centered:
            mean = self._buffer(state, "grad_avg", p)
            _lerp(mean, g, 1.0 - alpha, t)
            np.multiply(mean, mean, out=t)
            np.subtract(v, t, out=t)
            np.sqrt(t, out=t)
        else:
            np.sqrt(v, out=t)
        t += float(self.eps)
        np.divide(g, t, out=t)  # t = g / (√v + eps)
        if self.momentum:
            buf = self._buffer(state, "momentum_buffer", p)
            buf *= float(self.momentum)
            buf += t
            np.multiply(buf, -float(self.lr), out=t)
        else:
            t *= -float(self.lr)
        p += t


RMSprop = RMSProp  # PyTorch's spelling


class Adam(Optimizer):
    """Adam (ch. 6.1.6): momentum on g and AdaGrad-like scaling by g², both bias-corrected.

    m ← β₁m + (1-β₁)g,  v ← β₂v + (1-β₂)g²  (after g ← g + weight_decay·p)
    p ← p - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + eps)
    eps is added after the bias correction of √v (the book's code adds it before).
    """

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)

    def _update(self, name, p, g, state):
        lr, wd = float(self.lr), float(self.weight_decay)
        b1, b2 = (float(b) for b in self.betas)
        if self.decoupled:
            p *= 1.0 - lr * wd
        else:
            g = _with_weight_decay(self, p, g, wd)
        m = self._buffer(state, "exp_avg", p)
        v = self._buffer(state, "exp_avg_sq", p)
        t = self._tmp(p, 1)
        _lerp(m, g, 1.0 - b1, t)
        np.multiply(g, g, out=t)
        t *= 1.0 - b2
        v *= b2
        v += t
        step = state["step"]
        step_size = lr / (1.0 - b1 ** step)
        np.sqrt(v, out=t)
        t /= math.sqrt(1.0 - b2 ** step)
        t += float(self.eps)
        np.divide(m, t, out=t)
        t *= -step_size
        p += t


class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p·(1 - lr·weight_decay) before the Adam step."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


# ---------------------------------------------------------------- schedules
class LRScheduler:
    """Sets ``optimizer.lr`` from the epoch count; call ``step()`` once per epoch."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> float:
        """The learning rate set by the latest ``step()`` (the base one before any)."""
        return float(self.optimizer.lr)

    def state_dict(self) -> dict:
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.base_lr = float(state["base_lr"])
        self.last_epoch = int(state["last_epoch"])
        self.optimizer.lr = self.lr_at(self.last_epoch)


class StepLR(LRScheduler):
    """lr = base_lr · gamma^⌊epoch / step_size⌋: divide by 1/gamma every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size, self.gamma = int(step_size), float(gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min)·(1 + cos(π·epoch / T_max)) / 2, from base_lr down to eta_min."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max, self.eta_min = int(T_max), float(eta_min)

    def lr_at(self, epoch: int) -> float:
        cos = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (1.0 + cos) / 2.0


# ---------------------------------------------------------------- helpers
def _named_params(owner: str, params) -> OrderedDict:
    if hasattr(params, "named_parameters"):  # a Module
        params = params.named_parameters()
    items = list(params.items()) if isinstance(params, dict) else list(params)
    if not items:
        raise ValueError(f"{owner}: got an empty parameter list; pass model.parameters() "
                         "or model.named_parameters()")
    if all(isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str) for i in items):
        pairs = items
    else:
        pairs = [(str(i), p) for i, p in enumerate(items)]
    out: OrderedDict = OrderedDict()
    seen: set[int] = set()
    for name, p in pairs:
        if not isinstance(p, Tensor) or p.data.dtype.kind != "f":
            raise TypeError(f"{owner}: parameter {name!r} must be a float Tensor (Parameter), "
                            f"got {type(p).__name__}")
        if id(p) in seen or name in out:
            raise ValueError(f"{owner}: parameter {name!r} appears twice")
        seen.add(id(p))
        out[name] = p
    return out


_BLOCK = 1 << 18  # elements per block of an update: 1 MiB of float32 stays in the L2 cache


def _with_weight_decay(opt: Optimizer, p, g, wd: float):
    """g + wd·p in a scratch array (g itself is never modified); g when wd = 0."""
    if not wd:
        return g
    d = np.multiply(p, wd, out=opt._tmp(p, 0))
    d += g
    return d


def _restore(key: str, value, p):
    """A saved state entry as it lives in memory: arrays in the parameter's dtype, ints for steps."""
    if _is_array(value):
        return get_array_module(p).array(value, dtype=p.dtype)
    return int(value) if key == "step" else value


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray) or is_gpu_array(value)


def _lerp(avg, x, weight: float, tmp) -> None:
    """avg ← avg + weight·(x - avg) in place: a running average."""
    np.subtract(x, avg, out=tmp)
    tmp *= weight
    avg += tmp
