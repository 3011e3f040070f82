"""Computational graphs as pictures: the graph behind a Tensor, as DOT text that draws itself.

``draw_graph(z)`` returns a ``Graph``: a str holding the Graphviz DOT text of
the graph (print it, save it, pass it to any Graphviz tool) that also knows
its nodes and edges. In Jupyter it displays as a picture: SVG drawn by
Graphviz's ``dot`` program when it is installed (``apt-get install graphviz``,
``brew install graphviz``; Colab has it), otherwise a PNG drawn by matplotlib
with the same nodes and edges laid out left to right (graph_layout.py); with
neither, the DOT text. ``Graph.draw(ax=..., path=...)`` draws it with
matplotlib anywhere.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..autograd import Function, Tensor
from ..files import atomic_write

FREED_NOTE = ("part of this graph was freed by backward(); draw before backward() or use "
              "retain_graph=True")


class Node(NamedTuple):
    """One node of a drawn graph: a Tensor (ellipse) or a Function (box)."""

    key: str
    label: str           # lines separated by "\n"
    kind: str            # "tensor" or "function"
    style: str           # tensor: "input", "output" or "plain"; function: "plain" or "freed"


def draw_graph(output: Tensor, show_values: bool = True) -> Graph:
    """The computational graph that produced ``output``, as a ``Graph`` (Graphviz DOT text).

    Tensors are ellipses (inputs that need a gradient are filled blue, the
    output is bold; a one-element tensor shows its value); Functions are boxes
    named by their class (``Mul``, ``Add``, ``Pow``…, the book's layers).
    Draw the graph before ``backward()``, or call that with
    ``retain_graph=True``: backward frees the graph as it goes.
    In Jupyter the result displays as a picture; elsewhere ``print`` it, draw it
    with ``.draw()`` (matplotlib) or ``render(graph, "graph.png")`` (Graphviz).
    """
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str]] = []
    seen_f = set()

    def tensor_node(t: Tensor, style: str = "plain") -> str:
        key = f"t{id(t)}"
        if key not in nodes:
            if style != "output" and t.is_leaf and t.requires_grad:
                style = "input"
            nodes[key] = Node(key, _tensor_label(t, show_values), "tensor", style)
        return key

    root = tensor_node(output, "output")
    stack = [output.creator] if output.creator is not None else []
    if stack:
        edges.append((f"f{id(output.creator)}", root))
    while stack:
        fn = stack.pop()
        if id(fn) in seen_f:
            continue
        seen_f.add(id(fn))
        key = f"f{id(fn)}"
        if getattr(fn, "inputs", ()) is None:  # backward() freed this node
            nodes[key] = Node(key, f"{type(fn).__name__} (freed)", "function", "freed")
            continue
        nodes[key] = Node(key, _function_label(fn), "function", "plain")
        for x in getattr(fn, "inputs", ()):
            edges.append((tensor_node(x), key))
            if x.creator is not None and id(x.creator) not in seen_f:
                stack.append(x.creator)
        for ref in getattr(fn, "outputs", ()):
            y = ref()
            if y is not None and y is not output:
                edges.append((key, tensor_node(y)))
    return Graph.from_parts(list(nodes.values()), edges)


def render(dot_text: str, path) -> Path:
    """Render DOT text to an image with Graphviz's ``dot`` (format from the suffix, e.g. .png).

    Raises RuntimeError saying what to install when ``dot`` is not on PATH; the
    DOT text is then still written next to ``path`` (``.dot``) for any viewer.
    (``Graph.draw(path=...)`` draws without Graphviz, with matplotlib.)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("dot") is None:
        dot_path = path.with_suffix(".dot")
        atomic_write(dot_path, lambda f: f.write(dot_text.encode()))
        raise RuntimeError(
            f"render: Graphviz's `dot` program is not on PATH, so {path} was not drawn; install "
            f"Graphviz (e.g. `apt-get install graphviz`) or open {dot_path} in any Graphviz viewer"
        )
    image = _run_dot(dot_text, path.suffix.lstrip(".") or "png", "render")
    atomic_write(path, lambda f: f.write(image))
    return path


class Graph(str):
    """A computational graph: its Graphviz DOT text (the str itself) and its parts.

    ``nodes`` (a list of ``Node``) and ``edges`` (pairs of node keys, from
    input to Function and from Function to output) say the same as the text.
    In Jupyter it shows as SVG (Graphviz's ``dot``) or, without Graphviz, as a
    PNG drawn by matplotlib.
    """

    nodes: list[Node]
    edges: list[tuple[str, str]]

    @classmethod
    def from_parts(cls, nodes: list[Node], edges: list[tuple[str, str]]) -> Graph:
        """The Graph of ``nodes`` and ``edges``, its DOT text written from them."""
        graph = cls(_dot_text(nodes, edges))
        graph.nodes, graph.edges = nodes, edges
        return graph

    @property
    def freed(self) -> bool:
        """Whether backward() freed part of the graph before it was drawn."""
        return any(n.style == "freed" for n in self.nodes)

    def draw(self, ax=None, path=None):
        """Draw the graph with matplotlib, inputs on the left and the output on the right;
        ``ax``: an Axes to draw into. Saves to ``path`` when given. Returns the Figure."""
        from .common import figure, figure_of, finish
        from .graph_layout import draw_layers, figure_size

        made_here = ax is None
        if made_here:
            fig = figure(figure_size(self.nodes, self.edges))
            ax = fig.add_subplot()
        else:
            fig = figure_of(ax)
        draw_layers(ax, self.nodes, self.edges, FREED_NOTE if self.freed else None)
        return finish(fig, path, made_here)

    def svg(self) -> str:
        """The picture as SVG text, drawn by Graphviz's ``dot`` (RuntimeError without it)."""
        if shutil.which("dot") is None:
            raise RuntimeError("Graph.svg: Graphviz's `dot` program is not on PATH; install "
                               "Graphviz, or draw with matplotlib: graph.draw()")
        return _run_dot(str(self), "svg", "Graph.svg").decode()

    def png(self) -> bytes:
        """The picture as PNG bytes: by Graphviz's ``dot`` when installed, else by matplotlib."""
        if shutil.which("dot") is not None:
            return _run_dot(str(self), "png", "Graph.png")
        from .graph_layout import png_bytes

        return png_bytes(self.nodes, self.edges, FREED_NOTE if self.freed else None)

    def _repr_svg_(self) -> str | None:
        return self.svg() if shutil.which("dot") is not None else None

    def _repr_png_(self) -> bytes | None:
        if shutil.which("dot") is not None:
            return None  # shown as SVG
        try:
            return self.png()
        except ImportError:  # no matplotlib either: the DOT text is what can be shown
            return None

    def __repr__(self) -> str:
        functions = sum(n.kind == "function" for n in self.nodes)
        tensors = len(self.nodes) - functions
        freed = ", partly freed by backward()" if self.freed else ""
        return (f"<computational graph: {functions} functions, {tensors} tensors{freed}; "
                "print() it for the Graphviz DOT text, .draw() for a figure>")


# ---------------------------------------------------------------- helpers
def _dot_text(nodes: list[Node], edges: list[tuple[str, str]]) -> str:
    """Graphviz DOT: node lines first, then the edges, then a note when nodes were freed."""
    lines = ["digraph zerodl {", '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];']
    for n in nodes:
        label = n.label.replace("\n", "\\n")
        if n.kind == "tensor":
            style = {"output": "style=bold", "input": 'style=filled, fillcolor="#cfe2ff"',
                     "plain": "style=solid"}[n.style]
            lines.append(f'  {n.key} [label="{label}", shape=ellipse, {style}];')
        elif n.style == "freed":
            lines.append(f'  {n.key} [label="{label}", shape=box, style=dashed];')
        else:
            lines.append(f'  {n.key} [label="{label}", shape=box, style=filled, '
                         'fillcolor="#fff3cd"];')
    lines += [f"  {a} -> {b};" for a, b in edges]
    if any(n.style == "freed" for n in nodes):
        lines.append(f'  note [shape=note, label="{FREED_NOTE}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _run_dot(dot_text: str, fmt: str, operation: str) -> bytes:
    done = subprocess.run([shutil.which("dot") or "dot", f"-T{fmt}"], input=dot_text.encode(),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{operation}: dot failed ({done.returncode}): "
                           f"{done.stderr.decode().strip()}")
    return done.stdout


def _tensor_label(t: Tensor, show_values: bool) -> str:
    name = f"{t.name}\n" if t.name else ""
    if show_values and t.size == 1:
        return f"{name}{float(np.asarray(t.data)):.4g}"
    return f"{name}{tuple(t.shape)} {t.dtype}"


def _function_label(fn: Function) -> str:
    name = type(fn).__name__
    c = getattr(fn, "c", None)
    return f"{name} (**{c:g})" if name == "Pow" and c is not None else name
