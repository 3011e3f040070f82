"""A strict stand-in for CuPy that computes with NumPy: the GPU code paths, tested on a CPU.

Used only by tests/test_gpu_standin.py, which puts this folder first on PYTHONPATH so
that ``import cupy`` finds it. It imitates what catches device bugs without a GPU:

- ``cupy.ndarray`` is not a ``numpy.ndarray``, and ``np.asarray(gpu_array)`` raises
  TypeError: CuPy never copies to the host implicitly;
- a NumPy array mixed into an operation on GPU arrays raises TypeError, as in CuPy
  (Python and NumPy scalars are fine; ``asarray``/``array`` take NumPy input: that
  is the host-to-device copy);
- an array's ``.data`` is a raw pointer, ``.flags`` has no ``writeable``, and
  ``max``/``min`` take no ``initial``, as in CuPy.

It does not imitate CUDA numerics (the values are NumPy's): tests/test_gpu.py on a
real GPU checks those.
"""

from __future__ import annotations

import types

import numpy as _np

__version__ = "0+standin"


def _refuse(x) -> None:
    raise TypeError(f"Unsupported type {type(x)}")


def _unwrap(x, strict: bool = True):
    """GPU arrays to their NumPy arrays, in nested tuples/lists/dicts; NumPy arrays refused."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _np.ndarray) and strict:
        _refuse(x)
    if isinstance(x, tuple):
        return tuple(_unwrap(i, strict) for i in x)
    if isinstance(x, list):
        return [_unwrap(i, strict) for i in x]
    if isinstance(x, dict):
        return {k: _unwrap(v, strict) for k, v in x.items()}
    return x


def _wrap(r):
    """NumPy results as GPU arrays; reductions give 0-d arrays, not scalars, as in CuPy."""
    if isinstance(r, _np.ndarray):
        return ndarray(r)
    if isinstance(r, _np.generic):
        return ndarray(_np.asarray(r))
    if isinstance(r, tuple):
        return tuple(_wrap(i) for i in r)
    if isinstance(r, list):
        return [_wrap(i) for i in r]
    return r


def _index(index):
    """Indices may hold NumPy arrays: CuPy accepts those (and its own)."""
    return _unwrap(index, strict=False)


class _Pointer:
    def __init__(self, a):
        self.ptr = a.__array_interface__["data"][0]


class _Flags:
    def __init__(self, a):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.base is None


_BASES: dict = {}  # one GPU array object per base buffer, as CuPy keeps ``.base``


class ndarray:
    """A "GPU" array: a NumPy array behind CuPy's interface and strictness."""

    __array_priority__ = 100
    __hash__ = None

    def __init__(self, a):
        object.__setattr__(self, "_a", a)

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    T = property(lambda self: ndarray(self._a.T))
    data = property(lambda self: _Pointer(self._a))
    flags = property(lambda self: _Flags(self._a))

    @property
    def base(self):
        if self._a.base is None:
            return None
        root = self._a
        while isinstance(root.base, _np.ndarray):
            root = root.base
        if id(root) not in _BASES:
            _BASES[id(root)] = (root, ndarray(root))
        return _BASES[id(root)][1]

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "version": 3, "strides": None,
                "data": (self._a.__array_interface__["data"][0], False)}

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def get(self):
        return self._a.copy()

    def max(self, axis=None, out=None, keepdims=False):
        r = self._a.max(axis=axis, out=None if out is None else _unwrap(out), keepdims=keepdims)
        return _wrap(r) if out is None else out

    def min(self, axis=None, out=None, keepdims=False):
        r = self._a.min(axis=axis, out=None if out is None else _unwrap(out), keepdims=keepdims)
        return _wrap(r) if out is None else out

    def __getattr__(self, name):
        if name.startswith("__"):  # no __array_interface__: NumPy must not read the buffer
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):  # .T, .real: arrays stay on the "GPU"; .shape, .dtype as they are
            return _wrap(attr) if isinstance(attr, _np.ndarray) else attr

        def method(*args, **kwargs):
            r = attr(*_unwrap(args), **_unwrap(kwargs))
            return self if r is self._a else _wrap(r)  # astype(copy=False) returns itself
        return method

    def __len__(self):
        return len(self._a)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __repr__(self):
        return "standin." + repr(self._a)

    def __format__(self, spec):
        return format(self._a, spec)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __getitem__(self, index):
        return _wrap(self._a[_index(index)])

    def __setitem__(self, index, value):
        if isinstance(value, _np.ndarray):
            _refuse(value)
        self._a[_index(index)] = _unwrap(value)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop("out", ())
        for x in inputs + tuple(out):
            if isinstance(x, _np.ndarray):
                _refuse(x)
        args = [_unwrap(x) for x in inputs]
        if method == "at":
            args[1] = _index(inputs[1])
        if out:
            kwargs["out"] = tuple(_unwrap(o) for o in out)
        r = getattr(ufunc, method)(*args, **kwargs)
        if out:
            return out[0] if len(out) == 1 else out
        return _wrap(r)

    def __array_function__(self, func, types_, args, kwargs):
        if func in (_np.shape, _np.ndim, _np.size):
            return func(*_unwrap(args, strict=False), **kwargs)
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))


def _operator(ufunc, reflected=False):
    return (lambda self, other: ufunc(other, self)) if reflected else (lambda self, other: ufunc(self, other))


def _inplace(ufunc):
    def op(self, other):
        ufunc(self, other, out=self)
        return self
    return op


for _name, _ufunc in [("add", _np.add), ("sub", _np.subtract), ("mul", _np.multiply),
                      ("truediv", _np.divide), ("floordiv", _np.floor_divide), ("pow", _np.power),
                      ("matmul", _np.matmul), ("and", _np.bitwise_and), ("or", _np.bitwise_or),
                      ("xor", _np.bitwise_xor)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
    setattr(ndarray, f"__r{_name}__", _operator(_ufunc, reflected=True))
    setattr(ndarray, f"__i{_name}__", _inplace(_ufunc))
for _name, _ufunc in [("lt", _np.less), ("le", _np.less_equal), ("gt", _np.greater),
                      ("ge", _np.greater_equal), ("eq", _np.equal), ("ne", _np.not_equal)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
ndarray.__neg__ = lambda self: _np.negative(self)
ndarray.__pos__ = lambda self: self
ndarray.__abs__ = lambda self: _np.absolute(self)
ndarray.__invert__ = lambda self: _np.invert(self)


class _Ufunc:
    """A NumPy ufunc on GPU arrays (``cupy.add``), with ``at`` (``cupy.add.at``)."""

    def __init__(self, ufunc):
        self._u = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, out=None, **kwargs):
        r = self._u(*_unwrap(args), out=None if out is None else _unwrap(out), **_unwrap(kwargs))
        return _wrap(r) if out is None else out

    def at(self, a, index, b=None):
        self._u.at(_unwrap(a), _index(index), _unwrap(b))


def asarray(x, dtype=None, order=None):
    """Host to device (a copy) for NumPy input; GPU arrays stay (cast when ``dtype`` differs)."""
    if isinstance(x, ndarray):
        return x if dtype is None or x.dtype == _np.dtype(dtype) else ndarray(x._a.astype(dtype))
    return ndarray(_np.array(x, dtype=dtype, copy=True))


def array(x, dtype=None, copy=True, order="K", ndmin=0):
    return ndarray(_np.array(x._a if isinstance(x, ndarray) else x, dtype=dtype, copy=True, ndmin=ndmin))


def asnumpy(x):
    return x._a.copy() if isinstance(x, ndarray) else _np.asarray(x)


def _function(f):
    def on_gpu_arrays(*args, **kwargs):
        return _wrap(f(*_unwrap(args), **_unwrap(kwargs)))
    on_gpu_arrays.__name__ = getattr(f, "__name__", "function")
    return on_gpu_arrays


def __getattr__(name):
    """Every other NumPy name: ufuncs and functions on GPU arrays; types and constants as they are."""
    attr = getattr(_np, name)
    if isinstance(attr, _np.ufunc):
        return _Ufunc(attr)
    if isinstance(attr, type) or not callable(attr):
        return attr
    return _function(attr)


def _as_strided(x, shape=None, strides=None):
    return ndarray(_np.lib.stride_tricks.as_strided(_unwrap(x), shape=shape, strides=strides))


class _Device:
    def synchronize(self) -> None:
        pass


lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))
cuda = types.SimpleNamespace(
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, runtimeGetVersion=lambda: 0,
                                  getDeviceProperties=lambda i: {"name": b"CuPy stand-in"}),
    Device=lambda *args: _Device(),
    is_available=lambda: True,
)
