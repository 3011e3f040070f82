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
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ..autograd import Tensor, no_grad
from ..backend import device_of, get_array_module, to_device
from .checkpoints import load_checkpoint, loader_state, save_checkpoint, set_loader_state
from .history import DivergedError, History, TrainingInterrupted
from .progress import bar, epoch_line, print_line
from .totals import Totals

ON_NAN = ("raise", "stop", "continue")


def fit(
    model,
    loss_fn: Callable,
    optimizer,
    train_loader,
    val_loader=None,
    epochs: int | None = None,
    *,
    max_steps: int | None = None,
    evaluate_first: bool = False,
    on_nan: str = "raise",
    checkpoint: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    scheduler=None,
    progress: bool | str = True,
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

    ``epochs``: 1 by default; with ``max_steps`` and no ``epochs``, as many as
    the steps need. ``max_steps``: stop after this many updates in total (also
    in the middle of an epoch, whose row in the History then covers the steps
    made; ``history.stopped == "max_steps"``). ``evaluate_first``: before the
    first step, evaluate the untrained model on the training and validation
    sets, as the History's row for epoch 0 (step 0), so that learning curves
    start at the start (the training loader's shuffling is left as it was).

    ``on_nan``: what a training loss that is not finite does. ``"raise"`` (the
    default): ``DivergedError`` (a ``FloatingPointError``) naming the epoch, the
    step and a fix; the update from that loss is not made. ``"stop"``: training
    ends there, cleanly: the History's last row is that epoch up to that step
    and ``history.stopped == "diverged"``. ``"continue"``: training goes on
    through nan and inf (a curve that stays flat is the result).
    After every epoch the parameters and the training and validation losses
    are checked too (the last update may have made them inf): the same three
    choices apply. A checkpoint is written only for a finite epoch: the last
    good one on disk is never overwritten with non-finite values.

    ``resume``: a checkpoint to continue from (the epochs already done there
    are not repeated). ``metric``: ``"accuracy"`` (argmax of the output against
    integer labels or one-hot targets; None for regression targets) or None.
    ``progress``: True shows a live bar per epoch where one can be drawn (a
    terminal, or Jupyter with ipywidgets) and prints one line per epoch on
    stdout that stays (in logs and notebooks too); ``"bar"`` the bars alone
    (for callers that print their own lines); False nothing.
    ``on_step(epoch, step, loss)`` runs after every update and
    ``on_epoch_end(epoch, history)`` after every epoch's row is added.

    Data-parallel (zerodl.distributed): with ``comm``, the loaders sharded by
    it and a DistributedOptimizer, every rank trains on its part of each batch,
    and the losses and accuracies in the History are over all the ranks' samples
    (the same History on every rank). Only one rank should write ``checkpoint``.
    Non-finite values are then looked for after each epoch only (where every
    rank sees the same numbers), not after each step.

    Batches go where the model's parameters are: after ``model.to("gpu")``
    each NumPy batch is copied to the GPU (a loader made with
    ``device="gpu"`` hands out GPU batches already, with no copy per batch).

    Ctrl-C raises ``TrainingInterrupted`` (a KeyboardInterrupt) once the
    checkpoint of the last completed epoch is on disk; its message says how to
    resume.
    """
    _check_options(epochs, max_steps, on_nan, metric, progress)
    if epochs is None:
        epochs = 1 if max_steps is None else None
    history = History()
    if resume is not None:
        history = load_checkpoint(resume, model, optimizer, scheduler, train_loader)
    done = saved = history.epoch[-1] if len(history) else 0  # a checkpoint ends with a whole epoch
    steps = _steps_done(history, train_loader)
    if _finished(done, steps, epochs, max_steps):
        return history
    show_bar, show_lines = bool(progress), progress is True
    run = _Run(model, loss_fn, optimizer, metric, show_bar, comm)

    epoch = done
    try:
        if evaluate_first and not len(history):
            history.append(**run.evaluate_untrained(train_loader, val_loader, epochs))
            if show_lines:
                print_line(epoch_line(history, 0, epochs))
        if checkpoint is not None and resume is None:
            # The state before epoch 1, so that Ctrl-C in the first epoch also leaves a resumable file.
            if (problem := run.non_finite()) is not None:
                raise _diverged(problem, 0, 0, run, None, None, history)
            save_checkpoint(checkpoint, model, optimizer, scheduler, train_loader, history)
        model.train()
        warned = False
        while not _finished(done, steps, epochs, max_steps):
            epoch = done + 1
            limit = None if max_steps is None else max_steps - steps
            result = run.train_epoch(train_loader, epoch, epochs, limit, on_nan, on_step)
            steps += result.steps
            step = result.steps + (result.problem is not None)  # the step the epoch ended at
            problem = result.problem or run.non_finite(result.loss)
            if problem is not None and on_nan == "raise":  # before evaluating a broken model
                raise _diverged(problem, epoch, step, run, checkpoint, saved, history)
            val_loss, val_acc, eval_seconds = run.validate(val_loader, _desc(epoch, epochs))
            problem = problem or run.non_finite(val_loss=val_loss, parameters=False)
            if problem is not None and on_nan == "raise":
                raise _diverged(problem, epoch, step, run, checkpoint, saved, history)
            history.append(epoch=epoch, step=steps, train_loss=result.loss,
                           train_accuracy=result.accuracy, val_loss=val_loss, val_accuracy=val_acc,
                           seconds=result.seconds, eval_seconds=eval_seconds)
            if problem is not None and on_nan == "stop":
                history.stopped = "diverged"
                history.stop_message = str(_diverged(problem, epoch, step, run, checkpoint, saved,
                                                     history))
            elif problem is None and max_steps is not None and steps >= max_steps and \
                    (epochs is None or epoch < epochs):
                history.stopped = "max_steps"
                history.stop_message = f"max_steps={max_steps} reached in epoch {epoch}"
            if show_lines:
                print_line(epoch_line(history, len(history) - 1, epochs))
            if result.complete:
                done = epoch
                if scheduler is not None:
                    scheduler.step()
                if checkpoint is not None and problem is None:
                    save_checkpoint(checkpoint, model, optimizer, scheduler, train_loader, history)
                    saved = epoch
                elif checkpoint is not None and on_nan == "continue" and not warned:
                    warnings.warn(f"fit: epoch {epoch} ended with a non-finite {problem[0]}; the "
                                  f"checkpoint of epoch {saved} in {checkpoint} is kept, not "
                                  "overwritten (and is not updated while that lasts)", stacklevel=2)
                    warned = True
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
            if history.stopped:
                break
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
    if it was in it. ``progress``: a live bar where one can be drawn (a
    terminal, Jupyter with ipywidgets). With a ``zerodl.distributed`` ``comm``
    and a loader sharded by it, the totals are summed over the ranks: every
    rank gets the result for the whole set.
    """
    was_training = getattr(model, "training", True)
    model.eval()
    device = _model_device(model)
    totals = Totals(metric)
    batches = bar(loader, bool(progress), desc, _length(loader))
    try:
        with no_grad():
            for x, t in batches:
                if device != "cpu":
                    x, t = to_device(x, device), to_device(t, device)
                y = model(_as_input(x))
                totals.add(y, t, float(loss_fn(y, t).item()) if loss_fn is not None else None)
    finally:
        batches.close()
        if was_training:
            model.train()
    loss, accuracy = totals.means(comm, "evaluate: the loader yielded no batches")
    return (loss if loss_fn is not None else None), accuracy


# ------------------------------------------------------------ one epoch
class _EpochResult(NamedTuple):
    """What one pass over the training loader gave."""

    loss: float             # mean training loss over the batches seen
    accuracy: float | None
    steps: int              # updates made
    complete: bool          # the loader ran to its end (not cut short by max_steps or nan)
    seconds: float
    problem: tuple | None   # ("training loss", value) when a non-finite loss stopped the pass


class _Run:
    """The parts of one ``fit`` call that every epoch uses."""

    def __init__(self, model, loss_fn, optimizer, metric, show_bar, comm):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.metric, self.show_bar, self.comm = metric, show_bar, comm
        self.device = _model_device(model)
        # Alone, each step's loss is checked; data-parallel, only what every rank sees alike.
        self.check_steps = comm is None or comm.size == 1

    def train_epoch(self, loader, epoch, epochs, limit, on_nan, on_step) -> _EpochResult:
        """One pass over ``loader`` (at most ``limit`` updates)."""
        start = time.perf_counter()
        totals = Totals(self.metric)
        length = _length(loader)
        total = length if limit is None or length is None else min(length, limit)
        batches = bar(loader, self.show_bar, _desc(epoch, epochs), total)
        check = self.check_steps and on_nan != "continue"
        steps, problem, complete = 0, None, False
        try:
            for step, (x, t) in enumerate(batches, start=1):
                if self.device != "cpu":
                    x, t = to_device(x, self.device), to_device(t, self.device)
                y = self.model(_as_input(x))
                loss = self.loss_fn(y, t)
                value = float(loss.item())
                if check and not math.isfinite(value):
                    totals.add(y, t, value)
                    problem = ("training loss", value)
                    break  # no update from a loss that is not a number
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                steps = step
                totals.add(y, t, value)
                if not batches.disable and (step % 10 == 0 or step == batches.total):
                    batches.set_postfix(totals.postfix(), refresh=False)
                if on_step is not None:
                    on_step(epoch, step, value)
                if step == limit:
                    complete = step == length
                    break
            else:
                complete = True
        finally:
            batches.close()
        seconds = time.perf_counter() - start
        loss, accuracy = totals.means(self.comm, "fit: the training loader yielded no batches")
        return _EpochResult(loss, accuracy, steps, complete, seconds, problem)

    def validate(self, val_loader, desc: str) -> tuple:
        """(loss, accuracy, seconds) on ``val_loader``; Nones (and 0 s) without one."""
        if val_loader is None:
            return None, None, 0.0
        start = time.perf_counter()
        loss, accuracy = evaluate(self.model, val_loader, self.loss_fn, metric=self.metric,
                                  progress=self.show_bar, desc=desc + " validation", comm=self.comm)
        return loss, accuracy, time.perf_counter() - start

    def evaluate_untrained(self, train_loader, val_loader, epochs) -> dict:
        """The row of epoch 0: the model before any update, on the training and validation sets.

        The training loader's shuffling state is put back afterwards, so the
        run's batches are the same with or without this row.
        """
        start = time.perf_counter()
        state = loader_state(train_loader)
        train_loss, train_acc = evaluate(self.model, train_loader, self.loss_fn, metric=self.metric,
                                         progress=self.show_bar, desc=_desc(0, epochs) + " training",
                                         comm=self.comm)
        if state is not None:
            set_loader_state(train_loader, state)
        val_loss, val_acc, _ = self.validate(val_loader, _desc(0, epochs))
        return dict(epoch=0, step=0, train_loss=train_loss, train_accuracy=train_acc,
                    val_loss=val_loss, val_accuracy=val_acc, seconds=0.0,
                    eval_seconds=time.perf_counter() - start)

    def non_finite(self, train_loss=None, val_loss=None, parameters: bool = True) -> tuple | None:
        """(what, value) for the first of the parameters (unless ``parameters=False``), the
        training and the validation loss that holds inf or nan, else None."""
        for name, p in _named_parameters(self.model) if parameters else ():
            xp = get_array_module(p.data)
            if not bool(xp.isfinite(p.data).all()):
                return ("parameters", name)
        for what, value in (("training loss", train_loss), ("validation loss", val_loss)):
            if value is not None and not math.isfinite(value):
                return (what, value)
        return None


# ------------------------------------------------------------ helpers
def _check_options(epochs, max_steps, on_nan, metric, progress) -> None:
    for name, value in (("epochs", epochs), ("max_steps", max_steps)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"fit: {name} must be a positive integer or None, got {value!r}")
    if on_nan not in ON_NAN:
        raise ValueError(f"fit: on_nan must be one of {', '.join(map(repr, ON_NAN))}, got {on_nan!r}")
    if metric not in ("accuracy", None):
        raise ValueError(f"fit: metric must be 'accuracy' or None, got {metric!r}")
    if progress not in (True, False, "bar"):
        raise ValueError(f"fit: progress must be True, False or 'bar', got {progress!r}")


def _finished(epoch: int, steps: int, epochs: int | None, max_steps: int | None) -> bool:
    """True once ``epoch`` whole epochs or ``steps`` updates are all that was asked for."""
    return (epochs is not None and epoch >= epochs) or (max_steps is not None and steps >= max_steps)


def _steps_done(history: History, loader) -> int:
    """Updates made in a resumed History (an older checkpoint without steps: whole epochs of ``loader``)."""
    if not len(history) or history.step[-1] is not None:
        return history.steps
    return history.epoch[-1] * (_length(loader) or 0)


def _desc(epoch: int, epochs: int | None) -> str:
    return f"epoch {epoch}" + (f"/{epochs}" if epochs else "")


def _named_parameters(model) -> list:
    if hasattr(model, "named_parameters"):
        return model.named_parameters()
    return [(str(i), p) for i, p in enumerate(getattr(model, "parameters", list)())]


def _diverged(problem, epoch: int, step: int, run: _Run, checkpoint, saved, history) -> DivergedError:
    """The error for a non-finite ``problem`` (what, value) seen at ``epoch``, ``step``."""
    what, value = problem
    if what == "parameters":
        seen = f"parameter {value} holds inf or nan"
    else:
        seen = f"the {what} is {value}"
    if epoch == 0:
        message = f"fit: before training, {seen}: the model was given non-finite weights"
    else:
        message = f"fit: {seen} at epoch {epoch}, step {step}"
        if what == "training loss" and epoch == 1 and step == 1:
            message += (" (before any update): check the inputs and targets for nan or inf "
                        "and the initialisation")
        else:
            lr = getattr(run.optimizer, "lr", None)
            rate = f" (lr={lr:g})" if isinstance(lr, (int, float)) else ""
            message += f": the updates diverged; lower the learning rate{rate}"
    if checkpoint is None:
        message += "; nothing was saved"
    else:
        message += f"; the checkpoint of epoch {saved} in {checkpoint} is kept"
    return DivergedError(message, epoch=epoch, step=step, what=what,
                         checkpoint=None if checkpoint is None else str(checkpoint),
                         saved_epoch=None if checkpoint is None else saved, history=history)


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


def _interrupted(checkpoint, epoch, done, epochs, history) -> TrainingInterrupted:
    where = f"epoch {epoch}" + (f" of {epochs}" if epochs else "")
    if checkpoint is None:
        message = (f"training interrupted in {where}; nothing was saved "
                   "(pass checkpoint=PATH to fit to be able to resume)")
        return TrainingInterrupted(message, None, done, history)
    path = str(checkpoint)
    message = (
        f"training interrupted in {where}; the state after epoch {done} "
        f"is saved in {path}\n"
        f"resume with: zerodl train --resume {Path(path).parent}  "
        f"(from Python: fit(..., resume={path!r}))"
    )
    return TrainingInterrupted(message, path, done, history)
