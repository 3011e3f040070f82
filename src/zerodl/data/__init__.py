"""Datasets and mini-batches: MNIST, Fashion-MNIST, generated sets, DataLoader.

    from zerodl.data import MNIST, DataLoader, spiral
    train = MNIST(flatten=True)                     # images (60000, 784) float32 in [0, 1]
    loader = DataLoader(train, batch_size=100, seed=0)
    X, y = spiral(seed=0)                           # (300, 2) float32, (300,) int64
    (x_tr, t_tr), (x_val, t_val) = random_split((X, y), [0.8, 0.2], seed=0)
"""

from .datasets import MNIST, FashionMNIST, one_hot
from .download import ChecksumError, DatasetNotFoundError
from .generated import circles, sine, spiral, xor
from .idx import IDXFormatError, parse_idx, read_idx
from .loader import DataLoader
from .split import Subset, random_split

__all__ = [
    "MNIST", "FashionMNIST", "one_hot",
    "spiral", "xor", "circles", "sine",
    "DataLoader", "random_split", "Subset",
    "DatasetNotFoundError", "ChecksumError", "IDXFormatError",
    "parse_idx", "read_idx",
]
