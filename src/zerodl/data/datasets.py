"""MNIST and Fashion-MNIST as arrays, ready for a DataLoader.

    train = MNIST()                       # .images (60000, 1, 28, 28) float32 in [0, 1]
    test = MNIST(train=False, flatten=True)   # .images (10000, 784), for an MLP
    x, t = train[:100]                    # a batch: (images, labels)

The book's ``load_mnist(normalize=True, flatten=..., one_hot_label=...)``
(ch. 3.6) in object form; ``one_hot`` gives the one-hot labels.
Where the files are looked for, and how they are checked, is in download.py.
"""

from __future__ import annotations

import os

import numpy as np

from .download import Source, find_file, load_file
from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXFormatError, parse_idx

_MNIST_FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_FASHION_FILES = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

MNIST_SOURCE = Source(
    name="mnist",
    title="MNIST",
    sha256=_MNIST_FILES,
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
)
FASHION_MNIST_SOURCE = Source(
    name="fashion-mnist",
    title="Fashion-MNIST",
    sha256=_FASHION_FILES,
    mirrors=(
        "https://fashion-mnist.s3.eu-central-1.amazonaws.com/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
)

# Parsed uint8 arrays per file path, size and mtime: each file is read, checked
# and parsed once per process however many dataset objects are made.
_parsed: dict[tuple, np.ndarray] = {}


class MNIST:
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 0-9.

    ``images`` is float32 in [0, 1] (pixel / 255) shaped (N, 1, 28, 28), or
    (N, 784) with ``flatten=True``; ``labels`` is int64 (N,). Indexing with an
    int, slice or index array gives ``(images, labels)``.

    Files are found in ``root``, ``$ZERODL_DATA/mnist``, the user cache, the
    system folder, or downloaded into the user cache when ``download`` is true
    (see zerodl.data.download); each is verified by SHA-256 before use.
    """

    source = MNIST_SOURCE
    classes = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = True,
        flatten: bool = False,
    ) -> None:
        self.train = bool(train)
        self.flatten = bool(flatten)
        prefix = "train" if self.train else "t10k"
        images, self.images_path = _load(
            self.source, f"{prefix}-images-idx3-ubyte", IMAGES_MAGIC, root, download
        )
        labels, self.labels_path = _load(
            self.source, f"{prefix}-labels-idx1-ubyte", LABELS_MAGIC, root, download
        )
        if len(images) != len(labels):
            raise IDXFormatError(
                f"{self.images_path} holds {len(images)} images but {self.labels_path} "
                f"holds {len(labels)} labels; the two files must come from the same split"
            )
        shape = (len(images), -1) if self.flatten else (len(images), 1, *images.shape[1:])
        self.images = np.divide(images.reshape(shape), 255, dtype=np.float32)
        self.labels = labels.astype(np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index) -> tuple[np.ndarray, np.ndarray]:
        return self.images[index], self.labels[index]

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return (
            f"{type(self).__name__}({split}: {len(self)} images {self.images.shape[1:]}, "
            f"from {self.images_path.parent})"
        )


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grey clothing images in 10 classes, MNIST's format.

    Same interface and file names as MNIST, looked for under the name
    ``fashion-mnist`` (``$ZERODL_DATA/fashion-mnist``, ``/usr/share/datasets/fashion-mnist``).
    """

    source = FASHION_MNIST_SOURCE
    classes = (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )


def one_hot(labels, num_classes: int = 10) -> np.ndarray:
    """float32 one-hot rows: ``out[i, labels[i]] = 1`` (the book's one_hot_label=True).

    `labels` is an int array of any shape; the result has shape labels.shape + (num_classes,).
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"one_hot: labels range over [{labels.min()}, {labels.max()}], "
            f"outside [0, {num_classes - 1}]; pass num_classes= larger than the largest label"
        )
    return np.eye(num_classes, dtype=np.float32)[labels]


def _load(source: Source, filename: str, magic: int, root, download: bool):
    """The parsed uint8 array of one dataset file (verified), and its path."""
    path, _ = find_file(source.name, filename, root)
    if path is not None and _key(path) in _parsed:
        return _parsed[_key(path)], path
    data, path = load_file(source, filename, root, download)
    array = parse_idx(data, str(path), magic)
    _parsed[_key(path)] = array
    return array, path


def _key(path):
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns
