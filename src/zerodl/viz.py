"""Figures of the book and its articles: surfaces, gradient fields, descent paths, curves, filters.

Every function returns a matplotlib ``Figure`` and, given ``path=``, saves it
there too (written to a temporary file and renamed, so a half-written image
is never left behind). matplotlib is imported inside the functions, so
``import zerodl`` never needs it (``pip install zerodl[plot]``).

Figures are made with ``matplotlib.figure.Figure`` rather than ``pyplot``:
they need no window or backend (they render headless), are not kept alive by
pyplot's registry, and are shown in a notebook by ending a cell with the figure.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import landscape
from .autograd import Function, Tensor
from .extras import MissingExtra
from .io import atomic_write

# ---------------------------------------------------------------- landscapes


def plot_surface(f="bowl", xlim=None, ylim=None, n: int = 41, kind: str = "wireframe",
                 title: str | None = None, path=None):
    """f(x, y) as a 3-D picture: ``kind="wireframe"`` (as the gradient articles draw
    x² + y²) or ``"surface"`` (coloured by height, its contour lines drawn on the floor).

    ``f`` is a ``landscape.FUNCTIONS`` name, a Landscape, or a function of two
    Tensors; the window defaults to the Landscape's.
    """
    if kind not in ("wireframe", "surface"):
        raise ValueError(f"plot_surface: kind must be 'wireframe' or 'surface', got {kind!r}")
    fig = _figure((7.0, 5.5))
    ax = fig.add_subplot(projection="3d")
    X, Y, Z = landscape.grid(f, xlim, ylim, n)
    if kind == "wireframe":
        ax.plot_wireframe(X, Y, Z, rcount=min(n, 25), ccount=min(n, 25), linewidth=0.8,
                          color="tab:blue", alpha=0.7)
    else:
        surf = ax.plot_surface(X, Y, Z, cmap="coolwarm", rcount=n, ccount=n, linewidth=0,
                               antialiased=True, alpha=0.9)
        floor = float(np.nanmin(Z)) - 0.1 * float(np.nanmax(Z) - np.nanmin(Z))
        ax.contour(X, Y, Z, levels=_levels(Z, 12), zdir="z", offset=floor, cmap="coolwarm",
                   linewidths=0.8)
        ax.set_zlim(floor, float(np.nanmax(Z)))
        fig.colorbar(surf, ax=ax, shrink=0.6, pad=0.1, label="f(x, y)")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("f(x, y)")
    ax.set_title(title or _function_title(f))
    return _finish(fig, path)


def plot_gradient_field(f="bowl", xlim=None, ylim=None, n: int = 21, normalize: bool = False,
                        contours: bool = True, title: str | None = None, path=None):
    """Arrows of −∇f on an n×n grid over the contour lines of f.

    Why the arrows point downhill: to first order f(p + Δ) − f(p) ≈ ∇f·Δ, and
    by the Cauchy–Schwarz inequality ∇f·Δ ≥ −‖∇f‖‖Δ‖ with equality only when Δ
    is a negative multiple of ∇f. So among all steps of a given small length,
    Δ = −η∇f lowers f the most (by about η‖∇f‖²): −∇f is the direction of
    steepest descent, perpendicular to the contour lines, and longer where the
    slope is steeper. ``normalize=True`` draws unit arrows (direction only),
    coloured by ‖∇f‖, which reads better where lengths differ by orders of magnitude.
    """
    fig = _figure((6.4, 6.0))
    ax = fig.add_subplot()
    X, Y, U, V = landscape.gradient_field(f, xlim, ylim, n)
    xlim, ylim = (X.min(), X.max()), (Y.min(), Y.max())
    if contours:
        _contour(ax, f, xlim, ylim)
    norm = np.hypot(U, V)
    if normalize:
        safe = np.where(norm > 0, norm, 1.0)
        step = min(np.ptp(X), np.ptp(Y)) / max(n - 1, 1)
        from matplotlib import colormaps
        from matplotlib.colors import ListedColormap, LogNorm, Normalize

        cmap = ListedColormap(colormaps["plasma"](np.linspace(0.0, 0.85, 256)))  # no pale yellow
        positive = norm[norm > 0]
        wide = positive.size and positive.max() / positive.min() > 100
        cnorm = LogNorm(positive.min(), positive.max()) if wide else Normalize()
        q = ax.quiver(X, Y, -U / safe, -V / safe, np.where(norm > 0, norm, np.nan), norm=cnorm,
                      cmap=cmap, angles="xy", scale_units="xy", scale=1.0 / (0.8 * step),
                      width=0.004)
        fig.colorbar(q, ax=ax, shrink=0.8, label="‖∇f‖")
    else:
        ax.quiver(X, Y, -U, -V, angles="xy", color="tab:red", width=0.004)
    _mark_minima(ax, f)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    _plane_axes(ax, title or f"−∇f of {_function_title(f)}")
    return _finish(fig, path)


def plot_trajectories(trajectories, f=None, xlim=None, ylim=None, layout: str = "overlay",
                      title: str | None = None, path=None):
    """Descent paths (``landscape.Trajectory``) over the contour plot of ``f``.

    ``trajectories`` is a list or a dict {label: Trajectory}. ``layout="overlay"``
    draws them all on one map, one legend entry per optimizer; ``"grid"`` gives
    each its own panel, as the book's optimizer comparison (fig. 6-8). Starts
    are black squares, ends stars in the path's colour; a diverged path is
    marked "diverged" and the view stays on the window.
    """
    if layout not in ("overlay", "grid"):
        raise ValueError(f"plot_trajectories: layout must be 'overlay' or 'grid', got {layout!r}")
    items = list(trajectories.items()) if isinstance(trajectories, dict) else \
        [(t.label, t) for t in trajectories]
    if not items:
        raise ValueError("plot_trajectories: no trajectories given")
    xlim, ylim = _trajectory_window(f, [t for _, t in items], xlim, ylim)
    colors = [f"C{i % 10}" for i in range(len(items))]
    if layout == "overlay":
        fig = _figure(_plane_size(xlim, ylim, 1))
        axes = [fig.add_subplot()] * len(items)
    else:
        cols = min(len(items), 2)
        rows = math.ceil(len(items) / cols)
        fig = _figure(_plane_size(xlim, ylim, cols, rows))
        axes = [fig.add_subplot(rows, cols, i + 1) for i in range(len(items))]
    drawn = set()
    for (label, t), ax, color in zip(items, axes, colors):
        if id(ax) not in drawn:
            if f is not None:
                _contour(ax, f, xlim, ylim)
                _mark_minima(ax, f)
            drawn.add(id(ax))
        pts = t.points
        if t.diverged:
            label = f"{label}, diverged at step {t.stopped_at}"
        ax.plot(pts[:, 0], pts[:, 1], "o-", color=color, ms=3, lw=1.2, label=label, zorder=3)
        ax.plot(pts[-1, 0], pts[-1, 1], "*", color=color, ms=14, mec="black", mew=0.7, zorder=4)
        ax.plot(pts[0, 0], pts[0, 1], "s", color="black", ms=7, zorder=4)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        if layout == "grid":
            _plane_axes(ax, label)
    if layout == "overlay":
        _plane_axes(axes[0], title or _trajectories_title(f, items))
        _legend(axes[0])
    else:
        fig.suptitle(title or _trajectories_title(f, items))
    return _finish(fig, path)


# ---------------------------------------------------------------- training and functions


def plot_history(history, title: str | None = None, path=None):
    """Learning curves: loss (left) and accuracy (right) per epoch, training and validation.

    ``history`` is a ``train.History``, any object with the lists ``train_loss``,
    ``train_accuracy``, ``val_loss``, ``val_accuracy`` (``seconds`` optional),
    or a dict of them. Missing or None entries are skipped.
    """
    get = (lambda k: history.get(k)) if isinstance(history, dict) else \
        (lambda k: getattr(history, k, None))
    loss = _series(get("train_loss"))
    if loss is None:
        raise ValueError("plot_history: history has no train_loss values")
    epochs = np.arange(1, len(loss) + 1)
    fig = _figure((10.0, 4.0))  # first: it says how to install matplotlib when it is missing
    from matplotlib.ticker import MaxNLocator

    ax_loss, ax_acc = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for ax, key, what in [(ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy")]:
        for split, style in [("train", "o-"), ("val", "s--")]:
            values = _series(get(f"{split}_{key}"))
            if values is not None:
                name = "training" if split == "train" else "validation"
                ax.plot(epochs[:len(values)], values, style, ms=4, label=name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(what)
        ax.set_title(what)
        ax.grid(True, alpha=0.3)
        if ax.get_lines():
            ax.legend()
    seconds = _series(get("seconds"))
    total = f" ({np.nansum(seconds):.1f} s of training)" if seconds is not None else ""
    fig.suptitle((title or "learning curves") + total)
    return _finish(fig, path)


def _activations() -> dict[str, Callable[[Tensor], Tensor]]:
    from . import functional as F

    return {
        "step": F.step, "sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "gelu": F.gelu,
        "softplus": F.softplus, "identity": F.identity,
    }


def plot_activations(names: Sequence[str] | None = None, xlim=(-5.0, 5.0), n: int = 401,
                     path=None):
    """Each activation h(x) (solid) and its derivative h'(x) (dashed), one panel each.

    The derivatives come from the engine (h(x).sum().backward() on a float64
    grid), not from formulas: the picture shows what backpropagation uses.
    Note step's derivative: 0 everywhere, so no gradient flows through it (ch. 3.2).
    leaky_relu is drawn with slope 0.1 so its negative side can be seen.
    """
    acts = _activations()
    names = list(names or acts)
    unknown = [a for a in names if a not in acts]
    if unknown:
        raise ValueError(f"plot_activations: unknown {unknown}; valid names: {', '.join(acts)}")
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig = _figure((3.2 * cols, 2.8 * rows))
    xs = np.linspace(float(xlim[0]), float(xlim[1]), n)
    for i, name in enumerate(names):
        x = Tensor(xs.copy(), requires_grad=True)
        y = acts[name](x)
        y.sum().backward()
        dy = np.zeros_like(xs) if x.grad is None else np.asarray(x.grad.data)
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.plot(xs, np.asarray(y.data), color="tab:blue", lw=2, label="h(x)")
        ax.plot(xs, dy, "--", color="tab:red", lw=1.5, label="h′(x) (autodiff)")
        ax.axhline(0, color="gray", lw=0.5)
        ax.axvline(0, color="gray", lw=0.5)
        ax.set_title(name + (" (slope 0.1)" if name == "leaky_relu" else ""))
        ax.set_xlabel("x")
        ax.grid(True, alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("activation functions and their derivatives")
    return _finish(fig, path)


def difference_errors(f: Callable = np.exp, df: Callable = np.exp, x: float = 1.0,
                      hs: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """|numerical − exact| derivative of f at x for each step h, forward and central (float64)."""
    from .numerical import numerical_diff

    hs = np.logspace(-16, 0, 161) if hs is None else np.asarray(hs, dtype=np.float64)
    exact = float(df(x))
    return {
        "h": hs,
        "forward": np.abs(numerical_diff(f, np.float64(x), hs, method="forward") - exact),
        "central": np.abs(numerical_diff(f, np.float64(x), hs, method="central") - exact),
    }


def plot_difference_error(f: Callable = np.exp, df: Callable = np.exp, x: float = 1.0,
                          hs: np.ndarray | None = None, name: str = "exp", path=None):
    """The error of forward and central differences against the step h, on log-log axes.

    Both curves are V-shaped. On the right, truncation error dominates: it falls
    like h for the forward difference and like h² for the central one (the
    Taylor terms f''h/2 and f'''h²/6). On the left, rounding error dominates:
    f(x+h) and f(x) agree in almost every digit, and their difference, divided
    by a tiny h, magnifies float64's relative error ε ≈ 2.2e-16 to about ε/h.
    The bottoms sit near h ≈ √ε ≈ 1e-8 (forward) and h ≈ ∛ε ≈ 1e-5 (central),
    which is why the book's central difference uses h = 1e-4 (ch. 4.3).
    ``f`` must accept an array of points; ``df`` is its exact derivative.
    """
    errs = difference_errors(f, df, x, hs)
    h = errs["h"]
    fig = _figure((7.0, 5.0))
    ax = fig.add_subplot()
    for key, label, color in [("forward", "forward (f(x+h) − f(x)) / h", "tab:red"),
                              ("central", "central (f(x+h) − f(x−h)) / 2h", "tab:blue")]:
        e = errs[key]
        ok = e > 0  # an exact hit has no place on a log axis
        ax.loglog(h[ok], e[ok], "o-", ms=2.5, lw=1.2, color=color, label=label)
        best = int(np.argmin(np.where(ok, e, np.inf)))
        ax.loglog(h[best], e[best], "D", color=color, ms=8, mec="black")
    scale = abs(float(f(np.float64(x))))
    ax.loglog(h, np.finfo(np.float64).eps * scale / h, ":", color="gray",
              label="rounding error ≈ ε·|f(x)|/h")
    ax.axvline(1e-4, color="green", lw=1, ls="--", label="the book's h = 1e-4")
    ax.set_xlabel("step h")
    ax.set_ylabel("|numerical − exact derivative|")
    lo = max(np.nanmin(np.concatenate([errs["forward"], errs["central"]])[
        np.concatenate([errs["forward"], errs["central"]]) > 0]) / 10, 1e-20)
    ax.set_ylim(lo, 10 * max(errs["forward"].max(), errs["central"].max()))
    ax.set_title(f"error of numerical derivatives of {name} at x = {x:g} (float64)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_filters(weights, channel: int = 0, ncols: int | None = None, title: str | None = None,
                 path=None):
    """The first convolution layer's filters as a grid of small images (the book's fig. 7-24).

    ``weights`` is an array or Tensor of shape (FN, C, FH, FW), or a model whose
    first 4-D parameter (e.g. ``layers.0.W``) is taken. 3-channel filters are
    drawn in colour; otherwise channel ``channel`` in gray. Each filter is
    scaled to its own min..max, so its pattern shows whatever its size.
    """
    W, source = _filter_weights(weights)
    fn, c = W.shape[:2]
    ncols = ncols or math.ceil(math.sqrt(fn))
    nrows = math.ceil(fn / ncols)
    fig = _figure((1.1 * ncols + 0.4, 1.1 * nrows + 0.6))
    for i in range(fn):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        if c == 3:
            img = np.transpose(W[i], (1, 2, 0))
            lo, hi = img.min(), img.max()
            ax.imshow((img - lo) / (hi - lo if hi > lo else 1.0), interpolation="nearest")
        else:
            ax.imshow(W[i, channel], cmap="gray", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(i), fontsize=7, pad=2)
    fig.suptitle(title or f"{fn} filters of {source}, {W.shape[2]}×{W.shape[3]}"
                 + ("" if c in (1, 3) else f", channel {channel}"))
    return _finish(fig, path)


# ---------------------------------------------------------------- computational graphs


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
        if getattr(fn, "_freed", False):
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


def _figure(size):
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise MissingExtra("zerodl.viz: figures need matplotlib: pip install 'zerodl[plot]'") from e

    return Figure(figsize=size, layout="constrained")


def _finish(fig, path):
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fmt = path.suffix.lstrip(".") or "png"
        atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=110))
    return fig


def _contour(ax, f, xlim, ylim, n: int = 201):
    """Pale filled contours (dark = low) under thin gray lines: paths and arrows stay readable."""
    X, Y, Z = landscape.grid(f, xlim, ylim, n)
    levels = _levels(Z, 16)
    finite = np.where(np.isfinite(Z), Z, np.nanmax(Z[np.isfinite(Z)]))
    ax.contourf(X, Y, finite, levels=levels, cmap="Blues_r", alpha=0.4, extend="both")
    ax.contour(X, Y, finite, levels=levels, colors="0.45", linewidths=0.6)


def _levels(Z, count: int) -> np.ndarray:
    """Contour levels: log-spaced when f ≥ 0 spans orders of magnitude (rosenbrock)."""
    z = Z[np.isfinite(Z)]
    lo, hi = float(z.min()), float(z.max())
    if hi <= lo:
        return np.array([lo - 1.0, lo, lo + 1.0])
    if lo >= 0 and hi / max(np.percentile(z, 5), 1e-12) > 100:
        floor = max(float(np.percentile(z, 0.5)), hi * 1e-6)
        return np.unique(np.geomspace(floor, hi, count))
    if lo >= 0:  # a bowl: levels growing like k² make evenly spaced rings
        return lo + (hi - lo) * (np.arange(1, count + 1) / (count + 1)) ** 2
    return np.linspace(lo, hi, count + 2)[1:-1]


def _legend(ax) -> None:
    """Paths first, then what the markers mean (start, end, minimum)."""
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    paths = [(h, lab) for h, lab in zip(handles, labels) if lab not in ("minimum", "minima")]
    marks = [(h, lab) for h, lab in zip(handles, labels) if lab in ("minimum", "minima")]
    paths += [(Line2D([], [], ls="", marker="s", color="black", ms=7), "start"),
              (Line2D([], [], ls="", marker="*", color="white", mec="black", ms=13), "end")]
    h, lab = zip(*(paths + marks))
    ax.legend(h, lab, loc="best", fontsize=8, framealpha=0.9)


def _mark_minima(ax, f) -> None:
    entry = landscape.landscape_of(f)
    if entry is not None and entry.minima:
        m = np.array(entry.minima)
        ax.plot(m[:, 0], m[:, 1], "+", color="black", ms=12, mew=2,
                label="minimum" if len(m) == 1 else "minima")


def _plane_axes(ax, title: str) -> None:
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.grid(True, alpha=0.25)


def _plane_size(xlim, ylim, cols: int, rows: int = 1):
    """A figure size that fits equal-aspect panels without wide margins."""
    ratio = (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])
    width = 6.5 if cols == 1 else 5.0 * cols
    panel = width / cols - 0.8
    return width, max(3.0, min(rows * (panel * ratio + 0.9), 14.0))


def _trajectory_window(f, trajectories, xlim, ylim):
    entry = landscape.landscape_of(f)
    if entry is not None:
        return tuple(xlim or entry.xlim), tuple(ylim or entry.ylim)
    pts = np.concatenate([t.points for t in trajectories])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-3)
    return (tuple(xlim or (lo[0] - pad[0], hi[0] + pad[0])),
            tuple(ylim or (lo[1] - pad[1], hi[1] + pad[1])))


def _function_title(f) -> str:
    entry = landscape.landscape_of(f)
    if entry is not None:
        return f"f(x, y) = {entry.formula} ({entry.name})"
    return f"f = {getattr(f, '__name__', 'f')}"


def _trajectories_title(f, items) -> str:
    steps = max(len(t.points) - 1 for _, t in items)
    return f"{steps} steps on {_function_title(f)}" if f is not None else f"{steps} steps"


def _series(values):
    if values is None:
        return None
    arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return None if arr.size == 0 or np.all(np.isnan(arr)) else arr


def _filter_weights(obj):
    if hasattr(obj, "named_parameters"):
        for name, p in obj.named_parameters():
            if p.ndim == 4:
                return np.asarray(p.data), name
        raise ValueError(f"plot_filters: {type(obj).__name__} has no 4-D (convolution) parameter")
    W = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
    if W.ndim != 4:
        raise ValueError(f"plot_filters: weights must have shape (FN, C, FH, FW), got {W.shape}")
    return W, "the layer"


def _tensor_label(t: Tensor, show_values: bool) -> str:
    name = f"{t.name}\\n" if t.name else ""
    if show_values and t.size == 1:
        return f"{name}{float(np.asarray(t.data)):.4g}"
    return f"{name}{tuple(t.shape)} {t.dtype}"


def _function_label(fn: Function) -> str:
    name = type(fn).__name__
    c = getattr(fn, "c", None)
    return f"{name} (**{c:g})" if name == "Pow" and c is not None else name
