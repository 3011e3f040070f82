"""Ch. 6.3.2 (fig. 6-19): training with and without batch normalisation, for 16 weight scales.

The book's experiment: 1000 training images, MultiLayerNetExtend with five
hidden layers of 100 units, SGD lr 0.01, batches of 100, 20 epochs, for
initial weight std from 1 down to 1e-4. Without batch norm, most scales
never learn; with it, every scale does. Then the same with zerodl's autograd
API (nn.models.MLP(batchnorm={...the book's ε and running statistics...},
init=std)), printing the final training accuracies side by side.

    python examples/book/batch_norm_test.py [--scales 16 | --scale W ...] [--epochs 20]
                                            [--train-size 1000] [--out DIR]
"""

from __future__ import annotations

import numpy as np
from _shared import accuracy, batches, mnist, parser, pyplot, save, start

import zerodl.functional as F
from zerodl import nn, optim
from zerodl.book.multi_layer_net_extend import MultiLayerNetExtend
from zerodl.book.optimizer import SGD

HIDDEN = [100, 100, 100, 100, 100]
# the book's batch norm: ε 1e-6, running variance from 0, biased (zerodl's defaults are
# PyTorch's, ε 1e-5, which swamps the tiny variances of std 1e-4 weights)
BOOK_BATCHNORM = {"eps": 1e-6, "running_var_init": 0.0, "unbiased": False}


# A network that diverges (large initial weights without batch norm) overflows to inf
# and NaN, as the book's does: its flat accuracy curve is what shows it.
@np.errstate(over="ignore", invalid="ignore")
def book_run(x, t, weight_init_std, epochs, plan, lr=0.01):
    """The book's __train: both networks on the same batches, training accuracy each epoch."""
    bn_network = MultiLayerNetExtend(784, HIDDEN, 10, weight_init_std=weight_init_std, use_batchnorm=True)
    network = MultiLayerNetExtend(784, HIDDEN, 10, weight_init_std=weight_init_std)
    optimizer = SGD(lr=lr)
    iter_per_epoch = max(len(x) // 100, 1)
    train_acc_list, bn_train_acc_list = [], []
    for i, batch in enumerate(plan[:epochs * iter_per_epoch]):
        for _network in (bn_network, network):
            optimizer.update(_network.params, _network.gradient(x[batch], t[batch]))
        if i % iter_per_epoch == 0:
            train_acc_list.append(network.accuracy(x, t))
            bn_train_acc_list.append(bn_network.accuracy(x, t))
    return train_acc_list, bn_train_acc_list


@np.errstate(over="ignore", invalid="ignore")
def zerodl_run(x, t, weight_init_std, epochs, plan, lr=0.01):
    """nn.models.MLP with and without batch norm, the same batches; final training accuracy."""
    final = []
    for batchnorm in (False, True):
        model = nn.models.MLP([784] + HIDDEN + [10], batchnorm=BOOK_BATCHNORM if batchnorm else False,
                              init=weight_init_std)
        opt = optim.SGD(model.named_parameters(), lr=lr)
        for batch in plan[:epochs * max(len(x) // 100, 1)]:
            loss = F.cross_entropy(model(x[batch]), t[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        final.append(accuracy(model, x, t))
    return final


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--scales", type=int, default=16,
                   help="weight scales from 1 to 1e-4 (default: %(default)s)")
    p.add_argument("--scale", type=float, action="append",
                   help="run this weight scale instead (repeatable), e.g. --scale 0.01")
    p.add_argument("--epochs", type=int, default=20, help="epochs per run (default: %(default)s)")
    p.add_argument("--train-size", type=int, default=1000, help="training images (default: %(default)s)")
    args = start(p, argv)
    (x, t), _ = mnist(args.train_size, 1)
    plan = batches(len(x), 100, args.epochs * max(len(x) // 100, 1))

    plt = pyplot()
    scales = args.scale or np.logspace(0, -4, num=args.scales)
    cols = min(len(scales), 4)
    rows = -(-len(scales) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.6 * rows), squeeze=False)
    results = []
    print(f"{'w std':>9}  train acc: book without BN / with BN   zerodl without BN / with BN")
    for ax, w in zip(axes.flat, scales):
        plain, bn = book_run(x, t, w, args.epochs, plan)
        z_plain, z_bn = zerodl_run(x, t, w, args.epochs, plan)
        results.append({"scale": float(w), "book": (plain[-1], bn[-1]), "zerodl": (z_plain, z_bn)})
        print(f"{w:9.2e}  {plain[-1]:18.3f} / {bn[-1]:.3f}    {z_plain:18.3f} / {z_bn:.3f}")
        ax.plot(bn, label="Batch Normalization")
        ax.plot(plain, "--", label="Normal (without BatchNorm)")
        ax.set(ylim=(0, 1), title=f"W: {w:.2g}")
    axes.flat[0].legend(fontsize="small")
    fig.tight_layout()
    save(fig, args.out, "batch_norm_test.png")
    return {"runs": results}


if __name__ == "__main__":
    main()
