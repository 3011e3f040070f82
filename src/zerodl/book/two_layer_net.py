"""The book's TwoLayerNet (ch. 4.5 and 5.7): Affine - Relu - Affine - SoftmaxWithLoss.

    from zerodl.book.two_layer_net import TwoLayerNet   # the chapter folders' two_layer_net.py

The same network in zerodl's own terms is ``nn.models.MLP([784, 50, 10])``.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ._network import LayerNet, init_weight
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

__all__ = ["TwoLayerNet"]


class TwoLayerNet(LayerNet):
    """Two affine layers with an activation between (ch. 5.7.2), weights N(0, weight_init_std²).

    ``params``: W1 (input, hidden), b1, W2 (hidden, output), b2, float64.
    ``activation="sigmoid"`` gives ch. 4.5's version (ch. 5 uses ReLU).
    ``gradient`` is backpropagation, ``numerical_gradient`` central differences.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01,
                 activation="relu"):
        super().__init__()
        self.params["W1"] = init_weight((input_size, hidden_size), weight_init_std)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = init_weight((hidden_size, output_size), weight_init_std)
        self.params["b2"] = np.zeros(output_size)
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = {"relu": Relu, "sigmoid": Sigmoid}[activation]()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.last_layer = self.lastLayer = SoftmaxWithLoss()
        self._hold(self.layers["Affine1"], W="W1", b="b1")
        self._hold(self.layers["Affine2"], W="W2", b="b2")
