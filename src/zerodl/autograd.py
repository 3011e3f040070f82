"""The engine: Tensor, Function and reverse-mode automatic differentiation.

A ``Tensor`` holds an array (``.data``) and, once ``backward()`` has run, the
gradient of the output with respect to it (``.grad``). Every operation is a
``Function``: its ``forward`` computes on arrays, its ``backward`` turns the
gradient of the output into gradients of the inputs, written with Tensor
operations so that the backward pass can itself be differentiated.

Calling a Function on Tensors records it as the ``creator`` of its outputs;
``Tensor.backward()`` walks those records once, newest first (by
*generation*), applying the chain rule. The walk is a loop over a heap, not
recursion, so a chain of 100,000 operations is fine.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import weakref

import numpy as np

from .backend import as_numpy, device_of, get_array_module, is_gpu_array

DEFAULT_DTYPE = np.float32


# ---------------------------------------------------------------- grad mode
class _GradMode(threading.local):
    """Whether operations record the graph; per thread, so a server's threads don't interfere."""

    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record the graph for ``backward()``."""
    return _grad_mode.enabled


@contextlib.contextmanager
def _set_grad_enabled(enabled: bool):
    previous = _grad_mode.enabled
    _grad_mode.enabled = enabled
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def no_grad():
    """Context manager (or decorator) in which no graph is recorded: inference, updates."""
    return _set_grad_enabled(False)


def enable_grad():
    """Context manager (or decorator) that records the graph again inside ``no_grad()``."""
    return _set_grad_enabled(True)


# ---------------------------------------------------------------- Tensor
def _to_array(data, dtype=None):
    """Make the array a Tensor holds: ndarrays keep their dtype, Python numbers become float32."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)) or is_gpu_array(data):
        xp = get_array_module(data)
        arr = xp.asarray(data)
        return arr if dtype is None else arr.astype(dtype, copy=False)
    arr = np.asarray(data, dtype=dtype)
    if dtype is None and arr.dtype.kind in "iuf":
        arr = arr.astype(DEFAULT_DTYPE)  # Python numbers and lists: float32, as the library's default
    return arr


class Tensor:
    """An array that remembers how it was computed, so gradients can flow back to it.

    ``Tensor(ndarray)`` keeps the array's dtype (float64 stays float64); Python
    numbers and lists become float32 unless ``dtype`` says otherwise.
    """

    __slots__ = ("data", "grad", "requires_grad", "creator", "generation", "name",
                 "_retain_grad", "__weakref__")
    # `ndarray + Tensor` must call Tensor.__radd__ (staying in the graph), not
    # let NumPy treat the Tensor as an object to broadcast over.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        arr = _to_array(data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype {arr.dtype}; "
                "pass dtype=np.float32 (or float64)"
            )
        self.data = arr
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self.creator: Function | None = None
        self.generation = 0
        self.name = name
        self._retain_grad = False

    # -- array-like facts
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (parameters, inputs), not by an operation."""
        return self.creator is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(as_numpy(self.data), separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != DEFAULT_DTYPE:
            extra = f", dtype={self.data.dtype}" + extra
        return f"tensor({body}{extra})"

    def __array__(self, dtype=None, copy=None):
        arr = as_numpy(self.data)
        if dtype is not None and arr.dtype != dtype:
            if copy is False:
                raise ValueError(
                    f"Tensor.__array__: casting {arr.dtype} to {np.dtype(dtype)} needs a copy, "
                    "but copy=False was asked"
                )
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"Tensor of shape {self.shape}: truth value is ambiguous; use (t).any() or (t).all()"
            )
        return bool(self.data)

    __hash__ = object.__hash__  # `==` builds a comparison Tensor, identity stays the hash

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied, on the CPU)."""
        return as_numpy(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: tensor has {self.data.size} elements (shape {self.shape}), need 1")
        return self.data.item()

    def tolist(self):
        return as_numpy(self.data).tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no gradient flows through it)."""
        return Tensor(self.data)

    def astype(self, dtype) -> Tensor:
        """A copy cast to ``dtype``, cut from the graph."""
        return Tensor(self.data.astype(dtype))

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this intermediate tensor after ``backward()`` (leaves always keep it)."""
        self._retain_grad = True
        return self

    def zero_grad(self) -> None:
        self.grad = None

    # -- backpropagation
    def backward(self, grad=None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires one.

        Gradients accumulate (``+=``) into each leaf's ``.grad``. ``grad`` is the
        upstream gradient (default 1 for a one-element tensor). The graph is
        freed as it is walked unless ``retain_graph=True``; ``create_graph=True``
        records the backward pass too, for higher-order derivatives.
        """
        backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)


def tensor(data, requires_grad: bool = False, dtype=None, name: str | None = None) -> Tensor:
    """Make a Tensor: ``zd.tensor([[1.0, 2.0]], requires_grad=True)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def _wrap(array) -> Tensor:
    """A Tensor around an operation's result, without __init__'s checks (hot path)."""
    if not hasattr(array, "shape") or isinstance(array, np.generic):
        array = np.asarray(array)
    t = Tensor.__new__(Tensor)
    t.data = array
    t.grad = None
    t.requires_grad = False
    t.creator = None
    t.generation = 0
    t.name = None
    t._retain_grad = False
    return t


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """Return ``x`` as a Tensor; a number or 0-d array takes ``like``'s float dtype.

    Scalars never upcast a tensor: float32 Tensor * np.float64(2.0) stays float32.
    """
    if isinstance(x, Tensor):
        return x
    if like is not None and like.data.dtype.kind == "f" and np.ndim(x) == 0 \
            and not is_gpu_array(x):
        xp = get_array_module(like.data)
        if xp is np:
            return _wrap(np.asarray(x, dtype=like.data.dtype))
        # On the GPU a kernel fills the scalar in: no host-to-device copy, which would wait for the GPU
        return _wrap(xp.full((), x, dtype=like.data.dtype))
    return _wrap(_to_array(x))


# ---------------------------------------------------------------- Function
_NO_GRADS = tuple((False,) * n for n in range(8))


def _named_error(f, xs, error: ValueError) -> ValueError:
    """``error`` with the operation's name and its input shapes, unless it already names them."""
    name = type(f).__name__
    message = str(error)
    if type(error) is not ValueError or message.lower().startswith(name.lower()) \
            or ":" in message.split(" ")[0]:
        # a subclass (NumPy's AxisError is also an IndexError) keeps its type, and our
        # operations' own messages already say which operation and shapes
        return error
    shapes = ", ".join(str(tuple(x.shape)) for x in xs)
    hint = " (shapes must be equal or broadcastable)" if "broadcast" in message else ""
    return ValueError(f"{name.lower()}: {message}; inputs {shapes}{hint}")


def _device_error(f, xs) -> TypeError:
    where = ", ".join(f"{device_of(x)} {tuple(x.shape)}" for x in xs)
    return TypeError(
        f"{type(f).__name__.lower()}: inputs are on different devices ({where}); put them on "
        "one device: model.to('gpu'), DataLoader(..., device='gpu') or zerodl.backend.to_device"
    )


def _no_grads(n: int) -> tuple[bool, ...]:
    return _NO_GRADS[n] if n < 8 else (False,) * n


class Function:
    """One differentiable operation: ``forward`` on arrays, ``backward`` on Tensors.

    Subclass it and call an instance on inputs::

        class Cube(zd.Function):
            def forward(self, x):            # ndarrays in, ndarrays out
                return x ** 3
            def backward(self, gy):          # Tensors in, Tensors out
                x, = self.inputs             # the input Tensors
                return gy * 3 * x ** 2

    ``forward`` may cache on ``self`` what ``backward`` needs. The engine calls
    ``backward`` with the gradients of the outputs as Tensors; when no graph is
    being recorded (``not is_grad_enabled()``, the usual case) a rule may compute
    on their arrays and return arrays, which the engine wraps.

    An instance can also be driven by hand, the way the book drives its
    MulLayer: call it, then call ``backward_by_hand`` with the upstream gradient
    (a number, an array or a Tensor) and read the input gradients::

        mul = Mul()
        price = mul(100.0, 2.0)              # forward: 200
        dprice, dcount = mul.backward_by_hand(1.0)   # 2.0 and 100.0, as Tensors
    """

    inputs: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...] = ()

    def __call__(self, *inputs):
        xs = inputs
        for x in inputs:
            if not isinstance(x, Tensor):  # numbers and arrays become constant Tensors
                like = next((t for t in inputs if isinstance(t, Tensor)), None)
                xs = tuple(t if isinstance(t, Tensor) else as_tensor(t, like) for t in inputs)
                break
        record = False
        if _grad_mode.enabled:
            for x in xs:
                if x.requires_grad:
                    record = True
                    break
        state = self.__dict__
        if "_freed" in state:
            del state["_freed"]  # called again: a fresh node, whatever came before
        self.needs_input_grad = tuple([x.requires_grad for x in xs]) if record else _no_grads(len(xs))
        try:
            ys = self.forward(*[x.data for x in xs])
        except ValueError as e:  # NumPy's own message (e.g. broadcasting) names no operation
            named = _named_error(self, xs, e)
            if named is e:
                raise
            raise named from e
        except TypeError:  # CuPy refuses NumPy arrays: say which inputs are where
            if len({device_of(x) for x in xs}) > 1:
                raise _device_error(self, xs) from None
            raise
        self.inputs = xs
        single = type(ys) is not tuple  # a forward returning a tuple (even of one) gets a tuple
        outputs = [_wrap(ys)] if single else [_wrap(y) for y in ys]
        self.outputs = ()  # outputs of an earlier call no longer belong to this node
        if record:
            self.generation = generation = max([x.generation for x in xs])
            for y in outputs:
                y.creator, y.generation, y.requires_grad = self, generation + 1, True
            self.outputs = tuple([weakref.ref(y) for y in outputs])
            if len(outputs) > 1:  # backward may need zeros for an output nobody used
                self._output_meta = tuple([(y.shape, y.dtype) for y in outputs])
        return outputs[0] if single else tuple(outputs)

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__}.backward is not defined")

    def backward_by_hand(self, *gys):
        """The input gradients for upstream gradients ``gys`` (numbers, arrays or Tensors).

        The book's ``layer.backward(dout)``: every input gets its gradient (even a
        constant), returned as Tensors in the inputs' float dtype, and no graph is
        recorded. One value for a one-input Function, else a tuple.
        """
        if getattr(self, "_freed", False):
            raise RuntimeError(f"{type(self).__name__}.backward: this node was freed by backward()")
        like = self.inputs[0] if getattr(self, "inputs", None) else None
        gys = tuple(as_tensor(g, like) for g in gys)
        # By hand, every input gets its gradient (the book's layers return them all),
        # even when called on plain numbers that require no grad.
        recorded = self.needs_input_grad
        self.needs_input_grad = (True,) * len(getattr(self, "inputs", ()))
        try:
            with no_grad():
                gxs = self.backward(*gys)
        finally:
            self.needs_input_grad = recorded
        if not isinstance(gxs, tuple):
            return _as_grad(gxs, self.inputs[0])
        return tuple(_as_grad(gx, x) for gx, x in zip(gxs, self.inputs))

    def output(self, i: int = 0) -> Tensor | None:
        """The i-th output Tensor while it is alive and in a graph, else None."""
        refs = getattr(self, "outputs", None)
        return refs[i]() if refs else None

    def _free(self) -> None:
        """Drop everything forward cached: the graph behind this node is done with."""
        self.__dict__.clear()
        self._freed = True


# ---------------------------------------------------------------- backward
_tiebreak = itertools.count()


def backward(output: Tensor, grad=None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Reverse-mode differentiation from ``output`` (see ``Tensor.backward``)."""
    if not output.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad (no input of the computation had "
            "requires_grad=True, or it was computed under no_grad())"
        )
    xp = get_array_module(output.data)
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"backward: a gradient can be implied only for a one-element output, this one has "
                f"shape {output.shape}; reduce it first (e.g. .sum()) or pass backward(grad=...)"
            )
        grad = _wrap(xp.ones_like(output.data))
    else:
        grad = as_tensor(grad, output)
        if grad.shape != output.shape:
            raise ValueError(
                f"backward: grad has shape {grad.shape} but the output has shape {output.shape}"
            )
        if grad.dtype != output.dtype and grad.dtype.kind == "f":
            grad = _wrap(grad.data.astype(output.dtype))  # the seed never changes the graph's dtype
    retain_graph = retain_graph or create_graph

    handed_out: dict[int, object] = {}  # buffers already given to a tensor's .grad (or the seed)
    _mark_handed_out(grad, handed_out)
    if output.creator is None:  # a leaf: its gradient is the seed itself
        _accumulate_grad(output, grad, handed_out)
        return

    pending: dict[int, list] = {}  # id(function) -> gradients of its outputs
    heap: list = []

    def receive(x: Tensor, gx: Tensor) -> None:
        creator = x.creator
        if creator is None:
            _accumulate_grad(x, gx, handed_out)
            return
        if getattr(creator, "_freed", False):
            raise RuntimeError(
                f"backward: the graph through {type(creator).__name__} was already freed by an "
                "earlier backward(); call the first backward(retain_graph=True) to go through "
                "the graph twice"
            )
        outputs = creator.outputs
        i = 0 if len(outputs) == 1 and outputs[0]() is x else _output_index(creator, x)
        slots = pending.get(id(creator))
        if slots is None:
            slots = pending[id(creator)] = [None] * len(creator.outputs)
            heapq.heappush(heap, (-creator.generation, next(_tiebreak), creator))
        slots[i] = gx if slots[i] is None else slots[i] + gx

    with _set_grad_enabled(create_graph):
        receive(output, grad)
        while heap:
            _, _, f = heapq.heappop(heap)
            gys = pending.pop(id(f))
            for i, ref in enumerate(f.outputs):
                y = ref()
                if gys[i] is None:  # an unused output of a multi-output function
                    shape, dtype = f._output_meta[i]
                    gys[i] = _wrap(xp.zeros(shape, dtype=dtype))
                if y is not None and y._retain_grad:
                    _accumulate_grad(y, gys[i], handed_out)
            gxs = f.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            if len(gxs) != len(f.inputs):
                raise RuntimeError(
                    f"{type(f).__name__}.backward returned {len(gxs)} gradients for "
                    f"{len(f.inputs)} inputs"
                )
            for x, gx, needed in zip(f.inputs, gxs, f.needs_input_grad):
                if not needed or gx is None:
                    continue
                gx = _as_grad(gx, x)
                if gx.data.shape != x.data.shape:
                    raise RuntimeError(
                        f"{type(f).__name__}.backward returned a gradient of shape {gx.shape} "
                        f"for an input of shape {x.shape}"
                    )
                receive(x, gx)
            if not retain_graph:
                f._free()


def arrays_or_tensors(*tensors):
    """What a backward rule computes with: the arrays inside ``tensors`` when no graph is
    being recorded (the usual case: NumPy speed, no Tensor per intermediate), the Tensors
    themselves under ``create_graph`` (so the rule's arithmetic is recorded). Rules written
    with operators and methods that arrays and Tensors share serve both."""
    if _grad_mode.enabled:
        return tensors
    return [t.data for t in tensors]


def _as_grad(gx, x: Tensor):
    """A backward rule's gradient for input ``x`` as a Tensor (None stays None).

    Rules may return plain arrays when no graph is recorded (the fast path); an
    array takes a float ``x``'s dtype, so a float32 graph stays float32 whatever
    precision a rule computed in, and a number or 0-d array takes it too.
    """
    if gx is None or isinstance(gx, Tensor):
        return gx
    if not getattr(gx, "ndim", 0):
        return as_tensor(gx, x)
    dtype = x.data.dtype
    return _wrap(gx if gx.dtype == dtype or dtype.kind != "f" else gx.astype(dtype))


def _output_index(f: Function, y: Tensor) -> int:
    """Which output of ``f`` the tensor ``y`` is; an error if ``f`` was called again since."""
    for i, ref in enumerate(f.outputs):
        if ref() is y:
            return i
    raise RuntimeError(
        f"backward: {type(f).__name__} was called again after it made this tensor, and a Function "
        "instance remembers only its last call; use a new instance for each call "
        "(as F.relu, F.add and the other functions do)"
    )


def _base(array):
    """The buffer an array views (itself when it owns its memory)."""
    while getattr(array, "base", None) is not None and hasattr(array.base, "shape"):
        array = array.base
    return array


def _writeable(array) -> bool:
    """False for read-only arrays (NumPy's broadcast views); CuPy has no such flag, so its
    broadcast views (a zero stride) count as read-only too."""
    writeable = getattr(array.flags, "writeable", None)
    return (0 not in array.strides) if writeable is None else writeable


def _mark_handed_out(t: Tensor, handed_out: dict) -> bool:
    """Remember ``t``'s buffer as owned; True if it was owned already (then it must be copied)."""
    base = _base(t.data)
    if id(base) in handed_out:
        return True
    handed_out[id(base)] = base  # keeping a reference keeps the id from being reused
    return False


def _accumulate_grad(x: Tensor, gx: Tensor, handed_out: dict) -> None:
    """x.grad += gx for a leaf (or a tensor that retains its grad), as a new Tensor.

    Without create_graph each tensor owns its ``.grad``: Add hands one array to
    both inputs, and an in-place change to one gradient must not reach another
    or the caller's seed, so a buffer already handed out is copied (a fresh
    array, the usual case, is taken as it is). A float32 parameter gets a
    float32 gradient even where NumPy promoted the graph.
    """
    if is_grad_enabled():  # create_graph: keep the gradient's own graph
        x.grad = gx if x.grad is None else x.grad + gx
    elif x.grad is None:
        shared = _mark_handed_out(gx, handed_out)
        if shared or gx.dtype != x.dtype or not _writeable(gx.data):
            gx = _wrap(gx.data.astype(x.dtype))  # always a copy
            _mark_handed_out(gx, handed_out)
        x.grad = gx
    else:
        total = x.grad.data + gx.data
        x.grad = _wrap(total if total.dtype == x.data.dtype else total.astype(x.data.dtype))
