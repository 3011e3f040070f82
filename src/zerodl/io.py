"""Parameter files and checkpoints: ``zd.io.save(state, path)`` and ``zd.io.load(path)``.

``state`` is a dict, nested as deep as you like, of arrays (or Tensors),
numbers, strings, booleans, None and lists of those: a ``model.state_dict()``,
an optimizer's ``state_dict()``, or a checkpoint holding both and the epoch.

The file is a ``.npz`` (a zip of ``.npy`` arrays, readable with ``np.load``):
each array is stored under its dotted path (``model.layers.0.W``), and one
JSON entry records the nesting and every non-array value, so ``load`` gives
back the same structure. Nothing is pickled, and loading uses
``allow_pickle=False``: a parameter file cannot run code. A path ending in
``.safetensors`` writes that format instead (needs ``pip install 'zerodl[io]'``).

Writes go to a temporary file in the same folder that is renamed into place,
so an interrupted save never leaves a half-written file under the real name.
Every array is checked on load (zip CRC-32, or a CRC-32 recorded in the
safetensors metadata); a damaged or truncated file raises ``CorruptFileError``
naming the file, never partial data.
"""

from __future__ import annotations

import io as _io
import json
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .backend import as_numpy
from .extras import MissingExtra

__all__ = ["save", "load", "save_model", "load_model", "CorruptFileError"]

_META = "__zerodl__"
_META_CRC = "__zerodl_crc32__"
_FORMAT = "zerodl"
_VERSION = 1


class CorruptFileError(ValueError):
    """A parameter file that is truncated, damaged, or not what zerodl wrote."""


def save(state: dict, path) -> Path:
    """Write ``state`` (a nested dict of arrays, numbers, strings, lists) to ``path`` atomically.

    ``.safetensors`` paths get that format; any other path gets a ``.npz``
    (written to exactly that path, no suffix added). Returns the path.
    """
    if not isinstance(state, dict):
        raise TypeError(f"zd.io.save: state must be a dict, got {type(state).__name__}")
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, [], arrays)
    header = {"format": _FORMAT, "version": _VERSION, "tree": tree}
    if path.suffix == ".safetensors":
        atomic_write(path, lambda f: _write_safetensors(f, arrays, header))
    else:
        atomic_write(path, lambda f: _write_npz(f, arrays, header))
    return path


def load(path) -> dict:
    """Read a file written by ``save`` (or any ``.npz`` of arrays) back into its nested dict.

    Raises ``CorruptFileError`` (a ValueError) naming the file when it is
    truncated or damaged; FileNotFoundError when it does not exist.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        if path.suffix == ".safetensors":
            arrays, header = _read_safetensors(data)
        else:
            arrays, header = _read_npz(data)
        if header is None:  # a plain .npz of arrays
            return dict(arrays)
        if header.get("format") != _FORMAT:
            raise ValueError(f"unknown format {header.get('format')!r}")
        used: set = set()
        state = _decode(header["tree"], arrays, used)
        if used != set(arrays):
            raise ValueError(f"arrays not in the record: {sorted(set(arrays) - used)}")
        return state
    except ImportError:
        raise
    except Exception as e:  # zipfile, zlib, numpy, json and safetensors errors alike
        raise CorruptFileError(
            f"zd.io.load: {path} is damaged or truncated and was not loaded "
            f"({type(e).__name__}: {e}); save it again or use another copy"
        ) from e


def save_model(model, path) -> Path:
    """Save ``model.state_dict()`` (parameters and buffers) to ``path``."""
    return save(model.state_dict(), path)


def load_model(model, path, strict: bool = True):
    """Load parameters saved by ``save_model`` into ``model`` (``load_state_dict``); returns it."""
    model.load_state_dict(load(path), strict=strict)
    return model


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


def _read_npz(data: bytes):
    arrays, header = {}, None
    with zipfile.ZipFile(_io.BytesIO(data)) as zf:
        if len(zf.infolist()) != _zip_entry_count(data):
            raise ValueError("the zip directory does not list as many entries as it announces")
        for info in zf.infolist():
            raw = zf.read(info)  # reads the whole entry: checks its CRC-32
            if info.filename == _META + ".json":
                header = json.loads(raw.decode("utf-8"))
            elif info.filename.endswith(".npy"):
                arrays[info.filename[:-4]] = np.lib.format.read_array(
                    _io.BytesIO(raw), allow_pickle=False)
            else:
                raise ValueError(f"unexpected entry {info.filename!r}")
    return arrays, header


def _zip_entry_count(data: bytes) -> int:
    """The entry count announced by the zip's end record (zip64's when the short field is full)."""
    end = data.rfind(b"PK\x05\x06")
    (count,) = struct.unpack("<H", data[end + 10:end + 12])
    if count == 0xFFFF and data[end - 20:end - 16] == b"PK\x06\x07":
        (offset,) = struct.unpack("<Q", data[end - 12:end - 4])
        (count,) = struct.unpack("<Q", data[offset + 32:offset + 40])
    return count


# ---------------------------------------------------------------- .safetensors
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
    # safetensors has no checksums: record a CRC-32 of every array, and of that
    # record itself under a second key, so damage anywhere is detected on load.
    st = _safetensors()
    tensors = {name: np.ascontiguousarray(arr) for name, arr in arrays.items()}
    header = dict(header, crc32={name: zlib.crc32(a.tobytes()) for name, a in tensors.items()})
    text = json.dumps(header)
    meta = {_META: text, _META_CRC: str(zlib.crc32(text.encode("utf-8")))}
    f.write(st.save(tensors, metadata=meta))


def _read_safetensors(data: bytes):
    st = _safetensors()
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n].decode("utf-8")).get("__metadata__") or {}
    arrays = st.load(data)
    if _META not in meta and _META_CRC not in meta:  # a safetensors file from elsewhere
        return arrays, None
    text = meta.get(_META, "")
    if str(zlib.crc32(text.encode("utf-8"))) != meta.get(_META_CRC):
        raise ValueError("bad CRC-32 for the zerodl record")
    header = json.loads(text)
    crcs = header["crc32"]
    if set(crcs) != set(arrays):
        raise ValueError("the recorded arrays and the stored arrays differ")
    for name, arr in arrays.items():
        if zlib.crc32(np.ascontiguousarray(arr).tobytes()) != crcs[name]:
            raise ValueError(f"bad CRC-32 for {name!r}")
    return arrays, header


# ---------------------------------------------------------------- atomic writes
def finite_list(a) -> list:
    """A (nested) list of floats for JSON, with None where the value is inf or NaN."""
    a = np.asarray(a, dtype=np.float64)
    if np.all(np.isfinite(a)):
        return a.tolist()
    return np.where(np.isfinite(a), a, None).tolist()


def atomic_write(path, write: Callable) -> Path:
    """Write a file all at once: ``write(f)`` fills a binary temporary file beside ``path``,
    which is then renamed onto ``path``. On any error nothing is left behind and an
    existing file is untouched; the new file gets the old one's permissions (or 0644)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path
