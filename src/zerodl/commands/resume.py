"""What `zerodl train --resume DIR` reads, checked before a single step is taken.

A run folder may be damaged in many ways: a truncated checkpoint, a
config.json that is not JSON or names an unknown model, a random generator,
loader, scheduler or optimizer state that does not fit the run, a checkpoint
whose epoch count disagrees with its own history. Each is refused here with
one message naming the folder, the file, the part and the fix, instead of a
traceback from deep inside the restore.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .errors import CommandError

FIX = ("the folder is damaged or belongs to another run: restore a good copy of the file, "
       "or train again in a new folder (without --resume)")


def read_config(out: Path) -> dict:
    """The settings of the run in ``out`` (its config.json), checked by ``runs.check_config``."""
    from ..runs import RunConfigError, check_config

    path = out / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise CommandError(f"--resume {out}: {path} cannot be read ({_reason(e)}); {FIX}") from None
    try:
        return check_config(config, path, trained=True)
    except RunConfigError as e:
        raise CommandError(f"--resume {out}: {e}") from None


def check_checkpoint(out: Path, path: Path, model, optimizer, scheduler, loader) -> int:
    """The number of epochs done in checkpoint ``path``, once every part of it is known to
    restore into this run's objects (``fit(resume=path)`` then restores it for good).

    Refused with CommandError: a file zerodl cannot read, a missing part, a
    history whose length is not the saved epoch count, and a part (parameters,
    optimizer, scheduler, random generator, loader) that its object refuses.
    """
    from .. import io
    from .. import random as zrandom
    from ..train import History

    where = f"--resume {out}: {path}"
    try:
        state = io.load(path)
    except (OSError, ValueError) as e:
        raise CommandError(f"--resume {out}: {e}") from None
    meta = state.get("meta")
    if not isinstance(meta, dict) or not isinstance(state.get("model"), dict):
        raise CommandError(f"{where} is not a zerodl checkpoint (no model or meta); {FIX}")
    try:
        history = History.from_dict(meta["history"])
        lengths = {len(v) for v in history.to_dict().values()}
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CommandError(f"{where}: its training history cannot be read ({_reason(e)}); "
                           f"{FIX}") from None
    done = len(history)
    if lengths != {done} or history.epoch != list(range(1, done + 1)):
        raise CommandError(f"{where}: its training history is inconsistent (epochs "
                           f"{history.epoch[:5]}..., fields of lengths {sorted(lengths)}); {FIX}")
    epoch = meta.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch != done:
        raise CommandError(f"{where}: it says {epoch!r} epochs were done but its history holds "
                           f"{done}; {FIX}")
    parts = [("parameters", state["model"], model.load_state_dict),
             ("optimizer state", state.get("optimizer", {}), optimizer.load_state_dict),
             ("random generator state", meta.get("rng"), zrandom.set_state)]
    if scheduler is not None and "scheduler" in state:
        parts.append(("learning-rate schedule", state["scheduler"], scheduler.load_state_dict))
    if meta.get("loader_rng") is not None and hasattr(loader, "load_state_dict"):
        parts.append(("data loader state", meta["loader_rng"], loader.load_state_dict))
    kinds = {k: type(v) for k, v in optimizer.state_dict().get("hyperparameters", {}).items()}
    for part, saved, restore in parts:
        try:
            restore(saved)
        except Exception as e:  # whatever the object says, the file is what is wrong
            raise CommandError(f"{where}: its {part} does not fit this run "
                               f"({_reason(e)}); {FIX}") from None
    for name, value in optimizer.state_dict().get("hyperparameters", {}).items():
        fine = isinstance(value, bool) if kinds.get(name) is bool else _finite_numbers(value)
        if not fine:  # hyperparameters are restored as saved, e.g. a learning rate of "fast"
            raise CommandError(f"{where}: its optimizer's {name} = {value!r} is not "
                               f"{'true or false' if kinds.get(name) is bool else 'a finite number'}; {FIX}")
    return done


def _finite_numbers(value) -> bool:
    values = value if isinstance(value, (tuple, list)) else [value]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in values)


def _reason(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
