"""zerodl: the model from zerodl.nn.models, zerodl.optim, F.cross_entropy; float32."""

from __future__ import annotations

import numpy as np

from ..tasks import Task, build_zerodl_model
from . import batched_accuracy


class ZerodlTrainer:
    name = "zerodl"

    def __init__(self, task: Task, params: list[tuple[str, np.ndarray]]):
        import zerodl as zd
        import zerodl.functional as F
        from zerodl import optim

        self.zd, self.F = zd, F
        self.model = build_zerodl_model(task)
        values = dict(params)
        for name, p in self.model.named_parameters():
            p.data[...] = values[name]
        self.model.train()
        if task.optimizer == "sgd":
            self.optimizer = optim.SGD(self.model.parameters(), lr=task.lr)
        else:
            self.optimizer = optim.Adam(self.model.parameters(), lr=task.lr)

    def prepare(self, x: np.ndarray, t: np.ndarray):
        return self.zd.Tensor(x.astype(np.float32)), self.zd.Tensor(t.astype(np.int64))

    def step(self, batch):
        x, t = batch
        self.optimizer.zero_grad()
        loss = self.F.cross_entropy(self.model(x), t)
        loss.backward()
        self.optimizer.step()
        return loss

    def loss_value(self, loss) -> float:
        return float(loss.item())

    def eval_loss(self, batch) -> float:
        x, t = batch
        self.model.eval()
        with self.zd.no_grad():
            loss = self.F.cross_entropy(self.model(x), t).item()
        self.model.train()
        return float(loss)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 1000) -> float:
        self.model.eval()
        with self.zd.no_grad():
            share = batched_accuracy(lambda xb: self.model(self.zd.Tensor(xb)).data,
                                     x, t, batch_size)
        self.model.train()
        return share
