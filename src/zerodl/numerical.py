"""Numerical differentiation (the book's ch. 4.3-4.4) and the gradient check.

Central difference, (f(x+h) - f(x-h)) / 2h, has an error of order h²;
forward difference, (f(x+h) - f(x)) / h, of order h. Both also suffer
rounding error of order ε/h (ε ≈ 2.2e-16 in float64), so making h tiny does
not help: h = 1e-4 is the book's compromise for central differences.

``gradcheck`` compares the engine's gradients (backpropagation) with central
differences in float64: the test every operation in zerodl passes.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .autograd import Tensor, no_grad


def numerical_diff(f: Callable, x, h: float = 1e-4, method: str = "central"):
    """The derivative of a function of one variable at ``x``.

    ``method="central"``: (f(x+h) - f(x-h)) / 2h, error O(h²).
    ``method="forward"``: (f(x+h) - f(x)) / h, error O(h).
    Works elementwise when ``x`` is an array and ``f`` is elementwise. Warns
    (``UserWarning``) when ``x`` or f's values are float32 or float16: their
    rounding error over h swamps the difference; use float64.
    """
    if method not in ("central", "forward"):
        raise ValueError(f"numerical_diff: method must be 'central' or 'forward', got {method!r}")
    f_plus = f(x + h)
    _warn_if_low_precision("numerical_diff", ("x", x), ("f(x)", f_plus), h=h)
    if method == "central":
        return (f_plus - f(x - h)) / (2 * h)
    return (f_plus - f(x)) / h


def numerical_gradient(f: Callable, x, h: float = 1e-4) -> np.ndarray:
    """∇f at ``x`` by central differences, one element at a time; ``x`` is any-shape array.

    ``f`` takes the array and returns a number. Each element is nudged by ±h in
    place and restored exactly, so ``x`` is unchanged afterwards. Warns
    (``UserWarning``) when ``x`` or f's value is float32 or float16; use float64.
    """
    data = x.data if isinstance(x, Tensor) else x
    if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient: x must be a float ndarray (got {type(data).__name__}"
            f"{' of ' + str(data.dtype) if hasattr(data, 'dtype') else ''}); "
            "pass np.array(..., dtype=float)"
        )
    grad = np.zeros_like(data)
    for n, index in enumerate(np.ndindex(data.shape)):  # any layout: views are nudged in place
        original = data[index]
        data[index] = original + h
        value = f(x)
        if n == 0:
            _warn_if_low_precision("numerical_gradient", ("x", data), ("f(x)", value), h=h)
        f_plus = float(_value(value))
        data[index] = original - h
        f_minus = float(_value(f(x)))
        data[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


@dataclass
class GradError:
    """How far autodiff and central differences disagree for one input."""

    input_index: int
    max_abs_error: float
    worst_index: tuple
    autodiff: float
    numerical: float
    ok: bool


def gradient_errors(fn: Callable, *inputs, eps: float = 1e-6, atol: float = 1e-5,
                    rtol: float = 1e-3, seed: int = 0) -> list[GradError]:
    """Compare autodiff with central differences for each input that requires a gradient.

    Inputs are copied to float64. A non-scalar output is reduced to the scalar
    Σ v ⊙ fn(...) with a fixed random v, which checks every output at once.
    Warns (``UserWarning``) when fn computes in float32 anyway (its output is
    float32, e.g. a model with float32 parameters): make it compute in float64.
    """
    xs = [_float64_copy(x) for x in inputs]
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True; nothing to check")
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    _warn_if_low_precision("gradcheck", ("fn's output", out), h=eps, stacklevel=_caller_level())
    rng = np.random.default_rng(seed)
    v = None if out.size == 1 else rng.standard_normal(out.shape)

    def scalar(y: Tensor):
        return y.sum() if v is None else (y * Tensor(v)).sum()

    scalar(out).backward()
    results = []
    for i in checked:
        x = xs[i]
        analytic = np.zeros_like(x.data) if x.grad is None else np.asarray(x.grad.data, np.float64)
        with no_grad():
            numeric = numerical_gradient(lambda _: scalar(fn(*xs)).item(), x.data, h=eps)
        err = np.abs(analytic - numeric)
        bad = err - (atol + rtol * np.abs(numeric))
        worst = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.size else ()
        results.append(GradError(
            input_index=i,
            max_abs_error=float(err.max(initial=0.0)),
            worst_index=tuple(int(k) for k in worst),
            autodiff=float(analytic[worst]) if bad.size else 0.0,
            numerical=float(numeric[worst]) if bad.size else 0.0,
            ok=bool((bad <= 0).all()),
        ))
    return results


def gradcheck(fn: Callable, *inputs, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """True when autodiff gradients of ``fn`` match central differences in float64.

    Raises AssertionError naming the input, the worst element, and both values.
    Inputs are copied to float64; fn computing in float32 anyway is warned about.
    """
    for r in gradient_errors(fn, *inputs, eps=eps, atol=atol, rtol=rtol, seed=seed):
        if not r.ok:
            raise AssertionError(
                f"gradcheck: input {r.input_index}, element {r.worst_index}: autodiff "
                f"{r.autodiff:.10g} vs numerical {r.numerical:.10g} "
                f"(max abs error {r.max_abs_error:.3g}, atol {atol}, rtol {rtol})"
            )
    return True


def _caller_level() -> int:
    """The stacklevel that points a warning at the code that called gradcheck or gradient_errors."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    return level


def _float64_copy(x):
    if isinstance(x, Tensor) and x.dtype.kind == "f":
        return Tensor(np.array(x.data, dtype=np.float64), requires_grad=x.requires_grad)
    return x


def _value(y):
    return y.item() if isinstance(y, Tensor) else y


def _warn_if_low_precision(function: str, *named_values, h: float, stacklevel: int = 3) -> None:
    """One UserWarning when a ``(name, value)`` holds a float of fewer than 64 bits (an
    array, a NumPy scalar or a Tensor): a difference over h = 1e-4 then keeps about 3
    digits in float32."""
    for what, value in named_values:
        dtype = getattr(value, "dtype", None)
        if dtype is None or np.dtype(dtype).kind != "f" or np.dtype(dtype).itemsize >= 8:
            continue
        eps = float(np.finfo(dtype).eps)
        warnings.warn(
            f"{function}: {what} is {np.dtype(dtype).name}; a difference over h={h:g} has a "
            f"rounding error near {eps:.1e}/h = {eps / h:.0e} of the values, so most digits "
            "are lost; use float64 (np.float64 arrays, zd.Tensor(x.astype(np.float64)))",
            UserWarning, stacklevel=stacklevel,
        )
        return
