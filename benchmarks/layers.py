"""The convolutional networks' layers one by one, forward and backward, timed apart.

Each case is one layer of SimpleConvNet or DeepConvNet at batch 100, float32
(and ``F.im2col`` as the micro-benchmarks time it), called through zerodl's
public API only (``F.conv2d``, ``F.relu``, ``F.max_pool2d``), so the same job
runs on any checkout of zerodl (``benchmarks.compare`` times two checkouts
side by side). A repetition runs
the layer's forward pass, timed, then its backward pass from a fixed upstream
gradient, timed apart; the input gradients are cleared before each.
"""

from __future__ import annotations

import time

import numpy as np

# name -> (kind, x shape, W shape or pool size, pad, x needs a gradient)
LAYERS: dict[str, tuple] = {
    "simple.conv": ("conv", (100, 1, 28, 28), (30, 1, 5, 5), 0, False),
    "simple.relu": ("relu", (100, 30, 12, 12), None, 0, True),   # after the pool (nn/models.py)
    "simple.pool": ("pool", (100, 30, 24, 24), 2, 0, True),
    "deep.conv1": ("conv", (100, 1, 28, 28), (16, 1, 3, 3), 1, False),
    "deep.conv2": ("conv", (100, 16, 28, 28), (16, 16, 3, 3), 1, True),
    "deep.relu28": ("relu", (100, 16, 28, 28), None, 0, True),
    "deep.pool1": ("pool", (100, 16, 28, 28), 2, 0, True),
    "deep.conv3": ("conv", (100, 16, 14, 14), (32, 16, 3, 3), 1, True),
    "deep.conv4": ("conv", (100, 32, 14, 14), (32, 32, 3, 3), 2, True),
    "deep.pool2": ("pool", (100, 32, 16, 16), 2, 0, True),
    "deep.conv5": ("conv", (100, 32, 8, 8), (64, 32, 3, 3), 1, True),
    "deep.conv6": ("conv", (100, 64, 8, 8), (64, 64, 3, 3), 1, True),
    "deep.pool3": ("pool", (100, 64, 8, 8), 2, 0, True),
    "im2col": ("im2col", (100, 16, 28, 28), 3, 1, True),  # the micro-benchmark's F.im2col
}


def _build(name: str, rng: np.random.Generator):
    """(forward, leaves, gy) for layer ``name``: forward() builds the layer's output Tensor."""
    import zerodl as zd
    import zerodl.functional as F

    kind, xs, ws, pad, x_grad = LAYERS[name]
    x = zd.Tensor(rng.standard_normal(xs, dtype=np.float32), requires_grad=x_grad)
    if kind == "conv":
        W = zd.Tensor(rng.standard_normal(ws, dtype=np.float32) * 0.1, requires_grad=True)
        b = zd.Tensor(rng.standard_normal(ws[0], dtype=np.float32), requires_grad=True)
        leaves = [x, W, b]

        def forward():
            return F.conv2d(x, W, b, stride=1, pad=pad)
    elif kind == "relu":
        leaves = [x]

        def forward():
            return F.relu(x)
    elif kind == "im2col":
        leaves = [x]

        def forward():
            return F.im2col(x, ws, ws, 1, pad)
    else:
        leaves = [x]

        def forward():
            return F.max_pool2d(x, ws)
    shape = forward().shape
    gy = zd.Tensor(rng.standard_normal(shape, dtype=np.float32))
    return forward, leaves, gy


class LayerJob:
    """Worker job (kind "layers"): ``run(n)`` times every case n times, forward and backward."""

    def __init__(self, names=None):
        rng = np.random.default_rng(0)
        self.cases = {name: _build(name, rng) for name in (names or LAYERS)}
        self.run(1)  # warm-up: scratch buffers, BLAS threads, first-touch pages

    def run(self, n: int) -> dict:
        out: dict[str, list[float]] = {}
        for name, (forward, leaves, gy) in self.cases.items():
            fwd, bwd = out.setdefault(f"{name} fwd", []), out.setdefault(f"{name} bwd", [])
            for _ in range(n):
                for leaf in leaves:
                    leaf.grad = None
                start = time.perf_counter()
                y = forward()
                middle = time.perf_counter()
                y.backward(gy)
                end = time.perf_counter()
                fwd.append((middle - start) * 1e3)
                bwd.append((end - middle) * 1e3)
                del y
        return {"cases": out}
