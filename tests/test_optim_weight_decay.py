"""Weight decay on the weights alone (weight_decay_filter), the book's rule, against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl import nn, optim


def linear_with_grads():
    """A Linear(2, 1) with W = [[1], [2]], b = [3] and every gradient 1."""
    layer = nn.Linear(2, 1)
    layer.W.data[...] = [[1.0], [2.0]]
    layer.b.data[...] = [3.0]
    for p in layer.parameters():
        p.grad = zd.Tensor(np.ones_like(p.data))
    return layer


@pytest.mark.parametrize("fast", [True, False], ids=["kernel", "formula"])
def test_sgd_decays_the_weight_and_not_the_bias(fast):
    layer = linear_with_grads()
    opt = optim.SGD(layer.named_parameters(), lr=0.1, weight_decay=0.5, weight_decay_filter="weights")
    opt.fast = fast
    opt.step()
    # W - lr (g + λW) = [1 - 0.1·1.5, 2 - 0.1·2]; b - lr g = 3 - 0.1
    np.testing.assert_allclose(layer.W.data, [[0.85], [1.8]], rtol=1e-6)
    np.testing.assert_allclose(layer.b.data, [2.9], rtol=1e-6)
    assert opt.no_decay == {"b"} and opt.weight_decay == 0.5     # put back after the bias


@pytest.mark.parametrize("fast", [True, False], ids=["kernel", "formula"])
def test_adamw_shrinks_the_weight_and_not_the_bias(fast):
    layer = linear_with_grads()
    opt = optim.AdamW(layer.named_parameters(), lr=0.1, weight_decay=0.5, eps=0.0,
                      weight_decay_filter="weights")
    opt.fast = fast
    opt.step()
    # first Adam step moves by lr·sign(g); AdamW first multiplies W by 1 - lr·λ = 0.95
    np.testing.assert_allclose(layer.W.data, [[0.95 - 0.1], [1.9 - 0.1]], rtol=1e-6)
    np.testing.assert_allclose(layer.b.data, [3.0 - 0.1], rtol=1e-6)


def test_without_a_filter_every_parameter_decays():
    layer = linear_with_grads()
    optim.SGD(layer.named_parameters(), lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(layer.b.data, [3.0 - 0.1 * (1 + 0.5 * 3.0)], rtol=1e-6)


def test_the_book_rule_equals_an_l2_penalty_on_the_weights_alone():
    """SGD(weight_decay=λ, filter "weights") = plain SGD on loss + ½λΣW² over the W's (ch. 6.4.2)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 4)).astype(np.float64)
    t = rng.integers(0, 3, 20)
    lam = 0.3

    def make():
        zd.manual_seed(1)
        return nn.models.MLP([4, 5, 3], batchnorm=True).double()

    a, b = make(), make()
    opt_a = optim.SGD(a.named_parameters(), lr=0.1, weight_decay=lam, weight_decay_filter="weights")
    opt_b = optim.SGD(b.named_parameters(), lr=0.1)
    for _ in range(5):
        opt_a.zero_grad()
        F.cross_entropy(a(x), t).backward()
        opt_a.step()
        opt_b.zero_grad()
        penalty = sum((p ** 2).sum() for name, p in b.named_parameters() if name.endswith(".W"))
        (F.cross_entropy(b(x), t) + 0.5 * lam * penalty).backward()
        opt_b.step()
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-10, atol=1e-12, err_msg=name)
    assert opt_a.no_decay == {"layers.0.b", "layers.1.gamma", "layers.1.beta", "layers.3.b"}


def test_a_function_chooses_by_name_and_a_bad_filter_is_refused():
    layer = linear_with_grads()
    opt = optim.Adam(layer.named_parameters(), weight_decay=0.1,
                     weight_decay_filter=lambda name, p: name != "W")
    assert opt.no_decay == {"W"}
    with pytest.raises(ValueError, match="weight_decay_filter must be None, 'weights' or a function"):
        optim.SGD(layer.named_parameters(), lr=0.1, weight_decay_filter="biases")
    assert optim.create("momentum", layer.named_parameters(), weight_decay=0.1,
                        weight_decay_filter="weights").no_decay == {"b"}
