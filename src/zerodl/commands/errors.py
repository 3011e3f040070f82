"""How every `zerodl` command fails: one message, a non-zero exit status, no traceback.

A command raises ``CommandError`` for what the user can fix (a bad option, a
damaged run folder) with a message that names the command, the file or
option, the values and the fix. ``cli.main`` hands every exception that ends a
command to ``report``, which prints one message and returns the exit status:
2 for a bad option (``CommandError(..., status=2)``), 1 for any other
failure. zerodl's own errors (a damaged file, a full disk, a missing extra, a
run that diverged) already say what went wrong and the fix, so their message
is printed as it is; an error that zerodl did not foresee is printed as one
line too, with a pointer to ``zerodl --debug`` (or ``ZERODL_DEBUG=1``), which
prints the traceback as well.

Output folders are checked before any data is loaded or any work is done
(``check_output_folder``, ``check_output_file``), so a read-only folder or
an ``--out`` that names a file fails at once.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Figure formats matplotlib writes without extra programs (`zerodl plot`, `descent`).
IMAGE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp")


class CommandError(Exception):
    """A command cannot go on; the message says why and how to fix it.

    ``status`` is the exit status: 2 for a bad option or argument, 1 otherwise.
    """

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def debugging(flag: bool = False) -> bool:
    """True when tracebacks are wanted: ``--debug`` or ``ZERODL_DEBUG`` set to anything but 0."""
    return flag or os.environ.get("ZERODL_DEBUG", "").strip() not in ("", "0")


def report(command: str, error: BaseException, debug: bool = False) -> int:
    """Print how ``zerodl <command>`` failed (one message on stderr); return the exit status."""
    if debug:
        import traceback

        traceback.print_exception(error)
    name = f"zerodl {command}" if command else "zerodl"
    text = str(error).strip() or type(error).__name__
    if not isinstance(error, _EXPLAINED):
        text = (f"unexpected {type(error).__name__}: {text}. This is a zerodl bug or a case it "
                "does not know yet: run the command again as `zerodl --debug ...` (or with "
                "ZERODL_DEBUG=1) to see where it happened, and please report it")
    elif isinstance(error, MemoryError):
        text = ("out of memory" + (f" ({text})" if text != "MemoryError" else "")
                + ": ask for a smaller model, batch (--batch-size) or data set")
    print(f"{name}: {_without_prefix(text, name)}", file=sys.stderr)
    return error.status if isinstance(error, CommandError) else 1


def check_output_folder(path, option: str = "--out") -> Path:
    """``path`` as a Path, once it is known that the folder is (or can be made) and written to.

    Checked without creating anything: ``path`` is a folder or does not exist
    yet, the nearest existing folder above it is a folder, and a file can be
    created there (a read-only disk, missing permission or a full inode table
    fail here, before any data is loaded). Raises CommandError (status 2).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CommandError(f"{option} {path} is a file, not a folder: give a folder "
                           "(it is created when missing)", status=2)
    _check_can_create(path, f"{option} {path}")
    return path


def check_output_file(path, option: str = "--out", suffixes=IMAGE_SUFFIXES) -> Path:
    """``path`` as a Path, once it is known to be a file name of a known kind in a writable place.

    Refused with CommandError (status 2): a folder, a suffix not in ``suffixes``
    (no suffix means PNG), and a place where nothing can be written.
    """
    path = Path(path)
    if path.is_dir():
        raise CommandError(f"{option} {path} is a folder: give a file name, "
                           f"e.g. {option} {path / ('figure' + suffixes[0])}", status=2)
    if path.suffix and path.suffix.lower() not in suffixes:
        raise CommandError(f"{option} {path}: {path.suffix!r} is not a format zerodl can write; "
                           f"use one of {', '.join(suffixes)}", status=2)
    _check_can_create(path.parent, f"{option} {path}")
    return path


# ------------------------------------------------------------ helpers
# Errors whose message already says what went wrong and the fix (zerodl's own
# errors subclass these: CorruptFileError, WriteError, MissingExtra, ChecksumError...).
_EXPLAINED = (CommandError, OSError, ValueError, ImportError, FloatingPointError, MemoryError)


def _without_prefix(text: str, name: str) -> str:
    """The message without a leading "zerodl train: " that the raiser already wrote."""
    return text[len(name) + 2:] if text.startswith(name + ": ") else text


def _check_can_create(path: Path, what: str) -> None:
    """Raise CommandError unless ``path`` (a folder, existing or not) can be created and written."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"{what}: {existing} is a file, not a folder; choose a path "
                           "whose parents are folders", status=2)
    try:
        fd, probe = tempfile.mkstemp(prefix=".zerodl-write-check-", dir=existing)
    except OSError as e:
        raise CommandError(f"{what}: cannot write in {existing} ({e.strerror or e}); choose a "
                           "folder you may write to", status=2) from None
    os.close(fd)
    os.unlink(probe)
