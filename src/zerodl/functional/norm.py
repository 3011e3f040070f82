"""Batch normalisation and dropout: the book's ch. 6.3 and 6.4.

Both behave differently while training and while evaluating: batch norm uses
the batch's statistics in training and its running estimates in evaluation;
dropout drops units in training and is the identity in evaluation.
"""

from __future__ import annotations

from ..autograd import Function, Tensor, as_tensor, is_grad_enabled
from ..backend import device_of, get_array_module, is_gpu_array
from ..random import default_rng


# ---------------------------------------------------------------- batch norm
def batch_norm(x, gamma, beta, running_mean, running_var, training: bool,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = γ · (x - μ) / √(σ² + ε) + β, per feature of (N, D) or per channel of (N, C, H, W).

    The book's BatchNormalization layer (ch. 6.3). In training, μ and σ² are
    the batch's mean and biased variance over every axis but axis 1, and the
    running estimates (ndarrays of shape (D,) or (C,)) are updated in place
    with PyTorch's convention: new = (1 - momentum)·old + momentum·batch,
    using the unbiased variance (n / (n - 1)) for the running estimate.
    In evaluation, μ and σ² are the running estimates, so the output does not
    depend on the rest of the batch. ``gamma``/``beta`` may be None (1 and 0);
    running statistics may be None (batch statistics are then always used).
    Backward is fused: one formula for dx, dγ, dβ.
    """
    like = gamma if isinstance(gamma, Tensor) else None
    x = as_tensor(x, like)
    if x.ndim < 2:
        raise ValueError(
            f"batch_norm: x must be (N, D) or (N, C, H, W), got shape {x.shape}; "
            "add a batch axis with x.reshape(1, -1)"
        )
    C = x.shape[1]
    xp = get_array_module(x.data)
    if gamma is None:
        gamma = Tensor(xp.ones(C, dtype=x.dtype))
    if beta is None:
        beta = Tensor(xp.zeros(C, dtype=x.dtype))
    gamma, beta = as_tensor(gamma, x), as_tensor(beta, x)
    for name, a in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if a is not None and tuple(a.shape) != (C,):
            raise ValueError(
                f"batch_norm: {name} has shape {tuple(a.shape)} but x {tuple(x.shape)} has "
                f"{C} {'features' if x.ndim == 2 else 'channels'} (axis 1); expected ({C},)"
            )
    for name, a in (("running_mean", running_mean), ("running_var", running_var)):
        if a is not None and not hasattr(a, "__array_interface__") and not is_gpu_array(a):
            raise TypeError(
                f"batch_norm: {name} must be an ndarray updated in place, got "
                f"{type(a).__name__}; pass module buffers (ndarrays), not Tensors"
            )
    use_batch = training or running_mean is None or running_var is None
    n = x.size // C
    if use_batch and n < 2:
        raise ValueError(
            f"batch_norm: training needs more than one value per channel to compute a "
            f"variance, got x of shape {tuple(x.shape)}; use a batch of at least 2 "
            "(or call model.eval() to use the running statistics)"
        )
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"batch_norm: momentum must be in [0, 1], got {momentum}")
    stats = None if use_batch else (running_mean, running_var)
    update = (running_mean, running_var) if training and running_mean is not None else None
    if update is not None and any(get_array_module(a) is not xp for a in update):
        raise TypeError(
            f"batch_norm: x is on the {device_of(x)}, running_mean on the {device_of(running_mean)} "
            f"and running_var on the {device_of(running_var)}; they must be on one device "
            "(model.to(...) moves a module's buffers with its parameters)"
        )
    return BatchNorm(stats, update, momentum, eps)(x, gamma, beta)


class BatchNorm(Function):
    """The book's BatchNormalization layer (ch. 6.3) with its fused backward; see ``batch_norm``.

    With x̂ = (x - μ)/σ, the training-mode backward is
    dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/(nσ) · (n·dy - dβ - x̂·dγ)
    (sums over the n values of each channel); in evaluation μ and σ are
    constants and dx = γ/σ · dy.
    """

    def __init__(self, stats, update, momentum, eps):
        self.stats, self.update, self.momentum, self.eps = stats, update, momentum, eps

    def forward(self, x, gamma, beta):
        xp = get_array_module(x)
        N, C = x.shape[:2]
        self.axes = (0,) + tuple(range(2, x.ndim))
        self.bshape = (1, C) + (1,) * (x.ndim - 2)
        n = x.size // C
        if self.stats is None:
            mu = _channel_sum(x) / n
            xc = x - mu.reshape(self.bshape)
            var = _channel_dot(xc, xc) / n
        else:
            mu = xp.asarray(self.stats[0], dtype=x.dtype)
            var = xp.asarray(self.stats[1], dtype=x.dtype)
            xc = x - mu.reshape(self.bshape)
        inv_std = (1.0 / xp.sqrt(var + x.dtype.type(self.eps))).reshape(self.bshape)
        xhat = xc
        xhat *= inv_std
        if self.update is not None:
            running_mean, running_var = self.update
            m = self.momentum
            running_mean *= 1.0 - m
            running_mean += (m * mu).astype(running_mean.dtype, copy=False)
            running_var *= 1.0 - m
            running_var += (m * n / (n - 1) * var).astype(running_var.dtype, copy=False)
        self.inv_std, self.xhat = inv_std, xhat
        y = xhat * gamma.reshape(self.bshape)
        y += beta.reshape(self.bshape)
        return y

    def backward(self, gy):
        if is_grad_enabled():
            return self._backward_graph(gy)
        need = self.needs_input_grad
        x, gamma = self.inputs[:2]
        g, xhat = gy.data, self.xhat
        batch = self.stats is None
        gbeta = _channel_sum(g) if need[2] or (need[0] and batch) else None
        ggamma = _channel_dot(g, xhat) if need[1] or (need[0] and batch) else None
        gx = None
        if need[0]:
            scale = gamma.data.reshape(self.bshape) * self.inv_std
            if batch:  # γ/σ · (dy - dβ/n - x̂·dγ/n), in place on one new array
                n = x.size // x.shape[1]
                gx = xhat * (ggamma / -n).reshape(self.bshape)
                gx += g
                gx -= (gbeta / n).reshape(self.bshape)
                gx *= scale
            else:
                gx = g * scale
        return gx, (ggamma if need[1] else None), (gbeta if need[2] else None)

    def _backward_graph(self, gy):
        """The same gradients with Tensor operations, for create_graph."""
        from .shape import mean, reshape, sum

        x, gamma = self.inputs[:2]
        need = self.needs_input_grad
        axes = self.axes
        if self.stats is None:
            mu = mean(x, axis=axes, keepdims=True)
            xc = x - mu
            inv_std = (mean(xc * xc, axis=axes, keepdims=True) + self.eps) ** -0.5
        else:
            inv_std = Tensor(self.inv_std)
            xc = x - Tensor(self._mean_array(x))
        xhat = xc * inv_std
        gbeta = sum(gy, axis=axes)
        ggamma = sum(gy * xhat, axis=axes)
        gx = None
        if need[0]:
            scale = reshape(gamma, self.bshape) * inv_std
            if self.stats is None:
                n = x.size // x.shape[1]
                gx = scale * (gy - reshape(gbeta, self.bshape) / n
                              - xhat * reshape(ggamma, self.bshape) / n)
            else:
                gx = scale * gy
        return gx, ggamma if need[1] else None, gbeta if need[2] else None

    def _mean_array(self, x):
        xp = get_array_module(x.data)
        return xp.asarray(self.stats[0], dtype=x.dtype).reshape(self.bshape)


def _channel_sum(a):
    """Σ over every axis but 1: (N, C, ...) -> (C,)."""
    xp = get_array_module(a)
    return xp.einsum("ncl->c", a.reshape(a.shape[0], a.shape[1], -1))


def _channel_dot(a, b):
    """Σ a·b over every axis but 1, without the product as a temporary."""
    xp = get_array_module(a)
    shape = (a.shape[0], a.shape[1], -1)
    return xp.einsum("ncl,ncl->c", a.reshape(shape), b.reshape(shape))


# ---------------------------------------------------------------- dropout
def dropout(x, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout (the book's Dropout, ch. 6.4.3, scaled at training time).

    In training each element is kept with probability 1 - p and scaled by
    1 / (1 - p), so the expected value of the output equals the input and
    evaluation needs no rescaling; in evaluation (or with p = 0) it is the
    identity and returns ``x`` itself. The mask comes from zerodl's generator
    (``zd.manual_seed`` makes it reproducible).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must satisfy 0 <= p < 1 (the drop probability), got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    return Dropout(p)(x)


class Dropout(Function):
    """y = x · mask / (1 - p) with mask ~ Bernoulli(1 - p); backward multiplies by the same mask."""

    def __init__(self, p: float):
        self.p = p

    def forward(self, x):
        xp = get_array_module(x)
        dtype = x.dtype if x.dtype.kind == "f" else xp.float32
        rand_dtype = dtype if dtype.itemsize in (4, 8) else xp.float64
        # Drawn by zerodl's one NumPy generator, on the host even for a GPU array, so
        # that zd.manual_seed gives the same masks on either device.
        u = xp.asarray(default_rng().random(x.shape, dtype=rand_dtype))
        mask = (u >= self.p).astype(dtype)
        mask *= 1.0 / (1.0 - self.p)
        self.mask = mask
        return x * mask

    def backward(self, gy):
        return gy * Tensor(self.mask)


BatchNormalization = BatchNorm  # the book's name (ch. 6.3)
