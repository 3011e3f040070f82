"""Parameter files and checkpoints: ``zd.io.save(state, path)`` and ``zd.io.load(path)``.

``state`` is a dict, nested as deep as you like, of arrays (or Tensors),
numbers, strings, booleans, None and lists of those: a ``model.state_dict()``,
an optimizer's ``state_dict()``, or a checkpoint holding both and the epoch.

The file is a ``.npz`` (a zip of ``.npy`` arrays, readable with ``np.load``):
each array is stored under its dotted path (``model.layers.0.W``), and one
JSON entry records the nesting and every non-array value, so ``load`` gives
back the same structure. Nothing is pickled, and loading never unpickles
(object arrays are refused): a parameter file cannot run code. A path ending
in ``.safetensors`` writes that format instead (needs ``pip install 'zerodl[io]'``).

Writes go to a temporary file in the same folder that is renamed into place
(zerodl.files), so an interrupted save never leaves a half-written file under
the real name; a full disk or read-only folder raises ``WriteError``.
Every array is checked on load (zip CRC-32, or a CRC-32, dtype and shape
recorded in the safetensors metadata); a damaged or truncated file raises
``CorruptFileError`` naming the file, never partial data.

Loading reads no more than the file's own headers promise, and never more
than ``max_bytes`` of arrays (default ``MAX_LOAD_BYTES``, 4 GiB, or
``$ZERODL_MAX_LOAD_BYTES``); without an explicit limit, no compressed entry
may inflate more than ``npz.MAX_INFLATION`` (200) times. A small file that
would inflate to gigabytes is refused before it is read, with ``FileTooLargeError``.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .backend import as_numpy
from .files import WriteError, atomic_write
from .npz import MAX_INFLATION, MAX_RECORD_BYTES, TooLarge, read_npz
from .optional import MissingExtra

__all__ = ["save", "load", "save_model", "load_model", "budget_for", "atomic_write",
           "CorruptFileError", "FileTooLargeError", "WriteError", "MAX_LOAD_BYTES"]

MAX_LOAD_BYTES = 4 << 30  # array bytes one load may allocate ($ZERODL_MAX_LOAD_BYTES overrides)

_META = "__zerodl__"
_META_CRC = "__zerodl_crc32__"
_FORMAT = "zerodl"
_VERSION = 1


class CorruptFileError(ValueError):
    """A parameter file that is truncated, damaged, or not what zerodl wrote."""


class FileTooLargeError(CorruptFileError):
    """A parameter file whose arrays would take more memory than the load allows (``max_bytes``)."""


def save(state: dict, path) -> Path:
    """Write ``state`` (a nested dict of arrays, numbers, strings, lists) to ``path`` atomically.

    ``.safetensors`` paths get that format; any other path gets a ``.npz``
    (written to exactly that path, no suffix added). Returns the path.
    Raises ``WriteError`` (an OSError) when the disk is full or the folder
    cannot be written; the old file is then left as it was.
    """
    if not isinstance(state, dict):
        raise TypeError(f"zd.io.save: state must be a dict, got {type(state).__name__}")
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, [], arrays)
    header = {"format": _FORMAT, "version": _VERSION, "tree": tree}
    if path.suffix == ".safetensors":
        atomic_write(path, lambda f: _write_safetensors(f, arrays, header), "zd.io.save")
    else:
        atomic_write(path, lambda f: _write_npz(f, arrays, header), "zd.io.save")
    return path


def load(path, max_bytes: int | None = None) -> dict:
    """Read a file written by ``save`` (or any ``.npz`` of arrays) back into its nested dict.

    At most ``max_bytes`` bytes of arrays are read (default ``MAX_LOAD_BYTES``
    or ``$ZERODL_MAX_LOAD_BYTES``), each no larger than its header promises;
    without either, no compressed entry of over 64 MiB may inflate more than
    200 times (a bomb: only near-constant data compresses so well).
    Raises ``CorruptFileError`` (a ValueError) naming the file when it is
    truncated or damaged, its subclass ``FileTooLargeError`` when it holds
    more than ``max_bytes``; FileNotFoundError when it does not exist.
    """
    path = Path(path)
    limit = _limit(max_bytes)
    with open(path, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise CorruptFileError(f"zd.io.load: {path} is not a regular file; "
                                   "give the path of a parameter file")
        try:
            if path.suffix == ".safetensors":
                arrays, header = _read_safetensors(f, limit)
            else:
                arrays, header = _read_npz(f, limit, explicit=max_bytes is not None
                                           or bool(os.environ.get("ZERODL_MAX_LOAD_BYTES")))
            if header is None:  # a plain .npz of arrays, or foreign .safetensors
                return dict(arrays)
            used: set = set()
            state = _decode(header["tree"], arrays, used)
            if used != set(arrays):
                raise ValueError(f"arrays not in the record: {sorted(set(arrays) - used)}")
            return state
        except (ImportError, MemoryError):  # a missing extra, or this machine: not the file
            raise
        except TooLarge as e:
            raise FileTooLargeError(
                f"zd.io.load: {path} was not loaded: {e}. If the file is genuine, "
                f"allow more: zd.io.load(path, max_bytes=...) or ZERODL_MAX_LOAD_BYTES"
            ) from None
        except Exception as e:  # zipfile, zlib, numpy, json and safetensors errors alike
            raise CorruptFileError(
                f"zd.io.load: {path} is damaged or truncated and was not loaded "
                f"({type(e).__name__}: {e}); save it again or use another copy"
            ) from e


def save_model(model, path) -> Path:
    """Save ``model.state_dict()`` (parameters and buffers) to ``path``."""
    return save(model.state_dict(), path)


def load_model(model, path, strict: bool = True):
    """Load parameters saved by ``save_model`` into ``model`` (``load_state_dict``); returns it.

    With ``strict=True`` the file may hold no more than ``budget_for(model)``
    bytes of arrays: a file far larger than the model is refused before it is read.
    """
    max_bytes = budget_for(model) if strict else None
    model.load_state_dict(load(path, max_bytes=max_bytes), strict=strict)
    return model


def budget_for(model, copies: int = 1, extra: int = 1 << 20) -> int:
    """The ``max_bytes`` that a file of ``copies`` states of ``model`` can need.

    Every parameter and buffer counted at 8 bytes (float64, the widest a model
    holds), times ``copies`` (3 for a model with Adam's two moments), plus
    ``extra`` bytes for other arrays.
    """
    elements = sum(int(np.size(p.data)) for _, p in model.named_parameters())
    elements += sum(int(np.size(b)) for _, b in model.named_buffers())
    return copies * 8 * elements + extra


# ---------------------------------------------------------------- the tree
def _encode(obj, keys: list, arrays: dict):
    """JSON for ``obj`` with each array replaced by {"$array": entry name}, stored in ``arrays``."""
    if hasattr(obj, "shape") and not isinstance(obj, np.generic):
        arr = as_numpy(obj)  # a Tensor is unwrapped; an array's own .data is no array
        if arr.dtype.hasobject:
            raise TypeError(f"zd.io.save: {'.'.join(keys) or 'state'} is an object array, "
                            "which cannot be saved without pickling; convert it to numbers")
        name = ".".join(keys) or "array"
        base, k = name, 1
        while name in arrays or name == _META:
            k += 1
            name = f"{base}#{k}"
        arrays[name] = arr
        return {"$array": name}
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"zd.io.save: keys must be strings, got {key!r} "
                                f"in {'.'.join(keys) or 'state'}")
            out[key] = _encode(value, keys + [key], arrays)
        return {"$dict": out} if set(out) in ({"$array"}, {"$dict"}) else out
    if isinstance(obj, (list, tuple)):
        return [_encode(v, keys + [str(i)], arrays) for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"zd.io.save: cannot save {type(obj).__name__} at "
                    f"{'.'.join(keys) or 'state'}; use arrays, numbers, strings, lists and dicts")


def _decode(tree, arrays: dict, used: set):
    if isinstance(tree, dict):
        if set(tree) == {"$array"}:
            name = tree["$array"]
            if name not in arrays:
                raise KeyError(f"array {name!r} is listed but missing")
            used.add(name)
            return arrays[name]
        if set(tree) == {"$dict"}:
            tree = tree["$dict"]
        return {k: _decode(v, arrays, used) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_decode(v, arrays, used) for v in tree]
    return tree


# ---------------------------------------------------------------- .npz
def _write_npz(f, arrays: dict, header: dict) -> None:
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, arr, allow_pickle=False)
        zf.writestr(_META + ".json", json.dumps(header))


def _read_npz(f, limit: int, explicit: bool):
    return read_npz(f, limit, record=_META + ".json",
                    listed=lambda h: _array_names(_checked_record(h)["tree"]),
                    max_inflation=None if explicit else MAX_INFLATION)


# ---------------------------------------------------------------- the record
def _checked_record(header) -> dict:
    """The record of a zerodl file, refused when it is not one."""
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ValueError(f"unknown format {found!r}")
    if "tree" not in header:
        raise ValueError("the record has no tree")
    return header


def _array_names(tree) -> set:
    """The entry names that the record's tree refers to."""
    names, todo = set(), [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if set(node) == {"$array"} and isinstance(node["$array"], str):
                names.add(node["$array"])
            else:
                todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return names


def _limit(max_bytes: int | None) -> int:
    if max_bytes is not None:
        return int(max_bytes)
    text = os.environ.get("ZERODL_MAX_LOAD_BYTES")
    if not text:
        return MAX_LOAD_BYTES
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"zd.io.load: ZERODL_MAX_LOAD_BYTES={text!r} is not a whole "
                         "number of bytes (e.g. 8589934592 for 8 GiB)") from None


# ---------------------------------------------------------------- .safetensors
# The dtypes of the safetensors format that NumPy holds (not BF16 nor the F8 kinds): itemsizes.
_ST_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "I64": 8, "U64": 8, "I32": 4, "U32": 4,
                "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1, "C64": 8}


def _safetensors():
    try:
        import safetensors.numpy
    except ImportError as e:
        raise MissingExtra(
            "zd.io: .safetensors files need the safetensors package: "
            "pip install 'zerodl[io]' (or save to a .npz path)"
        ) from e
    return safetensors.numpy


def _write_safetensors(f, arrays: dict, header: dict) -> None:
    # safetensors has no checksums and nothing covers its header: record each
    # array's CRC-32, dtype and shape, and a CRC-32 of that record under a
    # second key, so damage or an edited header is detected on load.
    st = _safetensors()
    tensors = {name: np.ascontiguousarray(arr) for name, arr in arrays.items()}
    header = dict(header,
                  crc32={name: zlib.crc32(a.tobytes()) for name, a in tensors.items()},
                  dtypes={name: a.dtype.name for name, a in tensors.items()},
                  shapes={name: list(a.shape) for name, a in tensors.items()})
    text = json.dumps(header)
    meta = {_META: text, _META_CRC: str(zlib.crc32(text.encode("utf-8")))}
    f.write(st.save(tensors, metadata=meta))


def _read_safetensors(f, limit: int):
    st = _safetensors()
    size = os.fstat(f.fileno()).st_size
    if size > limit + MAX_RECORD_BYTES:
        raise TooLarge(f"it holds {size:,} bytes, more than the {limit:,}-byte limit "
                        "for one load")
    data = f.read()
    described = _safetensors_header(data)
    arrays = st.load(data)  # the library checks every offset and length, and the coverage
    meta = described.get("__metadata__") or {}
    if _META not in meta and _META_CRC not in meta:  # a safetensors file from elsewhere
        return arrays, None
    text = meta.get(_META, "")
    if str(zlib.crc32(text.encode("utf-8"))) != meta.get(_META_CRC):
        raise ValueError("bad CRC-32 for the zerodl record")
    header = _checked_record(json.loads(text))
    crcs = header["crc32"]
    if set(crcs) != set(arrays):
        raise ValueError("the recorded arrays and the stored arrays differ")
    dtypes, shapes = header.get("dtypes"), header.get("shapes")  # absent in older files
    for name, arr in arrays.items():
        if dtypes is not None and [arr.dtype.name, list(arr.shape)] != [dtypes[name], shapes[name]]:
            raise ValueError(
                f"tensor {name!r} is {arr.dtype.name} {tuple(arr.shape)} in the file's header "
                f"but was saved as {dtypes[name]} {tuple(shapes[name])}: the header was changed")
        if zlib.crc32(np.ascontiguousarray(arr).tobytes()) != crcs[name]:
            raise ValueError(f"bad CRC-32 for {name!r}")
    return arrays, header


def _safetensors_header(data: bytes) -> dict:
    """The JSON header of safetensors bytes, refused where the library would be silent
    (names that appear twice: the last would win) or would not name the tensor (dtypes
    that NumPy cannot hold, a byte length that is not shape x itemsize)."""
    if len(data) < 8:
        raise ValueError(f"{len(data)} bytes is shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"the header length {n:,} runs past the end of the file "
                         f"({len(data):,} bytes)")
    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=_unique_keys)
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info.get("dtype") if isinstance(info, dict) else None
        if dtype not in _ST_ITEMSIZE:
            raise ValueError(f"tensor {name!r} has dtype {dtype!r}, which NumPy cannot hold "
                             f"(it holds {', '.join(_ST_ITEMSIZE)})")
        shape, span = info.get("shape"), info.get("data_offsets")
        if _naturals(shape) and _naturals(span) and len(span) == 2:
            need = math.prod(shape) * _ST_ITEMSIZE[dtype]
            if span[1] - span[0] != need:
                raise ValueError(f"tensor {name!r}: {dtype} {tuple(shape)} needs {need:,} bytes, "
                                 f"but its data_offsets {span} span {span[1] - span[0]:,}")
    return header  # anything else malformed: the library says what


def _naturals(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)


def _unique_keys(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"names appear twice in the header: {twice}")
    return dict(pairs)


# ---------------------------------------------------------------- JSON
def finite_list(a) -> list:
    """A (nested) list of floats for JSON, with None where the value is inf or NaN."""
    a = np.asarray(a, dtype=np.float64)
    if np.all(np.isfinite(a)):
        return a.tolist()
    return np.where(np.isfinite(a), a, None).tolist()
