"""Ch. 6.2.4 (fig. 6-15): std 0.01, Xavier and He initial weights training a 5-layer ReLU network.

MultiLayerNet 784-100-100-100-100-10 with SGD (lr 0.01), batches of 128, 2000
steps. With std 0.01 the loss stays at 2.30 (log 10: nothing learnt), He
learns fastest. Then the same with zerodl's autograd API (nn.models.MLP with
``init=``), on the same batches.

    python examples/book/weight_init_compare.py [--iters 2000] [--train-size 60000] [--out DIR]
"""

from __future__ import annotations

from _shared import batches, last_tenth, mnist, parser, plot_losses, start

import zerodl.functional as F
from zerodl import nn, optim
from zerodl.book.multi_layer_net import MultiLayerNet
from zerodl.book.optimizer import SGD

INITS = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--iters", type=int, default=2000, help="training steps (default: %(default)s)")
    p.add_argument("--train-size", type=int, default=None, help="training images (default: all)")
    args = start(p, argv)
    (x, t), _ = mnist(args.train_size, 1)
    plan = batches(len(x), 128, args.iters)

    book_loss, zerodl_loss = {}, {}
    for name, init in INITS.items():
        network = MultiLayerNet(784, [100, 100, 100, 100], 10, weight_init_std=init)
        optimizer = SGD(lr=0.01)
        model = nn.models.MLP([784, 100, 100, 100, 100, 10], init=init)
        opt = optim.SGD(model.named_parameters(), lr=0.01)
        book_loss[name], zerodl_loss[name] = [], []
        for i, batch in enumerate(plan):
            optimizer.update(network.params, network.gradient(x[batch], t[batch]))
            book_loss[name].append(float(network.loss(x[batch], t[batch])))
            loss = F.cross_entropy(model(x[batch]), t[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            zerodl_loss[name].append(loss.item())
            if i % 100 == 0:
                print(f"{name:<8} step {i:5d}: loss book {book_loss[name][-1]:.4f}, "
                      f"zerodl {zerodl_loss[name][-1]:.4f}")

    plot_losses(book_loss, "ch. 6.2.4: initial weights", (0, 2.5), args.out, "weight_init_compare.png")
    result = {"book": {k: last_tenth(v) for k, v in book_loss.items()},
              "zerodl": {k: last_tenth(v) for k, v in zerodl_loss.items()}}
    for name in INITS:
        print(f"{name:<8} final loss: book {result['book'][name]:.4f}, zerodl {result['zerodl'][name]:.4f}")
    return result


if __name__ == "__main__":
    main()
