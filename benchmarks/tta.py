"""Time to accuracy: training seconds until the MNIST test accuracy reaches a target.

Same recipe for every system: zerodl's initial weights, Adam lr 1e-3, batch 100,
the same shuffled order each epoch (seeded), evaluation on the 10,000 test
images once per epoch. Only the training steps and batch slicing are timed. The
driver alternates the systems epoch by epoch, so a change in the machine's speed
hits all of them.
"""

from __future__ import annotations

import sys
import time

import numpy as np

TARGETS = {"simple_convnet": 0.988, "deep_convnet": 0.990}
SEED = 0  # zerodl's initial weights, and each epoch's shuffle (SEED + epoch)


class TTAJob:
    """Train one system on one task epoch by epoch (``run``) until it reaches ``target``;
    the driver decides how many epochs at most."""

    def __init__(self, spec: dict):
        from .systems import make_trainer
        from .tasks import get_task, initial_params, load_mnist

        self.task = get_task(spec["task"])
        self.target = spec["target"]
        self.trainer = make_trainer(spec["system"], self.task, initial_params(self.task, SEED))
        self.x, self.t = load_mnist(train=True)
        if spec.get("subset"):
            self.x, self.t = self.x[:spec["subset"]], self.t[:spec["subset"]]
        self.test_x, self.test_t = load_mnist(train=False)
        self.system = spec["system"]
        self.epochs: list[dict] = []
        self.seconds, self.accuracy = 0.0, 0.0

    def run(self, n: int = 1) -> dict:
        """Train ``n`` more epochs (none once the target is reached).

        Returns the whole record so far, so the driver can alternate the systems
        epoch by epoch and keep the last answer of each.
        """
        batch, count = self.task.batch_size, len(self.t)
        for _ in range(n):
            if self.accuracy >= self.target:
                break
            epoch = len(self.epochs) + 1
            order = np.random.default_rng(SEED + epoch).permutation(count)
            start = time.perf_counter()
            for i in range(0, count - batch + 1, batch):
                index = order[i:i + batch]
                self.trainer.step(self.trainer.prepare(self.x[index], self.t[index]))
            self.seconds += time.perf_counter() - start
            self.accuracy = self.trainer.accuracy(self.test_x, self.test_t)
            self.epochs.append({"epoch": epoch, "train_seconds": self.seconds,
                                "test_accuracy": self.accuracy})
            print(f"  {self.system} epoch {epoch}: {self.seconds:.1f} s, "
                  f"test accuracy {self.accuracy:.2%}", file=sys.stderr)
        reached = self.accuracy >= self.target
        return {"epochs": self.epochs, "reached": reached,
                "seconds_to_target": self.seconds if reached else None}
