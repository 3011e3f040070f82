"""The book-style reference (benchmarks/reference): NumPy layer classes, float64."""

from __future__ import annotations

import numpy as np

from ..reference import SGD, Adam, DeepConvNet, MultiLayerNet, SimpleConvNet
from ..tasks import Task, deep_convnet_pads, layer_params


def build_reference_network(task: Task, params: list[tuple[str, np.ndarray]]):
    """The task's book-style network holding zerodl's initial weights, in float64."""
    if task.model == "mlp":
        net = MultiLayerNet(task.sizes[0], list(task.sizes[1:-1]), task.sizes[-1])
    elif task.model == "simple_convnet":
        net = SimpleConvNet()
    elif task.model == "deep_convnet":
        net = DeepConvNet(pads=deep_convnet_pads(params))
    else:
        raise ValueError(f"build_reference_network: unknown model {task.model!r}")
    weights = {}
    for i, (W, b) in enumerate(layer_params(params), start=1):
        weights[f"W{i}"], weights[f"b{i}"] = W.astype(np.float64), b.astype(np.float64)
    if set(weights) != set(net.params):
        raise ValueError(
            f"build_reference_network: zerodl's {task.model} has parameters {sorted(weights)}, "
            f"the reference {sorted(net.params)}"
        )
    net.load_params(weights)
    return net


class ReferenceTrainer:
    name = "reference"

    def __init__(self, task: Task, params: list[tuple[str, np.ndarray]]):
        self.net = build_reference_network(task, params)
        self.optimizer = SGD(task.lr) if task.optimizer == "sgd" else Adam(task.lr)

    def prepare(self, x: np.ndarray, t: np.ndarray):
        return x.astype(np.float64), t.astype(np.int64)

    def step(self, batch):
        x, t = batch
        loss, grads = self.net.gradient(x, t)
        self.optimizer.update(self.net.params, grads)
        return loss

    def loss_value(self, loss) -> float:
        return float(loss)

    def eval_loss(self, batch) -> float:
        x, t = batch
        return self.net.loss(x, t, train=False)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 1000) -> float:
        return self.net.accuracy(x.astype(np.float64), t, batch_size)
