"""What the book's networks share: predict over the layers, loss, accuracy, backprop, files.

The book writes each network out in full (TwoLayerNet, MultiLayerNet,
SimpleConvNet, DeepConvNet repeat the same predict / gradient loops); here
they are written once. A network fills ``params`` (name -> array), ``layers``
(an OrderedDict or a list of layers, in order) and ``last_layer``
(SoftmaxWithLoss), and says which layer holds each parameter.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..nn import init as _init
from .gradient import numerical_gradient
from .layers import BatchNormalization, Dropout
from .weights import load_params, save_params


class LayerNet:
    """Base of the book's networks (ch. 5.7, 6, 7.5, 8.1): ``predict``, ``loss``, ``accuracy``,
    ``gradient`` (backpropagation), ``numerical_gradient``, ``save_params``/``load_params``.

    ``weight_decay_lambda`` adds ½λΣW² to the loss and λW to each weight's
    gradient, for weights only (not biases, γ or β), as in the book.
    """

    weight_decay_lambda = 0.0
    accuracy_batch_size: int | None = None

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.layers: OrderedDict | list = OrderedDict()
        self.last_layer = None
        self._slots: dict[str, tuple[object, str]] = {}  # param name -> (layer, attribute)

    # ------------------------------------------------------------ building
    def _hold(self, layer, **names) -> None:
        """Record that ``layer.<attribute>`` is ``params[name]`` (``W='W1', b='b1'``)."""
        for attribute, name in names.items():
            self._slots[name] = (layer, attribute)

    # ------------------------------------------------------------ computing
    def _layer_list(self) -> list:
        return list(self.layers.values()) if isinstance(self.layers, dict) else list(self.layers)

    def predict(self, x, train_flg=False):
        """The output scores (before softmax): each layer's forward in turn; Dropout and
        BatchNormalization get ``train_flg``."""
        for layer in self._layer_list():
            if isinstance(layer, (Dropout, BatchNormalization)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        """Cross-entropy of softmax(predict(x)) against t, plus ½λΣW² with weight decay."""
        y = self.predict(x, train_flg)
        return self.last_layer.forward(y, t) + self._weight_decay()

    def _weight_decay(self):
        if not self.weight_decay_lambda:
            return 0
        return 0.5 * self.weight_decay_lambda * sum(np.sum(W ** 2) for W in self._weights())

    def _weights(self):
        return [self.params[k] for k in self.params if k.startswith("W")]

    def accuracy(self, x, t, batch_size=None):
        """The fraction of rows of x whose largest score is the label (t: labels or one-hot).

        Evaluated in batches of ``batch_size`` (the convolutional networks use
        100, as the book's), with ``train_flg=False``; every sample counts
        (the book's batched version skips a last partial batch).
        """
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        batch_size = batch_size or self.accuracy_batch_size or x.shape[0]
        correct = 0
        for i in range(0, x.shape[0], batch_size):
            y = self.predict(x[i:i + batch_size], train_flg=False)
            correct += int(np.sum(np.argmax(y, axis=1) == t[i:i + batch_size]))
        return correct / x.shape[0]

    def gradient(self, x, t):
        """Every parameter's gradient by backpropagation (ch. 5.7): forward with
        ``train_flg=True``, then each layer's backward from the last; a dict like ``params``."""
        self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(self._layer_list()):
            dout = layer.backward(dout)
        grads = {}
        for name in self.params:
            layer, attribute = self._slots[name]
            grads[name] = getattr(layer, "d" + attribute)
            if name.startswith("W") and self.weight_decay_lambda:
                grads[name] = grads[name] + self.weight_decay_lambda * self.params[name]
        return grads

    def numerical_gradient(self, x, t):
        """Every parameter's gradient by central differences (ch. 4.4), slow; for checking
        ``gradient``. Dropout draws a new mask per evaluation, so check networks without it."""
        def loss_w(_):
            return self.loss(x, t, train_flg=True)

        return {name: numerical_gradient(loss_w, value) for name, value in self.params.items()}

    # ------------------------------------------------------------ files
    def save_params(self, file_name="params.pkl"):
        """Write ``params`` to ``file_name`` as zerodl's npz (whatever the name: never a pickle)."""
        save_params(self.params, file_name)

    def load_params(self, file_name="params.pkl"):
        """Load parameters from the book's pickle (read safely) or an npz, into ``params`` and the layers."""
        for name, value in load_params(file_name).items():
            if name not in self._slots:
                raise KeyError(f"{type(self).__name__}.load_params: {file_name} holds {name!r}, "
                               f"which this network does not have ({sorted(self._slots)})")
            self.params[name] = value
            layer, attribute = self._slots[name]
            setattr(layer, attribute, value)


def init_weight(shape, weight_init_std):
    """Initial weights in float64, as the book's: "he"/"relu" (√(2/fan_in)), "xavier"/"sigmoid"
    (√(1/fan_in)) or a std such as 0.01, drawn from zerodl's generator (ch. 6.2)."""
    return _init.weights(shape, weight_init_std, dtype=np.float64)
