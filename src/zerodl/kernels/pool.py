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
from .conv_geometry import Geometry


class MaxPoolKernel:
    """Max pooling's forward and backward on arrays; keeps the argmax for backward."""

    def __init__(self, geom: Geometry):
        self.geom = geom
        self.arg = None

    def forward(self, x, want_arg: bool = True):
        """y (N, C, OH, OW), the max of each window; with ``want_arg`` also keeps, per
        output, the index (in the window, row-major) of the first maximum."""
        windows = _windows(x, self.geom, pad_value=-get_array_module(x).inf)
        y = _running(windows, "maximum")
        self.arg = _first_argmax(windows, y) if want_arg else None
        return y

    def backward(self, gy, x):
        """dx (N, C, H, W): each gradient to its window's first maximum (overlaps add).
        ``x`` recomputes the argmax when forward kept none."""
        g = self.geom
        xp = get_array_module(gy)
        if self.arg is None:  # forward ran without recording (driven by hand later)
            windows = _windows(x, g, pad_value=-xp.inf)
            self.arg = _first_argmax(windows, _running(windows, "maximum"))
        arg = self.arg
        if _non_overlapping(g):
            hit = xp.empty(gy.shape, dtype=bool)
            gx = xp.empty((g.N, g.C, g.H, g.W), dtype=gy.dtype)
            t = _tiles(gx, g)
            for k in range(g.FH * g.FW):
                xp.equal(arg, k, out=hit)
                xp.multiply(gy, hit, out=t[:, :, :, k // g.FW, :, k % g.FW])
            return gx
        hit = xp.empty(arg.shape, dtype=bool)  # one mask buffer for every offset
        return g.fold(lambda i, j: xp.multiply(gy, xp.equal(arg, i * g.FW + j, out=hit)),
                      xp, gy.dtype)


class AvgPoolKernel:
    """Average pooling's forward and backward on arrays (zero padding counts in the mean)."""

    def __init__(self, geom: Geometry):
        self.geom = geom

    def forward(self, x):
        """y (N, C, OH, OW): the sum of the window views, divided by kh·kw."""
        g = self.geom
        y = _running(_windows(x, g), "add")
        y *= x.dtype.type(1.0 / (g.FH * g.FW))
        return y

    def backward(self, gy):
        """dx (N, C, H, W): each window's gradient / (kh·kw) at each of its positions."""
        g = self.geom
        xp = get_array_module(gy)
        share = gy * gy.dtype.type(1.0 / (g.FH * g.FW))
        if _non_overlapping(g):
            gx = xp.empty((g.N, g.C, g.H, g.W), dtype=gy.dtype)
            _tiles(gx, g)[...] = share[:, :, :, None, :, None]
            return gx
        return g.fold(lambda i, j: share, xp, gy.dtype)


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


def _running(windows, ufunc: str):
    """The elementwise ``ufunc`` (maximum, add) of all window views, in a new array."""
    xp = get_array_module(windows[0])
    op = getattr(xp, ufunc)
    y = xp.array(windows[0], copy=True)
    for w in windows[1:]:
        op(y, w, out=y)
    return y


def _first_argmax(windows, y):
    """Per output, the index k of the first window view equal to the maximum y."""
    xp = get_array_module(y)
    kk = len(windows)
    arg = xp.full(y.shape, kk - 1, dtype=xp.uint8 if kk <= 255 else xp.int32)
    hit, step = xp.empty_like(arg), xp.empty_like(arg)
    for k in range(kk - 2, -1, -1):  # later offsets first: the first maximum has the last word
        xp.equal(windows[k], y, out=hit)
        xp.subtract(arg, k, out=step)    # arg >= k here, so no wrap-around
        step *= hit
        arg -= step                      # arg = k where hit (masked copies are far slower)
    return arg
