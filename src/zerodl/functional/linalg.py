"""Matrix products: matmul (batched, broadcasting) and linear, the book's Affine layer."""

from __future__ import annotations

from ..autograd import Function, Tensor, arrays_or_tensors, as_tensor
from .shape import reduce_to, reshape


def _swap_last(x):
    """x with its last two axes swapped (an array or a Tensor)."""
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return x.transpose(axes)


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

    def backward(self, gz):
        g, x, w = arrays_or_tensors(gz, *self.inputs)
        need_x, need_w = self.needs_input_grad
        return (reduce_to(g @ _swap_last(w), x.shape) if need_x else None,
                reduce_to(_swap_last(x) @ g, w.shape) if need_w else None)


class Linear(Function):
    """Y = X W + b for X of shape (N, in), W (in, out), b (out,). The book's Affine layer (ch. 5.6.2).

    Backward: dX = dY Wᵀ, dW = Xᵀ dY, db = Σ_n dY (the bias was added to every row).
    """

    def forward(self, x, w, b=None):
        if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
            raise ValueError(
                f"linear: x {x.shape} @ W {w.shape}: x must be (N, in) and W (in, out) "
                "with the same `in`"
            )
        if b is not None and b.shape != (w.shape[1],):
            raise ValueError(f"linear: bias has shape {b.shape}, expected ({w.shape[1]},)")
        y = x @ w
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        g, x, w = arrays_or_tensors(gy, *self.inputs[:2])
        need = self.needs_input_grad
        gx = g @ w.T if need[0] else None
        gw = x.T @ g if need[1] else None
        if len(self.inputs) == 2:
            return gx, gw
        return gx, gw, (g.sum(axis=0) if need[2] else None)


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
    """Affine map x @ W + b with W of shape (in, out), as in the book.

    ``x`` may have more than two axes (…, in): they are flattened into the batch.
    """
    x = as_tensor(x, W if isinstance(W, Tensor) else None)
    if x.ndim == 2:
        return Linear()(x, W) if b is None else Linear()(x, W, b)
    lead = x.shape[:-1]
    x2 = reshape(x, -1, x.shape[-1])
    y = Linear()(x2, W) if b is None else Linear()(x2, W, b)
    return reshape(y, lead + (y.shape[-1],))


Affine = Linear  # the book's name (ch. 5.6.2)
