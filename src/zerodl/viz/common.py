"""What every figure shares: a new figure through pyplot, the axes to draw on, and saving.

A zerodl figure is made by ``pyplot.figure`` whenever pyplot can start, so it
behaves as a matplotlib user expects: ``plt.show()`` shows it, ``fig.show()``
works, ``plt.gcf()`` is it, and in Jupyter it appears once, whether it ends
the cell or not (see display.py). matplotlib picks its backend as usual:
``MPLBACKEND``, the rc file, a window where there is a display, Agg where
there is none, the inline backend in a Jupyter kernel.

pyplot keeps every figure it made until ``plt.close``. So that saving figures
in a loop never piles them up, a figure saved with ``path=`` under a
non-interactive backend (Agg and the file backends: scripts without a
display, CI, the ``zerodl`` commands) is released from pyplot right after it
is written; it is still returned, complete. A figure that holds the caller's
``ax=`` is theirs and stays with pyplot (their ``plt.savefig()`` and
``plt.gcf()`` must still find it). In Jupyter the inline backend
closes the figures of a cell once they are shown. Elsewhere close what you
no longer need with ``plt.close(fig)`` (or ``plt.close("all")``), as with any
pyplot figure.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from ..files import atomic_write
from ..optional import MissingExtra

NON_INTERACTIVE = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def figure(size):
    """A new Figure of ``size`` inches with a constrained layout, made through pyplot.

    It is a ``matplotlib.figure.Figure`` (zerodl's subclass, which shows itself
    once in Jupyter). When pyplot cannot start its backend, the figure is made
    off-screen instead, with a warning: it can still be saved. Raises
    MissingExtra (how to install matplotlib) when matplotlib is missing.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        raise MissingExtra("zerodl.viz: figures need matplotlib: pip install 'zerodl[plot]'") from e
    from .display import Figure

    try:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=size, layout="constrained", FigureClass=Figure)
    except ImportError as e:  # a backend named by MPLBACKEND or the rc file that cannot load
        warnings.warn(f"zerodl.viz: pyplot could not start its backend ({e}); the figure is "
                      "drawn off-screen: save it with path= or fig.savefig()", stacklevel=3)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = Figure(figsize=size, layout="constrained")
        FigureCanvasAgg(fig)
        return fig


def new_axes(ax, size, **subplot_kw):
    """``(figure, axes)`` to draw on: ``ax`` and the figure holding it when given,
    otherwise a new figure of ``size`` with one subplot (``subplot_kw`` such as
    ``projection="3d"``)."""
    if ax is not None:
        return figure_of(ax), ax
    fig = figure(size)
    return fig, fig.add_subplot(**subplot_kw)


def axes_list(ax, count: int, operation: str) -> list:
    """``ax`` as a list of ``count`` Axes: one Axes when count is 1, or any sequence
    (a list, or the array ``plt.subplots`` returns) holding ``count`` of them."""
    if hasattr(ax, "flat"):
        ax = list(ax.flat)
    axes = list(ax) if isinstance(ax, Sequence) else [ax]
    if len(axes) != count:
        raise ValueError(f"{operation}: ax must hold {count} Axes here (one per panel), got "
                         f"{len(axes)}; pass e.g. plt.subplots(1, {count})[1]")
    return axes


def figure_of(ax):
    """The top-level Figure that holds ``ax`` (not a SubFigure)."""
    try:
        return ax.get_figure(root=True)
    except TypeError:  # matplotlib < 3.10: figure is the root unless subfigures are used
        return getattr(ax.figure, "figure", None) or ax.figure


def finish(fig, path, made_here: bool):
    """Save ``fig`` to ``path`` when given (format from the suffix, written to a temporary
    file and renamed) and return it; a figure ``made_here`` (not the one holding the caller's
    ``ax=``) is then released from pyplot under a non-interactive backend (see the module's
    docstring)."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fmt = path.suffix.lstrip(".") or "png"
        atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=110))
        if made_here and non_interactive_backend():
            release(fig)
    return fig


def release(fig) -> None:
    """Take ``fig`` off pyplot's list of open figures (the figure itself stays usable)."""
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None and getattr(fig.canvas, "manager", None) is not None:
        plt.close(fig)


def non_interactive_backend() -> bool:
    """Whether pyplot's backend draws to files only (Agg, pdf, svg, ...): nothing can be shown."""
    import matplotlib

    return matplotlib.get_backend().lower() in NON_INTERACTIVE
