"""Figures of functions and derivatives: activations, and the error of numerical differences."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..autograd import Tensor
from .common import axes_list, figure, figure_of, finish, new_axes


def plot_activations(names: Sequence[str] | None = None, xlim=(-5.0, 5.0), n: int = 401,
                     path=None, ax=None):
    """Each activation h(x) (solid) and its derivative h'(x) (dashed), one panel each.

    The derivatives come from the engine (h(x).sum().backward() on a float64
    grid), not from formulas: the picture shows what backpropagation uses.
    Note step's derivative: 0 everywhere, so no gradient flows through it (ch. 3.2).
    leaky_relu is drawn with slope 0.1 so its negative side can be seen.
    ``ax``: one Axes per name to draw into (one Axes for one name, or e.g.
    ``plt.subplots(2, 4)[1]`` for eight). Returns the Figure.
    """
    acts = _activations()
    names = list(names or acts)
    unknown = [a for a in names if a not in acts]
    if unknown:
        raise ValueError(f"plot_activations: unknown {unknown}; valid names: {', '.join(acts)}")
    if ax is not None:
        axes = axes_list(ax, len(names), "plot_activations")
        fig = figure_of(axes[0])
    else:
        cols = min(4, len(names))
        rows = math.ceil(len(names) / cols)
        fig = figure((3.2 * cols, 2.8 * rows))
        axes = [fig.add_subplot(rows, cols, i + 1) for i in range(len(names))]
    xs = np.linspace(float(xlim[0]), float(xlim[1]), n)
    for i, (name, panel) in enumerate(zip(names, axes)):
        x = Tensor(xs.copy(), requires_grad=True)
        y = acts[name](x)
        y.sum().backward()
        dy = np.zeros_like(xs) if x.grad is None else np.asarray(x.grad.data)
        panel.plot(xs, np.asarray(y.data), color="tab:blue", lw=2, label="h(x)")
        panel.plot(xs, dy, "--", color="tab:red", lw=1.5, label="h′(x) (autodiff)")
        panel.axhline(0, color="gray", lw=0.5)
        panel.axvline(0, color="gray", lw=0.5)
        panel.set_title(name + (" (slope 0.1)" if name == "leaky_relu" else ""))
        panel.set_xlabel("x")
        panel.grid(True, alpha=0.3)
        if i == 0:
            panel.legend(fontsize=8, loc="upper left")
    if ax is None:
        fig.suptitle("activation functions and their derivatives")
    return finish(fig, path, made_here=ax is None)


def difference_errors(f: Callable = np.exp, df: Callable = np.exp, x: float = 1.0,
                      hs: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """|numerical − exact| derivative of f at x for each step h, forward and central (float64)."""
    from ..numerical import numerical_diff

    hs = np.logspace(-16, 0, 161) if hs is None else np.asarray(hs, dtype=np.float64)
    exact = float(df(x))
    return {
        "h": hs,
        "forward": np.abs(numerical_diff(f, np.float64(x), hs, method="forward") - exact),
        "central": np.abs(numerical_diff(f, np.float64(x), hs, method="central") - exact),
    }


def plot_difference_error(f: Callable = np.exp, df: Callable = np.exp, x: float = 1.0,
                          hs: np.ndarray | None = None, name: str = "exp", path=None, ax=None):
    """The error of forward and central differences against the step h, on log-log axes.

    Both curves are V-shaped. On the right, truncation error dominates: it falls
    like h for the forward difference and like h² for the central one (the
    Taylor terms f''h/2 and f'''h²/6). On the left, rounding error dominates:
    f(x+h) and f(x) agree in almost every digit, and their difference, divided
    by a tiny h, magnifies float64's relative error ε ≈ 2.2e-16 to about ε/h.
    The bottoms sit near h ≈ √ε ≈ 1e-8 (forward) and h ≈ ∛ε ≈ 1e-5 (central),
    which is why the book's central difference uses h = 1e-4 (ch. 4.3).
    ``f`` must accept an array of points; ``df`` is its exact derivative.
    ``ax``: an Axes to draw into. Returns the Figure.
    """
    errs = difference_errors(f, df, x, hs)
    h = errs["h"]
    made_here = ax is None
    fig, ax = new_axes(ax, (7.0, 5.0))
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
    return finish(fig, path, made_here)


# ---------------------------------------------------------------- helpers
def _activations() -> dict[str, Callable[[Tensor], Tensor]]:
    from .. import functional as F

    return {
        "step": F.step, "sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "gelu": F.gelu,
        "softplus": F.softplus, "identity": F.identity,
    }
