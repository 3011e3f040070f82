"""Matrix products: matmul (batched, broadcasting) and linear, the book's Affine layer."""

from __future__ import annotations

from ..autograd import Function, Tensor, as_tensor, is_grad_enabled
from .shape import reshape, sum, sum_to, sum_to_array


def _swap_last(x: Tensor) -> Tensor:
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
        x, w = self.inputs
        if not is_grad_enabled():  # the usual case: plain arrays, no graph to record
            return _matmul_grads(gz.data, x.data, w.data, self.needs_input_grad)
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = sum_to(gz @ _swap_last(w), x.shape)
        if self.needs_input_grad[1]:
            gw = sum_to(_swap_last(x) @ gz, w.shape)
        return gx, gw


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
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        if not is_grad_enabled():  # the usual case: plain arrays, no graph to record
            g = gy.data
            gx = g @ w.data.T if need[0] else None
            gw = x.data.T @ g if need[1] else None
            if len(self.inputs) == 2:
                return gx, gw
            return gx, gw, (g.sum(axis=0) if need[2] else None)
        gx = gy @ w.T if need[0] else None
        gw = x.T @ gy if need[1] else None
        if len(self.inputs) == 2:
            return gx, gw
        gb = sum(gy, axis=0) if need[2] else None
        return gx, gw, gb


def _matmul_grads(gz, x, w, need):
    """dL/dX = dL/dZ Wᵀ and dL/dW = Xᵀ dL/dZ on arrays, summed over broadcast leading axes."""
    gx = sum_to_array(gz @ w.swapaxes(-1, -2), x.shape) if need[0] else None
    gw = sum_to_array(x.swapaxes(-1, -2) @ gz, w.shape) if need[1] else None
    return gx, gw


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
