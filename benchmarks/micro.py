"""Micro-benchmarks: convolution, pooling and im2col forward and backward, the engine's
per-operation overhead, and the float32 matrix-product peak of this machine.

Every case times one repetition and returns milliseconds (µs per operation for
the overhead case). The shapes are those of SimpleConvNet and DeepConvNet at
batch 100. The reference column runs the book-style layers on float32 inputs,
so the three columns compare algorithms, not dtypes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

CHAIN = 1000  # operations in the overhead chain (half multiplications, half additions)

# name -> (unit, what it measures)
CASES: dict[str, tuple[str, str]] = {
    "conv2d_simple_fwd": ("ms", "conv2d x (100,1,28,28) W (30,1,5,5), forward"),
    "conv2d_simple_fwd_bwd": ("ms", "conv2d x (100,1,28,28) W (30,1,5,5), forward + backward"),
    "conv2d_deep_fwd": ("ms", "conv2d x (100,16,28,28) W (16,16,3,3) pad 1, forward"),
    "conv2d_deep_fwd_bwd": ("ms", "conv2d x (100,16,28,28) W (16,16,3,3) pad 1, forward + backward"),
    "max_pool2d_fwd": ("ms", "max_pool2d x (100,30,24,24) 2x2, forward"),
    "max_pool2d_fwd_bwd": ("ms", "max_pool2d x (100,30,24,24) 2x2, forward + backward"),
    "im2col_fwd": ("ms", "im2col x (100,16,28,28) 3x3 pad 1, forward"),
    "im2col_fwd_bwd": ("ms", "im2col x (100,16,28,28) 3x3 pad 1, forward + backward (col2im)"),
    "op_overhead_fwd": ("us/op", f"chain of {CHAIN} mul/add on shape (1,), forward"),
    "op_overhead_fwd_bwd": ("us/op", f"chain of {CHAIN} mul/add on shape (1,), forward + backward"),
}
CONV_SHAPES = {
    "simple": ((100, 1, 28, 28), (30, 1, 5, 5), 0, False),  # first layer: x needs no gradient
    "deep": ((100, 16, 28, 28), (16, 16, 3, 3), 1, True),
}
POOL_SHAPE = (100, 30, 24, 24)
IM2COL_SHAPE, IM2COL_K, IM2COL_PAD = (100, 16, 28, 28), 3, 1


def _inputs(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {"pool": rng.standard_normal(POOL_SHAPE, dtype=np.float32),
              "im2col": rng.standard_normal(IM2COL_SHAPE, dtype=np.float32)}
    for name, (xs, ws, _, _) in CONV_SHAPES.items():
        arrays[f"{name}_x"] = rng.standard_normal(xs, dtype=np.float32)
        arrays[f"{name}_W"] = rng.standard_normal(ws, dtype=np.float32) * 0.1
        arrays[f"{name}_b"] = rng.standard_normal(ws[0], dtype=np.float32)
    return arrays


def _missing(exc: Exception) -> Callable[[], float]:
    """A case that cannot run: MicroJob reports ``exc`` instead of timings."""
    def case() -> float:
        raise exc
    return case


def _median_of(chain: Callable[[bool], float], backward: bool, times: int = 5) -> float:
    """The median of several short chains: one alone is at the mercy of a cold cache."""
    return sorted(chain(backward) for _ in range(times))[times // 2]


def _clock(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


# ---------------------------------------------------------------- zerodl
def zerodl_cases() -> dict[str, Callable[[], float]]:
    import zerodl as zd
    import zerodl.functional as F

    a = _inputs()
    cases: dict[str, Callable[[], float]] = {}

    def pair(name, forward, leaves):
        try:
            gy = zd.Tensor(np.ones_like(forward().data))
        except Exception as exc:  # an operation zerodl does not have (yet): skip its cases
            cases[f"{name}_fwd"] = _missing(exc)
            return
        _add_pair(cases, name, forward, leaves, gy)

    for name, (_, _, pad, x_grad) in CONV_SHAPES.items():
        x = zd.Tensor(a[f"{name}_x"], requires_grad=x_grad)
        W = zd.Tensor(a[f"{name}_W"], requires_grad=True)
        b = zd.Tensor(a[f"{name}_b"], requires_grad=True)
        pair(f"conv2d_{name}", lambda x=x, W=W, b=b, pad=pad: F.conv2d(x, W, b, stride=1, pad=pad),
             [x, W, b])
    xp = zd.Tensor(a["pool"], requires_grad=True)
    pair("max_pool2d", lambda: F.max_pool2d(xp, 2), [xp])
    xi = zd.Tensor(a["im2col"], requires_grad=True)
    pair("im2col", lambda: F.im2col(xi, IM2COL_K, IM2COL_K, 1, IM2COL_PAD), [xi])

    _add_overhead_chain(
        cases, leaf=lambda: zd.Tensor(np.ones(1, dtype=np.float32), requires_grad=True),
        c=zd.Tensor(np.full(1, 1.0001, dtype=np.float32)), seed=np.ones(1, dtype=np.float32))
    return cases


def _add_pair(cases: dict, name: str, forward, leaves, gy) -> None:
    """Register ``{name}_fwd`` (forward alone) and ``{name}_fwd_bwd`` (forward, then
    backward of ``gy`` with the leaves' gradients cleared first); zerodl and PyTorch alike."""

    def fwd_bwd():
        for leaf in leaves:
            leaf.grad = None
        return _clock(lambda: forward().backward(gy))

    cases[f"{name}_fwd"] = lambda: _clock(forward)
    cases[f"{name}_fwd_bwd"] = fwd_bwd


def _add_overhead_chain(cases: dict, leaf, c, seed) -> None:
    """Register the engine-overhead cases: CHAIN alternating ``y * c`` and ``y + c`` from
    a fresh ``leaf()``, then (fwd_bwd) backward of ``seed``, in µs per operation;
    zerodl and PyTorch alike."""

    def chain(backward: bool) -> float:
        x = leaf()
        start = time.perf_counter()
        y = x
        for _ in range(CHAIN // 2):
            y = y * c
            y = y + c
        if backward:
            y.backward(seed)
        return (time.perf_counter() - start) * 1e6 / CHAIN

    cases["op_overhead_fwd"] = lambda: _median_of(chain, False)
    cases["op_overhead_fwd_bwd"] = lambda: _median_of(chain, True)


# ---------------------------------------------------------------- PyTorch
def torch_cases() -> dict[str, Callable[[], float]]:
    import torch
    import torch.nn.functional as TF

    a = {k: torch.from_numpy(v) for k, v in _inputs().items()}
    cases: dict[str, Callable[[], float]] = {}

    def pair(name, forward, leaves):
        _add_pair(cases, name, forward, leaves, torch.ones_like(forward()))

    for name, (_, _, pad, x_grad) in CONV_SHAPES.items():
        x = a[f"{name}_x"].clone().requires_grad_(x_grad)
        W = a[f"{name}_W"].clone().requires_grad_(True)
        b = a[f"{name}_b"].clone().requires_grad_(True)
        pair(f"conv2d_{name}", lambda x=x, W=W, b=b, pad=pad: TF.conv2d(x, W, b, padding=pad),
             [x, W, b])
    xp = a["pool"].clone().requires_grad_(True)
    pair("max_pool2d", lambda: TF.max_pool2d(xp, 2), [xp])
    xi = a["im2col"].clone().requires_grad_(True)
    pair("im2col", lambda: TF.unfold(xi, IM2COL_K, padding=IM2COL_PAD), [xi])

    _add_overhead_chain(cases, leaf=lambda: torch.ones(1, requires_grad=True),
                        c=torch.full((1,), 1.0001), seed=torch.ones(1))
    return cases


# ---------------------------------------------------------------- book-style reference
def reference_cases() -> dict[str, Callable[[], float]]:
    from .reference import Convolution, Pooling, col2im, im2col

    a = _inputs()
    cases: dict[str, Callable[[], float]] = {}

    def pair(name, layer, x):
        gy = np.ones_like(layer.forward(x))
        cases[f"{name}_fwd"] = lambda: _clock(lambda: layer.forward(x))
        cases[f"{name}_fwd_bwd"] = lambda: _clock(lambda: (layer.forward(x), layer.backward(gy)))

    for name, (_, _, pad, _) in CONV_SHAPES.items():
        pair(f"conv2d_{name}", Convolution(a[f"{name}_W"], a[f"{name}_b"], 1, pad), a[f"{name}_x"])
    pair("max_pool2d", Pooling(2, 2, stride=2), a["pool"])
    x = a["im2col"]
    cols = im2col(x, IM2COL_K, IM2COL_K, 1, IM2COL_PAD)
    gy = np.ones_like(cols)
    cases["im2col_fwd"] = lambda: _clock(lambda: im2col(x, IM2COL_K, IM2COL_K, 1, IM2COL_PAD))
    cases["im2col_fwd_bwd"] = lambda: _clock(lambda: (
        im2col(x, IM2COL_K, IM2COL_K, 1, IM2COL_PAD),
        col2im(gy, x.shape, IM2COL_K, IM2COL_K, 1, IM2COL_PAD)))

    # No engine: the same chain as bare NumPy calls, the backward being one multiply per
    # multiplication (the book's MulLayer/AddLayer driven by hand). The floor for any engine.
    c = np.full(1, 1.0001, dtype=np.float32)

    def chain(backward: bool) -> float:
        start = time.perf_counter()
        y = np.ones(1, dtype=np.float32)
        for _ in range(CHAIN // 2):
            y = y * c
            y = y + c
        if backward:
            g = np.ones(1, dtype=np.float32)
            for _ in range(CHAIN // 2):
                g = g * c
        return (time.perf_counter() - start) * 1e6 / CHAIN

    cases["op_overhead_fwd"] = lambda: _median_of(chain, False)
    cases["op_overhead_fwd_bwd"] = lambda: _median_of(chain, True)
    return cases


# ---------------------------------------------------------------- the job and the peak
class MicroJob:
    """All micro cases of one system; ``run(n)`` times each case n times."""

    def __init__(self, system: str, quick: bool = False):
        if system == "peak":
            self.cases = peak_cases(quick)
        else:
            builders = {"zerodl": zerodl_cases, "torch": torch_cases, "reference": reference_cases}
            self.cases = builders[system]()
        self.errors: dict[str, str] = {}
        for name, case in list(self.cases.items()):  # warm caches, allocators and lazy imports
            try:
                case()
            except Exception as exc:
                self.errors[name] = f"{type(exc).__name__}: {exc}"
                del self.cases[name]

    def run(self, n: int) -> dict:
        return {"cases": {name: [case() for _ in range(n)] for name, case in self.cases.items()},
                "errors": self.errors}


PEAK_SIZES = (512, 1024, 2048)


def peak_cases(quick: bool = False) -> dict[str, Callable[[], float]]:
    """float32 square matrix products through NumPy; each case returns GFLOP/s (best of 3)."""
    rng = np.random.default_rng(0)
    cases = {}
    for n in PEAK_SIZES[:2] if quick else PEAK_SIZES:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        out = np.empty((n, n), dtype=np.float32)

        def gflops(a=a, b=b, out=out, n=n) -> float:
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                np.matmul(a, b, out=out)
                best = min(best, time.perf_counter() - start)
            return 2.0 * n ** 3 / best / 1e9

        cases[f"matmul_{n}"] = gflops
    return cases
