"""Ch. 8.3.4: half-precision weights and inputs keep DeepConvNet's accuracy.

The book's half_float_network: DeepConvNet with its trained weights
(deep_convnet_params.pkl), accuracy on the test set in float64, then with the
weights and the images rounded to float16: 0.9935 both times with the 2016
weights the book prints. Then the same with zerodl's nn.models.DeepConvNet
(its parameters rounded the same way).

    python examples/book/half_float_network.py --weights PATH/deep_convnet_params.pkl [--test-size 10000]

Without the file it says so and trains a SimpleConvNet briefly instead.
"""

from __future__ import annotations

import numpy as np
from _shared import accuracy, deep_convnet_or_stand_in, mnist, parser, pyplot, save, start, weights_options


def main(argv=None) -> dict:
    p = parser(__doc__)
    weights_options(p, "deep_convnet_params.pkl", train_iters=300)
    args = start(p, argv)
    (x_train, t_train), (x_test, t_test) = mnist(None, args.test_size, flatten=False)
    network, model, book = deep_convnet_or_stand_in(args.weights, x_train, t_train, args.train_iters)

    print("calculate accuracy (float64) ... ")
    acc64 = network.accuracy(x_test, t_test)
    z64 = accuracy(model, x_test, t_test)
    print(f"book {acc64:.4f}, zerodl {z64:.4f}")

    x16 = x_test.astype(np.float16)  # the book's conversion: values rounded to float16
    for param in network.params.values():
        param[...] = param.astype(np.float16)
    for param in model.parameters():
        param.data[...] = param.data.astype(np.float16)
    print("calculate accuracy (float16) ... ")
    acc16 = network.accuracy(x16, t_test)
    z16 = accuracy(model, x16, t_test)
    print(f"book {acc16:.4f}, zerodl {z16:.4f}")

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(["float64", "float16"], [acc64, acc16], color=["tab:blue", "tab:orange"])
    for i, a in enumerate((acc64, acc16)):
        ax.text(i, a, f"{a:.4f}", ha="center", va="bottom")
    ax.set(ylim=(min(acc64, acc16) - 0.05, 1), ylabel="test accuracy", title="ch. 8.3.4: half precision")
    save(fig, args.out, "half_float_network.png")
    return {"float64": acc64, "float16": acc16, "float64_zerodl": z64, "float16_zerodl": z16,
            "book_weights": book}


if __name__ == "__main__":
    main()
