"""Ch. 6.5.3 (fig. 6-24): random search for the learning rate and weight decay.

The book's search: 500 training images, 20% held out for validation, 100
trials of lr = 10^U(-6, -2) and λ = 10^U(-8, -4), each training a
MultiLayerNet with six hidden layers of 100 units for 50 epochs with the
Trainer; the best trials have lr around 0.001-0.01. Then the same search with
zerodl's autograd API (nn.models.MLP, optim.SGD with weight decay, train.fit
with the validation set).

    python examples/book/hyperparameter_optimization.py [--trials 100] [--epochs 50] [--out DIR]
"""

from __future__ import annotations

from _shared import mnist, parser, pyplot, save, start

import zerodl as zd
from zerodl import nn, optim
from zerodl.book.multi_layer_net import MultiLayerNet
from zerodl.book.trainer import Trainer
from zerodl.book.util import shuffle_dataset
from zerodl.data import DataLoader
from zerodl.random import default_rng

HIDDEN = [100, 100, 100, 100, 100, 100]


def book_trial(x_train, t_train, x_val, t_val, lr, weight_decay, epochs):
    network = MultiLayerNet(784, HIDDEN, 10, weight_decay_lambda=weight_decay)
    trainer = Trainer(network, x_train, t_train, x_val, t_val, epochs=epochs, mini_batch_size=100,
                      optimizer="sgd", optimizer_param={"lr": lr}, verbose=False)
    trainer.train()
    return trainer.test_acc_list, trainer.train_acc_list


def zerodl_trial(x_train, t_train, x_val, t_val, lr, weight_decay, epochs):
    model = nn.models.MLP([784] + HIDDEN + [10])
    history = zd.train.fit(
        model, nn.CrossEntropyLoss(), optim.SGD(model.named_parameters(), lr=lr, weight_decay=weight_decay),
        DataLoader((x_train, t_train), batch_size=100), DataLoader((x_val, t_val), batch_size=100),
        epochs=epochs, progress=False)
    return history.val_accuracy[-1]


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--trials", type=int, default=100, help="random trials (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=50, help="epochs per trial (default: %(default)s)")
    p.add_argument("--train-size", type=int, default=500,
                   help="images, 20%% of them for validation (default: %(default)s)")
    p.add_argument("--lr-exponents", type=float, nargs=2, default=(-6, -2), metavar=("LOW", "HIGH"),
                   help="lr = 10^U(LOW, HIGH) (default: -6 -2)")
    args = start(p, argv)
    (x, t), _ = mnist(args.train_size, 1)
    x, t = shuffle_dataset(x, t)
    validation_num = int(len(x) * 0.20)
    x_val, t_val = x[:validation_num], t[:validation_num]
    x_train, t_train = x[validation_num:], t[validation_num:]

    rng = default_rng()
    results = []
    for trial in range(args.trials):
        weight_decay = 10 ** rng.uniform(-8, -4)
        lr = 10 ** rng.uniform(*args.lr_exponents)
        val_acc_list, train_acc_list = book_trial(x_train, t_train, x_val, t_val, lr, weight_decay,
                                                  args.epochs)
        z_val = zerodl_trial(x_train, t_train, x_val, t_val, lr, weight_decay, args.epochs)
        results.append({"lr": lr, "weight_decay": weight_decay, "val_acc": val_acc_list[-1],
                        "val_acc_zerodl": z_val, "curves": (val_acc_list, train_acc_list)})
        print(f"trial {trial + 1:3d}: val acc {val_acc_list[-1]:.3f} (zerodl {z_val:.3f}) | "
              f"lr:{lr:.3e}, weight decay:{weight_decay:.3e}")

    best = sorted(results, key=lambda r: r["val_acc"], reverse=True)
    print("=========== Hyper-Parameter Optimization Result ===========")
    for i, r in enumerate(best[:5]):
        print(f"Best-{i + 1}(val acc:{r['val_acc']:.3f}) | lr:{r['lr']:.3e}, "
              f"weight decay:{r['weight_decay']:.3e}")

    plt = pyplot()
    shown = best[:20]
    cols = 5
    rows = -(-len(shown) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.2 * rows), squeeze=False)
    for i, (ax, r) in enumerate(zip(axes.flat, shown)):
        val, train = r["curves"]
        ax.plot(val)
        ax.plot(train, "--")
        ax.set(ylim=(0, 1), title=f"Best-{i + 1}", xticks=[], yticks=[] if i % cols else [0, 0.5, 1])
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    save(fig, args.out, "hyperparameter_optimization.png")
    return {"trials": [{k: v for k, v in r.items() if k != "curves"} for r in best]}


if __name__ == "__main__":
    main()
