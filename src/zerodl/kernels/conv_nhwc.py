"""A second fast convolution kernel: channels-last patches on the exact output grid.

``kernels.conv.ConvKernel`` builds its patch rows from a channel-major input
on a "wide" grid, so that each row is one long contiguous copy; the price is
GEMM work on discarded positions (the padded border), 12-25% for 3×3 filters
on small images. This kernel pads the input channels-last, (N, Hp, Wp, C), and
builds the book's own patch matrix, one row per output position,
(N·OH·OW, FH·FW·C): each row is FH runs of FW·C contiguous values, so the copy
is still fast when C is large, and the GEMMs compute exactly the outputs.
Which of the two a layer uses is chosen by shape (``use_for``), from
measurements recorded in BENCHMARKS.md.

The mathematics is the book's (``zerodl.functional.conv`` is its oracle):
y = col · Wᵀ + b with the filter taps ordered (fh, fw, c); dW = dyᵀ · col;
at stride 1, dx is the convolution of dy, padded by FH-1-pad, with the
filters flipped and their in/out channels swapped, computed by whichever
kernel ``kernel_for`` picks for it. Stride 1, pad below the filter size only.
Arrays only; NumPy or CuPy.
"""

from __future__ import annotations

from ..backend import get_array_module
from . import conv as _conv
from .conv import _added, _dx_by_convolution, _dx_is_a_convolution, _each, _scratch, _threads
from .conv_geometry import Geometry

# Use this kernel when ConvKernel's grid would do at least this many times the GEMM work of
# the exact one, and the channels make each copied run at least this many values long.
MIN_EXTRA, MIN_RUN = 1.1, 64


def use_for(g: Geometry) -> bool:
    """Whether a convolution of geometry ``g`` runs faster here than in ``ConvKernel``."""
    if not _dx_is_a_convolution(g) or g.FW * g.C < MIN_RUN:  # backward needs the dx convolution
        return False
    return _conv.PatchLayout(g, 4).grid_size >= MIN_EXTRA * g.OH * g.OW


class NhwcConvKernel:
    """One stride-1 convolution's forward and backward on arrays, channels-last patches."""

    def __init__(self, geom: Geometry, input_scratch: str | None = None):
        if not _dx_is_a_convolution(geom):
            raise ValueError(f"NhwcConvKernel: stride 1 and pad below the filter size only, "
                             f"got stride {geom.stride}, pad {geom.pad}, filter {geom.FH}x{geom.FW}")
        self.geom = geom
        self.input_scratch = input_scratch  # set when the padded input need not outlive the call

    def forward(self, x, W, b=None):
        """y (N, FN, OH, OW) = W ⋆ x + b, block by block as [col 1] @ [W b]ᵀ."""
        xp = get_array_module(x)
        dtype = xp.result_type(x.dtype, W.dtype)
        g = self.geom
        FN = W.shape[0]
        self.threads = _threads(xp)
        x = x.astype(dtype, copy=False)
        shape = (g.N, g.Hp, g.Wp, g.C)
        self.xpad = xp.empty(shape, dtype=dtype) if self.input_scratch is None \
            else _scratch(self.input_scratch, xp, shape, dtype)
        Wm = W.transpose(0, 2, 3, 1).reshape(FN, -1).astype(dtype)   # taps ordered (fh, fw, c)
        if b is not None:  # the bias rides in the GEMM: a column of W times a column of ones
            Wm = xp.concatenate([Wm, b.astype(dtype, copy=False).reshape(FN, 1)], axis=1)
        y = xp.empty((g.N, FN, g.OH, g.OW), dtype=dtype)
        P = g.OH * g.OW

        def block(n0, m):
            _pad_channels_last(x, g, self.xpad, n0, m)
            col = self._patches(n0, m, ones=b is not None)
            # col · Wᵀ and a transposing copy measured faster than W · colᵀ and a plain one
            out = _scratch("nhwc out", xp, (m * P, FN), dtype)
            xp.matmul(col, Wm.T, out=out)
            y[n0:n0 + m] = out.reshape(m, P, FN).transpose(0, 2, 1).reshape(m, FN, g.OH, g.OW)

        _each(xp, block, self._blocks(g.C * g.FH * g.FW + 1, dtype.itemsize))
        return y

    def backward(self, gy, W, need_x: bool, need_W: bool, need_b: bool = False):
        """(dx, dW, db) as arrays, None where not needed; dW and db from one GEMM
        per block, dyᵀ · [col 1]."""
        g = self.geom
        xp = get_array_module(gy)
        dtype = self.xpad.dtype
        gy = gy.astype(dtype, copy=False)
        FN, K, P = W.shape[0], g.C * g.FH * g.FW, g.OH * g.OW

        def block(n0, m):
            gyT = _scratch("nhwc gy", xp, (FN, m, g.OH, g.OW), dtype)
            gyT[...] = gy[n0:n0 + m].transpose(1, 0, 2, 3)
            return xp.matmul(gyT.reshape(FN, m * P), self._patches(n0, m, ones=need_b))

        gW = gb = gx = None
        if need_W or need_b:
            gWb = _added(_each(xp, block, self._blocks(K + 1, dtype.itemsize)))
            if need_W:
                gW = gWb[:, :K].reshape(FN, g.FH, g.FW, g.C).transpose(0, 3, 1, 2).copy()
            if need_b:
                gb = gWb[:, K].copy()
        if need_x:  # after the blocks above: it may reuse their scratch
            gx = _dx_by_convolution(gy, W, g, dtype)
        return gx, gW, gb

    def _blocks(self, row_values: int, itemsize: int) -> list[tuple[int, int]]:
        """Blocks of samples whose patch matrix fits BLOCK_BYTES, as many for every thread."""
        g = self.geom
        return _conv._sample_blocks(g.N, g.OH * g.OW * row_values * itemsize, self.threads)

    def _patches(self, n0: int, m: int, ones: bool):
        """The (m·OH·OW, FH·FW·C [+1]) patch matrix of samples n0..n0+m in a scratch array."""
        g, xpad = self.geom, self.xpad
        xp = get_array_module(xpad)
        K = g.C * g.FH * g.FW
        col = _scratch("nhwc col", xp, (m * g.OH * g.OW, K + ones), xpad.dtype)
        it = xpad.itemsize
        row = g.Wp * g.C * it
        view = xp.lib.stride_tricks.as_strided(
            xpad[n0:], shape=(m, g.OH, g.OW, g.FH, g.FW * g.C),
            strides=(g.Hp * row, row, g.C * it, row, it))
        xp.copyto(col[:, :K].reshape(m, g.OH, g.OW, g.FH, g.FW * g.C), view)
        if ones:
            col[:, K] = 1
        return col


def _pad_channels_last(x, g: Geometry, xpad, n0: int, m: int) -> None:
    """Samples n0..n0+m of x (N, C, H, W), zero-padded, into xpad (N, Hp, Wp, C)."""
    v = xpad[n0:n0 + m]
    v[:, :g.ph] = 0
    v[:, g.ph + g.H:] = 0
    v[:, :, :g.pw] = 0
    v[:, :, g.pw + g.W:] = 0
    v[:, g.ph:g.ph + g.H, g.pw:g.pw + g.W] = x[n0:n0 + m].transpose(0, 2, 3, 1)
