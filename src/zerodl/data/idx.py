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
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

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
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = _TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = len(data) - header
    if body != expected:
        what = "truncated" if body < expected else "too long"
        dims = " x ".join(str(s) for s in shape)
        raise IDXFormatError(
            f"{name}: {what}: header says {dims} {dtype.name} = {expected:,} bytes of data "
            f"after the {header}-byte header, but {body:,} bytes follow"
        )
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | Path, magic: int | None = None) -> np.ndarray:
    """The array stored in the IDX file at `path` (gzip-compressed when it ends in .gz)."""
    path = Path(path)
    raw = path.read_bytes()
    return parse_idx(decompress(raw, path), str(path), magic)


def decompress(raw: bytes, path: str | Path) -> bytes:
    """`raw` gunzipped when it starts with the gzip signature, else `raw` itself.

    A damaged or cut-off gzip stream raises IDXFormatError naming `path`.
    """
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise IDXFormatError(
            f"{path}: damaged or incomplete gzip data ({e})"
        ) from None
