"""Ch. 6.1.8 (fig. 6-9): SGD, Momentum, AdaGrad and Adam training a 5-layer network on MNIST.

The book's experiment: MultiLayerNet 784-100-100-100-100-10 (ReLU, He
initialisation), batches of 128, 2000 steps, each optimizer with the book's
learning rate (SGD 0.01, Momentum 0.01, AdaGrad 0.01, Adam 0.001), printing the
loss every 100 steps; SGD is clearly the slowest. Then the same with zerodl's
autograd API (nn.models.MLP and zerodl.optim) on the same batches.

    python examples/book/optimizer_compare_mnist.py [--iters 2000] [--train-size 60000] [--out DIR]
"""

from __future__ import annotations

from _shared import batches, last_tenth, mnist, parser, plot_losses, start

import zerodl.functional as F
from zerodl import nn, optim
from zerodl.book.multi_layer_net import MultiLayerNet
from zerodl.book.optimizer import SGD, AdaGrad, Adam, Momentum

BOOK = {"SGD": SGD, "Momentum": Momentum, "AdaGrad": AdaGrad, "Adam": Adam}  # the book's default rates
ZERODL = {"SGD": lambda ps: optim.SGD(ps, lr=0.01), "Momentum": lambda ps: optim.Momentum(ps, lr=0.01),
          "AdaGrad": lambda ps: optim.AdaGrad(ps, lr=0.01), "Adam": lambda ps: optim.Adam(ps, lr=0.001)}


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--iters", type=int, default=2000, help="training steps (default: %(default)s)")
    p.add_argument("--train-size", type=int, default=None, help="training images (default: all)")
    args = start(p, argv)
    (x, t), _ = mnist(args.train_size, 1)
    plan = batches(len(x), 128, args.iters)  # every optimizer sees the same batches

    book_loss = {}
    for name, make in BOOK.items():  # the book's way
        optimizer = make()
        network = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10)
        book_loss[name] = []
        for i, batch in enumerate(plan):
            grads = network.gradient(x[batch], t[batch])
            optimizer.update(network.params, grads)
            book_loss[name].append(float(network.loss(x[batch], t[batch])))
            if i % 100 == 0:
                print(f"book   {name:<8} step {i:5d}: loss {book_loss[name][-1]:.4f}")

    zerodl_loss = {}
    for name, make in ZERODL.items():  # zerodl's autograd API
        model = nn.models.MLP([784, 100, 100, 100, 100, 10])
        opt = make(model.named_parameters())
        zerodl_loss[name] = []
        for batch in plan:
            loss = F.cross_entropy(model(x[batch]), t[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            zerodl_loss[name].append(loss.item())
        print(f"zerodl {name:<8} last loss {zerodl_loss[name][-1]:.4f}")

    summary = {name: (last_tenth(book_loss[name]), last_tenth(zerodl_loss[name])) for name in BOOK}
    for name, (b, z) in summary.items():
        print(f"{name:<8} final loss: book {b:.4f}, zerodl {z:.4f}")

    plot_losses(book_loss, "ch. 6.1.8: optimizers on MNIST", (0, 1), args.out, "optimizer_compare_mnist.png")
    return {"book": {k: v[0] for k, v in summary.items()}, "zerodl": {k: v[1] for k, v in summary.items()}}


if __name__ == "__main__":
    main()
