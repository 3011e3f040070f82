"""The Tensor: an array that remembers how it was computed.

A ``Tensor`` holds an array (``.data``), whether it wants a gradient
(``.requires_grad``), the ``Function`` that made it (``.creator``, None for
tensors the user made) and, once ``backward()`` has run, the gradient of the
output with respect to it (``.grad``). Operators (``+ - * / @ **``) and methods
(``.sum()``, ``.reshape()``) are installed by ``zerodl.functional``, where each
operation is written; the graph walk itself is in ``zerodl.autograd``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from .backend import as_numpy, get_array_module, is_gpu_array

if TYPE_CHECKING:
    from .autograd import Function

DEFAULT_DTYPE = np.float32


class Tensor:
    """An array that remembers how it was computed, so gradients can flow back to it.

    ``Tensor(ndarray)`` keeps the array's dtype (float64 stays float64); Python
    numbers and lists become float32 unless ``dtype`` says otherwise.
    """

    __slots__ = ("data", "grad", "requires_grad", "creator", "generation", "name",
                 "_retain_grad", "__weakref__")
    # `ndarray + Tensor` must call Tensor.__radd__ (staying in the graph), not
    # let NumPy treat the Tensor as an object to broadcast over.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        arr = _to_array(data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype {arr.dtype}; "
                "pass dtype=np.float32 (or float64)"
            )
        self.data = arr
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self.creator: Function | None = None
        self.generation = 0
        self.name = name
        self._retain_grad = False

    # -- array-like facts
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def dtype(self):
        """The array's dtype (float32 unless made from a float64 array or asked for)."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (parameters, inputs), not by an operation."""
        return self.creator is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return self._repr_as("tensor")

    def _repr_as(self, name: str) -> str:
        """``name(values, dtype=…, grad_fn=<Op>)``, continuation rows aligned under the first.

        A tensor made by an operation names it (``grad_fn=<Mul>``, as PyTorch);
        a leaf that wants a gradient says ``requires_grad=True``.
        """
        prefix = f"{name}("
        body = np.array2string(as_numpy(self.data), separator=", ", prefix=prefix)
        extra = f", dtype={self.data.dtype}" if self.data.dtype != DEFAULT_DTYPE else ""
        if self.creator is not None:
            extra += f", grad_fn=<{type(self.creator).__name__}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"{prefix}{body}{extra})"

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a spec formats the value of a one-element tensor; without one,
        a 0-d tensor prints as its value and any other as its repr."""
        if spec or self.data.ndim == 0:
            return format(self._scalar("format"), spec)
        return repr(self)

    def __array__(self, dtype=None, copy=None):
        arr = as_numpy(self.data)
        if dtype is not None and arr.dtype != dtype:
            if copy is False:
                raise ValueError(
                    f"Tensor.__array__: casting {arr.dtype} to {np.dtype(dtype)} needs a copy, "
                    "but copy=False was asked"
                )
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"Tensor of shape {self.shape}: truth value is ambiguous; use t.data.any() or t.data.all()"
            )
        return bool(self.data)

    __hash__ = object.__hash__  # `==` builds a comparison Tensor, identity stays the hash

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied, on the CPU)."""
        return as_numpy(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python number (float, or int for integer data)."""
        return self._scalar("item")

    def _scalar(self, what: str):
        """The one element as a Python number; ``NotAScalarError`` naming ``what`` otherwise."""
        if self.data.size != 1:
            raise NotAScalarError(
                f"{what}: only a one-element tensor is a number; this one has shape {self.shape}, "
                f"{self.data.size} elements (reduce it first, e.g. .sum() or .mean(), or index "
                "one element)"
            )
        return self.data.item()

    def tolist(self):
        """The data as (nested) Python lists of numbers."""
        return as_numpy(self.data).tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no gradient flows through it)."""
        return Tensor(self.data)

    def astype(self, dtype) -> Tensor:
        """A copy cast to ``dtype``, cut from the graph."""
        return Tensor(self.data.astype(dtype))

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this intermediate tensor after ``backward()`` (leaves always keep it)."""
        self._retain_grad = True
        return self

    def zero_grad(self) -> None:
        """Forget the gradient (``.grad = None``), as before a new backward pass."""
        self.grad = None

    # -- backpropagation
    def backward(self, grad=None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires one.

        Gradients accumulate (``+=``) into each leaf's ``.grad``. ``grad`` is the
        upstream gradient (default 1 for a one-element tensor). The graph is
        freed as it is walked unless ``retain_graph=True``; ``create_graph=True``
        records the backward pass too, for higher-order derivatives.
        """
        _graph_walk()(self, grad, retain_graph=retain_graph, create_graph=create_graph)


class NotAScalarError(TypeError, ValueError):
    """``float()``, ``int()``, ``item()`` or a format spec on a tensor of more than one element.

    A TypeError (as Python's ``float([1, 2])``) and, for code written against
    older zerodl, a ValueError.
    """


def tensor(data, requires_grad: bool = False, dtype=None, name: str | None = None) -> Tensor:
    """Make a Tensor: ``zd.tensor([[1.0, 2.0]], requires_grad=True)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """Return ``x`` as a Tensor; a number or 0-d array takes ``like``'s float dtype.

    Scalars never upcast a tensor: float32 Tensor * np.float64(2.0) stays float32.
    """
    if isinstance(x, Tensor):
        return x
    if like is not None and like.data.dtype.kind == "f" and np.ndim(x) == 0 \
            and not is_gpu_array(x):
        xp = get_array_module(like.data)
        if xp is np:
            return _wrap(np.asarray(x, dtype=like.data.dtype))
        # On the GPU a kernel fills the scalar in: no host-to-device copy, which would wait for the GPU
        return _wrap(xp.full((), x, dtype=like.data.dtype))
    return _wrap(_to_array(x))


def _wrap(array) -> Tensor:
    """A Tensor around an operation's result, without __init__'s checks (hot path)."""
    if not hasattr(array, "shape") or isinstance(array, np.generic):
        array = np.asarray(array)
    t = Tensor.__new__(Tensor)
    t.data = array
    t.grad = None
    t.requires_grad = False
    t.creator = None
    t.generation = 0
    t.name = None
    t._retain_grad = False
    return t


@functools.cache
def _graph_walk():
    """``zerodl.autograd.backward``, found on first use: autograd imports this module."""
    from .autograd import backward

    return backward


def _to_array(data, dtype=None):
    """Make the array a Tensor holds: ndarrays keep their dtype, Python numbers become float32."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)) or is_gpu_array(data):
        xp = get_array_module(data)
        arr = xp.asarray(data)
        return arr if dtype is None else arr.astype(dtype, copy=False)
    arr = np.asarray(data, dtype=dtype)
    if dtype is None and arr.dtype.kind in "iuf":
        arr = arr.astype(DEFAULT_DTYPE)  # Python numbers and lists: float32, as the library's default
    return arr
