"""Activation functions (the book's ch. 3 and 5.5) and softmax.

Each is a Function whose backward is the local derivative times the upstream
gradient. Where the derivative is best written with the output y (sigmoid,
tanh, softmax), the rule uses y itself (``self.output()``) instead of
recomputing it, as the book's Sigmoid layer keeps ``self.out``.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function, Tensor, apply, arrays_or_tensors, as_tensor
from ..backend import get_array_module
from .arithmetic import Exp
from .shape import normalize_axis


class Step(Function):
    """y = 1 if x > 0 else 0 (the book's step function, ch. 3.2.2).

    Its derivative is 0 wherever it exists, so no gradient flows through it:
    this is why networks use sigmoid or ReLU instead.
    """

    def forward(self, x):
        return (x > 0).astype(x.dtype)

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return gy * 0.0


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)). The book's Sigmoid layer (ch. 5.5.2): dy/dx = y (1 - y).

    Computed without overflow: for x < 0 it uses exp(x) / (1 + exp(x)), so
    sigmoid(-1000) is 0 with no warning. Backward uses the output y, as the
    book's layer keeps ``self.out``.
    """

    def forward(self, x):
        return _sigmoid_array(x)

    def backward(self, gy):
        gy, y = arrays_or_tensors(gy, self.output())
        return gy * (1.0 - y) * y


class Tanh(Function):
    """y = tanh(x): dy/dx = 1 - y²."""

    def forward(self, x):
        return get_array_module(x).tanh(x)

    def backward(self, gy):
        gy, y = arrays_or_tensors(gy, self.output())
        return gy * (1.0 - y * y)


class ReLU(Function):
    """y = max(0, x), elementwise.

    The book's ReLU layer (ch. 5.5.1, ``Relu``): the gradient passes where x > 0
    and stops where x <= 0 (at exactly 0 the gradient is 0, as PyTorch).
    """

    def forward(self, x):
        self.mask = x > 0
        # max(x, 0), not x * mask: a negative x times 0 would print as -0.0
        return get_array_module(x).maximum(x, x.dtype.type(0))

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return gy * self.mask  # a new array (or Tensor); gy itself is never modified


Relu = ReLU  # the book's name (ch. 5.5.1)


class LeakyReLU(Function):
    """y = x if x > 0 else slope·x: the gradient is 1 or ``slope`` (slope at x = 0)."""

    def __init__(self, slope: float = 0.01):
        self.slope = slope

    def forward(self, x):
        xp = get_array_module(x)
        self.factor = xp.where(x > 0, x.dtype.type(1), x.dtype.type(self.slope))  # x's dtype
        return x * self.factor

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return gy * self.factor


class NormalCDF(Function):
    """Φ(x) = (1 + erf(x/√2)) / 2, the standard normal CDF: dΦ/dx = φ(x), the density.

    GELU is x·Φ(x) (``gelu``), so its gradient Φ(x) + x·φ(x) comes from this rule
    and the product's.
    """

    def forward(self, x):
        return (0.5 * (1.0 + erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)

    def backward(self, gy):
        gy, x = arrays_or_tensors(gy, *self.inputs)
        return gy * _normal_pdf(x)


class Softplus(Function):
    """y = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)): dy/dx = sigmoid(x)."""

    def forward(self, x):
        xp = get_array_module(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        gy, x = arrays_or_tensors(gy, *self.inputs)
        return gy * apply(Sigmoid(), x)


class Identity(Function):
    """y = x (the book's identity output for regression, ch. 3.5.1): dy/dx = 1."""

    def forward(self, x):
        return x

    def backward(self, gy):
        return gy


class Softmax(Function):
    """yₖ = exp(xₖ - max x) / Σᵢ exp(xᵢ - max x) along ``axis`` (ch. 3.5.2).

    Subtracting the maximum changes nothing mathematically and keeps exp from
    overflowing. Backward: dx = y·gy - y·Σ(y·gy).
    """

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        normalize_axis(self.axis, x.ndim)  # NumPy's AxisError would not name softmax
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        gy, y = arrays_or_tensors(gy, self.output())
        gx = y * gy
        return gx - y * gx.sum(axis=self.axis, keepdims=True)


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis``, computed stably. Backward: dx = gy - softmax(x)·Σ gy,
    with softmax(x) = exp(y)."""

    name_in_errors = "log_softmax"

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        normalize_axis(self.axis, x.ndim)
        return x - logsumexp_array(x, self.axis)

    def backward(self, gy):
        gy, y = arrays_or_tensors(gy, self.output())
        return gy - apply(Exp(), y) * gy.sum(axis=self.axis, keepdims=True)


# ------------------------------------------------------------ functions
def step(x) -> Tensor:
    """1 where x > 0, else 0 (no gradient flows)."""
    return Step()(x)


def sigmoid(x) -> Tensor:
    """1 / (1 + e^-x), overflow-free."""
    return Sigmoid()(x)


def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh()(x)


def relu(x) -> Tensor:
    """max(0, x); gradient 0 at x = 0."""
    return ReLU()(x)


def leaky_relu(x, slope: float = 0.01) -> Tensor:
    """x for x > 0, slope·x otherwise."""
    return LeakyReLU(slope)(x)


def gelu(x, approximate: str = "none") -> Tensor:
    """GELU: y = x·Φ(x), Φ the standard normal CDF (``approximate="none"``, the exact erf
    form, as PyTorch), or 0.5·x·(1 + tanh(√(2/π)(x + 0.044715 x³))) (``"tanh"``).

    Written as its definition, from operations that each have a backward rule,
    so its gradient Φ(x) + x·φ(x) is the chain rule's.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = as_tensor(x)
    if approximate == "tanh":
        u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)
        return 0.5 * x * (1.0 + tanh(u))
    return x * NormalCDF()(x)


def softplus(x) -> Tensor:
    """log(1 + e^x), overflow-free (a smooth ReLU)."""
    return Softplus()(x)


def identity(x) -> Tensor:
    """x itself."""
    return Identity()(as_tensor(x))


def softmax(x, axis: int = -1) -> Tensor:
    """Probabilities along ``axis``: exp(x) / Σ exp(x), overflow-free."""
    return Softmax(axis)(x)


def log_softmax(x, axis: int = -1) -> Tensor:
    """log(softmax(x)) along ``axis``, computed as x - logsumexp(x) (finite for any logits)."""
    return LogSoftmax(axis)(x)


# ------------------------------------------------------------ helpers
def logsumexp_array(x, axis=-1):
    """log Σ exp(x) along ``axis`` (kept as size 1), shifted by the maximum so it never overflows."""
    xp = get_array_module(x)
    m = x.max(axis=axis, keepdims=True)
    return m + xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True))


def erf(x):
    """The error function erf(x) = 2/√π ∫₀ˣ e^(-t²) dt, elementwise on an array, to float64 accuracy.

    On a GPU, CuPy's own erf. NumPy has none, so on the CPU it is summed from the series
    erf(x) = 2x/√π · e^(-x²) · Σₙ (2x²)ⁿ / (1·3·5···(2n+1)),
    whose terms are all positive (no cancellation); |x| >= 6 gives ±1 exactly.
    """
    xp = get_array_module(x)
    if xp is not np:  # CuPy has erf as one elementwise kernel (no series, no host sync)
        from cupyx.scipy.special import erf as gpu_erf  # type: ignore[import-not-found]

        return gpu_erf(x)
    a = xp.minimum(xp.abs(x), 6.0).astype(xp.float64)
    x2 = a * a
    term = xp.ones_like(a)
    total = xp.ones_like(a)
    n_terms = int(2.0 * float(x2.max(initial=0.0)) + 40)
    for n in range(1, n_terms):
        term = term * (2.0 * x2) / (2 * n + 1)
        total = total + term
    result = 2.0 / math.sqrt(math.pi) * a * xp.exp(-x2) * total
    return (xp.sign(x) * xp.minimum(result, 1.0)).astype(getattr(x, "dtype", xp.float64))


def _normal_pdf(x):
    """φ(x) = exp(-x²/2) / √(2π), the standard normal density, on an array or a Tensor."""
    return apply(Exp(), -0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))


def _sigmoid_array(x):
    """1 / (1 + exp(-x)) on an array, from exp(-|x|) in (0, 1]: never overflows."""
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
