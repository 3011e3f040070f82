"""Figures of 2-D landscapes: surfaces, gradient fields and the paths optimizers take.

The pictures of the gradient articles and of the book's optimizer comparison
(ch. 4.4 and 6.1, fig. 6-8), drawn from ``zerodl.landscape``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import landscape
from .common import axes_list, figure, figure_of, finish, new_axes


def plot_surface(f="bowl", xlim=None, ylim=None, n: int = 41, kind: str = "wireframe",
                 title: str | None = None, path=None, ax=None):
    """f(x, y) as a 3-D picture: ``kind="wireframe"`` (as the gradient articles draw
    x² + y²) or ``"surface"`` (coloured by height, its contour lines drawn on the floor).

    ``f`` is a ``landscape.FUNCTIONS`` name, a Landscape, or a function of two
    Tensors; the window defaults to the Landscape's. ``ax``: a 3-D Axes to draw
    into (``fig.add_subplot(projection="3d")``). Returns the Figure.
    """
    if kind not in ("wireframe", "surface"):
        raise ValueError(f"plot_surface: kind must be 'wireframe' or 'surface', got {kind!r}")
    if ax is not None and getattr(ax, "name", None) != "3d":
        raise ValueError("plot_surface: ax must be a 3-D Axes, made with "
                         "fig.add_subplot(projection='3d')")
    made_here = ax is None
    fig, ax = new_axes(ax, (7.0, 5.5), projection="3d")
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
    return finish(fig, path, made_here)


def plot_gradient_field(f="bowl", xlim=None, ylim=None, n: int = 21, normalize: bool = False,
                        contours: bool = True, title: str | None = None, path=None, ax=None):
    """Arrows of −∇f on an n×n grid over the contour lines of f.

    Why the arrows point downhill: to first order f(p + Δ) − f(p) ≈ ∇f·Δ, and
    by the Cauchy–Schwarz inequality ∇f·Δ ≥ −‖∇f‖‖Δ‖ with equality only when Δ
    is a negative multiple of ∇f. So among all steps of a given small length,
    Δ = −η∇f lowers f the most (by about η‖∇f‖²): −∇f is the direction of
    steepest descent, perpendicular to the contour lines, and longer where the
    slope is steeper. ``normalize=True`` draws unit arrows (direction only),
    coloured by ‖∇f‖, which reads better where lengths differ by orders of magnitude.
    ``ax``: an Axes to draw into. Returns the Figure.
    """
    made_here = ax is None
    fig, ax = new_axes(ax, (6.4, 6.0))
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
    return finish(fig, path, made_here)


def plot_trajectories(trajectories, f=None, xlim=None, ylim=None, layout: str = "overlay",
                      title: str | None = None, path=None, ax=None):
    """Descent paths (``landscape.Trajectory``) over the contour plot of ``f``.

    ``trajectories`` is a list or a dict {label: Trajectory}. ``layout="overlay"``
    draws them all on one map, one legend entry per optimizer; ``"grid"`` gives
    each its own panel, as the book's optimizer comparison (fig. 6-8). Starts
    are black squares, ends stars in the path's colour; a diverged path is
    marked "diverged" and the view stays on the window.
    ``ax``: an Axes to draw into (``"overlay"``), or one Axes per trajectory
    (``"grid"``, e.g. ``plt.subplots(2, 2)[1]``). Returns the Figure.
    """
    if layout not in ("overlay", "grid"):
        raise ValueError(f"plot_trajectories: layout must be 'overlay' or 'grid', got {layout!r}")
    items = list(trajectories.items()) if isinstance(trajectories, dict) else \
        [(t.label, t) for t in trajectories]
    if not items:
        raise ValueError("plot_trajectories: no trajectories given")
    xlim, ylim = _trajectory_window(f, [t for _, t in items], xlim, ylim)
    colors = [f"C{i % 10}" for i in range(len(items))]
    if ax is not None:
        axes = axes_list(ax, 1 if layout == "overlay" else len(items), "plot_trajectories")
        fig, axes = figure_of(axes[0]), axes * (len(items) if layout == "overlay" else 1)
    elif layout == "overlay":
        fig = figure(_plane_size(xlim, ylim, 1))
        axes = [fig.add_subplot()] * len(items)
    else:
        cols = min(len(items), 2)
        rows = math.ceil(len(items) / cols)
        fig = figure(_plane_size(xlim, ylim, cols, rows))
        axes = [fig.add_subplot(rows, cols, i + 1) for i in range(len(items))]
    drawn = set()
    for (label, t), panel, color in zip(items, axes, colors):
        if id(panel) not in drawn:
            if f is not None:
                _contour(panel, f, xlim, ylim)
                _mark_minima(panel, f)
            drawn.add(id(panel))
        pts = t.points
        if t.diverged:
            label = f"{label}, diverged at step {t.stopped_at}"
        panel.plot(pts[:, 0], pts[:, 1], "o-", color=color, ms=3, lw=1.2, label=label, zorder=3)
        panel.plot(pts[-1, 0], pts[-1, 1], "*", color=color, ms=14, mec="black", mew=0.7,
                   zorder=4)
        panel.plot(pts[0, 0], pts[0, 1], "s", color="black", ms=7, zorder=4)
        panel.set_xlim(*xlim)
        panel.set_ylim(*ylim)
        if layout == "grid":
            _plane_axes(panel, label)
    if layout == "overlay":
        _plane_axes(axes[0], title or _trajectories_title(f, items))
        _legend(axes[0])
    elif ax is None:
        fig.suptitle(title or _trajectories_title(f, items))
    return finish(fig, path, made_here=ax is None)


# ---------------------------------------------------------------- helpers
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
