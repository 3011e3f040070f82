"""Modules: registration and names, state dicts, modes, dtype discipline, layers and init."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl import nn
from zerodl.numerical import numerical_gradient


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(np.ones((2, 3), np.float32))
        self.scale = 2.0                                  # a plain attribute: not registered
        self.inner = nn.Linear(3, 4)
        self.heads = [nn.Linear(4, 1), nn.Linear(4, 2)]   # a list becomes a ModuleList
        self.register_buffer("count", np.zeros(1, np.int64))
        self.b = nn.Parameter(np.zeros(3, np.float32))


def assert_model_gradients(model, loss_fn, atol=1e-6, rtol=1e-4):
    """Backprop gradients of every parameter against central differences (model in float64)."""
    model.zero_grad()
    loss_fn().backward()
    for name, p in model.named_parameters():
        numeric = numerical_gradient(lambda _: loss_fn().item(), p.data, h=1e-5)
        np.testing.assert_allclose(p.grad.data, numeric, atol=atol, rtol=rtol, err_msg=name)


# ---------------------------------------------------------------- Parameter
def test_parameter_keeps_the_arrays_dtype_and_requires_grad():
    p64 = nn.Parameter(np.zeros(3))
    assert p64.dtype == np.float64 and p64.requires_grad and isinstance(p64, zd.Tensor)
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    arr = np.ones(2, np.float32)
    assert nn.Parameter(arr).data is arr
    assert repr(nn.Parameter(np.array([1.5], np.float32))) == "Parameter([1.5], requires_grad=True)"


# ---------------------------------------------------------------- registration and names
def test_parameters_are_registered_in_definition_order_with_dotted_names():
    names = [name for name, _ in Block().named_parameters()]
    assert names == ["W", "b", "inner.W", "inner.b", "heads.0.W", "heads.0.b",
                     "heads.1.W", "heads.1.b"]
    m = Block()
    assert m.parameters()[0] is m.W and m.parameters()[2] is m.inner.W
    assert isinstance(m.heads, nn.ModuleList) and len(m.heads) == 2
    assert [n for n, _ in m.named_buffers()] == ["count"]
    assert [n for n, _ in m.named_modules()] == ["", "inner", "heads", "heads.0", "heads.1"]
    assert m.children() == [m.inner, m.heads]


def test_sequential_names_layers_by_position():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert [n for n, _ in net.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert isinstance(net[1], nn.ReLU) and len(net) == 3
    net.append(nn.Sigmoid())
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "Sigmoid"]


def test_replacing_a_layer_keeps_its_place_in_forward_and_state_dict():
    x = np.array([[1.0, -2.0]], np.float32)
    for replace in ("add_module", "setitem", "negative index"):
        net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
        net[0].W.data[...] = np.eye(2)
        net[2].W.data[...] = [[1.0], [1.0]]
        if replace == "add_module":
            net.add_module("1", nn.Identity())
        elif replace == "setitem":
            net[1] = nn.Identity()
        else:
            net[-2] = nn.Identity()
        assert [name for name, _ in net.named_children()] == ["0", "1", "2"], replace
        assert isinstance(net[1], nn.Identity) and len(net) == 3
        # Linear -> Identity -> Linear: 1 + (-2) = -1; the old order would have applied ReLU last (0)
        assert net(x).data.tolist() == [[-1.0]], replace
    assert list(net.state_dict()) == ["0.W", "2.W"]


def test_reassigning_a_parameter_keeps_its_place():
    m = Block()
    m.W = nn.Parameter(np.zeros((2, 3), np.float32))
    assert [n for n, _ in m.named_parameters()][:3] == ["W", "b", "inner.W"]
    assert list(m.state_dict())[:3] == ["W", "b", "count"]
    m.inner = nn.Linear(3, 4)
    assert [n for n, _ in m.named_children()] == ["inner", "heads"]


def test_sequential_setitem_refuses_a_missing_index_or_a_non_module():
    net = nn.Sequential(nn.ReLU(), nn.Tanh())
    with pytest.raises(IndexError, match="no layer 2 to replace; it has 2 layers"):
        net[2] = nn.ReLU()
    with pytest.raises(TypeError, match="must be a Module, got function"):
        net[0] = F.relu


def test_forward_hooks_see_every_layers_output_and_can_be_removed():
    zd.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2), nn.Sigmoid())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    outputs = []
    handles = [layer.register_forward_hook(lambda m, inputs, y: outputs.append((m, inputs, y.data)))
               for layer in net if isinstance(layer, nn.Sigmoid)]
    y = net(x)
    assert [m for m, _, _ in outputs] == [net[1], net[3]]
    np.testing.assert_array_equal(outputs[0][2], net[1](net[0](x)).data)
    np.testing.assert_array_equal(outputs[1][2], y.data)
    assert outputs[1][1][0] is not None and len(outputs[1][1]) == 1   # the positional inputs
    for h in handles:
        h.remove()
    outputs.clear()
    net(x)
    assert outputs == []


def test_a_forward_hook_may_replace_the_output_and_works_as_a_context_manager():
    layer = nn.ReLU()
    with layer.register_forward_hook(lambda m, inputs, y: y * 2):
        assert layer(np.array([-1.0, 3.0])).data.tolist() == [0.0, 6.0]
    assert layer(np.array([-1.0, 3.0])).data.tolist() == [0.0, 3.0]
    with pytest.raises(TypeError, match="hook must be callable"):
        layer.register_forward_hook("print")


def test_reassigning_or_deleting_an_attribute_unregisters_it():
    m = Block()
    m.W = None
    del m.inner
    assert [n for n, _ in m.named_parameters()][:2] == ["b", "heads.0.W"]
    m.W = nn.Parameter(np.zeros(1))                  # registered again, now after b
    assert [n for n, _ in m.named_parameters()][:3] == ["b", "W", "heads.0.W"]


def test_shared_parameter_is_listed_once():
    a = nn.Linear(2, 2)
    net = nn.Sequential(a, a)
    assert len(net.parameters()) == 2


def test_assigning_before_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.W = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) before assigning 'W'"):
        Bad()


# ---------------------------------------------------------------- state dicts
def test_state_dict_copies_parameters_and_buffers():
    m = Block()
    state = m.state_dict()
    assert list(state) == ["W", "b", "count", "inner.W", "inner.b", "heads.0.W", "heads.0.b",
                           "heads.1.W", "heads.1.b"]
    state["W"][...] = 5.0
    assert m.W.data[0, 0] == 1.0                         # a copy, not the parameter itself
    assert state["count"].dtype == np.int64


def test_batchnorm_buffers_are_in_the_state_dict():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    state = net.state_dict()
    assert list(state) == ["0.W", "0.b", "1.gamma", "1.beta", "1.running_mean", "1.running_var"]
    np.testing.assert_array_equal(state["1.running_var"], np.ones(4, np.float32))
    assert [n for n, _ in net.named_parameters()] == ["0.W", "0.b", "1.gamma", "1.beta"]


def test_load_state_dict_copies_into_the_existing_arrays_keeping_dtype(rng):
    a, b = Block(), Block()
    state = {k: rng.standard_normal(v.shape) if v.dtype.kind == "f" else v + 3
             for k, v in a.state_dict().items()}
    w_array = b.inner.W.data
    assert b.load_state_dict(state) == ([], [])
    assert b.inner.W.data is w_array and w_array.dtype == np.float32
    np.testing.assert_array_equal(w_array, state["inner.W"].astype(np.float32))
    assert b.count[0] == 3


def test_load_state_dict_strict_error_lists_every_problem():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    state = net.state_dict()
    del state["1.b"]
    state["2.W"] = np.zeros((1, 1))
    state["0.W"] = np.zeros((4, 3))
    before = net[0].b.data.copy()
    state["0.b"] = before + 1
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(state)
    msg = str(err.value)
    assert "missing keys (1): 1.b" in msg
    assert "unexpected keys (1): 2.W" in msg
    assert "shape mismatch for 0.W: expected (3, 4), got (4, 3)" in msg
    np.testing.assert_array_equal(net[0].b.data, before)   # nothing was copied


def test_load_state_dict_non_strict_reports_and_loads_the_rest():
    net = nn.Sequential(nn.Linear(2, 2))
    result = net.load_state_dict({"0.W": np.eye(2), "extra": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["0.b"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net[0].W.data, np.eye(2, dtype=np.float32))
    with pytest.raises(RuntimeError, match="shape mismatch for 0.W"):
        net.load_state_dict({"0.W": np.eye(3)}, strict=False)


# ---------------------------------------------------------------- modes, gradients, dtype
def test_train_and_eval_reach_every_submodule():
    net = nn.models.MLP([4, 3, 3, 2], batchnorm=True, dropout=0.5)
    assert net.eval() is net
    assert [m.training for m in net.modules()] == [False] * len(net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.layers.train(False)
    assert net.training and not net.layers[1].training


def test_zero_grad_forgets_gradients():
    lin = nn.Linear(3, 2)
    F.sum(lin(np.ones((1, 3), np.float32))).backward()
    assert lin.W.grad is not None
    lin.zero_grad()
    assert lin.W.grad is None and lin.b.grad is None


def test_float32_model_stays_float32_through_forward_and_backward(rng):
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    x = rng.standard_normal((6, 5)).astype(np.float32)
    y = net(x)
    loss = nn.CrossEntropyLoss()(y, np.array([0, 1, 2, 0, 1, 2])) * np.float64(2.0)
    assert y.dtype == np.float32 and loss.dtype == np.float32
    loss.backward()
    assert [p.grad.dtype for p in net.parameters()] == [np.float32] * 4


def test_double_converts_parameters_and_buffers():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    w = net[0].W.data.copy()
    assert net.double() is net
    assert {p.dtype for p in net.parameters()} == {np.dtype(np.float64)}
    assert {b.dtype for b in net.buffers()} == {np.dtype(np.float64)}
    np.testing.assert_array_equal(net[0].W.data, w)
    net.float()
    assert net[1].running_mean.dtype == np.float32 and net[0].W.dtype == np.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(np.int32)


def test_repr_draws_the_tree():
    net = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU())
    assert repr(net) == ("Sequential(\n"
                         "  (0): Linear(in_features=2, out_features=3, bias=False)\n"
                         "  (1): ReLU()\n"
                         ")")


# ---------------------------------------------------------------- layers
def test_linear_is_the_books_affine(rng):
    lin = nn.Linear(3, 2)
    assert lin.W.shape == (3, 2) and lin.b.shape == (2,)
    assert lin.W.dtype == np.float32 and not lin.b.data.any()
    lin.b.data[:] = [1.0, -1.0]
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(lin(x).data, x @ lin.W.data + [1.0, -1.0], rtol=1e-6)
    assert nn.Linear(3, 2, bias=False).named_parameters()[-1][0] == "W"


def test_conv2d_parameters_have_the_books_layout():
    conv = nn.Conv2d(3, 8, (5, 3), stride=2, pad=1)
    assert conv.W.shape == (8, 3, 5, 3) and conv.b.shape == (8,)
    assert [n for n, _ in conv.named_parameters()] == ["W", "b"]
    assert conv.W.dtype == np.float32


@pytest.mark.parametrize("kernel_size", [(3, 3, 3), "a"])
def test_conv2d_refuses_a_kernel_size_that_is_no_pair_naming_it(kernel_size):
    expected = r"Conv2d: kernel_size must be an int or an \(h, w\) pair"
    with pytest.raises((ValueError, TypeError), match=expected):
        nn.Conv2d(1, 2, kernel_size)


def test_activation_and_loss_modules_call_their_functions(rng):
    x = zd.tensor(rng.standard_normal((3, 4)))
    for module, fn in [(nn.ReLU(), F.relu), (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh),
                       (nn.Step(), F.step), (nn.Softmax(), F.softmax), (nn.Identity(), F.identity)]:
        np.testing.assert_array_equal(module(x).data, fn(x).data, err_msg=type(module).__name__)
    t = np.array([0, 3, 1])
    assert nn.CrossEntropyLoss()(x, t).item() == F.cross_entropy(x, t).item()
    assert nn.MSELoss()(x, x.data * 0).item() == pytest.approx(np.mean(x.data ** 2))
    assert nn.Flatten()(zd.tensor(np.zeros((2, 3, 4, 5)))).shape == (2, 60)


def test_batchnorm_layer_switches_between_batch_and_running_statistics(rng):
    bn = nn.BatchNorm1d(3)
    x = rng.standard_normal((50, 3)).astype(np.float32) * 4 + 10
    y = bn(x)
    np.testing.assert_allclose(y.data.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0), rtol=1e-5)
    bn.eval()
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*\(N, D\).*shape \(2, 4\)"):
        bn(np.zeros((2, 4), np.float32))


def test_dropout_layer_is_the_identity_in_evaluation(rng):
    drop = nn.Dropout(0.5)
    x = np.ones((200, 50), np.float32)
    kept = drop(x).data
    assert set(np.unique(kept)) == {0.0, 2.0}
    assert abs(kept.mean() - 1.0) < 0.05
    np.testing.assert_array_equal(drop.eval()(x).data, x)


def test_linear_batchnorm_relu_cross_entropy_gradients_in_training_mode(rng):
    net = nn.Sequential(nn.Linear(4, 5, rng=rng), nn.BatchNorm1d(5), nn.ReLU(),
                        nn.Linear(5, 3, rng=rng)).double()
    x = rng.standard_normal((6, 4))
    t = np.array([0, 1, 2, 2, 1, 0])
    with zd.no_grad():
        h = net[1](net[0](x)).data
    assert np.abs(h).min() > 1e-2        # ReLU inputs away from the kink, where differences fail
    assert net.training
    assert_model_gradients(net, lambda: F.cross_entropy(net(x), t))


def test_linear_tanh_mse_gradients(rng):
    net = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.Tanh(), nn.Linear(4, 2, rng=rng)).double()
    x, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    assert_model_gradients(net, lambda: F.mse_loss(net(x), t))


# ---------------------------------------------------------------- init
@pytest.mark.parametrize("fn, shape, std", [
    (nn.init.he_normal, (400, 300), np.sqrt(2 / 400)),
    (nn.init.he_normal, (64, 16, 3, 3), np.sqrt(2 / (16 * 9))),
    (nn.init.xavier_normal, (400, 300), np.sqrt(1 / 400)),
    (lambda shape, rng: nn.init.normal(shape, 0.01, rng), (400, 300), 0.01),
])
def test_init_std_and_dtype(fn, shape, std):
    w = fn(shape, rng=np.random.default_rng(0))
    assert w.dtype == np.float32 and w.shape == shape
    assert w.std() == pytest.approx(std, rel=0.02)
    assert abs(w.mean()) < 0.05 * std


def test_init_follows_the_library_seed():
    zd.manual_seed(3)
    a = nn.Linear(5, 4).W.data.copy()
    zd.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(5, 4).W.data, a)
    assert nn.init.he_normal((3, 3), dtype=np.float64).dtype == np.float64
    assert nn.init.fan_in((8, 3, 5, 5)) == 75 and nn.init.fan_in((784, 100)) == 784
    with pytest.raises(ValueError, match="unknown initialisation 'glorot'"):
        nn.Linear(2, 2, init="glorot")
