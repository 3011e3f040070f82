"""The book's layers (ch. 5–7) as plain NumPy classes: forward caches, backward returns dx.

Parameterised layers keep their gradients in ``dW`` and ``db`` after ``backward``,
as the book's ``Affine`` and ``Convolution`` do.
"""

from __future__ import annotations

import numpy as np


def im2col(images: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Unfold (N, C, H, W) images into rows of filter-sized patches: (N·OH·OW, C·FH·FW).

    The book's im2col (ch. 7.4.3): one strided copy per filter offset (FH·FW
    copies), then a transpose so each row is one output pixel's receptive field.
    """
    n, c, h, w = images.shape
    oh = (h + 2 * pad - fh) // stride + 1
    ow = (w + 2 * pad - fw) // stride + 1
    padded = np.pad(images, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    patches = np.zeros((n, c, fh, fw, oh, ow), dtype=images.dtype)
    for dy in range(fh):
        y_end = dy + stride * oh
        for dx in range(fw):
            x_end = dx + stride * ow
            patches[:, :, dy, dx, :, :] = padded[:, :, dy:y_end:stride, dx:x_end:stride]
    return patches.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


def col2im(cols: np.ndarray, image_shape: tuple, fh: int, fw: int, stride: int = 1,
           pad: int = 0) -> np.ndarray:
    """Fold patch rows back into images, adding where patches overlap: the adjoint of im2col."""
    n, c, h, w = image_shape
    oh = (h + 2 * pad - fh) // stride + 1
    ow = (w + 2 * pad - fw) // stride + 1
    patches = cols.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    padded = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), dtype=cols.dtype)
    for dy in range(fh):
        y_end = dy + stride * oh
        for dx in range(fw):
            x_end = dx + stride * ow
            padded[:, :, dy:y_end:stride, dx:x_end:stride] += patches[:, :, dy, dx, :, :]
    return padded[:, :, pad:h + pad, pad:w + pad]


class Relu:
    """y = max(0, x); the gradient passes only where x > 0 (ch. 5.5.1)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.where(self.mask, 0.0, dout)


class Affine:
    """y = x·W + b with W (in, out) (ch. 5.6.2); inputs of more than 2 dims are flattened."""

    def __init__(self, W: np.ndarray, b: np.ndarray):
        self.W, self.b = W, b

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.original_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.original_shape)


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy error, averaged over the batch (ch. 5.6.3).

    Backward is the clean (y - t) / N. The loss adds 1e-7 inside the log, as the book does.
    """

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        shifted = x - x.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        self.y = e / e.sum(axis=1, keepdims=True)
        self.t = t
        n = x.shape[0]
        return float(-np.log(self.y[np.arange(n), t] + 1e-7).sum() / n)

    def backward(self, dout: float = 1.0) -> np.ndarray:
        n = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx * (dout / n)


class Convolution:
    """The convolution layer through im2col (ch. 7.4.3): one matrix product per batch."""

    def __init__(self, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0):
        self.W, self.b = W, b
        self.stride, self.pad = stride, pad

    def forward(self, x: np.ndarray) -> np.ndarray:
        fn, _, fh, fw = self.W.shape
        n, _, h, w = x.shape
        oh = (h + 2 * self.pad - fh) // self.stride + 1
        ow = (w + 2 * self.pad - fw) // self.stride + 1
        self.x = x
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        self.col_W = self.W.reshape(fn, -1).T
        out = self.col @ self.col_W + self.b
        return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        fn, c, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.db = dout.sum(axis=0)
        self.dW = (self.col.T @ dout).transpose(1, 0).reshape(fn, c, fh, fw)
        dcol = dout @ self.col_W.T
        return col2im(dcol, self.x.shape, fh, fw, self.stride, self.pad)


class Pooling:
    """Max pooling through im2col (ch. 7.4.4); backward routes each gradient to its argmax."""

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0):
        self.pool_h, self.pool_w = pool_h, pool_w
        self.stride, self.pad = stride, pad

    def forward(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        oh = (h + 2 * self.pad - self.pool_h) // self.stride + 1
        ow = (w + 2 * self.pad - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x = x
        self.arg_max = col.argmax(axis=1)
        out = col.max(axis=1)
        return out.reshape(n, oh, ow, c).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max] = dout.ravel()
        dcol = dmax.reshape(dout.shape[0] * dout.shape[1] * dout.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class Dropout:
    """Dropout (ch. 6.4.3), in the inverted form: each unit is dropped with probability
    ``ratio`` while training and the survivors are scaled by 1/(1 - ratio), so evaluation
    is the identity. (The book scales by (1 - ratio) at test time instead; the inverted form
    costs the same and makes evaluation outputs comparable with zerodl and PyTorch.)"""

    def __init__(self, ratio: float = 0.5, seed: int = 0):
        self.ratio = ratio
        self.rng = np.random.default_rng(seed)

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        if not train:
            return x
        self.mask = (self.rng.random(x.shape) > self.ratio) / (1.0 - self.ratio)
        return x * self.mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.mask
