"""The gradient-check cases: one per differentiable operation, checked against central differences.

``zerodl gradcheck`` runs every case and prints a table; the test suite runs
them too (``CASES``, ``run_all``). A case builds float64 inputs from a seeded
generator, keeps them away from kinks (ReLU at 0, |x| at 0, max ties), and
names the operation it checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import functional as F
from .autograd import Tensor
from .numerical import gradient_errors


@dataclass
class Case:
    """One check: ``fn`` applied to the inputs ``make_inputs(rng)`` builds, within ``atol``/``rtol``."""

    name: str
    fn: Callable
    make_inputs: Callable[[np.random.Generator], tuple]
    atol: float = 1e-5
    rtol: float = 1e-3


CASES: list[Case] = []


def register(name: str, make_inputs: Callable, atol: float = 1e-5, rtol: float = 1e-3):
    """Decorator: add ``fn`` to the registry under ``name``."""
    def wrap(fn):
        CASES.append(Case(name, fn, make_inputs, atol, rtol))
        return fn
    return wrap


def run_all(seed: int = 0, names: list[str] | None = None):
    """Yield (case, max abs error, passed) for every registered case (or those ``select`` picks)."""
    rng = np.random.default_rng(seed)
    for case in select(names):
        errors = gradient_errors(case.fn, *case.make_inputs(rng), atol=case.atol, rtol=case.rtol)
        yield case, max(e.max_abs_error for e in errors), all(e.ok for e in errors)


def select(names: list[str] | None = None) -> list:
    """The cases whose name contains one of ``names`` (every case when there are none).

    A name that is part of no case's name is a ValueError naming it and listing
    the valid names, so a typo is never an empty check that passes.
    """
    if not names:
        return list(CASES)
    unknown = [n for n in names if not any(n in case.name for case in CASES)]
    if unknown:
        raise ValueError(f"gradcheck: no operation matches {', '.join(map(repr, unknown))}; "
                         f"give a part of one of these names: "
                         f"{', '.join(case.name for case in CASES)}")
    return [case for case in CASES if any(n in case.name for n in names)]


# ---------------------------------------------------------------- inputs
def param(a) -> Tensor:
    """``a`` as a float64 Tensor that needs a gradient (an input being checked)."""
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def uniform(shape, lo=-2.0, hi=2.0, away_from=None):
    """Inputs drawn uniformly, nudged away from the point ``away_from`` (a kink)."""
    def make(rng):
        x = rng.uniform(lo, hi, size=shape)
        if away_from is not None:
            near = np.abs(x - away_from) < 0.1
            x[near] = away_from + 0.5
        return x
    return make


def inputs(*makers):
    """A ``make_inputs`` for ``register``: one float64 Tensor from each maker, in order."""
    return lambda rng: tuple(param(m(rng)) for m in makers)


def positive(shape):
    """Inputs drawn uniformly from [0.5, 2] (for log, sqrt, divisors)."""
    return uniform(shape, 0.5, 2.0)


def distinct(shape):
    """A random permutation of well-separated values: no ties for max/min."""
    def make(rng):
        n = int(np.prod(shape))
        return rng.permutation(np.linspace(-2, 2, n)).reshape(shape)
    return make


# ---------------------------------------------------------------- arithmetic
register("add (broadcast)", inputs(uniform((3, 4)), uniform((4,))))(F.add)
register("add (broadcast both)", inputs(uniform((3, 1)), uniform((1, 4))))(F.add)
register("sub (broadcast)", inputs(uniform((2, 3, 4)), uniform((3, 1))))(F.sub)
register("mul (broadcast)", inputs(uniform((3, 4)), uniform((3, 1))))(F.mul)
register("div (broadcast)", inputs(uniform((3, 4)), positive((4,))))(F.div)
register("neg", inputs(uniform((5,))))(F.neg)
register("pow 3", inputs(uniform((3, 4))))(lambda x: F.pow(x, 3))
register("pow 0.5", inputs(positive((3, 4))))(lambda x: F.pow(x, 0.5))
register("pow tensor exponent", inputs(positive((3,)), uniform((3,))))(F.pow)
register("exp", inputs(uniform((3, 4))))(F.exp)
register("log", inputs(positive((3, 4))))(F.log)
register("sqrt", inputs(positive((3, 4))))(F.sqrt)
register("abs", inputs(uniform((3, 4), away_from=0.0)))(F.abs)
register("clip", inputs(uniform((4, 5), away_from=0.5)))(lambda x: F.clip(x, -1.0, 0.5))
register("maximum (broadcast)", inputs(distinct((3, 4)), uniform((4,), 3, 4)))(
    lambda x, y: F.maximum(x, y - 3.5))
register("minimum", inputs(distinct((3, 4)), uniform((3, 4), -0.05, 0.05)))(F.minimum)
register("where", inputs(uniform((3, 4)), uniform((4,))))(
    lambda x, y: F.where(np.arange(12).reshape(3, 4) % 3 == 0, x, y))

# ---------------------------------------------------------------- reductions and shapes
register("sum", inputs(uniform((3, 4))))(F.sum)
register("sum axis=0", inputs(uniform((3, 4))))(lambda x: F.sum(x, axis=0))
register("sum axis=(0,2) keepdims", inputs(uniform((2, 3, 4))))(
    lambda x: F.sum(x, axis=(0, 2), keepdims=True))
register("mean axis=-1", inputs(uniform((2, 3, 4))))(lambda x: F.mean(x, axis=-1))
register("max axis=1", inputs(distinct((3, 5))))(lambda x: F.max(x, axis=1))
register("max all keepdims", inputs(distinct((3, 5))))(lambda x: F.max(x, keepdims=True))
register("min axis=0", inputs(distinct((3, 5))))(lambda x: F.min(x, axis=0))
register("reshape", inputs(uniform((3, 4))))(lambda x: F.reshape(x, (2, 6)))
register("transpose", inputs(uniform((2, 3, 4))))(lambda x: F.transpose(x, (1, 2, 0)))
register("broadcast_to", inputs(uniform((3, 1))))(lambda x: F.broadcast_to(x, (2, 3, 4)))
register("sum_to", inputs(uniform((2, 3, 4))))(lambda x: F.sum_to(x, (3, 1)))
register("concat axis=1", inputs(uniform((2, 3)), uniform((2, 2))))(
    lambda a, b: F.concat([a, b], axis=1))
register("stack axis=-1", inputs(uniform((2, 3)), uniform((2, 3))))(
    lambda a, b: F.stack([a, b], axis=-1))
register("pad", inputs(uniform((2, 3))))(lambda x: F.pad(x, ((1, 0), (2, 1))))
register("getitem slice", inputs(uniform((4, 5))))(lambda x: x[1:3, ::2])
register("getitem int array, repeats", inputs(uniform((4, 5))))(lambda x: x[np.array([0, 2, 0, 0])])
register("getitem bool mask", inputs(uniform((4, 5))))(
    lambda x: x[np.arange(20).reshape(4, 5) % 3 == 1])

# ---------------------------------------------------------------- linear algebra
register("matmul", inputs(uniform((3, 4)), uniform((4, 5))))(F.matmul)
register("matmul batched broadcast", inputs(uniform((2, 3, 4)), uniform((4, 5))))(F.matmul)
register("matmul vector", inputs(uniform((4,)), uniform((4, 3))))(F.matmul)
register("linear (Affine)", inputs(uniform((5, 4)), uniform((4, 3)), uniform((3,))))(F.linear)

# ---------------------------------------------------------------- activations
register("step", inputs(uniform((3, 4), away_from=0.0)))(F.step)
register("sigmoid", inputs(uniform((3, 4), -6, 6)))(F.sigmoid)
register("tanh", inputs(uniform((3, 4))))(F.tanh)
register("relu", inputs(uniform((3, 4), away_from=0.0)))(F.relu)
register("leaky_relu", inputs(uniform((3, 4), away_from=0.0)))(lambda x: F.leaky_relu(x, 0.1))
register("gelu", inputs(uniform((3, 4), -4, 4)))(F.gelu)
register("gelu tanh", inputs(uniform((3, 4), -4, 4)))(lambda x: F.gelu(x, approximate="tanh"))
register("softplus", inputs(uniform((3, 4), -6, 6)))(F.softplus)
register("identity", inputs(uniform((3, 4))))(F.identity)
register("softmax axis=-1", inputs(uniform((3, 4))))(F.softmax)
register("softmax axis=0", inputs(uniform((3, 4))))(lambda x: F.softmax(x, axis=0))
register("log_softmax", inputs(uniform((3, 4), -5, 5)))(F.log_softmax)

# ---------------------------------------------------------------- losses
register("mse_loss", inputs(uniform((4, 3))))(lambda y: F.mse_loss(y, np.linspace(-1, 1, 12).reshape(4, 3)))
register("cross_entropy labels (Softmax-with-Loss)", inputs(uniform((4, 5))))(
    lambda x: F.cross_entropy(x, np.array([0, 3, 4, 1])))
register("cross_entropy one-hot", inputs(uniform((3, 4))))(
    lambda x: F.cross_entropy(x, np.eye(4)[[1, 0, 3]]))
register("binary_cross_entropy_with_logits", inputs(uniform((4, 3), -5, 5)))(
    lambda z: F.binary_cross_entropy_with_logits(z, np.linspace(0, 1, 12).reshape(4, 3)))


# ---------------------------------------------------------------- convolution, pooling, normalisation
def _conv(stride, pad):
    return lambda *a: F.conv2d(*a, stride=stride, pad=pad)


register("conv2d stride 1 pad 0 (Convolution)",
         inputs(uniform((2, 3, 5, 5)), uniform((4, 3, 3, 3)), uniform((4,))))(_conv(1, 0))
register("conv2d stride 2 pad 1, 2x3 kernel, no bias",
         inputs(uniform((2, 2, 6, 7)), uniform((3, 2, 2, 3))))(_conv(2, 1))
register("conv2d stride (2, 1) pad (1, 2)",
         inputs(uniform((1, 2, 5, 6)), uniform((2, 2, 3, 2)), uniform((2,))))(_conv((2, 1), (1, 2)))
register("conv2d pad 2", inputs(uniform((1, 1, 4, 4)), uniform((2, 1, 3, 3))))(_conv(1, 2))
register("im2col", inputs(uniform((2, 2, 5, 5))))(lambda x: F.im2col(x, 3, 2, 2, 1))
register("col2im", inputs(uniform((18, 12))))(lambda c: F.col2im(c, (2, 2, 5, 5), 3, 2, 2, 1))
register("max_pool2d 2x2 (Pooling)", inputs(distinct((2, 2, 4, 6))))(lambda x: F.max_pool2d(x, 2))
register("max_pool2d 3x3 stride 2 pad 1", inputs(distinct((2, 2, 5, 6))))(
    lambda x: F.max_pool2d(x, 3, stride=2, pad=1))
register("avg_pool2d 2x2", inputs(uniform((2, 2, 4, 4))))(lambda x: F.avg_pool2d(x, 2))
register("avg_pool2d 3x3 stride 1 pad 1", inputs(uniform((1, 2, 4, 5))))(
    lambda x: F.avg_pool2d(x, 3, stride=1, pad=1))


def _batch_norm(training):
    # Training: no running statistics, so repeated evaluations see the same function.
    def fn(x, gamma, beta):
        C = x.shape[1]
        stats = (None, None) if training else (np.linspace(-0.5, 0.5, C), np.linspace(0.5, 2, C))
        return F.batch_norm(x, gamma, beta, *stats, training=training)
    return fn


register("batch_norm (N, D) training (BatchNormalization)",
         inputs(uniform((5, 3)), positive((3,)), uniform((3,))))(_batch_norm(True))
register("batch_norm (N, C, H, W) training",
         inputs(uniform((3, 2, 2, 3)), positive((2,)), uniform((2,))))(_batch_norm(True))
register("batch_norm (N, C, H, W) eval",
         inputs(uniform((3, 2, 2, 3)), positive((2,)), uniform((2,))))(_batch_norm(False))


def _dropout_same_mask(x):
    """Dropout with seed 7 at every evaluation; the library's generator is restored after."""
    from . import random as zrandom

    state = zrandom.get_state()
    zrandom.manual_seed(7)
    try:
        return F.dropout(x, 0.4)
    finally:
        zrandom.set_state(state)


register("dropout (fixed seed)", inputs(uniform((4, 5))))(_dropout_same_mask)
