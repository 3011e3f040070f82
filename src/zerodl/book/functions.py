"""The book's ``common/functions.py`` (ch. 3-4): activations and losses on plain arrays.

``from zerodl.book.functions import *`` gives the names the book's scripts use.
Each function runs zerodl's own operation (``zerodl.functional``) on arrays
and returns an array, so ``sigmoid`` here and the Sigmoid layer are one
computation. Python numbers, lists and integer arrays are computed in float64,
as NumPy would.

Where the book's version is numerically fragile, this one is not:
``sigmoid`` never overflows (``sigmoid(-1000)`` is 0 with no warning),
``softmax`` subtracts the maximum, and ``softmax_loss`` goes through
log-softmax, so logits (1000, 0) with label 1 give a loss of 1000, not a
capped 16.1. ``cross_entropy_error`` takes probabilities, as in the book
(ch. 4.2.2), and keeps its δ = 1e-7 inside the log: from a probability that
has already rounded to 0 nothing better can be done, and it gives the
book's printed values (0.510825457099338 for p = 0.6).
"""

from __future__ import annotations

import numpy as np

from .. import functional as F

__all__ = [
    "identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu", "relu_grad",
    "softmax", "sum_squared_error", "mean_squared_error", "cross_entropy_error", "softmax_loss",
]


def identity_function(x):
    """y = x: the output function for regression (ch. 3.5.1)."""
    return x


def step_function(x):
    """1 where x > 0, else 0, as an int array (ch. 3.2.2)."""
    return np.asarray(F.step(_float(x)).data).astype(int)


def sigmoid(x):
    """1 / (1 + exp(-x)) (ch. 3.2.4), without overflow for large negative x."""
    return F.sigmoid(_float(x)).data


def sigmoid_grad(x):
    """The derivative of sigmoid at x: sigmoid(x)·(1 - sigmoid(x)) (ch. 5.5.2)."""
    y = sigmoid(x)
    return (1.0 - y) * y


def relu(x):
    """max(0, x), elementwise (ch. 3.2.7)."""
    return F.relu(_float(x)).data


def relu_grad(x):
    """The derivative of ReLU: 1 where x > 0, else 0 (ch. 5.5.1).

    At x = 0 it is 0, as the Relu layer's backward (the book's relu_grad says 1
    there, unlike its own Relu layer).
    """
    x = _float(x)
    return (x > 0).astype(x.dtype)


def softmax(x):
    """exp(x) / Σ exp(x) along the last axis (ch. 3.5), with the maximum subtracted first."""
    return F.softmax(_float(x), axis=-1).data


def sum_squared_error(y, t):
    """E = ½ Σ (y - t)² (ch. 4.2.1), summed over everything (the batch included)."""
    d = _float(y) - _float(t)
    return 0.5 * np.sum(d * d)


mean_squared_error = sum_squared_error  # the book's first edition's name for the same formula


def cross_entropy_error(y, t):
    """E = -(1/N) Σₙ log(yₙ[tₙ] + 1e-7) for probabilities y (ch. 4.2.2-4.2.4).

    ``y`` is (N, C) or one sample (C,); ``t`` is int labels or one-hot rows.
    The 1e-7 keeps log(0) away; for exact values from logits use
    ``softmax_loss`` (or the SoftmaxWithLoss layer).
    """
    y = _float(y)
    t = np.asarray(t)
    if y.ndim == 1:
        y, t = y.reshape(1, -1), t.reshape(1, -1)
    if t.size == y.size:  # one-hot rows: take the index of each 1
        t = t.argmax(axis=1)
    t = t.reshape(-1).astype(np.intp)
    n = y.shape[0]
    return -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n


def softmax_loss(X, t):
    """Cross-entropy of softmax(X) against t, from the logits X (ch. 5.6.3).

    Computed through log-softmax (zerodl's SoftmaxWithLoss), so it is exact
    for any logits; ``t`` is int labels or one-hot rows.
    """
    X = _float(X)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    return F.SoftmaxWithLoss()(X, targets(X, t)).data[()]


def targets(x, t):
    """The book's rule for ``t`` against scores x (N, C): one-hot rows when it has as many
    elements as x (as x's dtype), else labels, whatever their shape ((N,) or (N, 1)) as intp."""
    t = np.asarray(t)
    if t.size == x.size:
        return t.reshape(x.shape).astype(x.dtype, copy=False)
    return t.reshape(-1).astype(np.intp, copy=False)


def _float(x):
    """``x`` as a float array: float arrays as they are, anything else in float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)
