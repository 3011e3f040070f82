"""Hostile command lines and run folders: every failure is one message and a non-zero exit.

Each case runs the real `zerodl` command (``python -m zerodl`` in a
subprocess) on a damaged run folder, a read-only or full disk, or an option
out of bounds, and asserts the exit status, one line ``zerodl COMMAND: ...``
naming the file or option and the fix, and no traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import test_hostile_files
import zerodl
from zerodl import io
from zerodl.cli import main

SRC = str(Path(zerodl.__file__).resolve().parents[1])
tiny_disk = test_hostile_files.tiny_disk            # a 256 KiB tmpfs (a fixture; needs root)


def zerodl_cli(*args, cwd=None, env=None, timeout=120) -> subprocess.CompletedProcess:
    """``python -m zerodl ARGS`` as a user runs it."""
    env = {**{k: v for k, v in os.environ.items() if k != "ZERODL_DEBUG"}, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "zerodl", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout)


def one_message(result, command: str, *words, status=None) -> str:
    """The single ``zerodl COMMAND: ...`` line of a failed run, checked for ``words``."""
    assert result.returncode != 0, result.stdout
    if status is not None:
        assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr and "During handling" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"zerodl {command}: ")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------- a run folder to damage
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 2-epoch xor run (Adam, cosine schedule: every part of a checkpoint)."""
    out = tmp_path_factory.mktemp("runs") / "xor"
    assert main(["train", "--dataset", "xor", "--epochs", "2", "--hidden", "8",
                 "--schedule", "cosine", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture
def run_dir(trained, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(trained, out)
    return out


def edit_checkpoint(path: Path, change) -> None:
    state = io.load(path)
    change(state)
    io.save(state, path)


def edit_json(path: Path, change) -> None:
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def set_in(keys, value):
    def change(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return change


RESUME_CASES = {
    "truncated checkpoint": ("checkpoint.npz", None, ["checkpoint.npz", "damaged or truncated"]),
    "config not JSON": ("config.json", "{", ["config.json cannot be read", "JSONDecodeError"]),
    "config unknown model": ("config.json", set_in(["model"], "resnet"),
                             ["model = 'resnet' is not one of mlp"]),
    "config dataset attribute": ("config.json", set_in(["dataset"], "DataLoader"),
                                 ["dataset = 'DataLoader' is not one of"]),
    "config huge hidden": ("config.json", set_in(["hidden"], [400000, 100]), ["runs.LIMITS"]),
    "config lr a string": ("config.json", set_in(["lr"], "fast"), ["lr = 'fast' is a str"]),
    "config setting missing": ("config.json", lambda c: c.pop("seed"), ["'seed' is missing"]),
    "rng state": ("checkpoint.npz", set_in(["meta", "rng", "state"], {"state": "x", "inc": 1}),
                  ["random generator state does not fit"]),
    "rng state not a dict": ("checkpoint.npz", set_in(["meta", "rng"], 7),
                             ["random generator state does not fit"]),
    "loader position": ("checkpoint.npz", set_in(["meta", "loader_rng", "position"], 10**6),
                        ["data loader state does not fit", "position 1000000"]),
    "loader generator": ("checkpoint.npz", set_in(["meta", "loader_rng", "generator"], "x"),
                         ["data loader state does not fit"]),
    "scheduler state": ("checkpoint.npz", set_in(["scheduler", "base_lr"], "x"),
                        ["learning-rate schedule does not fit"]),
    "scheduler missing field": ("checkpoint.npz", lambda s: s["scheduler"].pop("last_epoch"),
                                ["learning-rate schedule does not fit"]),
    "optimizer type": ("checkpoint.npz", set_in(["optimizer", "type"], "SGD"),
                       ["optimizer state does not fit", "from SGD"]),
    "optimizer moment shape": ("checkpoint.npz",
                               set_in(["optimizer", "state", "layers.0.W", "m"], np.zeros(3)),
                               ["optimizer state does not fit", "shape (3,)"]),
    "optimizer eps": ("checkpoint.npz", set_in(["optimizer", "hyperparameters", "eps"], "tiny"),
                      ["optimizer's eps = 'tiny' is not a finite number"]),
    "parameters shape": ("checkpoint.npz", set_in(["model", "layers.0.W"], np.zeros((2, 9))),
                         ["parameters does not fit"]),
    "epoch disagrees with history": ("checkpoint.npz", set_in(["meta", "epoch"], 99),
                                     ["says 99 epochs were done but its history holds 2"]),
    "history inconsistent": ("checkpoint.npz", set_in(["meta", "history", "train_loss"], [1.0]),
                             ["training history is inconsistent"]),
}


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_resume_from_a_damaged_run_folder_is_one_message(run_dir, case):
    name, change, words = RESUME_CASES[case]
    path = run_dir / name
    if change is None:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif isinstance(change, str):
        path.write_text(change)
    elif name.endswith(".json"):
        edit_json(path, change)
    else:
        edit_checkpoint(path, change)
    before = (run_dir / "checkpoint.npz").read_bytes()
    result = zerodl_cli("train", "--resume", run_dir, "--epochs", "3", "--no-progress")
    one_message(result, "train", f"--resume {run_dir}", *words)
    assert (run_dir / "checkpoint.npz").read_bytes() == before     # nothing trained, nothing lost
    if "resuming" in result.stdout:
        assert "after epoch 99" not in result.stdout


EVALUATE_CASES = {
    "shape mismatch": (set_in(["model", "layers.0.W"], np.zeros((2, 5), np.float32)),
                       ["do not fit the model", "layers 2-8-2"]),
    "unknown model": (set_in(["config", "model"], "resnet"), ["model = 'resnet' is not one of"]),
    "dataset attribute": (set_in(["config", "dataset"], "DataLoader"),
                          ["dataset = 'DataLoader' is not one of mnist"]),
    "huge hidden": (set_in(["config", "hidden"], [400000, 100]),
                    ["hidden = [400000, 100]", "100,000 (runs.LIMITS)"]),
    "too many parameters": (set_in(["config", "hidden"], [50000, 50000]),
                            ["more than 50,000,000 (runs.LIMITS)"]),
    "hidden for a CNN": (set_in(["config", "model"], "simple-convnet"), ["fixed architecture"]),
    "wrong input size": (set_in(["config", "num_inputs"], 784), ["are not xor's (2, 2)"]),
    "no settings": (lambda s: s.pop("config"), ["holds no zerodl train settings"]),
}


@pytest.mark.parametrize("case", list(EVALUATE_CASES))
def test_evaluate_refuses_a_model_file_before_building_it(run_dir, case):
    change, words = EVALUATE_CASES[case]
    edit_checkpoint(run_dir / "model.npz", change)
    result = zerodl_cli("evaluate", run_dir, "--no-progress")
    one_message(result, "evaluate", str(run_dir / "model.npz"), *words, status=1)
    assert result.stdout == ""                          # refused before any data was loaded


def test_a_small_file_cannot_build_a_huge_model(run_dir):
    """The saved config is checked before the model is built: no 1.4 GB MLP on the way."""
    edit_checkpoint(run_dir / "model.npz", set_in(["config", "hidden"], [400000, 100]))
    out = test_hostile_files.measured("from zerodl.runs import load_model\nload_model(args[0])",
                                      run_dir / "model.npz")
    assert out["error"] == "RunConfigError" and "runs.LIMITS" in out["message"]
    assert out["peak_mb"] < 300                        # far from the 1.4 GB of the model


# ---------------------------------------------------------------- output folders and disks
@pytest.fixture
def read_only(tiny_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    return tiny_disk


@pytest.mark.parametrize("args", [
    ["train", "--dataset", "fashion-mnist", "--epochs", "1", "--out", "{ro}/run"],
    ["descent", "--out", "{ro}/race"],
    ["plot", "surface", "--out", "{ro}/bowl.png"],
])
def test_read_only_output_is_refused_before_any_data_is_loaded(read_only, tmp_path, args):
    args = [a.format(ro=read_only) for a in args]
    # No dataset anywhere: a run that loaded data first would fail on that instead.
    env = {"ZERODL_DATA": str(tmp_path / "none"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    start = time.perf_counter()
    result = zerodl_cli(*args, env=env)
    one_message(result, args[0], f"--out {args[-1]}", f"cannot write in {read_only}",
                "Read-only file system", "choose a folder you may write to", status=2)
    assert time.perf_counter() - start < 30


def test_a_full_disk_is_one_message_not_three_tracebacks(tiny_disk):
    out = tiny_disk / "run"                               # the checkpoint needs ~1 MB
    result = zerodl_cli("train", "--dataset", "xor", "--hidden", "300,300", "--epochs", "1",
                        "--out", out, "--no-progress")
    line = one_message(result, "train", "the disk is full", "free space on the disk", status=1)
    assert "checkpoint.npz" in line and result.stderr.count("No space left") == 1
    assert not (out / "model.npz").exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]   # no half-written file


@pytest.mark.parametrize("args, words", [
    (["train", "--dataset", "xor", "--out", "{file}/sub"], ["--out {file}/sub", "is a file"]),
    (["descent", "--out", "{file}"], ["--out {file} is a file, not a folder"]),
    (["plot", "surface", "--out", "{dir}"], ["--out {dir} is a folder", "give a file name"]),
    (["plot", "surface", "--out", "{dir}/x.xyz"], ["'.xyz' is not a format", ".png, .svg, .pdf"]),
    (["plot", "surface", "--xlim=-1e308,1e308", "--out", "{dir}/a.png"],
     ["--xlim '-1e308,1e308'", "within ±1e+06"]),
    (["plot", "surface", "--ylim=nan,1", "--out", "{dir}/a.png"], ["--ylim 'nan,1'", "finite"]),
])
def test_bad_output_paths_and_limits_are_refused(tmp_path, args, words):
    (tmp_path / "afile").write_text("")
    names = {"file": tmp_path / "afile", "dir": tmp_path}
    result = zerodl_cli(*[a.format(**names) for a in args])
    one_message(result, args[0], *[w.format(**names) for w in words], status=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


# ---------------------------------------------------------------- command-line limits
@pytest.mark.parametrize("args, words", [
    (["train", "--hidden", "1000000000"], ["--hidden", "at most 100 layers of at most 100,000"]),
    (["train", "--hidden", ",,,"], ["--hidden", "an empty size"]),
    (["train", "--hidden", "100,,100"], ["--hidden", "an empty size"]),
    (["train", "--hidden", "100000,100000"], ["--hidden 100000,100000", "50,000,000"]),
    (["train", "--epochs", "1e23"], ["--epochs", "at most 100,000"]),
    (["train", "--epochs", "100000000000000000000000"], ["--epochs", "at most 100,000"]),
    (["train", "--batch-size", "10000001"], ["--batch-size", "at most 1,000,000"]),
    (["train", "--lr", "inf"], ["--lr", "expected a float"]),
    (["train", "--seed", "-1"], ["--seed", "must be 0 or more"]),
    (["train", "--seed", str(2**32)], ["--seed", "at most 4,294,967,295"]),
    (["train", "--train-subset", "1e99"], ["--train-subset", "at most 10,000,000"]),
    (["descent", "--steps", "100000000"], ["--steps 100000000", "0 to 100,000"]),
    (["gradcheck", "--seed", "-1"], ["--seed", "must be 0 or more"]),
    (["gradcheck", "nosuchop"], ["no operation matches 'nosuchop'", "matmul", "conv2d"]),
])
def test_sizes_past_the_documented_limits_are_refused_at_once(tmp_path, args, words):
    # MNIST is the default dataset and is nowhere here: a refusal after loading would say so.
    env = {"ZERODL_DATA": str(tmp_path / "none"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = [] if args[0] == "gradcheck" else ["--out", tmp_path / "out"]
    result = zerodl_cli(*args, *out, env=env)
    line = one_message(result, args[0], *words, status=2)
    assert "all passed" not in result.stdout and "MNIST" not in line
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the lab and --debug
def test_lab_starts_when_the_newest_run_does_not_load(run_dir, tmp_path):
    import threading

    cwd = tmp_path / "home"
    bad = cwd / "runs" / "mlp-mnist"                     # said to be MNIST, holding xor's weights
    shutil.copytree(run_dir, bad)
    mnist = {"dataset": "mnist", "num_inputs": 784, "num_outputs": 10}
    edit_checkpoint(bad / "model.npz", lambda s: s["config"].update(mnist))
    edit_json(bad / "config.json", lambda c: c.update(mnist))
    lab = subprocess.Popen([sys.executable, "-m", "zerodl", "lab", "--port", "0", "--no-browser"],
                           cwd=cwd, env=dict(os.environ, PYTHONPATH=SRC), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, lab.kill)             # a lab that never says it runs
    watchdog.start()
    try:
        lines = []
        while line := lab.stdout.readline():
            lines.append(line)
            if line.startswith("digits model: none yet"):
                break
    finally:
        watchdog.cancel()
        lab.terminate()
        _, err = lab.communicate(timeout=30)
    assert len(lines) == 3, lines + [err]
    assert lines[0].startswith("zerodl lab running at http://127.0.0.1:")
    assert "skipped the newest run" in lines[1] and str(Path("runs/mlp-mnist/model.npz")) in lines[1]
    assert "do not fit the model" in lines[1] and "shape mismatch for layers.0.W" in lines[1]
    assert "Traceback" not in err


def test_debug_shows_the_traceback_as_well(tmp_path):
    args = ["plot", "surface", "--out", str(tmp_path / "x.xyz")]
    for result in (zerodl_cli("--debug", *args), zerodl_cli(*args, "--debug"),
                   zerodl_cli(*args, env={"ZERODL_DEBUG": "1"})):
        assert result.returncode == 2
        assert "Traceback" in result.stderr and "CommandError" in result.stderr
        assert result.stderr.rstrip().splitlines()[-1].startswith("zerodl plot: --out")


def test_an_unforeseen_error_is_one_line_pointing_to_debug(tmp_path, monkeypatch, capsys):
    from zerodl import landscape

    def broken(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(landscape, "minimize", broken)
    monkeypatch.delenv("ZERODL_DEBUG", raising=False)
    assert main(["descent", "--out", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("zerodl descent: unexpected TypeError: a bug.")
    assert "zerodl --debug" in err and "ZERODL_DEBUG=1" in err


# ---------------------------------------------------------------- divergence
def strict_json(path: Path):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(path.read_text(), parse_constant=refuse)


def test_a_diverged_run_is_a_failure_and_saves_no_broken_model(tmp_path):
    out = tmp_path / "run"
    result = zerodl_cli("train", "--dataset", "spiral", "--optimizer", "sgd", "--lr", "1e308",
                        "--batch-size", "100000", "--epochs", "1", "--out", out, "--no-progress")
    line = one_message(result, "train", "diverged", "epoch 1, step 1", "No model.npz",
                       "Fix: train again with a smaller learning rate", "--lr 1e+307", status=1)
    assert "test loss nan" not in result.stdout and "test accuracy" not in result.stdout
    assert not (out / "model.npz").exists()
    if (out / "metrics.json").exists():
        strict_json(out / "metrics.json")
    params = io.load(out / "checkpoint.npz")["model"]        # the last good one: before training
    assert all(np.isfinite(a).all() for a in params.values()), line


def test_a_diverged_run_says_the_model_npz_left_in_its_folder_is_an_earlier_runs(tmp_path):
    out = tmp_path / "run"
    good = zerodl_cli("train", "--dataset", "spiral", "--epochs", "1", "--out", out,
                      "--no-progress")
    assert good.returncode == 0, good.stderr
    before = (out / "model.npz").read_bytes()
    result = zerodl_cli("train", "--dataset", "spiral", "--optimizer", "sgd", "--lr", "1e308",
                        "--batch-size", "100000", "--epochs", "1", "--out", out, "--no-progress")
    one_message(result, "train", "diverged", "This run wrote no model.npz",
                "the one in the folder is an earlier run's", status=1)
    assert (out / "model.npz").read_bytes() == before  # nothing lost either


def test_divergence_after_good_epochs_writes_strict_metrics_with_a_note(tmp_path):
    out = tmp_path / "run"
    result = zerodl_cli("train", "--dataset", "sine", "--optimizer", "sgd", "--lr", "2",
                        "--epochs", "20", "--out", out, "--no-progress")
    one_message(result, "train", "diverged", "at epoch 5, step 7", "--lr 0.2 ", status=1)
    metrics = strict_json(out / "metrics.json")
    assert "diverged" in metrics["note"] and [r["epoch"] for r in metrics["epochs"]] == [1, 2, 3, 4]
    assert metrics["test_loss"] == metrics["epochs"][-1]["test_loss"]
    assert not (out / "model.npz").exists()
