"""The book's optimizer comparison (ch. 6.1.7, fig. 6-8): SGD, Momentum, AdaGrad and Adam
on f(x, y) = x²/20 + y² from (−7, 2), 30 steps each, with the book's learning rates.

The valley is 20 times flatter along x than along y, so the gradient points
mostly across it: SGD zig-zags, Momentum rolls like a ball, AdaGrad damps the
steep direction at once, Adam does both. The same figure comes from one command:

    zerodl descent --function elongated --optimizers sgd,momentum,adagrad,adam \\
                   --start=-7,2 --steps 30 --layout grid --out examples/out/optimizer_comparison

    python examples/optimizer_comparison.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from zerodl import landscape, viz

BOOK_LRS = {"sgd": 0.95, "momentum": 0.1, "adagrad": 1.5, "adam": 0.3}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    runs = [landscape.minimize("elongated", (-7.0, 2.0), name, lr=lr, steps=30)
            for name, lr in BOOK_LRS.items()]
    # A zig-zag shows as a path much longer than the 7.3 from start to minimum.
    print(f"{'optimizer':<18} {'final (x, y)':>22}   f(final)   path length")
    for t in runs:
        x, y = t.final
        length = np.linalg.norm(np.diff(t.points, axis=0), axis=1).sum()
        print(f"{t.label:<18} ({x:>9.4f}, {y:>9.4f})   {t.values[-1]:.5f}   {length:8.2f}")
    viz.plot_trajectories(runs, "elongated", layout="grid",
                          title="x²/20 + y² from (−7, 2), 30 steps (the book's fig. 6-8)",
                          path=out / "optimizer_comparison.png")
    print(f"wrote {out / 'optimizer_comparison.png'}")


if __name__ == "__main__":
    main()
