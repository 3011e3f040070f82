"""What the benchmarks ran on: CPU, cores, memory, load, library and BLAS versions."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def _cpuinfo_field(field: str) -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 ** 2
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def blas_info() -> list[dict]:
    """The BLAS/OpenMP pools NumPy loaded (threadpoolctl), with their thread counts."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: pool.get(k) for k in keys} for pool in threadpool_info()]


def machine_info(threads: int) -> dict:
    """A description of this machine and software for the results file."""
    import numpy as np

    import zerodl

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return {
        "cpu": _cpuinfo_field("model name"),
        "cores": cores,
        "memory_gb": _memory_gb(),
        "load_average": os.getloadavg(),
        "threads": threads,
        "openblas_thread_timeout": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "torch": _version("torch"),
        "zerodl": zerodl.__version__,
        "platform": platform.platform(),
    }
