"""Module and Parameter: how networks hold their weights and find them again.

A ``Module`` registers every ``Parameter``, buffer and sub-``Module`` assigned to
it as an attribute, in the order of assignment, under a stable dotted name::

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10))

    [name for name, _ in Net().named_parameters()]
    # ['layers.0.W', 'layers.0.b', 'layers.2.W', 'layers.2.b']

Those names key ``state_dict()`` (parameters and buffers, as array copies),
``load_state_dict()`` and the optimizers' state. The book keeps its weights in
a ``params`` dict (``params['W1']``); a Module builds that dict for you.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from ..autograd import Tensor
from ..backend import array_of, as_numpy, device_name, get_array_module, to_device
from .hooks import RemovableHandle


class Parameter(Tensor):
    """A Tensor that a Module trains: ``requires_grad=True``, registered when assigned.

    ``Parameter(ndarray)`` keeps the array's dtype (and shares it); Python
    numbers and lists become float32, as for any Tensor.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None, name: str | None = None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, name=name)

    def __repr__(self) -> str:
        return self._repr_as("Parameter")


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of layers and networks: subclass it, assign parts in ``__init__``, write ``forward``.

    Attributes that are Parameters, sub-Modules (or lists/tuples of Modules,
    wrapped into a ``ModuleList``) are registered in assignment order;
    ``register_buffer`` adds arrays that are state but not trained (BatchNorm's
    running statistics). ``module(x)`` calls ``forward(x)``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    # ------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning {name!r}"
            )
        if isinstance(value, (list, tuple)) and value and all(isinstance(m, Module) for m in value):
            value = ModuleList(value)
        if isinstance(value, Parameter):
            registry = self._parameters
        elif isinstance(value, Module):
            registry = self._modules
        elif name in self.__dict__.get("_buffer_names", ()) and value is not None:
            registry, value = self._buffers, _check_buffer(name, value)
        else:
            registry = None
        # A replacement keeps its place (as in PyTorch): Sequential's order is its forward.
        for other in (self._parameters, self._modules, self._buffers):
            if other is not registry:
                other.pop(name, None)
        if registry is not None:
            registry[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        self.__dict__.get("_buffer_names", set()).discard(name)
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)

    def register_buffer(self, name: str, array) -> None:
        """Keep ``array`` (an ndarray, not trained) as ``self.<name>`` and in ``state_dict()``.

        Reassigning ``self.<name> = new_array`` later replaces the buffer.
        """
        if "_buffer_names" not in self.__dict__:
            object.__setattr__(self, "_buffer_names", set())
        self._buffer_names.add(name)
        setattr(self, name, array)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """``self.<name> = param``; None leaves the name unregistered (an absent bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        setattr(self, name, param)

    def add_module(self, name: str, module: Module) -> None:
        """``self.<name> = module`` for names that are not identifiers (Sequential's "0", "1", …).

        An existing name keeps its place: the new module replaces the old one there.
        """
        if not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        setattr(self, name, module)

    # ------------------------------------------------------------ walking the tree
    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """(dotted name, module) for this module ("") and every descendant, parents first."""
        out = [(prefix, self)]
        for name, child in self._modules.items():
            out.extend(child.named_modules(_join(prefix, name)))
        return out

    def modules(self) -> list[Module]:
        """This module and every descendant, parents first."""
        return [m for _, m in self.named_modules()]

    def named_children(self) -> list[tuple[str, Module]]:
        """(name, module) for the direct sub-modules, in registration order."""
        return list(self._modules.items())

    def children(self) -> list[Module]:
        """The direct sub-modules, in registration order."""
        return list(self._modules.values())

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Parameter]]:
        """(dotted name, Parameter) in registration order: own parameters, then each child's.

        A Parameter shared by two modules is listed once, under its first name.
        """
        seen: set[int] = set()
        out = []
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((_join(mod_name, name), p))
        return out

    def parameters(self) -> list[Parameter]:
        """Every Parameter, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> list[tuple[str, np.ndarray]]:
        """(dotted name, array) of every buffer, in registration order."""
        return [(_join(mod_name, name), b)
                for mod_name, mod in self.named_modules(prefix)
                for name, b in mod._buffers.items()]

    def buffers(self) -> list[np.ndarray]:
        """Every buffer array."""
        return [b for _, b in self.named_buffers()]

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics) for this module and all below."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``. Dropout is the identity, BatchNorm uses running statistics."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``), before the next ``backward()``."""
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------ dtype and device
    def to(self, target) -> Module:
        """Convert parameters and buffers in place: a dtype (``np.float64``) or a device ("cpu", "gpu").

        Gradients are dropped. Make optimizers after converting: their state
        buffers follow the parameters' dtype when they are created.
        """
        if isinstance(target, str):
            device = device_name(target)  # an unknown name is refused here

            def convert_param(a):
                return to_device(a, device)

            convert_buffer = convert_param
        else:
            dtype = np.dtype(target)
            if dtype.kind != "f":
                raise TypeError(f"Module.to: parameters must stay floating point, got {dtype}")

            def convert_param(a):
                return a.astype(dtype, copy=False)

            def convert_buffer(a):  # integer buffers (counters) keep their type
                return a.astype(dtype, copy=False) if a.dtype.kind == "f" else a

        for p in self.parameters():
            p.data = convert_param(p.data)
            p.grad = None
        for m in self.modules():
            for name, b in list(m._buffers.items()):
                setattr(m, name, convert_buffer(b))
        return self

    def double(self) -> Module:
        """``to(np.float64)``: what gradient checks use."""
        return self.to(np.float64)

    def float(self) -> Module:
        """``to(np.float32)``: zerodl's default."""
        return self.to(np.float32)

    # ------------------------------------------------------------ state
    def state_dict(self) -> OrderedDict:
        """Dotted name -> NumPy copy of every parameter and buffer (``layers.1.running_mean``)."""
        out = OrderedDict()
        for mod_name, mod in self.named_modules():
            for name, p in mod._parameters.items():
                out[_join(mod_name, name)] = as_numpy(p.data).copy()
            for name, b in mod._buffers.items():
                out[_join(mod_name, name)] = as_numpy(b).copy()
        return out

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state`` into this module's parameters and buffers, keeping their dtype.

        With ``strict=True`` the keys must match exactly; otherwise one error
        lists every missing key, unexpected key, shape mismatch and dtype
        mismatch. A floating parameter takes only floating arrays (float16/32/64,
        cast to its dtype): bool, integer, complex, datetime or object arrays are
        refused, never cast into weights. Buffers take any numbers, cast to
        their dtype. Shape and dtype mismatches are errors even with
        ``strict=False``. Nothing is copied unless everything checks out.
        """
        targets = OrderedDict()
        for mod_name, mod in self.named_modules():
            for name, p in mod._parameters.items():
                targets[_join(mod_name, name)] = (p, "data")
            for name in mod._buffers:
                targets[_join(mod_name, name)] = (mod, name)
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        mismatched, wrong_dtype = [], []
        for key, (owner, attr) in targets.items():
            if key in state:
                have = getattr(owner, attr)
                src = array_of(state[key])
                got = np.shape(src)
                if tuple(got) != tuple(have.shape):
                    mismatched.append((key, tuple(have.shape), tuple(got)))
                dtype = _dtype_of(src)
                if attr == "data" and have.dtype.kind == "f" and dtype.kind != "f":
                    wrong_dtype.append((key, have.dtype, dtype))
        if mismatched or wrong_dtype or (strict and (missing or unexpected)):
            raise RuntimeError(_load_error(type(self).__name__, missing, unexpected,
                                           mismatched, wrong_dtype))
        for key, (owner, attr) in targets.items():
            if key in state:
                dst = getattr(owner, attr)
                src = array_of(state[key])
                xp = get_array_module(dst)
                dst[...] = xp.asarray(src).astype(dst.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ calling and printing
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def __call__(self, *args, **kwargs):
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, output)
                if result is not None:
                    output = result
        return output

    def register_forward_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward of this module; return a
        handle whose ``remove()`` takes it off (also usable as ``with handle:``).

        ``inputs`` is the tuple of positional arguments. A hook that returns
        something other than None replaces the output. The way to look inside a
        network, as PyTorch's hook of the same name; the book's activation
        histograms (ch. 6.2.2) keep each layer's output::

            outputs = []
            for layer in model.layers:
                if isinstance(layer, nn.Sigmoid):
                    layer.register_forward_hook(lambda m, inputs, y: outputs.append(y.data))
            model(x)
        """
        if not callable(hook):
            raise TypeError(f"register_forward_hook: the hook must be callable, got "
                            f"{type(hook).__name__}")
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (its settings)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}(" + (extra if extra else "")]
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after the other, named "0", "1", … (``layers.0.W``).

    The book's networks keep their layers in an OrderedDict and loop over it in
    ``predict``; Sequential is that loop. An OrderedDict argument names the
    layers itself: ``Sequential(OrderedDict(conv=..., relu=...))``.
    """

    def __init__(self, *modules) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in items:
            self.add_module(name, m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end, named by its position."""
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*mods[i])
        return mods[i]

    def __setitem__(self, i: int, module: Module) -> None:
        """Replace layer ``i`` in its place: ``net[1] = nn.Tanh()`` (its name and order stay)."""
        names = list(self._modules)
        try:
            name = names[i]
        except (IndexError, TypeError):
            raise IndexError(f"Sequential: no layer {i!r} to replace; it has {len(names)} layers "
                             f"(indices 0..{len(names) - 1} or negative ones)") from None
        self.add_module(name, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


class ModuleList(Module):
    """A list of Modules whose parameters are registered ("0", "1", …); it has no forward.

    Assigning a list or tuple of Modules to a Module's attribute makes one.
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end, named by its position."""
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, i):
        mods = list(self._modules.values())
        return ModuleList(mods[i]) if isinstance(i, slice) else mods[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


# ---------------------------------------------------------------- helpers
def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check_buffer(name: str, value):
    if not hasattr(value, "shape") or isinstance(value, Tensor):
        raise TypeError(f"register_buffer: {name!r} must be an ndarray, got {type(value).__name__}")
    return value


def _dtype_of(src) -> np.dtype:
    """The dtype of an array (NumPy or CuPy) or of what NumPy makes of a list or number."""
    dtype = getattr(src, "dtype", None)
    return dtype if isinstance(dtype, np.dtype) else np.asarray(src).dtype


def _load_error(owner: str, missing, unexpected, mismatched, wrong_dtype=()) -> str:
    parts = [f"load_state_dict: the state does not fit {owner}:"]
    if missing:
        parts.append(f"  missing keys ({len(missing)}): " + ", ".join(missing))
    if unexpected:
        parts.append(f"  unexpected keys ({len(unexpected)}): " + ", ".join(unexpected))
    for key, have, got in mismatched:
        parts.append(f"  shape mismatch for {key}: expected {have}, got {got}")
    for key, have, got in wrong_dtype:
        parts.append(f"  dtype mismatch for {key}: expected {have} (or another float dtype), "
                     f"got {got}, which is not a floating dtype: weights are never cast "
                     f"from {got}; the file is damaged or not this model's")
    if missing or unexpected:
        parts.append("  (pass strict=False to load only the keys that match)")
    return "\n".join(parts)
