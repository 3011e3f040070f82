"""The old name of ``zerodl.optional``: import ``MissingExtra`` from there.

Kept only while zerodl/io.py still imports ``zerodl.extras``; it goes once
io.py imports ``zerodl.optional``.
"""

from .optional import MissingExtra  # noqa: F401
