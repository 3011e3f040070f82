"""Loss functions: mean squared error, cross-entropy on logits, binary cross-entropy on logits.

Targets are constants: no gradient flows into them. Every loss multiplies its
backward by the upstream gradient, so ``(2 * loss).backward()`` doubles every
gradient, as the chain rule says.
"""

from __future__ import annotations

from ..autograd import Function, Tensor, apply, arrays_or_tensors, as_tensor
from ..backend import get_array_module
from ..kernels import loss as fast_loss
from .activation import Sigmoid, Softmax, logsumexp_array

USE_FAST_KERNEL = True  # False: every backward runs the readable rule (slower, same numbers)


class MSELoss(Function):
    """L = mean((y - t)²) over all elements (PyTorch's convention; the book's
    0.5·Σ(y - t)² is this times N/2). dL/dy = 2 (y - t) / N."""

    def forward(self, y, t):
        if y.shape != t.shape:
            raise ValueError(f"mse_loss: prediction {y.shape} and target {t.shape} differ in shape")
        return ((y - t) ** 2).mean(dtype=y.dtype)

    def backward(self, gy):
        gy, y, t = arrays_or_tensors(gy, *self.inputs)
        return (y - t) * (gy * (2.0 / max(y.size, 1))), None


class SoftmaxWithLoss(Function):
    """L = -(1/N) Σₙ log softmax(xₙ)[tₙ] for logits x (N, C): the book's Softmax-with-Loss
    layer (ch. 5.6.3), softmax and cross-entropy error in one; ``cross_entropy`` is
    its function form (PyTorch's name).

    The loss goes through logsumexp, so logits (1000, 0) with label 1 give
    exactly 1000 (a log of a clipped probability would cap it near 16.1).
    Backward: dL/dx = (y - onehot(t)) / N with y = softmax(x), the famous
    clean gradient. ``t`` holds int labels (N,) or one-hot rows (N, C).

    With ``fast`` (the default, ``USE_FAST_KERNEL``) a pass without create_graph
    uses the book's in-place version on forward's y (``kernels/loss.py``); the
    rule below is what create_graph records, and the test oracle.
    """

    def __init__(self, fast: bool | None = None):
        self.fast = USE_FAST_KERNEL if fast is None else fast

    def forward(self, x, t):
        n, _ = _check_logits("cross_entropy", x, t)
        xp = get_array_module(x)
        log_y = x - logsumexp_array(x, axis=1)  # log softmax(x), as LogSoftmax computes it
        self.y = xp.exp(log_y)  # the book's self.y: softmax(x), for backward
        if t.ndim == 1:  # labels: pick each row's log-probability of its label
            return -log_y[xp.arange(n), t].sum(dtype=x.dtype) / x.dtype.type(n)
        return -(t * log_y).sum(dtype=x.dtype) / x.dtype.type(n)

    def backward(self, gy):
        gy, x, t = arrays_or_tensors(gy, *self.inputs)
        if self.fast and not isinstance(gy, Tensor):
            return fast_loss.softmax_with_loss_backward(self.y, t, gy), None
        y = apply(Softmax(axis=1), x)  # recomputed from x: create_graph differentiates through it
        return (y - _onehot_of(t, x)) * (gy / len(x)), None


CrossEntropy = SoftmaxWithLoss  # the name of its function form, ``cross_entropy``


class BinaryCrossEntropyWithLogits(Function):
    """L = mean(max(z, 0) - z t + log(1 + exp(-|z|))), the binary cross-entropy of
    sigmoid(z) against t in [0, 1], written so that |z| = 1000 is finite and exact.
    dL/dz = (sigmoid(z) - t) / N."""

    def forward(self, z, t):
        if z.shape != t.shape:
            raise ValueError(
                f"binary_cross_entropy_with_logits: logits {z.shape} and targets {t.shape} differ"
            )
        xp = get_array_module(z)
        losses = xp.maximum(z, 0) - z * t + xp.log1p(xp.exp(-xp.abs(z)))
        return losses.mean(dtype=z.dtype)

    def backward(self, gy):
        gy, z, t = arrays_or_tensors(gy, *self.inputs)
        return (apply(Sigmoid(), z) - t) * (gy * (1.0 / max(z.size, 1))), None


# ------------------------------------------------------------ functions
def mse_loss(y, t) -> Tensor:
    """Mean squared error: mean over all elements of (y - t)²."""
    y = as_tensor(y)
    return MSELoss()(y, _target(t, y))


def cross_entropy(logits, t) -> Tensor:
    """Softmax cross-entropy, mean over the batch (the book's SoftmaxWithLoss).
    ``t``: int labels (N,) or one-hot (N, C)."""
    logits = as_tensor(logits)
    return SoftmaxWithLoss()(logits, _target(t, logits, labels=True))


def binary_cross_entropy_with_logits(z, t) -> Tensor:
    """Binary cross-entropy of sigmoid(z) against targets t in [0, 1], mean, from logits."""
    z = as_tensor(z)
    return BinaryCrossEntropyWithLogits()(z, _target(t, z))


# ------------------------------------------------------------ helpers
def _target(t, like: Tensor, labels: bool = False):
    """Targets are constants in the predictions' float dtype (0/1 ints too, so that y - t
    makes no float64 temporary); with ``labels``, 1-D integer class labels stay integer."""
    arr = t.data if isinstance(t, Tensor) else t
    xp = get_array_module(like.data)
    arr = xp.asarray(arr)
    is_labels = labels and arr.ndim == 1 and arr.dtype.kind in "iu"
    if arr.dtype.kind in "fb" or (arr.dtype.kind in "iu" and not is_labels
                                  and like.dtype.kind == "f"):
        arr = arr.astype(like.dtype, copy=False)
    return Tensor(arr)


def _check_logits(name, x, t):
    if x.ndim != 2:
        raise ValueError(f"{name}: logits must be (N, C), got shape {x.shape}")
    n, c = x.shape
    if t.ndim == 1:
        if t.shape[0] != n:
            raise ValueError(f"{name}: {n} rows of logits {x.shape} but {t.shape[0]} labels {t.shape}")
        if t.dtype.kind not in "iu":
            raise TypeError(
                f"{name}: labels of shape {t.shape} must be integers (got {t.dtype}); "
                "pass int class indices or one-hot targets of shape (N, C)"
            )
        if n and (t.min() < 0 or t.max() >= c):
            bad = int(t.max()) if t.max() >= c else int(t.min())
            raise ValueError(f"{name}: label {bad} is out of range for {c} classes")
    elif t.shape != x.shape:
        raise ValueError(
            f"{name}: targets {t.shape} must be int labels (N,) or one-hot (N, C) like logits {x.shape}"
        )
    return n, c


def _onehot_of(t, x):
    """Targets ``t`` as one-hot rows like the logits ``x``: labels become rows, one-hot stays."""
    if t.ndim == 2:
        return t
    labels = t.data if isinstance(t, Tensor) else t
    xp = get_array_module(labels)
    onehot = xp.zeros(x.shape, dtype=x.dtype)
    onehot[xp.arange(labels.shape[0]), labels] = 1
    return onehot
