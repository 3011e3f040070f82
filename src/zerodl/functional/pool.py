"""Pooling on (N, C, H, W) batches: the book's Pooling layer (ch. 7.5).

The algorithm, as this file writes it (max pooling):

1. ``im2col`` unrolls the input so that each pooling window is one row:
   (N·OH·OW·C, kh·kw). Padding is -inf, so a padded position never wins.
2. The max of each row is the output, and its argmax (the first maximum, in
   row-major order within the window) is remembered.
3. Reshape and transpose to (N, C, OH, OW).

Backward sends each gradient to its row's argmax (a one-hot row times the
gradient) and folds the rows back with ``col2im``: overlapping windows add
their gradients where they share the maximum. Average pooling takes each
row's mean instead, and its backward spreads each gradient evenly over the
row.

In ordinary training the Functions run the same mathematics through fast
kernels (``zerodl.kernels.pool``: strided window views, no patch matrix), and
the readable version here is their test oracle. Set ``USE_FAST_KERNEL =
False`` (or pass ``fast=False``) to run it; under ``create_graph`` the
backward always is readable.
"""

from __future__ import annotations

from ..autograd import Function, Tensor, arrays_or_tensors, as_tensor
from ..backend import get_array_module
from ..kernels import pool as fast_pool
from ..kernels.conv_geometry import Geometry, pair
from .conv import col2im, im2col_array

# Whether the pooling Functions use the fast kernels when no graph of their backward is recorded.
USE_FAST_KERNEL = True


def max_pool2d(x, kernel_size, stride=None, pad=0) -> Tensor:
    """Max over each kernel_size window: the book's Pooling layer (ch. 7.5).

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows). Padding
    is -inf, so a padded position is never the maximum. The gradient goes to
    the maximum of each window; on ties, to the first maximum in row-major
    order within the window (as PyTorch). Overlapping windows (stride < kernel)
    add their gradients where they share the maximum.
    """
    return Pooling(*pair(kernel_size, "max_pool2d", "kernel_size"), stride=stride, pad=pad)(
        as_tensor(x))


def avg_pool2d(x, kernel_size, stride=None, pad=0) -> Tensor:
    """Mean over each kernel_size window; ``stride`` defaults to ``kernel_size``.

    Zero padding counts in the divisor: every window divides by kh·kw
    (PyTorch's count_include_pad=True). The gradient of each window is spread
    evenly over its kh·kw positions.
    """
    return AvgPool2d(*pair(kernel_size, "avg_pool2d", "kernel_size"), stride=stride, pad=pad)(
        as_tensor(x))


class Pooling(Function):
    """The book's Pooling layer (ch. 7.5), max pooling: ``Pooling(pool_h, pool_w, stride, pad)(x)``.

    ``pool_w`` defaults to ``pool_h`` and ``stride`` to the window, (pool_h,
    pool_w). Driven by hand as in the book::

        pool = Pooling(2, 2)
        y = pool(x)
        dx = pool.backward_by_hand(dout)

    ``fast`` picks the fast kernel (True), the readable version (False) or the
    module's ``USE_FAST_KERNEL`` (None).
    """

    op = "max_pool2d"

    def __init__(self, pool_h: int, pool_w: int | None = None, stride=None, pad=0,
                 fast: bool | None = None):
        self.pool_h = int(pool_h)
        self.pool_w = self.pool_h if pool_w is None else int(pool_w)
        self.stride = (self.pool_h, self.pool_w) if stride is None else stride
        self.pad, self.fast = pad, fast

    def forward(self, x):
        g = self.geom = _pool_geometry(self.op, x.shape, self)
        use_fast_kernel = USE_FAST_KERNEL if self.fast is None else self.fast
        if use_fast_kernel:
            self.kernel = fast_pool.MaxPoolKernel(g)  # the same result, engineered (kernels/pool.py)
            return self.kernel.forward(x, want_arg=self.needs_input_grad[0])
        self.kernel = None
        # the book's algorithm: one window per row, its max and argmax
        col = im2col_array(x, g, fill=-get_array_module(x).inf).reshape(-1, g.FH * g.FW)
        self.arg_max = col.argmax(axis=1)                  # the first maximum of each window
        out = col.max(axis=1)                              # (N·OH·OW·C,)
        return out.reshape(g.N, g.OH, g.OW, g.C).transpose(0, 3, 1, 2).copy()

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        if self.kernel is not None and not isinstance(gy, Tensor):
            # the fast kernel works on arrays: used whenever no graph is being recorded
            return self.kernel.backward(gy, self.inputs[0].data)
        # the book's backward: each gradient to its window's argmax, rows folded back by col2im
        g = self.geom
        dy = gy.transpose(0, 2, 3, 1).reshape(-1, 1)       # (N·OH·OW·C, 1), rows as in forward
        dcol = dy * self._one_hot_argmax(gy.dtype)         # (N·OH·OW·C, kh·kw)
        return col2im(dcol.reshape(g.N * g.OH * g.OW, -1), g.input_shape,
                      g.FH, g.FW, g.stride, g.pad)

    def _one_hot_argmax(self, dtype):
        """(N·OH·OW·C, kh·kw): 1 at each window's first maximum, 0 elsewhere (a constant)."""
        g = self.geom
        x = self.inputs[0].data
        xp = get_array_module(x)
        if self.kernel is None:
            arg_max = self.arg_max                         # kept by the book's forward
        else:  # forward ran the kernel: find it again, the book's way
            arg_max = im2col_array(x, g, fill=-xp.inf).reshape(-1, g.FH * g.FW).argmax(axis=1)
        return (xp.arange(g.FH * g.FW) == arg_max[:, None]).astype(dtype)


MaxPool2d = Pooling  # PyTorch's name


class AvgPool2d(Pooling):
    """Pooling with the mean (ch. 7.5 mentions it): ``AvgPool2d(pool_h, pool_w, stride, pad)(x)``."""

    op = "avg_pool2d"

    def forward(self, x):
        g = self.geom = _pool_geometry(self.op, x.shape, self)
        use_fast_kernel = USE_FAST_KERNEL if self.fast is None else self.fast
        if use_fast_kernel:
            self.kernel = fast_pool.AvgPoolKernel(g)  # the same result, engineered (kernels/pool.py)
            return self.kernel.forward(x)
        self.kernel = None
        col = im2col_array(x, g).reshape(-1, g.FH * g.FW)  # one window per row, zero padded
        out = col.mean(axis=1)
        return out.reshape(g.N, g.OH, g.OW, g.C).transpose(0, 3, 1, 2).copy()

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        if self.kernel is not None and not isinstance(gy, Tensor):
            return self.kernel.backward(gy)
        # the mean's gradient: dy / (kh·kw) at every position of the window
        g = self.geom
        xp = get_array_module(self.inputs[0].data)
        dy = gy.transpose(0, 2, 3, 1).reshape(-1, 1)
        dcol = dy * xp.full((1, g.FH * g.FW), 1.0 / (g.FH * g.FW), dtype=gy.dtype)
        return col2im(dcol.reshape(g.N * g.OH * g.OW, -1), g.input_shape,
                      g.FH, g.FW, g.stride, g.pad)


def _pool_geometry(op: str, shape, pool: Pooling) -> Geometry:
    g = Geometry.make(op, shape, pool.pool_h, pool.pool_w, pool.stride, pool.pad)
    if 2 * g.ph > g.FH or 2 * g.pw > g.FW:
        raise ValueError(
            f"{op}: pad {g.pad} is more than half the window {g.FH}x{g.FW}, so some windows "
            "would hold only padding; use pad <= kernel_size // 2"
        )
    return g
