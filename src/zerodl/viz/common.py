"""What every figure shares: a new matplotlib Figure, and saving it safely."""

from __future__ import annotations

from pathlib import Path

from ..io import atomic_write
from ..optional import MissingExtra


def figure(size):
    """A new ``matplotlib.figure.Figure`` of ``size`` inches with a constrained layout;
    MissingExtra (how to install matplotlib) when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise MissingExtra("zerodl.viz: figures need matplotlib: pip install 'zerodl[plot]'") from e

    return Figure(figsize=size, layout="constrained")


def finish(fig, path):
    """Save ``fig`` to ``path`` when given (format from the suffix, written to a temporary
    file and renamed), and return it."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fmt = path.suffix.lstrip(".") or "png"
        atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=110))
    return fig
