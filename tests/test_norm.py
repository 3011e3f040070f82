"""Batch normalisation and dropout: statistics, running estimates, gradients, modes."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl.numerical import gradcheck


def param(a) -> zd.Tensor:
    return zd.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def reference_batch_norm(x, gamma, beta, eps=1e-5):
    """The definition, channel by channel (axis 1), with the biased batch variance."""
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        v = x[:, c]
        y[:, c] = gamma[c] * (v - v.mean()) / np.sqrt(v.var() + eps) + beta[c]
    return y


SHAPES = [(6, 4), (3, 2, 4, 5)]


# ---------------------------------------------------------------- batch norm: values
@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_training_matches_the_definition(shape, rng):
    x = rng.standard_normal(shape) * 3 + 2
    C = shape[1]
    gamma, beta = rng.uniform(0.5, 2, C), rng.standard_normal(C)
    y = F.batch_norm(x, zd.Tensor(gamma), zd.Tensor(beta), np.zeros(C), np.ones(C), training=True)
    np.testing.assert_allclose(y.data, reference_batch_norm(x, gamma, beta), atol=1e-12)


def test_batch_norm_2d_normalises_each_channel_separately(rng):
    """Channels of very different scales each come out with mean 0 and variance v / (v + eps)."""
    scales = np.array([0.01, 1.0, 100.0])[None, :, None, None]
    x = (rng.standard_normal((8, 3, 5, 5)) + 4.0) * scales
    y = F.batch_norm(x, None, None, np.zeros(3), np.ones(3), training=True).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    v = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), v / (v + 1e-5), rtol=1e-10)
    assert abs(y[:, 2].var() - 1.0) < 1e-8
    # per channel, not per (channel, pixel): the spatial positions are not each normalised
    assert np.abs(y.mean(axis=0)).max() > 0.1


@pytest.mark.parametrize("shape", SHAPES)
def test_running_statistics_follow_the_momentum_rule_in_place(shape, rng):
    C = shape[1]
    running_mean, running_var = np.zeros(C, np.float32), np.ones(C, np.float32)
    expected_mean, expected_var = np.zeros(C), np.ones(C)
    for _ in range(3):
        x = (rng.standard_normal(shape) * 2 + 5).astype(np.float32)
        F.batch_norm(zd.Tensor(x), None, None, running_mean, running_var, training=True, momentum=0.2)
        axes = (0,) + tuple(range(2, len(shape)))
        expected_mean = 0.8 * expected_mean + 0.2 * x.mean(axis=axes, dtype=np.float64)
        expected_var = 0.8 * expected_var + 0.2 * x.var(axis=axes, ddof=1, dtype=np.float64)
    assert running_mean.dtype == np.float32 and running_var.dtype == np.float32
    np.testing.assert_allclose(running_mean, expected_mean, rtol=1e-5)
    np.testing.assert_allclose(running_var, expected_var, rtol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_matches_torch_with_running_statistics(shape, rng):
    torch = pytest.importorskip("torch")
    C = shape[1]
    gamma, beta = rng.uniform(0.5, 2, C), rng.standard_normal(C)
    rm, rv = np.zeros(C), np.ones(C)
    trm, trv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    for training in [True, True, True, False]:
        x = rng.standard_normal(shape) * 3 - 1
        gy = rng.standard_normal(shape)
        xt, gt, bt = param(x), param(gamma), param(beta)
        y = F.batch_norm(xt, gt, bt, rm, rv, training, momentum=0.3, eps=1e-3)
        y.backward(gy)
        tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
        ty = torch.nn.functional.batch_norm(tx, trm, trv, tg, tb, training, 0.3, 1e-3)
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(gt.grad.data, tg.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(bt.grad.data, tb.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(rm, trm.numpy(), atol=1e-14)
        np.testing.assert_allclose(rv, trv.numpy(), atol=1e-14)


def test_evaluation_uses_running_statistics_and_is_deterministic(rng):
    """In eval mode a sample's output does not depend on the rest of its batch."""
    C = 3
    rm, rv = rng.standard_normal(C), rng.uniform(0.5, 2, C)
    gamma, beta = zd.Tensor(rng.uniform(0.5, 2, C)), zd.Tensor(rng.standard_normal(C))
    x = rng.standard_normal((5, C, 2, 2))
    kept = rm.copy(), rv.copy()
    alone = F.batch_norm(x[:1], gamma, beta, rm, rv, training=False).data
    together = F.batch_norm(x, gamma, beta, rm, rv, training=False).data
    np.testing.assert_array_equal(alone[0], together[0])
    np.testing.assert_array_equal(F.batch_norm(x, gamma, beta, rm, rv, training=False).data, together)
    expected = (gamma.data[None, :, None, None] * (x - rm[None, :, None, None])
                / np.sqrt(rv[None, :, None, None] + 1e-5) + beta.data[None, :, None, None])
    np.testing.assert_allclose(together, expected, atol=1e-12)
    np.testing.assert_array_equal(rm, kept[0])   # evaluation never updates the estimates
    np.testing.assert_array_equal(rv, kept[1])


# ---------------------------------------------------------------- batch norm: gradients
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_match_central_differences(shape, training, rng):
    C = shape[1]
    rm, rv = rng.standard_normal(C), rng.uniform(0.5, 2, C)

    def fn(x, gamma, beta):
        # copies: the training-mode update must not drift between the numerical evaluations
        return F.batch_norm(x, gamma, beta, rm.copy(), rv.copy(), training)

    x = rng.standard_normal(shape) * 2
    assert gradcheck(fn, param(x), param(rng.uniform(0.5, 2, C)), param(rng.standard_normal(C)))


def test_batch_norm_second_derivative_through_create_graph(rng):
    def grad_x(x, gamma):
        saved = x.grad, gamma.grad
        x.grad = gamma.grad = None
        with zd.enable_grad():
            y = F.batch_norm(x, gamma, None, None, None, training=True)
            (y ** 3).sum().backward(create_graph=True)
        gx = x.grad
        x.grad, gamma.grad = saved
        return gx

    assert gradcheck(grad_x, param(rng.standard_normal((4, 3))), param(rng.uniform(0.5, 2, 3)))


def test_batch_norm_float32_in_float32_out_and_upstream_gradient_untouched(rng):
    x = zd.Tensor(rng.standard_normal((4, 3, 2, 2)).astype(np.float32), requires_grad=True)
    g = zd.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = zd.Tensor(np.zeros(3, np.float32), requires_grad=True)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    y = F.batch_norm(x, g, b, rm, rv, training=True)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    kept = gy.copy()
    y.backward(gy)
    assert y.dtype == x.grad.dtype == g.grad.dtype == b.grad.dtype == np.float32
    assert rm.dtype == rv.dtype == np.float32
    np.testing.assert_array_equal(gy, kept)


def test_batch_norm_input_gradient_sums_to_zero_per_channel(rng):
    """In training, shifting a whole channel changes nothing: Σ dL/dx over a channel is 0."""
    x = param(rng.standard_normal((4, 3, 2, 2)))
    y = F.batch_norm(x, param(np.ones(3)), param(np.zeros(3)), None, None, training=True)
    y.backward(rng.standard_normal(y.shape))
    np.testing.assert_allclose(x.grad.data.sum(axis=(0, 2, 3)), 0.0, atol=1e-12)


@pytest.mark.parametrize("call, words", [
    (lambda: F.batch_norm(np.zeros((1, 4)), None, None, np.zeros(4), np.ones(4), True),
     ["batch_norm", "more than one value per channel", "(1, 4)", "batch of at least 2"]),
    (lambda: F.batch_norm(np.zeros((1, 2, 1, 1)), None, None, np.zeros(2), np.ones(2), True),
     ["batch_norm", "more than one value per channel"]),
    (lambda: F.batch_norm(np.zeros((4, 3)), np.ones(2), None, None, None, True),
     ["batch_norm", "gamma has shape (2,)", "3 features", "expected (3,)"]),
    (lambda: F.batch_norm(np.zeros((4, 3, 2, 2)), None, None, np.zeros(4), np.ones(3), True),
     ["running_mean has shape (4,)", "3 channels"]),
    (lambda: F.batch_norm(np.zeros(4), None, None, None, None, True),
     ["batch_norm", "(4,)", "reshape(1, -1)"]),
    (lambda: F.batch_norm(np.zeros((4, 3)), None, None, zd.tensor(np.zeros(3)), np.ones(3), True),
     ["running_mean must be an ndarray"]),
])
def test_batch_norm_errors(call, words):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    for w in words:
        assert w in str(err.value)


def test_batch_norm_in_eval_accepts_a_single_sample(rng):
    y = F.batch_norm(np.full((1, 2), 3.0), None, None, np.array([1.0, 3.0]), np.array([4.0, 1.0]),
                     training=False, eps=0.0)
    np.testing.assert_allclose(y.data, [[1.0, 0.0]])


# ---------------------------------------------------------------- dropout
def test_dropout_is_inverted_keeps_the_expected_value_and_drops_about_p():
    zd.manual_seed(0)
    x = zd.Tensor(np.full((200, 500), 2.0, np.float32))
    y = F.dropout(x, p=0.3).data
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.005
    np.testing.assert_allclose(y[kept], 2.0 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 2.0) < 0.02
    assert y.dtype == np.float32


def test_dropout_is_the_identity_in_evaluation_and_with_p_zero(rng):
    x = zd.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_same_seed_same_mask_and_backward_uses_that_mask(rng):
    x = param(rng.uniform(1, 2, (6, 7)))
    zd.manual_seed(42)
    y1 = F.dropout(x, 0.5)
    zd.manual_seed(42)
    y2 = F.dropout(x, 0.5)
    np.testing.assert_array_equal(y1.data, y2.data)
    gy = rng.standard_normal(y1.shape)
    kept = gy.copy()
    y1.backward(gy)
    np.testing.assert_array_equal(gy, kept)
    np.testing.assert_allclose(x.grad.data, gy * (y1.data / x.data), atol=1e-12)
    assert {0.0, 2.0} == set(np.round(np.unique(y1.data / x.data), 12))


def test_dropout_gradient_with_a_fixed_seed_matches_central_differences(rng):
    def fn(x):
        zd.manual_seed(7)       # the same mask at every evaluation
        return F.dropout(x, 0.4)

    assert gradcheck(fn, param(rng.standard_normal((4, 5))))


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_refuses_a_probability_outside_0_to_1(p):
    with pytest.raises(ValueError, match=r"dropout: p must satisfy 0 <= p < 1"):
        F.dropout(np.ones(3), p)


# ---------------------------------------------------------------- the book's layers, by hand
def book_batch_norm_train_step(x, gamma, beta, running_mean, running_var, momentum, eps):
    """The book's BatchNormalization forward in training on (N, D), written out."""
    mu = x.mean(axis=0)
    xc = x - mu
    var = np.mean(xc ** 2, axis=0)
    std = np.sqrt(var + eps)
    running_mean[...] = momentum * running_mean + (1 - momentum) * mu
    running_var[...] = momentum * running_var + (1 - momentum) * var
    return gamma * xc / std + beta


def test_batch_normalization_with_the_books_conventions_matches_the_books_layer(rng):
    gamma, beta = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    ours_mean, ours_var = np.zeros(4), np.zeros(4)          # the book starts them at zeros
    book_mean, book_var = np.zeros(4), np.zeros(4)
    for _ in range(3):
        x = rng.standard_normal((10, 4)) * 3 + 1
        f = F.BatchNormalization(ours_mean, ours_var, training=True, momentum=0.9, eps=1e-7,
                                 momentum_of="running", unbiased=False)
        y = f(x, gamma, beta)
        expected = book_batch_norm_train_step(x, gamma, beta, book_mean, book_var, 0.9, 1e-7)
        np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    np.testing.assert_allclose(ours_mean, book_mean, rtol=1e-12)
    np.testing.assert_allclose(ours_var, book_var, rtol=1e-12)
    x = rng.standard_normal((3, 4))                         # train_flg=False: running statistics
    y = F.BatchNormalization(ours_mean, ours_var, training=False, eps=1e-7)(x, gamma, beta)
    np.testing.assert_allclose(y.data, gamma * (x - book_mean) / np.sqrt(book_var + 1e-7) + beta,
                               rtol=1e-12)


def test_batch_normalization_defaults_are_zerodls_and_pytorchs(rng):
    x = rng.standard_normal((10, 4))
    running_mean, running_var = np.zeros(4), np.ones(4)
    F.BatchNormalization(running_mean, running_var)(x, np.ones(4), np.zeros(4))
    np.testing.assert_allclose(running_mean, 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)


def test_batch_normalization_driven_by_hand_on_images_is_per_channel(rng):
    """On (N, C, H, W) the statistics are per channel (the book's code flattens to per pixel)."""
    x = rng.standard_normal((4, 3, 2, 2)) * np.array([0.1, 1.0, 10.0])[None, :, None, None]
    gamma, beta = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    f = F.BatchNormalization(eps=1e-7)
    y = f(x, gamma, beta)
    np.testing.assert_allclose(y.data, reference_batch_norm(x, gamma, beta, eps=1e-7), atol=1e-12)
    dout = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = f.backward_by_hand(dout)
    xt, gt, bt = param(x), param(gamma), param(beta)
    F.batch_norm(xt, gt, bt, None, None, training=True, eps=1e-7).backward(dout)
    for by_hand, by_engine in [(dx, xt), (dgamma, gt), (dbeta, bt)]:
        np.testing.assert_allclose(by_hand.data, by_engine.grad.data, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dbeta.data, dout.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("options", [dict(), dict(momentum_of="running", momentum=0.9,
                                                  unbiased=False, eps=1e-7)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization_options_pass_gradcheck(options, training, rng):
    C = 3
    running = (rng.standard_normal(C), rng.uniform(0.5, 2, C))

    def fn(x, gamma, beta):
        rm, rv = running[0].copy(), running[1].copy()
        return F.BatchNormalization(rm, rv, training, **options)(x, gamma, beta)

    assert gradcheck(fn, param(rng.standard_normal((5, C, 2))), param(rng.uniform(0.5, 2, C)),
                     param(rng.standard_normal(C)))


@pytest.mark.parametrize("call, words", [
    (lambda: F.BatchNormalization(momentum_of="book"), ["momentum_of", "'batch'", "'running'"]),
    (lambda: F.BatchNormalization(momentum=1.5), ["momentum must be in [0, 1]"]),
    (lambda: F.BatchNormalization()(np.zeros(3), np.ones(3), np.zeros(3)), ["(3,)", "reshape"]),
])
def test_batch_normalization_option_errors(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value)


def test_dropout_by_hand_inverted_by_default():
    zd.manual_seed(3)
    x = np.full((50, 40), 2.0)
    f = F.Dropout(0.25)
    y = f(x).data
    assert set(np.unique(y)) == {0.0, 2.0 / 0.75}
    dx = f.backward_by_hand(np.ones_like(x)).data
    np.testing.assert_array_equal(dx, (y != 0) / 0.75)
    np.testing.assert_array_equal(F.Dropout(0.25, training=False)(x).data, x)


def test_dropout_with_the_books_convention_is_not_inverted():
    """The book's Dropout: training multiplies by the 0/1 mask, evaluation by (1 - ratio)."""
    zd.manual_seed(5)
    x = np.full((200, 50), 3.0, np.float32)
    f = F.Dropout(0.4, training=True, inverted=False)
    y = f(x).data
    assert set(np.unique(y)) == {0.0, 3.0} and y.dtype == np.float32
    assert abs((y != 0).mean() - 0.6) < 0.01
    np.testing.assert_array_equal(f.backward_by_hand(np.ones_like(x)).data, (y != 0))
    e = F.Dropout(0.4, training=False, inverted=False)
    np.testing.assert_allclose(e(x).data, 3.0 * 0.6, rtol=1e-6)
    np.testing.assert_allclose(e.backward_by_hand(np.ones_like(x)).data, 0.6, rtol=1e-6)


def test_dropout_the_same_seed_gives_the_same_mask_in_either_convention():
    x = np.ones((6, 7))
    zd.manual_seed(11)
    inverted = F.Dropout(0.5)(x).data
    zd.manual_seed(11)
    book = F.Dropout(0.5, inverted=False)(x).data
    np.testing.assert_array_equal(inverted, book * 2.0)


def test_book_convention_dropout_passes_gradcheck(rng):
    def fn(x):
        zd.manual_seed(2)
        return F.Dropout(0.3, inverted=False)(x)

    assert gradcheck(fn, param(rng.standard_normal((4, 5))))
    assert gradcheck(lambda x: F.Dropout(0.3, training=False, inverted=False)(x),
                     param(rng.standard_normal((4, 5))))


def test_a_batch_of_one_is_fine_with_the_books_biased_variance():
    """The book's batch-norm gradient check trains on x_train[:1]: the variance of one value
    is 0, so every output is beta and no gradient reaches x, gamma gets none either."""
    x = param(np.array([[0.5, -2.0, 3.0]]))
    gamma, beta = param(np.ones(3)), param(np.array([0.1, 0.2, 0.3]))
    mean, var = np.zeros(3), np.zeros(3)
    y = F.batch_norm(x, gamma, beta, mean, var, training=True, momentum=0.9, eps=1e-6,
                     momentum_of="running", unbiased=False)
    np.testing.assert_allclose(y.data, [[0.1, 0.2, 0.3]])
    y.backward(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(x.grad.data, 0.0, atol=1e-12)
    np.testing.assert_allclose(beta.grad.data, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(mean, [0.05, -0.2, 0.3])  # 0.9·0 + 0.1·x
    np.testing.assert_allclose(var, 0.0)
