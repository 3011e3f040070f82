"""The numerics rules of DESIGN.md: stable losses and activations, honest backward passes,
tie rules, and errors that name the operation and the shapes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl.gradcheck_cases import CASES


def leaf(values, dtype=np.float64) -> zd.Tensor:
    return zd.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


@pytest.fixture
def strict():
    """Any floating-point warning (overflow, divide by zero, invalid) is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


# ---------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_of_a_confident_wrong_answer_is_exactly_1000(dtype, strict):
    logits = leaf([[1000.0, 0.0]], dtype)
    loss = F.cross_entropy(logits, np.array([1]))
    assert loss.item() == 1000.0  # not the 16.1 of log(p + 1e-7)
    assert loss.dtype == dtype
    loss.backward()
    np.testing.assert_array_equal(logits.grad.data, [[1.0, -1.0]])


def test_cross_entropy_one_hot_equals_labels(rng):
    data = rng.standard_normal((5, 4))
    labels = np.array([0, 3, 3, 1, 2])
    a, b = leaf(data), leaf(data)
    la, lb = F.cross_entropy(a, labels), F.cross_entropy(b, np.eye(4)[labels])
    assert la.item() == pytest.approx(lb.item(), rel=1e-14)
    la.backward()
    lb.backward()
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-14)


def test_cross_entropy_is_mean_negative_log_probability_with_the_clean_gradient(rng):
    data = rng.standard_normal((4, 3))
    labels = np.array([2, 0, 1, 1])
    x = leaf(data)
    loss = F.cross_entropy(x, labels)
    p = np.exp(data) / np.exp(data).sum(axis=1, keepdims=True)
    assert loss.item() == pytest.approx(-np.log(p[np.arange(4), labels]).mean(), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, (p - np.eye(3)[labels]) / 4, rtol=1e-12)


# ---------------------------------------------------------------- binary cross-entropy on logits
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_finite_and_exact_at_huge_logits(dtype, strict):
    z = np.array([-1000.0, -40.0, 40.0, 1000.0, -1000.0, -40.0, 40.0, 1000.0, 40.0, -40.0])
    t = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.3, 0.3])
    x = leaf(z, dtype)
    loss = F.binary_cross_entropy_with_logits(x, t)
    exact = np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0) - z * t
    assert np.isfinite(loss.item())
    assert loss.item() == pytest.approx(exact.mean(), rel=1e-6 if dtype == np.float32 else 1e-15)
    loss.backward()
    assert np.isfinite(x.grad.data).all()
    sig = np.where(z > 0, 1.0, 0.0)  # sigmoid(±40) is 0/1 to double precision here
    np.testing.assert_allclose(x.grad.data, (sig - t) / z.size, atol=1e-17)


def test_bce_with_logits_single_values():
    for z, t, expected in [(1000.0, 0.0, 1000.0), (-1000.0, 1.0, 1000.0), (1000.0, 1.0, 0.0),
                           (-1000.0, 0.0, 0.0), (0.0, 1.0, np.log(2)), (40.0, 0.0, 40.0)]:
        loss = F.binary_cross_entropy_with_logits(zd.Tensor(np.array([z])), np.array([t]))
        assert loss.item() == pytest.approx(expected, rel=1e-15, abs=1e-17)


# ---------------------------------------------------------------- sigmoid, softmax
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_at_plus_minus_1000_without_warnings(dtype, strict):
    x = leaf([-1000.0, -40.0, 0.0, 40.0, 1000.0], dtype)
    y = F.sigmoid(x)
    assert y.data[0] == 0.0 and y.data[-1] == 1.0 and y.data[2] == 0.5
    assert y.dtype == dtype
    y.sum().backward()
    assert x.grad.data[0] == 0.0 and x.grad.data[-1] == 0.0 and x.grad.data[2] == 0.25


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_of_huge_logits(dtype, strict):
    x = leaf([[1000.0, 0.0, -1000.0], [1e4, 1e4, 1e4]], dtype)
    p = F.softmax(x)
    np.testing.assert_array_equal(p.data[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(p.data[1], [1 / 3] * 3, rtol=1e-6)
    lp = F.log_softmax(x)
    np.testing.assert_array_equal(lp.data[0], [0.0, -1000.0, -2000.0])
    ulp = np.finfo(dtype).eps * 1e4  # x - logsumexp(x) at |x| = 1e4 keeps this much
    np.testing.assert_allclose(lp.data[1], [-np.log(3)] * 3, atol=2 * ulp)
    (p[:, 0].sum() + lp[:, 1].sum()).backward()
    assert np.isfinite(x.grad.data).all()


def test_softplus_of_huge_inputs(strict):
    y = F.softplus(zd.Tensor(np.array([-1000.0, 1000.0])))
    np.testing.assert_array_equal(y.data, [0.0, 1000.0])


def test_power_with_a_constant_exponent_array_and_negative_base(strict):
    x = leaf([-2.0, 3.0])
    (x ** np.array([2.0, 3.0])).sum().backward()  # log x is not needed: the exponent is constant
    np.testing.assert_array_equal(x.grad.data, [-4.0, 27.0])


def test_power_zero_has_gradient_zero_at_zero(strict):
    x = leaf([0.0, 2.0])
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


# ---------------------------------------------------------------- backward honesty
LOSSES = {
    "mse_loss": lambda y: F.mse_loss(y, np.linspace(-1, 1, 6).reshape(2, 3)),
    "cross_entropy": lambda y: F.cross_entropy(y, np.array([2, 0])),
    "cross_entropy one-hot": lambda y: F.cross_entropy(y, np.eye(3)[[1, 1]]),
    "bce with logits": lambda y: F.binary_cross_entropy_with_logits(y, np.full((2, 3), 0.25)),
}


@pytest.mark.parametrize("name", LOSSES)
def test_loss_backward_honours_its_upstream_gradient(name, rng):
    data = rng.standard_normal((2, 3))
    a, b = leaf(data), leaf(data)
    LOSSES[name](a).backward()
    (3 * LOSSES[name](b)).backward()
    np.testing.assert_allclose(b.grad.data, 3 * a.grad.data, rtol=1e-14)
    c = leaf(data)
    LOSSES[name](c).backward(np.array(-0.5))
    np.testing.assert_allclose(c.grad.data, -0.5 * a.grad.data, rtol=1e-14)


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_backward_mutates_the_gradient_it_was_given(case, create_graph, rng):
    inputs = case.make_inputs(np.random.default_rng(0))
    out = case.fn(*inputs)
    grad = rng.standard_normal(out.shape)
    given = grad.copy()
    out.backward(grad, create_graph=create_graph)
    np.testing.assert_array_equal(grad, given)
    if not create_graph:  # and no leaf's .grad is the caller's array
        assert not any(np.shares_memory(x.grad.data, grad) for x in inputs if x.grad is not None)


# ---------------------------------------------------------------- tie and kink rules
def test_max_ties_share_the_gradient_equally():
    x = leaf([1.0, 3.0, 3.0, 2.0])
    F.max(x).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5, 0.0])


def test_max_ties_along_an_axis():
    x = leaf([[5.0, 5.0, 5.0], [1.0, 4.0, 4.0]])
    F.max(x, axis=1).backward(np.array([3.0, 1.0]))
    np.testing.assert_array_equal(x.grad.data, [[1.0, 1.0, 1.0], [0.0, 0.5, 0.5]])
    y = leaf([[2.0, 0.0], [2.0, 7.0]])
    F.min(y, axis=0).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[0.5, 1.0], [0.5, 0.0]])


def test_relu_at_exactly_zero_has_gradient_zero():
    x = leaf([-1.0, 0.0, 2.0])
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0])


def test_relu_of_negative_numbers_is_plus_zero_not_minus_zero():
    y = F.relu(zd.tensor([[-1.0, 2.0], [-3.0, 0.0]])).data
    np.testing.assert_array_equal(y, [[0.0, 2.0], [0.0, 0.0]])
    assert not np.signbit(y).any()  # a learner printing it sees 0., never -0.


def test_other_kinks_follow_their_documented_rules():
    x = leaf([0.0, 0.0])
    F.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])  # sign(0) = 0
    x = leaf([0.0, -1.0])
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.1, 0.1])  # x <= 0 takes the slope
    x = leaf([-1.0, 0.5, 1.0])
    F.clip(x, -1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])  # bounds are inside
    x = leaf([-1.0, 0.0, 1.0])
    F.step(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
    a, b = leaf([1.0, 2.0]), leaf([1.0, 3.0])
    F.maximum(a, b).sum().backward()  # at a tie the gradient goes to the first argument
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0])
    np.testing.assert_array_equal(b.grad.data, [0.0, 1.0])


# ---------------------------------------------------------------- errors name the operation and shapes
def test_matmul_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: \(3, 4\) @ \(5, 6\)"):
        F.matmul(zd.tensor(np.zeros((3, 4))), zd.tensor(np.zeros((5, 6))))
    with pytest.raises(ValueError, match=r"matmul: \(3, 4\) @ \(5, 6\)"):
        zd.tensor(np.zeros((3, 4))) @ np.zeros((5, 6))


def test_reshape_error_names_the_shapes():
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\).*\(4, 2\)"):
        zd.tensor(np.zeros((2, 3))).reshape(4, 2)


def test_broadcast_to_error_names_the_shapes():
    with pytest.raises(ValueError, match=r"broadcast_to: .*\(3,\).*\(2, 4\)"):
        F.broadcast_to(zd.tensor(np.zeros(3)), (2, 4))


def test_cross_entropy_label_errors():
    x = zd.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"cross_entropy: label 3 is out of range for 3 classes"):
        F.cross_entropy(x, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"cross_entropy: label -1 is out of range"):
        F.cross_entropy(x, np.array([-1, 0]))
    with pytest.raises(ValueError, match=r"cross_entropy: .*\(2, 3\).*\(3,\)"):
        F.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match=r"cross_entropy: labels .* must be integers"):
        F.cross_entropy(x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"cross_entropy: targets \(2, 4\)"):
        F.cross_entropy(x, np.zeros((2, 4)))


def test_linear_error_names_the_shapes():
    with pytest.raises(ValueError, match=r"linear: x \(5, 4\) @ W \(3, 2\)"):
        F.linear(zd.tensor(np.zeros((5, 4))), zd.tensor(np.zeros((3, 2))))
    with pytest.raises(ValueError, match=r"linear: bias has shape \(3,\), expected \(2,\)"):
        F.linear(zd.tensor(np.zeros((5, 3))), zd.tensor(np.zeros((3, 2))), zd.tensor(np.zeros(3)))


def test_loss_shape_errors():
    with pytest.raises(ValueError, match=r"mse_loss: .*\(2, 3\).*\(3, 2\)"):
        F.mse_loss(zd.tensor(np.zeros((2, 3))), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: .*\(4,\).*\(4, 1\)"):
        F.binary_cross_entropy_with_logits(zd.tensor(np.zeros(4)), np.zeros((4, 1)))


def test_shape_operation_errors():
    with pytest.raises(ValueError, match=r"concat: shapes \(2, 3\), \(3, 3\)"):
        F.concat([zd.tensor(np.zeros((2, 3))), zd.tensor(np.zeros((3, 3)))], axis=1)
    with pytest.raises(ValueError, match=r"stack: .*\(2,\), \(3,\)"):
        F.stack([zd.tensor(np.zeros(2)), zd.tensor(np.zeros(3))])
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 0\)"):
        F.transpose(zd.tensor(np.zeros((2, 3))), (0, 0))
    with pytest.raises(ValueError, match=r"pad: pad_width has 1 entries .* 2 axes"):
        F.pad(zd.tensor(np.zeros((2, 3))), [(1, 1)])


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum"])
def test_a_broadcasting_mismatch_names_the_operation_and_shapes(op):
    x, y = zd.tensor(np.ones((3, 4))), zd.tensor(np.ones((5,)))
    with pytest.raises(ValueError) as info:
        getattr(F, op)(x, y)
    message = str(info.value)
    assert message.startswith(f"{op}:") and "(3, 4), (5,)" in message and "broadcast" in message
