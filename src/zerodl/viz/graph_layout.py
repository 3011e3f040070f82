"""A computational graph drawn by matplotlib, for when Graphviz is not installed.

The layout is the layered one Graphviz's ``dot`` uses, in its simplest form:
each node sits in the column of its longest path from an input (inputs on
the left, the output on the right), and the nodes of a column are ordered by
the mean height of their neighbours, sweeping left and right a few times,
which removes most edge crossings of the small graphs a learner draws.
"""

from __future__ import annotations

import io
import textwrap
from collections import defaultdict

STYLES = {  # (box style, face colour, line width, line style) by (kind, style): tensors
    # in rounded boxes, Functions in square ones, coloured as draw_graph's DOT text
    ("tensor", "input"): ("round,pad=0.4,rounding_size=0.85", "#cfe2ff", 1.0, "solid"),
    ("tensor", "output"): ("round,pad=0.4,rounding_size=0.85", "white", 2.2, "solid"),
    ("tensor", "plain"): ("round,pad=0.4,rounding_size=0.85", "white", 1.0, "solid"),
    ("function", "plain"): ("square,pad=0.35", "#fff3cd", 1.0, "solid"),
    ("function", "freed"): ("square,pad=0.35", "white", 1.0, "dashed"),
}
SWEEPS = 4


def draw_layers(ax, nodes, edges, note: str | None = None) -> None:
    """Draw ``nodes`` (viz.graphs.Node) and ``edges`` (key pairs) into ``ax``, left to right."""
    pos = layered_positions([n.key for n in nodes], edges)
    boxes = {}
    for n in nodes:
        box, face, width, line = STYLES[(n.kind, n.style)]
        x, y = pos[n.key]
        boxes[n.key] = ax.text(x, y, n.label, ha="center", va="center", fontsize=9, zorder=3,
                               bbox=dict(boxstyle=box, fc=face, ec="0.2", lw=width, ls=line))
    for a, b in edges:
        ax.annotate("", xy=pos[b], xytext=pos[a], zorder=2,
                    arrowprops=dict(arrowstyle="-|>", color="0.35", lw=1.0, shrinkA=2, shrinkB=2,
                                    patchA=boxes[a].get_bbox_patch(),
                                    patchB=boxes[b].get_bbox_patch()))
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_axis_off()
    if note:
        ax.set_title(textwrap.fill(note, 48), fontsize=8, color="0.35")


def layered_positions(keys, edges) -> dict[str, tuple[float, float]]:
    """{key: (column, height)}: column = the longest path from a node without inputs;
    within a column, nodes are spread one unit apart around 0 and ordered to avoid crossings."""
    preds, succs = defaultdict(list), defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    column = _columns(keys, preds, succs)
    columns = defaultdict(list)
    for k in keys:  # first-seen order: the output's side first, as draw_graph walks it
        columns[column[k]].append(k)
    order = [columns[c] for c in sorted(columns)]
    height = _heights(order)
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        for i in (range(1, len(order)) if forward else range(len(order) - 2, -1, -1)):
            near = preds if forward else succs
            order[i].sort(key=lambda k: -_mean([height[m] for m in near[k]], height[k]))
            height.update(_heights([order[i]]))
    return {k: (float(column[k]), height[k]) for k in keys}


def figure_size(nodes, edges) -> tuple[float, float]:
    """Inches that give each column and each row of the layout room for its labels."""
    pos = layered_positions([n.key for n in nodes], edges)
    cols = 1 + max((p[0] for p in pos.values()), default=0)
    rows = 1 + max((2 * abs(p[1]) for p in pos.values()), default=0)
    return min(max(1.55 * cols + 0.6, 4.0), 18.0), min(0.85 * rows + 0.9, 14.0)


def png_bytes(nodes, edges, note: str | None = None) -> bytes:
    """The drawing as PNG, made off-screen: no pyplot figure is left behind."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figure_size(nodes, edges), layout="constrained")
    FigureCanvasAgg(fig)
    draw_layers(fig.add_subplot(), nodes, edges, note)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


# ---------------------------------------------------------------- helpers
def _columns(keys, preds, succs) -> dict[str, int]:
    """Longest path from a source, by Kahn's topological order (iterative: any depth);
    then each source moves right, next to the first node that uses it (a constant
    such as the labels of a loss sits beside the loss, not among the inputs)."""
    waiting = {k: len(preds[k]) for k in keys}
    column = {k: 0 for k in keys}
    ready = [k for k in keys if waiting[k] == 0]
    while ready:
        k = ready.pop()
        for m in succs[k]:
            column[m] = max(column[m], column[k] + 1)
            waiting[m] -= 1
            if waiting[m] == 0:
                ready.append(m)
    for k in keys:
        if not preds[k] and succs[k]:
            column[k] = min(column[m] for m in succs[k]) - 1
    return column


def _heights(order) -> dict[str, float]:
    """The first node of a column on top: heights (n - 1)/2, ..., -(n - 1)/2."""
    return {k: (len(col) - 1) / 2 - i for col in order for i, k in enumerate(col)}


def _mean(values, default: float) -> float:
    return sum(values) / len(values) if values else default
