"""Checkpoints: everything the next epoch of ``fit`` depends on, in one file.

A checkpoint (written atomically, via ``zerodl.io``) holds the parameters and
buffers, the optimizer's and the scheduler's state, the epoch, the History
and the random generators' states (zerodl's shared generator and the
loader's). ``load_checkpoint`` restores all of it, so a resumed run goes on
exactly as if it had never stopped.
"""

from __future__ import annotations

import math

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


class CheckpointError(ValueError):
    """A checkpoint that cannot be restored into the given objects: a damaged file, or
    another run's. The message names the file and the part that does not fit."""


def load_checkpoint(path, model, optimizer=None, scheduler=None, loader=None) -> History:
    """Restore a checkpoint written by ``fit`` into the given objects; return its History.

    Every part is checked as it is restored: the file, its training history
    (consecutive epochs ending at the saved epoch count), the parameters (finite), the
    optimizer's state and hyperparameters, the schedule, the random generators.
    Anything that does not fit raises CheckpointError naming the file and the part.
    """
    from .. import io

    try:
        state = io.load(path)
    except (OSError, ValueError) as e:
        raise CheckpointError(str(e)) from None
    meta = state.get("meta")
    if not isinstance(meta, dict) or not isinstance(state.get("model"), dict):
        raise CheckpointError(f"{path} is not a zerodl checkpoint (no model or meta)")
    bad = next((name for name, a in state["model"].items()
                if isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.isfinite(a).all()),
               None)
    if bad is not None:  # fit never saves these: an older zerodl's diverged run, or a damaged file
        raise CheckpointError(f"{path}: its parameter {bad} holds inf or NaN (a diverged run's "
                              "state); resume from an earlier copy or train again with a smaller "
                              "learning rate")
    history = _saved_history(path, meta)
    parts = [("parameters", state["model"], model.load_state_dict),
             ("random generator state", meta.get("rng"), zrandom.set_state)]
    if optimizer is not None:
        parts.append(("optimizer state", state.get("optimizer", {}), optimizer.load_state_dict))
    if scheduler is not None and "scheduler" in state:
        parts.append(("learning-rate schedule", state["scheduler"], scheduler.load_state_dict))
    if loader is not None and meta.get("loader_rng") is not None:
        parts.append(("data loader state", meta["loader_rng"],
                      lambda saved: set_loader_state(loader, saved)))
    kinds = {} if optimizer is None else {
        k: type(v) for k, v in optimizer.state_dict().get("hyperparameters", {}).items()}
    for part, saved, restore in parts:
        try:
            restore(saved)
        except Exception as e:  # whatever the object says, the file is what is wrong
            raise CheckpointError(f"{path}: its {part} does not fit this run ({_reason(e)})") from None
    if optimizer is not None:  # hyperparameters come back as saved, e.g. a learning rate of "fast"
        for name, value in optimizer.state_dict().get("hyperparameters", {}).items():
            wants_bool = kinds.get(name) is bool
            if not (isinstance(value, bool) if wants_bool else _finite_numbers(value)):
                raise CheckpointError(f"{path}: its optimizer's {name} = {value!r} is not "
                                      f"{'true or false' if wants_bool else 'a finite number'}")
    return history


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


def _saved_history(path, meta: dict) -> History:
    """The checkpoint's History, once it is consistent with the saved epoch count."""
    try:
        history = History.from_dict(meta["history"])
        lengths = {len(v) for v in history.to_dict().values()}
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"{path}: its training history cannot be read ({_reason(e)})") from None
    epochs, epoch = history.epoch, meta.get("epoch")
    first = 0 if epochs[:1] == [0] else 1  # fit(evaluate_first=True) records epoch 0 too
    if lengths - {len(history)} or epochs != list(range(first, first + len(epochs))):
        raise CheckpointError(f"{path}: its training history is inconsistent (epochs "
                              f"{epochs[:5]}..., fields of lengths {sorted(lengths)})")
    done = epochs[-1] if epochs else 0
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch != done:
        raise CheckpointError(f"{path}: it says {epoch!r} epochs were done but its history "
                              f"holds {done}")
    return history


def _finite_numbers(value) -> bool:
    values = value if isinstance(value, (tuple, list)) else [value]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in values)


def _reason(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
