"""Ch. 7.5-7.6 (figs. 7-23, 7-24): SimpleConvNet on MNIST, and its first-layer filters.

The book's train_convnet (SimpleConvNet, Adam lr 0.001, batches of 100, 20
epochs with the Trainer: test accuracy 0.989), saving the parameters, then
visualize_filter: the 30 filters of 5×5 before training (noise) and after
(edge and blob detectors). Then the same with zerodl's autograd API:
nn.models.SimpleConvNet(init=0.01), optim.Adam and zerodl.train.fit.

    python examples/book/train_convnet.py [--epochs 20] [--train-size 60000] [--out DIR]
"""

from __future__ import annotations

from _shared import accuracy, mnist, parser, pyplot, save, start

import zerodl as zd
from zerodl import nn, optim
from zerodl.book.simple_convnet import SimpleConvNet
from zerodl.book.trainer import Trainer
from zerodl.data import DataLoader


def filter_show(plt, filters, title, nx=10):
    """The book's filter_show: each filter of W1 (FN, 1, FH, FW) as a grey image."""
    rows = -(-filters.shape[0] // nx)
    fig, axes = plt.subplots(rows, nx, figsize=(nx * 0.8, rows * 0.8 + 0.4))
    for ax in axes.flat:
        ax.axis("off")
    for ax, w in zip(axes.flat, filters):
        ax.imshow(w[0], cmap="gray_r", interpolation="nearest")
    fig.suptitle(title)
    return fig


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--epochs", type=int, default=20, help="epochs (default: %(default)s)")
    p.add_argument("--train-size", type=int, default=None, help="training images (default: all)")
    p.add_argument("--test-size", type=int, default=None, help="test images (default: all)")
    p.add_argument("--evaluate", type=int, default=1000,
                   help="images per accuracy check at each epoch (default: %(default)s)")
    args = start(p, argv)
    (x, t), (xt, tt) = mnist(args.train_size, args.test_size, flatten=False)

    network = SimpleConvNet(input_dim=(1, 28, 28),
                            conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                            hidden_size=100, output_size=10, weight_init_std=0.01)
    before = network.params["W1"].copy()
    trainer = Trainer(network, x, t, xt, tt, epochs=args.epochs, mini_batch_size=100, optimizer="Adam",
                      optimizer_param={"lr": 0.001}, evaluate_sample_num_per_epoch=args.evaluate,
                      verbose=False)
    test_acc = trainer.train()
    network.save_params(str(args.out / "params.npz"))
    print(f"book SimpleConvNet: test acc {test_acc:.4f} (per epoch: "
          + ", ".join(f"{a:.3f}" for a in trainer.test_acc_list) + f"); saved {args.out / 'params.npz'}")

    model = nn.models.SimpleConvNet(init=0.01)
    zd.train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.named_parameters(), lr=0.001),
                 DataLoader((x, t.astype("int64")), batch_size=100), epochs=args.epochs, progress=False)
    z_acc = accuracy(model, xt, tt)
    print(f"zerodl SimpleConvNet: test acc {z_acc:.4f}")

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(trainer.train_acc_list, marker="o", label="train")
    ax.plot(trainer.test_acc_list, marker="s", label="test")
    ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1), title="ch. 7.5: SimpleConvNet")
    ax.legend(loc="lower right")
    save(fig, args.out, "train_convnet.png")
    save(filter_show(plt, before, "W1 before training"), args.out, "visualize_filter_before.png")
    save(filter_show(plt, network.params["W1"], "W1 after training"), args.out, "visualize_filter_after.png")
    return {"test_accuracy": test_acc, "test_accuracy_zerodl": z_acc,
            "filter_change": float(abs(network.params["W1"] - before).mean())}


if __name__ == "__main__":
    main()
