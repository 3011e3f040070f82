"""The book's trained weights: reading its pickles safely, converting them, loading them into zerodl.

The book ships ``ch03/sample_weight.pkl``, ``ch07/params.pkl`` and
``ch08/deep_convnet_params.pkl``: pickles of a dict of NumPy arrays
(``{'W1': ..., 'b1': ..., ...}``). A pickle can run any code when it is
loaded, so zerodl reads them with a restricted unpickler that admits only
what such a file holds (dicts, lists, tuples, numbers, strings, NumPy arrays
and dtypes, and the functions NumPy's pickles rebuild arrays with) and
refuses anything else, naming it, before it is called. Nothing else in
zerodl unpickles.

    params = load_params("deep_convnet_params.pkl")     # dict of arrays
    convert("deep_convnet_params.pkl")                  # -> deep_convnet_params.npz, once
    model = load_into(nn.models.DeepConvNet(), "deep_convnet_params.npz")

``book_state_dict`` maps the book's names onto a zerodl model's (``W1`` is
the first weight, ``layers.0.W``, and so on in order) and folds in the book's
test-time dropout scaling (see its docstring).
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np

__all__ = ["UnsafePickleError", "load_params", "load_book_pickle", "convert", "save_params",
           "book_state_dict", "load_into"]


# The book's largest weight file (DeepConvNet, float64) is a few MB; a "weights" pickle
# of more than this is not the book's, and is not read into memory at all.
MAX_PICKLE_BYTES = 256 << 20


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for something other than plain data and NumPy arrays; nothing was run."""


def load_params(path) -> dict:
    """The dict of arrays in ``path``: the book's pickle (read safely) or zerodl's ``.npz``.

    The format is told by the file's first bytes, not its name: a file that
    ``save_params`` wrote under the book's name ``params.pkl`` is an npz.
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):  # a zip: .npz
        from .. import io as zio

        return zio.load(path)
    return load_book_pickle(path)


def load_book_pickle(path) -> dict:
    """Read a pickle of a dict of NumPy arrays (the book's ``.pkl`` files) without running code.

    Raises ``UnsafePickleError`` naming the first class or function the file
    asks for that is not plain data, a NumPy array or a dtype (``posix.system``,
    ``builtins.eval``, any user class): a file that does so is not the book's.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_PICKLE_BYTES:
        raise UnsafePickleError(
            f"load_book_pickle: {path} has {size:,} bytes, more than the "
            f"{MAX_PICKLE_BYTES:,} any of the book's weight files needs; refusing to read it")
    data = path.read_bytes()
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), path).load()
        if not isinstance(obj, dict):
            raise TypeError(f"load_book_pickle: {path} holds a {type(obj).__name__}, "
                            "not the book's dict of arrays")
        _check_plain(obj, path)
    except UnsafePickleError as e:
        if str(e).startswith("load_book_pickle:"):
            raise
        raise UnsafePickleError(f"load_book_pickle: {path}: {e}") from None
    except RecursionError:
        raise UnsafePickleError(f"load_book_pickle: {path} nests its data too deeply to be "
                                "the book's dict of arrays") from None
    except TypeError:
        raise
    except Exception as e:  # truncated or not a pickle at all
        raise pickle.UnpicklingError(
            f"load_book_pickle: {path} is not a readable pickle of arrays "
            f"({type(e).__name__}: {e})") from e
    return {key: (np.array(v) if isinstance(v, np.ndarray) else v) for key, v in obj.items()}


def convert(pkl_path, npz_path=None) -> Path:
    """Convert the book's pickle to zerodl's ``.npz`` once (default: same name, ``.npz``).

    The npz is written to a temporary file and renamed into place, and it is
    read back with ``allow_pickle=False``: from then on no pickle is needed.
    Returns the npz's path.
    """
    pkl_path = Path(pkl_path)
    npz_path = pkl_path.with_suffix(".npz") if npz_path is None else Path(npz_path)
    return save_params(load_book_pickle(pkl_path), npz_path)


def save_params(params: dict, path) -> Path:
    """Write a dict of arrays to ``path`` as zerodl's npz, atomically (temporary file + rename).

    The networks' ``save_params`` use it, whatever the file's name: zerodl never writes a pickle.
    """
    from .. import io as zio

    return zio.save({key: np.asarray(value) for key, value in params.items()}, path)


def book_state_dict(params: dict, model, output_dropout: float | None = None) -> OrderedDict:
    """The book's ``params`` (W1, b1, gamma1, ...) as ``model.state_dict()`` keys, ready to load.

    The k-th Linear or Conv2d of ``model`` (in order) gets ``Wk`` and ``bk``; a
    BatchNorm after the k-th affine layer gets ``gammak`` and ``betak``
    (the book's numbering). Shapes must match exactly.

    Dropout: the book's is non-inverted (test time multiplies by 1 - ratio),
    zerodl's is inverted (test time is the identity). So the weight that
    follows a Dropout(p) is multiplied by 1 - p, which makes zerodl's
    evaluation compute the book's test-time function. The book's DeepConvNet
    also drops out its output (logits × 0.5 at test time) where zerodl's
    does not: ``output_dropout`` (0.5 for ``nn.models.DeepConvNet``, else 0)
    multiplies the last weight and bias by 1 - output_dropout as well, so the
    last weight gets 0.5 · 0.5 = 0.25 and the last bias 0.5, and zerodl's
    logits equal the book's ``predict(x, train_flg=False)``.
    """
    from ..nn.layers import Conv2d, Dropout, Linear, _BatchNorm
    from ..nn.models import DeepConvNet

    if output_dropout is None:
        output_dropout = 0.5 if isinstance(model, DeepConvNet) else 0.0
    state, used = OrderedDict(), set()
    k, keep, last = 0, 1.0, None
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(module, (Linear, Conv2d)):
            k += 1
            last = (f"{prefix}W", f"{prefix}b")
            state[last[0]] = _take(params, f"W{k}", used) * keep
            if module.b is not None:
                state[last[1]] = _take(params, f"b{k}", used)
            keep = 1.0
        elif isinstance(module, _BatchNorm):
            state[f"{prefix}gamma"] = _take(params, f"gamma{k}", used)
            state[f"{prefix}beta"] = _take(params, f"beta{k}", used)
        elif isinstance(module, Dropout):
            keep *= 1.0 - module.p
    if last is None:
        raise ValueError(f"book_state_dict: {type(model).__name__} has no Linear or Conv2d layer")
    if output_dropout:
        for key in last:
            if key in state:
                state[key] = state[key] * (1.0 - output_dropout)
    unused = sorted(set(params) - used)
    if unused:
        raise KeyError(f"book_state_dict: {type(model).__name__} has no place for {unused} "
                       f"(it takes {sorted(used)}); is this the right network?")
    _check_shapes(state, model)
    return state


def load_into(model, path, output_dropout: float | None = None):
    """Load the book's weights file (pickle or npz) into ``model``; returns the model.

    ``model`` must have the book network's shape: ``nn.models.MLP([784, 50, 100, 10],
    activation="sigmoid")`` for ``sample_weight.pkl``, ``nn.models.SimpleConvNet()``
    for ``params.pkl``, ``nn.models.DeepConvNet()`` for ``deep_convnet_params.pkl``.
    Evaluate it with ``model.eval()`` (dropout off). See ``book_state_dict``.
    """
    model.load_state_dict(book_state_dict(load_params(path), model, output_dropout), strict=False)
    return model


# ---------------------------------------------------------------- the restricted unpickler
def _reconstruct(subtype, shape, dtype):
    """NumPy's array rebuilder, for ndarray itself only (not a subclass that might run code).

    NumPy's pickles always ask it for an empty array and then fill it from the
    bytes in the file; any other shape is refused, so a file of a few bytes
    cannot make the loader allocate gigabytes.
    """
    if subtype is not _ARRAY_CLASS:
        raise UnsafePickleError(f"refusing to rebuild an array of class {subtype!r}")
    if np.prod(shape) != 0:
        raise UnsafePickleError(f"refusing to rebuild an array of shape {shape}: NumPy's pickles "
                                "start from an empty one and fill it from the file")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


class _ArrayClass:
    """What a pickle gets for ``numpy.ndarray``: the name ``_reconstruct`` is given, never
    a constructor (``numpy.ndarray(shape)`` would allocate any size, uninitialised)."""

    def __call__(self, *args, **kwargs):
        raise UnsafePickleError("refusing to call numpy.ndarray directly (NumPy's pickles never do)")


_ARRAY_CLASS = _ArrayClass()


def _dtype(*args):
    d = np.dtype(*args)
    if d.hasobject:
        raise UnsafePickleError(f"refusing an array of Python objects (dtype {d})")
    return d


def _latin1(text, encoding="latin1"):
    """Python 3's protocol-2 spelling of a bytes object: ``_codecs.encode(text, 'latin1')``."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise UnsafePickleError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_SAFE = {}
for _core in ("numpy.core", "numpy._core"):
    _SAFE[(f"{_core}.multiarray", "_reconstruct")] = _reconstruct
    _SAFE[(f"{_core}.multiarray", "scalar")] = "scalar"
    _SAFE[(f"{_core}.numeric", "_frombuffer")] = "_frombuffer"
_SAFE[("numpy", "ndarray")] = _ARRAY_CLASS
_SAFE[("numpy", "dtype")] = _dtype
_SAFE[("_codecs", "encode")] = _latin1
_SAFE[("collections", "OrderedDict")] = OrderedDict


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path):
        super().__init__(file, encoding="latin1")  # latin1: Python 2 pickles of arrays too
        self.path = path

    def find_class(self, module, name):
        safe = _SAFE.get((module, name))
        if safe is None:
            raise UnsafePickleError(
                f"load_book_pickle: {self.path} asks for {module}.{name}, which is not a NumPy "
                "array, a dtype or plain data; refusing to load it (a pickle can run code). "
                "The book's weight files hold only a dict of arrays: get them from the book's "
                "repository, or convert trusted files with zerodl.book.weights.convert"
            )
        if isinstance(safe, str):  # NumPy's own pure rebuilders, looked up where this NumPy keeps them
            return _numpy_function(safe)
        return safe


def _numpy_function(name):
    try:
        from numpy._core import multiarray, numeric
    except ImportError:  # NumPy 1
        from numpy.core import multiarray, numeric
    return multiarray.scalar if name == "scalar" else numeric._frombuffer


def _check_plain(obj, path, where="params") -> None:
    """Only dicts, lists, tuples, numbers, strings, bytes, None and numeric arrays."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            _check_plain(key, path, where)
            _check_plain(value, path, f"{where}[{key!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _check_plain(value, path, f"{where}[{i}]")
    elif isinstance(obj, np.ndarray):
        if obj.dtype.hasobject or type(obj) is not np.ndarray:
            raise UnsafePickleError(f"load_book_pickle: {path}: {where} is not a plain numeric array")
    elif not isinstance(obj, (str, bytes, int, float, complex, bool, np.generic, type(None))):
        raise UnsafePickleError(f"load_book_pickle: {path}: {where} is a {type(obj).__name__}")


# ---------------------------------------------------------------- helpers
def _take(params: dict, key: str, used: set) -> np.ndarray:
    if key not in params:
        raise KeyError(f"book_state_dict: the weights have no {key!r} (they have {sorted(params)})")
    used.add(key)
    return np.asarray(params[key])


def _check_shapes(state: dict, model) -> None:
    own = model.state_dict()
    bad = [f"{key}: model {own[key].shape}, weights {value.shape}"
           for key, value in state.items() if own[key].shape != value.shape]
    if bad:
        raise ValueError("book_state_dict: shapes differ: " + "; ".join(bad))
