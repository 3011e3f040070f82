"""Initial weights: He, "Xavier" (the book's), and a plain normal (ch. 6.2).

Each function returns a new float32 ndarray (``dtype=`` to change it) drawn
from ``rng``, by default the library's generator (``zd.manual_seed`` seeds it).
The draws are made in the target dtype, so nothing is upcast to float64 and
cast back.

``fan_in`` is the number of inputs feeding one output unit. zerodl's layouts:
Linear's W is (in, out) as in the book, so fan_in = shape[0]; Conv2d's W is
(out_ch, in_ch, kh, kw), so fan_in = in_ch·kh·kw.
"""

from __future__ import annotations

import math

import numpy as np

from .. import random as _random


def he_normal(shape, rng: np.random.Generator | None = None, dtype=np.float32) -> np.ndarray:
    """Normal weights with std = √(2 / fan_in): He initialisation, for layers followed by ReLU.

    ReLU zeroes half of its inputs, so the variance is doubled to keep the
    activations' scale from layer to layer (the book's ch. 6.2.3).
    """
    return _normal(shape, math.sqrt(2.0 / fan_in(shape)), rng, dtype)


def xavier_normal(shape, rng: np.random.Generator | None = None, dtype=np.float32) -> np.ndarray:
    """Normal weights with std = √(1 / fan_in): the book's "Xavier" initialisation (ch. 6.2.2).

    This is the simplified form the book uses for sigmoid and tanh layers.
    Glorot and Bengio's original, which PyTorch's ``xavier_normal_`` follows,
    is std = √(2 / (fan_in + fan_out)); the two agree when fan_in = fan_out.
    """
    return _normal(shape, math.sqrt(1.0 / fan_in(shape)), rng, dtype)


def normal(shape, std: float = 0.01, rng: np.random.Generator | None = None,
           dtype=np.float32) -> np.ndarray:
    """Normal weights with a fixed std (the book's ``weight_init_std=0.01``, ch. 4.5)."""
    return _normal(shape, float(std), rng, dtype)


def fan_in(shape) -> int:
    """Inputs per output unit: shape[0] for a (in, out) matrix, in·kh·kw for a conv filter bank."""
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    if len(shape) == 0:
        raise ValueError("init: a weight needs at least one axis to have a fan-in, got shape ()")
    n = shape[0] if len(shape) <= 2 else math.prod(shape[1:])
    if n <= 0:
        raise ValueError(f"init: shape {shape} has fan-in {n}; every axis must be positive")
    return n


def _normal(shape, std: float, rng, dtype) -> np.ndarray:
    rng = _random.default_rng() if rng is None else rng
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"init: weights must be floating point, got dtype {dtype}")
    if dtype in (np.float32, np.float64):
        w = rng.standard_normal(shape, dtype=dtype)
    else:  # float16 and others: draw in float32, the generator's smallest type
        w = rng.standard_normal(shape, dtype=np.float32).astype(dtype)
    w *= dtype.type(std)
    return w


def weights(shape, init="he", rng: np.random.Generator | None = None,
            dtype=np.float32) -> np.ndarray:
    """Weights by the name the layers and models accept.

    ``"he"`` (or ``"relu"``): ``he_normal``; ``"xavier"`` (or ``"sigmoid"``,
    ``"tanh"``): ``xavier_normal``; a number: ``normal`` with that std, as the
    book's ``weight_init_std``.
    """
    if isinstance(init, str):
        key = init.lower()
        if key in ("he", "relu"):
            return he_normal(shape, rng, dtype)
        if key in ("xavier", "sigmoid", "tanh"):
            return xavier_normal(shape, rng, dtype)
        raise ValueError(
            f"init: unknown initialisation {init!r}; use 'he', 'xavier' or a std such as 0.01"
        )
    return normal(shape, float(init), rng, dtype)
