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

# Decompressed sizes (the same for both sets): nothing larger is ever read.
_SIZES = {
    "train-images-idx3-ubyte": 16 + 60000 * 28 * 28,
    "train-labels-idx1-ubyte": 8 + 60000,
    "t10k-images-idx3-ubyte": 16 + 10000 * 28 * 28,
    "t10k-labels-idx1-ubyte": 8 + 10000,
}
# SHA-256 of known .gz copies: the mirrors' files, then for MNIST the `gzip -9n`
# copies that zerodl's benchmarks ship, for Fashion-MNIST Debian's.
_MNIST_GZ = {
    "train-images-idx3-ubyte": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971"),
    "train-labels-idx1-ubyte": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203"),
    "t10k-images-idx3-ubyte": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be"),
    "t10k-labels-idx1-ubyte": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b"),
}
_FASHION_GZ = {
    "train-images-idx3-ubyte": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),
    "train-labels-idx1-ubyte": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),
    "t10k-images-idx3-ubyte": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),
    "t10k-labels-idx1-ubyte": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
}

MNIST_SOURCE = Source(
    name="mnist",
    title="MNIST",
    sha256=_MNIST_FILES,
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    sizes=_SIZES,
    gz_sha256=_MNIST_GZ,
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
    sizes=_SIZES,
    gz_sha256=_FASHION_GZ,
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
