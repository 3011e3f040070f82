"""Checking what a request sent: each helper returns a clean value or raises BadRequest.

A BadRequest becomes HTTP 400 with ``{"error": message, "field": name}``;
the page shows the message next to the control called ``field``.
"""

from __future__ import annotations

import base64
import math

import numpy as np


class BadRequest(Exception):
    """A request the lab refuses: ``status`` (400 unless said), a message and the field at fault."""

    def __init__(self, message: str, field: str | None, status: int = 400, **extra):
        super().__init__(message)
        self.message, self.field, self.status, self.extra = message, field, status, extra

    def body(self) -> dict:
        """The JSON answer: the message, the field it concerns, and any extra details."""
        return {"error": self.message, "field": self.field, **self.extra}


def number(body: dict, key: str, default, lo: float, hi: float, field: str | None = None,
           label: str | None = None) -> float:
    """``body[key]`` as a finite float in [lo, hi] (``default`` when absent; None = required)."""
    value, field, label = _present(body, key, default, field, label)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{label} must be a number, got {value!r}", field)
    value = float(value)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise BadRequest(f"{label} must lie between {lo:g} and {hi:g}, got {value:g}", field)
    return value


def integer(body: dict, key: str, default, lo: int, hi: int, field: str | None = None,
            label: str | None = None) -> int:
    """``body[key]`` as an int in [lo, hi] (``default`` when absent; None = required)."""
    value, field, label = _present(body, key, default, field, label)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{label} must be a whole number, got {value!r}", field)
    if not lo <= value <= hi:
        raise BadRequest(f"{label} must lie between {lo} and {hi}, got {value}", field)
    return value


def choice(body: dict, key: str, options, default=None, label: str | None = None) -> str:
    """``body[key]``, one of ``options``."""
    value = body.get(key, default)
    if value not in options:
        raise BadRequest(f"{label or key} must be one of {', '.join(options)}, got {value!r}", key)
    return value


def pair(body: dict, key: str, default, bound: float, ordered: bool = True) -> tuple[float, float]:
    """``body[key]`` as two finite numbers within ±bound (increasing when ``ordered``)."""
    value, _, _ = _present(body, key, default, None, None)
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)):
        raise BadRequest(f"{key} must be two numbers, got {value!r}", key)
    a, b = float(value[0]), float(value[1])
    if not all(math.isfinite(v) and abs(v) <= bound for v in (a, b)):
        raise BadRequest(f"{key} must lie within ±{bound:g}, got {value!r}", key)
    if ordered and not a < b:
        raise BadRequest(f"{key} must go from low to high, got {value!r}", key)
    return a, b


def b64_uint8(a) -> str:
    """Values in [0, 1] as base64 bytes 0..255: a compact image for the page's canvases."""
    a = np.clip(np.nan_to_num(np.asarray(a, dtype=np.float64)), 0.0, 1.0)
    return base64.b64encode(np.round(a * 255).astype(np.uint8).tobytes()).decode("ascii")


def _present(body: dict, key: str, default, field: str | None, label: str | None):
    """(``body[key]`` or ``default``, the field to name, the label to show); an error when both are None."""
    field, label = field or key, label or key
    value = body.get(key, default)
    if value is None:
        raise BadRequest(f"{label} is missing", field)
    return value, field, label
