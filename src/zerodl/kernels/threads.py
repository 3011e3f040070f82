"""Both cores for the kernels: a small pool of threads, with one-thread BLAS inside.

A multi-threaded BLAS splits each matrix product between the cores, but the
copies and elementwise work around it (building patch matrices, padding,
pooling) then run on one core while the other waits. The convolution and
pooling kernels instead split their work (blocks of samples) between a few
Python threads: NumPy releases the GIL inside copies, ufuncs and BLAS, so the
threads run truly in parallel, each with a one-thread BLAS, and meet once per
call instead of once per product.

``parallel(fn, parts)`` runs ``fn(part)`` for every part: in the calling
thread alone when threads would not help (one core, CuPy arrays, BLAS threads
that cannot be set because threadpoolctl is missing), else spread over
``workers()`` threads with the BLAS at one thread meanwhile.

``workers()`` follows the cores this process may use
(``os.sched_getaffinity``), divided among the ranks on this machine under
mpirun and capped by ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` when set;
``ZERODL_NUM_THREADS`` or ``set_num_threads(n)`` overrides it. By
default it is 1 while OpenBLAS's idle threads would spin against the
kernel's: after each multi-threaded product OpenBLAS keeps its workers
spinning for 2^OPENBLAS_THREAD_TIMEOUT cycles, 2^28 (about 0.1 s) unless that
variable was set before NumPy was loaded, and a training step's other
products (its Linear layers) would keep a spinner on the second core through
every convolution. With ``OPENBLAS_THREAD_TIMEOUT=20`` or less (the benchmark
suite sets 20), or a one-thread BLAS, the kernels use the cores.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

_SETTING = "ZERODL_NUM_THREADS"
# The most threads the kernels run at once: the caller's own and the pool's (the default
# never asks for more; set_num_threads(n) with a larger n still runs this many).
MAX_DEFAULT_WORKERS = 8
_LOCAL_RANK_VARIABLES = ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_LOCAL_SIZE")
# The longest OpenBLAS spin (2^N cycles after a call) that leaves the kernels' threads a core:
# measured in BENCHMARKS.md (20 is about 0.4 ms, and keeps small products' wake-up cost away).
MAX_BLAS_SPIN = 20

_state = {"workers": None, "cores": None, "pool": None, "blas": None, "spin": None}
_lock = threading.Lock()
_region = threading.Lock()  # one parallel region at a time: the BLAS thread count is process-wide


def workers() -> int:
    """How many threads the kernels use (at least 1)."""
    n = _state["workers"]
    if n is not None:
        return n
    cores = _state["cores"]
    if cores is None:
        cores = _state["cores"] = _default_workers()
    # ZERODL_NUM_THREADS is the user's choice, as set_num_threads is: the spin does not overrule it
    if cores > 1 and not os.environ.get(_SETTING) and not _blas_leaves_the_cores():
        return 1
    return cores


def set_num_threads(n: int | None) -> None:
    """Use ``n`` threads in the kernels (1: the single-thread path; None: the default)."""
    if n is not None and int(n) < 1:
        raise ValueError(f"set_num_threads: need at least 1 thread, got {n}")
    _state["workers"] = None if n is None else int(n)


def parallel(fn, parts, blas_threads: int = 1) -> list:
    """[fn(part) for part in parts], the parts spread over ``workers()`` threads.

    Each thread takes the next part not yet taken, so a thread slowed by another
    program on its core does fewer. While they run, the BLAS uses ``blas_threads``
    threads; it is restored after. Returns the results in the order of ``parts``.
    """
    parts = list(parts)
    n = min(workers(), len(parts))
    blas = _blas() if n > 1 else None
    # another region running (a second user thread, or a call from inside a part): alone
    if blas is None or not _region.acquire(blocking=False):
        return [fn(p) for p in parts]
    out = [None] * len(parts)
    taken = itertools.count()  # next() on it is atomic: each part is taken once

    def drain() -> None:
        for i in taken:
            if i >= len(parts):
                return
            out[i] = fn(parts[i])

    before = blas.get_num_threads()
    _set_blas_threads(blas, blas_threads)
    try:
        futures = [_pool().submit(drain) for _ in range(n - 1)]
        try:
            drain()
        finally:
            wait(futures)  # no part outlives the region, even when one failed
        for f in futures:
            f.result()  # raises a part's error
    finally:
        _set_blas_threads(blas, before)
        _region.release()
    return out


def split(n: int, k: int) -> list[tuple[int, int]]:
    """(start, count) of ``k`` near-equal consecutive ranges covering 0..n (n of them if n < k)."""
    k = max(1, min(k, n))
    bounds = [n * i // k for i in range(k + 1)]
    return [(a, b - a) for a, b in zip(bounds, bounds[1:])]


def _default_workers() -> int:
    """The cores this process may use, shared with the other ranks here under mpirun, and
    at most what OMP_NUM_THREADS or OPENBLAS_NUM_THREADS allow when set."""
    env = os.environ.get(_SETTING)
    if env:
        return max(1, int(env))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    for name in _LOCAL_RANK_VARIABLES:  # mpirun: the ranks on this machine share its cores
        if os.environ.get(name, "").isdigit():
            cores //= max(1, int(os.environ[name]))
            break
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):  # the user's own limit
        if os.environ.get(name, "").isdigit():
            cores = min(cores, int(os.environ[name]))
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def _pool() -> ThreadPoolExecutor:
    pool = _state["pool"]
    if pool is None:
        with _lock:
            pool = _state["pool"]
            if pool is None:
                pool = _state["pool"] = ThreadPoolExecutor(max_workers=MAX_DEFAULT_WORKERS - 1,
                                                           thread_name_prefix="zerodl-kernel")
    return pool


def _forget_threads() -> None:
    """In a forked child: the parent's pool threads do not exist there; start afresh."""
    global _lock, _region
    _state["pool"] = None
    _lock, _region = threading.Lock(), threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads)


def _set_blas_threads(blas, n: int) -> None:
    """The BLAS's thread count, set from whichever Python thread runs the region.

    threadpoolctl (3.8 here) lets one Python thread at a time change OpenBLAS's
    process-wide pool and silently ignores the others: a region run from a second
    thread (the lab trains in its own) kept two-thread BLAS inside each kernel
    thread. Regions run one at a time (``_region``), so the region's thread takes
    that role for the call and gives it back.
    """
    release = getattr(type(blas), "clear_controlling_thread", None)  # absent: no such rule
    if release is not None:
        release(force=True)
    blas.set_num_threads(n)
    if release is not None:
        release()


def _blas_leaves_the_cores() -> bool:
    """False when BLAS threads may be spinning on the cores the kernels would use."""
    blas = _blas()
    if blas is None:
        return False
    if blas.get_num_threads() == 1:
        return True
    spin = _state["spin"]
    if spin is None:
        spin = _state["spin"] = _openblas_spin(blas)
    return spin <= MAX_BLAS_SPIN


def _openblas_spin(blas) -> int:
    """OpenBLAS's idle spin, as N of 2^N cycles (28 when unset); a large number for other BLAS."""
    if blas.internal_api != "openblas":
        return 99  # their threads' idle policy is not known here
    try:
        timeout = blas.dynlib.openblas_thread_timeout
        timeout.restype = ctypes.c_int
        value = int(timeout())
    except (AttributeError, OSError):
        return 28
    return 28 if value <= 0 else min(max(value, 4), 30)  # OpenBLAS's own clamping


def _blas():
    """The BLAS library's thread control (threadpoolctl), or None where it is unavailable."""
    blas = _state["blas"]
    if blas is None:
        blas = False
        try:
            from threadpoolctl import ThreadpoolController
            libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
            if len(libs) == 1:
                blas = libs[0]
        except Exception:  # noqa: BLE001 (optional: any failure means today's path)
            blas = False
        _state["blas"] = blas
    return blas or None
