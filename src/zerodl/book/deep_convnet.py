"""The book's DeepConvNet (ch. 8.1), over 99% on MNIST.

    from zerodl.book.deep_convnet import DeepConvNet   # ch08/deep_convnet.py

In zerodl's own terms: ``nn.models.DeepConvNet()``; the book's trained
``deep_convnet_params.pkl`` loads into it with ``zerodl.book.weights.load_into``.
"""

from __future__ import annotations

import numpy as np

from ._network import LayerNet, init_weight
from .layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss

__all__ = ["DeepConvNet"]

_CONV = ({"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
         {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
         {"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},
         {"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},
         {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
         {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1})


class DeepConvNet(LayerNet):
    """conv - relu - conv - relu - pool, three times (16, 32, 64 filters of 3×3), then
    affine(hidden_size) - relu - dropout - affine - dropout - softmax (ch. 8.1.1).

    He initialisation; ``params`` W1..W8, b1..b8 (float64); ``layers`` a list
    as the book's. ``loss`` runs in training mode (dropout on), as the book's;
    ``predict``/``accuracy`` in test mode. Dropout is the book's non-inverted one.
    """

    accuracy_batch_size = 100

    def __init__(self, input_dim=(1, 28, 28), conv_param_1=_CONV[0], conv_param_2=_CONV[1],
                 conv_param_3=_CONV[2], conv_param_4=_CONV[3], conv_param_5=_CONV[4],
                 conv_param_6=_CONV[5], hidden_size=50, output_size=10):
        super().__init__()
        convs = (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5, conv_param_6)
        channels, h, w = input_dim
        self.layers = []
        for i, cp in enumerate(convs, start=1):
            fs = cp["filter_size"]
            W = self.params[f"W{i}"] = init_weight((cp["filter_num"], channels, fs, fs), "he")
            b = self.params[f"b{i}"] = np.zeros(cp["filter_num"])
            conv = Convolution(W, b, cp["stride"], cp["pad"])
            self._hold(conv, W=f"W{i}", b=f"b{i}")
            self.layers += [conv, Relu()]
            channels = cp["filter_num"]
            h = (h + 2 * cp["pad"] - fs) // cp["stride"] + 1
            w = (w + 2 * cp["pad"] - fs) // cp["stride"] + 1
            if i % 2 == 0:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
                h, w = h // 2, w // 2
        sizes = [(channels * h * w, hidden_size), (hidden_size, output_size)]
        for i, shape in enumerate(sizes, start=7):
            W = self.params[f"W{i}"] = init_weight(shape, "he")
            b = self.params[f"b{i}"] = np.zeros(shape[1])
            affine = Affine(W, b)
            self._hold(affine, W=f"W{i}", b=f"b{i}")
            self.layers += [affine, Relu(), Dropout(0.5)] if i == 7 else [affine, Dropout(0.5)]
        self.last_layer = SoftmaxWithLoss()

    def loss(self, x, t, train_flg=True):
        """Cross-entropy with dropout on (the book's DeepConvNet trains through ``loss``)."""
        return super().loss(x, t, train_flg)
