"""The book's networks (ch. 5–8): TwoLayerNet, MultiLayerNet, SimpleConvNet, DeepConvNet.

Each keeps its weights in ``params`` (``W1``, ``b1``, ``W2``, ...: float64, He
initialised), a list of layers, and a SoftmaxWithLoss at the end;
``gradient(x, t)`` runs forward and backward once and returns the gradients
in a dict with the keys of ``params``.
"""

from __future__ import annotations

import numpy as np

from .layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss


class LayerNet:
    """What every network here shares: predict → loss → backward through the layer list."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.layers: list = []
        self.param_layers: list[tuple[int, object]] = []  # (index i of Wi/bi, layer)
        self.last_layer = SoftmaxWithLoss()

    def add_weights(self, layer, index: int) -> None:
        """Register a layer's W and b as ``W{index}``, ``b{index}`` (shared arrays)."""
        self.params[f"W{index}"], self.params[f"b{index}"] = layer.W, layer.b
        self.param_layers.append((index, layer))

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy weights into the existing arrays (the layers hold references to them)."""
        for key, value in params.items():
            if self.params[key].shape != value.shape:
                raise ValueError(
                    f"load_params: {key} has shape {self.params[key].shape}, got {value.shape}"
                )
            self.params[key][...] = value

    def predict(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, train) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray, train: bool = True) -> float:
        return self.last_layer.forward(self.predict(x, train), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 100) -> float:
        hits = 0
        for i in range(0, len(x), batch_size):
            hits += int((self.predict(x[i:i + batch_size]).argmax(axis=1) == t[i:i + batch_size])
                        .sum())
        return hits / len(x)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """(loss, gradients) by backpropagation: the book's ``gradient`` method."""
        loss = self.loss(x, t, train=True)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for i, layer in self.param_layers:
            grads[f"W{i}"], grads[f"b{i}"] = layer.dW, layer.db
        return loss, grads


def _he(rng: np.random.Generator, shape: tuple, fan_in: int) -> np.ndarray:
    return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


class MultiLayerNet(LayerNet):
    """Affine-ReLU repeated, then Affine: the book's MultiLayerNet (ch. 6) with He init."""

    def __init__(self, input_size: int, hidden_size_list: list[int], output_size: int,
                 seed: int = 0):
        super().__init__()
        rng = np.random.default_rng(seed)
        sizes = [input_size, *hidden_size_list, output_size]
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            affine = Affine(_he(rng, (fan_in, fan_out), fan_in), np.zeros(fan_out))
            self.add_weights(affine, i)
            self.layers.append(affine)
            if i < len(sizes) - 1:
                self.layers.append(Relu())


class TwoLayerNet(MultiLayerNet):
    """Affine → ReLU → Affine: the book's TwoLayerNet (ch. 5.7)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, seed: int = 0):
        super().__init__(input_size, [hidden_size], output_size, seed=seed)


class SimpleConvNet(LayerNet):
    """conv(30, 5×5) → ReLU → 2×2 max-pool → Affine(100) → ReLU → Affine(10) (ch. 7.5)."""

    def __init__(self, input_dim=(1, 28, 28), filter_num: int = 30, filter_size: int = 5,
                 pad: int = 0, stride: int = 1, hidden_size: int = 100, output_size: int = 10,
                 seed: int = 0):
        super().__init__()
        rng = np.random.default_rng(seed)
        c, h, _ = input_dim
        conv_out = (h + 2 * pad - filter_size) // stride + 1
        pool_out = filter_num * (conv_out // 2) ** 2
        conv = Convolution(_he(rng, (filter_num, c, filter_size, filter_size),
                               c * filter_size ** 2), np.zeros(filter_num), stride, pad)
        fc1 = Affine(_he(rng, (pool_out, hidden_size), pool_out), np.zeros(hidden_size))
        fc2 = Affine(_he(rng, (hidden_size, output_size), hidden_size), np.zeros(output_size))
        for i, layer in enumerate([conv, fc1, fc2], start=1):
            self.add_weights(layer, i)
        self.layers = [conv, Relu(), Pooling(2, 2, stride=2), fc1, Relu(), fc2]


class DeepConvNet(LayerNet):
    """The book's DeepConvNet (ch. 8.1): six 3×3 convolutions (16, 16, 32, 32, 64, 64) with a
    2×2 max-pool after each pair, Affine(50) → ReLU → Dropout(0.5) → Affine(10).

    The book pads the fourth convolution by 2 (the others by 1), giving 64·4·4 features.
    Dropout is not applied to the logits, as zerodl's DeepConvNet does.
    """

    def __init__(self, input_dim=(1, 28, 28), channels=(16, 16, 32, 32, 64, 64),
                 pads=(1, 1, 1, 2, 1, 1), hidden_size: int = 50, output_size: int = 10,
                 seed: int = 0):
        super().__init__()
        rng = np.random.default_rng(seed)
        c, h, _ = input_dim
        for i, (out_ch, pad) in enumerate(zip(channels, pads), start=1):
            conv = Convolution(_he(rng, (out_ch, c, 3, 3), c * 9), np.zeros(out_ch), 1, pad)
            self.add_weights(conv, i)
            self.layers += [conv, Relu()]
            c, h = out_ch, h + 2 * pad - 2
            if i % 2 == 0:
                self.layers.append(Pooling(2, 2, stride=2))
                h //= 2
        features = c * h * h
        n = len(channels)
        fc1 = Affine(_he(rng, (features, hidden_size), features), np.zeros(hidden_size))
        fc2 = Affine(_he(rng, (hidden_size, output_size), hidden_size), np.zeros(output_size))
        self.add_weights(fc1, n + 1)
        self.add_weights(fc2, n + 2)
        self.layers += [fc1, Relu(), Dropout(0.5, seed=seed), fc2]
