"""The training loop: ``fit`` (epochs of mini-batch steps) and ``evaluate`` (a pass without a graph).

``fit`` runs the book's learning algorithm (ch. 4.5 and 6): for each
mini-batch, a forward pass, the loss, ``backward()`` and an optimizer step;
after each epoch, the loss and accuracy on the training batches and on a
validation set. With a checkpoint path it writes, after every epoch,
everything the next epoch depends on (``checkpoints.py``), so an interrupted
run that is resumed ends with exactly the parameters of one that never stopped.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

from ..autograd import Tensor, no_grad
from ..backend import device_of, get_array_module, to_device
from .checkpoints import load_checkpoint, save_checkpoint
from .history import History, TrainingInterrupted


def fit(
    model,
    loss_fn: Callable,
    optimizer,
    train_loader,
    val_loader=None,
    epochs: int = 1,
    *,
    checkpoint: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    scheduler=None,
    progress: bool = True,
    metric: str | None = "accuracy",
    on_epoch_end: Callable | None = None,
    on_step: Callable | None = None,
    comm=None,
) -> History:
    """Train ``model`` for ``epochs`` epochs (in total, counting resumed ones); return the History.

    Each step does one forward pass, ``loss_fn(output, t)``, ``backward()`` and
    ``optimizer.step()``; the training loss and accuracy of the epoch are the
    averages over its batches, taken from the same forward pass (weighted by
    batch size). After each epoch the model is evaluated on ``val_loader`` (in
    ``eval()`` mode, under ``no_grad()``), ``scheduler.step()`` is called, and a
    checkpoint is written to ``checkpoint`` when given.

    ``resume``: a checkpoint to continue from (the epochs already done there
    are not repeated). ``metric``: ``"accuracy"`` (argmax of the output against
    integer labels or one-hot targets; None for regression targets) or None.
    ``progress``: a tqdm bar per epoch, shown only on a terminal.
    ``on_step(epoch, step, loss)`` runs after every update and
    ``on_epoch_end(epoch, history)`` after every epoch.

    Data-parallel (zerodl.distributed): with ``comm``, the loaders sharded by
    it and a DistributedOptimizer, every rank trains on its part of each batch,
    and the losses and accuracies in the History are over all the ranks' samples
    (the same History on every rank). Only one rank should write ``checkpoint``.

    Batches go where the model's parameters are: after ``model.to("gpu")``
    each NumPy batch is copied to the GPU (a loader made with
    ``device="gpu"`` hands out GPU batches already, with no copy per batch).

    Ctrl-C raises ``TrainingInterrupted`` (a KeyboardInterrupt) once the
    checkpoint of the last completed epoch is on disk; its message says how to
    resume.
    """
    if epochs < 1:
        raise ValueError(f"fit: epochs must be a positive integer, got {epochs}")
    if metric not in ("accuracy", None):
        raise ValueError(f"fit: metric must be 'accuracy' or None, got {metric!r}")
    history = History()
    if resume is not None:
        history = load_checkpoint(resume, model, optimizer, scheduler, train_loader)
    elif checkpoint is not None:
        # The state before epoch 1, so that Ctrl-C in the first epoch also leaves a resumable file.
        save_checkpoint(checkpoint, model, optimizer, scheduler, train_loader, history)
    done = saved = len(history)
    if done >= epochs:
        return history

    model.train()
    epoch = done
    try:
        for epoch in range(done + 1, epochs + 1):
            start = time.perf_counter()
            train_loss, train_acc = _train_epoch(
                model, loss_fn, optimizer, train_loader, epoch, epochs, progress, metric, on_step,
                comm
            )
            seconds = time.perf_counter() - start
            val_loss = val_acc = None
            start = time.perf_counter()
            if val_loader is not None:
                val_loss, val_acc = evaluate(model, val_loader, loss_fn, metric=metric,
                                             progress=progress, desc=f"epoch {epoch}: validation",
                                             comm=comm)
            eval_seconds = time.perf_counter() - start
            history.append(epoch=epoch, train_loss=train_loss, train_accuracy=train_acc,
                           val_loss=val_loss, val_accuracy=val_acc,
                           seconds=seconds, eval_seconds=eval_seconds)
            if scheduler is not None:
                scheduler.step()
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, optimizer, scheduler, train_loader, history)
                saved = epoch
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
    except KeyboardInterrupt as e:
        if isinstance(e, TrainingInterrupted):
            raise
        raise _interrupted(checkpoint, epoch, saved, epochs, history) from None
    return history


def evaluate(model, loader, loss_fn: Callable | None = None, *, metric: str | None = "accuracy",
             progress: bool = False, desc: str = "evaluating", comm=None):
    """(loss, accuracy) of ``model`` over every batch of ``loader``, in eval mode, without a graph.

    Averages are weighted by batch size, so they are exact over the whole set.
    The loss is None without ``loss_fn``; the accuracy is None for regression
    targets or ``metric=None``. The model goes back to training mode afterwards
    if it was in it. ``progress``: a tqdm bar (on a terminal only). With a
    ``zerodl.distributed`` ``comm`` and a loader sharded by it, the totals are
    summed over the ranks: every rank gets the result for the whole set.
    """
    from tqdm.auto import tqdm

    was_training = getattr(model, "training", True)
    model.eval()
    device = _model_device(model)
    totals = _Totals(metric)
    bar = tqdm(loader, desc=desc, total=_length(loader), leave=False, unit="batch",
               dynamic_ncols=True, disable=None if progress else True)
    try:
        with no_grad():
            for x, t in bar:
                if device != "cpu":
                    x, t = to_device(x, device), to_device(t, device)
                y = model(_as_input(x))
                totals.add(y, t, float(loss_fn(y, t).item()) if loss_fn is not None else None)
    finally:
        bar.close()
        if was_training:
            model.train()
    loss, accuracy = totals.means(comm, "evaluate: the loader yielded no batches")
    return (loss if loss_fn is not None else None), accuracy


# ------------------------------------------------------------ one epoch
def _train_epoch(model, loss_fn, optimizer, loader, epoch, epochs, progress, metric, on_step,
                 comm=None):
    """One pass over ``loader``; returns (mean loss, accuracy or None)."""
    from tqdm.auto import tqdm

    totals = _Totals(metric)
    device = _model_device(model)
    bar = tqdm(loader, desc=f"epoch {epoch}/{epochs}", total=_length(loader), leave=False,
               unit="batch", dynamic_ncols=True, disable=None if progress else True)
    try:
        for step, (x, t) in enumerate(bar, start=1):
            if device != "cpu":
                x, t = to_device(x, device), to_device(t, device)
            y = model(_as_input(x))
            loss = loss_fn(y, t)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            value = float(loss.item())
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"fit: the loss became {value} at epoch {epoch}, step {step}; "
                    "the updates diverged: lower the learning rate"
                )
            totals.add(y, t, value)
            if not bar.disable and (step % 10 == 0 or step == bar.total):
                postfix = {"loss": f"{totals.loss / totals.n:.4f}"}
                if totals.has_accuracy:
                    postfix["acc"] = f"{int(totals.correct) / totals.n:.2%}"
                bar.set_postfix(postfix, refresh=False)
            if on_step is not None:
                on_step(epoch, step, value)
    finally:
        bar.close()
    return totals.means(comm, "fit: the training loader yielded no batches")


class _Totals:
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
            hits = _correct(y, t)
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


def _as_input(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _model_device(model) -> str:
    """"gpu" when the model's parameters live on the GPU, else "cpu" (also for no parameters)."""
    params = model.parameters() if hasattr(model, "parameters") else ()
    return device_of(params[0]) if params else "cpu"


def _length(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def _correct(y, t):
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


def _interrupted(checkpoint, epoch, done, epochs, history) -> TrainingInterrupted:
    if checkpoint is None:
        message = (f"training interrupted in epoch {epoch} of {epochs}; nothing was saved "
                   "(pass checkpoint=PATH to fit to be able to resume)")
        return TrainingInterrupted(message, None, done, history)
    path = str(checkpoint)
    message = (
        f"training interrupted in epoch {epoch} of {epochs}; the state after epoch {done} "
        f"is saved in {path}\n"
        f"resume with: zerodl train --resume {Path(path).parent}  "
        f"(from Python: fit(..., resume={path!r}))"
    )
    return TrainingInterrupted(message, path, done, history)
