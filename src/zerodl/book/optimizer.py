"""The book's ``common/optimizer.py`` (ch. 6.1): ``update(params, grads)`` on dicts.

    optimizer = Adam()                       # the book's names and defaults
    optimizer.update(network.params, grads)  # params[key] updated in place

Each class drives the ``zerodl.optim`` optimizer of the same rule, so the
update arithmetic is zerodl's own: ``update`` hands it the dict's arrays (the
very arrays, so an update in place reaches every layer holding them) and the
gradients, and calls ``step()``. Plain numbers work too, as in ch. 6's 2-D
comparison (``params = {'x': -7.0, 'y': 2.0}``): ``params[key]`` is then
replaced by the updated number.

The book's hyperparameters and ε = 1e-7 are kept. Adam puts its ε where the
book does (on √v before the bias correction), so the paths are the book's to
the last digit. Nesterov is the one exception: the book's code multiplies the
already-updated velocity by α², which is not Nesterov's method; this one is
(the same as ``zerodl.optim.Nesterov`` and PyTorch's ``SGD(nesterov=True)``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import optim
from ..nn.module import Parameter

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "OPTIMIZERS",
           "DictOptimizer"]


class DictOptimizer:
    """The base of the book's optimizers here: runs a zerodl optimizer on a dict of arrays
    or numbers (see the module docstring); a subclass says which one in ``_make``."""

    def __init__(self) -> None:
        self._opt = None
        self._params: dict[str, Parameter] = {}

    def update(self, params, grads) -> None:
        """Update every ``params[key]`` with ``grads[key]``: arrays in place, numbers by replacement."""
        if self._opt is None or list(params) != list(self._params):
            self._params = {key: Parameter(_as_float_array(key, value)) for key, value in params.items()}
            self._opt = self._make(list(self._params.items()))
        for key, value in params.items():
            p = self._params[key]
            if _is_float_array(value):
                p.data = value  # the caller's own array: updated in place
            else:
                p.data = np.array(value, dtype=np.float64)
            p.grad = np.asarray(grads[key], dtype=p.data.dtype)
        self._configure(self._opt)
        self._opt.step()
        for key, value in params.items():
            if not _is_float_array(value):
                params[key] = float(self._params[key].data)

    def _make(self, named):
        raise NotImplementedError

    def _configure(self, opt) -> None:
        """Copy the hyperparameters (``lr`` may change between updates) into the zerodl optimizer."""
        opt.lr = self.lr


class SGD(DictOptimizer):
    """W ← W - η·∂L/∂W (ch. 6.1.2). zerodl's ``optim.SGD``."""

    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr

    def _make(self, named):
        return optim.SGD(named, lr=self.lr)


class Momentum(DictOptimizer):
    """v ← α·v - η·∂L/∂W, W ← W + v (ch. 6.1.4). zerodl's ``optim.Momentum``
    (its buffer is -v/η, the same path for a fixed η)."""

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__()
        self.lr, self.momentum = lr, momentum

    def _make(self, named):
        return optim.Momentum(named, lr=self.lr, momentum=self.momentum)

    def _configure(self, opt) -> None:
        opt.lr, opt.momentum = self.lr, self.momentum


class Nesterov(Momentum):
    """Nesterov's accelerated gradient (the book's reference: arXiv 1212.0901).

    v ← α·v - η·g, W ← W + α²·v_old - (1 + α)·η·g, which is zerodl's
    ``optim.Nesterov``. The book's code uses the updated v in the α² term, a
    different (and not Nesterov's) method.
    """

    def _make(self, named):
        return optim.Nesterov(named, lr=self.lr, momentum=self.momentum)


class AdaGrad(DictOptimizer):
    """h ← h + g², W ← W - η·g / (√h + 1e-7) (ch. 6.1.5). zerodl's ``optim.AdaGrad``."""

    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr

    def _make(self, named):
        return optim.AdaGrad(named, lr=self.lr, eps=1e-7)


class RMSprop(DictOptimizer):
    """h ← ρ·h + (1 - ρ)·g², W ← W - η·g / (√h + 1e-7), ρ = decay_rate (ch. 6.1.5).
    zerodl's ``optim.RMSProp``."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        super().__init__()
        self.lr, self.decay_rate = lr, decay_rate

    def _make(self, named):
        return optim.RMSProp(named, lr=self.lr, alpha=self.decay_rate, eps=1e-7)

    def _configure(self, opt) -> None:
        opt.lr, opt.alpha = self.lr, self.decay_rate


class Adam(DictOptimizer):
    """Adam (ch. 6.1.6): m ← β₁m + (1-β₁)g, v ← β₂v + (1-β₂)g²,
    W ← W - η·√(1-β₂ᵗ)/(1-β₁ᵗ) · m / (√v + 1e-7).

    zerodl's ``optim.Adam``, whose ε sits after the bias correction: it is given
    ε = 1e-7/√(1-β₂ᵗ) at step t, which is the book's formula exactly. ``iter``
    counts the updates, as in the book.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        super().__init__()
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter = 0

    def _make(self, named):
        self.iter = 0
        return optim.Adam(named, lr=self.lr, betas=(self.beta1, self.beta2))

    def _configure(self, opt) -> None:
        self.iter += 1
        opt.lr, opt.betas = self.lr, (self.beta1, self.beta2)
        opt.eps = 1e-7 / math.sqrt(1.0 - self.beta2 ** self.iter)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
              "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam}
"""The optimizers by the lower-case names the book's Trainer accepts."""


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _as_float_array(key, value):
    if _is_float_array(value):
        return value
    if isinstance(value, np.ndarray) or not np.isscalar(value):
        raise TypeError(f"optimizer.update: params[{key!r}] must be a float array or a number, "
                        f"got {type(value).__name__}"
                        + (f" of dtype {value.dtype}" if isinstance(value, np.ndarray) else ""))
    return np.array(value, dtype=np.float64)
