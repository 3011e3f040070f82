"""The sizes of a sliding-window operation (convolution, pooling, im2col) and its windows.

``Geometry.make`` checks a window, stride and padding against an input shape
and computes the output size, OH = (H + 2·pad - FH) // stride + 1 (the book's
ch. 7.4.2); its methods read the windows of a padded input as strided views.
Both the readable operations (``zerodl.functional.conv``/``pool``) and the
fast kernels use it.
"""

from __future__ import annotations

from ..backend import get_array_module


def pair(v, op: str, name: str) -> tuple[int, int]:
    """An int or an (h, w) pair, as two ints; ``op`` and ``name`` label the error."""
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


class Geometry:
    """Input (N, C, H, W), window FH×FW, stride (sh, sw), padding (ph, pw), padded Hp×Wp, output OH×OW."""

    __slots__ = ("N", "C", "H", "W", "FH", "FW", "sh", "sw", "ph", "pw",
                 "Hp", "Wp", "OH", "OW")

    @classmethod
    def make(cls, op: str, shape, FH: int, FW: int, stride, pad) -> Geometry:
        """The geometry of ``op`` on an input of ``shape``, or an error naming what is wrong."""
        if len(shape) != 4:
            raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(shape)}")
        g = cls()
        g.N, g.C, g.H, g.W = (int(s) for s in shape)
        g.FH, g.FW = int(FH), int(FW)
        g.sh, g.sw = pair(stride, op, "stride")
        g.ph, g.pw = pair(pad, op, "pad")
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
    def stride(self) -> tuple[int, int]:
        return (self.sh, self.sw)

    @property
    def pad(self) -> tuple[int, int]:
        return (self.ph, self.pw)

    @property
    def padded(self) -> bool:
        return self.ph > 0 or self.pw > 0

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.C, self.H, self.W)

    def with_batch(self, n: int) -> Geometry:
        """The same geometry for a batch of ``n`` samples (a slice of this one's)."""
        g = Geometry()
        for name in Geometry.__slots__:
            setattr(g, name, getattr(self, name))
        g.N = int(n)
        return g

    def pad_input(self, x, value=0.0):
        """x (N, C, H, W) inside a contiguous (N, C, Hp, Wp) array filled with ``value``."""
        xp = get_array_module(x)
        if not self.padded:
            return xp.ascontiguousarray(x)
        out = xp.full((self.N, self.C, self.Hp, self.Wp), value, dtype=x.dtype)
        self.crop(out)[...] = x
        return out

    def crop(self, xpad):
        """The (N, C, H, W) interior of a padded array (a view)."""
        if not self.padded:
            return xpad
        return xpad[:, :, self.ph:self.ph + self.H, self.pw:self.pw + self.W]

    def window(self, xpad, i: int, j: int):
        """View of xpad at window offset (i, j): (n, c, oh, ow) is xpad[n, c, i + oh·sh, j + ow·sw]."""
        return xpad[:, :, i:i + self.sh * (self.OH - 1) + 1:self.sh,
                    j:j + self.sw * (self.OW - 1) + 1:self.sw]

    def fold(self, part_at, xp, dtype, out=None):
        """The adjoint of reading the windows: each offset's (N, C, OH, OW) ``part_at(i, j)``
        added at ``window(i, j)`` of a zero padded array (overlaps sum); returns the
        (N, C, H, W) interior, the padding dropped, as a new contiguous array or in ``out``."""
        xpad = xp.zeros((self.N, self.C, self.Hp, self.Wp), dtype=dtype)
        for i in range(self.FH):
            for j in range(self.FW):
                self.window(xpad, i, j)[...] += part_at(i, j)
        if out is None:
            return xp.ascontiguousarray(self.crop(xpad))
        out[...] = self.crop(xpad)
        return out
