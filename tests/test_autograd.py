"""The engine: Tensor, Function, backward, grad modes, NumPy interop and the dtype rules."""

from __future__ import annotations

import gc
import re
import threading
import weakref

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl.numerical import gradcheck


def leaf(values, dtype=np.float64) -> zd.Tensor:
    return zd.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


class Cube(zd.Function):
    """The user-defined operation of DESIGN.md: y = x³, dy/dx = 3x²."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        x, = self.inputs
        return gy * 3 * x ** 2


# ---------------------------------------------------------------- backward walks the graph
def test_chain_of_100000_ops_backpropagates_without_recursion():
    x = leaf(0.0)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert y.item() == 100_000.0
    assert x.grad.item() == 1.0


def test_reused_node_accumulates_its_gradients():
    x = leaf(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == 7.0


def test_diamond_graph_sums_both_paths():
    x = leaf(2.0)
    a = x * 2
    b = a + 1
    c = a * 3
    d = b * c  # (2x + 1) · 6x = 12x² + 6x, d' = 24x + 6
    d.backward()
    assert d.item() == 60.0
    assert x.grad.item() == 54.0


def test_leaf_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3 + 2, 3 + 4])


def test_second_backward_on_freed_graph_is_a_clear_error():
    x = leaf(3.0)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match=r"already freed.*retain_graph=True"):
        y.backward()
    assert x.grad.item() == 6.0  # not silently doubled


def test_retain_graph_allows_a_second_pass_that_doubles_the_gradient():
    x = leaf(3.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 12.0


def test_graph_arrays_are_freed_after_backward():
    x = leaf(np.ones(1000))

    def build():
        h = x * 2.0
        return (h * h).sum(), weakref.ref(h)

    y, h_ref = build()
    gc.collect()
    assert h_ref() is not None  # the graph keeps h while backward may need it
    y.backward()
    gc.collect()
    assert h_ref() is None
    np.testing.assert_array_equal(x.grad.data, np.full(1000, 8.0))


def test_intermediate_grads_are_freed_and_retain_grad_keeps_them():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    kept = (x * 2.0).retain_grad()
    y = (h * kept).sum()  # 6 x²
    y.backward()
    assert h.grad is None
    np.testing.assert_array_equal(kept.grad.data, h.data)  # dy/dkept = h
    np.testing.assert_array_equal(x.grad.data, 12.0 * x.data)


def test_retained_grads_accumulate_like_leaves():
    x = leaf([1.0, -2.0])
    h = (x * 2).retain_grad()
    z = (h * h).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_array_equal(h.grad.data, 2 * 2 * h.data)
    np.testing.assert_array_equal(x.grad.data, 2 * 8 * x.data)


def test_a_function_instance_can_be_called_again_after_backward():
    mul = F.arithmetic.Mul()
    x = leaf([1.0, -2.0])
    for _ in range(2):
        x.grad = None
        mul(x, x).sum().backward()
        np.testing.assert_array_equal(x.grad.data, [2.0, -4.0])


def test_a_function_instance_used_twice_in_one_graph_is_a_clear_error():
    relu = F.activation.ReLU()
    x = leaf([1.0, -2.0])
    y = relu(x) + relu(-x)  # the second call overwrote what the first one cached
    with pytest.raises(RuntimeError, match="ReLU was called again .* new instance"):
        y.sum().backward()


def test_tensors_not_requiring_grad_get_no_gradient():
    x = leaf([1.0, 2.0])
    c = zd.tensor(np.array([5.0, 6.0]))
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.data, [5.0, 6.0])


def test_backward_of_a_leaf_seeds_its_own_gradient():
    x = leaf(4.0)
    x.backward()
    assert x.grad.item() == 1.0


# ---------------------------------------------------------------- higher-order derivatives
def test_second_and_third_derivative_with_create_graph():
    x = leaf(2.0)
    y = x ** 4 - 2 * x ** 2
    y.backward(create_graph=True)
    g1 = x.grad  # 4x³ - 4x = 24
    assert g1.item() == 24.0
    x.grad = None
    g1.backward(create_graph=True)
    g2 = x.grad  # 12x² - 4 = 44
    assert g2.item() == 44.0
    x.grad = None
    g2.backward()
    assert x.grad.item() == 48.0  # 24x


def test_without_create_graph_the_gradient_has_no_graph():
    x = leaf(2.0)
    (x ** 3).backward()
    assert x.grad.creator is None
    assert not x.grad.requires_grad


def _first_derivative(f, xd, create_graph=False):
    x = zd.tensor(xd.copy(), requires_grad=True)
    f(x).sum().backward(create_graph=create_graph)
    return x, x.grad


DOUBLE_BACKWARD = {
    "mul": lambda a: a * a * a,
    "div": lambda a: 1.0 / a,
    "pow tensor": lambda a: a ** a,
    "exp": F.exp,
    "log": F.log,
    "sqrt": F.sqrt,
    "abs": lambda a: F.abs(a) * a,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "softplus": F.softplus,
    "relu": lambda a: F.relu(a) * a,
    "gelu": F.gelu,
    "gelu tanh": lambda a: F.gelu(a, approximate="tanh"),
    "softmax": lambda a: F.softmax(a)[..., 0],
    "log_softmax": lambda a: F.log_softmax(a)[..., 1],
    "max": lambda a: F.max(a * a),
    "mean": lambda a: (a * a).mean(),
    "getitem repeats": lambda a: (a * a)[[0, 0, 1]],
    "matmul": lambda a: (a @ a) * a,
    "linear": lambda a: F.linear((a * a).reshape(1, 2), a.reshape(2, 1), a[:1]),
    "broadcast_to": lambda a: F.broadcast_to(a * a, (3, 2)) * a,
    "cross_entropy": lambda a: F.cross_entropy(a.reshape(1, -1), np.array([0])),
    "bce with logits": lambda a: F.binary_cross_entropy_with_logits(a, np.array([0.3, 0.6])),
    "mse_loss": lambda a: F.mse_loss(a * a, np.array([0.3, 0.6])),
    # every rule is one rule for both passes: these run it on Tensors too
    "sub neg": lambda a: -(a * a - a ** 3),
    "sum axis": lambda a: (F.broadcast_to(a * a, (3, 2)) * a).sum(axis=0) * a,
    "sum_to": lambda a: F.sum_to(F.broadcast_to(a * a, (3, 2)), (1, 2)) * a,
    "reshape transpose": lambda a: (a * a).reshape(2, 1).T.reshape(2) * a,
    "concat stack pad": lambda a: F.pad(F.concat([a * a, F.stack([a, a]).sum(axis=0)]), 1) ** 2,
    "maximum minimum": lambda a: F.maximum(a * a, 1.0) * F.minimum(a, a * a),
    "clip where": lambda a: F.clip(a * a, 0.6, 1.5) * F.where(a > 1.0, a * a, a),
    "leaky_relu": lambda a: F.leaky_relu(a - 1.0, 0.2) * a,
    "min": lambda a: F.min(a * a),
    "batch_norm": lambda a: F.batch_norm((a * a * a).reshape(2, 1), None, None, None, None, True),
}


@pytest.mark.parametrize("name", DOUBLE_BACKWARD)
def test_double_backward_matches_difference_of_first_derivatives(name):
    """d/dx (v · f'(x)) by create_graph equals the central difference of f' itself."""
    f = DOUBLE_BACKWARD[name]
    xd, v, h = np.array([0.7, 1.3]), np.array([1.0, -0.5]), 1e-6
    x, g = _first_derivative(f, xd, create_graph=True)
    x.grad = None
    (g * v).sum().backward()
    numeric = np.array([
        (_first_derivative(f, xd + h * e)[1].data - _first_derivative(f, xd - h * e)[1].data) @ v
        / (2 * h)
        for e in np.eye(2)
    ])
    np.testing.assert_allclose(x.grad.data, numeric, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- grad modes
def test_no_grad_and_enable_grad_nest_and_restore():
    x = leaf(1.0)
    with zd.no_grad():
        assert not zd.is_grad_enabled()
        assert not (x * 2).requires_grad
        with zd.enable_grad():
            assert zd.is_grad_enabled()
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert zd.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ValueError), zd.no_grad():
        raise ValueError("boom")
    assert zd.is_grad_enabled()


def test_no_grad_as_decorator():
    @zd.no_grad()
    def double(t):
        return t * 2

    x = leaf(1.0)
    assert not double(x).requires_grad
    assert not double(x).requires_grad  # the decorator works on every call
    assert zd.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with zd.no_grad():
        t = threading.Thread(target=lambda: seen.append(zd.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_requires_grad_propagates_and_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    c = zd.tensor(np.array([3.0, 4.0]))
    assert (x * c).requires_grad
    assert not (c * c).requires_grad
    d = x.detach()
    assert not d.requires_grad and d.creator is None
    assert np.shares_memory(d.data, x.data)
    (x * x.detach()).sum().backward()  # the detached factor is a constant: grad x, not 2x
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0])


def test_only_float_tensors_can_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        zd.Tensor(np.array([1, 2]), requires_grad=True)


# ---------------------------------------------------------------- implicit and explicit seeds
def test_implicit_gradient_only_for_one_element_outputs():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"one-element.*\(3,\)"):
        (x * 2).backward()
    (x[:1].reshape(1, 1) * 2).backward()  # shape (1, 1) is one element
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, 0.0])


def test_explicit_gradient_must_match_the_output_shape():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        (x * 2).backward(np.ones(2))


def test_explicit_gradient_is_the_vector_of_a_vector_jacobian_product():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(np.array([1.0, 0.5, -1.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, -6.0])


def test_backward_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (zd.tensor([1.0]) * 2).backward()


def test_leaf_gradients_are_their_own_arrays():
    # Add hands the same upstream gradient to both inputs: each leaf must still own its .grad,
    # so an in-place change to one (gradient clipping) never leaks into the other or the seed.
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seed = np.array([1.0, 1.0])
    (x + y).backward(seed)
    x.grad.data *= 10
    np.testing.assert_array_equal(y.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])


def test_a_leafs_own_backward_copies_the_seed_into_its_grad():
    """x.backward(seed) on a leaf: x.grad is x's own array, as through any graph."""
    x = leaf([1.0, 2.0])
    seed = np.array([1.0, 1.0])
    x.backward(seed)
    x.grad.data *= 10
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    x.backward(seed)  # accumulates
    np.testing.assert_array_equal(x.grad.data, [11.0, 11.0])


# ---------------------------------------------------------------- user-defined Functions
def test_user_defined_function_in_a_graph():
    x = leaf([1.0, -2.0])
    y = (Cube()(x) * 2).sum()  # 2x³, d/dx = 6x²
    y.backward()
    assert y.item() == 2 * (1 - 8)
    np.testing.assert_array_equal(x.grad.data, [6.0, 24.0])


def test_user_defined_function_passes_gradcheck(rng):
    assert gradcheck(lambda t: Cube()(t), leaf(rng.uniform(-2, 2, (3, 4))))


def test_user_defined_function_supports_create_graph():
    x = leaf(2.0)
    Cube()(x).backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == 12.0  # d²/dx² x³ = 6x


def test_a_forward_returning_a_tuple_of_one_gives_a_tuple_of_one():
    class Halves(zd.Function):                 # a split into pieces, here a single piece
        def forward(self, x):
            return (x / 2,)

        def backward(self, gy):
            return gy / 2

    x = leaf([2.0, 4.0])
    out = Halves()(x)
    assert type(out) is tuple and len(out) == 1
    out[0].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.5, 0.5])


def test_wrong_number_of_gradients_is_reported():
    class Bad(zd.Function):
        def forward(self, x, y):
            return x + y

        def backward(self, gz):
            return gz

    x = leaf(1.0)
    with pytest.raises(RuntimeError, match="Bad.backward returned 1 gradients for 2 inputs"):
        Bad()(x, x).backward()


def test_wrong_gradient_shape_is_reported():
    class Bad(zd.Function):
        def forward(self, x):
            return x.sum()

        def backward(self, gy):
            return gy

    with pytest.raises(RuntimeError, match=r"Bad.backward.*shape \(\).*shape \(3,\)"):
        Bad()(leaf([1.0, 2.0, 3.0])).backward()


# ---------------------------------------------------------------- Functions driven by hand (book)
def test_buy_apple_with_mul_layers_driven_by_hand():
    """The book's ch. 5.4.1: 100 yen × 2 apples × tax 1.1 = 220."""
    apple, apple_num, tax = 100.0, 2.0, 1.1
    mul_apple_layer, mul_tax_layer = F.arithmetic.Mul(), F.arithmetic.Mul()
    apple_price = mul_apple_layer(apple, apple_num)
    price = mul_tax_layer(apple_price, tax)
    assert price.item() == pytest.approx(220.0)
    dapple_price, dtax = mul_tax_layer.backward_by_hand(1.0)
    dapple, dapple_num = mul_apple_layer.backward_by_hand(dapple_price)
    assert dapple.item() == pytest.approx(2.2)
    assert dapple_num.item() == pytest.approx(110.0)
    assert dtax.item() == pytest.approx(200.0)


def test_buy_apple_and_orange_with_add_layer_driven_by_hand():
    """The book's ch. 5.4.2: (100 × 2 + 150 × 3) × 1.1 = 715."""
    mul_apple, mul_orange = F.arithmetic.Mul(), F.arithmetic.Mul()
    add_layer, mul_tax = F.arithmetic.Add(), F.arithmetic.Mul()
    price = mul_tax(add_layer(mul_apple(100.0, 2.0), mul_orange(150.0, 3.0)), 1.1)
    assert price.item() == pytest.approx(715.0)
    dall_price, dtax = mul_tax.backward_by_hand(1.0)
    dapple_price, dorange_price = add_layer.backward_by_hand(dall_price)
    dapple, dapple_num = mul_apple.backward_by_hand(dapple_price)
    dorange, dorange_num = mul_orange.backward_by_hand(dorange_price)
    got = [dapple_num, dapple, dorange, dorange_num, dtax]
    assert [g.item() for g in got] == pytest.approx([110, 2.2, 3.3, 165, 650])


def test_affine_layer_driven_by_hand_on_plain_arrays(rng):
    """The book's Affine (ch. 5.6.2): dX = dY·Wᵀ, dW = Xᵀ·dY, db = Σ dY."""
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    affine = F.linalg.Linear()
    Y = affine(X, W, b)
    np.testing.assert_allclose(Y.data, X @ W + b)
    dY = rng.standard_normal((4, 2))
    dX, dW, db = affine.backward_by_hand(dY)
    np.testing.assert_allclose(dX.data, dY @ W.T)
    np.testing.assert_allclose(dW.data, X.T @ dY)
    np.testing.assert_allclose(db.data, dY.sum(axis=0))


def test_the_books_layers_by_their_names_are_the_functions_themselves():
    assert F.Affine.__name__ == "Affine" and F.linalg.Linear is F.Affine
    assert F.SoftmaxWithLoss.__name__ == "SoftmaxWithLoss" and F.loss.CrossEntropy is F.SoftmaxWithLoss
    assert F.BatchNormalization.__name__ == "BatchNormalization"
    assert F.norm.BatchNorm is F.BatchNormalization
    assert F.Relu is F.ReLU and F.Mul is F.arithmetic.Mul and F.Add is F.arithmetic.Add
    for layer in (F.Affine, F.Relu, F.Sigmoid, F.SoftmaxWithLoss, F.BatchNormalization,
                  F.Dropout, F.Mul, F.Add):
        assert issubclass(layer, zd.Function) and "book" in layer.__doc__
    assert "MulLayer" in F.Mul.__doc__ and "AddLayer" in F.Add.__doc__


def test_sigmoid_and_relu_layers_driven_by_hand(rng):
    """The book's Sigmoid (dx = dout·(1 - y)·y) and Relu (dout where x > 0) layers."""
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    sigmoid, relu = F.Sigmoid(), F.Relu()
    y = sigmoid(x).data
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(sigmoid.backward_by_hand(dout).data, dout * (1 - y) * y, rtol=1e-12)
    relu(x)
    np.testing.assert_array_equal(relu.backward_by_hand(dout).data, np.where(x > 0, dout, 0.0))


def test_softmax_with_loss_layer_driven_by_hand(rng):
    """The book's SoftmaxWithLoss (ch. 5.6.3): dx = (y - t) / N for dout = 1."""
    x, t = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    layer = F.SoftmaxWithLoss()
    loss = layer(x, t)
    y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert loss.item() == pytest.approx(-np.log(y[np.arange(4), t]).mean(), rel=1e-12)
    dx, dt = layer.backward_by_hand(1.0)
    np.testing.assert_allclose(dx.data, (y - np.eye(3)[t]) / 4, rtol=1e-12)
    assert dt is None


def test_by_hand_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match="call the Function first"):
        F.Mul().backward_by_hand(1.0)


def test_by_hand_after_backward_freed_the_node_says_what_to_do():
    x = leaf([1.0, 2.0])
    mul = F.arithmetic.Mul()
    mul(x, x).sum().backward()
    with pytest.raises(RuntimeError, match=r"Mul\.backward_by_hand: .*freed.*retain_graph=True"):
        mul.backward_by_hand(1.0)


def test_output_is_the_live_tensor_or_a_new_one_in_its_place():
    x = leaf([0.5, 1.0])
    f = F.arithmetic.Exp()
    y = f(x)
    assert f.output() is y
    kept = y.data
    del y
    gc.collect()
    y2 = f.output()  # the caller let y go: a Tensor around the same array, in the graph
    assert y2.data is kept and y2.creator is f and y2.requires_grad
    y2.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([0.5, 1.0]), rtol=1e-15)


def test_a_dropped_output_is_still_differentiated_through_under_create_graph():
    """d²/dx² exp(x) = exp(x): the rule's y must stay in the graph though nobody holds it."""
    x = leaf([0.3, -0.7])
    F.exp(x).sum().backward(create_graph=True)  # exp's output is gone when its rule runs
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([0.3, -0.7]), rtol=1e-15)


def test_apply_gives_what_it_is_given():
    a = np.array([0.0, 1.0])
    y = zd.autograd.apply(F.arithmetic.Exp(), a)
    assert isinstance(y, np.ndarray) and not isinstance(y, zd.Tensor)
    np.testing.assert_allclose(y, np.exp(a))
    t = leaf([0.0, 1.0])
    yt = zd.autograd.apply(F.arithmetic.Exp(), t)
    assert isinstance(yt, zd.Tensor) and yt.creator is not None


def test_arrays_or_tensors_follows_the_grad_mode():
    t = leaf([1.0])
    with zd.no_grad():
        a, = zd.autograd.arrays_or_tensors(t)
    assert a is t.data
    b, = zd.autograd.arrays_or_tensors(t)
    assert b is t


def test_sum_to_is_one_name_for_arrays_and_tensors(rng):
    g = rng.standard_normal((2, 3, 4))
    a = F.sum_to(g, (3, 1))
    assert type(a) is np.ndarray
    np.testing.assert_allclose(a, g.sum(axis=(0, 2)).reshape(3, 1), rtol=1e-12)
    t = F.sum_to(zd.Tensor(g), (3, 1))
    assert isinstance(t, zd.Tensor)
    np.testing.assert_array_equal(t.data, a)
    assert F.sum_to(g, (2, 3, 4)) is g
    with pytest.raises(ValueError, match=r"sum_to: cannot sum shape \(3,\) to the larger"):
        F.sum_to(np.ones(3), (2, 3))


def test_hand_driven_node_refuses_after_the_engine_freed_it():
    x = leaf(2.0)
    mul = F.arithmetic.Mul()
    y = mul(x, x)
    y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        mul.backward_by_hand(1.0)


# ---------------------------------------------------------------- NumPy interop
def test_asarray_shares_data_and_honours_dtype_and_copy():
    t = zd.tensor([1.0, 2.0])
    a = np.asarray(t)
    assert a.dtype == np.float32 and np.shares_memory(a, t.data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert not np.shares_memory(np.array(t, copy=True), t.data)
    assert np.shares_memory(np.asarray(t, copy=False), t.data)
    with pytest.raises(ValueError):
        np.asarray(t, dtype=np.float64, copy=False)  # a cast needs a copy


@pytest.mark.parametrize("op, grad", [
    (lambda a, x: a + x, lambda a, x: np.ones_like(a)),
    (lambda a, x: a - x, lambda a, x: -np.ones_like(a)),
    (lambda a, x: a * x, lambda a, x: a),
    (lambda a, x: a / x, lambda a, x: -a / x ** 2),
], ids=["add", "sub", "mul", "div"])
def test_ndarray_on_the_left_stays_in_the_graph(op, grad):
    a, x = np.array([1.0, 2.0]), leaf([4.0, 5.0])
    y = op(a, x)
    assert isinstance(y, zd.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, grad(a, x.data))


def test_ndarray_matmul_tensor_stays_in_the_graph():
    a, x = np.array([[1.0, 2.0]]), leaf([[3.0], [4.0]])
    y = a @ x
    assert isinstance(y, zd.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0], [2.0]])


def test_comparisons_give_boolean_tensors_without_grad():
    x = leaf([-1.0, 0.0, 2.0])
    for mask, expected in [(x > 0, [False, False, True]), (x <= 0, [True, True, False]),
                           (x == 0, [False, True, False]), (x != 0, [True, False, True]),
                           (np.zeros(3) < x, [False, False, True])]:
        assert isinstance(mask, zd.Tensor)
        assert mask.dtype == bool and not mask.requires_grad
        np.testing.assert_array_equal(mask.data, expected)


def test_indexing_with_slices_ints_and_negative_indices():
    x = leaf(np.arange(12.0).reshape(3, 4))
    y = x[1:, ::2].sum() + x[-1, -1] * 10
    y.backward()
    expected = np.zeros((3, 4))
    expected[1:, ::2] = 1
    expected[-1, -1] += 10
    np.testing.assert_array_equal(x.grad.data, expected)


def test_integer_array_indexing_with_repeats_adds_gradients():
    x = leaf(np.arange(5.0))
    y = x[np.array([0, 2, 0, 0, 4])]
    np.testing.assert_array_equal(y.data, [0, 2, 0, 0, 4])
    y.backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(x.grad.data, [1 + 3 + 4, 0, 2, 0, 5])


def test_integer_array_pairs_and_lists_scatter_add():
    x = leaf(np.zeros((3, 4)))
    x[np.array([0, 0, 2]), np.array([1, 1, 3])].sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 1], expected[2, 3] = 2, 1
    np.testing.assert_array_equal(x.grad.data, expected)
    x.grad = None
    x[:, [1, 1, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.tile([0, 2, 0, 1], (3, 1)))


def test_boolean_mask_indexing():
    x = leaf([-1.0, 3.0, -2.0, 5.0])
    mask = x > 0
    y = x[mask]
    np.testing.assert_array_equal(y.data, [3.0, 5.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 6.0, 0.0, 10.0])


def test_array_like_attributes_and_methods():
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.float64
    assert x.T.shape == (3, 2)
    np.testing.assert_array_equal(x.T.data, x.data.T)
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((6,)).shape == (6,)
    assert x.reshape(-1, 1).shape == (6, 1)
    np.testing.assert_array_equal(x.sum(axis=0).data, [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(x.mean(axis=1, keepdims=True).data, [[1.0], [4.0]])
    assert isinstance(x.numpy(), np.ndarray) and np.shares_memory(x.numpy(), x.data)
    assert x.sum().item() == 15.0 and isinstance(x.sum().item(), float)
    with pytest.raises(ValueError, match=r"item: .*6 elements"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x > 1)
    (x.T * 2).mean().backward()
    np.testing.assert_allclose(x.grad.data, np.full((2, 3), 2 / 6))


@pytest.mark.parametrize("op, value, grad", [
    (lambda x: 2 - x, -2.0, -1.0),
    (lambda x: 2 / x, 0.5, -2 / 16),
    (lambda x: 2 ** x, 16.0, 16 * np.log(2)),
    (lambda x: 3 + x, 7.0, 1.0),
    (lambda x: 3 * x, 12.0, 3.0),
    (lambda x: -x, -4.0, -1.0),
    (lambda x: x ** 0.5, 2.0, 0.25),
], ids=["rsub", "rdiv", "rpow", "radd", "rmul", "neg", "pow"])
def test_reflected_and_unary_operators(op, value, grad):
    x = leaf(4.0)
    y = op(x)
    y.backward()
    assert y.item() == pytest.approx(value)
    assert x.grad.item() == pytest.approx(grad)


def test_the_truth_value_error_suggests_calls_that_exist():
    t = zd.tensor([1.0, 0.0])
    with pytest.raises(ValueError, match="ambiguous") as err:
        bool(t)
    suggested = re.findall(r"t\.[\w.]+\(\)", str(err.value))
    assert suggested  # each one runs on the tensor and answers the question
    assert [eval(code, {"t": t}) for code in suggested] == [True, False]


# ---------------------------------------------------------------- dtype rules
def test_python_numbers_and_lists_become_float32_ndarrays_keep_their_dtype():
    assert zd.tensor([1, 2]).dtype == np.float32
    assert zd.tensor(3).dtype == np.float32
    assert zd.tensor([[1.5]]).dtype == np.float32
    assert zd.Tensor(np.array([1.0])).dtype == np.float64
    assert zd.Tensor(np.array([1.0], dtype=np.float32)).dtype == np.float32
    assert zd.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert zd.Tensor(np.array([1, 2])).dtype == np.int64  # an ndarray keeps its dtype


@pytest.mark.parametrize("scalar", [np.float64(2.0), 2.0, 2, np.array(2.0)],
                         ids=["np.float64", "float", "int", "0-d float64 array"])
def test_scalars_never_upcast_a_float32_tensor(scalar):
    x = leaf([1.0, 2.0], dtype=np.float32)
    for y in (x * scalar, scalar * x, x + scalar, x - scalar, scalar / x, x ** scalar):
        assert y.dtype == np.float32
    (x * scalar).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_numpy_float64_clip_bounds_never_upcast_a_float32_tensor():
    x = leaf([-2.0, 0.5, 3.0], dtype=np.float32)
    y = F.clip(x, np.float64(-1.0), np.float64(1.0))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, [-1.0, 0.5, 1.0])


def test_a_float64_seed_gradient_does_not_upcast_a_float32_graph():
    x = leaf([1.0, 2.0], dtype=np.float32)
    (x * 3).backward(np.ones(2))  # np.ones is float64
    assert x.grad.dtype == np.float32


def test_a_leaf_gradient_has_the_leaf_dtype_even_through_float64_arrays():
    w = leaf([1.0, 2.0], dtype=np.float32)
    y = (w * np.array([0.5, 0.25])).sum()  # NumPy promotes the product to float64
    assert y.dtype == np.float64
    y.backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.data, [0.5, 0.25])
