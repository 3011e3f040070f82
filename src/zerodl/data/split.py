"""random_split: a dataset cut at random into parts, such as training and validation sets.

    (x_train, t_train), (x_val, t_val) = random_split((X, y), [0.8, 0.2], seed=0)
    train_loader = DataLoader((x_train, t_train), batch_size=100, seed=0)

The book's hyperparameter search (ch. 6.5.3) shuffles the training data and
keeps 20% of it for validation: that is ``random_split(..., [0.8, 0.2])``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..backend import get_array_module
from ..random import default_rng
from .loader import dataset_arrays


def random_split(dataset, lengths: Sequence[int | float], seed: int | None = None) -> list:
    """Cut ``dataset`` into ``len(lengths)`` parts of the given sizes, at random and without overlap.

    ``lengths``: sample counts that add up to the dataset's size, or fractions
    that add up to 1 (each part gets ⌊fraction·n⌋ samples and the samples left
    over go one each to the first parts, as PyTorch's ``random_split``).
    ``seed``: the same seed gives the same parts; None draws from zerodl's
    shared generator (``zerodl.manual_seed``).

    A tuple of arrays ``(X, y)`` and a dataset with ``.images`` and ``.labels``
    (MNIST) give tuples of arrays, ready for ``DataLoader``; any other dataset
    with ``__len__`` and ``__getitem__`` (taking an index array) gives
    ``Subset`` views of it.
    """
    arrays = dataset_arrays(dataset, "random_split")
    n = len(arrays[0]) if arrays is not None else len(dataset)
    sizes = _sizes(lengths, n)
    rng = np.random.default_rng(seed) if seed is not None else default_rng()
    order = rng.permutation(n)
    parts, start = [], 0
    for size in sizes:
        index = order[start:start + size]
        start += size
        if arrays is None:
            parts.append(Subset(dataset, index))
        else:
            # the index goes where the data is (a GPU array is cut on the GPU)
            parts.append(tuple(a[get_array_module(a).asarray(index)] for a in arrays))
    return parts


class Subset:
    """The samples ``indices`` of ``dataset``: ``len`` and ``__getitem__`` (an index array)."""

    def __init__(self, dataset, indices) -> None:
        self.dataset, self.indices = dataset, np.asarray(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {len(self.dataset)} samples)"


# ---------------------------------------------------------------- helpers
def _sizes(lengths, n: int) -> list[int]:
    """Sample counts from counts or fractions (see ``random_split``)."""
    lengths = list(lengths)
    if not lengths or any(isinstance(v, bool) or not isinstance(v, (int, float, np.integer,
                                                                    np.floating)) or v < 0
                          for v in lengths):
        raise ValueError(f"random_split: lengths must be non-negative counts or fractions, "
                         f"got {lengths}")
    if all(isinstance(v, (int, np.integer)) for v in lengths):
        if sum(lengths) != n:
            raise ValueError(f"random_split: the lengths {lengths} add up to {sum(lengths)}, "
                             f"but the dataset has {n} samples")
        return [int(v) for v in lengths]
    if not math.isclose(sum(lengths), 1.0, abs_tol=1e-9) or any(v > 1 for v in lengths):
        raise ValueError(f"random_split: the fractions {lengths} must add up to 1 "
                         "(or give sample counts that add up to the dataset's size)")
    sizes = [math.floor(n * v) for v in lengths]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes
