"""The fast pooling kernels behind ``zerodl.functional.Pooling`` and ``AvgPool2d``.

The book's algorithm (ch. 7.5), written readably in ``zerodl.functional.pool``,
unrolls the windows with im2col (one window per row), takes each row's max and
argmax, and in backward sends each gradient to its row's argmax and folds the
rows back with col2im. That readable version is these kernels' oracle
(``tests/test_kernels_pool.py``). What is engineered here, and what it buys:

- **No patch matrix.** The kh·kw window offsets are kh·kw strided views of the
  (padded) input, each (N, C, OH, OW); the max is a running ``maximum`` over
  them. Non-overlapping windows, the common case, are a plain reshape of the
  input to (N, C, OH, kh, OW, kw): no padding copy at all.
- **Argmax as a small index array** (uint8 for windows up to 255), found with
  whole-array compares that keep the first maximum (masked copies measured far
  slower), instead of an argmax over a copied patch matrix.
- **Backward without scatter-add.** Non-overlapping windows write each offset's
  gradient straight into its strided slice of dx; overlapping ones add the
  offsets' contributions into a padded buffer (one mask buffer reused).

Arrays only (NumPy or CuPy, from ``get_array_module``); no Tensors, no graph.
"""

from __future__ import annotations

from ..backend import get_array_module
from . import threads
from .conv_geometry import Geometry


class MaxPoolKernel:
    """Max pooling's forward and backward on arrays; keeps the argmax for backward."""

    def __init__(self, geom: Geometry):
        self.geom = geom
        self.arg = None

    def forward(self, x, want_arg: bool = True):
        """y (N, C, OH, OW), the max of each window; with ``want_arg`` also keeps, per
        output, the index (in the window, row-major) of the first maximum."""
        g = self.geom
        xp = get_array_module(x)
        y = xp.empty((g.N, g.C, g.OH, g.OW), dtype=x.dtype)
        arg = self.arg = xp.empty(y.shape, dtype=_index_dtype(xp, g)) if want_arg else None

        def part(n0, m):
            windows = _windows(x[n0:n0 + m], g.with_batch(m), pad_value=-xp.inf)
            _running(windows, "maximum", out=y[n0:n0 + m])
            if want_arg:
                _first_argmax(windows, y[n0:n0 + m], out=arg[n0:n0 + m])

        _each(xp, part, g.N)
        return y

    def backward(self, gy, x):
        """dx (N, C, H, W): each gradient to its window's first maximum (overlaps add).
        ``x`` recomputes the argmax when forward kept none."""
        g = self.geom
        xp = get_array_module(gy)
        if self.arg is None:  # forward ran without recording (driven by hand later)
            self.forward(x)
        arg = self.arg
        gx = xp.empty((g.N, g.C, g.H, g.W), dtype=gy.dtype)

        def part(n0, m):
            sub, gy_part, arg_part = g.with_batch(m), gy[n0:n0 + m], arg[n0:n0 + m]
            hit = xp.empty(gy_part.shape, dtype=bool)  # one mask buffer for every offset
            if _non_overlapping(g):
                t = _tiles(gx[n0:n0 + m], sub)
                for k in range(g.FH * g.FW):
                    xp.equal(arg_part, k, out=hit)
                    xp.multiply(gy_part, hit, out=t[:, :, :, k // g.FW, :, k % g.FW])
            else:
                sub.fold(lambda i, j: xp.multiply(gy_part, xp.equal(arg_part, i * g.FW + j, out=hit)),
                         xp, gy.dtype, out=gx[n0:n0 + m])

        _each(xp, part, g.N)
        return gx


class AvgPoolKernel:
    """Average pooling's forward and backward on arrays (zero padding counts in the mean)."""

    def __init__(self, geom: Geometry):
        self.geom = geom

    def forward(self, x):
        """y (N, C, OH, OW): the sum of the window views, divided by kh·kw."""
        g = self.geom
        xp = get_array_module(x)
        y = xp.empty((g.N, g.C, g.OH, g.OW), dtype=x.dtype)

        def part(n0, m):
            out = _running(_windows(x[n0:n0 + m], g.with_batch(m)), "add", out=y[n0:n0 + m])
            out *= x.dtype.type(1.0 / (g.FH * g.FW))

        _each(xp, part, g.N)
        return y

    def backward(self, gy):
        """dx (N, C, H, W): each window's gradient / (kh·kw) at each of its positions."""
        g = self.geom
        xp = get_array_module(gy)
        gx = xp.empty((g.N, g.C, g.H, g.W), dtype=gy.dtype)

        def part(n0, m):
            share = gy[n0:n0 + m] * gy.dtype.type(1.0 / (g.FH * g.FW))
            if _non_overlapping(g):
                _tiles(gx[n0:n0 + m], g.with_batch(m))[...] = share[:, :, :, None, :, None]
            else:
                g.with_batch(m).fold(lambda i, j: share, xp, gy.dtype, out=gx[n0:n0 + m])

        _each(xp, part, g.N)
        return gx


def _each(xp, fn, n: int) -> None:
    """fn(n0, m) for consecutive sample ranges covering 0..n: one per kernel thread on
    the CPU (each range's work is independent), the whole batch at once on a GPU."""
    if xp.__name__ != "numpy" or threads.workers() == 1:
        fn(0, n)
        return
    threads.parallel(lambda r: fn(*r), threads.split(n, threads.workers()))


def _index_dtype(xp, g: Geometry):
    return xp.uint8 if g.FH * g.FW <= 255 else xp.int32


def _non_overlapping(g: Geometry) -> bool:
    """Windows tile the input exactly: the (N, C, OH, kh, OW, kw) reshape applies."""
    return (g.sh, g.sw) == (g.FH, g.FW) and not g.padded \
        and g.H % g.FH == 0 and g.W % g.FW == 0


def _tiles(x, g: Geometry):
    """(N, C, OH, kh, OW, kw) view of x for non-overlapping windows."""
    return x.reshape(g.N, g.C, g.OH, g.FH, g.OW, g.FW)


def _windows(x, g: Geometry, pad_value=0.0):
    """The kh·kw views of x, one per window offset, each (N, C, OH, OW) (no copies unless padded)."""
    if _non_overlapping(g):
        t = _tiles(x, g)
        return [t[:, :, :, i, :, j] for i in range(g.FH) for j in range(g.FW)]
    xpad = g.pad_input(x, value=pad_value)
    return [g.window(xpad, i, j) for i in range(g.FH) for j in range(g.FW)]


def _running(windows, ufunc: str, out):
    """The elementwise ``ufunc`` (maximum, add) of all window views, written into ``out``."""
    xp = get_array_module(windows[0])
    op = getattr(xp, ufunc)
    xp.copyto(out, windows[0])
    for w in windows[1:]:
        op(out, w, out=out)
    return out


def _first_argmax(windows, y, out):
    """Per output, the index k of the first window view equal to the maximum y, into ``out``."""
    xp = get_array_module(y)
    kk = len(windows)
    arg = out
    arg[...] = kk - 1
    hit, step = xp.empty_like(arg), xp.empty_like(arg)
    for k in range(kk - 2, -1, -1):  # later offsets first: the first maximum has the last word
        xp.equal(windows[k], y, out=hit)
        xp.subtract(arg, k, out=step)    # arg >= k here, so no wrap-around
        step *= hit
        arg -= step                      # arg = k where hit (masked copies are far slower)
    return arg
