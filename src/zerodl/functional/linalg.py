"""Matrix products: matmul (batched, broadcasting) and the book's Affine layer (``linear``)."""

from __future__ import annotations

from ..autograd import Function, Tensor, arrays_or_tensors, as_tensor
from .shape import reshape, sum_to


class MatMul(Function):
    """Z = X @ W over the last two axes, leading axes broadcast.

    dL/dX = dL/dZ @ Wᵀ and dL/dW = Xᵀ @ dL/dZ (the book's dot node, ch. 5.6.1):
    each gradient has the shape of its input, which is how to remember the order.
    """

    def forward(self, x, w):
        if x.shape[-1] != w.shape[-2]:
            raise ValueError(f"matmul: {x.shape} @ {w.shape}: inner sizes "
                             f"{x.shape[-1]} and {w.shape[-2]} differ")
        return x @ w

    def backward(self, gy):
        gy, x, w = arrays_or_tensors(gy, *self.inputs)
        need_x, need_w = self.needs_input_grad
        return (sum_to(gy @ _swap_last(w), x.shape) if need_x else None,
                sum_to(_swap_last(x) @ gy, w.shape) if need_w else None)


class Affine(Function):
    """Y = X·W + b for X of shape (N, in), W (in, out), b (out,): the book's Affine layer (ch. 5.6.2).

    Backward, each gradient the shape of its input:
    dX = dY·Wᵀ, dW = Xᵀ·dY, db = Σₙ dY (the bias was added to every row).
    ``linear(x, W, b)`` is the function form; PyTorch calls the layer Linear.
    """

    name_in_errors = "linear"  # the name users call it by: F.linear, nn.Linear

    def forward(self, x, W, b=None):
        if x.ndim != 2 or W.ndim != 2 or x.shape[1] != W.shape[0]:
            raise ValueError(
                f"linear: x {x.shape} @ W {W.shape}: x must be (N, in) and W (in, out) "
                "with the same `in`"
            )
        if b is not None and b.shape != (W.shape[1],):
            raise ValueError(f"linear: bias has shape {b.shape}, expected ({W.shape[1]},)")
        y = x @ W
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        gy, x, W = arrays_or_tensors(gy, *self.inputs[:2])
        need = self.needs_input_grad
        dx = gy @ W.T if need[0] else None
        dW = x.T @ gy if need[1] else None
        if len(self.inputs) == 2:
            return dx, dW
        db = gy.sum(axis=0) if need[2] else None
        return dx, dW, db


Linear = Affine  # PyTorch's name for the same layer


def matmul(x, w) -> Tensor:
    """Matrix product x @ w (NumPy's rules: 1-D operands are promoted, leading axes broadcast)."""
    like = x if isinstance(x, Tensor) else (w if isinstance(w, Tensor) else None)
    x, w = as_tensor(x, like), as_tensor(w, like)
    if x.ndim == 0 or w.ndim == 0:
        raise ValueError(f"matmul: {x.shape} @ {w.shape}: both operands need at least one axis")
    if x.ndim == 1 and w.ndim == 1:
        return reshape(MatMul()(reshape(x, 1, -1), reshape(w, -1, 1)), ())
    if x.ndim == 1:
        z = MatMul()(reshape(x, 1, -1), w)
        return reshape(z, z.shape[:-2] + z.shape[-1:])
    if w.ndim == 1:
        z = MatMul()(x, reshape(w, -1, 1))
        return reshape(z, z.shape[:-1])
    return MatMul()(x, w)


def linear(x, W, b=None) -> Tensor:
    """Affine map x @ W + b with W of shape (in, out), as in the book (``Affine``).

    ``x`` may have more than two axes (…, in): they are flattened into the batch.
    """
    x = as_tensor(x, W if isinstance(W, Tensor) else None)
    if x.ndim == 2:
        return Affine()(x, W) if b is None else Affine()(x, W, b)
    lead = x.shape[:-1]
    x2 = reshape(x, -1, x.shape[-1])
    y = Affine()(x2, W) if b is None else Affine()(x2, W, b)
    return reshape(y, lead + (y.shape[-1],))


def _swap_last(x):
    """x with its last two axes swapped (an array or a Tensor)."""
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return x.transpose(axes)
