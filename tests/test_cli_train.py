"""`zerodl train` and `zerodl evaluate`, driven in-process through the CLI."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from cli_support import hide_matplotlib
from zerodl import io, optim
from zerodl.cli import main


def train(tmp_path, *args, name="run"):
    out = tmp_path / name
    code = main(["train", *args, "--out", str(out), "--no-progress"])
    return code, out


def test_train_on_spiral_writes_metrics_model_and_checkpoint(tmp_path, capsys):
    code, out = train(tmp_path, "--dataset", "spiral", "--model", "mlp", "--epochs", "40")
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) >= {"test_accuracy", "test_loss", "epochs", "config"}
    assert 0.85 <= metrics["test_accuracy"] <= 1.0
    assert len(metrics["epochs"]) == 40
    row = metrics["epochs"][-1]
    assert set(row) == {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                        "seconds"}
    assert row["epoch"] == 40 and row["test_accuracy"] == metrics["test_accuracy"]
    assert metrics["config"]["dataset"] == "spiral" and metrics["config"]["epochs"] == 40
    for name in ("model.npz", "checkpoint.npz", "config.json"):
        assert (out / name).exists(), name
    printed = capsys.readouterr().out
    assert f"test accuracy on spiral: {metrics['test_accuracy']:.2%}" in printed
    assert str(out) in printed.splitlines()[-2]        # where the outputs are

    assert main(["evaluate", str(out)]) == 0
    evaluated = capsys.readouterr().out
    assert f"test accuracy on spiral: {metrics['test_accuracy']:.2%}" in evaluated
    assert f"test loss {metrics['test_loss']:.4f}" in evaluated


def test_learning_curve_is_drawn_when_matplotlib_is_there(tmp_path):
    pytest.importorskip("matplotlib")
    code, out = train(tmp_path, "--dataset", "xor", "--epochs", "3")
    assert code == 0
    png = (out / "learning_curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_continues_to_the_same_parameters(tmp_path):
    args = ("--dataset", "circles", "--model", "mlp", "--seed", "3")
    code, straight = train(tmp_path, *args, "--epochs", "6", name="straight")
    assert code == 0
    code, out = train(tmp_path, *args, "--epochs", "3", name="parts")
    assert code == 0
    assert main(["train", "--resume", str(out), "--epochs", "6", "--no-progress"]) == 0
    a, b = io.load(straight / "model.npz")["model"], io.load(out / "model.npz")["model"]
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3, 4, 5, 6]
    assert metrics == json.loads((straight / "metrics.json").read_text()) | {
        "epochs": metrics["epochs"]}


def test_sine_regression_has_no_accuracy(tmp_path, capsys):
    code, out = train(tmp_path, "--dataset", "sine", "--epochs", "20")
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] is None and metrics["test_loss"] < 0.5
    assert "test loss (MSE) on sine" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--model", "resnet"], "invalid choice: 'resnet'"),
    (["--lr", "-0.1"], "must be positive"),
    (["--lr", "fast"], "expected a float"),
    (["--epochs", "0"], "must be positive"),
    (["--batch-size", "-5"], "must be positive"),
    (["--weight-decay", "-1"], "must be 0 or more"),
    (["--dataset", "spiral", "--model", "simple-convnet"], "takes 28x28 images"),
    (["--dataset", "sine", "--model", "deep-convnet"], "use --model mlp"),
    (["--model", "simple-convnet", "--hidden", "50"], "fixed architecture"),
    (["--hidden", "100,x"], "comma-separated layer sizes"),
    (["--schedule", "linear"], "invalid choice: 'linear'"),
    (["--dataset", "xor", "--train-subset", "10"], "generated in full"),
    (["--resume", "no/such/run"], "no checkpoint.npz"),
])
def test_bad_arguments_fail_at_once(tmp_path, capsys, args, message):
    start = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        main(["train", *args, "--out", str(tmp_path / "out")])
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert time.perf_counter() - start < 1.0
    assert not (tmp_path / "out").exists()               # no work was done


def test_resume_refuses_other_settings(tmp_path, capsys):
    code, out = train(tmp_path, "--dataset", "xor", "--epochs", "1")
    assert code == 0
    with pytest.raises(SystemExit) as info:
        main(["train", "--resume", str(out), "--lr", "0.5"])
    assert info.value.code == 2 and "--lr differ" in capsys.readouterr().err


def test_resume_refuses_fewer_epochs_than_were_done(tmp_path, capsys):
    code, out = train(tmp_path, "--dataset", "xor", "--epochs", "3")
    assert code == 0
    config = (out / "config.json").read_text()
    assert main(["train", "--resume", str(out), "--epochs", "2", "--no-progress"]) == 2
    assert "--epochs 2 is fewer than the 3 epochs already done" in capsys.readouterr().err
    assert (out / "config.json").read_text() == config          # still says 3 epochs


def test_missing_data_is_a_clear_error_without_traceback(tmp_path, monkeypatch, capsys):
    import zerodl.data.download as download

    def offline(url, out, timeout=None):
        raise OSError("network unreachable")

    monkeypatch.setattr(download, "fetch", offline)
    monkeypatch.setenv("ZERODL_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(download, "search_dirs",
                        lambda name, root=None: [tmp_path / "empty" / name])
    code, _ = train(tmp_path, "--dataset", "fashion-mnist", "--epochs", "1")
    err = capsys.readouterr().err
    assert code == 1
    assert "\nzerodl train: " in "\n" + err and "Traceback" not in err
    assert "ZERODL_DATA" in err


def test_interrupted_run_says_how_to_resume(tmp_path, monkeypatch, capsys):
    import zerodl.train as zt

    def interrupted(*args, checkpoint, **kwargs):
        raise zt.TrainingInterrupted("stop", str(checkpoint), 1, zt.History())

    monkeypatch.setattr(zt, "fit", interrupted)
    code, out = train(tmp_path, "--dataset", "xor", "--epochs", "3")
    assert code == 130
    err = capsys.readouterr().err
    assert "state after epoch 1" in err and f"zerodl train --resume {out}" in err


def test_a_run_with_a_large_seed_from_an_older_zerodl_still_evaluates_and_resumes(tmp_path, capsys):
    """zerodl before the command-line bound took any --seed (a timestamp, say): its runs load."""
    code, out = train(tmp_path, "--dataset", "xor", "--epochs", "1")
    assert code == 0
    seed = 1_700_000_000_123
    state = io.load(out / "model.npz")
    state["config"]["seed"] = seed
    io.save(state, out / "model.npz")
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps(config | {"seed": seed}))
    capsys.readouterr()
    assert main(["evaluate", str(out), "--no-progress"]) == 0, capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--epochs", "2", "--no-progress"]) == 0
    assert json.loads((out / "config.json").read_text())["seed"] == seed


def test_evaluate_needs_a_run_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["evaluate", str(tmp_path)])
    assert info.value.code == 2 and "model.npz not found" in capsys.readouterr().err


def test_tiny_mnist_run(tmp_path, data_root, monkeypatch, capsys):
    monkeypatch.setenv("ZERODL_DATA", str(data_root))
    code, out = train(tmp_path, "--dataset", "mnist", "--model", "mlp", "--train-subset", "500",
                      "--epochs", "1")
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["train_size"] == 500 and metrics["config"]["test_size"] == 10000
    assert 0.5 < metrics["test_accuracy"] < 1.0          # 500 images, one epoch: well above 10%
    from zerodl import data

    splits = []
    read = data.MNIST.__init__
    monkeypatch.setattr(data.MNIST, "__init__",
                        lambda self, *a, **kw: splits.append(kw.get("train")) or read(self, *a, **kw))
    assert main(["evaluate", str(out)]) == 0
    assert f"{metrics['test_accuracy']:.2%}" in capsys.readouterr().out.splitlines()[-1]
    assert splits == [False]            # evaluate reads the test split alone


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_every_optimizer_choice_trains_through_the_command_line(name, tmp_path, capsys):
    """`zerodl train --optimizer NAME` for every choice the command offers (one epoch of xor)."""
    spec = optim.OPTIMIZERS[name]
    code, out = train(tmp_path, "--dataset", "xor", "--optimizer", name, "--epochs", "1")
    assert code == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    if name != "adam":                  # adam is the recipe's own, with its own rate (0.01)
        assert config["lr"] == spec.lr and config["weight_decay"] == spec.weight_decay
    assert config["optimizer"] == name
    saved = io.load(out / "checkpoint.npz")
    assert saved["optimizer"]["type"] == spec.cls.__name__
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.isfinite(metrics["test_loss"]) and metrics["epochs"][0]["epoch"] == 1


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                  "adamw"])
def test_every_optimizer_of_train_gets_the_weight_decay(name):
    from zerodl import landscape, nn
    from zerodl.runs import build_optimizer

    model = nn.Linear(3, 2)
    opt = build_optimizer({"optimizer": name, "lr": 0.05, "weight_decay": 0.01}, model)
    assert landscape.type_name(type(opt)) == name
    assert opt.weight_decay == 0.01 and opt.lr == 0.05


def test_epoch_lines_say_validation_as_the_bar_and_the_plot_do(tmp_path, capsys):
    code, _ = train(tmp_path, "--dataset", "xor", "--epochs", "2")
    assert code == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 2 and all("validation loss" in line for line in lines)
    assert not any("test loss" in line for line in lines)
    assert "validation on the 200 test samples" in out.splitlines()[0]


def test_a_core_only_install_says_it_skipped_the_learning_curve(tmp_path, capsys, monkeypatch):
    hide_matplotlib(monkeypatch)
    code, out = train(tmp_path, "--dataset", "xor", "--epochs", "1")
    assert code == 0 and not (out / "learning_curve.png").exists()
    printed = capsys.readouterr().out
    assert "skipped learning_curve.png" in printed and "pip install 'zerodl[plot]'" in printed
    assert "learning_curve.png" not in printed.splitlines()[-2]     # not among the outputs


def test_metrics_json_is_strict_json_with_non_finite_values_as_null():
    from zerodl.runs import metrics_dict
    from zerodl.train import History

    history = History()
    for epoch, loss in [(1, 0.5), (2, float("inf")), (3, float("nan"))]:
        history.append(**{**{f: None for f in History().to_dict()}, "epoch": epoch,
                          "train_loss": loss, "val_loss": loss, "seconds": 0.1})
    text = json.dumps(metrics_dict(history, {"dataset": "sine"}), allow_nan=False)
    metrics = json.loads(text)
    assert [r["test_loss"] for r in metrics["epochs"]] == [0.5, None, None]
    assert metrics["test_loss"] is None and "null" in metrics["note"]
