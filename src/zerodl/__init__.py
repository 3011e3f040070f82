"""zerodl: deep learning built from zero on NumPy.

    import zerodl as zd
    import zerodl.functional as F
    from zerodl import nn, optim

    x = zd.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x ** 2).sum()
    y.backward()
    x.grad            # tensor([[2., 4.]])
"""

__version__ = "0.1.0"

from . import (
    functional,  # noqa: E402  (installs Tensor's operators)
    numerical,  # noqa: E402
)
from .autograd import (  # noqa: E402
    Function,
    Tensor,
    as_tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    tensor,
)
from .memory import keep_freed_memory  # noqa: E402
from .random import manual_seed  # noqa: E402

__all__ = [
    "Function", "Tensor", "tensor", "as_tensor", "no_grad", "enable_grad", "is_grad_enabled",
    "manual_seed", "keep_freed_memory", "functional", "numerical", "__version__",
]


def __getattr__(name):
    # Higher layers load on first use, so `import zerodl` stays light (NumPy alone).
    import importlib

    if name in {"nn", "optim", "data", "train", "io", "landscape", "viz", "lab", "cli",
                "distributed", "runs", "book"}:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'zerodl' has no attribute {name!r}")
