"""The book's networks: MLP (TwoLayerNet, MultiLayerNet, MultiLayerNetExtend), SimpleConvNet, DeepConvNet.

Every model keeps its layers in a Sequential named ``layers``, so parameter
names read ``layers.0.W``, and returns logits: pair it with
``nn.CrossEntropyLoss`` (the book's SoftmaxWithLoss) for training and take
``argmax`` for predictions.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .layers import (
    GELU,
    BatchNorm1d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Tanh,
)
from .module import Module, Sequential

ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU,
               "gelu": GELU, "identity": Identity}


class MLP(Module):
    """A fully connected network: Linear -> [BatchNorm1d] -> activation -> [Dropout], repeated.

    ``sizes`` lists the widths from input to output: ``MLP([784, 50, 10])`` is
    the book's TwoLayerNet (ch. 4.5, 5.7); ``MLP([784, 100, 100, 10])`` its
    MultiLayerNet (ch. 6); ``batchnorm=True`` and ``dropout=0.5`` give
    MultiLayerNetExtend (ch. 6.3-6.4). The last Linear has no activation: the
    output is logits. ``init``: "he" (default), "xavier" or a std such as 0.01
    (the book's ``weight_init_std``). Inputs with more than two axes, such as
    (N, 1, 28, 28) images, are flattened to (N, features).

    ``batchnorm`` may also be a dict of BatchNorm1d's options, for the book's
    conventions: ``MLP(sizes, batchnorm={"eps": 1e-6, "running_var_init": 0.0,
    "unbiased": False})`` (``momentum`` too).
    """

    def __init__(self, sizes, activation: str = "relu", batchnorm: bool | dict = False,
                 dropout: float = 0.0, init="he", rng: np.random.Generator | None = None) -> None:
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs the input and output widths at least, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"MLP: unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}"
            )
        bn_options = _batchnorm_options(batchnorm)
        self.sizes = sizes
        layers = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
            layers.append(Linear(n_in, n_out, init=init, rng=rng))
            if bn_options is not None:
                layers.append(BatchNorm1d(n_out, **bn_options))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(Dropout(dropout))
        layers.append(Linear(sizes[-2], sizes[-1], init=init, rng=rng))
        self.layers = Sequential(*layers)

    def forward(self, x):
        if np.ndim(x) > 2:
            x = F.reshape(x, np.shape(x)[0], -1)
        return self.layers(x)


class SimpleConvNet(Module):
    """The book's SimpleConvNet (ch. 7.5): conv -> ReLU -> 2×2 max-pool -> Linear -> ReLU -> Linear.

    Defaults as the book: 30 filters of 5×5 (stride 1, no padding) on
    (1, 28, 28) images, 100 hidden units, 10 classes, about 99% on MNIST. The
    book initialises with std 0.01; zerodl defaults to He (``init=0.01``
    reproduces the book). Flat inputs (N, C·H·W) are reshaped to images.

    The layers run conv -> max-pool -> ReLU: ReLU never changes which value of
    a window is largest, so max(relu(x)) = relu(max(x)), and the gradients are
    the same to the last bit; pooling first leaves ReLU a quarter of the values.
    """

    def __init__(self, input_shape=(1, 28, 28), filter_num: int = 30, filter_size: int = 5,
                 stride: int = 1, pad: int = 0, hidden_size: int = 100, output_size: int = 10,
                 init="he", rng: np.random.Generator | None = None) -> None:
        super().__init__()
        c, h, w = input_shape
        self.input_shape = (int(c), int(h), int(w))
        oh = _conv_out(h, filter_size, stride, pad) // 2
        ow = _conv_out(w, filter_size, stride, pad) // 2
        if oh < 1 or ow < 1:
            raise ValueError(f"SimpleConvNet: input {input_shape} is too small for "
                             f"{filter_size}×{filter_size} filters and 2×2 pooling")
        self.layers = Sequential(
            Conv2d(c, filter_num, filter_size, stride=stride, pad=pad, init=init, rng=rng),
            MaxPool2d(2, stride=2),
            ReLU(),  # after the pool: the same result as before it, on 4× fewer values
            Flatten(),
            Linear(filter_num * oh * ow, hidden_size, init=init, rng=rng),
            ReLU(),
            Linear(hidden_size, output_size, init=init, rng=rng),
        )

    def forward(self, x):
        return self.layers(_as_images(x, self.input_shape))


class DeepConvNet(Module):
    """The book's DeepConvNet (ch. 8.1), over 99% on MNIST.

    conv3×3 16 -> ReLU -> conv3×3 16 -> ReLU -> pool ->
    conv3×3 32 -> ReLU -> conv3×3 32 (pad 2) -> ReLU -> pool ->
    conv3×3 64 -> ReLU -> conv3×3 64 -> ReLU -> pool ->
    Linear 50 -> ReLU -> Dropout(0.5) -> Linear 10, He-initialised throughout.
    The book's code also drops out the logits; zerodl does not: the loss should
    see the whole output. Where a pool follows, it runs before that ReLU, with
    the same result (see SimpleConvNet).
    """

    def __init__(self, input_shape=(1, 28, 28), hidden_size: int = 50, output_size: int = 10,
                 dropout: float = 0.5, init="he", rng: np.random.Generator | None = None) -> None:
        super().__init__()
        c, h, w = input_shape
        self.input_shape = (int(c), int(h), int(w))
        layers, n_in = [], c
        for spec in [(16, 1), (16, 1), "pool", (32, 1), (32, 2), "pool", (64, 1), (64, 1), "pool"]:
            if spec == "pool":  # before the last ReLU: the same result on 4× fewer values
                layers.insert(len(layers) - 1, MaxPool2d(2, stride=2))
                h, w = h // 2, w // 2
                continue
            n_out, pad = spec
            layers += [Conv2d(n_in, n_out, 3, pad=pad, init=init, rng=rng), ReLU()]
            h, w, n_in = _conv_out(h, 3, 1, pad), _conv_out(w, 3, 1, pad), n_out
        if h < 1 or w < 1:
            raise ValueError(f"DeepConvNet: input {input_shape} is too small for three 2×2 poolings")
        layers += [Flatten(), Linear(64 * h * w, hidden_size, init=init, rng=rng), ReLU()]
        if dropout > 0:
            layers.append(Dropout(dropout))
        layers.append(Linear(hidden_size, output_size, init=init, rng=rng))
        self.layers = Sequential(*layers)

    def forward(self, x):
        return self.layers(_as_images(x, self.input_shape))


def _batchnorm_options(batchnorm) -> dict | None:
    """BatchNorm1d's keyword arguments from MLP's ``batchnorm`` (None: no batch norm)."""
    if isinstance(batchnorm, dict):
        known = {"momentum", "eps", "running_var_init", "unbiased"}
        unknown = set(batchnorm) - known
        if unknown:
            raise ValueError(f"MLP: unknown batchnorm options {sorted(unknown)}; "
                             f"BatchNorm1d takes {sorted(known)}")
        return dict(batchnorm)
    return {} if batchnorm else None


def _conv_out(size: int, k: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - k) // stride + 1


def _as_images(x, input_shape):
    shape = np.shape(x)
    if len(shape) == 2 and shape[1] == int(np.prod(input_shape)):
        return F.reshape(x, shape[0], *input_shape)
    return x
