"""The book's ``dataset/mnist.py`` (ch. 3.6): ``load_mnist`` on zerodl's checked MNIST files.

    from zerodl.book.mnist import load_mnist   # instead of: from dataset.mnist import load_mnist
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True)

The files come from ``zerodl.data.MNIST``: found in ``$ZERODL_DATA/mnist``,
the user cache or the system dataset folder, or downloaded, and verified by
SHA-256 before use. No pickle is written or read (the book caches the
arrays in ``mnist.pkl``).
"""

from __future__ import annotations

import numpy as np

from ..data import MNIST

__all__ = ["load_mnist"]


def load_mnist(normalize=True, flatten=True, one_hot_label=False, *, root=None):
    """((x_train, t_train), (x_test, t_test)) of MNIST, as the book's ``load_mnist``.

    Images: float32 in [0, 1] with ``normalize`` (pixel / 255), else uint8
    0-255; shaped (N, 784) with ``flatten``, else (N, 1, 28, 28). Labels:
    uint8 (N,), or float64 one-hot rows (N, 10) with ``one_hot_label``. The
    dtypes are the book's. 60,000 training and 10,000 test images.
    ``root``: a folder holding the MNIST files (zerodl's search order otherwise).
    """
    return (_split(True, normalize, flatten, one_hot_label, root),
            _split(False, normalize, flatten, one_hot_label, root))


def _split(train, normalize, flatten, one_hot_label, root):
    data = MNIST(root=root, train=train, flatten=flatten)
    x = data.images
    if not normalize:
        # zerodl keeps pixel / 255 in float32; times 255 it is within 1e-5 of the byte
        x = np.rint(x * np.float32(255)).astype(np.uint8)
    t = data.labels.astype(np.uint8)
    if one_hot_label:
        t = np.eye(10)[t]
    return x, t
