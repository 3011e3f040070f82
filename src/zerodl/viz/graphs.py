"""Computational graphs as pictures: Graphviz DOT text of the graph behind a Tensor."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from ..autograd import Function, Tensor
from ..io import atomic_write


def draw_graph(output: Tensor, show_values: bool = True) -> str:
    """The computational graph that produced ``output``, as Graphviz DOT text.

    Tensors are ellipses (inputs that need a gradient are filled blue, the
    output is bold; a one-element tensor shows its value); Functions are boxes
    named by their class (``Mul``, ``Add``, ``Pow``…, the book's layers).
    Draw the graph before ``backward()``, or call that with
    ``retain_graph=True``: backward frees the graph as it goes.
    Turn the text into a picture with ``render(dot, "graph.png")``.
    """
    lines = ["digraph zerodl {", '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];']
    seen_t, seen_f = set(), set()
    freed = False

    def tensor_node(t: Tensor, bold: bool = False) -> str:
        key = f"t{id(t)}"
        if key not in seen_t:
            seen_t.add(key)
            if bold:
                style = 'style=bold'
            elif t.is_leaf and t.requires_grad:
                style = 'style=filled, fillcolor="#cfe2ff"'
            else:
                style = 'style=solid'
            lines.append(f'  {key} [label="{_tensor_label(t, show_values)}", shape=ellipse, '
                         f'{style}];')
        return key

    root = tensor_node(output, bold=True)
    stack = [output.creator] if output.creator is not None else []
    if stack:
        lines.append(f"  f{id(output.creator)} -> {root};")
    while stack:
        fn = stack.pop()
        if id(fn) in seen_f:
            continue
        seen_f.add(id(fn))
        if getattr(fn, "inputs", ()) is None:  # backward() freed this node
            freed = True
            lines.append(f'  f{id(fn)} [label="{type(fn).__name__} (freed)", shape=box, '
                         'style=dashed];')
            continue
        lines.append(f'  f{id(fn)} [label="{_function_label(fn)}", shape=box, style=filled, '
                     'fillcolor="#fff3cd"];')
        for x in getattr(fn, "inputs", ()):
            lines.append(f"  {tensor_node(x)} -> f{id(fn)};")
            if x.creator is not None and id(x.creator) not in seen_f:
                stack.append(x.creator)
        for ref in getattr(fn, "outputs", ()):
            y = ref()
            if y is not None and y is not output:
                lines.append(f"  f{id(fn)} -> {tensor_node(y)};")
    if freed:
        lines.append('  note [shape=note, label="part of this graph was freed by backward(); '
                     'draw before backward() or use retain_graph=True"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_text: str, path) -> Path:
    """Render DOT text to an image with Graphviz's ``dot`` (format from the suffix, e.g. .png).

    Raises RuntimeError saying what to install when ``dot`` is not on PATH; the
    DOT text is then still written next to ``path`` (``.dot``) for any viewer.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dot = shutil.which("dot")
    if dot is None:
        dot_path = path.with_suffix(".dot")
        atomic_write(dot_path, lambda f: f.write(dot_text.encode()))
        raise RuntimeError(
            f"render: Graphviz's `dot` program is not on PATH, so {path} was not drawn; install "
            f"Graphviz (e.g. `apt-get install graphviz`) or open {dot_path} in any Graphviz viewer"
        )
    fmt = path.suffix.lstrip(".") or "png"

    done = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode(), capture_output=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot failed ({done.returncode}): {done.stderr.decode().strip()}")
    atomic_write(path, lambda f: f.write(done.stdout))
    return path


# ---------------------------------------------------------------- helpers
def _tensor_label(t: Tensor, show_values: bool) -> str:
    name = f"{t.name}\\n" if t.name else ""
    if show_values and t.size == 1:
        return f"{name}{float(np.asarray(t.data)):.4g}"
    return f"{name}{tuple(t.shape)} {t.dtype}"


def _function_label(fn: Function) -> str:
    name = type(fn).__name__
    c = getattr(fn, "c", None)
    return f"{name} (**{c:g})" if name == "Pow" and c is not None else name
