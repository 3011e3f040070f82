"""Reductions and shape operations: sum, mean, max, reshape, transpose, broadcasting,
concatenation, padding and indexing.

Broadcasting and summing are each other's backward: an input broadcast to a
larger shape was used in many places, so its gradient is the sum of those
places (``sum_to``); a sum sends its gradient back to every summed element
(``broadcast_to``).
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..autograd import Function, Tensor, apply, arrays_or_tensors, as_tensor
from ..backend import get_array_module, is_array


# ------------------------------------------------------------ reductions
class Sum(Function):
    """y = Σ x over ``axis`` (all by default): every summed element gets the gradient gy."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axis = normalize_axis(self.axis, x.ndim)
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        shape = self.inputs[0].shape
        return apply(BroadcastTo(shape), gy.reshape(_grad_shape(shape, self.axis)))


class Max(Function):
    """y = max x over ``axis``. The gradient goes to the maximal elements; tied maxima
    share it equally (as PyTorch's amax), so the gradient of a sum of maxima stays exact."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axis = normalize_axis(self.axis, x.ndim)
        y = x.max(axis=self.axis, keepdims=True)
        mask = (x == y).astype(x.dtype)  # in x's dtype: no float64 temporary in a float32 graph
        self.share = mask / mask.sum(axis=self.axis, keepdims=True)
        return y if self.keepdims else y.reshape(
            tuple(s for i, s in enumerate(x.shape) if self.axis is not None and i not in self.axis))

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        shape = self.inputs[0].shape
        return gy.reshape(_grad_shape(shape, self.axis)) * self.share  # broadcasts to x's shape


class Min(Max):
    """y = min x over ``axis``; tied minima share the gradient equally."""

    def forward(self, x):
        return -super().forward(-x)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Σ x over ``axis`` (an int, a tuple, or None for all elements)."""
    return Sum(axis, keepdims)(x)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``: sum / number of elements summed."""
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim, "mean")
    count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
    return Sum(axes, keepdims)(x) * (1.0 / builtins.max(count, 1))


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient."""
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient."""
    return Min(axis, keepdims)(x)


def normalize_axis(axis, ndim: int, op: str | None = None):
    """``axis`` (None, an int or a tuple) as a tuple of non-negative axes, checked against ndim.

    An axis out of range is a ValueError; ``op`` names the operation in it when
    the caller is no Function (a Function's call adds its name and shapes itself).
    """
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            message = (f"axis {a} is out of range for a tensor with {ndim} dimensions "
                       f"(use {-ndim} to {ndim - 1})")
            raise ValueError(f"{op}: {message}" if op else message)
        out.append(a % builtins.max(ndim, 1))
    return tuple(out)


def _grad_shape(x_shape, axis):
    """Shape of a reduction's result with the reduced axes kept as size 1."""
    if axis is None:
        return (1,) * len(x_shape)
    return tuple(1 if i in axis else s for i, s in enumerate(x_shape))


# ------------------------------------------------------------ shapes
class Reshape(Function):
    """y = x viewed with a new shape; the gradient is reshaped back."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape {x.shape} ({x.size} elements) to {self.shape}"
            ) from None

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return gy.reshape(self.inputs[0].shape)


class Transpose(Function):
    """y = x with axes permuted (reversed by default); the gradient is permuted back."""

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        if self.axes is not None and sorted(a % x.ndim for a in self.axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {self.axes} are not a permutation of {x.ndim} axes")
        return x.transpose(self.axes)

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        if self.axes is None:
            return gy.transpose()
        ndim = len(self.axes)
        inverse = tuple(sorted(range(ndim), key=lambda i: self.axes[i] % ndim))
        return gy.transpose(inverse)


class BroadcastTo(Function):
    """y = x repeated along broadcast axes to ``shape``; the gradient is summed back (sum_to)."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return _broadcast_array(x, self.shape)

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return sum_to(gy, self.inputs[0].shape)


class SumTo(Function):
    """y = x summed over the axes broadcasting would have added; backward broadcasts back."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return _summed_to(x, self.shape)

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return apply(BroadcastTo(self.inputs[0].shape), gy)


def reshape(x, *shape) -> Tensor:
    """x with a new shape (``-1`` infers one dimension)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    x = as_tensor(x)
    if x.shape == shape:
        return x
    return Reshape(shape)(x)


def transpose(x, axes=None) -> Tensor:
    """x with its axes permuted; reversed when ``axes`` is None (``x.T``)."""
    return Transpose(None if axes is None else tuple(axes))(x)


def broadcast_to(x, shape) -> Tensor:
    """x broadcast to ``shape`` (NumPy's rules): every element of x used in many places.

    The inverse of ``sum_to``.
    """
    x = as_tensor(x)
    if x.shape == tuple(shape):
        return x
    return BroadcastTo(shape)(x)


def sum_to(x, shape):
    """x summed over the axes that broadcasting added or stretched, so that it has ``shape``.

    The inverse of broadcasting: an input broadcast to a larger shape was used in
    many places, so its gradient is the sum over those places. Every binary
    operation's backward ends with it. An array (NumPy or CuPy) gives an array,
    a Tensor a Tensor, so backward rules use it on either.
    """
    if getattr(x, "shape", None) == shape:  # nothing was broadcast: the usual case in a rule
        return x
    shape = tuple(shape)
    if isinstance(x, Tensor):
        return x if x.shape == shape else SumTo(shape)(x)
    if is_array(x):
        return _summed_to(x, shape)
    return sum_to(as_tensor(x), shape)


def _summed_to(x, shape: tuple):
    """``sum_to`` on an array."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to: cannot sum shape {x.shape} to the larger shape {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    y = x.sum(axis=axes, keepdims=True) if axes else x
    try:
        return y.reshape(shape)
    except ValueError:
        raise ValueError(f"sum_to: cannot sum shape {x.shape} to shape {shape}") from None


def _broadcast_array(x, shape: tuple):
    """``broadcast_to`` on an array."""
    try:
        return get_array_module(x).broadcast_to(x, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast {x.shape} to {shape}") from None


# ------------------------------------------------------------ joining and padding
class Concat(Function):
    """y = the inputs joined along ``axis``; each input's gradient is its slice of gy."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        normalize_axis(self.axis, xs[0].ndim)  # an axis out of range is no shape mismatch
        xp = get_array_module(xs[0])
        try:
            return xp.concatenate(xs, axis=self.axis)
        except ValueError:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise ValueError(f"concat: shapes {shapes} differ outside axis {self.axis}") from None

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        axis = self.axis % gy.ndim
        grads, start = [], 0
        for x in self.inputs:
            stop = start + x.shape[axis]
            index = (slice(None),) * axis + (slice(start, stop),)
            grads.append(gy[index])
            start = stop
        return tuple(grads)


class Stack(Function):
    """y = the inputs stacked along a new ``axis``; each input's gradient is gy at its index."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        normalize_axis(self.axis, xs[0].ndim + 1)  # the new axis may also be the last
        xp = get_array_module(xs[0])
        try:
            return xp.stack(xs, axis=self.axis)
        except ValueError:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise ValueError(f"stack: all shapes must be equal, got {shapes}") from None

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        axis = self.axis % gy.ndim
        return tuple(gy[(slice(None),) * axis + (i,)] for i in range(len(self.inputs)))


class Pad(Function):
    """y = x with zeros (or ``value``) added around it; the gradient is the inner slice of gy."""

    def __init__(self, pad_width, value=0.0):
        self.pad_width, self.value = pad_width, value

    def forward(self, x):
        xp = get_array_module(x)
        self.pad_width = _pad_pairs(self.pad_width, x.ndim)
        return xp.pad(x, self.pad_width, mode="constant", constant_values=self.value)

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        index = tuple(slice(lo, gy.shape[i] - hi) for i, (lo, hi) in enumerate(self.pad_width))
        return gy[index]


def _pad_pairs(pad_width, ndim):
    if isinstance(pad_width, int):
        return ((pad_width, pad_width),) * ndim
    pairs = tuple((p, p) if isinstance(p, int) else tuple(p) for p in pad_width)
    if len(pairs) != ndim:
        raise ValueError(f"pad: pad_width has {len(pairs)} entries for a tensor with {ndim} axes")
    return pairs


def concat(xs, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``np.concatenate``)."""
    return Concat(axis)(*xs)


def stack(xs, axis: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new axis (``np.stack``)."""
    return Stack(axis)(*xs)


def pad(x, pad_width, value: float = 0.0) -> Tensor:
    """Constant padding: ``pad_width`` is an int or one (before, after) pair per axis."""
    return Pad(pad_width, value)(x)


# ------------------------------------------------------------ indexing
class GetItem(Function):
    """y = x[index] for slices, integers, integer arrays or boolean masks.

    Backward scatters gy into zeros of x's shape; repeated integer indices
    *add* (``np.add.at``), because that element was used several times.
    """

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return apply(GetItemGrad(self.index, self.inputs[0].shape), gy)


class GetItemGrad(Function):
    """The backward of GetItem as an operation of its own, so it can be differentiated again."""

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _has_integer_array(self.index):
            xp.add.at(gx, self.index, gy)
        else:  # slices and masks select each element at most once
            gx[self.index] = gy
        return gx

    def backward(self, gy):
        gy, = arrays_or_tensors(gy)
        return gy[self.index]


def _has_integer_array(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if isinstance(p, list) or (hasattr(p, "dtype") and p.dtype.kind in "iu"):
            return True
    return False


def getitem(x, index) -> Tensor:
    """x[index] with a gradient (slices, ints, integer arrays, boolean masks)."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    xp = get_array_module(x)
    if xp is not np:  # index arrays go where x is (CuPy's add.at wants them there)
        index = _index_on(xp, index)
    return GetItem(index)(x)


def _index_on(xp, index):
    """``index`` with its NumPy arrays and lists of ints as ``xp`` arrays (slices and ints unchanged)."""
    if isinstance(index, tuple):
        return tuple(_index_on(xp, i) for i in index)
    if isinstance(index, (list, np.ndarray)):
        return xp.asarray(index)
    return index
