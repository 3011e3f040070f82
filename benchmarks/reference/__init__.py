"""A book-style reference: plain NumPy layer classes with ``forward``/``backward``.

Written the way the book's chapters 5–8 build networks: each layer caches what
its backward needs, networks keep their weights in a ``params`` dict
(``W1``, ``b1``, ...) and return gradients in a dict of the same keys, and the
optimizers update that dict in place. Everything computes in float64, like the
book. It is the baseline that zerodl's speed is measured against.
"""

from .layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss, col2im, im2col
from .networks import DeepConvNet, MultiLayerNet, SimpleConvNet, TwoLayerNet
from .optimizers import SGD, Adam

__all__ = [
    "Affine", "Convolution", "Dropout", "Pooling", "Relu", "SoftmaxWithLoss", "im2col", "col2im",
    "TwoLayerNet", "MultiLayerNet", "SimpleConvNet", "DeepConvNet", "SGD", "Adam",
]
