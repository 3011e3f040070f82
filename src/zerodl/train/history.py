"""What ``fit`` gives back: the History of a run, and the exceptions that end a run early.

    history = fit(...)
    history                        # a table, one row per epoch (an HTML table in Jupyter)
    pd.DataFrame(history.to_dict())
    history.stopped                # None, "max_steps" or "diverged"

``TrainingInterrupted`` is what Ctrl-C becomes; ``DivergedError`` (a
``FloatingPointError``) is what a non-finite loss or parameter becomes.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields

MAX_ROWS = 20  # longer tables show their first and last MAX_ROWS // 2 rows


@dataclass
class History:
    """What ``fit`` measured, one row per epoch (epochs count from 1).

    ``step`` is the number of updates made so far at the end of the row.
    ``seconds`` is the time spent training in that epoch (forward, backward and
    updates); ``eval_seconds`` the time spent evaluating. The training loss and
    accuracy of an epoch are averages over its batches, measured while
    training; the validation ones are measured on ``val_loader`` after the
    epoch. Accuracies are fractions in [0, 1], or None for regression; the
    validation fields are None when ``fit`` had no ``val_loader``.

    With ``fit(..., evaluate_first=True)`` the first row is epoch 0, step 0:
    the untrained model evaluated on the training and validation sets, so that
    learning curves start where training starts. A run that ended early has a
    last row for the epoch it stopped in (its ``step`` says how far it got) and
    says why in ``stopped`` (``"max_steps"`` or ``"diverged"``, else None) and
    ``stop_message``.
    """

    epoch: list[int] = field(default_factory=list)
    step: list[int | None] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    eval_seconds: list[float] = field(default_factory=list)
    stopped: str | None = field(default=None, compare=False, repr=False)
    stop_message: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The names of the per-epoch lists, in table order."""
        return tuple(f.name for f in fields(cls) if f.name not in ("stopped", "stop_message"))

    def __len__(self) -> int:
        return len(self.epoch)

    def append(self, **values) -> None:
        """Add one row: every column by name (a column left out gets None)."""
        unknown = set(values) - set(self.columns())
        if unknown:
            raise TypeError(f"History.append: unknown columns {sorted(unknown)}; "
                            f"the columns are {list(self.columns())}")
        for name in self.columns():
            getattr(self, name).append(values.get(name))

    @property
    def steps(self) -> int:
        """The number of updates made in all the rows (0 for an empty History)."""
        known = [s for s in self.step if s is not None]
        return known[-1] if known else 0

    def to_dict(self) -> dict[str, list]:
        """The columns as plain lists of equal length: ready for JSON and for
        ``pandas.DataFrame(history.to_dict())``."""
        return {name: list(getattr(self, name)) for name in self.columns()}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        """The inverse of ``to_dict``; a missing column (an older file's) is filled with None."""
        n = len(d.get("epoch", []))
        columns = {name: list(d[name]) if name in d else [None] * n for name in cls.columns()}
        return cls(**columns, stopped=d.get("stopped"), stop_message=d.get("stop_message"))

    # ------------------------------------------------------------ tables
    def __repr__(self) -> str:
        header, rows = self._table()
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        lines = [self._title(), "  ".join(h.rjust(w) for h, w in zip(header, widths))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        if self.stop_message:
            lines.append(f"stopped: {self.stop_message}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The table for Jupyter."""
        header, rows = self._table()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                       for r in rows)
        note = f"<p>stopped: {html.escape(self.stop_message)}</p>" if self.stop_message else ""
        return (f"<div><p><b>{html.escape(self._title())}</b></p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}</div>")

    def _title(self) -> str:
        trained = sum(s for s in self.seconds if s is not None)
        epochs = self.epoch[-1] if self.epoch else 0
        return (f"History: {epochs} epochs, {self.steps} steps, "
                f"{trained:.1f} s of training")

    def _table(self) -> tuple[list[str], list[list[str]]]:
        """Header and text rows; columns that hold only None (no validation, regression) are left out."""
        shown = [("epoch", "epoch", str), ("step", "step", str),
                 ("train_loss", "training loss", _loss), ("train_accuracy", "training accuracy", _pct),
                 ("val_loss", "validation loss", _loss), ("val_accuracy", "validation accuracy", _pct),
                 ("seconds", "seconds", _secs)]
        shown = [c for c in shown if any(v is not None for v in getattr(self, c[0]))] or shown[:1]
        index = list(range(len(self)))
        if len(index) > MAX_ROWS:
            index = index[:MAX_ROWS // 2] + [None] + index[-(MAX_ROWS // 2):]
        rows = [["…"] * len(shown) if i is None else
                ["-" if getattr(self, name)[i] is None else text(getattr(self, name)[i])
                 for name, _, text in shown]
                for i in index]
        return [title for _, title, _ in shown], rows


def _loss(v: float) -> str:
    return f"{v:.4f}" if math.isfinite(v) and abs(v) < 1e5 else f"{v:.4g}"


def _pct(v: float) -> str:
    return f"{v:.2%}" if math.isfinite(v) else str(v)


def _secs(v: float) -> str:
    return f"{v:.2f}"


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


class DivergedError(FloatingPointError):
    """Training diverged: a loss or a parameter stopped being a finite number.

    ``epoch`` and ``step`` (counted within the epoch) say where it was seen;
    ``what`` is what was not finite ("training loss", "parameters",
    "validation loss"). ``checkpoint`` is the checkpoint file that ``fit``
    kept (never overwritten with non-finite values; None without one) and
    ``saved_epoch`` the epoch it holds; ``history`` what was measured before.
    A ``FloatingPointError``, so handlers of the older error still catch it.
    """

    def __init__(self, message: str, *, epoch: int, step: int, what: str,
                 checkpoint: str | None = None, saved_epoch: int | None = None,
                 history: History | None = None):
        super().__init__(message)
        self.epoch, self.step, self.what = epoch, step, what
        self.checkpoint, self.saved_epoch = checkpoint, saved_epoch
        self.history = history if history is not None else History()

    def __str__(self) -> str:
        return str(self.args[0])
