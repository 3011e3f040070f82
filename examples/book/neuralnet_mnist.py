"""Ch. 3.6: inference on MNIST with the book's trained weights (sample_weight.pkl): 0.9352.

The book's 784-50-100-10 network with sigmoid hidden layers and softmax out,
first as the book writes it (a dict of weights and ``predict`` with
zerodl.book.functions), then as a zerodl model (nn.models.MLP loaded with
zerodl.book.weights). Both give the same accuracy: 0.9352 with the book's file.

    python examples/book/neuralnet_mnist.py --weights PATH/sample_weight.pkl [--out DIR]

Without the file it says so and trains the same network briefly instead.
"""

from __future__ import annotations

import numpy as np
from _shared import book_weights, mnist, parser, pyplot, save, start, weights_options

import zerodl as zd
from zerodl import nn
from zerodl.book.functions import sigmoid, softmax
from zerodl.book.multi_layer_net import MultiLayerNet
from zerodl.book.optimizer import AdaGrad
from zerodl.book.weights import book_state_dict, load_params
from zerodl.random import default_rng


# ---------------------------------------------------------------- the book's way
def predict(network, x):
    """The book's ch. 3 forward pass: affine, sigmoid, affine, sigmoid, affine, softmax."""
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    z1 = sigmoid(x @ W1 + b1)
    z2 = sigmoid(z1 @ W2 + b2)
    return softmax(z2 @ W3 + b3)


def book_accuracy(network, x, t, batch_size=100):
    accuracy_cnt = 0
    for i in range(0, len(x), batch_size):
        p = np.argmax(predict(network, x[i:i + batch_size]), axis=1)
        accuracy_cnt += np.sum(p == t[i:i + batch_size])
    return float(accuracy_cnt) / len(x)


def train_instead(x, t, iters):
    """The same shape of network, trained for ``iters`` steps (when the book's file is missing)."""
    net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid", weight_init_std="sigmoid")
    opt = AdaGrad(lr=0.1)
    rng = default_rng()
    for _ in range(iters):
        batch = rng.choice(len(x), 100)
        opt.update(net.params, net.gradient(x[batch], t[batch]))
    return net.params


# ---------------------------------------------------------------- main
def main(argv=None) -> dict:
    p = parser(__doc__)
    weights_options(p, "sample_weight.pkl", train_iters=500)
    args = start(p, argv)
    (x_train, t_train), (x, t) = mnist(test_size=args.test_size, normalize=True, flatten=True)

    path = book_weights(args.weights, "sample_weight.pkl")
    network = load_params(path) if path else train_instead(x_train, t_train, args.train_iters)
    acc = book_accuracy(network, x, t)
    print(f"the book's predict():          Accuracy:{acc:.4f}")

    model = nn.models.MLP([784, 50, 100, 10], activation="sigmoid")
    model.load_state_dict(book_state_dict(network, model))
    model.eval()
    with zd.no_grad():
        y = model(x).data
    acc_zerodl = float(np.mean(y.argmax(axis=1) == t))
    print(f"zerodl nn.models.MLP (float32): Accuracy:{acc_zerodl:.4f}")

    plt = pyplot()
    fig, axes = plt.subplots(2, 5, figsize=(7, 3.2))
    for ax, img, label in zip(axes.flat, x, y.argmax(axis=1)):
        ax.imshow(img.reshape(28, 28), cmap="gray_r")
        ax.set_title(f"→ {label}")
        ax.axis("off")
    fig.suptitle(f"ch. 3.6: the first test images and the network's answers (accuracy {acc:.4f})")
    save(fig, args.out, "neuralnet_mnist.png")
    return {"accuracy": acc, "accuracy_zerodl": acc_zerodl, "book_weights": path is not None}


if __name__ == "__main__":
    main()
