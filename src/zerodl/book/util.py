"""The book's ``common/util.py``: im2col/col2im (ch. 7.4.3), smooth_curve, shuffle_dataset.

``im2col`` and ``col2im`` are zerodl's own (``zerodl.functional.im2col``), on
plain arrays and with the book's layout: row (n, oh, ow) of the matrix holds
the patch under output position (oh, ow) of sample n, its columns in
(c, fh, fw) order.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..random import default_rng

__all__ = ["smooth_curve", "shuffle_dataset", "conv_output_size", "im2col", "col2im"]


def smooth_curve(x, window_len: int = 11):
    """A moving average of ``x`` under a Kaiser window (β = 2) of 11 points, same length as ``x``.

    Used to draw noisy loss curves (ch. 6.1.8). The ends are continued by
    mirroring the curve, as the book's version does, so the smoothed curve
    starts and ends near the data. A curve shorter than the window comes back unchanged.
    """
    x = np.asarray(x, dtype=np.float64)
    half = window_len // 2
    if x.size < window_len:
        return x.copy()
    extended = np.concatenate([x[window_len - 1:0:-1], x, x[:-window_len:-1]])
    w = np.kaiser(window_len, 2)
    smoothed = np.convolve(w / w.sum(), extended, mode="valid")
    return smoothed[half:len(smoothed) - half]


def shuffle_dataset(x, t):
    """(x, t) in one random order, the same for both (ch. 6.5.3); zerodl's generator draws it."""
    order = default_rng().permutation(x.shape[0])
    return x[order], t[order]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input_size + 2·pad - filter_size) / stride + 1: the output size of a convolution (ch. 7.2.4).

    A true division, as the book's: a result that is not a whole number means
    the filter does not fit the input evenly for that stride.
    """
    return (input_size + 2 * pad - filter_size) / stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """Unroll the filter_h×filter_w patches of (N, C, H, W) input into the rows of an
    (N·OH·OW, C·filter_h·filter_w) matrix (ch. 7.4.3): a convolution becomes one matrix product."""
    return F.im2col(np.asarray(input_data), filter_h, filter_w, stride, pad).data


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """Fold an im2col matrix back into an array of ``input_shape`` (N, C, H, W), adding
    where patches overlap and dropping the padding (the adjoint of im2col)."""
    return F.col2im(np.asarray(col), input_shape, filter_h, filter_w, stride, pad).data
