"""Differentiable operations on Tensors: ``import zerodl.functional as F``.

Each operation is a ``Function`` (forward on arrays, backward on Tensors) in
one of these modules; this package also gives Tensor its operators, so
``a + b`` is ``F.add(a, b)`` and ``a @ b`` is ``F.matmul(a, b)``.

    arithmetic   add sub mul div neg pow exp log sqrt abs clip maximum minimum where
    shape        sum mean max min reshape transpose broadcast_to sum_to concat stack pad getitem
    linalg       matmul linear (the book's Affine)
    activation   step sigmoid tanh relu leaky_relu gelu softplus identity softmax log_softmax
    loss         mse_loss cross_entropy (the book's SoftmaxWithLoss) binary_cross_entropy_with_logits
    conv         conv2d im2col col2im (the book's Convolution)
    pool         max_pool2d avg_pool2d (the book's Pooling)
    norm         batch_norm dropout (the book's BatchNormalization and Dropout)
"""

from ..autograd import Tensor, as_tensor
from . import arithmetic

# The book's layers (ch. 5-7) by the book's names, Functions that can be driven by hand:
# Add and Mul (AddLayer, MulLayer, ch. 5.4), Relu, Sigmoid, Affine, SoftmaxWithLoss (ch. 5.5-5.6),
# BatchNormalization, Dropout (ch. 6.3-6.4), Convolution, Pooling (ch. 7)
from .activation import (
    ReLU,
    Relu,
    Sigmoid,
    gelu,
    identity,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    step,
    tanh,
)
from .arithmetic import (
    Add,
    Mul,
    abs,
    add,
    clip,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    where,
)
from .conv import Convolution, col2im, conv2d, im2col
from .linalg import Affine, linear, matmul
from .loss import SoftmaxWithLoss, binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .norm import BatchNormalization, Dropout, batch_norm, dropout
from .pool import Pooling, avg_pool2d, max_pool2d
from .shape import (
    broadcast_to,
    concat,
    getitem,
    max,
    mean,
    min,
    pad,
    reshape,
    stack,
    sum,
    sum_to,
    transpose,
)


def _compare(op):
    def method(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(op(self.data, other))  # comparisons carry no gradient
    return method


def _install_tensor_operators() -> None:
    """Give Tensor its arithmetic operators, reductions and shape methods."""
    import operator

    def binary(op):  # Tensor <op> other, and other <op> Tensor (the reflected form)
        return (lambda self, other: op()(self, other)), (lambda self, other: op()(other, self))

    T = Tensor
    T.__add__, T.__radd__ = binary(arithmetic.Add)
    T.__sub__, T.__rsub__ = binary(arithmetic.Sub)
    T.__mul__, T.__rmul__ = binary(arithmetic.Mul)
    T.__truediv__, T.__rtruediv__ = binary(arithmetic.Div)
    T.__matmul__ = lambda self, other: matmul(self, other)
    T.__rmatmul__ = lambda self, other: matmul(as_tensor(other, self), self)
    T.__pow__ = lambda self, c: pow(self, c)
    T.__rpow__ = lambda self, base: pow(as_tensor(base, self), self)
    T.__neg__ = lambda self: arithmetic.Neg()(self)
    T.__pos__ = lambda self: self
    T.__abs__ = lambda self: abs(self)
    T.__getitem__ = lambda self, index: getitem(self, index)
    for name, op in [("__lt__", operator.lt), ("__le__", operator.le), ("__gt__", operator.gt),
                     ("__ge__", operator.ge), ("__eq__", operator.eq), ("__ne__", operator.ne)]:
        setattr(T, name, _compare(op))
    T.sum = lambda self, axis=None, keepdims=False: sum(self, axis, keepdims)
    T.mean = lambda self, axis=None, keepdims=False: mean(self, axis, keepdims)
    T.max = lambda self, axis=None, keepdims=False: max(self, axis, keepdims)
    T.min = lambda self, axis=None, keepdims=False: min(self, axis, keepdims)
    T.reshape = lambda self, *shape: reshape(self, *shape)
    T.transpose = lambda self, *axes: transpose(
        self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else (axes or None))
    T.T = property(lambda self: transpose(self))
    T.exp = lambda self: exp(self)
    T.log = lambda self: log(self)
    T.sqrt = lambda self: sqrt(self)
    T.relu = lambda self: relu(self)
    T.sigmoid = lambda self: sigmoid(self)
    T.tanh = lambda self: tanh(self)
    T.flatten = lambda self: reshape(self, -1)


_install_tensor_operators()
