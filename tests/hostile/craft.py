"""Hostile files built by hand: zips whose directory says what we like, deflate
streams that inflate to gigabytes from a few megabytes, .npy headers that lie.

Each maker builds its file in well under a second: a gigabyte of zeros is one
1 MiB block of deflate output repeated (a full flush makes every block
independent of the ones before), so nothing is ever compressed at full size.
"""

from __future__ import annotations

import gzip
import struct
import zlib

_CHUNK = 1 << 20


def deflate(prefix: bytes, zeros: int) -> bytes:
    """A raw deflate stream that inflates to ``prefix`` followed by ``zeros`` zero bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(zeros, _CHUNK)
    block = c.compress(bytes(_CHUNK)) + c.flush(zlib.Z_FULL_FLUSH) if whole else b""
    return head + block * whole + c.compress(bytes(rest)) + c.flush()


def gzip_bomb(prefix: bytes, zeros: int) -> bytes:
    """gzip data that decompresses to ``prefix`` + ``zeros`` zero bytes (its CRC-32 is not
    computed: a reader that reaches the end refuses it anyway)."""
    head = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    size = (len(prefix) + zeros) & 0xFFFFFFFF
    return head + deflate(prefix, zeros) + struct.pack("<II", 0, size)


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def npy_header(shape: tuple, descr: str = "<f4", fortran: bool = False) -> bytes:
    """A version 1.0 .npy header saying ``shape`` and ``descr``, whatever follows it."""
    text = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {tuple(shape)!r}, }}"
    total = 10 + len(text) + 1
    text += " " * (-total % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


class Entry:
    """One zip entry: ``data`` as stored (deflated when ``method`` is 8) and what the
    directory claims about it (``size`` inflated, ``crc``), true or not."""

    def __init__(self, name: str, data: bytes, size: int, method: int = 8, crc: int | None = None):
        self.name, self.data, self.size, self.method = name.encode(), data, size, method
        self.crc = crc if crc is not None else 0


def stored(name: str, payload: bytes) -> Entry:
    """An honest uncompressed entry."""
    return Entry(name, payload, len(payload), method=0, crc=zlib.crc32(payload))


def inflating(name: str, prefix: bytes, zeros: int, crc: int | None = None) -> Entry:
    """A deflated entry that inflates to ``prefix`` + ``zeros`` zero bytes, and says so."""
    return Entry(name, deflate(prefix, zeros), len(prefix) + zeros, method=8, crc=crc)


def zip_bytes(entries: list[Entry], announce: int | None = None) -> bytes:
    """A zip of ``entries`` (zip64 fields where sizes need them); ``announce`` overrides the
    entry count that the end record announces."""
    out, central = bytearray(), bytearray()
    for e in entries:
        offset = len(out)
        big = e.size >= 0xFFFFFFFF or len(e.data) >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, e.size, len(e.data)) if big else b""
        usize, csize = (0xFFFFFFFF, 0xFFFFFFFF) if big else (e.size, len(e.data))
        version = 45 if big else 20
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, version, 0, e.method, 0, 0x21,
                           e.crc, csize, usize, len(e.name), len(extra)) + e.name + extra
        out += e.data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, 0, e.method,
                               0, 0x21, e.crc, csize, usize, len(e.name), len(extra), 0, 0, 0,
                               0, offset) + e.name + extra
    count = len(entries) if announce is None else announce
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                       len(central), cd_offset, 0)
    return bytes(out)
