"""Ch. 6.4.1-6.4.2 (figs. 6-20, 6-21): overfitting 300 images, and weight decay against it.

The book's experiment: MultiLayerNet with six hidden layers of 100 units
trained on only 300 images (SGD lr 0.01, batches of 100, 201 epochs).
Training accuracy reaches 1.0 while test accuracy stays far below; with
weight decay λ = 0.1 (½λΣW² on the weights) the gap narrows. Then with
zerodl's autograd API: nn.models.MLP and optim.SGD(weight_decay=0.1,
weight_decay_filter="weights"), which decays the weights only, as the book.

    python examples/book/overfit_weight_decay.py [--epochs 201] [--weight-decay 0.1] [--out DIR]
"""

from __future__ import annotations

from _shared import accuracy, batches, mnist, parser, plot_train_test, pyplot, save, start

import zerodl.functional as F
from zerodl import nn, optim
from zerodl.book.multi_layer_net import MultiLayerNet
from zerodl.book.optimizer import SGD

SIZES = [784, 100, 100, 100, 100, 100, 100, 10]


def book_run(x, t, xt, tt, plan, iter_per_epoch, weight_decay_lambda):
    network = MultiLayerNet(784, SIZES[1:-1], 10, weight_decay_lambda=weight_decay_lambda)
    optimizer = SGD(lr=0.01)
    train_acc_list, test_acc_list = [], []
    for i, batch in enumerate(plan):
        optimizer.update(network.params, network.gradient(x[batch], t[batch]))
        if i % iter_per_epoch == 0:
            train_acc_list.append(network.accuracy(x, t))
            test_acc_list.append(network.accuracy(xt, tt))
    return train_acc_list, test_acc_list


def zerodl_run(x, t, xt, tt, plan, weight_decay):
    model = nn.models.MLP(SIZES)
    opt = optim.SGD(model.named_parameters(), lr=0.01, weight_decay=weight_decay,
                    weight_decay_filter="weights")  # the book's rule: the W's only
    for batch in plan:
        loss = F.cross_entropy(model(x[batch]), t[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return accuracy(model, x, t), accuracy(model, xt, tt)


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--epochs", type=int, default=201, help="epochs (default: %(default)s)")
    p.add_argument("--weight-decay", type=float, default=0.1, help="λ (default: %(default)s)")
    p.add_argument("--train-size", type=int, default=300, help="training images (default: %(default)s)")
    p.add_argument("--test-size", type=int, default=None, help="test images (default: all)")
    args = start(p, argv)
    (x, t), (xt, tt) = mnist(args.train_size, args.test_size)
    iter_per_epoch = max(len(x) // 100, 1)
    plan = batches(len(x), 100, args.epochs * iter_per_epoch)

    result = {}
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, lam in zip(axes, (0.0, args.weight_decay)):
        train_acc, test_acc = book_run(x, t, xt, tt, plan, iter_per_epoch, lam)
        z_train, z_test = zerodl_run(x, t, xt, tt, plan, lam)
        result[lam] = {"book": (train_acc[-1], test_acc[-1]), "zerodl": (z_train, z_test)}
        print(f"λ = {lam:<4}: book train {train_acc[-1]:.3f}, test {test_acc[-1]:.3f} | "
              f"zerodl train {z_train:.3f}, test {z_test:.3f}")
        plot_train_test(ax, train_acc, test_acc, f"weight decay λ = {lam}" if lam else "no weight decay")
    save(fig, args.out, "overfit_weight_decay.png")
    return {"without": result[0.0], "with": result[args.weight_decay]}


if __name__ == "__main__":
    main()
