"""The book's ``common/multi_layer_net.py`` (ch. 6): a fully connected network of any depth.

    from zerodl.book.multi_layer_net import MultiLayerNet

In zerodl's own terms: ``nn.models.MLP([784, 100, 100, 10], init=...)`` with
``optim.SGD(..., weight_decay=λ, weight_decay_filter="weights")`` (the book decays
the weights only, not the biases).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ._network import LayerNet, init_weight
from .layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss

__all__ = ["MultiLayerNet"]

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


class MultiLayerNet(LayerNet):
    """(Affine - activation) × len(hidden_size_list), then Affine - SoftmaxWithLoss (ch. 6.2).

    ``weight_init_std``: "relu"/"he" (√(2/n)), "sigmoid"/"xavier" (√(1/n)) with n
    the inputs of each layer, or a number such as 0.01 (ch. 6.2).
    ``weight_decay_lambda``: λ of the L2 penalty ½λΣW² on the weights (ch. 6.4.2).
    ``params``: W1, b1, W2, b2, ... (float64); ``layers``: an OrderedDict named
    Affine1, Activation_function1, ..., as the book's.
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0):
        super().__init__()
        self._build(input_size, hidden_size_list, output_size, activation, weight_init_std,
                    weight_decay_lambda)

    def _build(self, input_size, hidden_size_list, output_size, activation, weight_init_std,
               weight_decay_lambda, use_dropout=False, dropout_ration=0.5, use_batchnorm=False):
        if activation not in ACTIVATIONS:
            raise ValueError(f"{type(self).__name__}: activation must be 'relu' or 'sigmoid', "
                             f"got {activation!r}")
        self.input_size, self.output_size = input_size, output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        self.use_dropout, self.use_batchnorm = use_dropout, use_batchnorm
        sizes = [input_size] + self.hidden_size_list + [output_size]
        self.layers = OrderedDict()
        for idx in range(1, len(sizes)):
            W = self.params[f"W{idx}"] = init_weight((sizes[idx - 1], sizes[idx]), weight_init_std)
            b = self.params[f"b{idx}"] = np.zeros(sizes[idx])
            affine = self.layers[f"Affine{idx}"] = Affine(W, b)
            self._hold(affine, W=f"W{idx}", b=f"b{idx}")
            if idx == len(sizes) - 1:
                break
            if use_batchnorm:
                gamma = self.params[f"gamma{idx}"] = np.ones(sizes[idx])
                beta = self.params[f"beta{idx}"] = np.zeros(sizes[idx])
                bn = self.layers[f"BatchNorm{idx}"] = BatchNormalization(gamma, beta)
                self._hold(bn, gamma=f"gamma{idx}", beta=f"beta{idx}")
            self.layers[f"Activation_function{idx}"] = ACTIVATIONS[activation]()
            if use_dropout:
                self.layers[f"Dropout{idx}"] = Dropout(dropout_ration)
        self.last_layer = SoftmaxWithLoss()
