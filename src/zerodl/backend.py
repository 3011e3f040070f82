"""The array module: NumPy by default, CuPy when arrays live on a GPU.

Operations never import numpy for their arithmetic; they ask
``get_array_module(x)`` which module owns ``x`` and use that, so the same
code runs on CPU (NumPy) and GPU (CuPy).
"""

from __future__ import annotations

import numpy as np

try:  # CuPy is optional: `pip install zerodl[gpu]` on a machine with CUDA.
    import cupy as _cupy  # type: ignore[import-not-found]
except Exception:  # ImportError, or a CUDA runtime that fails to load
    _cupy = None

# CuPy imports without a GPU too; only its first array would fail, with a CUDA error.
try:
    gpu_available: bool = _cupy is not None and bool(_cupy.cuda.is_available())
except Exception:  # a broken CUDA install
    gpu_available = False


def array_of(x):
    """A Tensor's array (its ``.data``), or ``x`` itself. (An array's own ``.data`` is
    no array: a memoryview in NumPy, a device pointer in CuPy.)"""
    return x.data if hasattr(x, "requires_grad") else x


def is_gpu_array(a) -> bool:
    """True for a CuPy array (anything with CUDA's array interface), Tensors not looked into."""
    return hasattr(a, "__cuda_array_interface__")


def is_array(a) -> bool:
    """True for a NumPy or CuPy array (not a Tensor, not a number or list)."""
    return isinstance(a, np.ndarray) or is_gpu_array(a)


def get_array_module(*arrays):
    """Return ``cupy`` if any of ``arrays`` is a CuPy array, else ``numpy``.

    Tensors are looked through to their array.
    """
    if _cupy is not None:
        for a in arrays:
            if isinstance(array_of(a), _cupy.ndarray):
                return _cupy
    return np


def as_numpy(x) -> np.ndarray:
    """Return ``x`` as a NumPy array, copying from the GPU when needed."""
    if isinstance(x, np.ndarray):
        return x
    x = array_of(x)
    if _cupy is not None and isinstance(x, _cupy.ndarray):
        return _cupy.asnumpy(x)
    return np.asarray(x)


def as_cupy(x):
    """Return ``x`` as a CuPy array (raises a clear error when CuPy is missing)."""
    if not gpu_available:
        raise RuntimeError(
            "zerodl: CuPy is not installed or no CUDA device is visible; "
            "install it with `pip install zerodl[gpu]` on a machine with an NVIDIA GPU"
        )
    return _cupy.asarray(array_of(x))


DEVICES = ("cpu", "gpu", "cuda")


def to_device(x, device: str):
    """``x`` (an array) on ``device``: "cpu" gives a NumPy array, "gpu" (or "cuda") a CuPy one.

    An array already there is returned as it is (no copy).
    """
    return as_numpy(x) if device_name(device) == "cpu" else as_cupy(x)


def device_of(x) -> str:
    """"gpu" when ``x`` (an array or Tensor) lives on the GPU, else "cpu"."""
    return "cpu" if get_array_module(x) is np else "gpu"


def device_name(device: str) -> str:
    """"cpu" or "gpu" for a device name ("cuda" is "gpu"); a clear error for any other."""
    name = str(device).lower()
    if name not in DEVICES:
        raise ValueError(f"zerodl: unknown device {device!r}; use 'cpu' or 'gpu'")
    return "cpu" if name == "cpu" else "gpu"
