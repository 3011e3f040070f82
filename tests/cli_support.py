"""Helpers shared by the command-line tests (not a test module)."""

from __future__ import annotations

import builtins


def hide_matplotlib(monkeypatch) -> None:
    """Make ``import matplotlib...`` fail for the rest of the test, as on a core-only install."""
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
