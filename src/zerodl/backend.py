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

gpu_available: bool = _cupy is not None


def get_array_module(*arrays):
    """Return ``cupy`` if any of ``arrays`` is a CuPy array, else ``numpy``.

    Tensors are looked through to their ``.data``.
    """
    if _cupy is not None:
        for a in arrays:
            a = getattr(a, "data", a)
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def as_numpy(x) -> np.ndarray:
    """Return ``x`` as a NumPy array, copying from the GPU when needed."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "requires_grad"):  # a Tensor: its array
        x = x.data
    if _cupy is not None and isinstance(x, _cupy.ndarray):
        return _cupy.asnumpy(x)
    return np.asarray(x)


def as_cupy(x):
    """Return ``x`` as a CuPy array (raises a clear error when CuPy is missing)."""
    if _cupy is None:
        raise RuntimeError(
            "zerodl: CuPy is not installed or no CUDA device is visible; "
            "install it with `pip install zerodl[gpu]` on a machine with an NVIDIA GPU"
        )
    return _cupy.asarray(getattr(x, "data", x))
