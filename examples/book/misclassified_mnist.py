"""Ch. 8.1.2 (fig. 8-3): the test images that DeepConvNet gets wrong.

The book's DeepConvNet with its trained weights (deep_convnet_params.pkl:
0.9935 with the 2016 file the book prints, 0.9797 with the one in its
repository today) classifies the test set 100 images at a time; the first 20
mistakes are drawn with their labels and answers. Then the same weights in
zerodl's nn.models.DeepConvNet (zerodl.book.weights.load_into folds in the
book's test-time dropout), which makes the very same mistakes.

    python examples/book/misclassified_mnist.py --weights PATH/deep_convnet_params.pkl [--out DIR]

Without the file it says so and trains a SimpleConvNet briefly instead.
"""

from __future__ import annotations

import numpy as np
from _shared import deep_convnet_or_stand_in, mnist, parser, pyplot, save, start, weights_options

import zerodl as zd


def main(argv=None) -> dict:
    p = parser(__doc__)
    weights_options(p, "deep_convnet_params.pkl", train_iters=300)
    args = start(p, argv)
    (x_train, t_train), (x_test, t_test) = mnist(None, args.test_size, flatten=False)
    network, model, book = deep_convnet_or_stand_in(args.weights, x_train, t_train, args.train_iters)

    print("calculating test accuracy ... ")
    classified_ids = []
    batch_size = 100
    for i in range(0, len(x_test), batch_size):  # the book's loop
        y = network.predict(x_test[i:i + batch_size], train_flg=False)
        classified_ids.append(np.argmax(y, axis=1))
    classified_ids = np.concatenate(classified_ids)
    acc = float(np.mean(classified_ids == t_test))
    print(f"test accuracy:{acc:.4f}")

    model.eval()
    with zd.no_grad():
        zerodl_ids = np.concatenate([model(x_test[i:i + 500]).data.argmax(axis=1)
                                     for i in range(0, len(x_test), 500)])
    same = bool(np.array_equal(zerodl_ids, classified_ids))
    print(f"zerodl {type(model).__name__}: test accuracy {np.mean(zerodl_ids == t_test):.4f}, "
          f"{'the same' if same else 'different'} answers on every image")

    plt = pyplot()
    fig = plt.figure(figsize=(6, 5))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=0.92, hspace=0.3, wspace=0.2)
    mis_pairs = {}
    wrong = np.flatnonzero(classified_ids != t_test)[:20]
    for view, i in enumerate(wrong, start=1):
        ax = fig.add_subplot(4, 5, view, xticks=[], yticks=[])
        ax.imshow(x_test[i].reshape(28, 28), cmap="gray_r", interpolation="nearest")
        ax.set_title(f"{t_test[i]} → {classified_ids[i]}", fontsize=9)
        mis_pairs[view] = (int(t_test[i]), int(classified_ids[i]))
    fig.suptitle("ch. 8.1.2: misclassified test images (label → answer)")
    print("======= misclassified result =======")
    print("{view index: (label, inference), ...}")
    print(mis_pairs)
    save(fig, args.out, "misclassified_mnist.png")
    return {"accuracy": acc, "same_answers": same, "misclassified": mis_pairs,
            "book_weights": book}


if __name__ == "__main__":
    main()
