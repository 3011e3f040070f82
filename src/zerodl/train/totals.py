"""Sums over the batches of one pass (training or evaluation): mean loss and accuracy.

Averages are weighted by batch size, so they are exact over the whole set
whatever the size of the last batch. The accuracy compares the argmax of the
output with integer labels or one-hot targets.
"""

from __future__ import annotations

from ..autograd import Tensor
from ..backend import get_array_module


class Totals:
    """Sums over the batches of one pass: loss × batch size, right answers, samples.

    Averages weighted by batch size are exact over the whole set. The accuracy
    is dropped at the first batch whose targets are not classes (regression).
    """

    def __init__(self, metric: str | None):
        self.loss, self.correct, self.n = 0.0, 0, 0
        self.has_accuracy = metric == "accuracy"

    def add(self, y, t, loss: float | None) -> None:
        size = len(t)
        self.n += size
        if loss is not None:
            self.loss += loss * size
        if self.has_accuracy:
            hits = correct_count(y, t)
            if hits is None:
                self.has_accuracy = False
            else:
                self.correct += hits

    def means(self, comm, empty: str):
        """(mean loss, accuracy or None); with a data-parallel ``comm``, over every rank's
        samples. ``empty``: the error when there were no samples."""
        loss, correct, n = self.loss, int(self.correct), self.n
        if comm is not None and comm.size > 1:
            loss, correct, n = comm.sum([loss, correct, n])
            correct, n = round(correct), round(n)
        if n == 0:
            raise ValueError(empty)
        return loss / n, (correct / n if self.has_accuracy else None)

    def postfix(self) -> dict:
        """The running numbers for a progress bar (this process's batches)."""
        out = {"loss": f"{self.loss / self.n:.4f}"}
        if self.has_accuracy:
            out["acc"] = f"{int(self.correct) / self.n:.2%}"
        return out


def correct_count(y, t):
    """How many rows of output ``y`` pick the right class; None when ``t`` is not a class target.

    Integer labels (N,) are compared with argmax over classes (with a single
    output column: the sign of the logit); one-hot targets (N, C) with their own
    argmax. Float targets of any other shape mean regression: no accuracy.
    The count stays where ``y`` is (a NumPy integer, or a 0-d CuPy array);
    ``int()`` reads it.
    """
    y = y.data if isinstance(y, Tensor) else y
    t = t.data if isinstance(t, Tensor) else t
    t = get_array_module(y).asarray(t)
    if y.ndim != 2:
        return None
    if t.dtype.kind in "iub" and t.ndim == 1:
        pred = (y[:, 0] > 0).astype(t.dtype) if y.shape[1] == 1 else y.argmax(axis=1)
        return (pred == t).sum()
    if t.ndim == 2 and t.shape == y.shape and y.shape[1] > 1:
        return (y.argmax(axis=1) == t.argmax(axis=1)).sum()
    return None
