"""Article 004 (the gradients of backpropagation): the six gradients of a two-layer network.

The article derives, for an input layer i, a hidden layer j and an output
layer k, the gradients of the error E with respect to the output layer's
weights, bias and input, and the hidden layer's weights, bias and input:

    δ_k = ∂E/∂y_k · ∂y_k/∂u_k               δ_j = ∂E/∂y_j · ∂y_j/∂u_j
    ∂E/∂w_jk = y_j δ_k                      ∂E/∂w_ij = y_i δ_j
    ∂E/∂b_k  = δ_k                          ∂E/∂b_j  = δ_j
    ∂E/∂y_j  = Σ_k δ_k w_jk                 ∂E/∂y_i  = Σ_j δ_j w_ij

Here the network has sigmoid units in both layers and the squared error
E = ½ Σ (y_k − t_k)², summed over a batch. The formulas are written with NumPy
(a batch turns each sum over samples into a matrix product) and compared with
zerodl's autodiff of the same network: all six agree to rounding error.

    python examples/004_two_layer_gradients.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import zerodl as zd
import zerodl.functional as F


def by_formulas(x, t, w_ij, b_j, w_jk, b_k) -> dict[str, np.ndarray]:
    """The article's δ_k / δ_j recipe, forward then backward, with NumPy arrays."""
    def sigmoid(u):
        return 1 / (1 + np.exp(-u))

    y_j = sigmoid(x @ w_ij + b_j)             # hidden layer output
    y_k = sigmoid(y_j @ w_jk + b_k)           # output layer output
    # Output layer: δ_k = (loss gradient) × (activation gradient).
    delta_k = (y_k - t) * y_k * (1 - y_k)
    grads = {"w_jk": y_j.T @ delta_k, "b_k": delta_k.sum(axis=0), "y_j": delta_k @ w_jk.T}
    # Hidden layer: δ_j = (gradient arriving at y_j) × (activation gradient).
    delta_j = grads["y_j"] * y_j * (1 - y_j)
    grads.update({"w_ij": x.T @ delta_j, "b_j": delta_j.sum(axis=0), "y_i": delta_j @ w_ij.T})
    return grads


def by_autodiff(x, t, w_ij, b_j, w_jk, b_k) -> dict[str, np.ndarray]:
    """The same network in zerodl; one backward() gives every gradient."""
    ts = {k: zd.Tensor(v.copy(), requires_grad=True)
          for k, v in dict(y_i=x, w_ij=w_ij, b_j=b_j, w_jk=w_jk, b_k=b_k).items()}
    y_j = F.sigmoid(F.linear(ts["y_i"], ts["w_ij"], ts["b_j"])).retain_grad()
    y_k = F.sigmoid(F.linear(y_j, ts["w_jk"], ts["b_k"]))
    error = 0.5 * ((y_k - t) ** 2).sum()
    error.backward()
    grads = {k: v.grad.numpy() for k, v in ts.items()}
    grads["y_j"] = y_j.grad.numpy()
    return grads


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(0)
    n, n_i, n_j, n_k = 5, 3, 4, 2              # batch, input, hidden and output sizes
    x = rng.standard_normal((n, n_i))
    t = rng.uniform(size=(n, n_k))
    params = dict(w_ij=rng.standard_normal((n_i, n_j)), b_j=rng.standard_normal(n_j),
                  w_jk=rng.standard_normal((n_j, n_k)), b_k=rng.standard_normal(n_k))

    formulas = by_formulas(x, t, **params)
    engine = by_autodiff(x, t, **params)
    names = [("w_jk", "output layer weights  ∂E/∂w_jk = y_j δ_k"),
             ("b_k", "output layer bias     ∂E/∂b_k = δ_k"),
             ("y_j", "output layer input    ∂E/∂y_j = Σ_k δ_k w_jk"),
             ("w_ij", "hidden layer weights  ∂E/∂w_ij = y_i δ_j"),
             ("b_j", "hidden layer bias     ∂E/∂b_j = δ_j"),
             ("y_i", "hidden layer input    ∂E/∂y_i = Σ_j δ_j w_ij")]
    np.set_printoptions(precision=6, suppress=True)
    lines = []
    for key, title in names:
        a, b = formulas[key], engine[key]
        err = np.abs(a - b).max()
        lines += [f"{title:45} shape {str(a.shape):7} max |formula − autodiff| = {err:.1e}",
                  f"    formula : {a.reshape(-1)[:4]}", f"    autodiff: {b.reshape(-1)[:4]}"]
        assert a.shape == b.shape and err < 1e-12, key
    lines.append("all six gradients agree")
    print("\n".join(lines))
    (out / "004_gradients.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out / '004_gradients.txt'}")


if __name__ == "__main__":
    main()
