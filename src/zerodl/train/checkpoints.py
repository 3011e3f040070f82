"""Checkpoints: everything the next epoch of ``fit`` depends on, in one file.

A checkpoint (written atomically, via ``zerodl.io``) holds the parameters and
buffers, the optimizer's and the scheduler's state, the epoch, the History
and the random generators' states (zerodl's shared generator and the
loader's). ``load_checkpoint`` restores all of it, so a resumed run goes on
exactly as if it had never stopped.
"""

from __future__ import annotations

import numpy as np

from .. import random as zrandom
from .history import History

CHECKPOINT_FORMAT = 1


def save_checkpoint(path, model, optimizer, scheduler, loader, history: History) -> None:
    """Write everything the next epoch depends on to ``path`` (atomically, via zerodl.io)."""
    from .. import io

    meta = {
        "format": CHECKPOINT_FORMAT,
        "epoch": history.epoch[-1] if len(history) else 0,  # fit saves whole epochs only
        "history": history.to_dict(),
        "rng": zrandom.get_state(),
        "loader_rng": loader_state(loader),
    }
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "meta": meta,
    }
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    io.save(state, path)


def load_checkpoint(path, model, optimizer=None, scheduler=None, loader=None) -> History:
    """Restore a checkpoint written by ``fit`` into the given objects; return its History."""
    from .. import io

    state = io.load(path)
    for key in ("model", "meta"):
        if key not in state:
            raise ValueError(f"load_checkpoint: {path} is not a zerodl checkpoint (no {key!r})")
    meta = state["meta"]
    model.load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state.get("optimizer", {}))
    if scheduler is not None and "scheduler" in state:
        scheduler.load_state_dict(state["scheduler"])
    zrandom.set_state(meta["rng"])
    if loader is not None and meta.get("loader_rng") is not None:
        set_loader_state(loader, meta["loader_rng"])
    return History.from_dict(meta["history"])


def checkpoint_epoch(path) -> int:
    """The number of completed epochs saved in a checkpoint."""
    from .. import io

    return int(io.load(path)["meta"]["epoch"])


def loader_state(loader):
    """Where the loader's shuffling stands (None for a loader without a state)."""
    if hasattr(loader, "state_dict"):
        return loader.state_dict()
    gen = getattr(loader, "generator", None)
    return {"generator": gen.bit_generator.state} if isinstance(gen, np.random.Generator) else None


def set_loader_state(loader, state) -> None:
    """Put back a state from ``loader_state``."""
    if hasattr(loader, "load_state_dict"):
        loader.load_state_dict(state)
    elif isinstance(getattr(loader, "generator", None), np.random.Generator):
        loader.generator.bit_generator.state = state["generator"]
