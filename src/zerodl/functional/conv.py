"""Convolution on (N, C, H, W) batches: the book's ch. 7 (pooling is in pool.py).

``im2col`` unrolls every filter-sized patch of the input into a row of a
matrix, so a convolution becomes one matrix product (ch. 7.4.3); ``col2im``
is its adjoint, folding rows back and summing where patches overlap.

``conv2d`` uses the same idea, engineered. The patch matrix (transposed:
one row per (c, fh, fw), one column per output position) is read out of the
padded input through a strided view and copied once, then one GEMM
W (FN, C·FH·FW) @ col gives every output. At stride 1 the output is computed
"wide", on the padded grid with the extra rows and columns discarded, which
makes each patch row one contiguous run of memory: the copy and its adjoint
(col2im, a loop over the FH·FW filter offsets adding contiguous slices) run at
memory speed. Large batches go in blocks of samples whose patch matrix fits in
the CPU cache. Nothing loops over samples or pixels.
"""

from __future__ import annotations

import math
import threading

from ..autograd import Function, Tensor, as_tensor, is_grad_enabled
from ..backend import get_array_module

# Bytes of patch matrix processed at once: a block stays in the CPU's cache
# between its copy and its GEMM instead of a round trip through memory, yet
# is large enough that each GEMM call is worth the BLAS threads' start-up.
BLOCK_BYTES = 6 << 20


# ---------------------------------------------------------------- public functions
def conv2d(x, W, b=None, stride=1, pad=0) -> Tensor:
    """2-D convolution (cross-correlation, as in the book and PyTorch).

    y[n, f, i, j] = Σ_{c, u, v} W[f, c, u, v] · x_pad[n, c, i·sh + u, j·sw + v] + b[f]

    x (N, C, H, W), W (FN, C, FH, FW), b (FN,) or None; ``stride`` and ``pad``
    are ints or (h, w) pairs, zero padding on both sides. Output (N, FN, OH, OW)
    with OH = (H + 2·ph - FH) // sh + 1. The book's Convolution layer (ch. 7.4):
    forward is im2col + one GEMM; backward gives dW = gyᵀ·col, db = Σ gy and
    dx = col2im(gy·W), which at stride 1 equals the convolution of gy with the
    flipped filters (skipped when x needs no gradient, as for a first layer).
    """
    like = W if isinstance(W, Tensor) else None
    x, W = as_tensor(x, like), as_tensor(W, like)
    _check_conv_shapes(x, W, b)
    geom = _Geometry.make("conv2d", x.shape, W.shape[2], W.shape[3], stride, pad)
    if b is None:
        return Conv2d(geom)(x, W)
    return Conv2d(geom)(x, W, as_tensor(b, W))


def im2col(x, FH: int, FW: int, stride=1, pad=0) -> Tensor:
    """Unroll the FH×FW patches of x (N, C, H, W) into rows: the book's im2col (ch. 7.4.3).

    Returns a (N·OH·OW, C·FH·FW) matrix: row (n, oh, ow) holds the patch whose
    top-left corner is at (oh·sh - ph, ow·sw - pw), its columns in (c, fh, fw)
    order, so ``im2col(x) @ W.reshape(FN, -1).T`` is the convolution.
    Differentiable; its backward is ``col2im``.
    """
    x = as_tensor(x)
    geom = _Geometry.make("im2col", x.shape, FH, FW, stride, pad)
    return Im2col(geom)(x)


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
    geom = _Geometry.make("col2im", input_shape, FH, FW, stride, pad)
    expected = (geom.N * geom.OH * geom.OW, geom.C * FH * FW)
    if col.shape != expected:
        raise ValueError(
            f"col2im: col has shape {col.shape} but input_shape {input_shape} with a "
            f"{FH}x{FW} filter, stride {geom.stride}, pad {geom.pad} needs {expected}"
        )
    return Col2im(geom)(col)


# ---------------------------------------------------------------- geometry
def _pair(v, op: str, name: str) -> tuple[int, int]:
    """An int or an (h, w) pair, as two ints."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{op}: {name} must be an int or an (h, w) pair, got {v!r}")
        h, w = v
    else:
        h = w = v
    try:
        return int(h), int(w)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or an (h, w) pair, got {v!r}") from None


class _Geometry:
    """Sizes of one sliding-window operation: input, window, stride, padding, output."""

    __slots__ = ("N", "C", "H", "W", "FH", "FW", "sh", "sw", "ph", "pw",
                 "Hp", "Wp", "OH", "OW")

    @classmethod
    def make(cls, op, shape, FH, FW, stride, pad):
        if len(shape) != 4:
            raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(shape)}")
        g = cls()
        g.N, g.C, g.H, g.W = (int(s) for s in shape)
        g.FH, g.FW = int(FH), int(FW)
        g.sh, g.sw = _pair(stride, op, "stride")
        g.ph, g.pw = _pair(pad, op, "pad")
        if g.FH < 1 or g.FW < 1:
            raise ValueError(f"{op}: window must be at least 1x1, got {g.FH}x{g.FW}")
        if g.sh < 1 or g.sw < 1:
            raise ValueError(f"{op}: stride must be positive, got {(g.sh, g.sw)}")
        if g.ph < 0 or g.pw < 0:
            raise ValueError(f"{op}: pad must be non-negative, got {(g.ph, g.pw)}")
        g.Hp, g.Wp = g.H + 2 * g.ph, g.W + 2 * g.pw
        if g.FH > g.Hp or g.FW > g.Wp:
            raise ValueError(
                f"{op}: window {g.FH}x{g.FW} is larger than the padded input "
                f"{g.Hp}x{g.Wp} (input {tuple(shape)}, pad {(g.ph, g.pw)}); "
                "use a smaller window or more padding"
            )
        g.OH = (g.Hp - g.FH) // g.sh + 1
        g.OW = (g.Wp - g.FW) // g.sw + 1
        return g

    @property
    def stride(self):
        return (self.sh, self.sw)

    @property
    def pad(self):
        return (self.ph, self.pw)

    @property
    def padded(self) -> bool:
        return self.ph > 0 or self.pw > 0

    def pad_input(self, x, value=0.0):
        """x (N, C, H, W) inside a contiguous (N, C, Hp, Wp) array filled with ``value``."""
        xp = get_array_module(x)
        if not self.padded:
            return xp.ascontiguousarray(x)
        out = xp.full((self.N, self.C, self.Hp, self.Wp), value, dtype=x.dtype)
        self.crop(out)[...] = x
        return out

    def crop(self, xpad):
        """The (N, C, H, W) interior of a padded array."""
        if not self.padded:
            return xpad
        return xpad[:, :, self.ph:self.ph + self.H, self.pw:self.pw + self.W]

    def window(self, xpad, i: int, j: int):
        """View of xpad at filter offset (i, j): element (n, c, oh, ow) is x_pad[n, c, i+oh·sh, j+ow·sw]."""
        return xpad[:, :, i:i + self.sh * (self.OH - 1) + 1:self.sh,
                    j:j + self.sw * (self.OW - 1) + 1:self.sw]

    def fold(self, part_at, xp, dtype):
        """The adjoint of reading the windows: each offset's (N, C, OH, OW) ``part_at(i, j)``
        added at ``window(i, j)`` of a zero padded array (overlaps sum); returns the
        (N, C, H, W) interior as a contiguous array, the padding dropped."""
        xpad = xp.zeros((self.N, self.C, self.Hp, self.Wp), dtype=dtype)
        for i in range(self.FH):
            for j in range(self.FW):
                self.window(xpad, i, j)[...] += part_at(i, j)
        return xp.ascontiguousarray(self.crop(xpad))


# ---------------------------------------------------------------- convolution
def _check_conv_shapes(x: Tensor, W: Tensor, b) -> None:
    if x.ndim != 4 or W.ndim != 4:
        raise ValueError(
            f"conv2d: x must be (N, C, H, W) and W (FN, C, FH, FW), got x {x.shape}, W {W.shape}"
            + ("; add a channel axis with x.reshape(N, 1, H, W)" if x.ndim == 3 else "")
        )
    if x.shape[1] != W.shape[1]:
        raise ValueError(
            f"conv2d: input has {x.shape[1]} channels but weight expects {W.shape[1]} "
            f"(x {_fmt(x.shape)}, W {_fmt(W.shape)})"
        )
    if b is not None and tuple(getattr(b, "shape", ())) != (W.shape[0],):
        raise ValueError(
            f"conv2d: bias has shape {tuple(getattr(b, 'shape', ()))} but W {_fmt(W.shape)} "
            f"has {W.shape[0]} filters; pass b of shape ({W.shape[0]},)"
        )


def _fmt(shape) -> str:
    return "(" + ",".join(str(s) for s in shape) + ")"


class _Patches:
    """The patch matrix of conv2d, (C·FH·FW, N·P), built block by block of samples.

    The padded input is kept channel-major, (C, N, Hp, Wp), so that at stride 1
    the patch row for (c, fh, fw) over a block of samples is ONE contiguous run
    of that buffer: each sample contributes P = Hp·Wp values ("wide" rows: the
    output grid is computed on the whole padded grid and the rows and columns
    past OH, OW are discarded). When that adds more than 20% to the GEMMs, rows
    stop at OH (P = OH·Wp: one run per sample, up to 50% extra); beyond that,
    and at other strides, P = OH·OW exactly.
    """

    def __init__(self, geom: _Geometry, itemsize: int):
        g = self.g = geom
        valid = g.OH * g.OW
        if g.sh == 1 and g.sw == 1 and g.Hp * g.Wp <= 1.2 * valid:
            self.rows, self.R = g.Hp, g.Wp          # one run per (c, fh, fw) and block
        elif g.sh == 1 and g.sw == 1 and g.OH * g.Wp <= 1.5 * valid:
            self.rows, self.R = g.OH, g.Wp          # one run per (c, fh, fw) and sample
        else:
            self.rows, self.R = g.OH, g.OW          # exact
        self.P = self.rows * self.R
        self.K = g.C * g.FH * g.FW
        # Wide rows of the last image read past its end (harmlessly into the next one).
        last = (g.FH - 1 + (self.rows - 1) * g.sh) * g.Wp + g.FW - 1 + (self.R - 1) * g.sw
        self.tail = max(0, last + 1 - g.Hp * g.Wp)
        per_sample = self.K * self.P * itemsize
        block = max(1, min(g.N, BLOCK_BYTES // max(per_sample, 1)))
        self.block = math.ceil(g.N / math.ceil(g.N / block))  # equal blocks, no tiny remainder

    def blocks(self):
        for n0 in range(0, self.g.N, self.block):
            yield n0, min(self.block, self.g.N - n0)

    def pad(self, x, scratch: str | None = None):
        """x zero-padded into the channel-major flat buffer that ``view`` reads.

        With a ``scratch`` name the buffer is a reused scratch array (for an input
        needed only during this call) and only its border is zeroed.
        """
        xp, g = get_array_module(x), self.g
        if scratch is None:
            flat, view = self.zeros(xp, x.dtype)
        else:
            n = g.N * g.C * g.Hp * g.Wp
            flat = _scratch(scratch, xp, (n + self.tail,), x.dtype)
            view = flat[:n].reshape(g.C, g.N, g.Hp, g.Wp)
            flat[n:] = 0
            view[:, :, :g.ph] = 0
            view[:, :, g.ph + g.H:] = 0
            view[:, :, :, :g.pw] = 0
            view[:, :, :, g.pw + g.W:] = 0
        view[:, :, g.ph:g.ph + g.H, g.pw:g.pw + g.W] = x.transpose(1, 0, 2, 3)
        return flat

    def zeros(self, xp, dtype):
        """(flat buffer, its (C, N, Hp, Wp) view) of zeros, with the tail wide rows read."""
        g = self.g
        n = g.N * g.C * g.Hp * g.Wp
        flat = xp.zeros(n + self.tail, dtype=dtype)
        return flat, flat[:n].reshape(g.C, g.N, g.Hp, g.Wp)

    def view(self, flat, n0: int, m: int):
        """(C, FH, FW, m, rows, R) strided view of padded samples n0..n0+m (no copy)."""
        g = self.g
        xp = get_array_module(flat)
        it = flat.itemsize
        img = g.Hp * g.Wp
        strides = (g.N * img * it, g.Wp * it, it, img * it, g.sh * g.Wp * it, g.sw * it)
        return xp.lib.stride_tricks.as_strided(
            flat[n0 * img:], shape=(g.C, g.FH, g.FW, m, self.rows, self.R), strides=strides)

    def output_view(self, out, m: int):
        """(m, FN, OH, OW) view of a GEMM result laid out (FN, m·P)."""
        g = self.g
        out = out.reshape(out.shape[0], m, self.rows, self.R)
        return out[:, :, :g.OH, :g.OW].transpose(1, 0, 2, 3)

    def clear_discarded(self, out, m: int) -> None:
        """Zero the discarded positions of the wide layout in ``out`` (FN, m·P)."""
        g = self.g
        out = out.reshape(out.shape[0], m, self.rows, self.R)
        out[:, :, :, g.OW:] = 0
        out[:, :, g.OH:, :g.OW] = 0

    def crop(self, gxpad):
        """(N, C, H, W) from the channel-major padded layout, as a new contiguous array."""
        g = self.g
        xp = get_array_module(gxpad)
        inner = gxpad[:, :, g.ph:g.ph + g.H, g.pw:g.pw + g.W]
        return xp.ascontiguousarray(inner.transpose(1, 0, 2, 3))


class Conv2d(Function):
    """The book's Convolution layer (ch. 7.4) as one Function; see ``conv2d``.

    Forward caches the padded input; backward rebuilds each block of patches
    from it (cheaper than keeping the whole patch matrix in memory).
    """

    def __init__(self, geom: _Geometry, input_scratch: str | None = None):
        self.geom = geom
        self.input_scratch = input_scratch  # set when the padded input need not outlive the call

    def forward(self, x, W, b=None):
        xp = get_array_module(x)
        dtype = xp.result_type(x.dtype, W.dtype)
        g = self.geom
        FN = W.shape[0]
        patches = self.patches = _Patches(g, dtype.itemsize)
        xflat = self.xflat = patches.pad(x.astype(dtype, copy=False), self.input_scratch)
        Wm = W.reshape(FN, -1).astype(dtype, copy=False)
        if b is not None:  # the bias rides in the GEMM: a column of W times a row of ones
            Wm = xp.concatenate([Wm, b.astype(dtype, copy=False).reshape(FN, 1)], axis=1)
        y = xp.empty((g.N, FN, g.OH, g.OW), dtype=dtype)
        for n0, m in patches.blocks():
            col = _patch_matrix(patches, xflat, n0, m, ones_row=b is not None)
            out = _scratch("out", xp, (FN, m * patches.P), dtype)
            xp.matmul(Wm, col, out=out)
            y[n0:n0 + m] = patches.output_view(out, m)
        return y

    def backward(self, gy):
        if is_grad_enabled():
            return self._backward_graph(gy)
        need = self.needs_input_grad
        need_b = len(self.inputs) == 3 and need[2]
        gx, gW, gb = self._backward_arrays(gy.data, self.inputs[1].data, need[0], need[1], need_b)
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, gb)

    def _backward_arrays(self, gy, W, need_x: bool, need_W: bool, need_b: bool = False):
        """(dx, dW, db) as arrays, None where not needed.

        dWᵀ and db come from one GEMM, [col; 1] · gyᵀ: the row of ones sums gy
        over every output position, which is db. At stride 1, dx is itself a
        convolution: gy, padded by FH-1-ph, with the filters flipped and their
        in/out channels swapped (no scatter-add); otherwise dx = col2im(Wᵀ · gy).
        """
        g, patches, xflat = self.geom, self.patches, self.xflat
        xp = get_array_module(gy)
        dtype = xflat.dtype
        gy = gy.astype(dtype, copy=False)
        FN, K, P = W.shape[0], patches.K, patches.P
        gathered = need_x and g.stride == (1, 1) and g.ph < g.FH and g.pw < g.FW
        scattered = need_x and not gathered  # dx = col2im(Wᵀ · gy), block by block
        gWT = tmp = None
        gxflat = gxpad = WmT = None
        if scattered:
            gxflat, gxpad = patches.zeros(xp, dtype)
            WmT = xp.ascontiguousarray(W.reshape(FN, K).T, dtype=dtype)  # a transposed view is slower
        for n0, m in patches.blocks() if need_W or scattered else ():
            gwide = _scratch("gwide", xp, (FN, m * P), dtype)
            patches.clear_discarded(gwide, m)  # the wide layout's extra outputs get no gradient
            patches.output_view(gwide, m)[...] = gy[n0:n0 + m]
            if need_W:
                col = _patch_matrix(patches, xflat, n0, m, ones_row=need_b)
                # dWᵀ = col · gyᵀ: the same product as gy · colᵀ, but with two BLAS
                # threads on busy cores this orientation measured far faster
                if gWT is None:
                    gWT = xp.matmul(col, gwide.T)
                else:
                    tmp = xp.matmul(col, gwide.T, out=tmp)
                    gWT += tmp
            if scattered:
                # the "col" scratch again: this block's dW product has read the patches already
                dcol = xp.matmul(WmT, gwide, out=_scratch("col", xp, (K, m * P), dtype))
                dcol = dcol.reshape(g.C, g.FH, g.FW, m, patches.rows, patches.R)
                target = patches.view(gxflat, n0, m)
                for i in range(g.FH):
                    for j in range(g.FW):
                        target[:, i, j] += dcol[:, i, j]
        gx = None
        if gathered:
            flipped = xp.ascontiguousarray(W.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1], dtype=dtype)
            full = _Geometry.make("conv2d", gy.shape, g.FH, g.FW, 1, (g.FH - 1 - g.ph, g.FW - 1 - g.pw))
            # a convolution of its own, after the loop above: it may reuse "col" and "out"
            gx = Conv2d(full, input_scratch="gypad").forward(gy, flipped)
        elif scattered:
            gx = patches.crop(gxpad)
        gW = gb = None
        if need_W:
            gW = gWT[:K].T.reshape(W.shape)
        if need_b:
            gb = gWT[K].copy() if need_W else gy.sum(axis=(0, 2, 3))
        return gx, gW, gb

    def _backward_graph(self, gy):
        """Backward with Tensor operations (im2col, matmul, col2im), for create_graph."""
        from .linalg import matmul
        from .shape import reshape, sum, transpose

        g = self.geom
        x, W = self.inputs[:2]
        need = self.needs_input_grad
        FN = W.shape[0]
        gy2 = reshape(transpose(gy, (0, 2, 3, 1)), (-1, FN))          # (N·OH·OW, FN)
        gx = gW = gb = None
        if need[0]:
            gcol = matmul(gy2, reshape(W, (FN, -1)))
            gx = col2im(gcol, x.shape, g.FH, g.FW, g.stride, g.pad)
        if need[1]:
            col = im2col(x, g.FH, g.FW, g.stride, g.pad)
            gW = reshape(matmul(transpose(gy2), col), W.shape)
        if len(self.inputs) == 2:
            return gx, gW
        if need[2]:
            gb = sum(gy, axis=(0, 2, 3))
        return gx, gW, gb


def _patch_matrix(patches: _Patches, xflat, n0: int, m: int, ones_row: bool):
    """The (K, m·P) patch matrix of samples n0..n0+m in a scratch array, with a
    (K+1)-th row of ones under it when ``ones_row`` (for the bias)."""
    g, K = patches.g, patches.K
    xp = get_array_module(xflat)
    col = _scratch("col", xp, (K + ones_row, m * patches.P), xflat.dtype)
    xp.copyto(col[:K].reshape(g.C, g.FH, g.FW, m, patches.rows, patches.R),
              patches.view(xflat, n0, m))
    if ones_row:
        col[K] = 1
    return col


_scratch_buffers = threading.local()


def _scratch(name: str, xp, shape, dtype):
    """A reusable scratch array of ``shape`` (contents undefined), one per name and thread.

    Fresh large arrays cost a page fault per 4 KiB the first time they are
    written, as much as the arithmetic done in them; these temporaries never
    leave conv2d, so they are kept and reused from call to call.
    """
    pool = getattr(_scratch_buffers, "pool", None)
    if pool is None:
        pool = _scratch_buffers.pool = {}
    key = (name, xp.__name__, xp.dtype(dtype).str)
    n = math.prod(shape)
    buf = pool.get(key)
    if buf is None or buf.size < n:
        buf = pool[key] = xp.empty(n, dtype=dtype)
    return buf[:n].reshape(shape)


# ---------------------------------------------------------------- im2col / col2im
class Im2col(Function):
    """x (N, C, H, W) -> patch matrix (N·OH·OW, C·FH·FW); backward is Col2im."""

    def __init__(self, geom: _Geometry):
        self.geom = geom

    def forward(self, x):
        g = self.geom
        xp = get_array_module(x)
        xpad = g.pad_input(x)
        s = xpad.strides
        view = xp.lib.stride_tricks.as_strided(
            xpad, shape=(g.N, g.OH, g.OW, g.C, g.FH, g.FW),
            strides=(s[0], g.sh * s[2], g.sw * s[3], s[1], s[2], s[3]))
        return xp.ascontiguousarray(view).reshape(g.N * g.OH * g.OW, -1)

    def backward(self, gcol):
        return Col2im(self.geom)(gcol)


class Col2im(Function):
    """Patch matrix (N·OH·OW, C·FH·FW) -> (N, C, H, W), summing overlaps; backward is Im2col."""

    def __init__(self, geom: _Geometry):
        self.geom = geom

    def forward(self, col):
        g = self.geom
        xp = get_array_module(col)
        col6 = col.reshape(g.N, g.OH, g.OW, g.C, g.FH, g.FW).transpose(0, 3, 4, 5, 1, 2)
        return g.fold(lambda i, j: col6[:, :, i, j], xp, col.dtype)

    def backward(self, gx):
        return Im2col(self.geom)(gx)


Convolution = Conv2d  # the book's name (ch. 7.4)
