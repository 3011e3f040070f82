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
data gzipped twice rarely gives the same bytes). A file that is present but fails
its check is an error, never skipped over; a download is written to a temporary
file next to its destination, checked, and only then renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .idx import IDXFormatError, decompress

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
    """

    name: str
    title: str
    sha256: Mapping[str, str]
    mirrors: tuple[str, ...]


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
    raise DatasetNotFoundError(_not_found_message(source, filename, tried))


def verified_bytes(source: Source, filename: str, path: Path) -> bytes:
    """The decompressed bytes of `path`, checked against `source.sha256[filename]`."""
    expected = source.sha256[filename]
    try:
        data = decompress(path.read_bytes(), path)
    except IDXFormatError as e:
        raise ChecksumError(f"{e}\n{_fix(source, path)}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ChecksumError(
            f"{path} is not the {source.title} file {filename}: the SHA-256 of its "
            f"decompressed bytes is {actual}, expected {expected}.\n{_fix(source, path)}"
        )
    return data


def _download(source: Source, filename: str, url: str, target: Path) -> tuple[bytes, Path]:
    """Download `url` into `target`, verify it, rename it into place; nothing left on failure."""
    target.mkdir(parents=True, exist_ok=True)
    print(f"zerodl: downloading {url} -> {target}", file=sys.stderr)
    fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=target)
    tmp = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            fetch(url, out)
        raw = tmp.read_bytes()
        dest = target / (filename + ".gz" if raw[:2] == b"\x1f\x8b" else filename)
        expected = source.sha256[filename]
        try:
            data = decompress(raw, url)
        except IDXFormatError as e:
            raise ChecksumError(
                f"{e}; deleted (expected {filename} with decompressed SHA-256 {expected})"
            ) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise ChecksumError(
                f"downloaded {filename} has SHA-256 {actual} (decompressed), "
                f"expected {expected}; deleted"
            )
        os.replace(tmp, dest)
        return data, dest
    finally:
        tmp.unlink(missing_ok=True)


def _fix(source: Source, path: Path) -> str:
    return (
        f"Fix: delete {path} (it may be damaged, partial or another dataset's file) "
        f"and run again to re-download it, or replace it with a good copy of "
        f"{source.title} (see ZERODL_DATA)."
    )


def _not_found_message(source: Source, filename: str, tried: list[str]) -> str:
    places = "\n".join(f"  - {t}" for t in tried)
    return (
        f"{source.title} file {filename} could not be found or downloaded. Tried, in order:\n"
        f"{places}\n"
        f"Fix: put the four {source.title} files (.gz or not) in a folder named "
        f"'{source.name}' and set ZERODL_DATA=/path/to/parent-of-{source.name}/ "
        f"(or pass root='/path/to/{source.name}'); or, with internet access, pass "
        f"download=True to fetch them into {cache_dir(source.name)}; or train on a "
        f"generated dataset instead (zerodl.data.spiral, xor, circles, sine)."
    )
