"""Keep freed array memory in the process, so a training step does not page-fault.

Every training step allocates and frees the same large arrays: activations,
gradients, patch matrices, megabytes each. glibc's malloc, as it starts,
hands out any block over 128 KiB as a fresh mapping and unmaps it on free,
and gives the top of its heap back to the OS past 128 KiB. The next step then
takes every page of those arrays back through a page fault, each one zeroed
by the kernel: about 900 faults per SimpleConvNet step, and 10–20% of its
time. (glibc raises the limits by itself after some frees, so whether a given
process suffers depends on what it happened to allocate first.)

``keep_freed_memory`` sets both limits: blocks up to 32 MiB come from the
heap and freed memory is reused, up to 256 MiB of it kept. The setting is
the whole process's, so ``import zerodl`` does not make it: the ``zerodl``
command and the benchmarks, which own their processes, call it at start, and
so can a script or notebook that trains (``zd.keep_freed_memory()``). Set
``ZERODL_KEEP_FREED_MEMORY=0`` to leave malloc as it is even then. On other
C libraries (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

MMAP_THRESHOLD = 32 << 20   # bytes; larger blocks are still mapped (glibc's maximum)
TRIM_THRESHOLD = 256 << 20  # bytes of free heap top kept instead of given back
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from <malloc.h>


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True when malloc was tuned.

    Call it once at the start of a script or notebook that trains: every step
    then reuses the memory of the last one instead of page-faulting it back in.
    """
    if os.environ.get("ZERODL_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
