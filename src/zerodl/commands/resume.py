"""What `zerodl train --resume DIR` reads, checked before a single step is taken.

A run folder may be damaged in many ways: a truncated checkpoint, a
config.json that is not JSON or names an unknown model, a random generator,
loader, scheduler or optimizer state that does not fit the run, a checkpoint
whose epoch count disagrees with its own history. Each is refused with one
message naming the folder, the file, the part and the fix, instead of a
traceback from deep inside the restore: the settings by ``runs.check_config``,
the checkpoint by ``train.load_checkpoint`` (the check every resume goes through).
"""

from __future__ import annotations

import json
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
        raise CommandError(f"--resume {out}: {path} cannot be read "
                           f"({type(e).__name__}: {e}); {FIX}") from None
    try:
        return check_config(config, path, trained=True)
    except RunConfigError as e:
        raise CommandError(f"--resume {out}: {e}") from None


def check_checkpoint(out: Path, path: Path, model, optimizer, scheduler, loader) -> int:
    """The number of epochs done in checkpoint ``path``, once it has restored into this
    run's objects (``train.load_checkpoint`` checks every part; ``fit(resume=path)``
    then restores it for good). Refused with CommandError naming the part and the fix."""
    from ..train import CheckpointError, load_checkpoint

    try:
        history = load_checkpoint(path, model, optimizer, scheduler, loader)
    except CheckpointError as e:
        raise CommandError(f"--resume {out}: {e}; {FIX}") from None
    return history.epoch[-1] if len(history) else 0
