"""Convolution on (N, C, H, W) batches: the book's Convolution layer (ch. 7.4).

The algorithm, as this file writes it:

1. ``im2col`` unrolls every filter-sized patch of the input into one row of a
   matrix: ``col`` is (N·OH·OW, C·FH·FW), row (n, oh, ow) holding the patch
   under output pixel (oh, ow) of sample n (ch. 7.4.3).
2. One matrix product with the filters laid out as columns gives every output:
   ``out = col @ W.reshape(FN, -1).T + b`` is (N·OH·OW, FN).
3. A reshape and a transpose turn it into (N, FN, OH, OW).

Backward is the same three steps read in reverse (the book's ch. 7.4.4):
with dy the upstream gradient as (N·OH·OW, FN), dW = colᵀ · dy, db = Σ dy over
the rows, and dx = col2im(dy · W), where ``col2im`` folds patch rows back into
an image, adding where patches overlap.

In ordinary training the ``Convolution`` Function runs the same mathematics
through a fast kernel (``zerodl.kernels.conv``: cache-sized blocks, a padded
channel-major layout, reused buffers), and the readable version here is its
test oracle. Set ``USE_FAST_KERNEL = False`` (or pass ``fast=False``) to run
the readable version; under ``create_graph`` the backward always is readable.
"""

from __future__ import annotations

from ..autograd import Function, Tensor, arrays_or_tensors, as_tensor
from ..backend import get_array_module
from ..kernels import conv as fast_conv
from ..kernels.conv_geometry import Geometry

# Whether Convolution uses the fast kernel when no graph of its backward is recorded.
USE_FAST_KERNEL = True


# ---------------------------------------------------------------- public functions
def conv2d(x, W, b=None, stride=1, pad=0) -> Tensor:
    """2-D convolution (cross-correlation, as in the book and PyTorch).

    y[n, f, i, j] = Σ_{c, u, v} W[f, c, u, v] · x_pad[n, c, i·sh + u, j·sw + v] + b[f]

    x (N, C, H, W), W (FN, C, FH, FW), b (FN,) or None; ``stride`` and ``pad``
    are ints or (h, w) pairs, zero padding on both sides. Output (N, FN, OH, OW)
    with OH = (H + 2·ph - FH) // sh + 1. The book's Convolution layer (ch. 7.4):
    im2col, one matrix product, a reshape (see the ``Convolution`` Function).
    """
    like = W if isinstance(W, Tensor) else None
    x, W = as_tensor(x, like), as_tensor(W, like)
    if b is None:
        return Convolution(stride, pad)(x, W)
    return Convolution(stride, pad)(x, W, as_tensor(b, W))


def im2col(x, FH: int, FW: int, stride=1, pad=0) -> Tensor:
    """Unroll the FH×FW patches of x (N, C, H, W) into rows: the book's im2col (ch. 7.4.3).

    Returns a (N·OH·OW, C·FH·FW) matrix: row (n, oh, ow) holds the patch whose
    top-left corner is at (oh·sh - ph, ow·sw - pw), its columns in (c, fh, fw)
    order, so ``im2col(x) @ W.reshape(FN, -1).T`` is the convolution.
    Differentiable; its backward is ``col2im``.
    """
    x = as_tensor(x)
    return Im2col(Geometry.make("im2col", x.shape, FH, FW, stride, pad))(x)


def col2im(col, input_shape, FH: int, FW: int, stride=1, pad=0) -> Tensor:
    """Fold a (N·OH·OW, C·FH·FW) patch matrix back into an (N, C, H, W) array.

    The adjoint of ``im2col``: each row's values are added at the positions
    its patch came from, so overlapping patches sum (and padding is dropped).
    ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩. Differentiable; its backward is ``im2col``.
    """
    col = as_tensor(col)
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 4:
        raise ValueError(f"col2im: input_shape must be (N, C, H, W), got {input_shape}")
    g = Geometry.make("col2im", input_shape, FH, FW, stride, pad)
    expected = (g.N * g.OH * g.OW, g.C * FH * FW)
    if col.shape != expected:
        raise ValueError(
            f"col2im: col has shape {col.shape} but input_shape {input_shape} with a "
            f"{FH}x{FW} filter, stride {g.stride}, pad {g.pad} needs {expected}"
        )
    return Col2im(g)(col)


# ---------------------------------------------------------------- the book's Convolution
class Convolution(Function):
    """The book's Convolution layer (ch. 7.4): ``Convolution(stride, pad)(x, W, b)``.

    x (N, C, H, W), W (FN, C, FH, FW), b (FN,) (optional); the output size is
    computed from the shapes at each call. Driven by hand as in the book::

        conv = Convolution(stride=1, pad=0)
        y = conv(x, W, b)
        dx, dW, db = conv.backward_by_hand(dout)

    ``fast`` picks the fast kernel (True), the readable version (False) or the
    module's ``USE_FAST_KERNEL`` (None).
    """

    def __init__(self, stride=1, pad=0, fast: bool | None = None):
        self.stride, self.pad = stride, pad
        self.fast = fast

    def forward(self, x, W, b=None):
        _check_conv_shapes(x.shape, W.shape, None if b is None else b.shape)
        g = self.geom = Geometry.make("conv2d", x.shape, W.shape[2], W.shape[3],
                                      self.stride, self.pad)
        use_fast_kernel = USE_FAST_KERNEL if self.fast is None else self.fast
        if use_fast_kernel:
            self.kernel = fast_conv.kernel_for(g)  # the same result, engineered (kernels/conv*.py)
            return self.kernel.forward(x, W, b)
        self.kernel = None
        # the book's algorithm: im2col, one matrix product, reshape
        FN = W.shape[0]
        col = im2col_array(x, g)                        # (N·OH·OW, C·FH·FW)
        col_W = W.reshape(FN, -1).T                     # (C·FH·FW, FN)
        out = col @ col_W                               # (N·OH·OW, FN)
        if b is not None:
            out = out + b
        y = out.reshape(g.N, g.OH, g.OW, FN).transpose(0, 3, 1, 2)
        return get_array_module(x).ascontiguousarray(y)

    def backward(self, gy):
        gy, x, W = arrays_or_tensors(gy, *self.inputs[:2])
        need_x, need_W = self.needs_input_grad[:2]
        need_b = len(self.inputs) == 3 and self.needs_input_grad[2]
        if self.kernel is not None and not isinstance(gy, Tensor):
            # the fast kernel works on arrays: used whenever no graph is being recorded
            gx, gW, gb = self.kernel.backward(gy, W, need_x, need_W, need_b)
        else:
            gx, gW, gb = self._readable_backward(gy, x, W, need_x, need_W, need_b)
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, gb)

    def _readable_backward(self, gy, x, W, need_x, need_W, need_b):
        """The book's backward (ch. 7.4): dW = colᵀ·dy, db = Σ dy, dx = col2im(dy·W).

        Written with differentiable operations (arrays or Tensors alike), so that
        ``backward(create_graph=True)`` can differentiate it again; the patch matrix
        is rebuilt from x rather than kept from forward.
        """
        g = self.geom
        FN = W.shape[0]
        dy = gy.transpose(0, 2, 3, 1).reshape(-1, FN)   # (N·OH·OW, FN), rows as in col
        gx = gW = gb = None
        if need_W:
            col = im2col(x, g.FH, g.FW, g.stride, g.pad)  # (N·OH·OW, C·FH·FW)
            gW = (col.T @ dy).T.reshape(W.shape)           # dW = colᵀ · dy
        if need_b:
            gb = dy.sum(axis=0)                            # db = Σ dy
        if need_x:
            dcol = dy @ W.reshape(FN, -1)                  # (N·OH·OW, C·FH·FW)
            gx = col2im(dcol, x.shape, g.FH, g.FW, g.stride, g.pad)
        return gx, gW, gb


Conv2d = Convolution  # PyTorch's name


# ---------------------------------------------------------------- im2col / col2im
def im2col_array(x, g: Geometry, fill=0.0):
    """The book's im2col on an array: (N, C, H, W) -> (N·OH·OW, C·FH·FW).

    The input is padded with ``fill`` (0 for convolution, -inf for max pooling);
    then, for each filter offset (i, j), the pixels that offset sees from every
    output position are one strided slice, copied into place at once.
    """
    xp = get_array_module(x)
    img = xp.pad(x, [(0, 0), (0, 0), (g.ph, g.ph), (g.pw, g.pw)], constant_values=fill)
    col = xp.empty((g.N, g.C, g.FH, g.FW, g.OH, g.OW), dtype=x.dtype)
    for i in range(g.FH):
        for j in range(g.FW):
            col[:, :, i, j] = img[:, :, i:i + g.sh * g.OH:g.sh, j:j + g.sw * g.OW:g.sw]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(g.N * g.OH * g.OW, -1)


def col2im_array(col, g: Geometry):
    """The book's col2im on an array: (N·OH·OW, C·FH·FW) -> (N, C, H, W), overlaps summed.

    The reverse of ``im2col_array``: each filter offset's slice is added back
    where it was read from, then the padding is cut off.
    """
    xp = get_array_module(col)
    col = col.reshape(g.N, g.OH, g.OW, g.C, g.FH, g.FW).transpose(0, 3, 4, 5, 1, 2)
    img = xp.zeros((g.N, g.C, g.Hp, g.Wp), dtype=col.dtype)
    for i in range(g.FH):
        for j in range(g.FW):
            img[:, :, i:i + g.sh * g.OH:g.sh, j:j + g.sw * g.OW:g.sw] += col[:, :, i, j]
    return xp.ascontiguousarray(img[:, :, g.ph:g.ph + g.H, g.pw:g.pw + g.W])


class Im2col(Function):
    """x (N, C, H, W) -> patch matrix (N·OH·OW, C·FH·FW); backward is col2im."""

    def __init__(self, geom: Geometry):
        self.geom = geom

    def forward(self, x):
        return im2col_array(x, self.geom)

    def backward(self, gy):
        return Col2im(self.geom)(gy)


class Col2im(Function):
    """Patch matrix (N·OH·OW, C·FH·FW) -> (N, C, H, W), summing overlaps; backward is im2col."""

    def __init__(self, geom: Geometry):
        self.geom = geom

    def forward(self, col):
        return col2im_array(col, self.geom)

    def backward(self, gy):
        return Im2col(self.geom)(gy)


# ---------------------------------------------------------------- errors
def _check_conv_shapes(xs, ws, bs) -> None:
    if len(xs) != 4 or len(ws) != 4:
        raise ValueError(
            f"conv2d: x must be (N, C, H, W) and W (FN, C, FH, FW), got x {tuple(xs)}, W {tuple(ws)}"
            + ("; add a channel axis with x.reshape(N, 1, H, W)" if len(xs) == 3 else "")
        )
    if xs[1] != ws[1]:
        raise ValueError(
            f"conv2d: input has {xs[1]} channels but weight expects {ws[1]} "
            f"(x {_fmt(xs)}, W {_fmt(ws)})"
        )
    if bs is not None and tuple(bs) != (ws[0],):
        raise ValueError(
            f"conv2d: bias has shape {tuple(bs)} but W {_fmt(ws)} "
            f"has {ws[0]} filters; pass b of shape ({ws[0]},)"
        )


def _fmt(shape) -> str:
    return "(" + ",".join(str(s) for s in shape) + ")"
