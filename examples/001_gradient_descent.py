"""Article 001 (gradient descent, the book's ch. 4.4.1): minimise x² + y² from (−3, 4).

The article runs x ← x − η∇f(x) with η = 0.1 for 100 steps, gradients by
central differences (h = 1e-4), and prints [-6.11110793e-10  8.14814391e-10]:
the origin. It explains why with the Cauchy–Schwarz inequality: a small step
Δ changes f by about ∇f·Δ, which is most negative when Δ points along −∇f.
This script reproduces the run with ``landscape.minimize`` (numerical and
autodiff gradients), checks that first-order argument with numbers, and draws
the path and the contour surface.

    python examples/001_gradient_descent.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from zerodl import landscape, viz


def f(x, y):  # the article's f(x) = x[0]**2 + x[1]**2
    return x ** 2 + y ** 2


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    numerical = landscape.minimize(f, (-3.0, 4.0), "sgd", lr=0.1, steps=100, grad="numerical")
    autodiff = landscape.minimize(f, (-3.0, 4.0), "sgd", lr=0.1, steps=100, grad="autodiff")
    print("after 100 steps (numerical gradients):", numerical.final)
    print("after 100 steps (autodiff gradients): ", autodiff.final)
    print(f"the two paths differ by at most {np.abs(numerical.points - autodiff.points).max():.1e}")
    # Each step multiplies the point by (1 − 2η) = 0.8, so the end is 0.8¹⁰⁰ · (−3, 4).
    print("0.8**100 * (-3, 4)                   =", 0.8 ** 100 * np.array([-3.0, 4.0]))
    assert np.allclose(numerical.final, [-6.11110793e-10, 8.14814391e-10], rtol=1e-6)

    # The Cauchy–Schwarz argument, in numbers: steps of the same small length
    # in different directions; the one along −∇f lowers f the most.
    p, g = numerical.points[0], numerical.grads[0]
    length = 1e-3
    print(f"at ({p[0]:g}, {p[1]:g}): ∇f = ({g[0]:.6g}, {g[1]:.6g}), ‖∇f‖ = {np.linalg.norm(g):.6g}")
    print("change of f for a step of length 1e-3 at an angle θ from −∇f "
          "(first order: −‖∇f‖·1e-3·cos θ):")
    down = -g / np.linalg.norm(g)
    for degrees in (0, 45, 90, 135, 180):
        t = np.radians(degrees)
        d = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ down * length
        change = f(*(p + d)) - f(*p)
        first = round(-np.linalg.norm(g) * length * np.cos(t), 9) + 0.0  # no "-0.000000"
        print(f"  θ = {degrees:3d}°: Δf = {change:+.6f}   (first order {first:+.6f})")

    viz.plot_trajectories([numerical], "bowl",
                          title="gradient descent on x² + y² from (−3, 4), η = 0.1, 100 steps",
                          path=out / "001_trajectory.png")
    viz.plot_surface("bowl", kind="surface", title="f(x, y) = x² + y² with its contour lines",
                     path=out / "001_surface.png")
    print(f"wrote {out / '001_trajectory.png'} and {out / '001_surface.png'}")


if __name__ == "__main__":
    main()
