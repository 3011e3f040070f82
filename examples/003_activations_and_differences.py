"""Article 003 (study notes on the book): activations, forward vs central differences, layer rules.

Three parts, as the article's sections:
  * the activation functions of ch. 3 and their derivatives (computed by autodiff);
  * why the central difference beats the forward one (ch. 4.3): the error of each
    against the step h, truncation error on the right, rounding error on the left;
  * the backward rule of each layer of ch. 5 (Add, Mul, ReLU, Sigmoid, Affine,
    Softmax-with-Loss), written out with NumPy as the article's table gives it and
    checked against zerodl's autodiff.

    python examples/003_activations_and_differences.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import zerodl as zd
import zerodl.functional as F
from zerodl import viz
from zerodl.numerical import numerical_diff


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    viz.plot_activations(path=out / "003_activations.png")
    differences()
    viz.plot_difference_error(path=out / "003_difference_error.png")
    layer_rules()
    print(f"wrote {out / '003_activations.png'} and {out / '003_difference_error.png'}")


def differences() -> None:
    """Forward (x+h, x) against central (x+h, x−h) differences for f = exp at x = 1 (f' = e)."""
    print("numerical derivative of exp at x = 1 (exact e = 2.718281828...):")
    print(f"  {'h':>7}  {'forward error':>13}  {'central error':>13}")
    for h in (1e-1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12):
        fwd = abs(numerical_diff(np.exp, 1.0, h, method="forward") - np.e)
        cen = abs(numerical_diff(np.exp, 1.0, h, method="central") - np.e)
        print(f"  {h:7.0e}  {fwd:13.2e}  {cen:13.2e}")
    print("  large h: truncation error ∝ h (forward), ∝ h² (central); tiny h: rounding error ∝ ε/h")
    # The book's example (ch. 4.3.1): a tiny h vanishes in float32 altogether.
    print(f"  np.float32(1e-50) = {np.float32(1e-50)}: too small an h is rounded away")
    central = numerical_diff(lambda x: 0.01 * x ** 2 + 0.1 * x, 5.0, 1e-4, method="central")
    print(f"  the book's f(x) = 0.01x² + 0.1x at x = 5: central {central:.12f} (exact 0.2)")


def layer_rules() -> None:
    """Each layer's backward by the article's formula (NumPy) against zerodl's autodiff."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3, 4))
    dout = rng.standard_normal((3, 4))
    rows = []

    def autodiff(fn, *arrays, grad=dout):
        ts = [zd.Tensor(a.copy(), requires_grad=True) for a in arrays]
        result = fn(*ts)
        result.backward(grad)
        return [t.grad.numpy() for t in ts]

    # Add: ∂z/∂x = 1, ∂z/∂y = 1 — the upstream gradient passes unchanged.
    rows.append(("Add", [dout, dout], autodiff(F.add, x, y)))
    # Mul: ∂z/∂x = y, ∂z/∂y = x — each input gets the *other* input.
    rows.append(("Mul", [dout * y, dout * x], autodiff(F.mul, x, y)))
    # ReLU: the gradient flows where x > 0 and stops where x ≤ 0.
    rows.append(("ReLU", [dout * (x > 0)], autodiff(F.relu, x)))
    # Sigmoid: ∂y/∂x = y(1 − y), from the graph of ×(−1), exp, +1 and / nodes.
    s = 1 / (1 + np.exp(-x))
    rows.append(("Sigmoid", [dout * s * (1 - s)], autodiff(F.sigmoid, x)))
    rows.append(("Sigmoid as ×(−1), exp, +1, / nodes", [dout * s * (1 - s)],
                 autodiff(lambda t: 1 / (1 + F.exp(-t)), x)))
    # Affine: dX = dY·Wᵀ, dW = Xᵀ·dY, db = Σ dY over the batch; shapes match X, W, b.
    X, W, b = rng.standard_normal((3, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4)
    rows.append(("Affine", [dout @ W.T, X.T @ dout, dout.sum(axis=0)],
                 autodiff(F.linear, X, W, b)))
    # Softmax-with-Loss: ∂L/∂a = (y − t) / N, softmax and cross-entropy together.
    a = rng.standard_normal((3, 4))
    t = np.eye(4)[[0, 3, 1]]
    p = np.exp(a - a.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    rows.append(("Softmax-with-Loss", [(p - t) / 3],
                 autodiff(lambda z: F.cross_entropy(z, t), a, grad=None)))

    print("backward rules of the layers (ch. 5): the article's formula vs zerodl autodiff")
    print(f"  {'layer':36}  {'gradients':>9}  {'max |difference|':>16}")
    for name, formula, engine in rows:
        err = max(np.abs(f - e).max() for f, e in zip(formula, engine))
        shapes = ", ".join(str(g.shape) for g in engine)
        print(f"  {name:36}  {len(engine):>9}  {err:>16.1e}   shapes {shapes}")
        assert err < 1e-12, name


if __name__ == "__main__":
    main()
