"""Article 000 (gradients): f(x, y) = x² + y² as a 3-D wireframe, then its gradient as arrows.

The article computes the gradient of f at every point of a grid on [−1, 1]²
by central differences and draws −∇f with quiver: every arrow points
downhill, towards the minimum at the origin, longer where the slope is
steeper. Here the same field comes from zerodl in one backward pass, and is
checked against the article's point-by-point numerical gradient.

    python examples/000_gradient_field.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import zerodl as zd
from zerodl import landscape, viz
from zerodl.numerical import numerical_gradient


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    def f(x, y):  # the article's func(x, y)
        return x ** 2 + y ** 2

    # The gradient at one point, by backpropagation.
    x = zd.tensor(np.array(0.5), requires_grad=True)
    y = zd.tensor(np.array(-1.0), requires_grad=True)
    f(x, y).backward()
    print(f"∇f(0.5, -1) = ({x.grad.item():g}, {y.grad.item():g})   (exact: (2x, 2y) = (1, -2))")

    # The whole field on a 21×21 grid over [−1, 1]², by one backward pass ...
    X, Y, U, V = landscape.gradient_field(f, (-1, 1), (-1, 1), n=21)
    # ... and by the article's method: central differences at every point, one by one.
    numeric = np.array([numerical_gradient(lambda p: p[0] ** 2 + p[1] ** 2, np.array([a, b]))
                        for a, b in zip(X.ravel(), Y.ravel())])
    err = np.abs(numeric - np.stack([U.ravel(), V.ravel()], axis=1)).max()
    print(f"gradient field on {X.shape[0]}×{X.shape[1]} points: max |autodiff − numerical| = "
          f"{err:.1e}")
    i = np.unravel_index(np.argmax(np.hypot(U, V)), U.shape)
    print(f"longest arrow −∇f = ({-U[i]:g}, {-V[i]:g}) at the corner ({X[i]:g}, {Y[i]:g}); "
          f"at the origin −∇f = ({0.0 - U[10, 10]:g}, {0.0 - V[10, 10]:g})")
    assert err < 1e-6

    # FUNCTIONS["bowl"] is this same f, with its minimum marked on the plots.
    viz.plot_surface("bowl", (-1, 1), (-1, 1), n=41, kind="wireframe",
                     title="f(x, y) = x² + y² on [−1, 1]²", path=out / "000_surface.png")
    viz.plot_gradient_field("bowl", (-1, 1), (-1, 1), n=21,
                            title="−∇f of f(x, y) = x² + y²: every arrow points downhill",
                            path=out / "000_gradient_field.png")
    print(f"wrote {out / '000_surface.png'} and {out / '000_gradient_field.png'}")


if __name__ == "__main__":
    main()
