"""Argument types shared by the commands: numbers within stated bounds, layer sizes, pairs.

``number`` and ``sizes`` are argparse ``type``s: a bad value fails while the
command line is parsed, before any data is read, with the option's name, the
value and the accepted range in argparse's one-line error. ``pair`` reads an
``x,y`` option (such as ``--start=-7,2``) the same way for every command.
"""

from __future__ import annotations

import argparse
import math


def number(kind, low=None, high=None, *, above=None):
    """An argparse type: a finite ``kind`` (int or float) in ``low..high``, or ``> above``.

    ``int`` also reads whole numbers written like ``1e3``; inf, NaN and
    numbers past ``high`` are refused with the bound in the message.
    """
    def parse(text: str):
        try:
            value = _read(kind, text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if above is not None and not value > above:
            bound = "positive" if above == 0 else f"more than {above:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(
                f"must be {'0 or more' if low == 0 else f'at least {low:,}'}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:,}, got {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def sizes(max_layers: int, max_width: int):
    """An argparse type: comma-separated layer sizes such as ``100,100`` (at least one)."""
    def parse(text: str) -> list[int]:
        parts = [s.strip() for s in text.split(",")]
        try:
            values = [int(s) for s in parts if s]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated layer sizes like 100,100, got {text!r}") from None
        if not values or "" in parts:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated layer sizes like 100,100, got {text!r} "
                "(an empty size between commas)")
        if any(s <= 0 for s in values):
            raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
        if len(values) > max_layers or max(values) > max_width:
            raise argparse.ArgumentTypeError(
                f"at most {max_layers} layers of at most {max_width:,} units, got {text!r}")
        return values
    parse.__name__ = "layer sizes"
    return parse


def pair(text: str, flag: str, names=("x", "y"), example: str = "-7,2",
         bound: float | None = None) -> tuple[float, float]:
    """Two finite numbers from ``"A,B"`` (``--start=-7,2``, ``--xlim=-1,1``), each within
    ``±bound`` when given; ValueError naming ``flag``, the text and an ``example`` otherwise."""
    a, b = names
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 2:
        raise ValueError(f"{flag} {text!r}: expected two numbers {a},{b}, e.g. {flag}={example}")
    within = "" if bound is None else f" within ±{bound:g}"
    if not all(math.isfinite(v) and (bound is None or abs(v) <= bound) for v in values):
        raise ValueError(f"{flag} {text!r}: {a} and {b} must be two finite numbers{within}")
    return values


def _read(kind, text: str):
    """``text`` as a finite ``kind``; an int may be written 1e3 (not 1.5)."""
    if kind is int:
        try:
            return int(text)
        except ValueError:
            pass
    value = float(text)
    if not math.isfinite(value) or (kind is int and not value.is_integer()):
        raise ValueError(text)
    return kind(value)
