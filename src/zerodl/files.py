"""Files written whole or not at all, and the temporary files that make it so.

Every file that must not be lost (parameter files, checkpoints, downloads,
figures) is written to a temporary file beside its destination and renamed
onto it only when complete: a reader sees the old file or the new one, never
half of one. The temporary file is named after its writer,

    .model.npz.zerodl-<host>-<pid>-<random>.tmp

so that a writer killed mid-write (``kill -9``, a power cut) leaves a file that
the next write to the same folder recognises and removes: one whose writer
process on this host is gone, or that nobody has touched for
``STALE_TEMP_SECONDS``. The writer holds a lock on its temporary file (flock)
until it is done, and a locked file is never removed, however old it looks
or whatever its pid means here (a paused writer, another PID namespace): two
processes saving into one folder do not delete each other's work.

A write that fails because the disk is full, the folder is read-only or not
writable raises ``WriteError`` (an OSError) naming the file, the cause and the
fix; the old file stays as it was and no temporary file is left behind.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NoReturn

try:
    import fcntl
except ImportError:  # Windows: no flock; the pid and age rules alone decide
    fcntl = None

__all__ = ["atomic_write", "temporary_file", "commit", "remove_stale_temps",
           "WriteError", "STALE_TEMP_SECONDS"]

STALE_TEMP_SECONDS = 3600  # a temp file untouched this long has no live writer
TEMP_PATTERN = re.compile(r"^\..+\.zerodl-(?P<host>[A-Za-z0-9-]*)-(?P<pid>\d+)-[a-z0-9_]+\.tmp$")
# Temporary files of zerodl before its writers were named (mkstemp's 8 random
# characters): removed only when old, since their writer cannot be known.
OLD_TEMP_PATTERN = re.compile(r"^\..+\.[a-z0-9_]{8}\.(tmp|part)$")

# errno -> (what went wrong, how to fix it); {folder} is the destination's folder
_CAUSES = {
    errno.ENOSPC: ("the disk is full", "free space on the disk holding {folder} "
                   "or write somewhere else"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space in your quota "
                   "or write somewhere else"),
    errno.EFBIG: ("the file is larger than the file system allows",
                  "write to another file system"),
    errno.EROFS: ("{folder} is on a read-only file system",
                  "choose a writable folder"),
    errno.EACCES: ("permission denied in {folder}",
                   "choose a folder you may write to, or change its permissions"),
    errno.EPERM: ("the operation is not permitted in {folder}",
                  "choose a folder you may write to"),
    errno.ENOENT: ("the folder {folder} does not exist", "create it first"),
    errno.ENOTDIR: ("a part of {folder} is a file, not a folder",
                    "choose a path whose parents are folders"),
    errno.EISDIR: ("{path} is a folder", "choose a file name"),
}


class WriteError(OSError):
    """A file could not be written (disk full, read-only or missing folder, no permission).

    Its errno and filename attributes are those of the failure; the message names the
    operation, the file, the cause and the fix, and says the old file is intact.
    """

    def __str__(self) -> str:
        return self.strerror


def atomic_write(path, write: Callable[[BinaryIO], object], operation: str = "write") -> Path:
    """Write a file all at once: ``write(f)`` fills a temporary file beside ``path``,
    which is then renamed onto ``path``.

    On any error nothing is left behind and an existing file is untouched; a
    full disk or an unwritable folder raises ``WriteError`` (named after
    ``operation``, e.g. ``"zd.io.save"``). The new file gets the old one's
    permissions (or 0644). Stale temporary files in the folder are removed first.
    """
    path = Path(path)
    with temporary_file(path, operation) as f:
        write(f)
        commit(f, path)
    return path


@contextmanager
def temporary_file(path, operation: str = "write") -> Iterator[BinaryIO]:
    """An open binary temporary file beside ``path`` (its name is ``f.name``), for ``commit``.

    Stale temporary files of the same folder are removed first. Unless
    ``commit(f, dest)`` renamed it, the file is deleted when the block ends,
    also on errors and KeyboardInterrupt; OSErrors of a full disk or an
    unwritable folder, raised in the block or by ``commit``, become ``WriteError``.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    remove_stale_temps(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.zerodl-{_HOST}-{os.getpid()}-",
                                   suffix=".tmp", dir=folder)
    except OSError as e:
        _raise_write_error(e, operation, path)
    os.close(fd)  # reopened by name, so that ``f.name`` is the path ``commit`` renames
    try:
        with open(tmp, "r+b") as f:
            _lock(f.fileno())  # held until closed, also by the renamed file: "in use"
            yield f
    except OSError as e:
        _unlink(tmp)
        _raise_write_error(e, operation, path)
    except BaseException:
        _unlink(tmp)
        raise
    _unlink(tmp)  # not committed: nothing to keep


def commit(f: BinaryIO, dest) -> Path:
    """Flush and sync the temporary file ``f`` and rename it onto ``dest`` (same folder).

    ``dest`` keeps its permissions when it exists, else gets 0644.
    """
    dest = Path(dest)
    f.flush()
    os.fsync(f.fileno())
    os.chmod(f.name, dest.stat().st_mode & 0o777 if dest.exists() else 0o644)
    os.replace(f.name, dest)
    return dest


def remove_stale_temps(folder) -> list[Path]:
    """Delete the temporary files that interrupted zerodl writes left in ``folder``.

    A file named by ``temporary_file`` is stale when its writer was a process
    on this host that no longer exists, or when it is older than
    ``STALE_TEMP_SECONDS``; an unnamed one of older zerodl versions only when
    it is that old. A file that a writer holds locked is never stale. Other
    files are never touched. Returns the files removed.
    """
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed  # a missing or unreadable folder: the write itself will say so
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or not name.endswith((".tmp", ".part")):
            continue
        match = TEMP_PATTERN.match(name)
        if not match and not OLD_TEMP_PATTERN.match(name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_SECONDS
        except OSError:
            continue
        orphan = bool(match) and match["host"] == _HOST and not _alive(int(match["pid"]))
        if (old or orphan) and not _locked(Path(folder) / name):
            path = Path(folder) / name
            if _unlink(path):
                removed.append(path)
    return removed


# ---------------------------------------------------------------- helpers
def _host_name() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]


_HOST = _host_name()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process (or a pid we cannot ask about): leave it
    return True


def _lock(fd: int) -> None:
    """Mark the open temporary file ``fd`` as being written (released when it is closed)."""
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # a file system without locks: the pid and age rules alone decide
        pass


def _locked(path) -> bool:
    """True when a live writer holds ``path`` locked (``_lock``)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # a file system without locks
        return False
    finally:
        os.close(fd)
    return False


def _unlink(path) -> bool:
    try:
        os.unlink(path)
    except OSError:  # gone already, or a read-only folder where nothing was written
        return False
    return True


def _raise_write_error(e: OSError, operation: str, path: Path) -> NoReturn:
    """Raise ``e`` as a WriteError with the cause and the fix, or as it is for other errors."""
    if e.errno not in _CAUSES:
        raise e
    folder = path.parent if str(path.parent) else Path(".")
    what, fix = (s.format(folder=folder, path=path) for s in _CAUSES[e.errno])
    kept = "the old file is unchanged" if path.exists() else "nothing was written"
    message = (f"{operation}: cannot write {path}: {what} ({e.strerror or e}); "
               f"{kept}. Fix: {fix}.")
    error = WriteError(e.errno, message)
    error.filename = str(path)
    raise error from e
