"""What ``fit`` gives back: the History of a run, and the exception that Ctrl-C becomes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class History:
    """What ``fit`` measured, one entry per epoch (epochs count from 1).

    ``seconds`` is the time spent training in that epoch (forward, backward and
    updates); ``eval_seconds`` the time spent evaluating on the validation set.
    Accuracies are fractions in [0, 1], or None for regression; the validation
    fields are None when ``fit`` had no ``val_loader``.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    eval_seconds: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.epoch)

    def append(self, **values) -> None:
        """Add one epoch's values (every field by name)."""
        for f in fields(self):
            getattr(self, f.name).append(values[f.name])

    def to_dict(self) -> dict[str, list]:
        """Plain lists, ready for JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        """The inverse of ``to_dict`` (missing fields become empty lists)."""
        return cls(**{f.name: list(d.get(f.name, [])) for f in fields(cls)})


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit``: the last completed epoch is saved and can be resumed.

    ``checkpoint`` is the saved file (None when ``fit`` had no checkpoint path),
    ``epoch`` the last completed epoch and ``history`` what was measured so far.
    """

    def __init__(self, message: str, checkpoint: str | None, epoch: int, history: History):
        super().__init__(message)
        self.checkpoint = checkpoint
        self.epoch = epoch
        self.history = history

    def __str__(self) -> str:
        return str(self.args[0])
