"""Learning-rate schedules: set ``optimizer.lr`` from the epoch count, as PyTorch's do.

    sched = optim.CosineAnnealingLR(opt, T_max=epochs)
    for epoch in range(epochs):
        ...                     # train one epoch with opt
        sched.step()            # then the next epoch's learning rate
"""

from __future__ import annotations

import math

from .optimizer import Optimizer


class LRScheduler:
    """Sets ``optimizer.lr`` from the epoch count; call ``step()`` once per epoch.

    A subclass gives ``lr_at(epoch)``, the learning rate after ``epoch`` epochs
    (``base_lr``, the optimizer's lr when the schedule was made, at epoch 0).
    """

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        """The learning rate after ``epoch`` epochs."""
        raise NotImplementedError(f"{type(self).__name__}.lr_at is not defined")

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> float:
        """The learning rate set by the latest ``step()`` (the base one before any)."""
        return float(self.optimizer.lr)

    def state_dict(self) -> dict:
        """``{"base_lr", "last_epoch"}``: where the schedule stands."""
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict) -> None:
        """Go back to where ``state_dict()`` was taken, and set the optimizer's lr to match."""
        self.base_lr = float(state["base_lr"])
        self.last_epoch = int(state["last_epoch"])
        self.optimizer.lr = self.lr_at(self.last_epoch)


class StepLR(LRScheduler):
    """lr = base_lr · gamma^⌊epoch / step_size⌋: divide by 1/gamma every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size, self.gamma = _at_least_one("StepLR", "step_size", step_size), float(gamma)

    def lr_at(self, epoch: int) -> float:
        """base_lr · gamma^⌊epoch / step_size⌋."""
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min)·(1 + cos(π·epoch / T_max)) / 2, from base_lr down to eta_min."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max, self.eta_min = _at_least_one("CosineAnnealingLR", "T_max", T_max), float(eta_min)

    def lr_at(self, epoch: int) -> float:
        """eta_min + (base_lr - eta_min)·(1 + cos(π·epoch / T_max)) / 2."""
        cos = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (1.0 + cos) / 2.0


def _at_least_one(owner: str, name: str, epochs) -> int:
    """A number of epochs that a schedule divides by, checked."""
    if int(epochs) < 1:
        raise ValueError(f"{owner}: {name} must be at least 1 (epochs), got {epochs}")
    return int(epochs)
