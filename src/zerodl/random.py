"""One seed for all of zerodl's randomness.

zerodl never touches NumPy's global random state. Initialisers, dropout and
data shuffling draw from generators made by ``default_rng()``, which derives
them from the seed given to ``manual_seed`` (or fresh OS entropy when none was).
"""

from __future__ import annotations

import numpy as np

_root: np.random.SeedSequence = np.random.SeedSequence()
_generator: np.random.Generator = np.random.default_rng(_root)


def manual_seed(seed: int) -> None:
    """Seed every random choice zerodl makes: the same seed gives the same run."""
    global _root, _generator
    _root = np.random.SeedSequence(seed)
    _generator = np.random.default_rng(_root)


def default_rng() -> np.random.Generator:
    """The library's shared generator (re-made by ``manual_seed``)."""
    return _generator


def get_state() -> dict:
    """The shared generator's state, for checkpoints."""
    return _generator.bit_generator.state


def set_state(state: dict) -> None:
    """Restore the shared generator's state from a checkpoint."""
    _generator.bit_generator.state = state
