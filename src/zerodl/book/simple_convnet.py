"""The book's SimpleConvNet (ch. 7.5): conv - relu - pool - affine - relu - affine - softmax.

    from zerodl.book.simple_convnet import SimpleConvNet   # ch07/simple_convnet.py

In zerodl's own terms: ``nn.models.SimpleConvNet(init=0.01)``; the book's
trained ``params.pkl`` loads into it with ``zerodl.book.weights.load_into``.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ._network import LayerNet, init_weight
from .layers import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss

__all__ = ["SimpleConvNet"]


class SimpleConvNet(LayerNet):
    """Convolution(filter_num filters of filter_size², stride, pad) - Relu - 2×2 max Pooling -
    Affine(hidden_size) - Relu - Affine(output_size) (ch. 7.5), weights N(0, weight_init_std²).

    ``params``: W1 (filter_num, C, FH, FW), b1, W2, b2, W3, b3 (float64);
    ``layers``: an OrderedDict named Conv1, Relu1, Pool1, Affine1, Relu2, Affine2,
    as the book's. ``accuracy`` evaluates 100 images at a time.
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
        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(p["W1"], p["b1"], stride, pad)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(p["W2"], p["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(p["W3"], p["b3"])
        self.last_layer = SoftmaxWithLoss()
        self._hold(self.layers["Conv1"], W="W1", b="b1")
        self._hold(self.layers["Affine1"], W="W2", b="b2")
        self._hold(self.layers["Affine2"], W="W3", b="b3")
