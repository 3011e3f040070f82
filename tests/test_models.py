"""The book's networks: layer structure, parameter counts, output shapes, gradients, training."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl import nn, optim
from zerodl.nn.models import MLP, DeepConvNet, SimpleConvNet
from zerodl.numerical import numerical_gradient


def count(model) -> int:
    return sum(p.size for p in model.parameters())


def kinds(model) -> list[str]:
    return [type(m).__name__ for m in model.layers]


def books_order(names: list[str]) -> list[str]:
    """Layer kinds with each MaxPool2d put back after the ReLU it runs before (the book's
    order; zerodl pools first, which gives the same result: see the test at the end)."""
    out = []
    for name in names:
        if name == "ReLU" and out and out[-1] == "MaxPool2d":
            out.insert(len(out) - 1, name)
        else:
            out.append(name)
    return out


# ---------------------------------------------------------------- MLP
def test_mlp_is_the_books_two_layer_net():
    net = MLP([784, 50, 10])
    assert [(n, p.shape) for n, p in net.named_parameters()] == [
        ("layers.0.W", (784, 50)), ("layers.0.b", (50,)),
        ("layers.2.W", (50, 10)), ("layers.2.b", (10,))]
    assert count(net) == 784 * 50 + 50 + 50 * 10 + 10 == 39760
    y = net(np.zeros((3, 1, 28, 28), np.float32))          # images are flattened
    assert y.shape == (3, 10) and y.dtype == np.float32


def test_mlp_is_the_books_multi_layer_net_extend():
    net = MLP([784, 100, 100, 10], activation="sigmoid", batchnorm=True, dropout=0.5)
    assert kinds(net) == ["Linear", "BatchNorm1d", "Sigmoid", "Dropout",
                          "Linear", "BatchNorm1d", "Sigmoid", "Dropout", "Linear"]
    assert count(net) == (784 * 100 + 100) + (100 * 100 + 100) + (100 * 10 + 10) + 2 * 2 * 100
    assert count(MLP([784] + [100] * 6 + [10])) == 130010   # the book's 6 hidden layers


def test_mlp_takes_the_books_batchnorm_conventions():
    book = {"eps": 1e-6, "running_var_init": 0.0, "unbiased": False}
    net = MLP([3, 4, 2], batchnorm=book)
    bn = net.layers[1]
    assert (bn.eps, bn.momentum, bn.unbiased) == (1e-6, 0.1, False)
    np.testing.assert_array_equal(bn.running_var, np.zeros(4, np.float32))
    assert "running_var_init=0.0" in repr(bn) and "unbiased=False" in repr(bn)
    default = MLP([3, 4, 2], batchnorm=True).layers[1]
    assert default.eps == 1e-5 and default.running_var.tolist() == [1.0] * 4
    with pytest.raises(ValueError, match=r"unknown batchnorm options \['epsilon'\]"):
        MLP([3, 4, 2], batchnorm={"epsilon": 1e-7})


def test_batchnorm_eps_and_running_start_by_hand():
    x = np.array([[1.0, 0.0], [3.0, 4.0], [5.0, 2.0], [7.0, 2.0]], np.float32)
    bn = nn.BatchNorm1d(2, eps=1e-3, running_var_init=0.0, unbiased=False)
    bn(x)                                                     # training: one update
    mean, var = x.mean(axis=0), x.var(axis=0)                 # biased: [5, 2]
    np.testing.assert_allclose(bn.running_mean, 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(bn.running_var, 0.1 * var, rtol=1e-6)   # from 0, not from 1
    bn.eval()
    expected = (x - 0.1 * mean) / np.sqrt(0.1 * var + 1e-3)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-5)
    unbiased = nn.BatchNorm1d(2)
    unbiased(x)
    np.testing.assert_allclose(unbiased.running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-6)
    with pytest.raises(ValueError, match="eps must be positive"):
        nn.BatchNorm2d(3, eps=0.0)


@pytest.mark.parametrize("init, std", [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(1 / 400)),
                                       (0.01, 0.01)])
def test_mlp_init(init, std):
    w = MLP([400, 300, 2], init=init).layers[0].W.data
    assert w.dtype == np.float32 and w.std() == pytest.approx(std, rel=0.02)


def test_mlp_rejects_unknown_settings():
    with pytest.raises(ValueError, match="unknown activation 'relu6'"):
        MLP([2, 2], activation="relu6")
    with pytest.raises(ValueError, match="input and output widths"):
        MLP([2])


def test_mlp_learns_xor_with_sgd():
    zd.manual_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    t = np.array([0, 1, 1, 0])
    net = MLP([2, 16, 2], activation="tanh", init="xavier")
    opt = optim.SGD(net.named_parameters(), lr=0.5, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(200):
        opt.zero_grad()
        loss = loss_fn(net(x), t)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    assert (net(x).data.argmax(axis=1) == t).all()
    assert all(p.dtype == np.float32 for p in net.parameters())


# ---------------------------------------------------------------- convolutional networks
def test_simple_conv_net_has_the_books_parameters():
    net = SimpleConvNet()
    assert kinds(net) == ["Conv2d", "MaxPool2d", "ReLU", "Flatten", "Linear", "ReLU", "Linear"]
    assert books_order(kinds(net)) == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU",
                                       "Linear"]
    assert [(n, p.shape) for n, p in net.named_parameters()] == [
        ("layers.0.W", (30, 1, 5, 5)), ("layers.0.b", (30,)),
        ("layers.4.W", (30 * 12 * 12, 100)), ("layers.4.b", (100,)),
        ("layers.6.W", (100, 10)), ("layers.6.b", (10,))]
    assert count(net) == 433890


def test_deep_conv_net_has_the_books_parameters():
    net = DeepConvNet()
    assert books_order(kinds(net)) == (["Conv2d", "ReLU"] * 2 + ["MaxPool2d"]) * 3 + [
        "Flatten", "Linear", "ReLU", "Dropout", "Linear"]          # no dropout on the logits
    assert kinds(net)[:5] == ["Conv2d", "ReLU", "Conv2d", "MaxPool2d", "ReLU"]
    convs = [m for m in net.layers if isinstance(m, nn.Conv2d)]
    assert [(c.W.shape, c.pad) for c in convs] == [
        ((16, 1, 3, 3), 1), ((16, 16, 3, 3), 1), ((32, 16, 3, 3), 1), ((32, 32, 3, 3), 2),
        ((64, 32, 3, 3), 1), ((64, 64, 3, 3), 1)]
    linears = [m for m in net.layers if isinstance(m, nn.Linear)]
    assert [lin.W.shape for lin in linears] == [(64 * 4 * 4, 50), (50, 10)]
    assert count(net) == 123552
    # He initialisation with the book's fan-ins (1·3·3, 16·3·3, …, 64·4·4, 50)
    assert convs[5].W.data.std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.05)


def test_conv_nets_output_logits_of_the_right_shape(rng):
    x = rng.standard_normal((2, 1, 28, 28)).astype(np.float32)
    for net in (SimpleConvNet(), DeepConvNet()):
        y = net(x)
        assert y.shape == (2, 10) and y.dtype == np.float32, type(net).__name__
    flat = SimpleConvNet()(x.reshape(2, 784))                     # flat MNIST rows work too
    assert flat.shape == (2, 10)


def test_deep_conv_net_is_deterministic_in_evaluation(rng):
    net = DeepConvNet().eval()
    x = rng.standard_normal((2, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(net(x).data, net(x).data)


def test_tiny_conv_net_gradients_match_central_differences(rng):
    net = nn.Sequential(nn.Conv2d(2, 3, 3, pad=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(3 * 2 * 2, 3, rng=rng)).double()
    x = rng.standard_normal((2, 2, 4, 4))
    t = np.array([2, 0])
    with zd.no_grad():
        h = net[0](x).data
    # ReLU inputs away from the kink; pooling ties can then only be among zeros, which
    # receive no gradient either way.
    assert np.abs(h).min() > 1e-3

    def loss_fn():
        return F.cross_entropy(net(x), t)

    loss_fn().backward()
    for name, p in net.named_parameters():
        numeric = numerical_gradient(lambda _: loss_fn().item(), p.data, h=1e-6)
        np.testing.assert_allclose(p.grad.data, numeric, atol=1e-6, rtol=1e-4, err_msg=name)


def test_simple_conv_net_training_step_lowers_the_loss(rng):
    zd.manual_seed(1)
    net = SimpleConvNet(input_shape=(1, 12, 12), filter_num=4, hidden_size=16, output_size=3)
    x = rng.standard_normal((12, 1, 12, 12)).astype(np.float32)
    t = rng.integers(0, 3, size=12)
    opt = optim.Adam(net.named_parameters(), lr=0.01)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.dtype == np.float32 for p in net.parameters())


@pytest.mark.parametrize("make", [SimpleConvNet, lambda: DeepConvNet(dropout=0.0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pooling_before_relu_gives_the_books_order_results_to_the_last_bit(make, dtype, rng):
    """The networks pool before the ReLU that the book puts first: same loss, same gradients."""
    zd.manual_seed(0)
    net = make()
    for p in net.parameters():
        p.data = p.data.astype(dtype)
    books = []  # the book's order: each pool moved back after its ReLU
    for layer in net.layers:
        if isinstance(layer, nn.ReLU) and books and isinstance(books[-1], nn.MaxPool2d):
            books.insert(len(books) - 1, layer)
        else:
            books.append(layer)
    book_net = nn.Sequential(*books)
    assert [type(m).__name__ for m in book_net][:3] == (
        ["Conv2d", "ReLU", "MaxPool2d"] if make is SimpleConvNet else ["Conv2d", "ReLU", "Conv2d"])
    x = rng.standard_normal((6, 1, 28, 28)).astype(dtype)
    x[:, :, :8] = -1.0  # windows of negative values only: the ties that ReLU makes
    t = np.arange(6) % 10
    grads = []
    for model in (net.layers, book_net):
        net.zero_grad()
        loss = F.cross_entropy(model(zd.Tensor(x)), t)
        loss.backward()
        grads.append((loss.item(), [p.grad.data.copy() for p in net.parameters()]))
    assert grads[0][0] == grads[1][0]
    for a, b in zip(grads[0][1], grads[1][1]):
        np.testing.assert_array_equal(a, b)
