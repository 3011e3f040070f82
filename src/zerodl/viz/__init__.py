"""Figures of the book and its articles: surfaces, gradient fields, descent paths, curves, filters.

Every ``plot_*`` function returns a matplotlib ``Figure``, made through pyplot,
so it behaves as any matplotlib figure: ``plt.show()`` shows it, so does
``fig.show()``, and in Jupyter it appears (once) below the cell, with no
``%matplotlib inline`` needed. ``ax=`` draws into your own Axes instead (the
function then returns the Figure holding them), for example two plots side by
side::

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    viz.plot_gradient_field("bowl", ax=left)
    viz.plot_trajectories(runs, "elongated", ax=right)

Given ``path=``, the figure is also saved there (written to a temporary file
and renamed, so a half-written image is never left behind). pyplot keeps its
figures until they are closed: under a non-interactive backend (Agg: no
display, CI) a figure zerodl made and saved with ``path=`` is released at once,
so loops that save figures do not pile them up (a figure holding your ``ax=``
stays yours); otherwise close figures you are done with,
``plt.close(fig)``, as with any pyplot figure (Jupyter closes them after each
cell by itself). matplotlib is imported when the first figure is made, so
``import zerodl`` and ``import zerodl.viz`` never need it
(``pip install zerodl[plot]``).

Where to read what:

    landscapes.py    plot_surface, plot_gradient_field, plot_trajectories
    functions.py     plot_activations, plot_difference_error, difference_errors
    training.py      plot_history, plot_filters
    graphs.py        draw_graph -> Graph (DOT text that displays as a picture), render
    graph_layout.py  the matplotlib drawing of a Graph, for when Graphviz is missing
    common.py        the figure every function starts from, ax=, saving and releasing
    display.py       the Figure class: shown once in Jupyter
"""

from .functions import difference_errors, plot_activations, plot_difference_error
from .graphs import Graph, draw_graph, render
from .landscapes import plot_gradient_field, plot_surface, plot_trajectories
from .training import plot_filters, plot_history

__all__ = ["plot_surface", "plot_gradient_field", "plot_trajectories", "plot_activations",
           "plot_difference_error", "difference_errors", "plot_history", "plot_filters",
           "draw_graph", "Graph", "render"]
