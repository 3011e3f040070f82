"""Every operation: float64 gradcheck, forward values against NumPy, float32 discipline."""

from __future__ import annotations

import math

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl.gradcheck_cases import CASES
from zerodl.numerical import gradcheck


def leaf(values, dtype=np.float64) -> zd.Tensor:
    return zd.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------- the registry of zerodl gradcheck
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_registered_case_passes_gradcheck(case):
    inputs = case.make_inputs(np.random.default_rng(0))
    assert all(x.dtype == np.float64 for x in inputs)
    assert gradcheck(case.fn, *inputs, atol=case.atol, rtol=case.rtol)


def test_registry_covers_every_public_operation():
    names = " ".join(c.name for c in CASES)
    public = ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "clip",
              "maximum", "minimum", "where", "sum", "mean", "max", "min", "reshape", "transpose",
              "broadcast_to", "sum_to", "concat", "stack", "pad", "getitem", "matmul", "linear",
              "step", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus", "identity",
              "softmax", "log_softmax", "mse_loss", "cross_entropy",
              "binary_cross_entropy_with_logits"]
    assert [p for p in public if p not in names] == []


# ---------------------------------------------------------------- float32 stays float32
def _float32_inputs(case):
    return [leaf(x.data, np.float32) for x in case.make_inputs(np.random.default_rng(0))]


class Probe(zd.Function):
    """y = x, recording the dtype of the gradient that the next operation sends back."""

    def __init__(self, seen: list):
        self.seen = seen

    def forward(self, x):
        return x

    def backward(self, gy):
        self.seen.append(gy.dtype)
        return gy


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_float32_graph_stays_float32_forward_and_backward(case):
    leaves = _float32_inputs(case)
    seen: list = []  # what the operation's backward produced (a leaf's .grad is cast anyway)
    out = case.fn(*[Probe(seen)(x) for x in leaves])
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert seen == [np.float32] * len(leaves)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_float32_graph_stays_float32_with_create_graph(case):
    leaves = _float32_inputs(case)
    out = case.fn(*leaves)
    out.backward(np.ones(out.shape, dtype=np.float32), create_graph=True)
    assert [x.grad.dtype for x in leaves if x.grad is not None] == [np.float32] * len(leaves)


@pytest.mark.parametrize("loss", [F.mse_loss, F.binary_cross_entropy_with_logits, F.cross_entropy])
def test_integer_targets_join_a_float32_loss_as_float32(loss):
    """0/1 targets given as ints would make every (y - t) a float64 temporary."""
    y = leaf([[0.5, -1.5], [2.0, 0.25]], np.float32)
    out = loss(y, np.array([[0, 1], [1, 0]]))
    assert out.creator.inputs[1].dtype == np.float32
    same = loss(y, np.array([[0.0, 1.0], [1.0, 0.0]], np.float32))
    assert out.item() == same.item()


def test_cross_entropy_keeps_integer_labels_integer():
    y = leaf([[0.5, -1.5], [2.0, 0.25]], np.float32)
    assert F.cross_entropy(y, np.array([1, 0])).creator.inputs[1].dtype.kind == "i"


# ---------------------------------------------------------------- forward values against NumPy
def _erf(a):
    return np.vectorize(math.erf)(a)


X = np.linspace(-3, 3, 12).reshape(3, 4)
P = np.linspace(0.5, 2.5, 12).reshape(3, 4)
Y = np.linspace(2, -1, 4)
LABELS = np.array([3, 0, 2])


def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


FORWARD = {
    "add": (lambda: F.add(X, Y), X + Y),
    "sub": (lambda: F.sub(Y, X), Y - X),
    "mul": (lambda: F.mul(X, Y), X * Y),
    "div": (lambda: F.div(X, P), X / P),
    "neg": (lambda: F.neg(X), -X),
    "pow": (lambda: F.pow(P, 2.5), P ** 2.5),
    "pow tensor": (lambda: F.pow(P, zd.Tensor(X)), P ** X),
    "exp": (lambda: F.exp(X), np.exp(X)),
    "log": (lambda: F.log(P), np.log(P)),
    "sqrt": (lambda: F.sqrt(P), np.sqrt(P)),
    "abs": (lambda: F.abs(X), np.abs(X)),
    "clip": (lambda: F.clip(X, -1.0, 0.5), np.clip(X, -1.0, 0.5)),
    "clip lower only": (lambda: F.clip(X, lo=0.0), np.maximum(X, 0.0)),
    "maximum": (lambda: F.maximum(X, Y), np.maximum(X, Y)),
    "minimum": (lambda: F.minimum(X, Y), np.minimum(X, Y)),
    "where": (lambda: F.where(X > 0, X, Y), np.where(X > 0, X, Y)),
    "sum": (lambda: F.sum(X), X.sum()),
    "mean axis": (lambda: F.mean(X, axis=0), X.mean(axis=0)),
    "max axis": (lambda: F.max(X, axis=1), X.max(axis=1)),
    "min": (lambda: F.min(X), X.min()),
    "reshape": (lambda: F.reshape(X, (4, -1)), X.reshape(4, 3)),
    "transpose": (lambda: F.transpose(X), X.T),
    "broadcast_to": (lambda: F.broadcast_to(Y, (2, 3, 4)), np.broadcast_to(Y, (2, 3, 4))),
    "sum_to": (lambda: F.sum_to(zd.Tensor(X), (1, 4)), X.sum(axis=0, keepdims=True)),
    "concat": (lambda: F.concat([X, P], axis=0), np.concatenate([X, P])),
    "stack": (lambda: F.stack([X, P], axis=1), np.stack([X, P], axis=1)),
    "pad": (lambda: F.pad(X, 1, value=-9.0), np.pad(X, 1, constant_values=-9.0)),
    "getitem": (lambda: F.getitem(zd.Tensor(X), (slice(None), [3, 3, 0])), X[:, [3, 3, 0]]),
    "matmul": (lambda: F.matmul(X, P.T), X @ P.T),
    "linear": (lambda: F.linear(X, P.T, Y[:3]), X @ P.T + Y[:3]),
    "step": (lambda: F.step(X), (X > 0).astype(float)),
    "sigmoid": (lambda: F.sigmoid(X), 1 / (1 + np.exp(-X))),
    "tanh": (lambda: F.tanh(X), np.tanh(X)),
    "relu": (lambda: F.relu(X), np.maximum(X, 0)),
    "leaky_relu": (lambda: F.leaky_relu(X, 0.1), np.where(X > 0, X, 0.1 * X)),
    "gelu": (lambda: F.gelu(X), X * 0.5 * (1 + _erf(X / np.sqrt(2)))),
    "gelu tanh": (lambda: F.gelu(X, approximate="tanh"),
                  0.5 * X * (1 + np.tanh(np.sqrt(2 / np.pi) * (X + 0.044715 * X ** 3)))),
    "softplus": (lambda: F.softplus(X), np.log1p(np.exp(X))),
    "identity": (lambda: F.identity(X), X),
    "softmax": (lambda: F.softmax(X), _softmax(X)),
    "softmax axis=0": (lambda: F.softmax(X, axis=0), _softmax(X, axis=0)),
    "log_softmax": (lambda: F.log_softmax(X), np.log(_softmax(X))),
    "mse_loss": (lambda: F.mse_loss(X, P), ((X - P) ** 2).mean()),
    "cross_entropy": (lambda: F.cross_entropy(X, LABELS),
                      -np.log(_softmax(X)[np.arange(3), LABELS]).mean()),
    "binary_cross_entropy_with_logits": (
        lambda: F.binary_cross_entropy_with_logits(X, P / 3),
        -(P / 3 * np.log(1 / (1 + np.exp(-X))) + (1 - P / 3) * np.log(1 - 1 / (1 + np.exp(-X)))).mean()),
}


@pytest.mark.parametrize("name", FORWARD)
def test_forward_matches_numpy(name):
    fn, expected = FORWARD[name]
    y = fn()
    assert isinstance(y, zd.Tensor)
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)


def test_gelu_at_known_points():
    y = F.gelu(zd.Tensor(np.array([-10.0, -1.0, 0.0, 1.0, 10.0]))).data
    np.testing.assert_allclose(y, [0.0, -0.15865525393145707, 0.0, 0.8413447460685429, 10.0],
                               rtol=1e-14, atol=1e-300)


# ---------------------------------------------------------------- broadcasting, both directions
BROADCAST_SHAPES = [
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((1, 4), (3, 1)),
    ((2, 3, 4), (3, 1)),
    ((3, 1), (2, 1, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
]
BINARY = {
    "add": F.add,
    "sub": F.sub,
    "mul": F.mul,
    "div": lambda a, b: F.div(a, b * b + 0.5),
    "pow tensor": lambda a, b: F.pow(a * a + 0.5, b),
    "maximum": F.maximum,
    "minimum": F.minimum,
}


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_broadcasting_gradients(name, shapes, rng):
    a = leaf(rng.uniform(-2, 2, shapes[0]))
    b = leaf(rng.uniform(-2, 2, shapes[1]) + 0.01)  # no exact ties for maximum/minimum
    assert gradcheck(BINARY[name], a, b)
    out = BINARY[name](a, b)
    assert out.shape == np.broadcast_shapes(*shapes)
    out.sum().backward()
    assert a.grad.shape == shapes[0] and b.grad.shape == shapes[1]


def test_broadcast_input_gradient_is_the_sum_over_its_copies():
    a = leaf(np.ones((3, 4)))
    b = leaf([1.0, 2.0, 3.0, 4.0])
    (a * b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, [3.0, 3.0, 3.0, 3.0])  # three rows used each b
    np.testing.assert_array_equal(a.grad.data, np.tile([1.0, 2.0, 3.0, 4.0], (3, 1)))


@pytest.mark.parametrize("target", [(3, 1), (1, 4), (4,), (1, 1), ()], ids=str)
def test_broadcast_to_and_sum_to_are_each_others_backward(target, rng):
    big = (2, 3, 4)
    x = leaf(rng.uniform(-1, 1, target))
    assert gradcheck(lambda t: F.broadcast_to(t, big), x)
    y = leaf(rng.uniform(-1, 1, big))
    out = F.sum_to(y, target)
    assert out.shape == target
    lead = y.data.sum(axis=tuple(range(3 - len(target))))  # axes broadcasting added in front
    ones = tuple(i for i, s in enumerate(target) if s == 1)  # and axes it stretched from 1
    np.testing.assert_allclose(out.data, lead.sum(axis=ones, keepdims=True), rtol=1e-14)
    assert gradcheck(lambda t: F.sum_to(t, target), y)


def test_where_routes_gradients_by_the_mask():
    x, y = leaf([1.0, 2.0, 3.0]), leaf([10.0])
    F.where(np.array([True, False, True]), x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(y.grad.data, [1.0])


# ---------------------------------------------------------------- reductions: axis and keepdims
AXES = [None, 0, 1, -1, (0, 2), (-1, -3), (1,), (0, 1, 2)]
REDUCTIONS = {
    "sum": (F.sum, np.sum),
    "mean": (F.mean, np.mean),
    "max": (F.max, np.max),
    "min": (F.min, np.min),
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_axis_keepdims(name, axis, keepdims, rng):
    fn, ref = REDUCTIONS[name]
    data = rng.permutation(np.linspace(-2, 2, 24)).reshape(2, 3, 4)  # distinct: no max ties
    x = leaf(data)
    y = fn(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(y.data, ref(data, axis=axis, keepdims=keepdims), rtol=1e-14)
    assert gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), x)


def test_reduction_methods_and_out_of_range_axis():
    x = leaf(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.max(axis=0).data, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(x.min(axis=-1, keepdims=True).data, [[0.0], [3.0]])
    with pytest.raises(ValueError, match=r"axis 2 is out of range .* 2 dimensions"):
        x.sum(axis=2)


@pytest.mark.parametrize("name, call", [
    ("sum", lambda x: F.sum(x, axis=2)),
    ("mean", lambda x: F.mean(x, axis=2)),
    ("max", lambda x: F.max(x, axis=-3)),
    ("softmax", lambda x: F.softmax(x, axis=2)),
    ("log_softmax", lambda x: F.log_softmax(x, axis=-3)),
    ("concat", lambda x: F.concat([x, x], axis=2)),
    ("stack", lambda x: F.stack([x, x], axis=3)),
])
def test_an_out_of_range_axis_is_named_with_its_operation(name, call):
    x = leaf(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=rf"^{name}: axis -?\d is out of range .* dimensions"):
        call(x)


def test_mean_gradient_is_one_over_the_count():
    x = leaf(np.zeros((2, 5)))
    x.mean(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 5), 0.2))


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_softmax_and_log_softmax_on_any_axis(axis, rng):
    data = rng.uniform(-3, 3, (2, 3, 4))
    x = leaf(data)
    p = F.softmax(x, axis=axis)
    np.testing.assert_allclose(p.data.sum(axis=axis), 1.0, rtol=1e-14)
    np.testing.assert_allclose(F.log_softmax(x, axis=axis).data, np.log(p.data), atol=1e-13)
    assert gradcheck(lambda t: F.softmax(t, axis=axis), x)
    assert gradcheck(lambda t: F.log_softmax(t, axis=axis), x)


# ---------------------------------------------------------------- shapes, joining, indexing
@pytest.mark.parametrize("fn", [
    lambda t: t.reshape(4, -1),
    lambda t: t.reshape(-1),
    lambda t: F.transpose(t),
    lambda t: F.transpose(t, (-1, 0, 1)),
    lambda t: t.transpose(2, 0, 1),
    lambda t: F.concat([t, t * 2, t[:, :1]], axis=1),
    lambda t: F.concat([t, t], axis=-1),
    lambda t: F.stack([t, t * t, -t], axis=0),
    lambda t: F.stack([t, t], axis=-2),
    lambda t: F.pad(t, 1),
    lambda t: F.pad(t, ((0, 0), (2, 1), (1, 3)), value=4.0),
], ids=["reshape", "reshape -1", "T", "transpose negative", "transpose method", "concat 3",
        "concat -1", "stack 3", "stack -2", "pad int", "pad pairs"])
def test_shape_operations_gradcheck(fn, rng):
    assert gradcheck(fn, leaf(rng.uniform(-2, 2, (2, 3, 4))))


@pytest.mark.parametrize("index", [
    np.array([0, 2, 0, 0]),
    (np.array([0, 0, 1, 1]), np.array([2, 2, 2, 0])),
    (slice(None), [1, 1, 1]),
    (Ellipsis, np.array([[3, 3], [0, 3]])),
    (1, slice(None, None, -1)),
    (np.array([[True, False, True, True, False]] * 4),),
    (None, slice(1, 3), 0),
    -1,
], ids=["rows repeated", "pairs repeated", "column list", "2-D index array", "reversed row",
        "bool mask", "newaxis", "negative int"])
def test_indexing_gradcheck(index, rng):
    assert gradcheck(lambda t: t[index], leaf(rng.uniform(-2, 2, (4, 5))))


def test_repeated_indices_gradient_counts_the_uses():
    x = leaf(np.zeros(4))
    x[np.array([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 0.0, 1.0])


# ---------------------------------------------------------------- matrix products
@pytest.mark.parametrize("shapes", [
    ((3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((4, 5), (2, 5, 3)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (4,)),
    ((3, 4), (4,)),
    ((4,), (2, 4, 3)),
], ids=str)
def test_matmul_shapes_and_gradients(shapes, rng):
    a, b = leaf(rng.standard_normal(shapes[0])), leaf(rng.standard_normal(shapes[1]))
    y = F.matmul(a, b)
    np.testing.assert_allclose(y.data, a.data @ b.data, rtol=1e-12)
    assert (a @ b).shape == np.matmul(a.data, b.data).shape
    assert gradcheck(F.matmul, a, b)


def test_linear_without_bias_and_with_extra_leading_axes(rng):
    x, W, b = (leaf(rng.standard_normal(s)) for s in [(2, 3, 4), (4, 5), (5,)])
    np.testing.assert_allclose(F.linear(x, W, b).data, x.data @ W.data + b.data, rtol=1e-12)
    assert gradcheck(F.linear, x, W, b)
    assert gradcheck(F.linear, leaf(rng.standard_normal((3, 4))), W)


def test_matmul_gradients_have_the_book_formulas(rng):
    X, W = leaf(rng.standard_normal((2, 3))), leaf(rng.standard_normal((3, 4)))
    dY = rng.standard_normal((2, 4))
    (X @ W).backward(dY)
    np.testing.assert_allclose(X.grad.data, dY @ W.data.T)
    np.testing.assert_allclose(W.grad.data, X.data.T @ dY)
