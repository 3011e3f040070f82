"""The seed articles' hand calculations, replayed with zerodl's own nodes."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl.functional.arithmetic import Add, Mul, Pow
from zerodl.numerical import numerical_diff, numerical_gradient


def leaf(values) -> zd.Tensor:
    return zd.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------- seed 002: f(x, y) = x²/20 + y²
class Graph002:
    """The article's computational graph: Square → Mul(1/20) ─┐
                                              Square ────────Add → z
    built from zerodl's nodes and driven by hand (forward, then backward from 1)."""

    def __init__(self):
        self.square1, self.square2 = Pow(2), Pow(2)  # the book's Square is Pow with c = 2
        self.mul, self.add = Mul(), Add()

    def forward(self, x, y):
        x0 = self.square1(x)
        x1 = self.mul(x0, 1 / 20)
        y1 = self.square2(y)
        return self.add(x1, y1)

    def backward(self, dout=1.0):
        bx0, by1 = self.add.backward_by_hand(dout)
        bx1, _ = self.mul.backward_by_hand(bx0)
        return self.square1.backward_by_hand(bx1), self.square2.backward_by_hand(by1)


def f002(x, y):
    return x ** 2 / 20 + y ** 2


def test_seed_002_graph_by_hand_matches_backward_and_numerical_gradient():
    graph = Graph002()
    z = graph.forward(np.array(8.0), np.array(1.0))
    assert z.item() == pytest.approx(64 / 20 + 1)
    dx, dy = graph.backward(1.0)
    assert (dx.item(), dy.item()) == pytest.approx((0.8, 2.0), rel=1e-15)

    x, y = leaf(8.0), leaf(1.0)
    f002(x, y).backward()
    assert (x.grad.item(), y.grad.item()) == pytest.approx((0.8, 2.0), rel=1e-15)

    numeric = numerical_gradient(lambda p: f002(p[0], p[1]), np.array([8.0, 1.0]))
    np.testing.assert_allclose(numeric, [0.8, 2.0], rtol=1e-9)


def test_seed_002_graph_works_on_python_numbers_like_the_article():
    graph = Graph002()
    z = graph.forward(8, 1)  # plain numbers: float32, as the library's default
    assert z.dtype == np.float32 and z.item() == pytest.approx(4.2)
    dx, dy = graph.backward(1)
    assert (dx.item(), dy.item()) == pytest.approx((0.8, 2.0), rel=1e-6)


def test_seed_002_hundred_steps_of_descent_reach_the_origin():
    graph = Graph002()
    px, py = np.array(8.0), np.array(1.0)
    path = [(px, py)]
    for _ in range(100):
        graph.forward(px, py)
        dx, dy = graph.backward(1.0)
        px, py = px - 0.9 * dx.data, py - 0.9 * dy.data
        path.append((px, py))
    # x shrinks by 1 - 0.9·0.1 = 0.91 a step; y flips sign and shrinks by |1 - 0.9·2| = 0.8
    assert px == pytest.approx(8 * 0.91 ** 100, rel=1e-12)
    assert py == pytest.approx(0.8 ** 100, rel=1e-12)
    assert abs(px) < 1e-3 and abs(py) < 1e-9
    ys = np.array([p[1] for p in path[:6]])
    np.testing.assert_allclose(ys, [1.0, -0.8, 0.64, -0.512, 0.4096, -0.32768])


def test_seed_002_descent_by_autograd_follows_the_same_path():
    hand = Graph002()
    hx, hy = np.array(8.0), np.array(1.0)
    x, y = leaf(8.0), leaf(1.0)
    for _ in range(100):
        hand.forward(hx, hy)
        dx, dy = hand.backward(1.0)
        hx, hy = hx - 0.9 * dx.data, hy - 0.9 * dy.data
        x.grad = y.grad = None
        f002(x, y).backward()
        with zd.no_grad():
            x, y = leaf(x.data - 0.9 * x.grad.data), leaf(y.data - 0.9 * y.grad.data)
    assert (x.item(), y.item()) == pytest.approx((float(hx), float(hy)), rel=1e-12)


# ---------------------------------------------------------------- seed 003: the layers' backward rules
def test_seed_003_add_node_passes_the_gradient_through(rng):
    x, y = leaf(rng.standard_normal(3)), leaf(rng.standard_normal(3))
    dout = rng.standard_normal(3)
    (x + y).backward(dout)
    np.testing.assert_array_equal(x.grad.data, dout)  # ∂z/∂x = 1
    np.testing.assert_array_equal(y.grad.data, dout)  # ∂z/∂y = 1


def test_seed_003_mul_node_swaps_the_inputs(rng):
    x, y = leaf(rng.standard_normal(3)), leaf(rng.standard_normal(3))
    dout = rng.standard_normal(3)
    (x * y).backward(dout)
    np.testing.assert_allclose(x.grad.data, dout * y.data)  # ∂z/∂x = y
    np.testing.assert_allclose(y.grad.data, dout * x.data)  # ∂z/∂y = x


def test_seed_003_relu_stops_the_signal_where_x_is_not_positive():
    x = leaf([-2.0, -0.0, 0.0, 0.5, 3.0])
    dout = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    F.relu(x).backward(dout)
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0, 4.0, 5.0])


def test_seed_003_sigmoid_layer_is_y_times_one_minus_y(rng):
    data = rng.uniform(-4, 4, 6)
    dout = rng.standard_normal(6)
    x = leaf(data)
    y = F.sigmoid(x)
    y.backward(dout)
    np.testing.assert_allclose(x.grad.data, dout * y.data * (1 - y.data), rtol=1e-14)
    # The article's graph of sigmoid: ×(-1) → exp → +1 → 1/x, each node by autodiff.
    x2 = leaf(data)
    y2 = 1 / (1 + F.exp(-x2))
    y2.backward(dout)
    np.testing.assert_allclose(y2.data, y.data, rtol=1e-14)
    np.testing.assert_allclose(x2.grad.data, x.grad.data, rtol=1e-12)


def test_seed_003_division_node_is_minus_y_squared(rng):
    x = leaf(rng.uniform(0.5, 3, 4))
    y = 1 / x
    dout = rng.standard_normal(4)
    y.backward(dout)
    np.testing.assert_allclose(x.grad.data, -dout / x.data ** 2, rtol=1e-14)
    np.testing.assert_allclose(x.grad.data, -dout * y.data ** 2, rtol=1e-14)


def test_seed_003_exp_node_is_its_own_derivative(rng):
    x = leaf(rng.uniform(-2, 2, 4))
    y = F.exp(x)
    dout = rng.standard_normal(4)
    y.backward(dout)
    np.testing.assert_allclose(x.grad.data, dout * y.data, rtol=1e-15)


def test_seed_003_affine_layer(rng):
    X, W, b = leaf(rng.standard_normal((4, 3))), leaf(rng.standard_normal((3, 2))), \
        leaf(rng.standard_normal(2))
    dY = rng.standard_normal((4, 2))
    F.linear(X, W, b).backward(dY)
    np.testing.assert_allclose(X.grad.data, dY @ W.data.T, rtol=1e-14)  # dX = dY·Wᵀ
    np.testing.assert_allclose(W.grad.data, X.data.T @ dY, rtol=1e-14)  # dW = Xᵀ·dY
    np.testing.assert_allclose(b.grad.data, dY.sum(axis=0), rtol=1e-14)  # db = Σ dY
    assert X.grad.shape == X.shape and W.grad.shape == W.shape  # each as its input


def test_seed_003_softmax_with_loss_gradient_is_y_minus_t(rng):
    a = leaf(rng.standard_normal((2, 3)))
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    F.cross_entropy(a, t).backward()
    y = F.softmax(zd.Tensor(a.data)).data
    np.testing.assert_allclose(a.grad.data, (y - t) / 2, rtol=1e-14)


def test_seed_003_matrix_product_needs_matching_inner_sizes():
    A, B = zd.Tensor(np.ones((2, 3))), zd.Tensor(np.ones((3, 4)))
    assert (A @ B).shape == (2, 4)
    assert (B.T @ A.T).shape == (4, 2)  # the other pairing: (4, 3) @ (3, 2)
    with pytest.raises(ValueError, match=r"matmul: \(2, 3\) @ \(2, 3\)"):
        A @ A


def test_seed_003_central_difference_beats_forward_difference():
    def f(x):
        return 0.01 * x ** 2 + 0.1 * x

    for x, exact in [(5.0, 0.2), (10.0, 0.3)]:
        central = abs(numerical_diff(f, x) - exact)
        forward = abs(numerical_diff(f, x, method="forward") - exact)
        assert central < 1e-9 < 1e-7 < forward


def test_seed_003_activation_facts():
    x = zd.Tensor(np.linspace(-3, 3, 13))
    np.testing.assert_array_equal(F.step(x).data, (x.data > 0).astype(float))
    assert F.step(zd.Tensor(np.array(0.0))).item() == 0.0
    s = F.sigmoid(x).data
    np.testing.assert_allclose(s + s[::-1], 1.0, rtol=1e-15)  # symmetric about (0, 0.5)
    t = F.tanh(x).data
    np.testing.assert_allclose(t, -t[::-1], atol=1e-15)  # symmetric about the origin
    np.testing.assert_array_equal(F.identity(x).data, x.data)
    p = F.softmax(x).data
    assert p.sum() == pytest.approx(1.0) and (np.diff(p) > 0).all()  # order kept
