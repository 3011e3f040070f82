"""Time to accuracy: training seconds until the MNIST test accuracy reaches a target.

Same recipe for every system: zerodl's initial weights, Adam lr 1e-3, batch 100,
the same shuffled order each epoch (seeded), evaluation on the 10,000 test
images once per epoch. Only the training steps and batch slicing are timed.
"""

from __future__ import annotations

import sys
import time

import numpy as np

TARGETS = {"simple_convnet": 0.988, "deep_convnet": 0.990}


class TTAJob:
    """Train one system on one task until ``target`` or ``max_epochs``; ``run`` does it all."""

    def __init__(self, spec: dict):
        from .systems import make_trainer
        from .tasks import get_task, initial_params, load_mnist

        self.task = get_task(spec["task"])
        self.target, self.max_epochs = spec["target"], spec["max_epochs"]
        self.seed = spec.get("seed", 0)
        self.trainer = make_trainer(spec["system"], self.task,
                                    initial_params(self.task, self.seed))
        self.x, self.t = load_mnist(train=True)
        if spec.get("subset"):
            self.x, self.t = self.x[:spec["subset"]], self.t[:spec["subset"]]
        self.test_x, self.test_t = load_mnist(train=False)

    def run(self, n: int = 1) -> dict:
        batch, count = self.task.batch_size, len(self.t)
        seconds, epochs, accuracy = 0.0, [], 0.0
        for epoch in range(1, self.max_epochs + 1):
            order = np.random.default_rng(self.seed + epoch).permutation(count)
            start = time.perf_counter()
            for i in range(0, count - batch + 1, batch):
                index = order[i:i + batch]
                self.trainer.step(self.trainer.prepare(self.x[index], self.t[index]))
            seconds += time.perf_counter() - start
            accuracy = self.trainer.accuracy(self.test_x, self.test_t)
            epochs.append({"epoch": epoch, "train_seconds": seconds, "test_accuracy": accuracy})
            print(f"  epoch {epoch}: {seconds:.1f} s, test accuracy {accuracy:.2%}", file=sys.stderr)
            if accuracy >= self.target:
                break
        reached = accuracy >= self.target
        return {"epochs": epochs, "reached": reached,
                "seconds_to_target": seconds if reached else None}
