"""Fast kernels of batch normalisation (``functional/norm.py``), on arrays.

The readable Function follows the book's ch. 6.3 step by step: xc = x - μ,
std = √(var + ε), xn = xc / std, and backward through dxn, dxc, dstd, dvar,
dμ. Here the same numbers come from fewer passes over memory:

* the per-channel sums are ``einsum`` contractions over (N, C, H·W), which
  sum a 4-D batch several times faster than ``sum(axis=(0, 2, 3))`` and never
  build the product x·x or dy·xn as a temporary;
* backward is the chain collapsed into one formula,
  dx = γ/std · (dy - dβ/n - xn·dγ/n), written in place on one new array.

``tests/test_kernels_norm.py`` checks these against the readable Function
(values and gradients, float64 and float32, (N, D) and (N, C, H, W)).
"""

from __future__ import annotations

from ..backend import get_array_module


def batch_norm_forward(x, gamma, beta, eps: float, mean=None, var=None):
    """y = γ·(x - μ)/√(σ² + ε) + β per channel (axis 1) of x (N, C, ...).

    ``mean``/``var`` of shape (C,) are used when given (evaluation); otherwise
    the batch's mean and biased variance are computed. Returns
    ``(y, xn, inv_std, mean, var)``: xn = (x - μ)/std and 1/std (shaped to
    broadcast over x) for ``batch_norm_backward``, and the statistics used.
    """
    xp = get_array_module(x)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    n = x.size // x.shape[1]
    if mean is None:
        mean = channel_sum(x) / n
        xc = x - mean.reshape(shape)
        var = channel_dot(xc, xc) / n
    else:
        xc = x - mean.reshape(shape)
    inv_std = (1.0 / xp.sqrt(var + x.dtype.type(eps))).reshape(shape)
    xn = xc
    xn *= inv_std  # xc is a new array: normalise it in place
    y = xn * gamma.reshape(shape)
    y += beta.reshape(shape)
    return y, xn, inv_std, mean, var


def batch_norm_backward(gy, gamma, xn, inv_std, batch_statistics: bool,
                        need=(True, True, True)):
    """(dx, dγ, dβ) for upstream ``gy``, from what ``batch_norm_forward`` returned.

    dβ = Σ dy, dγ = Σ dy·xn (sums over every axis but 1). With batch statistics
    dx = γ/(n·std) · (n·dy - dβ - xn·dγ), the book's chain through dxn, dxc,
    dstd, dvar and dμ in one formula; with running statistics (constants)
    dx = γ/std · dy. Gradients not in ``need`` are None.
    """
    shape = inv_std.shape
    gbeta = channel_sum(gy) if need[2] or (need[0] and batch_statistics) else None
    ggamma = channel_dot(gy, xn) if need[1] or (need[0] and batch_statistics) else None
    gx = None
    if need[0]:
        scale = gamma.reshape(shape) * inv_std
        if batch_statistics:  # γ/std · (dy - dβ/n - xn·dγ/n), in place on one new array
            n = gy.size // gy.shape[1]
            gx = xn * (ggamma / -n).reshape(shape)
            gx += gy
            gx -= (gbeta / n).reshape(shape)
            gx *= scale
        else:
            gx = gy * scale
    return gx, (ggamma if need[1] else None), (gbeta if need[2] else None)


def channel_sum(a):
    """Σ over every axis but 1: (N, C, ...) -> (C,)."""
    xp = get_array_module(a)
    return xp.einsum("ncl->c", a.reshape(a.shape[0], a.shape[1], -1))


def channel_dot(a, b):
    """Σ a·b over every axis but 1, without the product as a temporary: -> (C,)."""
    xp = get_array_module(a)
    shape = (a.shape[0], a.shape[1], -1)
    return xp.einsum("ncl,ncl->c", a.reshape(shape), b.reshape(shape))
