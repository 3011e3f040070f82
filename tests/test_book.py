"""zerodl.book: the book's layers against central differences and against zerodl's own Functions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl.book import functions as bf
from zerodl.book import util
from zerodl.book.gradient import numerical_gradient, numerical_gradient_2d
from zerodl.book.layers import (
    AddLayer,
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    MulLayer,
    Pooling,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
)


def apart(x, gap=0.05):
    """x with no element within ``gap`` of 0 (ReLU's kink) and all elements distinct."""
    return np.where(np.abs(x) < gap, gap + np.abs(x), x)


def numeric(f, arrays):
    return [numerical_gradient(lambda _: f(), a) for a in arrays]


# ---------------------------------------------------------------- every layer against central differences
def layer_cases(rng):
    """name -> (layer, x, forward keywords, [(param array, gradient attribute)])"""
    W, b = rng.standard_normal((12, 3)), rng.standard_normal(3)
    Wc, bc = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    gamma, beta = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    gamma2, beta2 = rng.uniform(0.5, 2, 2), rng.standard_normal(2)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    distinct = rng.permutation(96).reshape(2, 3, 4, 4) / 10.0  # no ties inside a window
    return {
        "Relu": (Relu(), apart(rng.standard_normal((4, 5))), {}, []),
        "Sigmoid": (Sigmoid(), rng.standard_normal((4, 5)) * 3, {}, []),
        "Affine": (Affine(W[:4], b), rng.standard_normal((5, 4)), {}, [(W[:4], "dW"), (b, "db")]),
        "Affine 4-D input": (Affine(W, b), rng.standard_normal((2, 3, 2, 2)), {},
                             [(W, "dW"), (b, "db")]),
        "Convolution pad 1": (Convolution(Wc, bc, 1, 1), rng.standard_normal((2, 2, 5, 5)), {},
                              [(Wc, "dW"), (bc, "db")]),
        "Convolution stride 2": (Convolution(Wc, bc, stride=2), rng.standard_normal((2, 2, 7, 7)), {},
                                 [(Wc, "dW"), (bc, "db")]),
        "Pooling 2x2": (Pooling(2, 2, stride=2), distinct, {}, []),
        "Pooling 3x3 stride 1 pad 1": (Pooling(3, 3, stride=1, pad=1), distinct, {}, []),
        "BatchNormalization train": (BatchNormalization(gamma, beta), rng.standard_normal((6, 4)),
                                     {"train_flg": True}, [(gamma, "dgamma"), (beta, "dbeta")]),
        "BatchNormalization test": (BatchNormalization(gamma, beta, running_mean=rm, running_var=rv),
                                    rng.standard_normal((6, 4)), {"train_flg": False},
                                    [(gamma, "dgamma"), (beta, "dbeta")]),
        "BatchNormalization 4-D": (BatchNormalization(gamma2, beta2), rng.standard_normal((3, 2, 3, 3)),
                                   {"train_flg": True}, [(gamma2, "dgamma"), (beta2, "dbeta")]),
    }


CASE_NAMES = list(layer_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_layer_backward_matches_central_differences(name, rng):
    layer, x, kw, params = layer_cases(rng)[name]
    r = rng.standard_normal(layer.forward(x, **kw).shape)

    def loss():
        return np.sum(layer.forward(x, **kw) * r)

    expected = numeric(loss, [x] + [p for p, _ in params])
    layer.forward(x, **kw)
    dx = layer.backward(r)
    assert dx.shape == x.shape and dx.dtype == np.float64
    assert np.max(np.abs(dx - expected[0])) < 1e-7, name
    for (_, attr), want in zip(params, expected[1:]):
        assert np.max(np.abs(getattr(layer, attr) - want)) < 1e-7, (name, attr)


def test_dropout_backward_matches_central_differences_with_its_mask_fixed(rng):
    layer, x = Dropout(0.3), rng.standard_normal((5, 6))
    r = rng.standard_normal(x.shape)

    def loss():
        zd.manual_seed(3)  # the same mask at every evaluation
        return np.sum(layer.forward(x, train_flg=True) * r)

    expected = numerical_gradient(lambda _: loss(), x)
    loss()
    assert np.max(np.abs(layer.backward(r) - expected)) < 1e-8
    assert 0 < layer.mask.sum() < x.size


def test_mul_and_add_layers_give_the_books_apple_numbers():
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)
    dprice, dtax = mul_tax.backward(1)
    dapple, dapple_num = mul_apple.backward(dprice)
    assert price == 220.00000000000003 and (dapple, dapple_num, dtax) == (2.2, 110.00000000000001, 200)
    add = AddLayer()
    assert add.forward(200.0, 450.0) == 650.0 and add.backward(1.1) == (1.1, 1.1)


def test_mul_layer_on_arrays_matches_central_differences(rng):
    x, y, r = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    layer = MulLayer()
    gx, gy = numeric(lambda: np.sum(layer.forward(x, y) * r), [x, y])
    layer.forward(x, y)
    dx, dy = layer.backward(r)
    np.testing.assert_allclose(dx, gx, atol=1e-8)
    np.testing.assert_allclose(dy, gy, atol=1e-8)


def test_softmax_with_loss_matches_central_differences_and_honours_dout(rng):
    x, t = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2], dtype=np.uint8)
    layer = SoftmaxWithLoss()
    expected = numerical_gradient(lambda _: layer.forward(x, t), x)
    layer.forward(x, t)
    assert np.max(np.abs(layer.backward() - expected)) < 1e-8
    np.testing.assert_allclose(layer.backward(2.0), 2 * expected, atol=1e-8)
    onehot = np.eye(4)[t]
    assert layer.forward(x, onehot) == pytest.approx(SoftmaxWithLoss().forward(x, t), rel=1e-14)


def test_softmax_with_loss_takes_labels_as_a_column_as_the_books_ch7_check_does(rng):
    x = rng.standard_normal((3, 4))
    column, flat = np.array([[2], [0], [3]]), np.array([2, 0, 3])
    layer = SoftmaxWithLoss()
    expected = -np.mean(np.log(bf.softmax(x)[np.arange(3), flat]))
    assert layer.forward(x, column) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(layer.backward(), (bf.softmax(x) - np.eye(4)[flat]) / 3, atol=1e-15)
    assert bf.softmax_loss(x, column) == pytest.approx(expected, rel=1e-14)


# ---------------------------------------------------------------- the same values as zerodl's Functions
def autograd(fn, *arrays, r):
    ts = [zd.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    y.backward(r)
    return y.data, [t.grad.data for t in ts]


def test_layers_compute_what_zerodls_functions_compute(rng):
    x = rng.standard_normal((2, 3, 6, 6))
    W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    conv = Convolution(W, b, stride=1, pad=1)
    y = conv.forward(x)
    r = rng.standard_normal(y.shape)
    want, (gx, gW, gb) = autograd(lambda x, W, b: F.conv2d(x, W, b, 1, 1), x, W, b, r=r)
    np.testing.assert_allclose(y, want, rtol=1e-13)
    np.testing.assert_allclose(conv.backward(r), gx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(conv.dW, gW, rtol=1e-12)
    np.testing.assert_allclose(conv.db, gb, rtol=1e-12)

    pool = Pooling(2, 2, stride=2)
    yp = pool.forward(x)
    rp = rng.standard_normal(yp.shape)
    want, (gx,) = autograd(lambda x: F.max_pool2d(x, 2), x, r=rp)
    np.testing.assert_array_equal(yp, want)
    np.testing.assert_array_equal(pool.backward(rp), gx)

    x2, W2, b2 = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    r2 = rng.standard_normal((5, 3))
    affine = Affine(W2, b2)
    want, (gx, gW, gb) = autograd(F.linear, x2, W2, b2, r=r2)
    np.testing.assert_allclose(affine.forward(x2), want, rtol=1e-14)
    np.testing.assert_allclose(affine.backward(r2), gx, rtol=1e-14)
    np.testing.assert_allclose(affine.dW, gW, rtol=1e-14)
    np.testing.assert_allclose(affine.db, gb, rtol=1e-14)

    for layer, fn in ((Relu(), F.relu), (Sigmoid(), F.sigmoid)):
        want, (gx,) = autograd(fn, x2, r=x2)
        np.testing.assert_allclose(layer.forward(x2), want, rtol=1e-15)
        np.testing.assert_allclose(layer.backward(x2), gx, rtol=1e-15)

    gamma, beta = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    bn = BatchNormalization(gamma, beta)
    want, (gx, gg, gbeta) = autograd(
        lambda x, g, b: F.batch_norm(x, g, b, None, None, training=True, eps=10e-7), x2, gamma, beta, r=x2)
    np.testing.assert_allclose(bn.forward(x2), want, rtol=1e-13)
    np.testing.assert_allclose(bn.backward(x2), gx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bn.dgamma, gg, rtol=1e-13)
    np.testing.assert_allclose(bn.dbeta, gbeta, rtol=1e-13)

    t = np.array([1, 0, 2, 2, 1])
    loss = SoftmaxWithLoss()
    want, (gx,) = autograd(lambda x: F.cross_entropy(x, t), x2[:, :3], r=np.float64(1.0))
    assert loss.forward(x2[:, :3], t) == pytest.approx(float(want), rel=1e-15)
    np.testing.assert_allclose(loss.backward(), gx, rtol=1e-15)


def test_convolution_takes_one_number_as_the_bias_as_the_books_apply_filter_does(rng):
    x, W = rng.standard_normal((1, 1, 6, 6)), rng.standard_normal((1, 1, 3, 3))
    conv = Convolution(W, 0)
    r = rng.standard_normal((1, 1, 4, 4))
    want, (gx, gW) = autograd(lambda x, W: F.conv2d(x, W), x, W, r=r)
    np.testing.assert_allclose(conv.forward(x), want, rtol=1e-13)
    np.testing.assert_allclose(conv.backward(r), gx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(conv.dW, gW, rtol=1e-12)
    np.testing.assert_allclose(conv.db, [r.sum()], rtol=1e-12)
    np.testing.assert_allclose(Convolution(W, 0.5).forward(x), want + 0.5, rtol=1e-13)


def test_dropout_is_zerodls_mask_without_the_inverted_scaling(rng):
    x = rng.standard_normal((20, 30))
    zd.manual_seed(1)
    inverted = F.dropout(x, 0.5, training=True).data
    zd.manual_seed(1)
    book = Dropout(0.5).forward(x, train_flg=True)
    np.testing.assert_array_equal(book, inverted * 0.5)
    assert set(np.unique(book[book != 0] == x[book != 0])) == {True}  # kept units are unscaled
    np.testing.assert_array_equal(Dropout(0.3).forward(x, train_flg=False), x * 0.7)


# ---------------------------------------------------------------- conventions and numerics
def test_softmax_with_loss_is_exact_for_huge_logits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = SoftmaxWithLoss().forward(np.array([[1000.0, 0.0]]), np.array([1]))
        assert loss == 1000.0  # the book's log(y + 1e-7) gives 16.118
        assert bf.softmax_loss(np.array([1000.0, 0.0]), np.array([1])) == 1000.0
        assert bf.sigmoid(np.array([-1000.0]))[0] == 0.0
        np.testing.assert_allclose(bf.softmax(np.array([1010.0, 1000.0, 990.0])),
                                   [9.99954600e-01, 4.53978686e-05, 2.06106005e-09], rtol=1e-8)


def test_cross_entropy_error_gives_the_books_printed_values():
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    y1 = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    y2 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    assert bf.cross_entropy_error(y1, t) == pytest.approx(0.510825457099338, abs=1e-15)
    assert bf.cross_entropy_error(y2, t) == pytest.approx(2.302584092994546, abs=1e-15)
    assert bf.cross_entropy_error(np.stack([y1, y2]), np.array([2, 2])) == pytest.approx(
        (0.510825457099338 + 2.302584092994546) / 2, abs=1e-15)
    assert bf.sum_squared_error(y1, t) == pytest.approx(0.097500000000000031, abs=1e-15)
    np.testing.assert_array_equal(bf.step_function(np.array([-1.0, 0.0, 2.0])), [0, 0, 1])
    np.testing.assert_array_equal(bf.relu_grad(np.array([-1.0, 0.0, 2.0])), [0, 0, 1])


def test_batch_norm_follows_the_books_running_statistics(rng):
    x = rng.standard_normal((8, 3)) * 2 + 5
    bn = BatchNormalization(np.ones(3), np.zeros(3), momentum=0.9)
    bn.forward(x, train_flg=True)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(bn.running_var, 0.1 * x.var(axis=0), rtol=1e-14)  # biased, from 0
    y = bn.forward(x, train_flg=False)
    want = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-6)
    np.testing.assert_allclose(y, want, rtol=1e-12)


def test_batch_norm_on_images_normalises_each_channel(rng):
    x = rng.standard_normal((4, 2, 3, 3)) * np.array([1.0, 10.0])[None, :, None, None]
    bn = BatchNormalization(np.ones(2), np.zeros(2))
    y = bn.forward(x, train_flg=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-4)
    assert bn.running_mean.shape == (2,)


def test_layers_hold_the_callers_arrays_and_backward_leaves_dout_alone(rng):
    params = {"W": rng.standard_normal((3, 2)), "b": np.zeros(2)}
    affine = Affine(params["W"], params["b"])
    x = rng.standard_normal((4, 3))
    before = affine.forward(x)
    params["b"] += 1.0  # an optimizer's in-place update
    np.testing.assert_allclose(affine.forward(x), before + 1.0)
    dout = rng.standard_normal((4, 3))
    kept = dout.copy()
    relu = Relu()
    relu.forward(rng.standard_normal((4, 3)))
    relu.backward(dout)
    np.testing.assert_array_equal(dout, kept)


def test_float32_stays_float32(rng):
    x = rng.standard_normal((4, 1, 6, 6)).astype(np.float32)
    W, b = rng.standard_normal((2, 1, 3, 3)).astype(np.float32), np.zeros(2, np.float32)
    layers = [Convolution(W, b), Relu(), Pooling(2, 2, stride=2), Affine(
        rng.standard_normal((8, 3)).astype(np.float32), np.zeros(3, np.float32))]
    for layer in layers:
        x = layer.forward(x)
        assert x.dtype == np.float32, type(layer).__name__
    d = np.ones_like(x)
    for layer in reversed(layers):
        d = layer.backward(d)
        assert d.dtype == np.float32, type(layer).__name__


def test_pooling_stride_defaults_to_the_window(rng):
    assert Pooling(2, 2).forward(rng.standard_normal((1, 1, 4, 6))).shape == (1, 1, 2, 3)


# ---------------------------------------------------------------- util and gradient
def test_im2col_layout_and_col2im_adjoint(rng):
    x = rng.standard_normal((2, 3, 5, 5))
    col = util.im2col(x, 3, 3, stride=2, pad=1)
    assert col.shape == (2 * 3 * 3, 27)
    np.testing.assert_array_equal(col[0].reshape(3, 3, 3)[:, 1:, 1:], x[0, :, :2, :2])
    y = rng.standard_normal(col.shape)
    back = util.col2im(y, x.shape, 3, 3, stride=2, pad=1)
    assert np.sum(col * y) == pytest.approx(np.sum(x * back), rel=1e-12)
    assert util.conv_output_size(28, 5) == 24.0 and util.conv_output_size(7, 3, 2, 1) == 4.0


def test_smooth_curve_and_shuffle(rng):
    flat = np.full(50, 3.0)
    np.testing.assert_allclose(util.smooth_curve(flat), flat)
    noisy = np.arange(40.0) + rng.standard_normal(40)
    smooth = util.smooth_curve(noisy)
    assert smooth.shape == (40,) and np.std(np.diff(smooth)) < np.std(np.diff(noisy)) / 3
    x, t = np.arange(20).reshape(10, 2), np.arange(10)
    zd.manual_seed(0)
    xs, ts = util.shuffle_dataset(x, t)
    np.testing.assert_array_equal(xs[:, 0] // 2, ts)
    assert not np.array_equal(ts, t) and sorted(ts) == list(t)


def test_numerical_gradient_of_the_books_functions():
    np.testing.assert_allclose(numerical_gradient(lambda x: np.sum(x ** 2), np.array([3.0, 4.0])),
                               [6.0, 8.0], rtol=1e-9)
    grid = np.array([[3.0, 4.0], [0.0, 2.0]])
    np.testing.assert_allclose(numerical_gradient_2d(lambda p: np.sum(p ** 2), grid), 2 * grid,
                               rtol=1e-9)
