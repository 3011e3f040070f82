"""The Optimizer base class: named parameters, their state, ``step``, saving and loading.

A subclass writes its rule once, as the book writes it: ``update(p, g, state)``
on arrays (``optim/optimizers.py``). It may also give a ``fast_update`` that
computes the same thing in place (``zerodl.kernels.optim``); ``step`` calls
that one unless ``opt.fast = False``.
"""

from __future__ import annotations

from collections import OrderedDict

from ..autograd import Tensor
from ..backend import as_numpy, get_array_module, is_array
from ..kernels.optim import Scratch


class Optimizer:
    """Base class: holds named parameters, their state, and the hyperparameters as attributes.

    ``params``: a list of Parameters (named "0", "1", … in order),
    ``model.named_parameters()`` (the names key the state), or a Module.
    ``state[name]`` holds the parameter's step count ``"step"`` and the arrays
    its rule keeps (momentum, running averages), under PyTorch's names.

    ``fast``: True (the default) runs each rule's in-place kernel
    (``fast_update``); False runs the rule as its formula (``update``), which
    gives the same numbers up to rounding, more slowly.

    ``weight_decay_filter``: which parameters ``weight_decay`` applies to.
    None: all of them (PyTorch's rule). ``"weights"``: parameters with two or
    more axes, the W of Linear and Conv2d layers, not biases nor BatchNorm's
    γ and β: the book's rule (ch. 6.4.2 adds ½λΣW² to the loss for the
    weights alone). Or a function ``(name, parameter) -> bool``. The others
    are updated with weight_decay 0; ``no_decay`` lists their names.
    """

    fast = True

    def __init__(self, params, weight_decay_filter=None, **hyperparameters) -> None:
        self.params: OrderedDict[str, Tensor] = _named_params(type(self).__name__, params)
        self._hyper = tuple(hyperparameters)
        for key, value in hyperparameters.items():
            setattr(self, key, value)
        self.state: dict[str, dict] = {}
        self.scratch = Scratch()
        self.weight_decay_filter = weight_decay_filter
        self.no_decay: frozenset[str] = _no_decay(type(self).__name__, weight_decay_filter,
                                                  self.params)

    def update(self, p, g, state: dict) -> None:
        """One step of the rule for one parameter: change the array ``p`` in place from its
        gradient ``g`` (never modified); ``state["step"]`` is already this step's number t."""
        raise NotImplementedError(f"{type(self).__name__}.update is not defined")

    def fast_update(self, p, g, state: dict) -> None:
        """``update`` computed in place without temporaries; by default ``update`` itself."""
        self.update(p, g, state)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``)."""
        for p in self.params.values():
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient (parameters with ``grad=None`` are skipped)."""
        update = self.fast_update if self.fast else self.update
        for name, p in self.params.items():
            if p.grad is None:
                continue
            g = p.grad.data if isinstance(p.grad, Tensor) else p.grad
            if g.shape != p.data.shape:
                raise ValueError(f"{type(self).__name__}.step: gradient of {name!r} has shape "
                                 f"{g.shape} but the parameter has shape {p.data.shape}")
            state = self.state.setdefault(name, {"step": 0})
            state["step"] += 1
            if name in self.no_decay and self.weight_decay:
                self._update_without_decay(update, p.data, g, state)
            else:
                update(p.data, g, state)

    def _update_without_decay(self, update, p, g, state) -> None:
        """The rule run with weight_decay 0, for a parameter that ``weight_decay_filter`` leaves out."""
        weight_decay = self.weight_decay
        self.weight_decay = 0.0
        try:
            update(p, g, state)
        finally:
            self.weight_decay = weight_decay

    @property
    def hyperparameters(self) -> dict:
        """The settings, such as ``{"lr": 0.01, "momentum": 0.9}``."""
        return {k: getattr(self, k) for k in self._hyper}

    def state_dict(self) -> dict:
        """``{"type", "hyperparameters", "state": {param name: {"step": n, buffer: array}}}`` (copies)."""
        state = {name: {k: (as_numpy(v).copy() if is_array(v) else v)
                        for k, v in s.items()}
                 for name, s in self.state.items()}
        hyper = {k: (list(v) if isinstance(v, tuple) else v)
                 for k, v in self.hyperparameters.items()}
        return {"type": type(self).__name__, "hyperparameters": hyper, "state": state}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters (``lr`` included) and state saved by ``state_dict()``.

        The state's parameter names must belong to this optimizer and its arrays
        must have the parameters' shapes; they are copied in the parameters' dtype.
        """
        kind = state_dict.get("type", type(self).__name__)
        if kind != type(self).__name__:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state is from {kind}")
        saved = state_dict.get("state", {})
        unknown = [n for n in saved if n not in self.params]
        if unknown:
            raise KeyError(f"{type(self).__name__}.load_state_dict: state for unknown parameters "
                           f"{unknown}; this optimizer has {list(self.params)}")
        for name, s in saved.items():
            for k, v in s.items():
                if is_array(v) and tuple(v.shape) != self.params[name].shape:
                    raise ValueError(
                        f"{type(self).__name__}.load_state_dict: {name}.{k} has shape "
                        f"{tuple(v.shape)}, the parameter {self.params[name].shape}"
                    )
        for k, v in state_dict.get("hyperparameters", {}).items():
            if k in self._hyper:
                setattr(self, k, tuple(v) if isinstance(getattr(self, k), tuple) else v)
        self.state = {name: {k: _restore(k, v, self.params[name].data) for k, v in s.items()}
                      for name, s in saved.items()}

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


def _named_params(owner: str, params) -> OrderedDict:
    """(name, Parameter) pairs in order from a Module, named_parameters() or a plain list."""
    if hasattr(params, "named_parameters"):  # a Module
        params = params.named_parameters()
    items = list(params.items()) if isinstance(params, dict) else list(params)
    if not items:
        raise ValueError(f"{owner}: got an empty parameter list; pass model.parameters() "
                         "or model.named_parameters()")
    if all(isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str) for i in items):
        pairs = items
    else:
        pairs = [(str(i), p) for i, p in enumerate(items)]
    out: OrderedDict = OrderedDict()
    seen: set[int] = set()
    for name, p in pairs:
        if not isinstance(p, Tensor) or p.data.dtype.kind != "f":
            raise TypeError(f"{owner}: parameter {name!r} must be a float Tensor (Parameter), "
                            f"got {type(p).__name__}")
        if id(p) in seen or name in out:
            raise ValueError(f"{owner}: parameter {name!r} appears twice")
        seen.add(id(p))
        out[name] = p
    return out


def _no_decay(owner: str, weight_decay_filter, params: OrderedDict) -> frozenset:
    """The names of the parameters that ``weight_decay_filter`` keeps out of weight decay."""
    if weight_decay_filter is None:
        return frozenset()
    if weight_decay_filter == "weights":
        def decays(name, p):
            return p.ndim >= 2
    elif callable(weight_decay_filter):
        decays = weight_decay_filter
    else:
        raise ValueError(f"{owner}: weight_decay_filter must be None, 'weights' or a function "
                         f"(name, parameter) -> bool, got {weight_decay_filter!r}")
    return frozenset(name for name, p in params.items() if not decays(name, p))


def _restore(key: str, value, p):
    """A saved state entry as it lives in memory: arrays in the parameter's dtype, ints for steps."""
    if is_array(value):
        return get_array_module(p).array(value, dtype=p.dtype)
    return int(value) if key == "step" else value
