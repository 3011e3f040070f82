"""zerodl.book's optimizers, load_mnist, networks and Trainer."""

from __future__ import annotations

import math

import numpy as np
import pytest

import zerodl as zd
from zerodl import nn, optim
from zerodl.book import optimizer as bo
from zerodl.book.deep_convnet import DeepConvNet
from zerodl.book.gradient import numerical_gradient
from zerodl.book.mnist import load_mnist
from zerodl.book.multi_layer_net import MultiLayerNet
from zerodl.book.multi_layer_net_extend import MultiLayerNetExtend
from zerodl.book.simple_convnet import SimpleConvNet
from zerodl.book.trainer import Trainer
from zerodl.book.two_layer_net import TwoLayerNet


# ---------------------------------------------------------------- optimizers
def run_book(opt, start, grads):
    params = {k: v.copy() for k, v in start.items()}
    held = dict(params)  # the arrays the layers would hold
    for g in grads:
        opt.update(params, g)
    assert all(params[k] is held[k] for k in params)  # updated in place
    return params


def run_zerodl(make, start, grads):
    ps = {k: nn.Parameter(v.copy()) for k, v in start.items()}
    opt = make(list(ps.items()))
    for g in grads:
        for k, p in ps.items():
            p.grad = zd.Tensor(g[k])
        opt.step()
    return {k: p.data for k, p in ps.items()}


PAIRS = {
    "SGD": (lambda: bo.SGD(lr=0.1), lambda ps: optim.SGD(ps, lr=0.1)),
    "Momentum": (lambda: bo.Momentum(lr=0.1, momentum=0.9), lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)),
    "Nesterov": (lambda: bo.Nesterov(lr=0.1), lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)),
    "AdaGrad": (lambda: bo.AdaGrad(lr=0.5), lambda ps: optim.AdaGrad(ps, lr=0.5, eps=1e-7)),
    "RMSprop": (lambda: bo.RMSprop(lr=0.05, decay_rate=0.9),
                lambda ps: optim.RMSProp(ps, lr=0.05, alpha=0.9, eps=1e-7)),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_book_optimizer_equals_zerodl_optim_on_the_same_gradients(name, rng):
    start = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4)}
    grads = [{k: rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(5)]
    book, zerodl_opt = PAIRS[name]
    got, want = run_book(book(), start, grads), run_zerodl(zerodl_opt, start, grads)
    for k in start:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-14, atol=1e-15)


def test_momentum_is_the_books_velocity_rule(rng):
    start, g = {"w": rng.standard_normal(3)}, [{"w": rng.standard_normal(3)} for _ in range(4)]
    w, v = start["w"].copy(), np.zeros(3)
    for step in g:
        v = 0.9 * v - 0.01 * step["w"]
        w = w + v
    np.testing.assert_allclose(run_book(bo.Momentum(), start, g)["w"], w, rtol=1e-13)


def test_adam_is_the_books_formula_to_the_last_digit(rng):
    start = {"w": rng.standard_normal(6) * 1e-3}
    grads = [{"w": rng.standard_normal(6) * 10.0 ** -k} for k in range(8)]  # down to tiny gradients
    w, m, v = start["w"].copy(), np.zeros(6), np.zeros(6)
    for t, g in enumerate(grads, start=1):
        lr_t = 0.001 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        m += 0.1 * (g["w"] - m)
        v += 0.001 * (g["w"] ** 2 - v)
        w -= lr_t * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(run_book(bo.Adam(), start, grads)["w"], w, rtol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Momentum", "AdaGrad", "Adam"])
def test_optimizers_work_on_plain_numbers_as_chapter_6_does(name):
    opt, twin = bo.OPTIMIZERS[name.lower()](), bo.OPTIMIZERS[name.lower()]()
    params, arrays = {"x": -7.0, "y": 2.0}, {"x": np.array(-7.0), "y": np.array(2.0)}
    for _ in range(3):
        grads = {"x": params["x"] / 10.0, "y": 2.0 * params["y"]}  # ∇(x²/20 + y²)
        opt.update(params, grads)
        twin.update(arrays, {k: np.array(v) for k, v in grads.items()})
    assert isinstance(params["x"], float) and params["x"] != -7.0
    assert params == {k: float(v) for k, v in arrays.items()}


def test_sgd_on_the_2d_function_gives_the_books_first_step():
    params = {"x": -7.0, "y": 2.0}
    bo.SGD(lr=0.95).update(params, {"x": -7.0 / 10.0, "y": 4.0})
    assert params == {"x": pytest.approx(-6.335), "y": pytest.approx(-1.8)}


# ---------------------------------------------------------------- load_mnist
def test_load_mnist_shapes_dtypes_and_normalisation(data_root, monkeypatch):
    monkeypatch.setenv("ZERODL_DATA", str(data_root))
    (x, t), (xt, tt) = load_mnist()
    assert x.shape == (60000, 784) and x.dtype == np.float32 and xt.shape == (10000, 784)
    assert t.shape == (60000,) and t.dtype == np.uint8 and list(t[:5]) == [5, 0, 4, 1, 9]
    assert x.min() == 0.0 and x.max() == 1.0
    (raw, _), _ = load_mnist(normalize=False, flatten=False)
    assert raw.shape == (60000, 1, 28, 28) and raw.dtype == np.uint8 and raw.max() == 255
    np.testing.assert_array_equal(raw.reshape(60000, -1)[:100] / np.float32(255), x[:100])
    (_, hot), (_, hot_t) = load_mnist(one_hot_label=True)
    assert hot.shape == (60000, 10) and hot.dtype == np.float64
    np.testing.assert_array_equal(hot.sum(axis=1), 1.0)
    np.testing.assert_array_equal(hot.argmax(axis=1), t)
    np.testing.assert_array_equal(hot_t.argmax(axis=1), tt)


# ---------------------------------------------------------------- networks: backprop vs central differences
def max_difference(net, x, t):
    num, back = net.numerical_gradient(x, t), net.gradient(x, t)
    assert sorted(num) == sorted(back) == sorted(net.params)
    return {k: float(np.max(np.abs(num[k] - back[k]))) for k in num}


NETWORKS = {
    "TwoLayerNet": lambda: TwoLayerNet(6, 10, 3, weight_init_std=0.5),
    "TwoLayerNet sigmoid": lambda: TwoLayerNet(6, 10, 3, weight_init_std=0.5, activation="sigmoid"),
    "MultiLayerNet + weight decay": lambda: MultiLayerNet(6, [10, 8], 3, weight_decay_lambda=0.1),
    "MultiLayerNet sigmoid": lambda: MultiLayerNet(6, [10, 8], 3, activation="sigmoid",
                                                   weight_init_std="xavier"),
    "MultiLayerNetExtend + batch norm": lambda: MultiLayerNetExtend(
        6, [10, 8], 3, use_batchnorm=True, weight_decay_lambda=0.05),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network_backprop_matches_numerical_gradient(name, rng):
    zd.manual_seed(0)
    net = NETWORKS[name]()
    x, t = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    worst = max_difference(net, x, t)
    assert max(worst.values()) < 1e-6, worst


def test_simple_convnet_backprop_matches_numerical_gradient(rng):
    zd.manual_seed(0)
    net = SimpleConvNet(input_dim=(1, 6, 6), conv_param={"filter_num": 2, "filter_size": 3,
                                                           "pad": 0, "stride": 1},
                        hidden_size=4, output_size=3, weight_init_std=0.3)
    x, t = rng.standard_normal((3, 1, 6, 6)), np.array([0, 2, 1])
    worst = max_difference(net, x, t)
    assert max(worst.values()) < 1e-6, worst


def test_simple_convnet_names_its_layers_as_the_books(tmp_path, rng):
    zd.manual_seed(0)
    net = SimpleConvNet(input_dim=(1, 8, 8), hidden_size=5)
    assert list(net.layers) == ["Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"]
    assert net.layers["Conv1"].W is net.params["W1"] and net.layers["Affine2"].b is net.params["b3"]
    path = tmp_path / "params.npz"
    net.save_params(str(path))
    other = SimpleConvNet(input_dim=(1, 8, 8), hidden_size=5)
    other.load_params(str(path))
    assert other.layers["Affine1"].W is other.params["W2"]
    np.testing.assert_array_equal(other.layers["Affine1"].W, net.params["W2"])


def test_deep_convnet_shapes_and_backprop_on_one_weight(rng):
    zd.manual_seed(0)
    net = DeepConvNet()
    assert [net.params[f"W{i}"].shape for i in (1, 4, 7, 8)] == [(16, 1, 3, 3), (32, 32, 3, 3),
                                                               (1024, 50), (50, 10)]
    x, t = rng.uniform(0, 1, (2, 1, 28, 28)), np.array([3, 7])
    zd.manual_seed(5)
    grads = net.gradient(x, t)

    def loss(_):  # with dropout's masks fixed the loss is smooth in b8 and W8
        zd.manual_seed(5)
        return net.loss(x, t)

    for key in ("b8", "b7"):
        np.testing.assert_allclose(grads[key], numerical_gradient(loss, net.params[key]), atol=1e-8)
    assert 0.0 <= net.accuracy(x, t) <= 1.0


def test_save_and_load_params_round_trip_without_pickle(tmp_path, rng):
    zd.manual_seed(0)
    net = SimpleConvNet(input_dim=(1, 8, 8), hidden_size=5)
    path = tmp_path / "params.pkl"
    net.save_params(str(path))
    assert path.read_bytes()[:2] == b"PK"  # an npz, whatever the name
    other = SimpleConvNet(input_dim=(1, 8, 8), hidden_size=5)
    other.load_params(str(path))
    x = rng.standard_normal((3, 1, 8, 8))
    np.testing.assert_array_equal(other.predict(x), net.predict(x))


# ---------------------------------------------------------------- Trainer
def test_trainer_runs_epochs_and_learns(data_root, monkeypatch):
    monkeypatch.setenv("ZERODL_DATA", str(data_root))
    (x, t), (xt, tt) = load_mnist()
    zd.manual_seed(0)
    net = MultiLayerNet(784, [50], 10)
    trainer = Trainer(net, x[:1000], t[:1000], xt[:500], tt[:500], epochs=4, mini_batch_size=100,
                      optimizer="Adam", optimizer_param={"lr": 0.01}, verbose=False)
    final = trainer.train()
    assert trainer.max_iter == 40 and len(trainer.train_loss_list) == 40
    assert len(trainer.train_acc_list) == len(trainer.test_acc_list) == 4  # at steps 0, 10, 20, 30
    assert trainer.train_acc_list[0] < 0.3 and trainer.train_acc_list[-1] > 0.85
    assert final > 0.8
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        Trainer(net, x[:10], t[:10], xt[:10], tt[:10], optimizer="lbfgs")
