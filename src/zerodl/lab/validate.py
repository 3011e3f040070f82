"""Checking what a request sent: each helper returns a clean value or raises BadRequest.

A BadRequest becomes HTTP 400 with ``{"error": message, "field": name}``;
the page shows the message next to the control called ``field``. The checks
below also send a ``code`` (range, number, whole, choice, missing, pair,
within, order) and the ``limits``, from which the page writes the message
in its own language; so do the other refusals a learner can meet from the
page (formula, nowhere, tick, hidden, layers, neurons, sessions, ...: i18n.js
has a sentence for each).

Numbers are range-checked before they are converted: Python compares an int
of any size with a float exactly, so a 400-digit integer is "out of range",
never an OverflowError; NaN and ±Infinity (which Python's JSON reader lets
through) fail every range. ``read_json`` refuses a body that nests deeper than
MAX_DEPTH levels before the parser, which recurses, sees it.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np

MAX_DEPTH = 32                      # the lab's bodies nest 3 levels deep
MAX_SHOWN = 40                      # characters of a refused value quoted in a message
_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")    # the ids pages make: a tab's, a training session's
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)   # a JSON string, escapes included
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


class BadRequest(Exception):
    """A request the lab refuses: ``status`` (400 unless said), a message and the field at fault."""

    def __init__(self, message: str, field: str | None, status: int = 400, **extra):
        super().__init__(message)
        self.message, self.field, self.status, self.extra = message, field, status, extra

    def body(self) -> dict:
        """The JSON answer: the message, the field it concerns, and any extra details."""
        return {"error": self.message, "field": self.field, **self.extra}


def read_json(raw: bytes) -> dict:
    """The JSON object in UTF-8 ``raw`` (``{}`` when blank); BadRequest for anything else,
    and before parsing for nesting deeper than MAX_DEPTH."""
    try:
        text = raw.decode("utf-8")   # then no '[', '"' or '\\' byte hides inside a character
    except UnicodeDecodeError as e:
        raise BadRequest(f"the body is not UTF-8 text ({e.reason} at byte {e.start})", None) \
            from None
    if not text.strip():
        return {}
    if json_depth(raw) > MAX_DEPTH:
        raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels", None)
    try:
        body = json.loads(text)
    except ValueError as e:        # also ints past Python's 4300 digits
        raise BadRequest(f"the body is not valid JSON ({e})", None) from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", None)
    return body


def json_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of the JSON text ``raw`` nest (brackets inside
    strings do not count); vectorised, so a 64 KiB body costs microseconds."""
    code = np.frombuffer(_STRING.sub(b'""', raw), np.uint8)
    step = np.isin(code, _OPEN).astype(np.int32) - np.isin(code, _CLOSE)
    return int(np.cumsum(step).max(initial=0))


def number(body: dict, key: str, default, lo: float, hi: float, field: str | None = None,
           label: str | None = None) -> float:
    """``body[key]`` as a finite float in [lo, hi] (``default`` when absent; None = required)."""
    value, field, label = _present(body, key, default, field, label)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{label} must be a number, got {shown(value)}", field, code="number")
    if not lo <= value <= hi:          # before float(): exact for huge ints, False for NaN
        raise BadRequest(f"{label} must lie between {lo:g} and {hi:g}, got {shown(value)}",
                         field, code="range", limits=[lo, hi])
    return float(value)


def integer(body: dict, key: str, default, lo: int, hi: int, field: str | None = None,
            label: str | None = None) -> int:
    """``body[key]`` as an int in [lo, hi] (``default`` when absent; None = required)."""
    value, field, label = _present(body, key, default, field, label)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{label} must be a whole number, got {shown(value)}", field, code="whole")
    if not lo <= value <= hi:
        raise BadRequest(f"{label} must lie between {lo} and {hi}, got {shown(value)}", field,
                         code="range", limits=[lo, hi])
    return value


def choice(body: dict, key: str, options, default=None, label: str | None = None) -> str:
    """``body[key]``, one of ``options``."""
    value = body.get(key, default)
    if value not in options:
        raise BadRequest(f"{label or key} must be one of {', '.join(options)}, "
                         f"got {shown(value)}", key, code="choice")
    return value


def pair(body: dict, key: str, default, bound: float, ordered: bool = True) -> tuple[float, float]:
    """``body[key]`` as two finite numbers within ±bound (increasing when ``ordered``)."""
    value, _, _ = _present(body, key, default, None, None)
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)):
        raise BadRequest(f"{key} must be two numbers, got {shown(value)}", key, code="pair")
    if not all(abs(v) <= bound for v in value):   # before float(): exact for huge ints
        raise BadRequest(f"{key} must lie within ±{bound:g}, got {shown(value)}", key,
                         code="within", limits=[-bound, bound])
    a, b = float(value[0]), float(value[1])
    if ordered and not a < b:
        raise BadRequest(f"{key} must go from low to high, got {shown(value)}", key, code="order")
    return a, b


def identifier(body: dict, key: str, default: str | None = None) -> str:
    """``body[key]``, an id of 8 to 64 letters, digits, '-' or '_' (``default`` when absent:
    None = required), safe to use as a dictionary key and to quote."""
    value = body.get(key, default)
    if default is not None and value == default:
        return value
    if not (isinstance(value, str) and _ID.fullmatch(value)):
        raise BadRequest(f"{key} must be 8 to 64 letters, digits, '-' or '_'", key)
    return value


def shown(value) -> str:
    """``repr(value)`` cut to MAX_SHOWN characters, for a message (a value may be 60 KB long)."""
    try:
        text = repr(value)
    except ValueError:             # an int too long for Python to write in decimal
        text = f"a {value.bit_length()}-bit integer"
    return _cut(text)


def b64_uint8(a) -> str:
    """Values in [0, 1] as base64 bytes 0..255: a compact image for the page's canvases."""
    a = np.clip(np.nan_to_num(np.asarray(a, dtype=np.float64)), 0.0, 1.0)
    return base64.b64encode(np.round(a * 255).astype(np.uint8).tobytes()).decode("ascii")


def _present(body: dict, key: str, default, field: str | None, label: str | None):
    """(``body[key]`` or ``default``, the field to name, the label to show); an error when both are None."""
    field, label = field or key, label or key
    value = body.get(key, default)
    if value is None:
        raise BadRequest(f"{label} is missing", field, code="missing")
    return value, field, label


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}… ({len(text):,} characters)"
