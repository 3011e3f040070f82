"""PyTorch on the CPU: the same architecture as torch.nn.Sequential, float32."""

from __future__ import annotations

import numpy as np

from ..tasks import Task, deep_convnet_pads, layer_params
from . import batched_accuracy


def build_torch_model(task: Task, params: list[tuple[str, np.ndarray]]):
    """The task's network in PyTorch, holding zerodl's initial weights (Linear W transposed)."""
    import torch
    from torch import nn

    if task.model == "mlp":
        layers = []
        for fan_in, fan_out in zip(task.sizes[:-1], task.sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        model = nn.Sequential(*layers[:-1])
    elif task.model == "simple_convnet":
        model = nn.Sequential(
            nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10),
        )
    elif task.model == "deep_convnet":
        layers, in_ch, size = [], 1, 28
        for i, (out_ch, pad) in enumerate(zip((16, 16, 32, 32, 64, 64), deep_convnet_pads(params))):
            layers += [nn.Conv2d(in_ch, out_ch, 3, padding=pad), nn.ReLU()]
            in_ch, size = out_ch, size + 2 * pad - 2
            if i % 2 == 1:
                layers.append(nn.MaxPool2d(2))
                size //= 2
        layers += [nn.Flatten(), nn.Linear(in_ch * size * size, 50), nn.ReLU(), nn.Dropout(0.5),
                   nn.Linear(50, 10)]
        model = nn.Sequential(*layers)
    else:
        raise ValueError(f"build_torch_model: unknown model {task.model!r}")

    weighted = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    pairs = layer_params(params)
    if len(weighted) != len(pairs):
        raise ValueError(
            f"build_torch_model: zerodl's {task.model} has {len(pairs)} weighted layers, "
            f"the PyTorch one {len(weighted)}"
        )
    with torch.no_grad():
        for module, (W, b) in zip(weighted, pairs):
            W = W.T if isinstance(module, nn.Linear) else W
            if tuple(module.weight.shape) != W.shape:
                raise ValueError(
                    f"build_torch_model: {module} expects weight {tuple(module.weight.shape)}, "
                    f"zerodl's layer gives {W.shape}"
                )
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
            module.bias.copy_(torch.from_numpy(b))
    return model


class TorchTrainer:
    name = "torch"

    def __init__(self, task: Task, params: list[tuple[str, np.ndarray]]):
        import torch

        self.torch = torch
        torch.manual_seed(0)  # dropout masks: the same run every time
        self.model = build_torch_model(task, params).train()
        self.loss_fn = torch.nn.CrossEntropyLoss()
        if task.optimizer == "sgd":
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=task.lr)
        else:
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=task.lr)

    def prepare(self, x: np.ndarray, t: np.ndarray):
        return (self.torch.from_numpy(x.astype(np.float32)),
                self.torch.from_numpy(t.astype(np.int64)))

    def step(self, batch):
        x, t = batch
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(x), t)
        loss.backward()
        self.optimizer.step()
        return loss

    def loss_value(self, loss) -> float:
        return float(loss.item())

    def eval_loss(self, batch) -> float:
        x, t = batch
        self.model.eval()
        with self.torch.no_grad():
            loss = self.loss_fn(self.model(x), t).item()
        self.model.train()
        return float(loss)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 1000) -> float:
        self.model.eval()
        with self.torch.no_grad():
            share = batched_accuracy(lambda xb: self.model(self.torch.from_numpy(xb)).numpy(),
                                     x, t, batch_size)
        self.model.train()
        return share
