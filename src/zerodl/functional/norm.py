"""Batch normalisation and dropout: the book's ch. 6.3 and 6.4.

Both behave differently while training and while evaluating: batch norm uses
the batch's statistics in training and its running estimates in evaluation;
dropout drops units in training and is the identity in evaluation.

``BatchNormalization`` and ``Dropout`` are the book's layers and can be driven
by hand (``f(x, gamma, beta)``, then ``f.backward_by_hand(dout)``); their
options cover the book's conventions beside zerodl's defaults.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function, Tensor, arrays_or_tensors, as_tensor
from ..backend import device_of, get_array_module, is_gpu_array
from ..kernels import norm as fast_norm
from ..random import default_rng

USE_FAST_KERNEL = True  # False: batch norm runs the readable code below (slower, same numbers)


# ---------------------------------------------------------------- batch norm
def batch_norm(x, gamma, beta, running_mean, running_var, training: bool,
               momentum: float = 0.1, eps: float = 1e-5, *, momentum_of: str = "batch",
               unbiased: bool = True) -> Tensor:
    """y = γ · (x - μ) / √(σ² + ε) + β, per feature of (N, D) or per channel of (N, C, H, W).

    The book's BatchNormalization layer (ch. 6.3). In training, μ and σ² are
    the batch's mean and biased variance over every axis but axis 1, and the
    running estimates (ndarrays of shape (D,) or (C,)) are updated in place
    with PyTorch's convention: new = (1 - momentum)·old + momentum·batch,
    using the unbiased variance (n / (n - 1)) for the running estimate
    (``momentum_of="running"`` and ``unbiased=False`` give the book's rule, see
    ``BatchNormalization``). In evaluation, μ and σ² are the running estimates,
    so the output does not depend on the rest of the batch. ``gamma``/``beta``
    may be None (1 and 0); running statistics may be None (batch statistics
    are then always used).
    """
    like = gamma if isinstance(gamma, Tensor) else None
    x = as_tensor(x, like)
    _check_has_channels(x.shape)
    C = x.shape[1]
    xp = get_array_module(x.data)
    if gamma is None:
        gamma = Tensor(xp.ones(C, dtype=x.dtype))
    if beta is None:
        beta = Tensor(xp.zeros(C, dtype=x.dtype))
    f = BatchNormalization(running_mean, running_var, training, momentum, eps,
                           momentum_of=momentum_of, unbiased=unbiased)
    return f(x, as_tensor(gamma, x), as_tensor(beta, x))


class BatchNormalization(Function):
    """The book's BatchNormalization layer (ch. 6.3): y = γ·xn + β, xn = (x - μ)/√(σ² + ε).

    ``BatchNormalization(running_mean=None, running_var=None, training=True,
    momentum=0.1, eps=1e-5, *, momentum_of="batch", unbiased=True, fast=None)``,
    called on ``(x, gamma, beta)`` with x (N, D) or (N, C, H, W) and γ, β of
    shape (D,) or (C,): statistics are per feature, or per channel of an image
    batch (the book's code flattens 4-D input per pixel; per channel is right).

    * ``training``: batch statistics, and the running estimates updated in
      place; otherwise the running estimates are used (the book's ``train_flg``).
    * ``running_mean``, ``running_var``: the caller's ndarrays of shape (C,),
      updated in place (the book starts them at zeros); None: batch statistics
      always, nothing updated.
    * ``momentum_of="batch"`` (zerodl, PyTorch): running = (1 - m)·running + m·batch,
      m = 0.1; ``"running"`` (the book): running = m·running + (1 - m)·batch, m = 0.9.
    * ``unbiased=True`` (zerodl): the running variance takes the batch variance
      times n/(n - 1); False (the book): the biased batch variance.
    * ``eps``: 1e-5 (zerodl, PyTorch); the book's code writes 10e-7, which is 1e-6.

    Backward is the book's chain: dβ = Σ dy, dγ = Σ dy·xn, dxn = γ·dy,
    dxc = dxn/std, dstd = -Σ dxn·xc/std², dvar = dstd/(2·std),
    dxc += 2·xc·dvar/n, dμ = Σ dxc, dx = dxc - dμ/n (sums over the n values of a
    channel). With ``fast`` (default ``USE_FAST_KERNEL``) arrays take the same
    steps fused (``kernels/norm.py``); Tensors (create_graph) take these.
    """

    def __init__(self, running_mean=None, running_var=None, training: bool = True,
                 momentum: float = 0.1, eps: float = 1e-5, *, momentum_of: str = "batch",
                 unbiased: bool = True, fast: bool | None = None):
        for name, a in (("running_mean", running_mean), ("running_var", running_var)):
            if a is not None and not hasattr(a, "__array_interface__") and not is_gpu_array(a):
                raise TypeError(
                    f"batch_norm: {name} must be an ndarray updated in place, got "
                    f"{type(a).__name__}; pass module buffers (ndarrays), not Tensors"
                )
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"batch_norm: momentum must be in [0, 1], got {momentum}")
        if momentum_of not in ("batch", "running"):
            raise ValueError(f"batch_norm: momentum_of must be 'batch' (zerodl, PyTorch) or "
                             f"'running' (the book), got {momentum_of!r}")
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps
        self.momentum_of, self.unbiased = momentum_of, unbiased
        self.fast = USE_FAST_KERNEL if fast is None else fast
        has_running = running_mean is not None and running_var is not None
        self.batch_statistics = training or not has_running
        self.updates_running = training and has_running

    def forward(self, x, gamma, beta):
        self._check(x, gamma, beta)
        C = x.shape[1]
        self.axes = (0,) + tuple(range(2, x.ndim))  # every axis but the channel axis 1
        self.shape = (1, C) + (1,) * (x.ndim - 2)    # how γ, β, μ and σ broadcast over x
        self.n = x.size // C                          # the values each channel's statistics see
        if self.fast:
            running = () if self.batch_statistics else self._running(x)
            y, self.xn, self.inv_std, mu, var = fast_norm.batch_norm_forward(
                x, gamma, beta, self.eps, *running)
        else:
            mu, var, _, _, xn = self._normalize(x)
            y = gamma.reshape(self.shape) * xn + beta.reshape(self.shape)
        if self.updates_running:
            self._update_running(mu.reshape(C), var.reshape(C))
        return y

    def backward(self, gy):
        gy, x, gamma = arrays_or_tensors(gy, *self.inputs[:2])
        if self.fast and not isinstance(gy, Tensor):
            return fast_norm.batch_norm_backward(gy, gamma, self.xn, self.inv_std,
                                                 self.batch_statistics, self.needs_input_grad)
        _, _, xc, std, xn = self._normalize(x)  # forward's steps again, on what the rule holds
        axes, n = self.axes, self.n
        dbeta = gy.sum(axis=axes)
        dgamma = (xn * gy).sum(axis=axes)
        dxn = gamma.reshape(self.shape) * gy
        dxc = dxn / std
        if not self.batch_statistics:  # running statistics are constants: x - μ is all there is
            return dxc, dgamma, dbeta
        dstd = -((dxn * xc) / (std * std)).sum(axis=axes, keepdims=True)
        dvar = 0.5 * dstd / std
        dxc = dxc + (2.0 / n) * xc * dvar
        dmu = dxc.sum(axis=axes, keepdims=True)
        dx = dxc - dmu / n
        return dx, dgamma, dbeta

    def _normalize(self, x):
        """The book's forward steps on x (an array or a Tensor): μ, σ², xc = x - μ,
        std = √(σ² + ε), xn = xc / std, statistics shaped to broadcast over x."""
        if self.batch_statistics:
            mu = x.mean(axis=self.axes, keepdims=True)
            xc = x - mu
            var = (xc * xc).mean(axis=self.axes, keepdims=True)
        else:
            mu, var = (a.reshape(self.shape) for a in self._running(x))
            xc = x - mu
        std = (var + self.eps) ** 0.5
        return mu, var, xc, std, xc / std

    def _running(self, x):
        """The running mean and variance as arrays in x's dtype, on x's device."""
        xp = get_array_module(x.data if isinstance(x, Tensor) else x)
        dtype = x.dtype
        return (xp.asarray(self.running_mean, dtype=dtype),
                xp.asarray(self.running_var, dtype=dtype))

    def _update_running(self, mu, var):
        """running = keep·running + (1 - keep)·batch, in place in the running arrays' dtype."""
        keep = 1.0 - self.momentum if self.momentum_of == "batch" else self.momentum
        if self.unbiased:
            var = var * (self.n / (self.n - 1))
        for running, batch in ((self.running_mean, mu), (self.running_var, var)):
            running *= keep
            running += ((1.0 - keep) * batch).astype(running.dtype, copy=False)

    def _check(self, x, gamma, beta):
        """Clear errors for shapes, batch sizes and devices that cannot work."""
        _check_has_channels(x.shape)
        C = x.shape[1]
        for name, a in (("gamma", gamma), ("beta", beta), ("running_mean", self.running_mean),
                        ("running_var", self.running_var)):
            if a is not None and tuple(a.shape) != (C,):
                raise ValueError(
                    f"batch_norm: {name} has shape {tuple(a.shape)} but x {tuple(x.shape)} has "
                    f"{C} {'features' if x.ndim == 2 else 'channels'} (axis 1); expected ({C},)"
                )
        # One value per channel has variance 0 (the output is beta), but its unbiased
        # variance, zerodl's default for the running statistics, is 0/0.
        if self.batch_statistics and self.unbiased and x.size // max(C, 1) < 2:
            raise ValueError(
                f"batch_norm: training needs more than one value per channel to compute a "
                f"variance, got x of shape {tuple(x.shape)}; use a batch of at least 2 "
                "(or call model.eval() to use the running statistics)"
            )
        xp = get_array_module(x)
        if self.updates_running and any(get_array_module(a) is not xp
                                        for a in (self.running_mean, self.running_var)):
            raise TypeError(
                f"batch_norm: x is on the {device_of(x)}, running_mean on the "
                f"{device_of(self.running_mean)} and running_var on the "
                f"{device_of(self.running_var)}; they must be on one device "
                "(model.to(...) moves a module's buffers with its parameters)"
            )


BatchNorm = BatchNormalization  # the name it had before it took the book's


def _check_has_channels(shape) -> None:
    if len(shape) < 2:
        raise ValueError(
            f"batch_norm: x must be (N, D) or (N, C, H, W), got shape {tuple(shape)}; "
            "add a batch axis with x.reshape(1, -1)"
        )


# ---------------------------------------------------------------- dropout
def dropout(x, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout (the book's Dropout, ch. 6.4.3, scaled at training time).

    In training each element is kept with probability 1 - p and scaled by
    1 / (1 - p), so the expected value of the output equals the input and
    evaluation needs no rescaling; in evaluation (or with p = 0) it is the
    identity and returns ``x`` itself. The mask comes from zerodl's generator
    (``zd.manual_seed`` makes it reproducible).
    """
    _check_p(p)
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    return Dropout(p)(x)


class Dropout(Function):
    """The book's Dropout layer (ch. 6.4.3): y = x·mask, each element kept with probability 1 - p.

    ``Dropout(p=0.5, training=True, *, inverted=True)``, called on x. The mask
    is drawn by zerodl's generator (``zd.manual_seed``); backward multiplies by
    the same mask, dx = dy·mask.

    * ``inverted=True`` (zerodl, PyTorch): in training the kept elements are
      scaled by 1/(1 - p), so evaluation is the identity.
    * ``inverted=False`` (the book): training multiplies by the 0/1 mask alone,
      and evaluation by (1 - p) (the book's ``x * (1.0 - self.dropout_ratio)``).
    """

    def __init__(self, p: float = 0.5, training: bool = True, *, inverted: bool = True):
        _check_p(p)
        self.p, self.training, self.inverted = p, training, inverted

    def forward(self, x):
        xp = get_array_module(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        if not self.training:
            self.mask = dtype.type(1.0 if self.inverted else 1.0 - self.p)
            return x * self.mask
        rand_dtype = dtype if dtype.itemsize in (4, 8) else xp.float64
        # Drawn by zerodl's one NumPy generator, on the host even for a GPU array, so
        # that zd.manual_seed gives the same masks on either device.
        u = xp.asarray(default_rng().random(x.shape, dtype=rand_dtype))
        mask = (u >= self.p).astype(dtype)
        if self.inverted:
            mask *= 1.0 / (1.0 - self.p)
        self.mask = mask
        return x * mask

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return gy * self.mask


def _check_p(p: float) -> None:
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must satisfy 0 <= p < 1 (the drop probability), got {p}")
