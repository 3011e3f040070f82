"""Pooling on (N, C, H, W) batches: the book's Pooling layer (ch. 7.5).

Max pooling keeps, per window, the largest value and remembers where it was,
so the backward pass sends each gradient there and nowhere else. Average
pooling spreads each window's gradient evenly over the window. Windows are
read through strided views of the input (no copies per window), and
non-overlapping windows, the common case, through a plain reshape.
"""

from __future__ import annotations

from ..autograd import Function, Tensor, as_tensor
from ..backend import get_array_module
from .conv import _Geometry, _pair


def max_pool2d(x, kernel_size, stride=None, pad=0) -> Tensor:
    """Max over each kernel_size window: the book's Pooling layer (ch. 7.5).

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows). Padding
    is -inf, so a padded position is never the maximum. The gradient goes to
    the maximum of each window; on ties, to the first maximum in row-major
    order within the window (as PyTorch). Overlapping windows (stride < kernel)
    add their gradients where they share the maximum.
    """
    x = as_tensor(x)
    kh, kw = _pair(kernel_size, "max_pool2d", "kernel_size")
    geom = _Geometry.make("max_pool2d", x.shape, kh, kw,
                          (kh, kw) if stride is None else stride, pad)
    _check_pool_pad("max_pool2d", geom)
    return MaxPool2d(geom)(x)


def avg_pool2d(x, kernel_size, stride=None, pad=0) -> Tensor:
    """Mean over each kernel_size window; ``stride`` defaults to ``kernel_size``.

    Zero padding counts in the divisor: every window divides by kh·kw
    (PyTorch's count_include_pad=True). The gradient of each window is spread
    evenly over its kh·kw positions.
    """
    x = as_tensor(x)
    kh, kw = _pair(kernel_size, "avg_pool2d", "kernel_size")
    geom = _Geometry.make("avg_pool2d", x.shape, kh, kw,
                          (kh, kw) if stride is None else stride, pad)
    _check_pool_pad("avg_pool2d", geom)
    return AvgPool2d(geom)(x)


# ---------------------------------------------------------------- pooling
def _check_pool_pad(op: str, g: _Geometry) -> None:
    if 2 * g.ph > g.FH or 2 * g.pw > g.FW:
        raise ValueError(
            f"{op}: pad {g.pad} is more than half the window {g.FH}x{g.FW}, so some windows "
            "would hold only padding; use pad <= kernel_size // 2"
        )


def _non_overlapping(g: _Geometry) -> bool:
    """Windows tile the input exactly: the (N, C, OH, kh, OW, kw) reshape applies."""
    return (g.sh, g.sw) == (g.FH, g.FW) and not g.padded \
        and g.H % g.FH == 0 and g.W % g.FW == 0


def _tiles(x, g: _Geometry):
    """(N, C, OH, kh, OW, kw) view of x for non-overlapping windows."""
    return x.reshape(g.N, g.C, g.OH, g.FH, g.OW, g.FW)


class MaxPool2d(Function):
    """The book's Pooling layer (ch. 7.5) with max; see ``max_pool2d``.

    Forward keeps, per output, the index (in the window, row-major) of the first
    maximum; backward sends each gradient there.
    """

    def __init__(self, geom: _Geometry):
        self.geom = geom

    def forward(self, x):
        windows = _windows(x, self.geom, pad_value=-get_array_module(x).inf)
        y, self.arg = _max_and_argmax(windows, self.needs_input_grad[0])
        return y

    def backward(self, gy):
        if self.arg is None:  # driven by hand after a call that recorded nothing
            self.arg = _max_and_argmax(_windows(self.inputs[0].data, self.geom, -float("inf")))[1]
        return _MaxPoolScatter(self.geom, self.arg)(gy)


def _windows(x, g: _Geometry, pad_value=0.0):
    """The kh·kw views of x, one per window offset, each (N, C, OH, OW) (no copies unless padded)."""
    if _non_overlapping(g):
        t = _tiles(x, g)
        return [t[:, :, :, i, :, j] for i in range(g.FH) for j in range(g.FW)]
    xpad = g.pad_input(x, value=pad_value)
    return [g.window(xpad, i, j) for i in range(g.FH) for j in range(g.FW)]


def _max_and_argmax(windows, want_arg: bool = True):
    """Elementwise max over the window views, and the index of the first view holding it."""
    xp = get_array_module(windows[0])
    y = xp.array(windows[0], copy=True)
    for w in windows[1:]:
        xp.maximum(y, w, out=y)
    return y, (_first_argmax(windows, y) if want_arg else None)


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


class _MaxPoolScatter(Function):
    """gy (N, C, OH, OW) -> gx (N, C, H, W): each gradient to its window's argmax."""

    def __init__(self, geom, arg):
        self.geom, self.arg = geom, arg

    def forward(self, gy):
        g, arg = self.geom, self.arg
        xp = get_array_module(gy)
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

    def backward(self, ggx):
        return _MaxPoolGather(self.geom, self.arg)(ggx)


class _MaxPoolGather(Function):
    """x (N, C, H, W) -> (N, C, OH, OW): the value at each window's saved argmax."""

    def __init__(self, geom, arg):
        self.geom, self.arg = geom, arg

    def forward(self, x):
        g, arg = self.geom, self.arg
        xp = get_array_module(x)
        y = xp.zeros(arg.shape, dtype=x.dtype)
        for k, w in enumerate(_windows(x, g)):
            xp.copyto(y, w, where=arg == k)
        return y

    def backward(self, gy):
        return _MaxPoolScatter(self.geom, self.arg)(gy)


class AvgPool2d(Function):
    """Pooling with the mean (ch. 7.5 mentions it); see ``avg_pool2d``."""

    def __init__(self, geom: _Geometry):
        self.geom = geom

    def forward(self, x):
        g = self.geom
        xp = get_array_module(x)
        scale = x.dtype.type(1.0 / (g.FH * g.FW))
        windows = _windows(x, g)
        y = xp.array(windows[0], copy=True)
        for w in windows[1:]:
            y += w
        y *= scale
        return y

    def backward(self, gy):
        return _AvgPoolSpread(self.geom)(gy)


class _AvgPoolSpread(Function):
    """gy (N, C, OH, OW) -> gx (N, C, H, W): each window's gradient / (kh·kw) to its positions."""

    def __init__(self, geom):
        self.geom = geom

    def forward(self, gy):
        g = self.geom
        xp = get_array_module(gy)
        share = gy * gy.dtype.type(1.0 / (g.FH * g.FW))
        if _non_overlapping(g):
            gx = xp.empty((g.N, g.C, g.H, g.W), dtype=gy.dtype)
            _tiles(gx, g)[...] = share[:, :, :, None, :, None]
            return gx
        return g.fold(lambda i, j: share, xp, gy.dtype)

    def backward(self, ggx):
        return AvgPool2d(self.geom)(ggx)


Pooling = MaxPool2d  # the book's name (ch. 7.5: max pooling)
