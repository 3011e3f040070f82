"""What the examples in examples/book share: arguments, MNIST, figures, the book's weight files.

Every script takes ``--out DIR`` (default examples/out/book/), ``--seed`` and
its own small-settings options, prints its key numbers and returns them from
``main(argv)`` as a dict (the tests call ``main`` directly).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

import zerodl as zd
from zerodl.book.mnist import load_mnist
from zerodl.random import default_rng

OUT = Path(__file__).resolve().parent.parent / "out" / "book"


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with the options every script has: --out and --seed."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=OUT, help="folder for the figures (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of zerodl's generator (default: 0)")
    return p


def start(p: argparse.ArgumentParser, argv) -> argparse.Namespace:
    """Parse ``argv``, make the output folder and seed zerodl's generator."""
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    zd.manual_seed(args.seed)
    return args


def mnist(train_size=None, test_size=None, **options):
    """The book's ``load_mnist(**options)``, cut to the first train_size / test_size samples."""
    (x, t), (xt, tt) = load_mnist(**options)
    return (x[:train_size], t[:train_size]), (xt[:test_size], tt[:test_size])


def pyplot():
    """matplotlib.pyplot, drawing off-screen (Agg) unless MPLBACKEND says otherwise."""
    import matplotlib

    if not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, out: Path, name: str) -> Path:
    """Write ``fig`` to out/name, close it and say where it went."""
    path = out / name
    fig.savefig(path, dpi=90, bbox_inches="tight")
    pyplot().close(fig)
    print(f"wrote {path}")
    return path


def book_weights(path, file_name: str):
    """``path`` when it is an existing file; otherwise say so (None: the script trains instead)."""
    if path is not None and Path(path).is_file():
        return Path(path)
    where = f"{path} is not there" if path is not None else "no --weights given"
    print(f"The book's {file_name} is not here ({where}): training a small network instead, "
          f"so the numbers below are not the book's. Pass --weights PATH/{file_name} for those.")
    return None


def batches(n: int, batch_size: int, iters: int):
    """``iters`` random mini-batches of indices into n samples, as the book draws them
    (``np.random.choice``, with replacement), from zerodl's generator."""
    rng = default_rng()
    return [rng.choice(n, batch_size) for _ in range(iters)]


def accuracy(model, x, t, batch_size: int = 500) -> float:
    """A zerodl model's accuracy on (x, t), in eval mode and without a graph."""
    model.eval()
    with zd.no_grad():
        hits = sum(int(np.sum(model(x[i:i + batch_size]).data.argmax(axis=1) == t[i:i + batch_size]))
                   for i in range(0, len(x), batch_size))
    model.train()
    return hits / len(x)


def train_small_convnet(x, t, iters: int, batch_size: int = 100):
    """A book SimpleConvNet trained for ``iters`` Adam steps: the stand-in when the book's
    DeepConvNet weights are not here (x: (N, 1, 28, 28))."""
    from zerodl.book.optimizer import Adam
    from zerodl.book.simple_convnet import SimpleConvNet

    network = SimpleConvNet()
    optimizer = Adam(lr=0.001)
    for batch in batches(len(x), batch_size, iters):
        optimizer.update(network.params, network.gradient(x[batch], t[batch]))
    return network
