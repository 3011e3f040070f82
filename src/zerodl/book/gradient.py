"""The book's ``common/gradient.py`` (ch. 4.3-4.4): gradients by central differences.

``numerical_gradient(f, x)`` is zerodl's own ``zerodl.numerical.numerical_gradient``
(the one its gradient checks use): each element of ``x`` is nudged by ±h in
place, f is evaluated twice, and the element is restored exactly. As in the
book, ``f`` is called with ``x`` but usually ignores it and reads the
network's parameters, which *are* ``x`` (``lambda W: net.loss(x, t)``).
"""

from __future__ import annotations

import numpy as np

from .. import numerical

__all__ = ["numerical_gradient", "numerical_gradient_2d"]


def numerical_gradient(f, x, h: float = 1e-4):
    """∇f at ``x`` (any shape) by central differences: (f(x+h) - f(x-h)) / 2h per element (ch. 4.4).

    ``x`` must be a float array, changed in place during the call and
    restored afterwards. Use float64 for gradient checks: in float32 the
    rounding error of f is of the order of the difference itself.
    """
    return numerical.numerical_gradient(f, x, h=h)


def numerical_gradient_2d(f, X, h: float = 1e-4):
    """The gradient of f at each row of X (ch. 4.4): ``f`` maps one point (a 1-D array) to a number.

    A 1-D X is one point. Used to draw gradient fields, where X holds many points.
    """
    X = np.asarray(X)
    if X.ndim == 1:
        return numerical_gradient(f, X, h)
    grad = np.zeros_like(X)
    for i, row in enumerate(X):  # one point at a time: f sees a single point
        grad[i] = numerical_gradient(f, row, h)
    return grad
