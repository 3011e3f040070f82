"""The systems under test, each behind the same small trainer interface.

A trainer is made from a Task and zerodl's initial parameters and offers:

    batch = trainer.prepare(x, t)     # numpy float32 batch -> the system's own form (untimed)
    loss = trainer.step(batch)        # one training step: forward, backward, update
    trainer.loss_value(loss)          # the loss as a Python float
    trainer.eval_loss(batch)          # evaluation-mode loss (no dropout, no update), a float
    trainer.accuracy(x, t)            # evaluation-mode accuracy on numpy arrays
"""

from __future__ import annotations

SYSTEMS = ("zerodl", "torch", "reference")
DTYPES = {"zerodl": "float32", "torch": "float32", "reference": "float64"}


def unavailable_reason(system: str) -> str | None:
    """None when ``system`` can run here, else why not (PyTorch is optional)."""
    if system not in SYSTEMS:
        return f"unknown system {system!r}; known systems: {', '.join(SYSTEMS)}"
    if system == "torch":
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            return "PyTorch is not installed (pip install -e '.[bench]' installs torch==2.13.0)"
    return None


def make_trainer(system: str, task, params):
    """The trainer of ``system`` for ``task``, starting from ``params`` (see tasks.initial_params)."""
    reason = unavailable_reason(system)
    if reason:
        raise RuntimeError(f"make_trainer: {reason}")
    if system == "zerodl":
        from .zerodl_system import ZerodlTrainer
        return ZerodlTrainer(task, params)
    if system == "torch":
        from .torch_system import TorchTrainer
        return TorchTrainer(task, params)
    from .reference_system import ReferenceTrainer
    return ReferenceTrainer(task, params)


def batched_accuracy(logits_of, x, t, batch_size: int = 1000) -> float:
    """Share of the rows of x whose largest logit is at label t; ``logits_of`` maps a
    numpy batch to a numpy (batch, classes) array, called ``batch_size`` rows at a time."""
    hits = 0
    for i in range(0, len(x), batch_size):
        logits = logits_of(x[i:i + batch_size])
        hits += int((logits.argmax(axis=1) == t[i:i + batch_size]).sum())
    return hits / len(x)


def set_threads(system: str, threads: int) -> list:
    """Cap BLAS/OpenMP pools (and PyTorch's intra-op pool) at ``threads``.

    The environment variables were set before NumPy was imported; this also
    reaches pools that ignore them. Returns what must be kept alive.
    """
    keep = []
    try:
        from threadpoolctl import threadpool_limits
        keep.append(threadpool_limits(limits=threads))
    except ImportError:  # the environment variables alone then
        pass
    if system == "torch":
        import torch
        torch.set_num_threads(threads)
    return keep
