"""Ch. 6.2.2-6.2.3 (figs. 6-10 to 6-14): histograms of the activations of five layers.

1000 random inputs of 100 features go through five layers of 100 units, with
weights drawn with std 1, std 0.01, "Xavier" (√(1/n)) and, for ReLU, He
(√(2/n)). With std 1 sigmoid outputs pile up at 0 and 1 (vanishing
gradients); with 0.01 they all sit near 0.5 (no expressive power); Xavier
keeps them spread. The book's way loops over layers with NumPy and
zerodl.book.functions; zerodl's way is an nn.Sequential whose activations
keep their outputs through forward hooks.

    python examples/book/weight_init_activation_histogram.py [--samples 1000] [--out DIR]
"""

from __future__ import annotations

import numpy as np
from _shared import parser, pyplot, save, start

import zerodl as zd
from zerodl import nn
from zerodl.book.functions import relu, sigmoid
from zerodl.random import default_rng

CASES = {"sigmoid, std 1": ("sigmoid", 1.0), "sigmoid, std 0.01": ("sigmoid", 0.01),
         "sigmoid, Xavier": ("sigmoid", "xavier"), "ReLU, He": ("relu", "he")}
NODES, LAYERS = 100, 5


def book_activations(x, activation, std):
    """The book's loop: x -> (x @ w) -> activation, five times, keeping every output."""
    outputs = []
    for _ in range(LAYERS):
        scale = {"xavier": np.sqrt(1.0 / NODES), "he": np.sqrt(2.0 / NODES)}.get(std, std)
        w = default_rng().standard_normal((NODES, NODES)) * scale
        x = {"sigmoid": sigmoid, "relu": relu}[activation](x @ w)
        outputs.append(x)
    return outputs


def zerodl_activations(x, activation, std):
    """nn.Sequential of Linear (no bias) and the activation; forward hooks keep each output."""
    act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[activation]
    model = nn.Sequential(*[m for _ in range(LAYERS)
                            for m in (nn.Linear(NODES, NODES, bias=False, init=std), act())])
    outputs = []
    for layer in model:
        if isinstance(layer, act):
            layer.register_forward_hook(lambda module, inputs, y: outputs.append(y.data))
    with zd.no_grad():
        model(x.astype(np.float32))
    return outputs


def describe(outputs):
    """Per layer: the fraction of outputs within 0.01 of 0 or 1, and the std."""
    return [(float(np.mean((a < 0.01) | (a > 0.99))), float(a.std())) for a in outputs]


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--samples", type=int, default=1000, help="random inputs (default: %(default)s)")
    args = start(p, argv)
    x = default_rng().standard_normal((args.samples, NODES))

    plt = pyplot()
    fig, axes = plt.subplots(len(CASES), LAYERS, figsize=(12, 9), sharey="row")
    results = {}
    for row, (name, (activation, std)) in zip(axes, CASES.items()):
        book = book_activations(x, activation, std)
        ours = zerodl_activations(x, activation, std)
        results[name] = {"book": describe(book), "zerodl": describe(ours)}
        print(f"{name:<18} std per layer: book "
              + " ".join(f"{s:.3f}" for _, s in results[name]["book"])
              + " | zerodl " + " ".join(f"{s:.3f}" for _, s in results[name]["zerodl"])
              + f" | at 0 or 1 in layer 5: {results[name]['book'][-1][0]:.0%}")
        for i, (ax, a) in enumerate(zip(row, book)):
            ax.hist(a.flatten(), 30, range=(0, 1))
            ax.set_title(f"{i + 1}-layer" if row is axes[0] else "")
        row[0].set_ylabel(name)
    save(fig, args.out, "weight_init_activation_histogram.png")
    return results


if __name__ == "__main__":
    main()
