"""Small generated datasets: no files, made in milliseconds, the same for the same seed.

Each returns ``(X, y)``: float32 features and int64 class labels (float32
targets for the regression set ``sine``), shuffled, ready for a DataLoader
(``DataLoader((X, y), batch_size=30)``). ``seed`` seeds a fresh
``np.random.default_rng(seed)``; with ``seed=None`` the library's generator
(``zerodl.manual_seed``) is used. ``GENERATED`` maps each set's name to its
function, for callers that take the name from a user or a saved file.

Sizes are whole numbers of at most ``MAX_POINTS`` points in all and noise a
finite number >= 0; anything else is refused before memory is taken.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..random import default_rng

MAX_POINTS = 10_000_000  # 2-D float64 points: 160 MB before the float32 copy


def spiral(
    n_per_class: int = 100, classes: int = 3, noise: float = 0.2, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`classes` interleaved spiral arms in 2-D, `n_per_class` points each.

    Point i of arm j sits at radius r = i / n_per_class and angle
    theta = 4 j + 4 r + noise * N(0, 1), i.e. X = (r sin theta, r cos theta):
    the classic spiral that no straight line separates. X (N, 2), y (N,) in 0..classes-1.
    """
    _check("spiral", noise, n_per_class=n_per_class, classes=classes)
    if n_per_class * classes > MAX_POINTS:
        raise ValueError(f"spiral: n_per_class * classes = {n_per_class * classes:,} points, "
                         f"more than MAX_POINTS = {MAX_POINTS:,}; ask for fewer")
    rng = _rng(seed)
    r = np.tile(np.arange(n_per_class) / n_per_class, classes)
    y = np.repeat(np.arange(classes), n_per_class)
    theta = 4.0 * y + 4.0 * r + noise * rng.standard_normal(r.shape)
    X = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return _shuffled(X, y, rng)


def xor(n: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: points in the four quadrants, label 1 where x1 and x2 differ in sign.

    Each point is uniform in its quadrant's unit square plus noise * N(0, 1)
    jitter; the quadrants take turns, so each class has n/2 points (+-1).
    X (n, 2), y (n,) in {0, 1}: a single linear layer cannot fit it.
    """
    _check("xor", noise, n=n)
    rng = _rng(seed)
    quadrant = np.arange(n) % 4
    signs = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]])[quadrant]
    X = signs * rng.uniform(0.0, 1.0, (n, 2)) + noise * rng.standard_normal((n, 2))
    y = (quadrant >= 2).astype(np.int64)
    return _shuffled(X, y, rng)


def circles(
    n: int = 200, noise: float = 0.1, factor: float = 0.5, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: the outer one (radius 1) is class 0, the inner (radius `factor`) 1.

    Points are evenly spaced in angle, plus noise * N(0, 1) jitter in x and y.
    X (n, 2), y (n,) with n // 2 points in class 1.
    """
    _check("circles", noise, n=n)
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor={factor} must lie in (0, 1) (inner radius / outer)")
    rng = _rng(seed)
    n_inner = n // 2
    n_outer = n - n_inner
    angles = np.concatenate([
        np.linspace(0, 2 * np.pi, n_outer, endpoint=False),
        np.linspace(0, 2 * np.pi, n_inner, endpoint=False),
    ])
    y = np.repeat([0, 1], [n_outer, n_inner])
    radius = np.where(y == 1, factor, 1.0)
    X = radius[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(X, y, rng)


def sine(n: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """1-D regression: x uniform in [0, 1), y = sin(2 pi x) + noise * N(0, 1).

    Returns x (n, 1) and y (n, 1), both float32: fit with mse_loss.
    """
    _check("sine", noise, n=n)
    rng = _rng(seed)
    x = rng.uniform(0.0, 1.0, (n, 1))
    y = np.sin(2 * np.pi * x) + noise * rng.standard_normal((n, 1))
    return x.astype(np.float32), y.astype(np.float32)


GENERATED = {"spiral": spiral, "xor": xor, "circles": circles, "sine": sine}


def _check(fn: str, noise, **sizes) -> None:
    """Refuse sizes that are not whole numbers in [1, MAX_POINTS] and noise that is not finite >= 0."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{fn}: {name} must be a whole number, got {value!r}")
        if not 1 <= value <= MAX_POINTS:
            raise ValueError(f"{fn}: {name}={value} is outside [1, {MAX_POINTS:,}] "
                             "(MAX_POINTS); ask for fewer points")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"{fn}: noise must be a number, got {noise!r}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"{fn}: noise={noise} must be a finite number >= 0 (e.g. 0.1)")


def _rng(seed: int | None) -> np.random.Generator:
    return default_rng() if seed is None else np.random.default_rng(seed)


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order].astype(np.int64)
