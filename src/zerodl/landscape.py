"""2-D landscapes and the paths that optimizers take across them (the book's ch. 4.4 and 6.1).

A landscape is a function f(x, y) of two numbers written with zerodl
operations, so the engine differentiates it. ``minimize`` walks downhill from
a start point with one of the real optimizers of ``zerodl.optim`` and returns
the whole path as a ``Trajectory``::

    from zerodl import landscape
    t = landscape.minimize("bowl", (-3.0, 4.0), "sgd", lr=0.1, steps=100)
    t.points[-1]          # about (-6.1e-10, 8.1e-10): the origin, as in the book

``iter_minimize`` is the same walk one step at a time (for a server that
streams steps); ``grid`` and ``gradient_field`` evaluate f and ∇f over a mesh
for contour plots and arrow fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import optim
from .autograd import Tensor, no_grad
from .numerical import numerical_gradient

# Beyond these the run is called diverged: the numbers would overflow soon after.
VALUE_BOUND = 1e12
POINT_BOUND = 1e6


@dataclass(frozen=True)
class Landscape:
    """A 2-D test function with what is known about it.

    ``f(x, y)`` takes Tensors (scalars or whole arrays: it is elementwise) and
    returns a Tensor. ``minima`` lists the global minimum points (empty when
    there is none) and ``min_value`` the value there; ``xlim``/``ylim`` frame
    a good plot; ``start`` is a start point that shows the function's character.
    """

    name: str
    f: Callable[[Tensor, Tensor], Tensor]
    formula: str
    description: str
    minima: tuple[tuple[float, float], ...]
    min_value: float | None
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]

    def __call__(self, x, y) -> Tensor:
        return self.f(_as_float64(x), _as_float64(y))


def _bowl(x, y):
    return x ** 2 + y ** 2


def _elongated(x, y):
    return x ** 2 / 20.0 + y ** 2


def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def _himmelblau(x, y):
    return (x ** 2 + y - 11.0) ** 2 + (x + y ** 2 - 7.0) ** 2


def _beale(x, y):
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
            + (2.625 - x + x * y ** 3) ** 2)


def _saddle(x, y):
    return x ** 2 - y ** 2


FUNCTIONS: dict[str, Landscape] = {
    s.name: s for s in [
        Landscape("bowl", _bowl, "x² + y²",
                  "a round bowl: the gradient points straight at the minimum (ch. 4.4)",
                  ((0.0, 0.0),), 0.0, (-5.0, 5.0), (-5.0, 5.0), (-3.0, 4.0)),
        Landscape("elongated", _elongated, "x²/20 + y²",
                  "a long narrow valley: the book's optimizer comparison (ch. 6.1), where "
                  "plain SGD zig-zags", ((0.0, 0.0),), 0.0, (-10.0, 10.0), (-5.0, 5.0),
                  (-7.0, 2.0)),
        Landscape("rosenbrock", _rosenbrock, "(1 − x)² + 100 (y − x²)²",
                  "a curved banana-shaped valley, easy to find and slow to follow",
                  ((1.0, 1.0),), 0.0, (-2.0, 2.0), (-1.0, 3.0), (-1.5, 2.0)),
        Landscape("himmelblau", _himmelblau, "(x² + y − 11)² + (x + y² − 7)²",
                  "four minima of equal depth: where you start decides where you end",
                  ((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                   (-3.779310253377747, -3.2831859912861696),
                   (3.5844283403304917, -1.8481265269644034)),
                  0.0, (-5.0, 5.0), (-5.0, 5.0), (0.0, 0.0)),
        Landscape("beale", _beale, "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
                  "flat plateaus and steep walls: a hard case for a fixed learning rate",
                  ((3.0, 0.5),), 0.0, (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5)),
        Landscape("saddle", _saddle, "x² − y²",
                  "a saddle point at the origin and no minimum: descent slides off along y",
                  (), None, (-2.0, 2.0), (-2.0, 2.0), (-1.5, 0.01)),
    ]
}

# The optimizers by name, with the learning rates of the descent study: views of
# zerodl.optim's registry (optim.OPTIMIZERS), kept here for the study's users.
OPTIMIZERS: tuple[str, ...] = tuple(optim.OPTIMIZERS)
DEFAULT_LRS: dict[str, float] = {n: s.descent_lr for n, s in optim.OPTIMIZERS.items()}
DISPLAY_NAMES: dict[str, str] = {n: s.label for n, s in optim.OPTIMIZERS.items()}


@dataclass
class Trajectory:
    """The path of one optimizer run.

    ``points[k]`` is the position after k steps (``points[0]`` is the start),
    ``values[k]`` = f(points[k]), ``grads[k]`` the gradient used for step k+1.
    When the run diverged, the arrays stop at the step that crossed the bound
    (``stopped_at``); that point is included so the blow-up can be seen.
    """

    points: np.ndarray
    values: np.ndarray
    grads: np.ndarray
    optimizer: str
    lr: float
    diverged: bool = False
    stopped_at: int | None = None
    options: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A legend label such as ``"AdaGrad (lr=1.5)"``."""
        return f"{DISPLAY_NAMES.get(self.optimizer, self.optimizer)} (lr={self.lr:g})"

    @property
    def final(self) -> np.ndarray:
        """The last point reached."""
        return self.points[-1]


@dataclass(frozen=True)
class DescentStep:
    """One step of ``iter_minimize``: the position after ``step`` updates, f there, ∇f there."""

    step: int
    point: np.ndarray
    value: float
    grad: np.ndarray
    diverged: bool


def minimize(f, x0: Sequence[float], optimizer="sgd", lr: float = 0.1, steps: int = 100,
             grad: str = "autodiff", **optimizer_kwargs) -> Trajectory:
    """Walk downhill on f from ``x0`` for ``steps`` updates of a ``zerodl.optim`` optimizer.

    ``f`` is a name from ``FUNCTIONS``, a ``Landscape``, or any Python function
    of two scalar Tensors returning a scalar Tensor. ``optimizer`` is one of
    ``OPTIMIZERS`` (or a class such as ``optim.SGD``, called as
    ``cls(params, lr=lr, **optimizer_kwargs)``). ``grad="autodiff"`` gets ∇f by
    backpropagation, ``grad="numerical"`` by central differences (h = 1e-4,
    the book's ch. 4.4 recipe). Everything runs in float64.

    A run whose value turns non-finite or leaves the bounds (|f| > 1e12 or a
    coordinate beyond 1e6) stops there with ``diverged=True``; no exception.
    """
    points, values, grads = [], [], []
    diverged = False
    for s in iter_minimize(f, x0, optimizer, lr, steps, grad, **optimizer_kwargs):
        points.append(s.point)
        values.append(s.value)
        grads.append(s.grad)
        diverged = s.diverged
    return Trajectory(
        points=np.array(points, dtype=np.float64).reshape(-1, 2),
        values=np.array(values, dtype=np.float64),
        grads=np.array(grads[:-1], dtype=np.float64).reshape(-1, 2),
        optimizer=optimizer.lower() if isinstance(optimizer, str) else type_name(optimizer),
        lr=float(lr),
        diverged=diverged,
        stopped_at=len(points) - 1 if diverged else None,
        options=dict(optimizer_kwargs),
    )


def iter_minimize(f, x0: Sequence[float], optimizer="sgd", lr: float = 0.1, steps: int = 100,
                  grad: str = "autodiff", **optimizer_kwargs) -> Iterator[DescentStep]:
    """``minimize`` one step at a time: yields ``steps + 1`` DescentSteps (fewer if it diverges).

    The first is the start (step 0); each later one follows one optimizer
    update. The last one yielded has ``diverged=True`` when the run blew up.
    Arguments are checked before the first step, so a bad name fails at once.
    """
    fn = resolve_function(f)
    if grad not in ("autodiff", "numerical"):
        raise ValueError(f"minimize: grad must be 'autodiff' or 'numerical', got {grad!r}")
    start = np.asarray(x0, dtype=np.float64).reshape(-1)
    if start.shape != (2,) or not np.all(np.isfinite(start)):
        raise ValueError(f"minimize: x0 must be two finite numbers (x, y), got {x0!r}")
    if steps < 0:
        raise ValueError(f"minimize: steps must be >= 0, got {steps}")

    from .nn.module import Parameter

    p = Parameter(start.copy())
    opt = make_optimizer(optimizer, [p], lr, **optimizer_kwargs)
    gradient = _autodiff_gradient if grad == "autodiff" else _numerical_gradient
    return _walk(fn, p, opt, gradient, steps)


def resolve_function(f) -> Callable[[Tensor, Tensor], Tensor]:
    """The callable behind ``f``: a FUNCTIONS name, a Landscape, or a function of (x, y)."""
    entry = landscape_of(f)
    if entry is not None:
        return entry.f
    if isinstance(f, str):
        raise ValueError(f"unknown function {f!r}; valid names: {', '.join(FUNCTIONS)}")
    if callable(f):
        return f
    raise TypeError(f"minimize: f must be a name, a Landscape or a function of (x, y), "
                    f"got {type(f).__name__}")


def landscape_of(f) -> Landscape | None:
    """The Landscape behind ``f`` (a FUNCTIONS name or a Landscape); None for a plain function."""
    if isinstance(f, str):
        return FUNCTIONS.get(f)
    return f if isinstance(f, Landscape) else None


def make_optimizer(name, params, lr: float, **kwargs):
    """The ``zerodl.optim`` optimizer called ``name`` over ``params`` (``optim.create``).

    ``name`` is a registry name (``OPTIMIZERS``: ``momentum`` and ``nesterov``
    are SGD with momentum 0.9, plain or with Nesterov's look-ahead) or an
    optimizer class, called as ``name(params, lr=lr, **kwargs)``.
    """
    if not isinstance(name, str):
        return name(params, lr=lr, **kwargs)
    return optim.create(name, params, lr, **kwargs)


def type_name(obj) -> str:
    """The lower-case name of a class or of an object's class: ``type_name(optim.SGD) == "sgd"``.

    A Trajectory made with an optimizer class is labelled by it.
    """
    return getattr(obj, "__name__", type(obj).__name__).lower()


def grid(f, xlim: Sequence[float] | None = None, ylim: Sequence[float] | None = None,
         n: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X, Y, Z = f over an n×n mesh (``np.meshgrid`` layout: rows follow y).

    f is evaluated once on Tensors holding the whole mesh (it is elementwise),
    in float64. Limits default to the Landscape's window, else [−5, 5].
    """
    fn, xlim, ylim = _window(f, xlim, ylim)
    X, Y = _mesh(xlim, ylim, n)
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        Z = fn(Tensor(X), Tensor(Y))
    return X, Y, np.broadcast_to(np.asarray(_data(Z), dtype=np.float64), X.shape).copy()


def gradient_field(f, xlim: Sequence[float] | None = None, ylim: Sequence[float] | None = None,
                   n: int = 21) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X, Y, U, V with (U, V) = ∇f = (∂f/∂x, ∂f/∂y) at every point of an n×n mesh.

    One backward pass of Σ f(X, Y) gives every partial derivative at once:
    each term depends on its own (x, y) only, so ∂(Σf)/∂X[i, j] = ∂f/∂x there.
    """
    fn, xlim, ylim = _window(f, xlim, ylim)
    X, Y = _mesh(xlim, ylim, n)
    tx, ty = Tensor(X, requires_grad=True), Tensor(Y, requires_grad=True)
    with np.errstate(over="ignore", invalid="ignore"):
        Z = fn(tx, ty)
        Z.sum().backward()
    U = np.zeros_like(X) if tx.grad is None else np.asarray(tx.grad.data, dtype=np.float64)
    V = np.zeros_like(Y) if ty.grad is None else np.asarray(ty.grad.data, dtype=np.float64)
    return X, Y, U, V


# ---------------------------------------------------------------- helpers
def _walk(fn, p, opt, gradient, steps: int) -> Iterator[DescentStep]:
    """The steps of ``iter_minimize``: measure, yield, stop when diverged or done, update."""
    for k in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            value, g = gradient(fn, p)
        point = p.data.copy()
        diverged = bool(not np.isfinite(value) or abs(value) > VALUE_BOUND
                        or not np.all(np.abs(point) <= POINT_BOUND))
        yield DescentStep(k, point, value, g, diverged)
        if diverged or k == steps:
            return
        p.grad = Tensor(g.copy())
        with np.errstate(over="ignore", invalid="ignore"):
            opt.step()


def _autodiff_gradient(fn, p) -> tuple[float, np.ndarray]:
    p.grad = None
    z = _scalar(fn(p[0], p[1]))
    if z.requires_grad:
        z.backward()
    g = np.zeros(2) if p.grad is None else np.asarray(p.grad.data, dtype=np.float64)
    return float(z.data), g


def _numerical_gradient(fn, p) -> tuple[float, np.ndarray]:
    def value(arr):
        return float(_scalar(fn(Tensor(arr[0]), Tensor(arr[1]))).data)

    with no_grad():
        return value(p.data), numerical_gradient(value, p.data, h=1e-4)


def _scalar(z) -> Tensor:
    z = z if isinstance(z, Tensor) else Tensor(np.asarray(z, dtype=np.float64))
    if z.size != 1:
        raise ValueError(f"minimize: f(x, y) must return one number, got shape {z.shape}")
    return z


def _as_float64(v) -> Tensor:
    return v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=np.float64))


def _window(f, xlim, ylim):
    fn = resolve_function(f)
    entry = landscape_of(f)
    default = ((-5.0, 5.0), (-5.0, 5.0)) if entry is None else (entry.xlim, entry.ylim)
    return fn, tuple(xlim or default[0]), tuple(ylim or default[1])


def _mesh(xlim, ylim, n):
    x = np.linspace(float(xlim[0]), float(xlim[1]), int(n))
    y = np.linspace(float(ylim[0]), float(ylim[1]), int(n))
    return np.meshgrid(x, y)


def _data(z):
    return z.data if isinstance(z, Tensor) else z
