"""Every script in examples/book runs on small settings, prints its numbers and writes its figure.

The scripts are imported and their ``main(argv)`` called in this process (one
MNIST load for all); each returns its key numbers, which are asserted here.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

BOOK = Path(__file__).resolve().parents[1] / "examples" / "book"

FIGURES = {
    "neuralnet_mnist": ["neuralnet_mnist.png"],
    "train_neuralnet": ["train_neuralnet.png"],
    "gradient_check": ["gradient_check.png"],
    "optimizer_compare_naive": ["optimizer_compare_naive.png"],
    "optimizer_compare_mnist": ["optimizer_compare_mnist.png"],
    "weight_init_activation_histogram": ["weight_init_activation_histogram.png"],
    "weight_init_compare": ["weight_init_compare.png"],
    "batch_norm_test": ["batch_norm_test.png"],
    "overfit_weight_decay": ["overfit_weight_decay.png"],
    "overfit_dropout": ["overfit_dropout.png"],
    "hyperparameter_optimization": ["hyperparameter_optimization.png"],
    "train_convnet": ["train_convnet.png", "visualize_filter_before.png", "visualize_filter_after.png"],
    "misclassified_mnist": ["misclassified_mnist.png"],
    "half_float_network": ["half_float_network.png"],
}


def one_blas_thread():
    """Small matrices gain nothing from BLAS threads, and on a busy machine the threads'
    spinning costs ten times the work: the examples run on one when threadpoolctl is here."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


@pytest.fixture
def run(tmp_path, monkeypatch, data_root, capsys):
    """run(name, *args) -> (the returned numbers, what was printed); checks the figures."""
    monkeypatch.setenv("ZERODL_DATA", str(data_root))
    monkeypatch.syspath_prepend(str(BOOK))

    def call(name, *args):
        module = importlib.import_module(name)
        with one_blas_thread():
            result = module.main([*args, "--out", str(tmp_path)])
        printed = capsys.readouterr().out
        for figure in FIGURES[name]:
            path = tmp_path / figure
            assert path.read_bytes()[:4] == b"\x89PNG", figure
        return result, printed

    yield call
    sys.modules.pop("_shared", None)


def test_every_script_is_tested():
    assert sorted(p.stem for p in BOOK.glob("*.py") if not p.stem.startswith("_")) == sorted(FIGURES)


def test_neuralnet_mnist_trains_a_stand_in_without_the_books_file(run):
    r, out = run("neuralnet_mnist", "--train-iters", "100", "--test-size", "2000")
    assert "sample_weight.pkl is not here" in out and not r["book_weights"]
    assert r["accuracy"] > 0.8 and abs(r["accuracy"] - r["accuracy_zerodl"]) <= 0.002


def test_neuralnet_mnist_reads_a_weights_file_in_the_books_format(run, tmp_path):
    rng = np.random.default_rng(0)
    sizes = [784, 50, 100, 10]
    params = {}
    for i, (a, b) in enumerate(zip(sizes, sizes[1:]), start=1):
        params[f"W{i}"] = rng.standard_normal((a, b)).astype(np.float32)
        params[f"b{i}"] = rng.standard_normal(b).astype(np.float32)
    path = tmp_path / "sample_weight.pkl"
    path.write_bytes(pickle.dumps(params))
    r, out = run("neuralnet_mnist", "--weights", str(path), "--test-size", "1000")
    assert r["book_weights"] and "not here" not in out
    assert r["accuracy"] == r["accuracy_zerodl"] and "Accuracy:" in out


def test_train_neuralnet_learns_and_backprop_is_far_faster(run):
    r, _ = run("train_neuralnet", "--iters", "300", "--train-size", "5000", "--test-size", "2000")
    assert r["test_accuracy"] > 0.8 and r["test_accuracy_zerodl"] > 0.8
    assert r["numerical_seconds"] > 100 * r["backprop_seconds"]


def test_gradient_check_differences_are_below_1e_6_in_float64(run):
    r, out = run("gradient_check", "--hidden", "10")
    assert r["book_max"] < 1e-6 and r["zerodl_max"] < 1e-6
    assert "W1: mean |diff|" in out and "layers.0.W: mean |diff|" in out


def test_optimizer_compare_naive_gives_the_books_paths(run):
    r, _ = run("optimizer_compare_naive")
    np.testing.assert_allclose(r["SGD"]["book"], (-0.3504, 0.0848), atol=1e-4)
    np.testing.assert_allclose(r["AdaGrad"]["book"], (-0.1202, 0.0), atol=1e-4)
    for name in ("SGD", "Momentum", "AdaGrad"):
        assert r[name]["max_difference"] < 1e-12, name
    assert r["Adam"]["max_difference"] < 1e-4  # ε after (zerodl) or before (book) the bias correction


def test_optimizer_compare_mnist_sgd_is_the_slowest(run):
    r, _ = run("optimizer_compare_mnist", "--iters", "40", "--train-size", "2000")
    for api in ("book", "zerodl"):
        losses = r[api]
        assert all(losses["SGD"] > losses[k] + 0.2 for k in ("Momentum", "AdaGrad", "Adam")), (api, losses)


def test_weight_init_histograms_saturate_collapse_or_spread(run):
    r, _ = run("weight_init_activation_histogram", "--samples", "300")
    for api in ("book", "zerodl"):
        assert r["sigmoid, std 1"][api][-1][0] > 0.3           # piled up at 0 and 1
        assert r["sigmoid, std 0.01"][api][-1][1] < 0.03       # all near 0.5
        assert 0.05 < r["sigmoid, Xavier"][api][-1][1] < 0.3   # spread out
        assert 0.3 < r["ReLU, He"][api][-1][1] < 2.0


def test_weight_init_compare_small_weights_learn_nothing_and_he_learns(run):
    r, _ = run("weight_init_compare", "--iters", "60", "--train-size", "2000")
    for api in ("book", "zerodl"):
        assert r[api]["std=0.01"] > 2.29, r
        assert r[api]["He"] < r[api]["std=0.01"] - 0.3, r


def test_batch_norm_learns_where_plain_training_does_not(run):
    r, _ = run("batch_norm_test", "--scale", "0.01", "--epochs", "6")
    (run_,) = r["runs"]
    for api in ("book", "zerodl"):
        plain, bn = run_[api]
        assert plain < 0.2 and bn > plain + 0.4, run_


def test_weight_decay_narrows_the_gap_between_train_and_test(run):
    r, _ = run("overfit_weight_decay", "--epochs", "30", "--test-size", "1000")
    for api in ("book", "zerodl"):
        (train0, test0), (train1, test1) = r["without"][api], r["with"][api]
        assert train0 > test0 + 0.15 and train0 - test0 > train1 - test1, (api, r)


def test_overfit_dropout_trains_with_the_books_trainer(run):
    r, _ = run("overfit_dropout", "--epochs", "20", "--lr", "0.05", "--test-size", "1000")
    assert r["book"][0] > 0.3 and r["zerodl"][0] > 0.3, r


def test_hyperparameter_search_ranks_its_trials(run):
    r, out = run("hyperparameter_optimization", "--trials", "2", "--epochs", "8",
                 "--lr-exponents", "-1.5", "-1")
    trials = r["trials"]
    assert len(trials) == 2 and trials[0]["val_acc"] >= trials[1]["val_acc"]
    assert all(10 ** -1.5 <= t["lr"] <= 0.1 and 1e-8 <= t["weight_decay"] <= 1e-4 for t in trials)
    assert trials[0]["val_acc"] > 0.3 and trials[0]["val_acc_zerodl"] > 0.3
    assert "Best-1(val acc:" in out


def test_train_convnet_learns_and_its_filters_change(run, tmp_path):
    r, _ = run("train_convnet", "--epochs", "1", "--train-size", "1500", "--test-size", "500",
               "--evaluate", "300")
    assert r["test_accuracy"] > 0.3 and r["test_accuracy_zerodl"] > 0.3, r
    assert r["filter_change"] > 1e-3
    with np.load(tmp_path / "params.npz", allow_pickle=False) as f:
        assert f["W1"].shape == (30, 1, 5, 5)


def test_misclassified_mnist_same_mistakes_in_zerodl(run):
    r, out = run("misclassified_mnist", "--train-iters", "30", "--test-size", "500")
    assert "deep_convnet_params.pkl is not here" in out
    assert r["accuracy"] > 0.5 and r["same_answers"] and len(r["misclassified"]) == 20
    assert all(label != answer for label, answer in r["misclassified"].values())


def test_half_float_network_keeps_the_accuracy(run):
    r, _ = run("half_float_network", "--train-iters", "30", "--test-size", "500")
    assert r["float64"] > 0.5 and abs(r["float64"] - r["float16"]) <= 0.01
    assert r["float64_zerodl"] == r["float64"] and abs(r["float16_zerodl"] - r["float16"]) <= 0.004
