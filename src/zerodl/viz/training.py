"""Figures of training: learning curves, and the filters a convolution layer has learned."""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Tensor
from .common import axes_list, figure, figure_of, finish


def plot_history(history, title: str | None = None, path=None, ax=None):
    """Learning curves: loss (left) and accuracy (right) per epoch, training and validation.

    ``history`` is a ``train.History``, any object with the lists ``train_loss``,
    ``train_accuracy``, ``val_loss``, ``val_accuracy`` (``seconds`` optional),
    or a dict of them. Missing or None entries are skipped. ``ax``: a pair of
    Axes (loss, accuracy) to draw into, or one Axes for the loss curves alone.
    Returns the Figure.
    """
    get = (lambda k: history.get(k)) if isinstance(history, dict) else \
        (lambda k: getattr(history, k, None))
    loss = _series(get("train_loss"))
    if loss is None:
        raise ValueError("plot_history: history has no train_loss values")
    epochs = _series(get("epoch"))  # fit(evaluate_first=True) starts at epoch 0
    if epochs is None or len(epochs) != len(loss):
        epochs = np.arange(1, len(loss) + 1)
    if ax is not None:
        axes = axes_list(ax, 2, "plot_history") if _several(ax) else [ax]
        fig = figure_of(axes[0])
    else:
        fig = figure((10.0, 4.0))  # first: it says how to install matplotlib when it is missing
        axes = [fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)]
    from matplotlib.ticker import MaxNLocator

    for panel, key in zip(axes, ["loss", "accuracy"]):
        for split, style in [("train", "o-"), ("val", "s--")]:
            values = _series(get(f"{split}_{key}"))
            if values is not None:
                name = "training" if split == "train" else "validation"
                panel.plot(epochs[:len(values)], values, style, ms=4, label=name)
        panel.set_xlabel("epoch")
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.set_ylabel(key)
        panel.set_title(key)
        panel.grid(True, alpha=0.3)
        if panel.get_lines():
            panel.legend()
    if ax is None:
        seconds = _series(get("seconds"))
        total = f" ({np.nansum(seconds):.1f} s of training)" if seconds is not None else ""
        fig.suptitle((title or "learning curves") + total)
    return finish(fig, path, made_here=ax is None)


def plot_filters(weights, channel: int = 0, ncols: int | None = None, title: str | None = None,
                 path=None, ax=None):
    """The first convolution layer's filters as a grid of small images (the book's fig. 7-24).

    ``weights`` is an array or Tensor of shape (FN, C, FH, FW), or a model whose
    first 4-D parameter (e.g. ``layers.0.W``) is taken. 3-channel filters are
    drawn in colour; otherwise channel ``channel`` in gray. Each filter is
    scaled to its own min..max, so its pattern shows whatever its size.
    ``ax``: one Axes to draw all the filters into, as one tiled image (e.g. the
    filters before and after training side by side). Returns the Figure.
    """
    W, source = _filter_weights(weights)
    fn, c = W.shape[:2]
    ncols = ncols or math.ceil(math.sqrt(fn))
    nrows = math.ceil(fn / ncols)
    title = title or (f"{fn} filters of {source}, {W.shape[2]}×{W.shape[3]}"
                      + ("" if c in (1, 3) else f", channel {channel}"))
    if ax is not None:
        _filter_mosaic(ax, W, channel, ncols, nrows, title)
        return finish(figure_of(ax), path, made_here=False)
    fig = figure((1.1 * ncols + 0.4, 1.1 * nrows + 0.6))
    for i in range(fn):
        panel = fig.add_subplot(nrows, ncols, i + 1)
        if c == 3:
            img = np.transpose(W[i], (1, 2, 0))
            lo, hi = img.min(), img.max()
            panel.imshow((img - lo) / (hi - lo if hi > lo else 1.0), interpolation="nearest")
        else:
            panel.imshow(W[i, channel], cmap="gray", interpolation="nearest")
        panel.set_xticks([])
        panel.set_yticks([])
        panel.set_title(str(i), fontsize=7, pad=2)
    fig.suptitle(title)
    return finish(fig, path, made_here=True)


# ---------------------------------------------------------------- helpers
def _filter_mosaic(ax, W, channel: int, ncols: int, nrows: int, title: str) -> None:
    """All filters tiled into one image, each scaled to its own 0..1, a coloured gap between."""
    fn, c, fh, fw = W.shape
    planes = W if c == 3 else W[:, channel:channel + 1]
    lo = planes.min(axis=(1, 2, 3), keepdims=True)
    span = planes.max(axis=(1, 2, 3), keepdims=True) - lo
    scaled = (planes - lo) / np.where(span > 0, span, 1.0)
    tiles = np.full((nrows * ncols, scaled.shape[1], fh + 1, fw + 1), np.nan)
    tiles[:fn, :, :fh, :fw] = scaled
    mosaic = tiles.reshape(nrows, ncols, -1, fh + 1, fw + 1).transpose(0, 3, 1, 4, 2)
    mosaic = mosaic.reshape(nrows * (fh + 1), ncols * (fw + 1), -1)[:-1, :-1]
    if c == 3:
        ax.imshow(np.nan_to_num(mosaic, nan=1.0), interpolation="nearest")
    else:
        from matplotlib import colormaps

        cmap = colormaps["gray"].with_extremes(bad="#9ab7dd")  # the gaps between filters
        ax.imshow(mosaic[..., 0], cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def _several(ax) -> bool:
    return hasattr(ax, "flat") or isinstance(ax, (list, tuple))


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
