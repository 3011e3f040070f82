"""Layers: Modules that hold parameters (Linear, Conv2d, BatchNorm) or a setting (Dropout, pooling).

Each layer's ``forward`` calls one operation of ``zerodl.functional``; the
backward pass comes from that operation. Names follow the book where it has
one: Linear is the book's Affine (W of shape (in, out), parameters ``W`` and
``b``), BatchNorm's parameters are ``gamma`` and ``beta``. Parameters are
float32 and, by default, He-initialised (the layers are usually followed by ReLU).
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..kernels.conv_geometry import pair
from . import init as _init
from .module import Module, Parameter, Sequential

__all__ = [
    "Sequential", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout",
    "BatchNorm1d", "BatchNorm2d", "ReLU", "LeakyReLU", "GELU", "Sigmoid", "Tanh", "Step",
    "Softmax", "Identity", "MSELoss", "CrossEntropyLoss",
]


# ---------------------------------------------------------------- parameter layers
class Linear(Module):
    """y = x W + b with W of shape (in_features, out_features): the book's Affine layer (ch. 5.6.2).

    ``init``: "he" (default), "xavier", or a std such as 0.01 (the book's
    ``weight_init_std``). ``b`` starts at zero; ``bias=False`` leaves it out.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init="he", rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.W = Parameter(_init.weights((self.in_features, self.out_features), init, rng))
        self.b = Parameter(np.zeros(self.out_features, np.float32)) if bias else None

    def forward(self, x):
        return F.linear(x, self.W, self.b)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.b is not None}")


class Conv2d(Module):
    """Convolution of (N, in_channels, H, W) images with ``out_channels`` filters (the book's ch. 7.4).

    W has shape (out_channels, in_channels, kh, kw), b (out_channels,).
    ``kernel_size``, ``stride`` and ``pad`` are ints or (height, width) pairs.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, pad=0,
                 bias: bool = True, init="he", rng: np.random.Generator | None = None) -> None:
        super().__init__()
        kh, kw = pair(kernel_size, "Conv2d", "kernel_size")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.pad = (kh, kw), stride, pad
        self.W = Parameter(_init.weights((self.out_channels, self.in_channels, kh, kw), init, rng))
        self.b = Parameter(np.zeros(self.out_channels, np.float32)) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.W, self.b, stride=self.stride, pad=self.pad)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, pad={self.pad}, bias={self.b is not None}")


class _BatchNorm(Module):
    """Shared body of BatchNorm1d and BatchNorm2d (the book's BatchNormalization, ch. 6.3)."""

    layout = ""
    ndim = 0

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, *,
                 running_var_init: float = 1.0, unbiased: bool = True) -> None:
        super().__init__()
        if not eps > 0:
            raise ValueError(f"{type(self).__name__}: eps must be positive, got {eps}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1], got {momentum}")
        self.num_features, self.momentum, self.eps = int(num_features), momentum, eps
        self.running_var_init, self.unbiased = float(running_var_init), bool(unbiased)
        self.gamma = Parameter(np.ones(self.num_features, np.float32))
        self.beta = Parameter(np.zeros(self.num_features, np.float32))
        self.register_buffer("running_mean", np.zeros(self.num_features, np.float32))
        self.register_buffer("running_var",
                             np.full(self.num_features, self.running_var_init, np.float32))

    def forward(self, x):
        shape = np.shape(x)
        if len(shape) != self.ndim or shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input {self.layout} with "
                f"{self.num_features} features on axis 1, got shape {tuple(shape)}"
            )
        return F.batch_norm(x, self.gamma, self.beta, self.running_mean, self.running_var,
                            self.training, momentum=self.momentum, eps=self.eps,
                            unbiased=self.unbiased)

    def extra_repr(self) -> str:
        text = f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
        if self.running_var_init != 1.0:
            text += f", running_var_init={self.running_var_init}"
        return text + ("" if self.unbiased else ", unbiased=False")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, D) features, each feature over the batch (the book's ch. 6.3).

    Training: y = γ (x - μ_batch) / √(σ²_batch + eps) + β, and the running
    statistics move toward the batch's: new = (1 - momentum)·old + momentum·batch
    (unbiased variance). Evaluation uses the running statistics instead.

    The running mean starts at 0 and the running variance at
    ``running_var_init`` (1, as PyTorch). The book's conventions, for its
    figures: ``eps=1e-6`` (its ``10e-7``), ``running_var_init=0.0`` and
    ``unbiased=False`` (the batch's biased variance goes into the running one);
    its momentum 0.9 on the old value is ``momentum=0.1`` here.
    """

    layout = "(N, D)"
    ndim = 2


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel over N, H and W (as BatchNorm1d)."""

    layout = "(N, C, H, W)"
    ndim = 4


# ---------------------------------------------------------------- shape and regularisation
class MaxPool2d(Module):
    """Maximum over each kernel_size window (the book's Pooling, ch. 7.5); stride defaults to the kernel."""

    def __init__(self, kernel_size, stride=None, pad=0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, stride=self.stride, pad=self.pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, pad={self.pad}"


class AvgPool2d(MaxPool2d):
    """Mean over each kernel_size window; stride defaults to the kernel size."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, stride=self.stride, pad=self.pad)


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W): the reshape between the convolutional part and the affine part."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x):
        shape = np.shape(x)
        return F.reshape(x, *shape[:self.start_dim], -1)


class Dropout(Module):
    """Inverted dropout (the book's ch. 6.4.3): in training, zero each element with probability p
    and scale the rest by 1/(1-p); in evaluation, the identity."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---------------------------------------------------------------- activations
class ReLU(Module):
    """max(0, x), the book's Relu layer (ch. 5.5.1)."""

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, slope·x otherwise."""

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = slope

    def forward(self, x):
        return F.leaky_relu(x, self.slope)

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class GELU(Module):
    """x Φ(x); ``approximate="tanh"`` for the tanh form."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)


class Sigmoid(Module):
    """1 / (1 + e^-x), the book's Sigmoid layer (ch. 5.5.2)."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, x):
        return F.tanh(x)


class Step(Module):
    """1 where x > 0, else 0: the perceptron's step function (ch. 3.2.2); no gradient flows."""

    def forward(self, x):
        return F.step(x)


class Softmax(Module):
    """exp(x) / Σ exp(x) along ``axis`` (ch. 3.5). For training, give logits to CrossEntropyLoss."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Identity(Module):
    """x itself: a placeholder layer, and the book's identity output for regression."""

    def forward(self, x):
        return F.identity(x)


# ---------------------------------------------------------------- losses
class MSELoss(Module):
    """mean((y - t)²) over all elements: ``MSELoss()(y, t)``."""

    def forward(self, y, t):
        return F.mse_loss(y, t)


class CrossEntropyLoss(Module):
    """Softmax cross-entropy of logits against int labels or one-hot targets, mean over the batch:
    the book's SoftmaxWithLoss layer (ch. 5.6.3)."""

    def forward(self, logits, t):
        return F.cross_entropy(logits, t)
