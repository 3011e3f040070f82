"""What ``fit`` shows while it runs: a live bar per epoch, and one line per epoch that stays.

The bar (tqdm) appears only where it can be drawn: on a terminal, or in a
Jupyter kernel that has ipywidgets. It is removed when its pass ends. The line
that replaces it is plain text on stdout, so it stays in a terminal, in a
notebook cell (with or without ipywidgets) and in a log file alike::

    epoch 3/10  training loss 0.4123, accuracy 87.50%  validation loss 0.4456, accuracy 86.00%  (1.2 s)
"""

from __future__ import annotations

import sys

from .history import History


def bar(iterable, show: bool, desc: str, total: int | None):
    """``iterable`` wrapped in a live progress bar when ``show`` and one can be drawn here,
    else a disabled bar (same interface, draws nothing, warns nothing)."""
    from tqdm.std import tqdm as plain

    cls = _bar_class() if show else None
    if cls is None:
        return plain(iterable, total=total, disable=True)
    return cls(iterable, desc=desc, total=total, leave=False, unit="batch", dynamic_ncols=True)


def epoch_line(history: History, i: int, epochs: int | None) -> str:
    """Row ``i`` of ``history`` as one line of text ("validation" for ``val_loader``'s numbers)."""
    epoch = history.epoch[i]
    text = f"epoch {epoch}" + (f"/{epochs}" if epochs else "")
    if epoch == 0:
        text += " (untrained)"
    elif i == len(history) - 1 and history.stopped:
        text += f" (stopped at step {history.step[i]}: {history.stopped})"
    for split, name in (("train", "training"), ("val", "validation")):
        loss, accuracy = getattr(history, f"{split}_loss")[i], getattr(history, f"{split}_accuracy")[i]
        if loss is None and accuracy is None:
            continue
        parts = [] if loss is None else [f"loss {loss:.4f}"]
        if accuracy is not None:
            parts.append(f"accuracy {accuracy:.2%}")
        text += f"  {name} " + ", ".join(parts)
    seconds = history.seconds[i]
    if epoch and seconds is not None:
        text += f"  ({seconds:.1f} s)"
    return text


def print_line(text: str) -> None:
    """Print one finished line to stdout at once (a log sees it even when buffered)."""
    print(text, file=sys.stdout, flush=True)


def _bar_class():
    """tqdm's notebook bar in a Jupyter kernel with ipywidgets, its text bar on a terminal,
    else None (no bar: a log or a kernel without widgets gets the lines alone)."""
    if _in_jupyter_kernel():
        try:
            import ipywidgets  # noqa: F401  (tqdm.notebook warns without it; check first)
            from tqdm.notebook import tqdm
        except ImportError:
            return None
        return tqdm
    stream = sys.stderr
    if stream is not None and hasattr(stream, "isatty") and stream.isatty():
        from tqdm.std import tqdm

        return tqdm
    return None


def _in_jupyter_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})
