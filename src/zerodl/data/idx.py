"""The IDX file format that MNIST and Fashion-MNIST are stored in.

An IDX file is a header followed by one array in C order, all big-endian:

    byte 0-1   0x00 0x00
    byte 2     element type (0x08 = uint8, 0x09 = int8, 0x0B = int16,
               0x0C = int32, 0x0D = float32, 0x0E = float64)
    byte 3     number of dimensions d
    then       d sizes, each a big-endian uint32
    then       prod(sizes) elements

So MNIST's image files start with the magic number 0x00000803 (uint8, 3 dims:
count, rows, cols) and its label files with 0x00000801 (uint8, 1 dim: count).
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
MAX_IDX_BYTES = 1 << 30  # the most a file of unknown size may hold (MNIST's largest: 47 MB)

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file (wrong magic, dims or length)."""


def parse_idx(data: bytes, name: str = "<bytes>", magic: int | None = None) -> np.ndarray:
    """The array stored in the IDX bytes `data` (already decompressed).

    `name` is the file the bytes came from, used in error messages. With
    `magic` (e.g. ``IMAGES_MAGIC``), the header must carry exactly that magic
    number. The result is a native-endian array; for uint8 files it is a
    read-only view of `data` (no copy).
    """
    header, shape, dtype, expected = _header(data, name, magic)
    body = len(data) - header
    if body != expected:
        what = "truncated" if body < expected else "too long"
        raise IDXFormatError(
            f"{name}: {what}: header says {_dims(shape)} {dtype.name} = {expected:,} bytes of data "
            f"after the {header}-byte header, but {body:,} bytes follow"
        )
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | Path, magic: int | None = None,
             max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """The array stored in the IDX file at `path` (gzip-compressed when it starts like gzip).

    No more than the header promises is read or decompressed, and a header
    that promises more than `max_bytes` is refused before its data is read.
    """
    path = Path(path)
    with open(path, "rb") as f:
        data = read_idx_bytes(f, str(path), max_bytes, magic)
    return parse_idx(data, str(path), magic)


def read_idx_bytes(f: BinaryIO, name: str, max_bytes: int = MAX_IDX_BYTES,
                   magic: int | None = None) -> bytes:
    """The IDX bytes of the open file `f`, gunzipped on the fly when it is gzip data.

    Reads the header first, then exactly the data it promises: a stream that
    holds more is refused as too long once that much is read, one whose
    header promises more than `max_bytes` (header included) before any data is
    read. A damaged or cut-off gzip stream raises IDXFormatError naming `name`.
    Bytes too short for a header are returned as they are (``parse_idx`` says why).
    """
    gz = f.read(2) == b"\x1f\x8b"
    f.seek(0)
    stream = gzip.GzipFile(fileobj=f, mode="rb") if gz else f
    try:
        head = stream.read(4)
        if len(head) == 4:
            head += stream.read(4 * head[3])
        try:
            header, shape, dtype, expected = _header(head, name, magic)
        except IDXFormatError:
            return head  # parse_idx gives the reason
        if header + expected > max_bytes:
            raise IDXFormatError(
                f"{name}: header says {_dims(shape)} {dtype.name} = {expected:,} bytes of data, "
                f"{header + expected:,} in all: more than the {max_bytes:,} this file may hold; "
                "it is damaged or not the expected file"
            )
        data = head + stream.read(expected)
        if len(data) == header + expected and stream.read(1):
            raise IDXFormatError(
                f"{name}: too long: more than the {expected:,} bytes of data its header "
                f"promises ({_dims(shape)} {dtype.name}) follow the {header}-byte header"
            )
        return data
    except (OSError, EOFError, zlib.error) as e:
        if not gz:
            raise
        raise IDXFormatError(f"{name}: damaged or incomplete gzip data ({e})") from None
    finally:
        if gz:
            stream.close()


def _header(data: bytes, name: str, magic: int | None):
    """(header bytes, shape, dtype, data bytes promised) of the IDX header at the start of `data`."""
    if len(data) < 4:
        raise IDXFormatError(f"{name}: {len(data)} bytes is too short for an IDX header")
    found = int.from_bytes(data[:4], "big")
    if magic is not None and found != magic:
        raise IDXFormatError(
            f"{name}: magic number is 0x{found:08X}, expected 0x{magic:08X}; "
            "this is not the IDX file it should be (wrong file, or not decompressed?)"
        )
    type_code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or type_code not in _TYPES:
        raise IDXFormatError(
            f"{name}: magic number 0x{found:08X} is not an IDX header "
            "(expected 0x0000TTDD with TT a type code in 08, 09, 0B-0E)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(
            f"{name}: truncated header: {ndim} dims need {header} bytes, file has {len(data)}"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = _TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: huge dims cannot overflow
    return header, shape, dtype, expected


def _dims(shape: tuple) -> str:
    return " x ".join(str(s) for s in shape)
