"""Optimizers (the book's ch. 6.1) and learning-rate schedules.

Each optimizer updates ``p.data`` in place from ``p.grad``, with the same
update rule as PyTorch's optimizer of the same name, so the same gradients
give the same parameters. Their state (momentum buffers, running averages,
step counts) is keyed by parameter names::

    opt = optim.Adam(model.named_parameters(), lr=1e-3)   # or model.parameters()
    loss.backward(); opt.step(); opt.zero_grad()

Weight decay applies to every parameter (PyTorch's rule) unless
``weight_decay_filter`` says otherwise; ``"weights"`` is the book's rule (the
W of each layer, not biases nor BatchNorm's γ, β)::

    optim.SGD(model.named_parameters(), lr=0.1, weight_decay=0.1, weight_decay_filter="weights")

Where to read what:

    optimizers.py   SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW: each
                    ``update`` is its formula (the fast in-place versions that
                    ``step`` runs are in ``zerodl.kernels.optim``)
    optimizer.py    the Optimizer base class: parameters, state, step, save/load
    schedules.py    StepLR, CosineAnnealingLR
    registry.py     OPTIMIZERS: every optimizer by name, with its default rates;
                    ``create(name, params, lr)``

A float32 model stays float32 (the hyperparameters are read as Python floats,
which never upcast an array). Gradients are read, never written: they may be
shared with other code.
"""

from .optimizer import Optimizer
from .optimizers import SGD, AdaGrad, Adam, AdamW, Momentum, Nesterov, RMSProp, RMSprop
from .registry import BOOK_OPTIMIZERS, OPTIMIZERS, OptimizerSpec, create, optimizer_spec
from .schedules import CosineAnnealingLR, LRScheduler, StepLR

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "RMSprop", "Adam",
           "AdamW", "LRScheduler", "StepLR", "CosineAnnealingLR", "OPTIMIZERS", "BOOK_OPTIMIZERS",
           "OptimizerSpec",
           "optimizer_spec", "create"]
