"""The fast convolution kernel (zerodl.kernels.conv) against the book's readable version.

``Convolution(stride, pad, fast=False)`` runs im2col → one matrix product →
reshape, and backward dW = colᵀ·dy, db = Σ dy, dx = col2im(dy·W); the fast
kernel must give the same values and gradients in every layout it chooses
(wide rows, rows cut at OH, exact grids; blocks of samples; the flipped-filter
dx at stride 1 and the scatter at other strides).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import zerodl as zd
import zerodl.kernels.conv as conv_kernel
from zerodl.functional.conv import Convolution, col2im_array, im2col_array
from zerodl.kernels import threads
from zerodl.kernels.conv_geometry import Geometry
from zerodl.kernels.conv_nhwc import NhwcConvKernel, use_for
from zerodl.numerical import gradcheck

CASES = [  # x shape, W shape, stride, pad, bias
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0, True),            # exact grid
    ((3, 2, 12, 12), (3, 2, 3, 3), 1, 1, True),          # rows cut at OH
    ((3, 2, 24, 24), (5, 2, 3, 3), 1, 1, False),         # wide rows: one run per block
    ((3, 1, 28, 28), (4, 1, 5, 5), 1, 0, True),          # the book's first layer
    ((2, 2, 7, 9), (3, 2, 2, 3), 2, 1, True),            # strided: dx by scatter
    ((1, 2, 7, 6), (2, 2, 2, 3), 1, 2, True),            # pad 2 on a 2-row filter: scatter
    ((2, 1, 7, 8), (3, 1, 2, 3), (2, 1), (1, 2), True),  # (h, w) stride and pad
    ((3, 2, 4, 4), (2, 2, 4, 4), 1, 0, True),            # the filter covers the input
    ((2, 1, 6, 6), (2, 1, 1, 1), 2, 0, False),           # 1x1, strided
    ((5, 3, 9, 11), (4, 3, 3, 3), 1, 2, True),           # odd sizes, pad 2 (grid 13x15)
    ((3, 32, 6, 6), (4, 32, 3, 3), 1, 1, True),          # many channels, small image: NHWC
    ((4, 24, 5, 7), (6, 24, 3, 3), 1, 1, False),         # NHWC, odd sizes
]


def run(fast: bool, arrays, stride, pad, gy, dtype, wanted=(True, True, True)):
    """Forward and backward of one Convolution; (y, [grads]) as arrays."""
    ts = [zd.Tensor(a.astype(dtype), requires_grad=w) for a, w in zip(arrays, wanted)]
    y = Convolution(stride, pad, fast=fast)(*ts)
    y.backward(gy.astype(dtype))
    return y.data, [None if t.grad is None else t.grad.data for t in ts]


def inputs(rng, xs, ws, bias):
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)]
    return arrays + [rng.standard_normal(ws[0])] if bias else arrays


def output_shape(xs, ws, stride, pad):
    g = Geometry.make("conv2d", xs, ws[2], ws[3], stride, pad)
    return (xs[0], ws[0], g.OH, g.OW)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-11), (np.float32, 2e-4)])
@pytest.mark.parametrize("xs, ws, stride, pad, bias", CASES)
def test_fast_kernel_matches_the_readable_convolution(xs, ws, stride, pad, bias, dtype, tol, rng):
    arrays = inputs(rng, xs, ws, bias)
    gy = rng.standard_normal(output_shape(xs, ws, stride, pad))
    y_fast, g_fast = run(True, arrays, stride, pad, gy, dtype)
    y_read, g_read = run(False, arrays, stride, pad, gy, dtype)
    assert y_fast.dtype == y_read.dtype == dtype
    np.testing.assert_allclose(y_fast, y_read, rtol=tol, atol=tol)
    for name, a, b in zip("xWb", g_fast, g_read):
        assert a.dtype == dtype, name
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 10, err_msg=f"d{name}")


@pytest.mark.parametrize("block_bytes", [1, 3000, 40_000])
@pytest.mark.parametrize("xs, ws, stride, pad", [
    ((7, 2, 12, 12), (3, 2, 3, 3), 1, 1),
    ((5, 1, 28, 28), (2, 1, 5, 5), 1, 0),
    ((6, 2, 9, 9), (3, 2, 3, 3), 2, 1),
])
def test_blocks_of_samples_give_the_readable_result(xs, ws, stride, pad, block_bytes, rng,
                                                   monkeypatch):
    """Blocks of 1, of a few with a shorter last one, and of all samples."""
    monkeypatch.setattr(conv_kernel, "BLOCK_BYTES", block_bytes)
    arrays = inputs(rng, xs, ws, True)
    gy = rng.standard_normal(output_shape(xs, ws, stride, pad))
    y_fast, g_fast = run(True, arrays, stride, pad, gy, np.float64)
    y_read, g_read = run(False, arrays, stride, pad, gy, np.float64)
    np.testing.assert_allclose(y_fast, y_read, atol=1e-12)
    for a, b in zip(g_fast, g_read):
        np.testing.assert_allclose(a, b, atol=1e-11)


@pytest.mark.parametrize("wanted", [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (1, 0, 1)])
def test_fast_kernel_computes_only_the_wanted_gradients_and_gets_them_right(wanted, rng):
    arrays = inputs(rng, (3, 2, 7, 7), (4, 2, 3, 3), True)
    gy = rng.standard_normal((3, 4, 7, 7))
    _, g_fast = run(True, arrays, 1, 1, gy, np.float64, wanted)
    _, g_read = run(False, arrays, 1, 1, gy, np.float64)
    for a, b, w in zip(g_fast, g_read, wanted):
        if w:
            np.testing.assert_allclose(a, b, atol=1e-12)
        else:
            assert a is None


@pytest.mark.parametrize("fast", [True, False])
def test_driven_by_hand_as_in_the_book(fast, rng):
    """Convolution(stride, pad)(x, W, b), then backward_by_hand(dout) -> (dx, dW, db)."""
    x, W, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    conv = Convolution(1, 1, fast=fast)
    y = conv(x, W, b)
    dout = rng.standard_normal(y.shape)
    dx, dW, db = conv.backward_by_hand(dout)
    col = im2col_array(x, Geometry.make("conv2d", x.shape, 3, 3, 1, 1))
    dy = dout.transpose(0, 2, 3, 1).reshape(-1, 4)
    np.testing.assert_allclose(dW.data, (col.T @ dy).T.reshape(W.shape), atol=1e-12)
    np.testing.assert_allclose(db.data, dout.sum(axis=(0, 2, 3)), atol=1e-12)
    np.testing.assert_allclose(dx.data, col2im_array(dy @ W.reshape(4, -1), conv.geom), atol=1e-12)


@pytest.mark.parametrize("xs, ws, stride, pad, bias", CASES[:2] + CASES[4:8])
def test_readable_convolution_gradients_match_central_differences(xs, ws, stride, pad, bias, rng):
    ts = [zd.Tensor(a, requires_grad=True) for a in inputs(rng, xs, ws, bias)]
    assert gradcheck(lambda *a: Convolution(stride, pad, fast=False)(*a), *ts)


def test_readable_second_derivative_matches_central_differences(rng):
    x0, W0 = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))

    def grad_x(x, W):
        """dL/dx with create_graph, L = Σ conv(x, W)², the leaves' .grad left as they were."""
        saved = x.grad, W.grad
        x.grad = W.grad = None
        with zd.enable_grad():
            (Convolution(2, 1, fast=False)(x, W) ** 2).sum().backward(create_graph=True)
        gx = x.grad
        x.grad, W.grad = saved
        return gx

    assert gradcheck(grad_x, zd.Tensor(x0, requires_grad=True), zd.Tensor(W0, requires_grad=True))


def test_readable_im2col_is_the_books_layout():
    """Row (n, oh, ow), columns (c, fh, fw): a 1x2x3x3 input, 2x2 patches."""
    x = np.arange(18.0).reshape(1, 2, 3, 3)
    col = im2col_array(x, Geometry.make("im2col", x.shape, 2, 2, 1, 0))
    assert col.shape == (4, 8)
    np.testing.assert_array_equal(col[0], [0, 1, 3, 4, 9, 10, 12, 13])
    np.testing.assert_array_equal(col[3], [4, 5, 7, 8, 13, 14, 16, 17])


def test_small_images_with_many_channels_take_the_channels_last_kernel():
    assert use_for(Geometry.make("conv2d", (100, 32, 8, 8), 3, 3, 1, 1))      # DeepConvNet's 8x8
    assert not use_for(Geometry.make("conv2d", (100, 16, 28, 28), 3, 3, 1, 1))  # few channels
    assert not use_for(Geometry.make("conv2d", (100, 32, 14, 14), 3, 3, 2, 1))  # strided
    conv = Convolution(1, 1, fast=True)
    conv(np.zeros((2, 32, 6, 6)), np.zeros((4, 32, 3, 3)))
    assert isinstance(conv.kernel, NhwcConvKernel)


@pytest.mark.parametrize("block_bytes", [1, 20_000, 1 << 30])
@pytest.mark.parametrize("xs, ws, pad", [
    ((5, 3, 7, 7), (4, 3, 3, 3), 1),
    ((3, 2, 6, 9), (3, 2, 2, 3), (1, 2)),
    ((4, 8, 5, 5), (2, 8, 5, 5), 0),
])
def test_channels_last_kernel_matches_the_readable_convolution_for_any_shape(xs, ws, pad, block_bytes,
                                                                             rng, monkeypatch):
    """Called directly, whatever ``use_for`` would pick: values and all three gradients."""
    monkeypatch.setattr(conv_kernel, "BLOCK_BYTES", block_bytes)
    x, W, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    g = Geometry.make("conv2d", xs, ws[2], ws[3], 1, pad)
    kernel = NhwcConvKernel(g)
    y = kernel.forward(x, W, b)
    gy = rng.standard_normal(y.shape)
    gx, gW, gb = kernel.backward(gy, W, True, True, True)
    y_read, grads = run(False, [x, W, b], 1, pad, gy, np.float64)
    np.testing.assert_allclose(y, y_read, atol=1e-12)
    for a, r in zip((gx, gW, gb), grads):
        np.testing.assert_allclose(a, r, atol=1e-11)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_the_same_result_on_any_number_of_kernel_threads(n_threads, rng):
    """Blocks split over threads (per-thread dW sums added at the end): equal to one thread."""
    arrays = inputs(rng, (7, 3, 12, 12), (5, 3, 3, 3), True)
    gy = rng.standard_normal((7, 5, 12, 12))
    try:
        threads.set_num_threads(n_threads)
        y, grads = run(True, arrays, 1, 1, gy, np.float64)
    finally:
        threads.set_num_threads(None)
    y_read, grads_read = run(False, arrays, 1, 1, gy, np.float64)
    np.testing.assert_allclose(y, y_read, atol=1e-12)
    for a, r in zip(grads, grads_read):
        np.testing.assert_allclose(a, r, atol=1e-11)


@pytest.mark.parametrize("N, n_threads, per_sample", [
    (100, 2, 144 * 900 * 4),   # DeepConvNet's conv2: 17 blocks of 6 once, one thread doing 9
    (100, 1, 144 * 900 * 4),
    (10, 3, 700_000),
    (8, 2, 6 << 20),           # a sample over the budget: blocks of one
    (1, 2, 10),
])
def test_sample_blocks_cover_the_batch_and_give_every_thread_as_many(N, n_threads, per_sample):
    blocks = conv_kernel._sample_blocks(N, per_sample, n_threads)
    starts = [n0 for n0, _ in blocks]
    sizes = [m for _, m in blocks]
    assert starts == [sum(sizes[:i]) for i in range(len(sizes))] and sum(sizes) == N
    assert max(sizes) - min(sizes) <= 1
    if N >= n_threads:
        assert len(blocks) % n_threads == 0
    assert max(sizes) == 1 or max(sizes) * per_sample * n_threads <= conv_kernel.BLOCK_BYTES


# ---------------------------------------------------------------- the kernels' threads
def test_parallel_gives_every_result_in_order_and_restores_the_blas_threads():
    blas = threads._blas()
    before = blas.get_num_threads() if blas else None
    try:
        threads.set_num_threads(2)
        assert threads.parallel(lambda p: p * p, range(7)) == [p * p for p in range(7)]
        # a region inside a part runs alone instead of waiting for the busy threads
        assert threads.parallel(lambda p: sum(threads.parallel(lambda q: q, range(p))), range(4)) \
            == [0, 0, 1, 3]
        with pytest.raises(ZeroDivisionError):
            threads.parallel(lambda p: 1 // (p - 3), range(6))
    finally:
        threads.set_num_threads(None)
    if blas:
        assert blas.get_num_threads() == before


def test_a_region_run_from_another_python_thread_still_gets_one_thread_blas():
    """threadpoolctl lets one Python thread at a time change OpenBLAS's shared pool and ignores
    the others; the kernels run from any thread (the lab trains in its own), one region at a time."""
    blas = threads._blas()
    if blas is None or blas.get_num_threads() == 1:
        pytest.skip("no BLAS thread control (threadpoolctl), or one BLAS thread already")
    before = blas.get_num_threads()
    inside = []
    try:
        threads.set_num_threads(2)
        threads.parallel(lambda p: p, range(2))  # this thread has run a region before
        other = threading.Thread(target=lambda: inside.extend(
            threads.parallel(lambda p: blas.get_num_threads(), range(2))))
        other.start()
        other.join()
        assert inside == [1, 1]
        assert blas.get_num_threads() == before
        threads.parallel(lambda p: p, range(2))
        assert blas.get_num_threads() == before
    finally:
        threads.set_num_threads(None)


def test_kernel_threads_follow_the_cores_and_the_ranks_on_this_machine(monkeypatch):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    for name in ("ZERODL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 *threads._LOCAL_RANK_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    assert threads._default_workers() == 4
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")  # mpirun -n 2: two cores each
    assert threads._default_workers() == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "1")             # the user's limit holds
    assert threads._default_workers() == 1
    monkeypatch.setenv("ZERODL_NUM_THREADS", "3")          # zerodl's own setting wins
    assert threads._default_workers() == 3
    with pytest.raises(ValueError, match="at least 1 thread"):
        threads.set_num_threads(0)


def test_kernel_threads_wait_for_a_blas_that_would_spin_against_them(monkeypatch):
    """OpenBLAS's idle workers spin 2^28 cycles by default: then the kernels use one thread."""
    blas = threads._blas()
    if blas is None:
        pytest.skip("no BLAS thread control (threadpoolctl)")
    monkeypatch.delenv("ZERODL_NUM_THREADS", raising=False)  # the user's choice would win
    monkeypatch.setitem(threads._state, "cores", 2)
    monkeypatch.setitem(threads._state, "workers", None)
    monkeypatch.setattr(type(blas), "get_num_threads", lambda self: 2)
    monkeypatch.setitem(threads._state, "spin", 28)
    assert threads.workers() == 1
    monkeypatch.setitem(threads._state, "spin", threads.MAX_BLAS_SPIN)
    assert threads.workers() == 2


def test_zerodl_num_threads_holds_even_while_blas_would_spin(monkeypatch):
    """ZERODL_NUM_THREADS overrides the default as set_num_threads does, the spin check included."""
    blas = threads._blas()
    if blas is None:
        pytest.skip("no BLAS thread control (threadpoolctl)")
    monkeypatch.setenv("ZERODL_NUM_THREADS", "2")
    monkeypatch.setitem(threads._state, "cores", None)
    monkeypatch.setitem(threads._state, "workers", None)
    monkeypatch.setattr(type(blas), "get_num_threads", lambda self: 2)
    monkeypatch.setitem(threads._state, "spin", 28)
    assert threads.workers() == 2
