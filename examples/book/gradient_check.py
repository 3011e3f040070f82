"""Ch. 5.7.3: the gradient check, backpropagation against central differences.

The book's check (TwoLayerNet on three images: the mean |difference| per
parameter, around 1e-10) and the same check with zerodl's gradcheck, which
compares backward() with central differences in float64 for a zerodl model.

    python examples/book/gradient_check.py [--batch 3] [--hidden 50] [--out DIR]
"""

from __future__ import annotations

import numpy as np
from _shared import mnist, parser, pyplot, save, start

import zerodl as zd
import zerodl.functional as F
from zerodl import nn
from zerodl.book.two_layer_net import TwoLayerNet
from zerodl.numerical import numerical_gradient


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--batch", type=int, default=3, help="images in the check (default: %(default)s)")
    p.add_argument("--hidden", type=int, default=50, help="hidden units (default: %(default)s)")
    args = start(p, argv)
    (x, t), _ = mnist(args.batch, 1)
    x = x.astype(np.float64)  # the check is made in float64

    # the book's way
    network = TwoLayerNet(input_size=784, hidden_size=args.hidden, output_size=10)
    grad_numerical = network.numerical_gradient(x, t)
    grad_backprop = network.gradient(x, t)
    book = {}
    for key in grad_numerical:
        diff = np.abs(grad_backprop[key] - grad_numerical[key])
        book[key] = (float(np.mean(diff)), float(np.max(diff)))
        print(f"book   {key}: mean |diff| {book[key][0]:.3e}, max {book[key][1]:.3e}")

    # zerodl's way: backward() against central differences on the same loss
    model = nn.models.MLP([784, args.hidden, 10], init=0.01).double()
    params = dict(model.named_parameters())
    loss = F.cross_entropy(model(x), t)
    loss.backward()
    z = {}
    for name, param in params.items():
        with zd.no_grad():
            numerical = numerical_gradient(lambda _: F.cross_entropy(model(x), t).item(), param.data)
        diff = np.abs(param.grad.data - numerical)
        z[name] = (float(np.mean(diff)), float(np.max(diff)))
        print(f"zerodl {name}: mean |diff| {z[name][0]:.3e}, max {z[name][1]:.3e}")

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = list(book)
    ax.bar(np.arange(len(names)) - 0.2, [book[k][1] for k in names], 0.4, label="book (TwoLayerNet)")
    ax.bar(np.arange(len(names)) + 0.2, [z[k][1] for k in z], 0.4, label="zerodl (MLP)")
    ax.set_xticks(range(len(names)), names)
    ax.set(yscale="log", ylabel="max |backprop − numerical|", title="ch. 5.7.3: gradient check")
    ax.legend()
    save(fig, args.out, "gradient_check.png")
    return {"book_max": max(v[1] for v in book.values()), "zerodl_max": max(v[1] for v in z.values()),
            "book": book, "zerodl": z}


if __name__ == "__main__":
    main()
