"""DataLoader: whole epochs without replacement, reproducible order, exact resume; random_split."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

import zerodl as zd
from zerodl.data import DataLoader, Subset, random_split, spiral


def toy(n: int = 103):
    """x = 0..n-1 as a column, y = 2x: a batch's pairing can be checked by eye."""
    x = np.arange(n, dtype=np.float32)[:, None]
    return x, 2 * np.arange(n, dtype=np.int64)


def epoch_order(loader) -> np.ndarray:
    return np.concatenate([x[:, 0] for x, _ in loader]).astype(np.int64)


def test_every_sample_exactly_once_per_epoch_and_pairs_kept():
    loader = DataLoader(toy(), batch_size=10, seed=0)
    assert len(loader) == 11
    sizes = []
    seen = []
    for x, y in loader:
        assert isinstance(x, np.ndarray) and x.dtype == np.float32 and y.dtype == np.int64
        np.testing.assert_array_equal(y, 2 * x[:, 0])
        sizes.append(len(x))
        seen.append(x[:, 0])
    assert sizes == [10] * 10 + [3]
    np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(103))


def test_a_new_permutation_each_epoch():
    loader = DataLoader(toy(), batch_size=10, seed=0)
    first, second = epoch_order(loader), epoch_order(loader)
    assert sorted(first) == sorted(second) == list(range(103))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(103))
    assert loader.epoch == 2


def test_same_seed_same_order_other_seed_other_order():
    a = DataLoader(toy(), batch_size=16, seed=7)
    b = DataLoader(toy(), batch_size=16, seed=7)
    c = DataLoader(toy(), batch_size=16, seed=8)
    for _ in range(2):
        order = epoch_order(a)
        np.testing.assert_array_equal(order, epoch_order(b))
        assert not np.array_equal(order, epoch_order(c))


def test_seed_none_follows_manual_seed():
    zd.manual_seed(3)
    first = epoch_order(DataLoader(toy(), batch_size=8))
    zd.manual_seed(3)
    np.testing.assert_array_equal(first, epoch_order(DataLoader(toy(), batch_size=8)))


def test_drop_last():
    loader = DataLoader(toy(), batch_size=10, drop_last=True, seed=0)
    assert len(loader) == 10
    batches = [x for x, _ in loader]
    assert [len(x) for x in batches] == [10] * 10
    assert len(np.unique(np.concatenate(batches))) == 100
    assert len(DataLoader(toy(100), batch_size=10, drop_last=True)) == 10
    assert len(DataLoader(toy(9), batch_size=10, drop_last=True)) == 0
    assert len(DataLoader(toy(9), batch_size=10)) == 1


def test_no_shuffle_keeps_the_order():
    loader = DataLoader(toy(), batch_size=25, shuffle=False)
    np.testing.assert_array_equal(epoch_order(loader), np.arange(103))
    np.testing.assert_array_equal(epoch_order(loader), np.arange(103))


def test_accepts_images_labels_objects_and_generic_datasets():
    x, y = toy(20)
    images_labels = SimpleNamespace(images=x, labels=y)
    xb, yb = next(iter(DataLoader(images_labels, batch_size=4, shuffle=False)))
    np.testing.assert_array_equal(yb, [0, 2, 4, 6])

    class Indexed:
        """Answers one call per batch, with an index array: no per-sample loop."""

        calls = []

        def __len__(self):
            return 20

        def __getitem__(self, index):
            self.calls.append(np.asarray(index))
            return x[index], y[index]

    dataset = Indexed()
    loader = DataLoader(dataset, batch_size=6, seed=0)
    order = epoch_order(loader)
    assert len(dataset.calls) == 4 and [len(c) for c in dataset.calls] == [6, 6, 6, 2]
    np.testing.assert_array_equal(order, np.concatenate(dataset.calls))
    assert sorted(order) == list(range(20))


def test_generated_set_goes_straight_in():
    X, y = spiral(seed=0)
    xb, yb = next(iter(DataLoader((X, y), batch_size=30, seed=0)))
    assert xb.shape == (30, 2) and yb.shape == (30,)


def test_resume_between_epochs_gives_the_same_next_epoch():
    run = DataLoader(toy(), batch_size=10, seed=0)
    epoch_order(run)
    state = json.loads(json.dumps(run.state_dict()))  # a checkpoint survives JSON
    expected = [epoch_order(run) for _ in range(2)]

    resumed = DataLoader(toy(), batch_size=10, seed=12345)
    resumed.load_state_dict(state)
    assert resumed.epoch == 1
    for order in expected:
        np.testing.assert_array_equal(epoch_order(resumed), order)
    assert resumed.epoch == run.epoch == 3


def test_resume_mid_epoch_continues_with_the_remaining_batches():
    run = DataLoader(toy(), batch_size=10, seed=0)
    it = iter(run)
    taken = [next(it)[0][:, 0] for _ in range(4)]
    state = run.state_dict()
    assert state["position"] == 4 and state["epoch"] == 0
    rest = np.concatenate([x[:, 0] for x, _ in it])
    following = epoch_order(run)

    resumed = DataLoader(toy(), batch_size=10, seed=99)
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state  # saving again before iterating changes nothing
    np.testing.assert_array_equal(epoch_order(resumed), rest)
    np.testing.assert_array_equal(epoch_order(resumed), following)
    assert sorted(np.concatenate(taken + [rest])) == list(range(103))


def test_generator_attribute_is_the_shuffling_source():
    a = DataLoader(toy(), batch_size=10, seed=0)
    b = DataLoader(toy(), batch_size=10, seed=1)
    b.generator.bit_generator.state = a.generator.bit_generator.state
    np.testing.assert_array_equal(epoch_order(a), epoch_order(b))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"dataset": toy(), "batch_size": 0}, ValueError, "at least 1"),
    ({"dataset": toy(), "batch_size": 2.5}, TypeError, "must be an int"),
    ({"dataset": (np.zeros(5), np.zeros(4)), "batch_size": 2}, ValueError, r"\(5,\), \(4,\)"),
    ({"dataset": 42, "batch_size": 2}, TypeError, "tuple of arrays"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(**kwargs)


def test_state_for_another_dataset_is_refused():
    state = DataLoader(toy(), batch_size=10, seed=0).state_dict()
    state["position"] = 50
    with pytest.raises(ValueError, match="position 50"):
        DataLoader(toy(), batch_size=10).load_state_dict(state)


# ---------------------------------------------------------------- random_split
def test_random_split_cuts_aligned_disjoint_parts():
    X = np.arange(300, dtype=np.float32).reshape(150, 2)
    y = np.arange(150)
    (x1, y1), (x2, y2) = random_split((X, y), [100, 50], seed=0)
    assert x1.shape == (100, 2) and x2.shape == (50, 2) and y1.shape == (100,)
    np.testing.assert_array_equal(x1[:, 0], 2 * y1)            # rows stay with their labels
    np.testing.assert_array_equal(x2[:, 0], 2 * y2)
    assert sorted(np.concatenate([y1, y2]).tolist()) == list(range(150))
    assert y1.tolist() != sorted(y1.tolist())                   # shuffled, not the first 100
    (again, _), _ = random_split((X, y), [100, 50], seed=0)
    np.testing.assert_array_equal(again, x1)
    (other, _), _ = random_split((X, y), [100, 50], seed=1)
    assert not np.array_equal(other, x1)


@pytest.mark.parametrize("n, fractions, sizes", [
    (10, [0.5, 0.3, 0.2], [5, 3, 2]),
    (11, [1 / 3, 1 / 3, 1 / 3], [4, 4, 3]),     # 3 each, the 2 left over to the first parts
    (1000, [0.8, 0.2], [800, 200]),
])
def test_random_split_takes_fractions(n, fractions, sizes):
    parts = random_split((np.arange(n),), fractions, seed=0)
    assert [len(p[0]) for p in parts] == sizes


def test_random_split_without_seed_follows_manual_seed():
    data = (np.arange(50),)
    zd.manual_seed(4)
    a = random_split(data, [0.5, 0.5])[0][0]
    zd.manual_seed(4)
    np.testing.assert_array_equal(random_split(data, [0.5, 0.5])[0][0], a)


def test_random_split_of_an_indexable_dataset_gives_subsets_a_loader_can_batch():
    class Squares:
        def __len__(self):
            return 20

        def __getitem__(self, index):
            index = np.asarray(index)
            return index.astype(np.float32), index ** 2

    train, val = random_split(Squares(), [15, 5], seed=0)
    assert isinstance(train, Subset) and len(train) == 15 and len(val) == 5
    batches = list(DataLoader(val, batch_size=5, shuffle=False))
    x, t = batches[0]
    np.testing.assert_array_equal(t, x.astype(np.int64) ** 2)
    assert set(x.tolist()).isdisjoint(set(train[np.arange(15)][0].tolist()))


def test_random_split_refuses_lengths_that_do_not_fit():
    data = (np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(ValueError, match=r"add up to 9, but the dataset has 10 samples"):
        random_split(data, [5, 4])
    with pytest.raises(ValueError, match="must add up to 1"):
        random_split(data, [0.5, 0.4])
    with pytest.raises(ValueError, match="different numbers of samples"):
        random_split((np.zeros(3), np.zeros(4)), [1, 2])
