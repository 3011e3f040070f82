"""Ch. 6.4.3 (fig. 6-23): dropout against overfitting, with the book's Trainer.

MultiLayerNetExtend with six hidden layers of 100 units on 300 images,
dropout ratio 0.2 (the book's non-inverted dropout), SGD lr 0.01, 301 epochs
through zerodl.book.trainer.Trainer. Then with zerodl's autograd API:
nn.models.MLP(dropout=0.2) (inverted dropout) trained by zerodl.train.fit.

    python examples/book/overfit_dropout.py [--epochs 301] [--dropout 0.2] [--out DIR]
"""

from __future__ import annotations

from _shared import accuracy, mnist, parser, plot_train_test, pyplot, save, start

import zerodl as zd
from zerodl import nn, optim
from zerodl.book.multi_layer_net_extend import MultiLayerNetExtend
from zerodl.book.trainer import Trainer
from zerodl.data import DataLoader

HIDDEN = [100, 100, 100, 100, 100, 100]


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--epochs", type=int, default=301, help="epochs (default: %(default)s)")
    p.add_argument("--dropout", type=float, default=0.2, help="dropout ratio (default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.01, help="SGD's learning rate (default: %(default)s)")
    p.add_argument("--train-size", type=int, default=300, help="training images (default: %(default)s)")
    p.add_argument("--test-size", type=int, default=None, help="test images (default: all)")
    args = start(p, argv)
    (x, t), (xt, tt) = mnist(args.train_size, args.test_size)

    network = MultiLayerNetExtend(784, HIDDEN, 10, use_dropout=True, dropout_ration=args.dropout)
    trainer = Trainer(network, x, t, xt, tt, epochs=args.epochs, mini_batch_size=100,
                      optimizer="sgd", optimizer_param={"lr": args.lr}, verbose=False)
    trainer.train()
    train_acc, test_acc = trainer.train_acc_list, trainer.test_acc_list
    print(f"book Trainer: train acc {train_acc[-1]:.3f}, test acc {test_acc[-1]:.3f}")

    model = nn.models.MLP([784] + HIDDEN + [10], dropout=args.dropout)
    history = zd.train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.named_parameters(), lr=args.lr),
                           DataLoader((x, t.astype("int64")), batch_size=100), epochs=args.epochs,
                           progress=False)
    z_train, z_test = accuracy(model, x, t), accuracy(model, xt, tt)
    print(f"zerodl fit:   train acc {z_train:.3f}, test acc {z_test:.3f} "
          f"(last epoch's training loss {history.train_loss[-1]:.3f})")

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    plot_train_test(ax, train_acc, test_acc, f"ch. 6.4.3: dropout {args.dropout}")
    save(fig, args.out, "overfit_dropout.png")
    return {"book": (train_acc[-1], test_acc[-1]), "zerodl": (z_train, z_test)}


if __name__ == "__main__":
    main()
