"""The book's SimpleConvNet (ch. 7.5): conv - relu - pool - affine - relu - affine - softmax.

    from zerodl.book.simple_convnet import SimpleConvNet   # ch07/simple_convnet.py

In zerodl's own terms: ``nn.models.SimpleConvNet(init=0.01)``; the book's
trained ``params.pkl`` loads into it with ``zerodl.book.weights.load_into``.
"""

from __future__ import annotations

import numpy as np

from ._network import LayerNet, init_weight
from .layers import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss

__all__ = ["SimpleConvNet"]


class SimpleConvNet(LayerNet):
    """Convolution(filter_num filters of filter_size², stride, pad) - Relu - 2×2 max Pooling -
    Affine(hidden_size) - Relu - Affine(output_size) (ch. 7.5), weights N(0, weight_init_std²).

    ``params``: W1 (filter_num, C, FH, FW), b1, W2, b2, W3, b3 (float64);
    ``layers``: a list, as the book's. ``accuracy`` evaluates 100 images at a time.
    """

    accuracy_batch_size = 100

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},  # noqa: B006
                 hidden_size=100, output_size=10, weight_init_std=0.01):
        super().__init__()
        fn, fs = conv_param["filter_num"], conv_param["filter_size"]
        pad, stride = conv_param["pad"], conv_param["stride"]
        conv_out = (input_dim[1] - fs + 2 * pad) // stride + 1
        pool_out = fn * (conv_out // 2) * (conv_out // 2)
        p = self.params
        p["W1"] = init_weight((fn, input_dim[0], fs, fs), weight_init_std)
        p["b1"] = np.zeros(fn)
        p["W2"] = init_weight((pool_out, hidden_size), weight_init_std)
        p["b2"] = np.zeros(hidden_size)
        p["W3"] = init_weight((hidden_size, output_size), weight_init_std)
        p["b3"] = np.zeros(output_size)
        conv = Convolution(p["W1"], p["b1"], stride, pad)
        affine1, affine2 = Affine(p["W2"], p["b2"]), Affine(p["W3"], p["b3"])
        self.layers = [conv, Relu(), Pooling(pool_h=2, pool_w=2, stride=2), affine1, Relu(), affine2]
        self.last_layer = SoftmaxWithLoss()
        self._hold(conv, W="W1", b="b1")
        self._hold(affine1, W="W2", b="b2")
        self._hold(affine2, W="W3", b="b3")
