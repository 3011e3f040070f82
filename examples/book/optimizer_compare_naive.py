"""Ch. 6.1.7 (fig. 6-8): SGD, Momentum, AdaGrad and Adam on f(x, y) = x²/20 + y² from (-7, 2).

The book's loop (the optimizers of zerodl.book.optimizer updating a dict of
two plain numbers, 30 steps, the book's learning rates), then zerodl's
``landscape.minimize``, which runs zerodl.optim on the same function with
autodiff gradients. The paths agree (Adam to about 1e-5: zerodl's Adam puts
its ε after the bias correction).

    python examples/book/optimizer_compare_naive.py [--steps 30] [--out DIR]
"""

from __future__ import annotations

import numpy as np
from _shared import parser, pyplot, save, start

from zerodl import landscape
from zerodl.book.optimizer import SGD, AdaGrad, Adam, Momentum

OPTIMIZERS = {"SGD": (SGD, 0.95), "Momentum": (Momentum, 0.1), "AdaGrad": (AdaGrad, 1.5),
              "Adam": (Adam, 0.3)}


def f(x, y):
    return x ** 2 / 20.0 + y ** 2


def df(x, y):
    return x / 10.0, 2.0 * y


def book_path(optimizer, steps, init_pos=(-7.0, 2.0)):
    """The book's loop: record the position, take the gradient, update the dict."""
    params = {"x": init_pos[0], "y": init_pos[1]}
    grads = {}
    path = []
    for _ in range(steps):
        path.append((params["x"], params["y"]))
        grads["x"], grads["y"] = df(params["x"], params["y"])
        optimizer.update(params, grads)
    path.append((params["x"], params["y"]))
    return np.array(path)


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--steps", type=int, default=30, help="updates per optimizer (default: %(default)s)")
    args = start(p, argv)

    results = {}
    print(f"{'optimizer':<10} {'book: final (x, y)':>24} {'zerodl landscape.minimize':>28}  max |diff|")
    for name, (cls, lr) in OPTIMIZERS.items():
        book = book_path(cls(lr=lr), args.steps)
        zerodl = landscape.minimize("elongated", (-7.0, 2.0), name.lower(), lr=lr, steps=args.steps).points
        diff = float(np.max(np.abs(book - zerodl)))
        results[name] = {"book": book[-1], "zerodl": zerodl[-1], "max_difference": diff}
        print(f"{name:<10} ({book[-1][0]:>9.4f}, {book[-1][1]:>9.4f})      "
              f"({zerodl[-1][0]:>9.4f}, {zerodl[-1][1]:>9.4f})        {diff:.1e}")

    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(9, 7))
    X, Y = np.meshgrid(np.arange(-10, 10, 0.05), np.arange(-5, 5, 0.05))
    Z = f(X, Y)
    for ax, (name, (cls, lr)) in zip(axes.flat, OPTIMIZERS.items()):
        path = book_path(cls(lr=lr), args.steps)
        ax.contour(X, Y, np.minimum(Z, 7), levels=15, colors="0.7")
        ax.plot(path[:, 0], path[:, 1], "o-", color="red", markersize=3)
        ax.plot(0, 0, "+", color="black")
        ax.set(xlim=(-10, 10), ylim=(-10, 10), title=f"{name} (lr={lr})")
    save(fig, args.out, "optimizer_compare_naive.png")
    return results


if __name__ == "__main__":
    main()
