"""Every optimizer by name: its class, its display name and its default learning rates.

The one list that the command line (``zerodl train --optimizer``, ``zerodl
descent``), ``zerodl.landscape``, ``zerodl.runs`` and the lab (its server, and
through ``/api/info`` its page) all read::

    optim.OPTIMIZERS["adam"].label          # "Adam"
    optim.create("adam", model.named_parameters())              # lr 0.001 for training
    optim.create("momentum", [p], lr=0.1)                        # any rate given
"""

from __future__ import annotations

from dataclasses import dataclass

from .optimizer import Optimizer
from .optimizers import SGD, AdaGrad, Adam, AdamW, Momentum, Nesterov, RMSProp


@dataclass(frozen=True)
class OptimizerSpec:
    """One named optimizer and its defaults.

    ``name``: the key used on the command line and in the lab ("adam");
    ``cls``: the class, called as ``cls(params, lr=lr, **kwargs)``;
    ``label``: its display name in legends and menus ("Adam");
    ``lr``: the learning rate for training a network when none is given;
    ``descent_lr``: the learning rate for the 2-D descent study (the book's
    comparison on x²/20 + y², ch. 6.1.7, and rates of the same spirit for the
    others); ``weight_decay``: the training default (AdamW's decoupled 0.01);
    ``in_book``: the book's code has it (the lab offers these);
    ``book_race``: one of the four the book races in fig. 6-8.
    """

    name: str
    cls: type[Optimizer]
    label: str
    lr: float
    descent_lr: float
    weight_decay: float = 0.0
    in_book: bool = True
    book_race: bool = False


OPTIMIZERS: dict[str, OptimizerSpec] = {s.name: s for s in [
    OptimizerSpec("sgd", SGD, "SGD", lr=0.1, descent_lr=0.95, book_race=True),
    OptimizerSpec("momentum", Momentum, "Momentum", lr=0.05, descent_lr=0.1, book_race=True),
    OptimizerSpec("nesterov", Nesterov, "Nesterov", lr=0.05, descent_lr=0.1),
    OptimizerSpec("adagrad", AdaGrad, "AdaGrad", lr=0.01, descent_lr=1.5, book_race=True),
    OptimizerSpec("rmsprop", RMSProp, "RMSProp", lr=0.001, descent_lr=0.1),
    OptimizerSpec("adam", Adam, "Adam", lr=0.001, descent_lr=0.3, book_race=True),
    OptimizerSpec("adamw", AdamW, "AdamW", lr=0.001, descent_lr=0.3, weight_decay=0.01,
                  in_book=False),
]}

# The six of the book's ch. 6, in the registry's order (the lab offers these).
BOOK_OPTIMIZERS = tuple(name for name, spec in OPTIMIZERS.items() if spec.in_book)


def optimizer_spec(name: str) -> OptimizerSpec:
    """The registry's entry for ``name`` (any case); ValueError listing the valid names."""
    spec = OPTIMIZERS.get(name.lower()) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(OPTIMIZERS)}")
    return spec


def create(name: str, params, lr: float | None = None, **kwargs) -> Optimizer:
    """The optimizer called ``name`` over ``params``: ``cls(params, lr=lr, **kwargs)``.

    ``lr`` defaults to the registry's learning rate for training (``spec.lr``).
    """
    spec = optimizer_spec(name)
    return spec.cls(params, lr=spec.lr if lr is None else lr, **kwargs)
