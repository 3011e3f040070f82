"""The optimizers of the book's ch. 6.1, each rule written as its formula.

Each class's ``update(p, g, state)`` is the rule as the book and the papers
write it, on whole arrays: read it beside the formula in the docstring. The
same rule rewritten in place, allocating nothing per step, is in
``zerodl.kernels.optim``; ``fast_update`` calls it, and ``step`` uses that one
unless ``opt.fast = False``. Both follow PyTorch's optimizer of the same name
(Nesterov included), so the same gradients give the same parameters.

Hyperparameters are read as Python floats (``float(self.lr)``): a float32
model stays float32 whatever scalar type the user set.
"""

from __future__ import annotations

import numpy as np

from ..kernels import optim as kernels
from .optimizer import Optimizer


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
                 weight_decay: float = 0.0, dampening: float = 0.0, *,
                 weight_decay_filter=None) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")
        super().__init__(params, weight_decay_filter, lr=lr, momentum=momentum, nesterov=nesterov,
                         weight_decay=weight_decay, dampening=dampening)

    def update(self, p, g, state):
        """One SGD step on arrays, as the formula above."""
        lr, momentum, wd = float(self.lr), float(self.momentum), float(self.weight_decay)
        dampening = float(self.dampening)
        d = g + wd * p if wd else g
        if momentum:
            buf = state.get("momentum_buffer")
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            state["momentum_buffer"] = buf
            d = d + momentum * buf if self.nesterov else buf
        p -= lr * d

    def fast_update(self, p, g, state):
        """The same step in place, allocating nothing: ``kernels.optim.sgd``."""
        kernels.sgd(p, g, state, self.scratch, lr=float(self.lr), momentum=float(self.momentum),
                    dampening=float(self.dampening), nesterov=bool(self.nesterov),
                    weight_decay=float(self.weight_decay))


class Momentum(SGD):
    """The book's Momentum (ch. 6.1.4): v ← αv - η∇L, W ← W + v; SGD(momentum=α) by another name."""

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 0.0, *, weight_decay_filter=None) -> None:
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         weight_decay_filter=weight_decay_filter)


class Nesterov(SGD):
    """Nesterov's accelerated gradient: SGD(momentum=α, nesterov=True).

    p ← p - lr·(g + α·buf) with buf = α·buf + g: the momentum step is taken
    from the looked-ahead point. (The book's Nesterov class writes this with
    α² times the already-updated velocity, a slightly different trajectory.)
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 0.0, *, weight_decay_filter=None) -> None:
        super().__init__(params, lr=lr, momentum=momentum, nesterov=True,
                         weight_decay=weight_decay, weight_decay_filter=weight_decay_filter)


class AdaGrad(Optimizer):
    """AdaGrad (ch. 6.1.5): each weight's step shrinks with the gradients it has seen.

    h ← h + g²,  p ← p - lr·g / (√h + eps)   (after g ← g + weight_decay·p).
    eps = 1e-7 as the book's code.
    """

    def __init__(self, params, lr: float = 0.01, eps: float = 1e-7,
                 weight_decay: float = 0.0, *, weight_decay_filter=None) -> None:
        super().__init__(params, weight_decay_filter, lr=lr, eps=eps, weight_decay=weight_decay)

    def update(self, p, g, state):
        """One AdaGrad step on arrays, as the formula above."""
        lr, eps, wd = float(self.lr), float(self.eps), float(self.weight_decay)
        if wd:
            g = g + wd * p
        h = state["sum"] = state.get("sum", 0) + g * g
        p -= lr * g / (np.sqrt(h) + eps)

    def fast_update(self, p, g, state):
        """The same step in place, allocating nothing: ``kernels.optim.adagrad``."""
        kernels.adagrad(p, g, state, self.scratch, lr=float(self.lr), eps=float(self.eps),
                        weight_decay=float(self.weight_decay))


class RMSProp(Optimizer):
    """RMSProp: AdaGrad with a forgetting running average of g² (ch. 6.1.5).

    v ← α·v + (1 - α)·g²,  p ← p - lr·g / (√v + eps)   (after g ← g + weight_decay·p).
    ``centered``: also ḡ ← α·ḡ + (1 - α)·g, and √(v - ḡ²) replaces √v.
    ``momentum`` μ: buf ← μ·buf + g / (√v + eps), p ← p - lr·buf.
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-7,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 weight_decay_filter=None) -> None:
        super().__init__(params, weight_decay_filter, lr=lr, alpha=alpha, eps=eps,
                         weight_decay=weight_decay, momentum=momentum, centered=centered)

    def update(self, p, g, state):
        """One RMSProp step on arrays, as the formulas above."""
        lr, alpha, eps = float(self.lr), float(self.alpha), float(self.eps)
        wd, momentum = float(self.weight_decay), float(self.momentum)
        if wd:
            g = g + wd * p
        v = state["square_avg"] = alpha * state.get("square_avg", 0) + (1 - alpha) * g * g
        if self.centered:
            g_mean = state["grad_avg"] = alpha * state.get("grad_avg", 0) + (1 - alpha) * g
            step = g / (np.sqrt(v - g_mean * g_mean) + eps)
        else:
            step = g / (np.sqrt(v) + eps)
        if momentum:
            step = state["momentum_buffer"] = momentum * state.get("momentum_buffer", 0) + step
        p -= lr * step

    def fast_update(self, p, g, state):
        """The same step in place, allocating nothing: ``kernels.optim.rmsprop``."""
        kernels.rmsprop(p, g, state, self.scratch, lr=float(self.lr), alpha=float(self.alpha),
                        eps=float(self.eps), weight_decay=float(self.weight_decay),
                        momentum=float(self.momentum), centered=bool(self.centered))


RMSprop = RMSProp  # PyTorch's spelling


class Adam(Optimizer):
    """Adam (ch. 6.1.6): momentum on g and AdaGrad-like scaling by g², both bias-corrected.

    g ← g + weight_decay·p
    m ← β₁·m + (1 - β₁)·g
    v ← β₂·v + (1 - β₂)·g²
    m̂ = m / (1 - β₁ᵗ),  v̂ = v / (1 - β₂ᵗ)
    p ← p - lr·m̂ / (√v̂ + eps)
    eps is added after the bias correction of √v (the book's code adds it before).
    """

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, weight_decay_filter=None) -> None:
        super().__init__(params, weight_decay_filter, lr=lr, betas=tuple(betas), eps=eps,
                         weight_decay=weight_decay)

    def update(self, p, g, state):
        """One Adam (or AdamW) step on arrays, as the formulas above."""
        lr, eps, wd = float(self.lr), float(self.eps), float(self.weight_decay)
        beta1, beta2 = (float(b) for b in self.betas)
        t = state["step"]
        if wd and self.decoupled:
            p *= 1 - lr * wd                 # AdamW: p itself shrinks, g is left alone
        elif wd:
            g = g + wd * p
        m = state["exp_avg"] = beta1 * state.get("exp_avg", 0) + (1 - beta1) * g
        v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0) + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        p -= lr * m_hat / (np.sqrt(v_hat) + eps)

    def fast_update(self, p, g, state):
        """The same step in place, allocating nothing: ``kernels.optim.adam``."""
        beta1, beta2 = (float(b) for b in self.betas)
        kernels.adam(p, g, state, self.scratch, lr=float(self.lr), beta1=beta1, beta2=beta2,
                     eps=float(self.eps), weight_decay=float(self.weight_decay),
                     decoupled=self.decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p·(1 - lr·weight_decay) before the Adam step
    (and g is not changed by the decay)."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, *, weight_decay_filter=None) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         weight_decay_filter=weight_decay_filter)
