"""2-D landscapes and descent: known minima, the article's numbers, divergence, the real optimizers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl import landscape
from zerodl.landscape import FUNCTIONS, OPTIMIZERS, minimize


def test_bowl_from_the_articles_start_reaches_the_origin():
    t = minimize("bowl", (-3.0, 4.0), "sgd", lr=0.1, steps=100)
    assert t.points.shape == (101, 2) and t.values.shape == (101,) and t.grads.shape == (100, 2)
    assert t.points.dtype == np.float64
    assert np.linalg.norm(t.final) < 1e-8
    # Each step multiplies the point by 1 - 2·0.1 = 0.8: the article's [-6.11e-10, 8.15e-10].
    np.testing.assert_allclose(t.final, 0.8 ** 100 * np.array([-3.0, 4.0]), rtol=1e-9)
    np.testing.assert_allclose(t.points[1], [-2.4, 3.2])
    np.testing.assert_allclose(t.grads[0], [-6.0, 8.0])
    assert t.values[0] == 25.0 and not t.diverged and t.stopped_at is None


@pytest.mark.parametrize("name, optimizer, lr", [
    ("bowl", "sgd", 0.1), ("elongated", "momentum", 0.1), ("himmelblau", "adam", 0.05),
    ("rosenbrock", "adagrad", 0.1), ("beale", "rmsprop", 0.01),
])
def test_numerical_and_autodiff_gradients_give_the_same_path(name, optimizer, lr):
    start = FUNCTIONS[name].start
    a = minimize(name, start, optimizer, lr=lr, steps=60, grad="autodiff")
    n = minimize(name, start, optimizer, lr=lr, steps=60, grad="numerical")
    assert np.abs(a.points - n.points).max() < 1e-6


@pytest.mark.parametrize("name", [n for n, s in FUNCTIONS.items() if s.minima])
def test_every_minimum_has_zero_gradient_and_the_known_value(name):
    entry = FUNCTIONS[name]
    for mx, my in entry.minima:
        x = zd.Tensor(np.array(mx), requires_grad=True)
        y = zd.Tensor(np.array(my), requires_grad=True)
        z = entry.f(x, y)
        z.backward()
        assert abs(z.item() - entry.min_value) < 1e-12, (name, mx, my)
        assert np.hypot(x.grad.item(), y.grad.item()) < 1e-9, (name, mx, my)
        # a minimum: every nearby point is higher
        for dx, dy in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)]:
            assert entry(mx + dx, my + dy).item() > z.item()


def test_himmelblau_has_four_minima_reached_from_different_starts():
    ends = {tuple(np.round(minimize("himmelblau", s, "sgd", lr=0.01, steps=150).final, 3))
            for s in [(4, 4), (-4, 4), (-4, -4), (4, -4)]}
    known = {tuple(np.round(m, 3)) for m in FUNCTIONS["himmelblau"].minima}
    assert ends == known


def test_saddle_has_no_minimum_and_descent_slides_off_along_y():
    s = FUNCTIONS["saddle"]
    assert s.minima == () and s.min_value is None
    t = minimize("saddle", (-1.5, 0.01), "sgd", lr=0.1, steps=40)
    assert abs(t.final[0]) < 1e-3            # x² pulls x to 0 ...
    assert abs(t.final[1]) > 10.0            # ... while −y² pushes y away: no minimum
    assert t.values[-1] < -100.0


def test_sgd_with_too_large_a_rate_diverges_and_says_so():
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # no overflow warnings either
        t = minimize("bowl", (-3.0, 4.0), "sgd", lr=1.5, steps=100)
    # x ← x − 1.5·2x = −2x: |point| doubles each step and passes 1e6 at step 18.
    assert t.diverged and t.stopped_at == 18
    assert len(t.points) == len(t.values) == 19 and len(t.grads) == 18
    np.testing.assert_allclose(t.points[18], (-2.0) ** 18 * np.array([-3.0, 4.0]))


def test_a_nan_value_stops_the_run():
    # log x with descent walking x below zero: log of a negative number is nan.
    t = minimize(lambda x, y: F.log(x) + y ** 2, (1.0, 0.5), "sgd", lr=0.5, steps=10)
    assert t.diverged and t.stopped_at == 2 and np.isnan(t.values[-1])
    np.testing.assert_allclose(t.points[:2], [[1.0, 0.5], [0.5, 0.0]])


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_goes_downhill(optimizer):
    t = minimize("elongated", (-7.0, 2.0), optimizer, lr=landscape.DEFAULT_LRS[optimizer],
                 steps=30)
    assert not t.diverged
    assert t.values[-1] < 0.2 * t.values[0]
    assert t.optimizer == optimizer and optimizer.lower() in t.label.lower()


def test_the_book_update_rules_are_followed():
    """Momentum and AdaGrad as the book writes them (ch. 6.1), against the real optimizers."""
    def grad(p):
        return np.array([p[0] / 10.0, 2.0 * p[1]])

    p, v = np.array([-7.0, 2.0]), np.zeros(2)
    momentum = [p.copy()]
    for _ in range(30):
        v = 0.9 * v - 0.1 * grad(p)
        p = p + v
        momentum.append(p.copy())
    p, h = np.array([-7.0, 2.0]), np.zeros(2)
    adagrad = [p.copy()]
    for _ in range(30):
        g = grad(p)
        h += g * g
        p = p - 1.5 * g / (np.sqrt(h) + 1e-7)
        adagrad.append(p.copy())
    np.testing.assert_allclose(minimize("elongated", (-7, 2), "momentum", lr=0.1, steps=30).points,
                               momentum, atol=1e-12)
    np.testing.assert_allclose(minimize("elongated", (-7, 2), "adagrad", lr=1.5, steps=30).points,
                               adagrad, atol=1e-12)


def test_optimizer_options_are_passed_on():
    plain = minimize("elongated", (-7, 2), "sgd", lr=0.1, steps=20, momentum=0.9)
    named = minimize("elongated", (-7, 2), "momentum", lr=0.1, steps=20)
    slow = minimize("elongated", (-7, 2), "momentum", lr=0.1, steps=20, momentum=0.5)
    np.testing.assert_allclose(plain.points, named.points)
    assert np.abs(slow.points - named.points).max() > 0.1
    assert named.options == {} and slow.options == {"momentum": 0.5}


def test_an_optimizer_class_can_be_given():
    from zerodl import optim

    t = minimize("bowl", (-3, 4), optim.SGD, lr=0.1, steps=100)
    assert np.linalg.norm(t.final) < 1e-8 and t.optimizer == "sgd"


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="valid names: sgd, momentum, nesterov"):
        minimize("bowl", (0, 1), "adadelta")
    with pytest.raises(ValueError, match="valid names: bowl, elongated, rosenbrock"):
        minimize("sphere", (0, 1))
    with pytest.raises(ValueError, match="grad must be"):
        minimize("bowl", (0, 1), grad="finite")
    with pytest.raises(ValueError, match="two finite numbers"):
        minimize("bowl", (0, 1, 2))


def test_any_function_of_two_tensors_and_a_landscape_object_work():
    t = minimize(lambda x, y: (x - 1.0) ** 2 + (y + 2.0) ** 2, (0, 0), "sgd", lr=0.1, steps=200)
    np.testing.assert_allclose(t.final, [1.0, -2.0], atol=1e-10)
    u = minimize(FUNCTIONS["himmelblau"], (4.0, 4.0), "sgd", lr=0.01, steps=150)
    np.testing.assert_allclose(u.final, [3.0, 2.0], atol=1e-8)


def test_iter_minimize_streams_the_same_steps():
    steps = list(landscape.iter_minimize("elongated", (-7, 2), "adam", lr=0.3, steps=30))
    t = minimize("elongated", (-7, 2), "adam", lr=0.3, steps=30)
    assert [s.step for s in steps] == list(range(31))
    np.testing.assert_array_equal(np.array([s.point for s in steps]), t.points)
    np.testing.assert_array_equal(np.array([s.grad for s in steps[:-1]]), t.grads)
    assert [s.value for s in steps] == list(t.values)
    assert not any(s.diverged for s in steps)


def test_iter_minimize_checks_names_before_the_first_step():
    with pytest.raises(ValueError, match="unknown optimizer"):
        landscape.iter_minimize("bowl", (0, 1), "nope")


def test_grid_evaluates_the_whole_mesh_at_once():
    X, Y, Z = landscape.grid("elongated", n=11)
    assert X.shape == Y.shape == Z.shape == (11, 11)
    assert X[0, 0] == -10 and X[0, -1] == 10 and Y[0, 0] == -5 and Y[-1, 0] == 5
    np.testing.assert_allclose(Z, X ** 2 / 20 + Y ** 2)


def test_gradient_field_is_the_analytic_gradient():
    X, Y, U, V = landscape.gradient_field("himmelblau", (-5, 5), (-5, 5), n=9)
    a, b = X ** 2 + Y - 11, X + Y ** 2 - 7
    np.testing.assert_allclose(U, 4 * X * a + 2 * b, atol=1e-10)
    np.testing.assert_allclose(V, 2 * a + 4 * Y * b, atol=1e-10)
    X, Y, U, V = landscape.gradient_field(lambda x, y: x * y, (-1, 1), (-2, 2), n=5)
    np.testing.assert_allclose(U, Y)
    np.testing.assert_allclose(V, X)
