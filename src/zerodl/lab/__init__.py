"""The zerodl lab: a local web page where gradients, optimizers and networks learn, live.

    zerodl lab                      # opens http://127.0.0.1:8765/ in the browser

Three panels: *Descent* races optimizers on a 2-D surface (a built-in one or
a formula typed in x and y), *Network* trains an MLP on a 2-D dataset and
draws its decision boundary as it learns, *Digits* reads a digit drawn with
the mouse or a finger. The server is Python's standard ``http.server``; the
page is hand-written HTML, CSS and JavaScript shipped in ``lab/static``.
"""

from .server import LabServer, start_in_thread

__all__ = ["LabServer", "start_in_thread"]
