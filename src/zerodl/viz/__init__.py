"""Figures of the book and its articles: surfaces, gradient fields, descent paths, curves, filters.

Every function returns a matplotlib ``Figure`` and, given ``path=``, saves it
there too (written to a temporary file and renamed, so a half-written image
is never left behind). matplotlib is imported inside the functions, so
``import zerodl`` never needs it (``pip install zerodl[plot]``).

Figures are made with ``matplotlib.figure.Figure`` rather than ``pyplot``:
they need no window or backend (they render headless), are not kept alive by
pyplot's registry, and are shown in a notebook by ending a cell with the figure.

Where to read what:

    landscapes.py   plot_surface, plot_gradient_field, plot_trajectories
    functions.py    plot_activations, plot_difference_error, difference_errors
    training.py     plot_history, plot_filters
    graphs.py       draw_graph (Graphviz DOT text), render
    common.py       the Figure every function starts from, and saving it
"""

from .functions import difference_errors, plot_activations, plot_difference_error
from .graphs import draw_graph, render
from .landscapes import plot_gradient_field, plot_surface, plot_trajectories
from .training import plot_filters, plot_history

__all__ = ["plot_surface", "plot_gradient_field", "plot_trajectories", "plot_activations",
           "plot_difference_error", "difference_errors", "plot_history", "plot_filters",
           "draw_graph", "render"]
