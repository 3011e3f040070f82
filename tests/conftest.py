"""Shared fixtures: a seeded generator, the real datasets, a headless matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # figures render without a screen


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: random inputs are the same on every run."""
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder holding mnist/ and fashion-mnist/ (``$ZERODL_DATA``, as in CI)."""
    root = os.environ.get("ZERODL_DATA")
    candidates = [Path(root)] if root else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    for c in candidates:
        if (c / "mnist" / "SHA256SUMS").exists():
            return c
    if os.environ.get("CI"):
        pytest.fail(f"real datasets not found (ZERODL_DATA={root!r}); CI must provide them")
    pytest.skip("real datasets not found: set ZERODL_DATA to the folder holding mnist/")
