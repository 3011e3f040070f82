"""The benchmark tasks: which network, optimizer and batch; the batches; the initial weights.

Every system trains from the same initial weights (those of zerodl's model made
after ``zd.manual_seed(seed)``) on the same real MNIST batches, so the first
step's loss is the same everywhere and the timings compare like with like.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Task:
    """One training-step benchmark."""

    name: str
    model: str                  # "mlp", "simple_convnet" or "deep_convnet"
    optimizer: str              # "sgd" or "adam"
    lr: float
    batch_size: int
    steps: int                  # timed steps per round in a full run
    quick_steps: int            # timed steps per round with --quick
    sizes: tuple[int, ...] = ()  # layer sizes of an MLP

    @property
    def flat_input(self) -> bool:
        """MLPs take (N, 784) rows; convnets take (N, 1, 28, 28) images."""
        return self.model == "mlp"

    def describe(self) -> str:
        net = "MLP " + "-".join(map(str, self.sizes)) if self.model == "mlp" else self.model
        return f"{net}, {self.optimizer.upper()} lr {self.lr:g}, batch {self.batch_size}"


TASKS: dict[str, Task] = {
    t.name: t for t in [
        Task("mlp_small", "mlp", "sgd", 0.1, 100, steps=200, quick_steps=20,
             sizes=(784, 50, 10)),
        Task("mlp_big", "mlp", "sgd", 0.1, 256, steps=20, quick_steps=3,
             sizes=(784, 1000, 1000, 10)),
        Task("simple_convnet", "simple_convnet", "adam", 1e-3, 100, steps=20, quick_steps=3),
        Task("deep_convnet", "deep_convnet", "adam", 1e-3, 100, steps=8, quick_steps=1),
    ]
}


def get_task(name: str) -> Task:
    """The task called ``name``, or an error listing the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None


def load_mnist(train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST: images (N, 1, 28, 28) float32 in [0, 1] and int64 labels.

    Found where zerodl.data looks ($ZERODL_DATA, caches, ...); without $ZERODL_DATA,
    the checkout's sibling ``shared/data`` is tried first, as the tests do.
    """
    from zerodl.data import MNIST

    root = None
    sibling = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    if not os.environ.get("ZERODL_DATA") and (sibling / "SHA256SUMS").exists():
        root = sibling
    data = MNIST(root=root, train=train, download=False)
    return data.images, data.labels


def make_batches(task: Task, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct real MNIST training batches for ``task``, the same for every system.

    Returns x (count, B, 784) or (count, B, 1, 28, 28) float32 and t (count, B) int64;
    the steps cycle through them.
    """
    images, labels = load_mnist(train=True)
    rng = np.random.default_rng(seed)
    index = rng.permutation(len(labels))[: count * task.batch_size]
    x = images[index].reshape(count, task.batch_size, *images.shape[1:])
    if task.flat_input:
        x = x.reshape(count, task.batch_size, -1)
    return np.ascontiguousarray(x), labels[index].reshape(count, task.batch_size)


def build_zerodl_model(task: Task, seed: int = 0):
    """zerodl's model for ``task``, initialised after ``zd.manual_seed(seed)``."""
    import zerodl as zd
    from zerodl import nn

    zd.manual_seed(seed)
    if task.model == "mlp":
        return nn.models.MLP(list(task.sizes))
    if task.model == "simple_convnet":
        return nn.models.SimpleConvNet()
    if task.model == "deep_convnet":
        return nn.models.DeepConvNet()
    raise ValueError(f"build_zerodl_model: unknown model {task.model!r}")


def initial_params(task: Task, seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """zerodl's initial parameters for ``task`` as (name, float32 array), in definition order."""
    model = build_zerodl_model(task, seed)
    return [(name, np.array(p.data, copy=True)) for name, p in model.named_parameters()]


def layer_params(params: list[tuple[str, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group named parameters into (W, b) per layer, in order (layer = name up to the last dot).

    A weight is the array with 2 or more dimensions, a bias the 1-D one. Linear
    weights stay (in, out) as in zerodl and the book.
    """
    layers: dict[str, dict[str, np.ndarray]] = {}
    for name, value in params:
        prefix = name.rpartition(".")[0]
        kind = "W" if value.ndim >= 2 else "b"
        if kind in layers.setdefault(prefix, {}):
            raise ValueError(f"layer_params: layer {prefix!r} has two {kind} parameters")
        layers[prefix][kind] = value
    missing = [p for p, d in layers.items() if set(d) != {"W", "b"}]
    if missing:
        raise ValueError(f"layer_params: layers without both a weight and a bias: {missing}")
    return [(d["W"], d["b"]) for d in layers.values()]


def deep_convnet_pads(params: list[tuple[str, np.ndarray]]) -> tuple[int, ...]:
    """The convolution paddings of zerodl's DeepConvNet, read off its first Linear layer.

    The book pads the fourth convolution by 2 (64·4·4 = 1024 features); padding
    every convolution by 1 gives 64·3·3 = 576.
    """
    linear_in = next(W.shape[0] for W, _ in layer_params(params) if W.ndim == 2)
    pads = {1024: (1, 1, 1, 2, 1, 1), 576: (1, 1, 1, 1, 1, 1)}
    if linear_in not in pads:
        raise ValueError(
            f"deep_convnet_pads: DeepConvNet's first Linear layer takes {linear_in} features; "
            "the benchmark knows the layouts giving 1024 (book) and 576"
        )
    return pads[linear_in]


def matmul_flops(task: Task) -> float:
    """Floating-point operations of the matrix products in one MLP training step.

    Forward x·W and backward xᵀ·dy cost 2·B·in·out each; dy·Wᵀ is skipped for the
    first layer, whose input needs no gradient.
    """
    if task.model != "mlp":
        raise ValueError(f"matmul_flops: defined for MLP tasks, not {task.name}")
    products = [a * b for a, b in zip(task.sizes[:-1], task.sizes[1:])]
    return 2.0 * task.batch_size * (3 * sum(products) - products[0])
