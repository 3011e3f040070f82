"""Fitting a model: the training loop, evaluation, History and checkpoints.

The book's learning algorithm (ch. 4.5 and 6) in one function: for each
mini-batch, a forward pass, the loss, ``backward()`` and an optimizer step;
after each epoch, the loss and accuracy on the training batches and on a
validation set (the book watches the test set this way).

    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.named_parameters()),
                  DataLoader((X, y), batch_size=100, seed=0), val_loader, epochs=5,
                  checkpoint="runs/mlp/checkpoint.npz")

Where to read what:

    loop.py          fit and evaluate: the loop over epochs and batches
    totals.py        mean loss and accuracy over the batches of a pass
    history.py       History (what fit measured, a table), TrainingInterrupted (Ctrl-C)
                     and DivergedError (a loss or parameter became inf or nan)
    progress.py      the live bar and the one line per epoch that fit shows
    checkpoints.py   save_checkpoint, load_checkpoint (CheckpointError), checkpoint_epoch
"""

from .checkpoints import (
    CHECKPOINT_FORMAT,
    CheckpointError,
    checkpoint_epoch,
    load_checkpoint,
    save_checkpoint,
)
from .history import DivergedError, History, TrainingInterrupted
from .loop import evaluate, fit

__all__ = ["fit", "evaluate", "History", "TrainingInterrupted", "DivergedError", "save_checkpoint",
           "load_checkpoint", "checkpoint_epoch", "CHECKPOINT_FORMAT", "CheckpointError"]
