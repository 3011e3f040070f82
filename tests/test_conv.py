"""Convolution, im2col/col2im and pooling: values, gradients, conventions, errors."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
import zerodl.kernels.conv as conv_kernel
from zerodl.numerical import gradcheck


def param(a) -> zd.Tensor:
    return zd.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ---------------------------------------------------------------- slow references
def naive_conv2d(x, W, b=None, stride=1, pad=0):
    """The definition, one output pixel at a time."""
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    N, C, H, Wd = x.shape
    FN, _, FH, FW = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH, OW = (H + 2 * ph - FH) // sh + 1, (Wd + 2 * pw - FW) // sw + 1
    y = np.zeros((N, FN, OH, OW))
    for n in range(N):
        for f in range(FN):
            for i in range(OH):
                for j in range(OW):
                    patch = xp[n, :, i * sh:i * sh + FH, j * sw:j * sw + FW]
                    y[n, f, i, j] = np.sum(patch * W[f]) + (0.0 if b is None else b[f])
    return y


def naive_pool(x, k, stride=None, pad=0, op="max"):
    (kh, kw) = pair(k)
    (sh, sw) = pair(stride) if stride is not None else (kh, kw)
    (ph, pw) = pair(pad)
    fill = -np.inf if op == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    N, C, Hp, Wp = xp.shape
    OH, OW = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    y = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            win = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            y[:, :, i, j] = win.max(axis=(2, 3)) if op == "max" else win.sum(axis=(2, 3)) / (kh * kw)
    return y


def naive_im2col(x, FH, FW, stride=1, pad=0):
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, C, Hp, Wp = xp.shape
    OH, OW = (Hp - FH) // sh + 1, (Wp - FW) // sw + 1
    rows = [xp[n, :, i * sh:i * sh + FH, j * sw:j * sw + FW].reshape(-1)
            for n in range(N) for i in range(OH) for j in range(OW)]
    return np.array(rows)


def inner_grad(loss_terms, x, *others):
    """dL/dx with create_graph, L = Σ loss_terms(), leaving the leaves' .grad as they were."""
    saved = [t.grad for t in (x, *others)]
    for t in (x, *others):
        t.grad = None
    with zd.enable_grad():
        loss_terms().sum().backward(create_graph=True)
    gx = x.grad
    for t, g in zip((x, *others), saved):
        t.grad = g
    return gx


def distinct(rng, shape):
    """Well-separated values in random order: no ties for max-pooling."""
    return rng.permutation(np.linspace(-2, 2, int(np.prod(shape)))).reshape(shape)


CONV_CASES = [  # x shape, W shape, stride, pad, bias
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0, True),
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1, False),
    ((2, 2, 6, 7), (3, 2, 3, 3), 2, 1, True),
    ((1, 2, 7, 6), (2, 2, 2, 3), 1, 2, True),          # non-square kernel, pad 2
    ((2, 1, 7, 8), (3, 1, 2, 3), (2, 1), (1, 2), True),  # (h, w) stride and pad
    ((3, 2, 4, 4), (2, 2, 4, 4), 1, 0, True),          # kernel covers the whole input
    ((2, 1, 6, 6), (2, 1, 1, 1), 2, 0, False),         # 1x1, strided
]


# ---------------------------------------------------------------- conv2d
@pytest.mark.parametrize("xs, ws, stride, pad, bias", CONV_CASES)
def test_conv2d_forward_matches_naive_loops(xs, ws, stride, pad, bias, rng):
    x, W = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[0]) if bias else None
    y = F.conv2d(x, zd.Tensor(W), None if b is None else zd.Tensor(b), stride=stride, pad=pad)
    np.testing.assert_allclose(y.data, naive_conv2d(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)
    assert y.data.flags.c_contiguous


@pytest.mark.parametrize("xs, ws, stride, pad, bias", CONV_CASES)
def test_conv2d_gradients_match_central_differences(xs, ws, stride, pad, bias, rng):
    inputs = [param(rng.standard_normal(xs)), param(rng.standard_normal(ws))]
    if bias:
        inputs.append(param(rng.standard_normal(ws[0])))
    assert gradcheck(lambda *a: F.conv2d(*a, stride=stride, pad=pad), *inputs)


@pytest.mark.parametrize("xs, k, pad", [
    ((5, 2, 5, 5), 3, 0),      # tiny output: exact patch rows
    ((3, 2, 12, 12), 3, 1),    # wide output rows
    ((3, 2, 24, 24), 3, 1),    # wide rows and columns: one run per block of samples
    ((3, 1, 28, 28), 5, 0),    # the book's first layer, wide rows without padding
])
@pytest.mark.parametrize("block_bytes", [1, 40_000, 1 << 30])
def test_conv2d_in_sample_blocks_gives_the_same_result(xs, k, pad, block_bytes, rng, monkeypatch):
    """Blocks of 1, a few (with a shorter last one) or all samples: the same values and grads."""
    N, C = xs[:2]
    x, W, b = rng.standard_normal(xs), rng.standard_normal((3, C, k, k)), rng.standard_normal(3)
    monkeypatch.setattr(conv_kernel, "BLOCK_BYTES", block_bytes)
    xt, Wt, bt = param(x), param(W), param(b)
    y = F.conv2d(xt, Wt, bt, pad=pad)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    # the book's formulation: y = col @ Wᵀ, dW = gyᵀ col, dx = col2im(gy W)
    col = naive_im2col(x, k, k, 1, pad)
    gy2 = gy.transpose(0, 2, 3, 1).reshape(-1, 3)
    expected_y = (col @ W.reshape(3, -1).T + b).reshape(N, *y.shape[2:], 3).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y.data, expected_y, atol=1e-12)
    np.testing.assert_allclose(Wt.grad.data, (gy2.T @ col).reshape(W.shape), atol=1e-11)
    np.testing.assert_allclose(bt.grad.data, gy.sum(axis=(0, 2, 3)), atol=1e-12)
    gx = F.col2im(gy2 @ W.reshape(3, -1), x.shape, k, k, 1, pad).data
    np.testing.assert_allclose(xt.grad.data, gx, atol=1e-12)


def test_conv2d_ignores_whatever_its_reused_scratch_buffers_hold(rng):
    """conv2d keeps its temporaries between calls: stale contents must never leak in."""
    x, W = rng.standard_normal((3, 2, 24, 24)), rng.standard_normal((4, 2, 3, 3))
    expected = F.conv2d(x, zd.Tensor(W), pad=1).data
    for buf in conv_kernel._scratch_buffers.pool.values():
        buf.fill(np.nan)
    xt, Wt = param(x), param(W)
    y = F.conv2d(xt, Wt, pad=1)
    np.testing.assert_array_equal(y.data, expected)
    for buf in conv_kernel._scratch_buffers.pool.values():
        buf.fill(np.nan)
    y.backward(np.ones(y.shape))
    # with dL/dy = 1: the centre tap sees every pixel once; an interior pixel meets every tap
    np.testing.assert_allclose(Wt.grad.data[:, :, 1, 1], np.tile(x.sum(axis=(0, 2, 3)), (4, 1)),
                               atol=1e-10)
    np.testing.assert_allclose(xt.grad.data[:, :, 5, 5], np.tile(W.sum(axis=(0, 2, 3)), (3, 1)),
                               atol=1e-12)
    assert np.isfinite(xt.grad.data).all()
    first = xt.grad.data.copy()  # every scratch buffer backward uses exists now: spoil them all
    for buf in conv_kernel._scratch_buffers.pool.values():
        buf.fill(np.nan)
    xt.grad = None
    F.conv2d(xt, Wt, pad=1).backward(np.ones(y.shape))
    np.testing.assert_array_equal(xt.grad.data, first)


@pytest.mark.parametrize("xs", [(2, 1, 10, 10), (1, 1, 22, 22)])  # wide rows; rows and columns
def test_conv2d_gradient_on_wide_layouts_matches_central_differences(xs, rng):
    x, W = param(rng.standard_normal(xs)), param(rng.standard_normal((2, 1, 3, 3)))
    assert gradcheck(lambda a, w: F.conv2d(a, w, pad=1), x, W)


def test_conv2d_matches_torch_values_and_gradients(rng):
    torch = pytest.importorskip("torch")
    for xs, ws, stride, pad, _ in CONV_CASES:
        x, W, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
        gy_shape = naive_conv2d(x, W, b, stride, pad).shape
        gy = rng.standard_normal(gy_shape)
        xt, Wt, bt = param(x), param(W), param(b)
        y = F.conv2d(xt, Wt, bt, stride=stride, pad=pad)
        y.backward(gy)
        tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
        ty = torch.nn.functional.conv2d(tx, tW, tb, stride=stride, padding=pad)
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(Wt.grad.data, tW.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(bt.grad.data, tb.grad.numpy(), atol=1e-12)


def test_conv2d_float32_stays_float32_and_agrees_with_float64(rng):
    x, W, b = rng.standard_normal((4, 3, 9, 9)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5)
    ts = [zd.Tensor(a.astype(np.float32), requires_grad=True) for a in (x, W, b)]
    y = F.conv2d(*ts, pad=1)
    y.backward(np.ones(y.shape, np.float32))
    assert y.dtype == np.float32
    assert all(t.grad.dtype == np.float32 for t in ts)
    np.testing.assert_allclose(y.data, naive_conv2d(x, W, b, 1, 1), rtol=1e-4, atol=1e-4)


def test_conv2d_first_layer_skips_the_input_gradient(rng, monkeypatch):
    """x needs no gradient: backward computes dW and db only (no col2im)."""
    x = zd.Tensor(rng.standard_normal((2, 1, 6, 6)))
    W = param(rng.standard_normal((3, 1, 3, 3)))

    def fail(*args, **kwargs):
        raise AssertionError("dx was computed for an input that needs no gradient")

    y = F.conv2d(x, W)
    # dx is either a scatter into a zeroed buffer or, at stride 1 (here), a convolution of gy
    monkeypatch.setattr(conv_kernel.PatchLayout, "zeros", fail)
    monkeypatch.setattr(conv_kernel, "kernel_for", fail)
    y.sum().backward()
    assert x.grad is None
    patch_sum = naive_im2col(x.data, 3, 3).sum(axis=0).reshape(1, 1, 3, 3)
    np.testing.assert_allclose(W.grad.data, np.repeat(patch_sum, 3, axis=0), atol=1e-12)


@pytest.mark.parametrize("wanted", [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 0)],
                         ids=["x", "W", "b", "W b", "x b", "x W"])
def test_conv2d_gradients_of_any_subset_of_inputs(wanted, rng):
    """Each needed gradient equals the one computed when all three are needed (db rides in dW's GEMM)."""
    arrays = (rng.standard_normal((3, 2, 7, 7)), rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4))
    gy = rng.standard_normal((3, 4, 7, 7))
    full = [param(a) for a in arrays]
    F.conv2d(*full, pad=1).backward(gy)
    some = [zd.Tensor(a, requires_grad=bool(w)) for a, w in zip(arrays, wanted)]
    F.conv2d(*some, pad=1).backward(gy)
    for t, reference, w in zip(some, full, wanted):
        if w:
            np.testing.assert_allclose(t.grad.data, reference.grad.data, rtol=1e-12, atol=1e-12)
        else:
            assert t.grad is None
    np.testing.assert_allclose(full[2].grad.data, gy.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv2d_backward_does_not_modify_the_upstream_gradient(rng):
    x, W = param(rng.standard_normal((2, 2, 5, 5))), param(rng.standard_normal((3, 2, 3, 3)))
    b = param(np.ones(3))
    y = F.conv2d(x, W, b, pad=1)
    gy = rng.standard_normal(y.shape)
    kept = gy.copy()
    y.backward(gy)
    np.testing.assert_array_equal(gy, kept)


def test_conv2d_second_derivative_through_create_graph(rng):
    """d/dW of ⟨v, dL/dx⟩ with L = Σ conv(x, W)²: the backward is itself differentiable."""
    x0 = rng.standard_normal((2, 2, 5, 5))

    def grad_x(x, W):
        return inner_grad(lambda: F.conv2d(x, W, stride=2, pad=1) ** 2, x, W)

    assert gradcheck(grad_x, param(x0), param(rng.standard_normal((3, 2, 3, 3))))


def test_conv2d_accepts_plain_arrays_and_a_book_sized_batch():
    x = np.ones((1, 1, 28, 28), np.float32)
    y = F.conv2d(x, zd.Tensor(np.ones((30, 1, 5, 5), np.float32)), zd.Tensor(np.zeros(30, np.float32)))
    assert y.shape == (1, 30, 24, 24)
    np.testing.assert_array_equal(y.data, 25.0)


@pytest.mark.parametrize("xs, ws, kwargs, words", [
    ((8, 3, 28, 28), (30, 1, 5, 5), {}, ["conv2d", "3 channels", "expects 1", "(8,3,28,28)",
                                         "(30,1,5,5)"]),
    ((3, 28, 28), (30, 3, 5, 5), {}, ["conv2d", "(3, 28, 28)", "reshape(N, 1, H, W)"]),
    ((2, 1, 4, 4), (3, 1, 5, 5), {}, ["conv2d", "5x5", "larger than the padded input 4x4", "pad"]),
    ((2, 1, 4, 4), (3, 1, 3, 3), {"stride": 0}, ["conv2d", "stride must be positive"]),
    ((2, 1, 4, 4), (3, 1, 3, 3), {"stride": (1, 2, 3)}, ["conv2d", "stride", "(h, w) pair"]),
    ((2, 1, 4, 4), (3, 1, 3, 3), {"pad": -1}, ["conv2d", "pad must be non-negative"]),
])
def test_conv2d_errors_name_the_problem_and_the_fix(xs, ws, kwargs, words):
    with pytest.raises((ValueError, TypeError)) as err:
        F.conv2d(np.zeros(xs, np.float32), zd.Tensor(np.zeros(ws, np.float32)), **kwargs)
    for w in words:
        assert w in str(err.value)


def test_conv2d_bias_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match=r"bias has shape \(4,\).*pass b of shape \(3,\)"):
        F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((3, 1, 3, 3)), np.zeros(4))


# ---------------------------------------------------------------- im2col / col2im
@pytest.mark.parametrize("xs, FH, FW, stride, pad", [
    ((2, 3, 5, 5), 3, 3, 1, 0),
    ((2, 2, 7, 6), 2, 3, 2, 1),
    ((1, 1, 6, 6), 3, 2, (2, 1), (0, 1)),
])
def test_im2col_is_the_books_patch_matrix_and_col2im_its_adjoint(xs, FH, FW, stride, pad, rng):
    x = rng.standard_normal(xs)
    col = F.im2col(x, FH, FW, stride, pad)
    np.testing.assert_array_equal(col.data, naive_im2col(x, FH, FW, stride, pad))
    yc = rng.standard_normal(col.shape)
    back = F.col2im(yc, xs, FH, FW, stride, pad)
    assert back.shape == xs
    # ⟨im2col(x), y⟩ == ⟨x, col2im(y)⟩
    assert np.isclose(np.sum(col.data * yc), np.sum(x * back.data), rtol=1e-12)
    assert gradcheck(lambda a: F.im2col(a, FH, FW, stride, pad), param(x))
    assert gradcheck(lambda c: F.col2im(c, xs, FH, FW, stride, pad), param(yc))


def test_col2im_sums_overlapping_patches():
    """A 3x3 input, 2x2 patches at stride 1: the centre is in all 4 patches, corners in 1."""
    col = np.ones((4, 4))
    x = F.col2im(col, (1, 1, 3, 3), 2, 2).data[0, 0]
    np.testing.assert_array_equal(x, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_conv2d_equals_im2col_times_the_filter_matrix(rng):
    x, W = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    col = F.im2col(x, 3, 3, 1, 1).data
    y = (col @ W.reshape(4, -1).T).reshape(2, 6, 6, 4).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(F.conv2d(x, zd.Tensor(W), pad=1).data, y, atol=1e-12)


def test_col2im_refuses_a_matrix_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"col2im: col has shape \(5, 9\).*needs \(18, 9\)"):
        F.col2im(np.zeros((5, 9)), (2, 1, 5, 5), 3, 3)


# ---------------------------------------------------------------- pooling
POOL_CASES = [  # x shape, kernel, stride, pad
    ((2, 3, 4, 6), 2, None, 0),        # default stride = kernel: the fast path
    ((2, 2, 5, 5), 2, None, 0),        # not divisible: the last row/column is dropped
    ((2, 2, 5, 6), 3, 2, 1),           # padding, overlapping windows
    ((1, 2, 5, 5), (2, 3), 1, (1, 1)),  # non-square, stride 1
    ((2, 1, 6, 6), 3, (1, 2), 0),
]


@pytest.mark.parametrize("xs, k, stride, pad", POOL_CASES)
@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool_forward_matches_naive_loops_and_gradients_match(op, xs, k, stride, pad, rng):
    fn = F.max_pool2d if op == "max" else F.avg_pool2d
    x = distinct(rng, xs)
    y = fn(x, k, stride, pad)
    np.testing.assert_allclose(y.data, naive_pool(x, k, stride, pad, op), atol=1e-12)
    assert gradcheck(lambda a: fn(a, k, stride, pad), param(x))


@pytest.mark.parametrize("op", ["max", "avg"])
def test_pools_match_torch_including_ties(op, rng):
    torch = pytest.importorskip("torch")
    tfn = torch.nn.functional
    for xs, k, stride, pad in POOL_CASES:
        x = np.round(rng.standard_normal(xs) * 2) / 2   # many ties within windows
        gy_shape = naive_pool(x, k, stride, pad, op).shape
        gy = rng.standard_normal(gy_shape)
        xt = param(x)
        fn = F.max_pool2d if op == "max" else F.avg_pool2d
        y = fn(xt, k, stride, pad)
        y.backward(gy)
        tx = torch.tensor(x, requires_grad=True)
        if op == "max":
            ty = tfn.max_pool2d(tx, k, stride, pad)
        else:
            ty = tfn.avg_pool2d(tx, k, stride, pad, count_include_pad=True)
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), atol=1e-12)


def test_max_pool_gives_a_tied_windows_gradient_to_its_first_maximum():
    x = param(np.array([[[[1.0, 3.0], [3.0, 3.0]]]]))
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0, 1], [0, 0]])


def test_max_pool_overlapping_windows_add_their_gradients():
    """3x3 input, 2x2 windows at stride 1: the centre maximum wins all 4 windows."""
    x = param(np.array([[[[0.0, 0.1, 0.2], [0.3, 9.0, 0.4], [0.5, 0.6, 0.7]]]]))
    y = F.max_pool2d(x, 2, stride=1)
    np.testing.assert_array_equal(y.data[0, 0], [[9, 9], [9, 9]])
    y.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_max_pool_padding_is_never_the_output():
    """All-negative input with padding: a zero pad would win, -inf never does."""
    x = -1.0 - np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    y = F.max_pool2d(x, 2, stride=2, pad=1).data
    assert (y < 0).all()
    np.testing.assert_array_equal(y[0, 0], naive_pool(x, 2, 2, 1)[0, 0])
    assert y[0, 0, 0, 0] == -1.0   # the corner window holds three pads and x[0, 0]


def test_avg_pool_counts_padding_in_the_divisor():
    x = np.ones((1, 1, 2, 2))
    y = F.avg_pool2d(x, 2, stride=2, pad=1).data
    np.testing.assert_array_equal(y[0, 0], [[0.25, 0.25], [0.25, 0.25]])


@pytest.mark.parametrize("fn", [F.max_pool2d, F.avg_pool2d])
def test_default_pool_stride_is_the_kernel_size(fn, rng):
    x = rng.standard_normal((2, 3, 8, 8))
    assert fn(x, 2).shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(fn(x, 2).data, fn(x, 2, stride=2).data)
    assert fn(x, (2, 4)).shape == (2, 3, 4, 2)


def test_pool_second_derivatives_through_create_graph(rng):
    for fn, kwargs in [(F.max_pool2d, {"stride": 1, "pad": 1}), (F.avg_pool2d, {"stride": 1})]:
        def grad_x(x, fn=fn, kwargs=kwargs):
            return inner_grad(lambda: fn(x * x, 2, **kwargs) ** 2, x)
        assert gradcheck(grad_x, param(distinct(rng, (1, 2, 4, 4)) + 3.0))


def test_pool_float32_in_float32_out_and_gradient_not_modified(rng):
    for fn, kwargs in [(F.max_pool2d, {}), (F.max_pool2d, {"stride": 1, "pad": 1}),
                       (F.avg_pool2d, {}), (F.avg_pool2d, {"stride": 1, "pad": 1})]:
        x = zd.Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
        y = fn(x, 2, **kwargs)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        kept = gy.copy()
        y.backward(gy)
        assert y.dtype == np.float32 and x.grad.dtype == np.float32
        np.testing.assert_array_equal(gy, kept)


def test_max_pool_under_no_grad_keeps_no_argmax(rng):
    with zd.no_grad():
        y = F.max_pool2d(rng.standard_normal((1, 1, 4, 4)), 2)
    assert y.creator is None and y.shape == (1, 1, 2, 2)


@pytest.mark.parametrize("call, words", [
    (lambda: F.max_pool2d(np.zeros((2, 3, 4)), 2), ["max_pool2d", "4-D", "(2, 3, 4)"]),
    (lambda: F.max_pool2d(np.zeros((1, 1, 4, 4)), 5), ["max_pool2d", "5x5", "larger"]),
    (lambda: F.max_pool2d(np.zeros((1, 1, 4, 4)), 2, pad=2), ["max_pool2d", "half", "pad"]),
    (lambda: F.avg_pool2d(np.zeros((1, 1, 4, 4)), 2, stride=0), ["avg_pool2d", "stride"]),
    (lambda: F.avg_pool2d(np.zeros((1, 1, 4, 4)), (2, 2, 2)), ["avg_pool2d", "kernel_size"]),
])
def test_pool_errors(call, words):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    for w in words:
        assert w in str(err.value)
