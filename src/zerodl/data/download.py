"""Finding dataset files on disk, verifying them, and downloading them when missing.

A file is looked for, in this order (the first copy found is the one used):

1. ``root`` given by the caller: ``root/<name>/`` then ``root/`` itself;
2. ``$ZERODL_DATA/<name>/``;
3. the user cache ``$XDG_CACHE_HOME/zerodl/<name>/`` (default ``~/.cache/zerodl/<name>/``);
4. the system folder ``/usr/share/datasets/<name>/`` (``SYSTEM_DATA_DIR``; Debian's
   ``dataset-fashion-mnist`` installs the .gz files there);
5. a download from each mirror in turn, into the user cache.

In each folder the file may be stored as ``X`` or gzip-compressed as ``X.gz``.
Every file is checked against the SHA-256 of its *decompressed* bytes (the same
data gzipped twice rarely gives the same bytes); a ``.gz`` whose own SHA-256 is
that of a known copy (the mirrors', Debian's) is accepted without hashing again.
No more is read or decompressed than the dataset's known size (or the IDX
header's promise), so a small file that inflates to gigabytes is refused after
reading a few megabytes. A file that is present but fails its check is an
error, never skipped over; a download is written to a temporary file next to
its destination (zerodl.files), checked, and only then renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..files import commit, temporary_file
from .idx import MAX_IDX_BYTES, IDXFormatError, read_idx_bytes

SYSTEM_DATA_DIR = Path("/usr/share/datasets")
TIMEOUT = 30.0  # seconds of silence before a download gives up on a mirror
_CHUNK = 1 << 20


class DatasetNotFoundError(FileNotFoundError):
    """No copy of a dataset file was found on disk and none could be downloaded."""


class ChecksumError(ValueError):
    """A dataset file is present but its content is not the expected one."""


@dataclass(frozen=True)
class Source:
    """Where a dataset's files live: folder name, checksums and download mirrors.

    `sha256` maps each file name (without .gz) to the SHA-256 of its
    decompressed bytes; `mirrors` are base URLs that serve ``<file>.gz``.
    `sizes` maps a file name to its decompressed size in bytes (the most that
    is ever read of it), `gz_sha256` to the SHA-256s of known ``.gz`` copies.
    """

    name: str
    title: str
    sha256: Mapping[str, str]
    mirrors: tuple[str, ...]
    sizes: Mapping[str, int] = field(default_factory=dict)
    gz_sha256: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def size_limit(self, filename: str) -> int:
        """The most bytes `filename` may decompress to: its known size, else ``MAX_IDX_BYTES``."""
        return self.sizes.get(filename, MAX_IDX_BYTES)


def fetch(url: str, out: BinaryIO, timeout: float = TIMEOUT) -> None:
    """Write the bytes served at `url` into the open file `out`.

    Tests replace this function to serve bytes without a network.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "zerodl"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        while chunk := response.read(_CHUNK):
            out.write(chunk)


def search_dirs(name: str, root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for dataset `name`, in order (the download target is not one)."""
    dirs = []
    if root is not None:
        root = Path(root).expanduser()
        dirs += [root / name, root]
    env = os.environ.get("ZERODL_DATA")
    if env:
        dirs.append(Path(env).expanduser() / name)
    dirs.append(cache_dir(name))
    dirs.append(SYSTEM_DATA_DIR / name)
    return dirs


def cache_dir(name: str) -> Path:
    """The user cache folder for dataset `name`, where downloads are stored."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "zerodl" / name


def find_file(
    name: str, filename: str, root: str | os.PathLike | None = None
) -> tuple[Path | None, list[str]]:
    """The first existing ``filename`` or ``filename.gz`` in `search_dirs`, or None.

    Also returns the places looked at without success, for error messages.
    """
    tried = []
    for folder in search_dirs(name, root):
        for candidate in (folder / filename, folder / (filename + ".gz")):
            if candidate.is_file():
                return candidate, tried
        tried.append(f"{folder}/{filename}[.gz]: not found")
    return None, tried


def load_file(
    source: Source, filename: str, root: str | os.PathLike | None = None, download: bool = True
) -> tuple[bytes, Path]:
    """The verified, decompressed bytes of `filename` and the path they were read from.

    Searches the folders of `search_dirs` for ``filename`` or ``filename.gz``;
    the first one found must pass its SHA-256 check (ChecksumError otherwise).
    When none is found and `download` is true, tries each mirror in turn.
    Raises DatasetNotFoundError listing every place tried.
    """
    path, tried = find_file(source.name, filename, root)
    if path is not None:
        return verified_bytes(source, filename, path), path
    if not download:
        tried.append("download: not attempted (download=False)")
    else:
        target = cache_dir(source.name)
        for base in source.mirrors:
            url = base + filename + ".gz"
            try:
                return _download(source, filename, url, target)
            except Exception as e:  # each mirror's failure is reported, then the next is tried
                tried.append(f"{url}: {type(e).__name__}: {e}")
    raise DatasetNotFoundError(_not_found_message(source, filename, tried, download))


def verified_bytes(source: Source, filename: str, path: Path) -> bytes:
    """The decompressed bytes of `path`, checked against `source.sha256[filename]`."""
    with open(path, "rb") as f:
        try:
            return _verified(source, filename, f, str(path))
        except ChecksumError as e:
            raise ChecksumError(f"{e}\n{_fix(source, path)}") from None


def _verified(source: Source, filename: str, f: BinaryIO, name: str) -> bytes:
    """The decompressed bytes of the open file `f` (called `name`), checked: a known .gz
    copy by its own SHA-256, anything else by the SHA-256 of what it decompresses to."""
    expected = source.sha256[filename]
    known_gz = f.read(2) == b"\x1f\x8b" and _sha256(f) in source.gz_sha256.get(filename, ())
    f.seek(0)
    try:
        data = read_idx_bytes(f, name, source.size_limit(filename))
    except IDXFormatError as e:
        raise ChecksumError(
            f"{e} (expected {filename} with decompressed SHA-256 {expected})") from None
    if known_gz:
        return data
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ChecksumError(
            f"{name} is not the {source.title} file {filename}: the SHA-256 of its "
            f"decompressed bytes is {actual}, expected {expected}."
        )
    return data


def _download(source: Source, filename: str, url: str, target: Path) -> tuple[bytes, Path]:
    """Download `url` into `target`, verify it, rename it into place; nothing left on failure."""
    target.mkdir(parents=True, exist_ok=True)
    print(f"zerodl: downloading {url} -> {target}", file=sys.stderr)
    # gzip never grows data by more than a few bytes per 16 KiB block
    cap = source.size_limit(filename) * 101 // 100 + (1 << 16)
    with temporary_file(target / filename, "zerodl: download") as out:
        fetch(url, _CappedWriter(out, cap, url))
        out.flush()
        out.seek(0)
        try:
            data = _verified(source, filename, out, url)
        except ChecksumError as e:
            raise ChecksumError(f"{e}; deleted") from None
        out.seek(0)
        gz = out.read(2) == b"\x1f\x8b"
        dest = commit(out, target / (filename + ".gz" if gz else filename))
    return data, dest


class _CappedWriter:
    """A write-only file that refuses to grow past `cap` bytes (a server that never stops)."""

    def __init__(self, out: BinaryIO, cap: int, url: str) -> None:
        self.out, self.cap, self.url, self.written = out, cap, url, 0

    def write(self, chunk) -> int:
        self.written += len(chunk)
        if self.written > self.cap:
            raise ChecksumError(f"{self.url} sent more than {self.cap:,} bytes, more than "
                                "the file can be; deleted")
        return self.out.write(chunk)


def _sha256(f: BinaryIO) -> str:
    f.seek(0)
    digest = hashlib.sha256()
    while chunk := f.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _fix(source: Source, path: Path) -> str:
    return (
        f"Fix: delete {path} (it may be damaged, partial or another dataset's file) "
        f"and run again to re-download it, or replace it with a good copy of "
        f"{source.title} (see ZERODL_DATA)."
    )


def _not_found_message(source: Source, filename: str, tried: list[str], downloaded: bool) -> str:
    """What was tried and how to fix it; a download is suggested only when none was tried."""
    places = "\n".join(f"  - {t}" for t in tried)
    if downloaded:  # the mirrors were just tried and failed: say what else would help
        fetch = (f"or, once this machine reaches the internet (check the connection, or set "
                 f"HTTPS_PROXY), run again: the files are downloaded into {cache_dir(source.name)}")
    else:
        fetch = (f"or pass download=True (with internet access) to fetch them into "
                 f"{cache_dir(source.name)}")
    return (
        f"{source.title} file {filename} could not be found or downloaded. Tried, in order:\n"
        f"{places}\n"
        f"Fix: put the four {source.title} files (.gz or not) in a folder named "
        f"'{source.name}' and set ZERODL_DATA=/path/to/parent-of-{source.name}/ "
        f"(or pass root='/path/to/{source.name}'); {fetch}; or train on a generated dataset "
        f"instead (zerodl train --dataset spiral; zerodl.data.spiral, xor, circles, sine)."
    )
