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


def weights_options(p: argparse.ArgumentParser, file_name: str, train_iters: int) -> None:
    """--weights (the book's file), --test-size and --train-iters (the stand-in's training)."""
    p.add_argument("--weights", help=f"the book's {file_name} (or its .npz)")
    p.add_argument("--test-size", type=int, default=None, help="test images (default: all 10000)")
    p.add_argument("--train-iters", type=int, default=train_iters,
                   help="steps of the stand-in training without --weights (default: %(default)s)")


def deep_convnet_or_stand_in(weights, x, t, train_iters: int):
    """(book network, the same weights in a float64 zerodl model, whether they are the book's):
    DeepConvNet with the book's deep_convnet_params.pkl, or else a SimpleConvNet trained for
    ``train_iters`` Adam steps on (x, t) (images (N, 1, 28, 28))."""
    from zerodl import nn
    from zerodl.book.deep_convnet import DeepConvNet
    from zerodl.book.optimizer import Adam
    from zerodl.book.simple_convnet import SimpleConvNet
    from zerodl.book.weights import book_state_dict

    path = book_weights(weights, "deep_convnet_params.pkl")
    if path:
        network = DeepConvNet()
        network.load_params(str(path))
        model = nn.models.DeepConvNet().double()
    else:
        network = SimpleConvNet()
        optimizer = Adam(lr=0.001)
        for batch in batches(len(x), 100, train_iters):
            optimizer.update(network.params, network.gradient(x[batch], t[batch]))
        model = nn.models.SimpleConvNet().double()
    model.load_state_dict(book_state_dict(network.params, model), strict=False)
    return network, model, path is not None


def last_tenth(losses) -> float:
    """The mean of the last tenth of a loss curve: less noisy than its last batch."""
    return float(np.mean(losses[-max(len(losses) // 10, 1):]))


def plot_losses(curves: dict, title: str, ylim, out: Path, name: str) -> None:
    """Smoothed loss curves (the book's smooth_curve), one per name, against iterations."""
    from zerodl.book.util import smooth_curve

    fig, ax = pyplot().subplots(figsize=(6, 4))
    for (label, losses), marker in zip(curves.items(), "o^sD"):
        ax.plot(smooth_curve(losses), marker=marker, markevery=max(len(losses) // 10, 1), label=label)
    ax.set(xlabel="iterations", ylabel="loss", ylim=ylim, title=title)
    ax.legend()
    save(fig, out, name)


def plot_train_test(ax, train_acc, test_acc, title: str) -> None:
    """Training and test accuracy per epoch, as the book's ch. 6 figures draw them."""
    ax.plot(train_acc, marker="o", markevery=10, label="train")
    ax.plot(test_acc, marker="s", markevery=10, label="test")
    ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1), title=title)
    ax.legend(loc="lower right")
