"""The engine: Function, reverse-mode automatic differentiation, grad mode.

Every operation is a ``Function``: its ``forward`` computes on arrays, its
``backward`` turns the gradient of the output into gradients of the inputs.
Calling a Function on Tensors records it as the ``creator`` of its outputs;
``backward()`` walks those records once, newest first (by *generation*),
applying the chain rule. The walk is a loop over a heap, not recursion, so a
chain of 100,000 operations is fine.

A backward rule is written once, for both kinds of pass: it starts with
``gy, x = arrays_or_tensors(gy, *self.inputs)`` and computes with what arrays
and Tensors share (``+ - * / @ **``, ``.sum``, ``.reshape``, ``.T``, ``sum_to``)
or applies another Function (``apply(Exp(), y)``). In the usual pass nothing
is recorded and the rule runs on plain arrays (NumPy speed); under
``backward(create_graph=True)`` it runs on Tensors and is itself recorded,
which gives second derivatives.

The Tensor class itself is in ``zerodl.tensors``; its names are re-exported
here, so ``from zerodl.autograd import Tensor`` works as it always has.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import weakref

from .backend import device_of, get_array_module
from .tensors import DEFAULT_DTYPE, Tensor, _wrap, as_tensor, tensor

__all__ = [
    "DEFAULT_DTYPE", "Function", "Tensor", "apply", "arrays_or_tensors", "as_tensor", "backward",
    "enable_grad", "is_grad_enabled", "no_grad", "tensor",
]


# ---------------------------------------------------------------- grad mode
class _GradMode(threading.local):
    """Whether operations record the graph; per thread, so a server's threads don't interfere."""

    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record the graph for ``backward()``."""
    return _grad_mode.enabled


def no_grad():
    """Context manager (or decorator) in which no graph is recorded: inference, updates."""
    return _set_grad_enabled(False)


def enable_grad():
    """Context manager (or decorator) that records the graph again inside ``no_grad()``."""
    return _set_grad_enabled(True)


@contextlib.contextmanager
def _set_grad_enabled(enabled: bool):
    previous = _grad_mode.enabled
    _grad_mode.enabled = enabled
    try:
        yield
    finally:
        _grad_mode.enabled = previous


# ---------------------------------------------------------------- Function
class Function:
    """One differentiable operation: ``forward`` on arrays, ``backward`` on gradients.

    Subclass it and call an instance on inputs::

        class Cube(zd.Function):
            def forward(self, x):            # ndarrays in, ndarrays out
                return x ** 3
            def backward(self, gy):          # Tensors in, Tensors out
                x, = self.inputs             # the input Tensors
                return gy * 3 * x ** 2

    ``forward`` may cache on ``self`` what ``backward`` needs. The engine calls
    ``backward`` with the gradients of the outputs as Tensors; a rule that
    starts with ``arrays_or_tensors`` may return arrays, which the engine wraps.

    An instance can also be driven by hand, the way the book drives its
    MulLayer: call it, then call ``backward_by_hand`` with the upstream gradient
    (a number, an array or a Tensor) and read the input gradients::

        mul = Mul()
        price = mul(100.0, 2.0)              # forward: 200
        dprice, dcount = mul.backward_by_hand(1.0)   # 2.0 and 100.0, as Tensors
    """

    inputs: tuple[Tensor, ...] | None = ()  # None once backward() has freed the node
    outputs: tuple = ()  # weak references to the output Tensors, while in a graph
    needs_input_grad: tuple[bool, ...] = ()
    generation = 0
    name_in_errors: str | None = None  # default: the class name in lower case

    def __call__(self, *inputs):
        xs = inputs
        for x in inputs:
            if not isinstance(x, Tensor):  # numbers and arrays become constant Tensors
                xs = _constants_as_tensors(inputs)
                break
        record = False
        if _grad_mode.enabled:
            for x in xs:
                if x.requires_grad:
                    record = True
                    break
        self.needs_input_grad = tuple([x.requires_grad for x in xs]) if record \
            else _no_grads(len(xs))
        try:
            ys = self.forward(*[x.data for x in xs])
        except ValueError as e:  # NumPy's own message (e.g. broadcasting) names no operation
            named = _error_with_shapes(self, xs, e)
            if named is e:
                raise
            raise named from e
        except TypeError:  # CuPy refuses NumPy arrays: say which inputs are where
            if len({device_of(x) for x in xs}) > 1:
                raise _device_error(self, xs) from None
            raise
        self.inputs = xs
        self._output_arrays = ys  # kept for output(): rules written with y need it
        if type(ys) is not tuple:  # one output (a forward returning a tuple gets a tuple)
            y = _wrap(ys)
            if record:
                self.generation = generation = max([x.generation for x in xs])
                y.creator, y.generation, y.requires_grad = self, generation + 1, True
                self.outputs = (weakref.ref(y),)
            elif self.outputs:
                self.outputs = ()  # outputs of an earlier call no longer belong to this node
            return y
        outputs = tuple([_wrap(a) for a in ys])
        self.outputs = ()
        if record:
            self.generation = generation = max([x.generation for x in xs])
            for y in outputs:
                y.creator, y.generation, y.requires_grad = self, generation + 1, True
            self.outputs = tuple([weakref.ref(y) for y in outputs])
        return outputs

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def forward(self, *xs):
        """The operation on arrays (NumPy or CuPy): inputs' ``.data`` in, array(s) out."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def backward(self, *gys):
        """The gradients of the inputs from those of the outputs (``gy``): the chain rule."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not defined")

    def backward_by_hand(self, *gys):
        """The input gradients for upstream gradients ``gys`` (numbers, arrays or Tensors).

        The book's ``layer.backward(dout)``: every input gets its gradient (even a
        constant), returned as Tensors in the inputs' float dtype, and no graph is
        recorded. One value for a one-input Function, else a tuple.
        """
        if self.inputs is None:
            raise RuntimeError(f"{type(self).__name__}.backward_by_hand: what forward kept was freed "
                               "by backward(); drive it by hand before that, or call "
                               "backward(retain_graph=True)")
        if not self.inputs:
            raise RuntimeError(f"{type(self).__name__}.backward_by_hand: call the Function first "
                               "(its forward keeps what backward needs)")
        gys = tuple(as_tensor(g, self.inputs[0]) for g in gys)
        # By hand, every input gets its gradient (the book's layers return them all),
        # even when called on plain numbers that require no grad.
        recorded = self.needs_input_grad
        self.needs_input_grad = (True,) * len(self.inputs)
        try:
            with no_grad():
                gxs = self.backward(*gys)
        finally:
            self.needs_input_grad = recorded
        if not isinstance(gxs, tuple):
            return _as_grad(gxs, self.inputs[0])
        return tuple(_as_grad(gx, x) for gx, x in zip(gxs, self.inputs))

    def output(self, i: int = 0) -> Tensor:
        """The i-th output y as a Tensor, for rules best written with y (exp, sigmoid, softmax).

        The Tensor the call returned while it lives; once the caller has let it
        go, a new Tensor around the same array, put back in the graph as this
        node's output, so that ``create_graph`` still differentiates through y.
        """
        refs = self.outputs
        y = refs[i]() if refs else None
        if y is not None:
            return y
        arrays = self._output_arrays
        y = _wrap(arrays[i] if type(arrays) is tuple else arrays)
        if refs:  # in a graph: the new Tensor takes the old one's place
            y.creator, y.generation, y.requires_grad = self, self.generation + 1, True
            self.outputs = refs[:i] + (weakref.ref(y),) + refs[i + 1:]
        return y

    def _free(self) -> None:
        """Drop everything forward cached: the graph behind this node is done with."""
        self.__dict__.clear()
        self.inputs = None


def arrays_or_tensors(*tensors):
    """What a backward rule computes with: the arrays inside ``tensors`` when no graph is
    being recorded (the usual case: NumPy speed, no Tensor per intermediate), the Tensors
    themselves under ``create_graph`` (so the rule's arithmetic is recorded). Rules written
    with operators and methods that arrays and Tensors share serve both; for the rest
    (exp, log, softmax...) they ``apply`` another Function."""
    if _grad_mode.enabled:
        return tensors
    return [t.data for t in tensors]


def apply(f: Function, *xs):
    """Function ``f`` on what a backward rule holds (see ``arrays_or_tensors``), in kind:
    on Tensors a recorded call, giving a Tensor; on arrays its ``forward`` alone, giving
    an array (no Tensor made, nothing recorded). ``apply(Exp(), y)`` is exp(y) either way."""
    if isinstance(xs[0], Tensor):
        return f(*xs)
    return f.forward(*xs)


# ---------------------------------------------------------------- backward
def backward(output: Tensor, grad=None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Reverse-mode differentiation from ``output`` (see ``Tensor.backward``).

    Each Function's ``backward`` runs once, after every gradient of its outputs
    has arrived (the heap pops the highest generation first); gradients of a
    tensor used twice are added. Leaves (and tensors that ``retain_grad()``)
    keep theirs in ``.grad``.
    """
    if not output.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad (no input of the computation had "
            "requires_grad=True, or it was computed under no_grad())"
        )
    grad = _seed_gradient(output, grad)
    retain_graph = retain_graph or create_graph
    claimed: dict[int, object] = {}  # arrays some .grad (or the caller's seed) already owns
    _claim(grad, claimed)
    grads_of_outputs: dict[int, list] = {}  # id(function) -> gradients of its outputs so far
    heap: list = []

    def send(x: Tensor, gx: Tensor) -> None:
        """Deliver gx, a gradient of x: to x.grad for a leaf, else to x's creator's list."""
        creator = x.creator
        if creator is None:
            _accumulate_grad(x, gx, claimed)
            return
        if creator.inputs is None:
            raise RuntimeError(
                f"backward: the graph through {type(creator).__name__} was already freed by an "
                "earlier backward(); call the first backward(retain_graph=True) to go through "
                "the graph twice"
            )
        outputs = creator.outputs
        i = 0 if len(outputs) == 1 and outputs[0]() is x else _output_index(creator, x)
        slots = grads_of_outputs.get(id(creator))
        if slots is None:
            slots = grads_of_outputs[id(creator)] = [None] * len(outputs)
            heapq.heappush(heap, (-creator.generation, next(_call_order), creator))
        slots[i] = gx if slots[i] is None else slots[i] + gx

    with _set_grad_enabled(create_graph):
        send(output, grad)
        while heap:
            _, _, f = heapq.heappop(heap)
            gys = grads_of_outputs.pop(id(f))
            for i, ref in enumerate(f.outputs):
                if gys[i] is None:  # an output of a multi-output function that nobody used
                    a = f._output_arrays[i]
                    gys[i] = _wrap(get_array_module(a).zeros(a.shape, dtype=a.dtype))
                y = ref()
                if y is not None and y._retain_grad:
                    _accumulate_grad(y, gys[i], claimed)
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
                send(x, gx)
            if not retain_graph:
                f._free()


# ---------------------------------------------------------------- helpers of Function
_NO_GRADS = tuple((False,) * n for n in range(8))


def _no_grads(n: int) -> tuple[bool, ...]:
    return _NO_GRADS[n] if n < 8 else (False,) * n


def _constants_as_tensors(inputs) -> tuple[Tensor, ...]:
    """Numbers and arrays among a Function's inputs as constant Tensors; a number takes
    the float dtype of the first Tensor input, so scalars never upcast a float32 graph."""
    like = next((t for t in inputs if isinstance(t, Tensor)), None)
    return tuple(t if isinstance(t, Tensor) else as_tensor(t, like) for t in inputs)


def _error_with_shapes(f, xs, error: ValueError) -> ValueError:
    """``error`` with the operation's name and its input shapes, unless it already names them."""
    name = _name_in_errors(f)
    message = str(error)
    if type(error) is not ValueError or message.lower().startswith(name.lower()) \
            or ":" in message.split(" ")[0]:
        # a subclass (NumPy's AxisError is also an IndexError) keeps its type, and our
        # operations' own messages already say which operation and shapes
        return error
    shapes = ", ".join(str(tuple(x.shape)) for x in xs)
    hint = " (shapes must be equal or broadcastable)" if "broadcast" in message else ""
    return ValueError(f"{name}: {message}; inputs {shapes}{hint}")


def _device_error(f, xs) -> TypeError:
    where = ", ".join(f"{device_of(x)} {tuple(x.shape)}" for x in xs)
    return TypeError(
        f"{_name_in_errors(f)}: inputs are on different devices ({where}); put them on "
        "one device: model.to('gpu'), DataLoader(..., device='gpu') or zerodl.backend.to_device"
    )


def _name_in_errors(f: Function) -> str:
    return f.name_in_errors or type(f).__name__.lower()


# ---------------------------------------------------------------- helpers of backward
_call_order = itertools.count()  # breaks ties between Functions of one generation


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


def _seed_gradient(output: Tensor, grad) -> Tensor:
    """The gradient the walk starts from: ``grad`` checked against the output, or 1."""
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"backward: a gradient can be implied only for a one-element output, this one has "
                f"shape {output.shape}; reduce it first (e.g. .sum()) or pass backward(grad=...)"
            )
        return _wrap(get_array_module(output.data).ones_like(output.data))
    grad = as_tensor(grad, output)
    if grad.shape != output.shape:
        raise ValueError(
            f"backward: grad has shape {grad.shape} but the output has shape {output.shape}"
        )
    if grad.dtype != output.dtype and grad.dtype.kind == "f":
        grad = _wrap(grad.data.astype(output.dtype))  # the seed never changes the graph's dtype
    return grad


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


def _accumulate_grad(x: Tensor, gx: Tensor, claimed: dict) -> None:
    """x.grad += gx for a leaf (or a tensor that retains its grad), as a new Tensor.

    Without create_graph each tensor owns its ``.grad``: Add hands one array to
    both inputs, and an in-place change to one gradient must not reach another
    or the caller's seed, so an array already claimed is copied (a fresh array,
    the usual case, is taken as it is). A float32 parameter gets a float32
    gradient even where NumPy promoted the graph.
    """
    if _grad_mode.enabled:  # create_graph: keep the gradient's own graph
        x.grad = gx if x.grad is None else x.grad + gx
    elif x.grad is None:
        shared = _claim(gx, claimed)
        if shared or gx.dtype != x.dtype or not _writeable(gx.data):
            gx = _wrap(gx.data.astype(x.dtype))  # always a copy
            _claim(gx, claimed)
        x.grad = gx
    else:
        total = x.grad.data + gx.data
        x.grad = _wrap(total if total.dtype == x.data.dtype else total.astype(x.data.dtype))


def _claim(t: Tensor, claimed: dict) -> bool:
    """Mark the memory under ``t`` as owned by a ``.grad``; True if it was owned already
    (then storing ``t`` as another ``.grad`` needs a copy)."""
    memory = _memory_owner(t.data)
    if id(memory) in claimed:
        return True
    claimed[id(memory)] = memory  # keeping a reference keeps the id from being reused
    return False


def _memory_owner(array):
    """The array whose memory ``array`` views (itself when it owns its memory)."""
    while getattr(array, "base", None) is not None and hasattr(array.base, "shape"):
        array = array.base
    return array


def _writeable(array) -> bool:
    """False for read-only arrays (NumPy's broadcast views); CuPy has no such flag, so its
    broadcast views (a zero stride) count as read-only too."""
    writeable = getattr(array.flags, "writeable", None)
    return (0 not in array.strides) if writeable is None else writeable
