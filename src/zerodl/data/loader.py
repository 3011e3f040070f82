"""DataLoader: mini-batches of a dataset, shuffled anew each epoch.

    loader = DataLoader(MNIST(), batch_size=100, seed=0)
    for epoch in range(epochs):
        for x, t in loader:          # ndarrays: x (100, 1, 28, 28), t (100,)
            ...

The book's mini-batch learning (ch. 4.2.3, 4.5) draws batches with
``np.random.choice``; here each epoch is one permutation of the samples, cut
into batches, so every sample is seen exactly once per epoch (sampling without
replacement). A batch is one fancy-indexing of the whole arrays: no Python loop
over samples.

Resuming a run exactly: ``state = loader.state_dict()`` (a dict of Python ints
and strings: JSON-serialisable) saves the shuffling generator's state and how
far the current epoch has got; ``loader.load_state_dict(state)`` on a loader
over the same dataset makes the next ``iter(loader)`` continue with the very
batches the saved loader would have produced next. Saved between epochs, the
next epoch gets the same permutation; saved mid-epoch (after k batches), the next
iteration re-makes that epoch's permutation and starts at batch k.

On a GPU: ``DataLoader(..., device="gpu")`` copies the dataset's arrays to the
GPU once and cuts every batch there (CuPy arrays), for a model moved with
``model.to("gpu")``; the shuffling is the same as on the CPU.

Data-parallel training (zerodl.distributed): ``DataLoader(..., shard=comm)``
on every rank draws the same permutation (the same ``seed``) and yields this
rank's part of each batch: batch b of size B is cut into ``comm.size``
consecutive parts whose sizes differ by at most one.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator

import numpy as np

from ..backend import device_name, get_array_module, is_gpu_array, to_device
from ..random import default_rng


class DataLoader:
    """Iterates over `dataset` in batches of `batch_size`, as tuples of ndarrays.

    `dataset` is a tuple of arrays with the same first dimension, e.g. ``(X, y)``
    from ``spiral()``; or an object with ``.images`` and ``.labels`` (MNIST);
    or any object with ``__len__`` whose ``__getitem__`` takes an index array and
    returns a tuple of arrays. With ``shuffle=True`` every epoch uses a new
    permutation drawn from ``self.generator`` (``np.random.default_rng(seed)``,
    or derived from ``zerodl.random.default_rng()`` when ``seed`` is None).
    ``len(loader)`` is the number of batches per epoch; with ``drop_last=True``
    a final batch smaller than `batch_size` is left out. ``device``: "gpu" puts
    the arrays on the GPU once (CuPy) and yields GPU batches, "cpu" yields NumPy
    batches; None (the default) leaves the arrays where they are.
    ``shard``: a ``zerodl.distributed`` Communicator (or a ``(rank, size)``
    pair) to yield only this rank's part of every batch; a last batch with
    fewer samples than ranks is left out on every rank.
    """

    def __init__(
        self,
        dataset,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int | None = None,
        device: str | None = None,
        shard=None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size={batch_size} must be at least 1")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.device = None if device is None else device_name(device)
        self._arrays = dataset_arrays(dataset, "DataLoader")
        if self._arrays is not None and self.device is not None:
            self._arrays = tuple(to_device(a, self.device) for a in self._arrays)
        self._n = len(self._arrays[0]) if self._arrays is not None else len(dataset)
        self.rank, self.ranks = _shard(shard, self.batch_size, self.shuffle, seed)
        if seed is None:
            seed = int(default_rng().integers(2**63))
        self.generator = np.random.default_rng(seed)
        self.epoch = 0             # epochs completed
        self._epoch_start = None   # generator state before the current epoch's permutation
        self._position = 0         # batches already yielded in the current epoch
        self._resume_at = 0        # set by load_state_dict: first batch of the next iteration

    def __len__(self) -> int:
        if self.drop_last:
            return self._n // self.batch_size
        batches = math.ceil(self._n / self.batch_size)
        if batches and self._n - (batches - 1) * self.batch_size < self.ranks:
            batches -= 1  # a last batch too small to give every rank a sample
        return batches

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        start_state = copy.deepcopy(self.generator.bit_generator.state)
        order = self.generator.permutation(self._n) if self.shuffle else None
        if order is not None and self._arrays is not None:
            # the index goes where the data is: one copy per epoch, not one per batch
            order = get_array_module(self._arrays[0]).asarray(order)
        first, self._resume_at = self._resume_at, 0
        self._epoch_start, self._position = start_state, first
        for b in range(first, len(self)):
            lo, hi = b * self.batch_size, min((b + 1) * self.batch_size, self._n)
            if self.ranks > 1:  # this rank's part of the batch
                size = hi - lo
                lo, hi = (lo + self.rank * size // self.ranks,
                          lo + (self.rank + 1) * size // self.ranks)
            index = slice(lo, hi) if order is None else order[lo:hi]
            batch = self._batch(index)
            self._position = b + 1
            yield batch
        self._epoch_start, self._position = None, 0
        self.epoch += 1

    def _batch(self, index) -> tuple[np.ndarray, ...]:
        if self._arrays is not None:
            return tuple(a[index] for a in self._arrays)
        if isinstance(index, slice):
            index = np.arange(index.start, index.stop)
        batch = tuple(self.dataset[index])
        if self.device is not None:
            batch = tuple(to_device(a, self.device) for a in batch)
        return batch

    def state_dict(self) -> dict:
        """Where the shuffling stands: ``{"generator": ..., "position": ..., "epoch": ...}``.

        ``generator`` is the bit generator's state before the current epoch's
        permutation (or the current state between epochs), ``position`` the
        number of batches already taken from the current epoch.
        """
        in_epoch = self._epoch_start is not None and self._position > 0
        state = self._epoch_start if in_epoch else self.generator.bit_generator.state
        return {
            "generator": copy.deepcopy(state),
            "position": self._position if in_epoch else self._resume_at,
            "epoch": self.epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a state from ``state_dict()``: the next iteration continues from it."""
        position = int(state.get("position", 0))
        if not 0 <= position <= len(self):
            raise ValueError(
                f"DataLoader.load_state_dict: position {position} is outside this loader's "
                f"0..{len(self)} batches; was the state saved for another dataset or batch_size?"
            )
        self.generator.bit_generator.state = copy.deepcopy(state["generator"])
        self._resume_at = position
        self._epoch_start, self._position = None, 0
        self.epoch = int(state.get("epoch", 0))

    def __repr__(self) -> str:
        part = f", rank {self.rank} of {self.ranks}" if self.ranks > 1 else ""
        return (
            f"DataLoader({self._n} samples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, {len(self)} batches{part})"
        )


def dataset_arrays(dataset, caller: str) -> tuple[np.ndarray, ...] | None:
    """The dataset's arrays when it is a tuple of arrays or has .images/.labels, else None
    (an object with ``__len__`` and ``__getitem__``); ``caller`` names the refusals."""
    if isinstance(dataset, (tuple, list)):
        arrays = tuple(_array(a) for a in dataset)
    elif hasattr(dataset, "images") and hasattr(dataset, "labels"):
        arrays = (_array(dataset.images), _array(dataset.labels))
    elif hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__"):
        return None
    else:
        raise TypeError(
            f"{caller}: cannot take samples from a {type(dataset).__name__}; pass a tuple of "
            "arrays (X, y), a dataset with .images and .labels, or an object with __len__ "
            "and __getitem__ taking an index array"
        )
    if not arrays:
        raise ValueError(f"{caller}: the dataset tuple is empty; pass (X, y)")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(
            f"{caller}: the arrays have different numbers of samples ({shapes}); "
            "their first dimensions must match"
        )
    return arrays


def _shard(shard, batch_size: int, shuffle: bool, seed) -> tuple[int, int]:
    """(rank, number of ranks) from a Communicator, a (rank, size) pair or None."""
    if shard is None:
        return 0, 1
    rank, size = (shard.rank, shard.size) if hasattr(shard, "rank") else shard
    rank, size = int(rank), int(size)
    if not 0 <= rank < size:
        raise ValueError(f"DataLoader: shard rank {rank} is outside 0..{size - 1}")
    if size > 1 and batch_size < size:
        raise ValueError(f"DataLoader: batch_size={batch_size} cannot be split among {size} "
                         f"ranks; use a batch_size of at least {size}")
    if size > 1 and shuffle and seed is None:
        raise ValueError("DataLoader: a sharded loader needs a seed, the same on every rank, "
                         "so that all ranks cut the same permutation")
    return rank, size


def _array(a):
    """``a`` as an array: NumPy for array-likes, a GPU (CuPy) array stays as it is."""
    return a if is_gpu_array(a) else np.asarray(a)
