"""Ch. 4.5 and 5.7.4: training TwoLayerNet on MNIST, and why backpropagation matters.

The book's loop (TwoLayerNet 784-50-10, SGD lr 0.1, batches of 100, 10,000
steps, accuracy every epoch: about 0.97), then the same with zerodl's autograd
API (nn.models.MLP, optim.SGD, backward()). First, the time of one gradient:
central differences (ch. 4.4, two forward passes per parameter) against
backpropagation (ch. 5, one forward and one backward pass).

    python examples/book/train_neuralnet.py [--iters 10000] [--train-size 60000] [--out DIR]
"""

from __future__ import annotations

import time

import numpy as np
from _shared import accuracy, batches, mnist, parser, pyplot, save, start

import zerodl.functional as F
from zerodl import nn, optim
from zerodl.book.gradient import numerical_gradient
from zerodl.book.two_layer_net import TwoLayerNet


def gradient_timing(network, x, t, subset=("b1", "W2", "b2")):
    """Seconds for the whole numerical gradient (extrapolated from ``subset``) and for backprop."""
    start = time.perf_counter()
    measured = sum(numerical_gradient(lambda _: network.loss(x, t), network.params[k]).size
                   for k in subset)
    per_parameter = (time.perf_counter() - start) / measured
    total = sum(v.size for v in network.params.values())
    start = time.perf_counter()
    for _ in range(10):
        network.gradient(x, t)
    return per_parameter * total, (time.perf_counter() - start) / 10


def train_book(x, t, xt, tt, iters, batch_size=100, lr=0.1):
    """The book's ch. 5 train_neuralnet loop."""
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    iter_per_epoch = max(len(x) // batch_size, 1)
    train_acc_list, test_acc_list = [], []
    for i, batch_mask in enumerate(batches(len(x), batch_size, iters)):
        grad = network.gradient(x[batch_mask], t[batch_mask])
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= lr * grad[key]
        if i % iter_per_epoch == 0:
            train_acc_list.append(network.accuracy(x, t))
            test_acc_list.append(network.accuracy(xt, tt))
            print(f"  book   step {i:5d}: train acc {train_acc_list[-1]:.4f}, "
                  f"test acc {test_acc_list[-1]:.4f}")
    return network, train_acc_list, test_acc_list


def train_zerodl(x, t, xt, tt, iters, batch_size=100, lr=0.1):
    """The same with zerodl's autograd: the loss's backward() fills every parameter's .grad."""
    model = nn.models.MLP([784, 50, 10], init=0.01)
    opt = optim.SGD(model.named_parameters(), lr=lr)
    iter_per_epoch = max(len(x) // batch_size, 1)
    test_acc_list = []
    for i, batch in enumerate(batches(len(x), batch_size, iters)):
        loss = F.cross_entropy(model(x[batch]), t[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i % iter_per_epoch == 0:
            test_acc_list.append(accuracy(model, xt, tt))
            print(f"  zerodl step {i:5d}: test acc {test_acc_list[-1]:.4f}")
    return model, test_acc_list


def main(argv=None) -> dict:
    p = parser(__doc__)
    p.add_argument("--iters", type=int, default=10000, help="training steps (default: %(default)s)")
    p.add_argument("--train-size", type=int, default=None, help="training images (default: all)")
    p.add_argument("--test-size", type=int, default=None, help="test images (default: all)")
    args = start(p, argv)
    (x, t), (xt, tt) = mnist(args.train_size, args.test_size)

    numerical, backprop = gradient_timing(TwoLayerNet(784, 50, 10), x[:100], t[:100])
    print(f"one gradient of 39,760 parameters on 100 images: numerical {numerical:.2f} s, "
          f"backprop {backprop * 1e3:.2f} ms ({numerical / backprop:,.0f} times faster)")

    network, train_acc, test_acc = train_book(x, t, xt, tt, args.iters)
    final_book = network.accuracy(xt, tt)
    model, z_test_acc = train_zerodl(x, t, xt, tt, args.iters)
    final_zerodl = accuracy(model, xt, tt)
    print(f"final test accuracy: book {final_book:.4f}, zerodl {final_zerodl:.4f}")

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(train_acc, label="train (book)")
    ax.plot(test_acc, "--", label="test (book)")
    ax.plot(z_test_acc, ":", label="test (zerodl)")
    ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1), title="ch. 4.5: TwoLayerNet on MNIST")
    ax.legend(loc="lower right")
    save(fig, args.out, "train_neuralnet.png")
    return {"numerical_seconds": numerical, "backprop_seconds": backprop,
            "test_accuracy": final_book, "test_accuracy_zerodl": final_zerodl,
            "train_accuracy": float(np.max(train_acc))}


if __name__ == "__main__":
    main()
