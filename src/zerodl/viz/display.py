"""The Figure zerodl's plots return: matplotlib's, shown once in Jupyter.

Imported only when a figure is made (it imports matplotlib), never by
``import zerodl.viz``.

Why a subclass: in a Jupyter kernel the inline backend shows every pyplot
figure of a cell when the cell ends, and a figure that is the cell's last
expression is shown by IPython as well, so a plotting function's figure would
appear twice. This Figure, when IPython shows it, draws itself with the
formats IPython has for figures and then leaves pyplot's list (as the inline
backend would after showing it), so it appears once. Everything else is
matplotlib's Figure.
"""

from __future__ import annotations

import sys

from matplotlib.figure import Figure as _MatplotlibFigure


class Figure(_MatplotlibFigure):
    """A ``matplotlib.figure.Figure`` that Jupyter shows once, and whose ``show()``
    still works after it left pyplot's list (see the module's docstring)."""

    def _repr_mimebundle_(self, include=None, exclude=None):
        """In IPython: the figure in every format IPython draws figures in (PNG by
        default), through IPython's own printers; None elsewhere."""
        shell = _shell()
        if shell is None:
            return None
        data, metadata = {}, {}
        for mime, formatter in shell.display_formatter.formatters.items():
            if mime == "text/plain" or (include and mime not in include) or \
                    (exclude and mime in exclude):
                continue
            try:
                printer = formatter.lookup_by_type(_MatplotlibFigure)
            except KeyError:
                continue
            out = printer(self)
            if isinstance(out, tuple):  # (data, metadata), e.g. retina PNG
                out, metadata[mime] = out
            if out is not None:
                data[mime] = out
        if not data:
            return None
        if _inline_backend():
            from .common import release

            release(self)  # shown now: the end-of-cell flush must not show it again
        return (data, metadata) if metadata else data

    def show(self, warn: bool = True) -> None:
        """Show the figure as pyplot's ``Figure.show`` does; a figure that already left
        pyplot's list is shown again in Jupyter, and is a quiet no-op where nothing
        can be shown (Agg)."""
        if getattr(self.canvas, "manager", None) is None:
            if _shell() is not None and _inline_backend():
                from IPython.display import display

                display(self)
                return
            from .common import non_interactive_backend

            if non_interactive_backend():
                return
        super().show(warn)


def _shell():
    """The running IPython shell, or None (IPython is not imported here for that)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _inline_backend() -> bool:
    import matplotlib

    return "inline" in matplotlib.get_backend()
