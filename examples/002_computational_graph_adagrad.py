"""Article 002 (computational graphs): minimise x²/20 + y² by driving Square, Mul and Add nodes by hand.

The article writes f(x, y) = x²/20 + y² as a graph of four layers (Square for
x, Mul by 1/20, Square for y, Add), calls their forward and backward by hand
from (8, 1), and steps (x, y) ← (x, y) − 0.9·∇f for 100 steps; then replaces
the step by AdaGrad with learning rate 1. Here the nodes are zerodl's own
Functions (Pow is the book's Square, Mul its MulLayer, Add its AddLayer),
driven by hand exactly the same way, and AdaGrad is ``zerodl.optim.AdaGrad``.
Both paths are checked against ``landscape.minimize`` and drawn on one figure.

    python examples/002_computational_graph_adagrad.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import zerodl as zd
from zerodl import landscape, nn, optim, viz
from zerodl.functional.arithmetic import Add, Mul, Pow


class Graph:
    """z = x²/20 + y² as four nodes, reused at every step like the article's layer objects."""

    def __init__(self):
        self.square_x, self.mul, self.square_y, self.add = Pow(2), Mul(), Pow(2), Add()

    def forward(self, x: float, y: float) -> float:
        x0 = self.square_x(zd.Tensor(np.float64(x)))   # x²
        x1 = self.mul(x0, 1 / 20)                        # x²/20
        y1 = self.square_y(zd.Tensor(np.float64(y)))   # y²
        return self.add(x1, y1).item()                   # x²/20 + y²

    def backward(self, dout: float = 1.0) -> tuple[float, float]:
        """The chain rule, node by node from the output back to x and y."""
        dx1, dy1 = self.add.backward_by_hand(dout)     # Add passes the gradient on unchanged
        dx0, _ = self.mul.backward_by_hand(dx1)        # Mul: times the other input (1/20)
        dx = self.square_x.backward_by_hand(dx0)       # Square: times 2x
        dy = self.square_y.backward_by_hand(dy1)       # Square: times 2y
        return dx.item(), dy.item()


def gradient_descent(graph: Graph, start, lr: float, steps: int) -> np.ndarray:
    x, y = start
    points = [(x, y)]
    for _ in range(steps):
        graph.forward(x, y)
        dx, dy = graph.backward(1.0)
        x, y = x - lr * dx, y - lr * dy
        points.append((x, y))
    return np.array(points)


def adagrad(graph: Graph, start, lr: float, steps: int) -> np.ndarray:
    p = nn.Parameter(np.array(start, dtype=np.float64))
    opt = optim.AdaGrad([p], lr=lr)
    points = [p.data.copy()]
    for _ in range(steps):
        graph.forward(*p.data)
        p.grad = zd.Tensor(np.array(graph.backward(1.0)))
        opt.step()
        points.append(p.data.copy())
    return np.array(points)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    graph = Graph()
    start, steps = (8.0, 1.0), 100

    print("the graph at (8, 1): z =", graph.forward(*start), " ∂z/∂(x, y) =", graph.backward())
    plain = gradient_descent(graph, start, lr=0.9, steps=steps)
    ada = adagrad(graph, start, lr=1.0, steps=steps)
    print("first steps of descent with lr 0.9 (x, y, z):")
    for x, y in plain[:4]:
        print(f"  {x:9.5f} {y:9.5f} {graph.forward(x, y):9.5f}")
    print(f"after {steps} steps, lr 0.9:      ({plain[-1, 0]:.3e}, {plain[-1, 1]:.3e})")
    print(f"after {steps} steps, AdaGrad 1.0: ({ada[-1, 0]:.3e}, {ada[-1, 1]:.3e})")
    for name, path in [("lr 0.9", plain), ("AdaGrad", ada)]:
        reach = np.flatnonzero(np.hypot(path[:, 0], path[:, 1]) < 0.1)
        print(f"  {name:8s} first within 0.1 of the minimum at step {reach[0]}")

    # The same runs through the engine's own graph and landscape.minimize.
    t_plain = landscape.minimize("elongated", start, "sgd", lr=0.9, steps=steps)
    t_ada = landscape.minimize("elongated", start, "adagrad", lr=1.0, steps=steps)
    gap = max(np.abs(t_plain.points - plain).max(), np.abs(t_ada.points - ada).max())
    print(f"hand-driven nodes vs landscape.minimize: max difference {gap:.1e}")
    assert gap < 1e-12

    viz.plot_trajectories({"gradient descent, lr 0.9": t_plain, "AdaGrad, lr 1": t_ada},
                          "elongated", xlim=(-1.0, 9.0), ylim=(-2.0, 2.0),
                          title="x²/20 + y² from (8, 1): plain descent (lr 0.9) vs AdaGrad (lr 1)",
                          path=out / "002_paths.png")

    # The graph itself, drawn from a forward pass of ordinary zerodl operations.
    x = zd.Tensor(np.float64(8.0), requires_grad=True, name="x")
    y = zd.Tensor(np.float64(1.0), requires_grad=True, name="y")
    dot = viz.draw_graph(x ** 2 * (1 / 20) + y ** 2)
    (out / "002_graph.dot").write_text(dot)
    try:
        viz.render(dot, out / "002_graph.png")
        print(f"wrote {out / '002_paths.png'} and {out / '002_graph.png'}")
    except RuntimeError as e:
        print(f"wrote {out / '002_paths.png'} and {out / '002_graph.dot'} ({e})")


if __name__ == "__main__":
    main()
