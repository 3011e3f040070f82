"""The fast convolution kernel behind ``zerodl.functional.Convolution``.

The mathematics is the book's (ch. 7.4) and is written out readably in
``zerodl.functional.conv``: y = im2col(x) · Wᵀ + b, dW = colᵀ · dy, db = Σ dy,
dx = col2im(dy · W). That readable version is this kernel's oracle
(``tests/test_kernels_conv.py`` asserts they agree). What is engineered here,
and what each trick buys:

- **Channel-major padded input, transposed patch matrix.** The input is padded
  once into a (C, N, Hp, Wp) buffer and the patch matrix is built transposed,
  (C·FH·FW, N·positions), so one GEMM W (FN, C·FH·FW) @ col gives every output
  and each patch row is read from one run of memory.
- **"Wide" rows.** At stride 1 the output is computed on the whole padded grid
  (Hp×Wp per sample) and the extra rows and columns are discarded: each patch
  row of a block of samples is then ONE contiguous slice, so building the patch
  matrix is a plain copy at memory speed (one 6-D ``as_strided`` view, one
  ``copyto``). When that adds more than 20% to the GEMM, rows stop at OH
  (one run per sample, up to 50% extra); beyond that, and at other strides,
  the grid is exact.
- **Blocks of samples (``BLOCK_BYTES``).** The patch matrix is built and
  multiplied a block of samples at a time, so each block stays in the CPU's
  cache between its copy and its GEMM.
- **Reused scratch buffers, one set per thread.** The patch blocks and GEMM
  outputs never leave a call, so they are kept and reused: fresh large arrays
  cost a page fault per 4 KiB on first write.
- **Bias in the GEMM.** The bias rides as an extra column of W against a row
  of ones under the patches, and db comes out of the dW product the same way.
- **dx as a convolution.** At stride 1, dx = col2im(dy · W) equals the
  convolution of dy, padded by FH-1-pad, with the filters flipped and their
  in/out channels swapped: the same gather-and-GEMM path as the forward pass
  instead of FH·FW strided scatter-adds. Other strides scatter block by block.
- **The padded input is kept from forward** to backward; each block of patches
  is rebuilt from it for dW (keeping the whole patch matrix measured no faster,
  for up to 130 MB more memory in DeepConvNet).
- **Both cores** (``kernels.threads``): the blocks are shared out to a few
  threads, each building its patches and running its own one-thread GEMM;
  the blocks' dW parts are added at the end. 0.78× the time of the convolutions
  of DeepConvNet against two-thread BLAS on one thread (BENCHMARKS.md).
- **Small images with many channels** go to ``conv_nhwc.NhwcConvKernel``
  (exact output grid, channels-last patches; ``kernel_for`` chooses).

Arrays only (NumPy or CuPy, from ``get_array_module``); no Tensors, no graph.
"""

from __future__ import annotations

import math
import threading

from ..backend import get_array_module
from . import threads
from .conv_geometry import Geometry

# Bytes of patch matrix in flight at once, shared by the kernel threads: each block stays
# in the CPU's cache between its copy and its GEMM instead of a round trip through memory,
# yet is large enough for an efficient GEMM (6 MiB in one block measured best with
# two-thread BLAS, two blocks of 3 MiB with two kernel threads; BENCHMARKS.md).
BLOCK_BYTES = 6 << 20


def kernel_for(geom: Geometry, input_scratch: str | None = None):
    """The faster kernel for a convolution of geometry ``geom``: ``ConvKernel`` or, for
    small images with many channels, ``conv_nhwc.NhwcConvKernel`` (see BENCHMARKS.md)."""
    from . import conv_nhwc  # it builds on this module's helpers

    if conv_nhwc.use_for(geom):
        return conv_nhwc.NhwcConvKernel(geom, input_scratch)
    return ConvKernel(geom, input_scratch)


class ConvKernel:
    """One convolution's forward and backward on arrays; keeps what backward needs.

    ``input_scratch`` names a scratch buffer for the padded input when it need
    not outlive the call (the dx convolution's padded dy).
    """

    def __init__(self, geom: Geometry, input_scratch: str | None = None):
        self.geom = geom
        self.input_scratch = input_scratch

    def forward(self, x, W, b=None):
        """y (N, FN, OH, OW) = W ⋆ x + b, computed block by block as W @ col (+ the bias row)."""
        xp = get_array_module(x)
        dtype = xp.result_type(x.dtype, W.dtype)
        g = self.geom
        FN = W.shape[0]
        layout = self.layout = PatchLayout(g, dtype.itemsize, _threads(xp))
        x = x.astype(dtype, copy=False)
        xflat = self.xflat = layout.buffer(xp, dtype, self.input_scratch)
        Wm = W.reshape(FN, -1).astype(dtype, copy=False)
        if b is not None:  # the bias rides in the GEMM: a column of W times a row of ones
            Wm = xp.concatenate([Wm, b.astype(dtype, copy=False).reshape(FN, 1)], axis=1)
        y = xp.empty((g.N, FN, g.OH, g.OW), dtype=dtype)

        # every sample padded before any block reads it: wide rows reach into the next block
        _each(xp, lambda n0, m: layout.pad(xflat, x, n0, m), threads.split(g.N, layout.threads))

        def block(n0, m):
            col = _patch_matrix(layout, xflat, n0, m, ones_row=b is not None)
            out = _scratch("out", xp, (FN, m * layout.grid_size), dtype)
            xp.matmul(Wm, col, out=out)
            y[n0:n0 + m] = layout.output_view(out, m)

        _each(xp, block, layout.blocks())
        return y

    def backward(self, gy, W, need_x: bool, need_W: bool, need_b: bool = False):
        """(dx, dW, db) as arrays, None where not needed.

        dWᵀ and db come from one GEMM per block, [col; 1] · gyᵀ: the row of ones
        sums gy over every output position, which is db. At stride 1, dx is itself
        a convolution: gy, padded by FH-1-ph, with the filters flipped and their
        in/out channels swapped (no scatter-add); otherwise dx = col2im(Wᵀ · gy).
        """
        g, layout, xflat = self.geom, self.layout, self.xflat
        xp = get_array_module(gy)
        dtype = xflat.dtype
        gy = gy.astype(dtype, copy=False)
        FN, K, P = W.shape[0], layout.patch_size, layout.grid_size
        gathered = need_x and _dx_is_a_convolution(g)
        scattered = need_x and not gathered  # dx = col2im(Wᵀ · gy), block by block
        gxflat = gxpad = WmT = None
        if scattered:
            gxflat, gxpad = layout.zeros(xp, dtype)
            WmT = xp.ascontiguousarray(W.reshape(FN, K).T, dtype=dtype)  # a transposed view is slower

        def block(n0, m):
            gwide = _scratch("gwide", xp, (FN, m * P), dtype)
            layout.clear_discarded(gwide, m)  # the wide layout's extra outputs get no gradient
            layout.output_view(gwide, m)[...] = gy[n0:n0 + m]
            gWT = None
            if need_W:
                col = _patch_matrix(layout, xflat, n0, m, ones_row=need_b)
                # dWᵀ = col · gyᵀ: the same product as gy · colᵀ, but with two BLAS
                # threads on busy cores this orientation measured far faster
                gWT = xp.matmul(col, gwide.T)
            if scattered:
                # the "col" scratch again: this block's dW product has read the patches already
                dcol = xp.matmul(WmT, gwide, out=_scratch("col", xp, (K, m * P), dtype))
                dcol = dcol.reshape(g.C, g.FH, g.FW, m, layout.grid_h, layout.grid_w)
                target = layout.view(gxflat, n0, m)
                for i in range(g.FH):
                    for j in range(g.FW):
                        target[:, i, j] += dcol[:, i, j]
            return gWT

        gWT = None
        if need_W or scattered:
            # the scatter's wide rows may add (zeros) into a neighbour block: one thread then
            parts = [block(n0, m) for n0, m in layout.blocks()] if scattered \
                else _each(xp, block, layout.blocks())
            if need_W:
                gWT = _added(parts)
        gx = None
        if gathered:  # after the blocks above: it may reuse their scratch
            gx = _dx_by_convolution(gy, W, g, dtype)
        elif scattered:
            gx = layout.crop(gxpad)
        gW = gb = None
        if need_W:
            gW = gWT[:K].T.reshape(W.shape)
        if need_b:
            gb = gWT[K].copy() if need_W else gy.sum(axis=(0, 2, 3))
        return gx, gW, gb


class PatchLayout:
    """Where the transposed patch matrix (C·FH·FW, N·grid_size) of a convolution comes from.

    The padded input is kept channel-major, (C, N, Hp, Wp), in a flat buffer, so
    that at stride 1 the patch row for (c, fh, fw) over a block of samples is ONE
    contiguous run: each sample contributes grid_h × grid_w values, a grid at
    least as large as the output (wide rows: the whole padded grid, positions
    past OH, OW discarded). ``patch_size`` = C·FH·FW rows; ``grid_size`` columns
    per sample.
    """

    def __init__(self, geom: Geometry, itemsize: int, threads: int = 1):
        g = self.g = geom
        self.threads = threads
        valid = g.OH * g.OW
        if g.sh == 1 and g.sw == 1 and g.Hp * g.Wp <= 1.2 * valid:
            self.grid_h, self.grid_w = g.Hp, g.Wp      # one run per (c, fh, fw) and block
        elif g.sh == 1 and g.sw == 1 and g.OH * g.Wp <= 1.5 * valid:
            self.grid_h, self.grid_w = g.OH, g.Wp      # one run per (c, fh, fw) and sample
        else:
            self.grid_h, self.grid_w = g.OH, g.OW      # exact
        self.grid_size = self.grid_h * self.grid_w
        self.patch_size = g.C * g.FH * g.FW
        # Wide rows of the last image read past its end (harmlessly into the next one).
        last = (g.FH - 1 + (self.grid_h - 1) * g.sh) * g.Wp + g.FW - 1 + (self.grid_w - 1) * g.sw
        self.tail = max(0, last + 1 - g.Hp * g.Wp)
        self._blocks = _sample_blocks(g.N, self.patch_size * self.grid_size * itemsize, threads)

    def blocks(self):
        """(first sample, number of samples) of each block."""
        return self._blocks

    def buffer(self, xp, dtype, scratch: str | None = None):
        """The flat buffer that ``view`` reads: (C, N, Hp, Wp) channel-major and a tail of
        zeros; uninitialised until ``pad`` fills it. With a ``scratch`` name, a reused one
        (for an input needed only during this call)."""
        g = self.g
        n = g.N * g.C * g.Hp * g.Wp
        if scratch is None:
            flat = xp.empty(n + self.tail, dtype=dtype)
        else:
            flat = _scratch(scratch, xp, (n + self.tail,), dtype)
        flat[n:] = 0
        return flat

    def pad(self, flat, x, n0: int, m: int) -> None:
        """Samples n0..n0+m of x, zero-padded, into their place in ``flat``."""
        g = self.g
        v = flat[:g.N * g.C * g.Hp * g.Wp].reshape(g.C, g.N, g.Hp, g.Wp)[:, n0:n0 + m]
        v[:, :, :g.ph] = 0
        v[:, :, g.ph + g.H:] = 0
        v[:, :, :, :g.pw] = 0
        v[:, :, :, g.pw + g.W:] = 0
        v[:, :, g.ph:g.ph + g.H, g.pw:g.pw + g.W] = x[n0:n0 + m].transpose(1, 0, 2, 3)

    def zeros(self, xp, dtype):
        """(flat buffer, its (C, N, Hp, Wp) view) of zeros, with the tail wide rows read."""
        g = self.g
        n = g.N * g.C * g.Hp * g.Wp
        flat = xp.zeros(n + self.tail, dtype=dtype)
        return flat, flat[:n].reshape(g.C, g.N, g.Hp, g.Wp)

    def view(self, flat, n0: int, m: int):
        """(C, FH, FW, m, grid_h, grid_w) strided view of padded samples n0..n0+m (no copy)."""
        g = self.g
        xp = get_array_module(flat)
        it = flat.itemsize
        img = g.Hp * g.Wp
        strides = (g.N * img * it, g.Wp * it, it, img * it, g.sh * g.Wp * it, g.sw * it)
        return xp.lib.stride_tricks.as_strided(
            flat[n0 * img:], shape=(g.C, g.FH, g.FW, m, self.grid_h, self.grid_w), strides=strides)

    def output_view(self, out, m: int):
        """(m, FN, OH, OW) view of a GEMM result laid out (FN, m·grid_size)."""
        g = self.g
        out = out.reshape(out.shape[0], m, self.grid_h, self.grid_w)
        return out[:, :, :g.OH, :g.OW].transpose(1, 0, 2, 3)

    def clear_discarded(self, out, m: int) -> None:
        """Zero the discarded positions of the wide layout in ``out`` (FN, m·grid_size)."""
        g = self.g
        out = out.reshape(out.shape[0], m, self.grid_h, self.grid_w)
        out[:, :, :, g.OW:] = 0
        out[:, :, g.OH:, :g.OW] = 0

    def crop(self, gxpad):
        """(N, C, H, W) from the channel-major padded layout, as a new contiguous array."""
        g = self.g
        xp = get_array_module(gxpad)
        inner = gxpad[:, :, g.ph:g.ph + g.H, g.pw:g.pw + g.W]
        return xp.ascontiguousarray(inner.transpose(1, 0, 2, 3))


def _threads(xp) -> int:
    """Threads for this array module: the kernels' pool on the CPU, one on a GPU."""
    return threads.workers() if xp.__name__ == "numpy" else 1


def _each(xp, fn, parts) -> list:
    """[fn(*part) for part in parts], over the kernels' threads for NumPy arrays."""
    if xp.__name__ != "numpy":
        return [fn(*p) for p in parts]
    return threads.parallel(lambda p: fn(*p), parts)


def _sample_blocks(N: int, per_sample_bytes: int, n_threads: int) -> list[tuple[int, int]]:
    """(first sample, count) of near-equal blocks whose patch matrices, one per thread in
    flight, fit BLOCK_BYTES together; as many blocks for every thread."""
    block = max(1, min(N, BLOCK_BYTES // n_threads // max(per_sample_bytes, 1)))
    count = math.ceil(N / block)
    if n_threads > 1 and N >= n_threads:
        count = math.ceil(count / n_threads) * n_threads
    return threads.split(N, count)


def _dx_is_a_convolution(g: Geometry) -> bool:
    """Whether dx = col2im(dy · W) can be computed as a convolution (``_dx_by_convolution``)."""
    return g.stride == (1, 1) and g.ph < g.FH and g.pw < g.FW


def _dx_by_convolution(gy, W, g: Geometry, dtype):
    """dx at stride 1: gy, padded by FH-1-pad, convolved with the filters flipped and their
    in/out channels swapped (the same gather-and-GEMM path as forward, no scatter-add)."""
    xp = get_array_module(gy)
    flipped = xp.ascontiguousarray(W.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1], dtype=dtype)
    full = Geometry.make("conv2d", gy.shape, g.FH, g.FW, 1, (g.FH - 1 - g.ph, g.FW - 1 - g.pw))
    # the padded gy is needed only during this call: a scratch buffer
    return kernel_for(full, input_scratch="gypad").forward(gy, flipped)


def _added(parts):
    """The sum of the threads' partial results (dW), added into the first."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def _patch_matrix(layout: PatchLayout, xflat, n0: int, m: int, ones_row: bool):
    """The (K, m·grid_size) patch matrix of samples n0..n0+m in a scratch array, with a
    (K+1)-th row of ones under it when ``ones_row`` (for the bias)."""
    g, K = layout.g, layout.patch_size
    xp = get_array_module(xflat)
    col = _scratch("col", xp, (K + ones_row, m * layout.grid_size), xflat.dtype)
    xp.copyto(col[:K].reshape(g.C, g.FH, g.FW, m, layout.grid_h, layout.grid_w),
              layout.view(xflat, n0, m))
    if ones_row:
        col[K] = 1
    return col


_scratch_buffers = threading.local()


def _scratch(name: str, xp, shape, dtype):
    """A reusable scratch array of ``shape`` (contents undefined), one per name and thread.

    Fresh large arrays cost a page fault per 4 KiB the first time they are
    written, as much as the arithmetic done in them; these temporaries never
    leave a convolution, so they are kept and reused from call to call.
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
