"""Loss functions: mean squared error, cross-entropy on logits, binary cross-entropy on logits.

Targets are constants: no gradient flows into them. Every loss multiplies its
backward by the upstream gradient, so ``(2 * loss).backward()`` doubles every
gradient, as the chain rule says.
"""

from __future__ import annotations

from ..autograd import Function, Tensor, as_tensor, is_grad_enabled
from ..backend import get_array_module
from .activation import _sigmoid_array, logsumexp_array, sigmoid, softmax


class MSELoss(Function):
    """L = mean((y - t)²) over all elements (PyTorch's convention; the book's
    0.5·Σ(y - t)² is this times N/2). dL/dy = 2 (y - t) / N."""

    def forward(self, y, t):
        if y.shape != t.shape:
            raise ValueError(f"mse_loss: prediction {y.shape} and target {t.shape} differ in shape")
        self.diff = y - t
        return (self.diff ** 2).mean(dtype=y.dtype)

    def backward(self, gl):
        y, t = self.inputs
        scale = 2.0 / max(y.size, 1)
        if is_grad_enabled():  # create_graph: keep y in the graph for second derivatives
            return (y - t.data) * (gl * scale), None
        return gl * (self.diff * scale), None


class CrossEntropy(Function):
    """L = -(1/N) Σₙ log softmax(xₙ)[tₙ] for logits x (N, C): the book's Softmax-with-Loss
    layer (ch. 5.6.3), fused.

    The loss goes through logsumexp, so logits (1000, 0) with label 1 give
    exactly 1000 (a log of a clipped probability would cap it near 16.1).
    Backward: dL/dx = (softmax(x) - onehot(t)) / N, the famous clean gradient.
    """

    def forward(self, x, t):
        n, c = _check_logits("cross_entropy", x, t)
        xp = get_array_module(x)
        log_p = x - logsumexp_array(x, axis=1)  # log softmax(x), as LogSoftmax computes it
        self.p = xp.exp(log_p)  # softmax(x), kept for backward
        if t.ndim == 1:
            self.onehot = None
            return -log_p[xp.arange(n), t].sum(dtype=x.dtype) / x.dtype.type(n)
        self.onehot = t
        return -(t * log_p).sum(dtype=x.dtype) / x.dtype.type(n)

    def backward(self, gl):
        x, t = self.inputs
        n = x.shape[0]
        if is_grad_enabled():  # create_graph: differentiate through softmax again
            target = t.data if self.onehot is not None else _onehot(t.data, x.shape[1], x.dtype)
            return (softmax(x, axis=1) - target) * (gl * (1.0 / n)), None
        if self.onehot is not None:
            gx = self.p - self.onehot
        else:
            gx = self.p.copy()
            gx[get_array_module(gx).arange(n), t.data] -= 1
        gx *= gl.data * x.dtype.type(1.0 / n)
        return gx, None


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

    def backward(self, gl):
        z, t = self.inputs
        scale = 1.0 / max(z.size, 1)
        if is_grad_enabled():
            return (sigmoid(z) - t.data) * (gl * scale), None
        return gl * ((_sigmoid_array(z.data) - t.data) * scale), None


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


def _onehot(labels, num_classes, dtype):
    xp = get_array_module(labels)
    out = xp.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[xp.arange(labels.shape[0]), labels] = 1
    return out


# ------------------------------------------------------------ functions
def _target(t, like: Tensor):
    """Targets are constants: keep integer labels integer, cast float targets to the logits' dtype."""
    arr = t.data if isinstance(t, Tensor) else t
    xp = get_array_module(like.data)
    arr = xp.asarray(arr)
    if arr.dtype.kind == "f" or arr.dtype.kind == "b":
        arr = arr.astype(like.dtype, copy=False)
    return Tensor(arr)


def mse_loss(y, t) -> Tensor:
    """Mean squared error: mean over all elements of (y - t)²."""
    y = as_tensor(y)
    return MSELoss()(y, _target(t, y))


def cross_entropy(logits, t) -> Tensor:
    """Softmax cross-entropy, mean over the batch. ``t``: int labels (N,) or one-hot (N, C)."""
    logits = as_tensor(logits)
    return CrossEntropy()(logits, _target(t, logits))


def binary_cross_entropy_with_logits(z, t) -> Tensor:
    """Binary cross-entropy of sigmoid(z) against targets t in [0, 1], mean, from logits."""
    z = as_tensor(z)
    return BinaryCrossEntropyWithLogits()(z, _target(t, z))


SoftmaxWithLoss = CrossEntropy  # the book's name (ch. 5.6.3)
