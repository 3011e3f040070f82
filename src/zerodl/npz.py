"""Reading ``.npz`` files (zips of ``.npy`` arrays) without trusting them.

``np.load`` reads a zip entry whole before looking at it, so a 1 MB file whose
entry inflates to gigabytes takes gigabytes. ``read_npz`` instead reads each
entry's ``.npy`` header first and checks, before reading any data, that

- the entry holds exactly what the header promises (shape x itemsize bytes),
- the arrays together stay within ``max_bytes``,
- with ``max_inflation``, no compressed entry of more than ``INFLATION_FLOOR``
  bytes inflates more than that many times (weights compress about 1.1x;
  only near-constant data, or a bomb, reaches deflate's 1000x),
- the array holds numbers, not Python objects (nothing is ever unpickled),
- the zip announces no more than ``MAX_ENTRIES`` entries, each name once;

then it reads the data into a fresh array in chunks, the zip's CRC-32 checked
at the end of each entry. A file that breaks a rule raises ValueError naming
the entry (``TooLarge``, a ValueError, when only the size limit is broken).
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import zipfile
from collections.abc import Callable

import numpy as np

__all__ = ["read_npz", "TooLarge", "MAX_ENTRIES", "MAX_RECORD_BYTES", "MAX_INFLATION",
           "INFLATION_FLOOR"]

MAX_ENTRIES = 100_000        # zip entries: each costs memory before anything is read
MAX_RECORD_BYTES = 64 << 20  # a JSON entry beside the arrays
MAX_INFLATION = 200          # inflated / compressed bytes of one entry, when asked to check
INFLATION_FLOOR = 64 << 20   # entries inflating to less are never refused for their ratio
_NPY_HEADER_BYTES = 10_000   # NumPy's own limit for a .npy header
_CHUNK = 16 << 20


class TooLarge(ValueError):
    """A file holds more than the reader allows (``max_bytes``, ``MAX_ENTRIES``, ``MAX_RECORD_BYTES``)."""


def read_npz(f, max_bytes: int, record: str | None = None,
             listed: Callable[[object], set] | None = None,
             max_inflation: int | None = None) -> tuple[dict, object]:
    """The arrays of the open ``.npz`` file ``f`` by entry name (``W.npy`` gives ``W``),
    and the JSON of its entry named ``record`` (None when there is none).

    The record is read first; ``listed(record_json)`` returns the array names it
    refers to, and any other ``.npy`` entry is refused before it is read. An
    entry that is neither the record nor a ``.npy`` array is refused.
    """
    count = _zip_entry_count(f)
    if count is not None and count > MAX_ENTRIES:
        raise TooLarge(f"its zip directory announces {count:,} entries, "
                       f"more than the {MAX_ENTRIES:,} allowed")
    f.seek(0)
    arrays, header = {}, None
    with zipfile.ZipFile(f) as zf:
        infos = zf.infolist()
        if count is not None and len(infos) != count:
            raise ValueError("the zip directory does not list as many entries as it announces")
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise ValueError(f"entries appear twice: {sorted({n for n in names if names.count(n) > 1})}")
        if record in names:
            info = infos[names.index(record)]
            if info.file_size > MAX_RECORD_BYTES:
                raise TooLarge(f"its entry {record!r} holds {info.file_size:,} bytes, "
                               f"more than MAX_RECORD_BYTES = {MAX_RECORD_BYTES:,}")
            header = json.loads(zf.read(info).decode("utf-8"))
        allowed = listed(header) if listed is not None and header is not None else None
        room = max_bytes
        for info in infos:
            if info.filename == record:
                continue
            if not info.filename.endswith(".npy"):
                raise ValueError(f"unexpected entry {info.filename!r}")
            name = info.filename[:-4]
            if allowed is not None and name not in allowed:
                raise ValueError(f"entry {info.filename!r} is not in the file's record")
            arrays[name] = _read_npy(zf, info, room, max_bytes, max_inflation)
            room -= arrays[name].nbytes
    return arrays, header


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, room: int, limit: int,
              max_inflation: int | None) -> np.ndarray:
    """The array of one .npy entry: its header is checked against the entry's size, its
    compressed size and ``room`` (bytes left of ``limit``) before any of its data is read."""
    entry = info.filename
    with zf.open(info) as fp:
        dtype, shape, fortran, offset = _npy_header(fp, entry)
        nbytes = math.prod(shape) * dtype.itemsize
        what = f"{' x '.join(map(str, shape)) or 'scalar'} {dtype}"
        if offset + nbytes != info.file_size:
            raise ValueError(f"entry {entry!r}: its .npy header promises {what} = {nbytes:,} "
                             f"bytes of data, but the entry holds {info.file_size - offset:,}")
        _check_inflation(info, max_inflation)
        if nbytes > room:
            raise TooLarge(f"entry {entry!r} holds {what} = {nbytes:,} bytes, more than the "
                           f"{max(room, 0):,} left of the {limit:,}-byte limit for one load")
        if dtype.itemsize == 0:
            return np.empty(shape, dtype)
        buf = np.empty(nbytes, np.uint8)
        view, done = memoryview(buf), 0
        while done < nbytes:
            n = fp.readinto(view[done:done + _CHUNK])
            if not n:
                raise EOFError(f"entry {entry!r} ends after {done:,} of {nbytes:,} bytes")
            done += n
        if fp.read(1):  # reaching the end is also what checks the CRC-32
            raise ValueError(f"entry {entry!r} holds more than its header promises")
    return buf.view(dtype).reshape(shape, order="F" if fortran else "C")


def _check_inflation(info: zipfile.ZipInfo, max_inflation: int | None) -> None:
    if (max_inflation is None or info.compress_type == zipfile.ZIP_STORED
            or info.file_size <= INFLATION_FLOOR):
        return
    if info.file_size > max_inflation * max(info.compress_size, 1):
        raise TooLarge(
            f"entry {info.filename!r} would inflate from {info.compress_size:,} stored bytes to "
            f"{info.file_size:,} ({info.file_size // max(info.compress_size, 1):,}x, more than "
            f"{max_inflation}x): a compression bomb, or data far more repetitive than weights")


def _npy_header(fp, entry: str):
    """(dtype, shape, fortran_order, header bytes) of a .npy stream, refusing object arrays."""
    magic = fp.read(8)
    if len(magic) < 8 or magic[:6] != np.lib.format.MAGIC_PREFIX:
        raise ValueError(f"entry {entry!r} is not a .npy array")
    major, minor = magic[6], magic[7]
    if (major, minor) not in ((1, 0), (2, 0)):
        raise ValueError(f"entry {entry!r}: .npy format version {major}.{minor} is not "
                         "supported (1.0 and 2.0 are)")
    length_field = fp.read(2 if major == 1 else 4)
    length = int.from_bytes(length_field, "little")
    if length > _NPY_HEADER_BYTES:
        raise ValueError(f"entry {entry!r}: a .npy header of {length:,} bytes "
                         f"(more than {_NPY_HEADER_BYTES:,})")
    text = fp.read(length)
    read_header = (np.lib.format.read_array_header_1_0 if major == 1
                   else np.lib.format.read_array_header_2_0)
    try:
        shape, fortran, dtype = read_header(io.BytesIO(length_field + text),
                                            max_header_size=_NPY_HEADER_BYTES)
    except ValueError as e:
        raise ValueError(f"entry {entry!r}: {e}") from None
    if dtype.hasobject:
        raise ValueError(f"entry {entry!r} holds Python objects (dtype {dtype}), which only "
                         "unpickling could read, and zerodl never unpickles; save numbers instead")
    if any(d < 0 for d in shape):
        raise ValueError(f"entry {entry!r}: negative size in shape {shape}")
    return dtype, shape, fortran, 8 + len(length_field) + length


def _zip_entry_count(f) -> int | None:
    """The entry count announced by the zip's end record (zip64's when the short field is
    full), or None when there is no end record (zipfile then says what is wrong)."""
    size = f.seek(0, os.SEEK_END)
    start = max(0, size - (22 + 0xFFFF + 20))  # end record, longest comment, zip64 locator
    f.seek(start)
    tail = f.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        return None
    (count,) = struct.unpack("<H", tail[end + 10:end + 12])
    if count == 0xFFFF and end >= 20 and tail[end - 20:end - 16] == b"PK\x06\x07":
        (offset,) = struct.unpack("<Q", tail[end - 12:end - 4])
        f.seek(offset + 32)
        field = f.read(8)
        if len(field) == 8:
            (count,) = struct.unpack("<Q", field)
    return count
