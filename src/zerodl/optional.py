"""The optional parts of zerodl, and the error that says how to install one.

``import zerodl`` needs NumPy alone. Figures (matplotlib), .safetensors files
and MPI come with extras: ``pip install 'zerodl[plot]'``, ``[io]``, ``[dist]``.
Where one is missing, zerodl raises MissingExtra, whose message names the
``pip install`` that fixes it; the command line prints that message alone.
"""

from __future__ import annotations


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says what to ``pip install``."""
