"""`zerodl descent` and `zerodl plot`: files written, the book's defaults, bad names refused early."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cli_support import hide_matplotlib
from zerodl import landscape
from zerodl.cli import main

pytest.importorskip("matplotlib")


def strict_json(path):
    """Parse as standard JSON: NaN and Infinity are not allowed."""
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_descent_reproduces_the_books_comparison(tmp_path, capsys):
    out = tmp_path / "race"
    rc = main(["descent", "--function", "elongated", "--optimizers", "sgd,momentum,adagrad,adam",
               "--start=-7,2", "--steps", "30", "--out", str(out)])
    assert rc == 0
    record = strict_json(out / "trajectories.json")
    assert record["function"] == "elongated" and record["start"] == [-7.0, 2.0]
    assert record["steps"] == 30
    runs = record["trajectories"]
    assert list(runs) == ["sgd", "momentum", "adagrad", "adam"]
    assert {k: v["lr"] for k, v in runs.items()} == {"sgd": 0.95, "momentum": 0.1,
                                                      "adagrad": 1.5, "adam": 0.3}
    for name, run in runs.items():
        expected = landscape.minimize("elongated", (-7, 2), name, lr=run["lr"], steps=30)
        np.testing.assert_allclose(run["points"], expected.points)
        np.testing.assert_allclose(run["values"], expected.values)
        assert run["diverged"] is False and len(run["points"]) == 31
    assert (out / "descent.png").read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert "adagrad" in printed and "0.0007219" in printed


def test_descent_learning_rates_and_numerical_gradients(tmp_path):
    rc = main(["descent", "--function", "bowl", "--optimizers", "sgd,nesterov", "--lr", "sgd=0.1",
               "--lr", "nesterov=0.05", "--grad", "numerical", "--steps", "100",
               "--start=-3,4", "--out", str(tmp_path)])
    assert rc == 0
    runs = strict_json(tmp_path / "trajectories.json")["trajectories"]
    assert runs["sgd"]["lr"] == 0.1 and runs["nesterov"]["lr"] == 0.05
    np.testing.assert_allclose(runs["sgd"]["points"][-1], [-6.11110793e-10, 8.14814391e-10],
                               rtol=1e-6)


def test_descent_records_divergence_as_valid_json(tmp_path):
    rc = main(["descent", "--function", "bowl", "--optimizers", "sgd", "--lr", "sgd=1.5",
               "--out", str(tmp_path)])
    assert rc == 0
    run = strict_json(tmp_path / "trajectories.json")["trajectories"]["sgd"]
    assert run["diverged"] is True and run["stopped_at"] == 18 and len(run["points"]) == 19


@pytest.mark.parametrize("args, message", [
    (["--function", "sphere"], "valid names: bowl, elongated, rosenbrock, himmelblau, beale, saddle"),
    (["--optimizers", "sgd,adadelta"],
     "valid names: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"),
    (["--lr", "adadelta=0.1"], "unknown optimizer 'adadelta'"),
    (["--lr", "sgd=fast"], "expected NAME=NUMBER"),
    (["--optimizers", "sgd", "--lr", "adam=0.1"], "not among --optimizers"),
    (["--start=1,2,3"], "two numbers"),
    (["--start=nan,1"], "two finite numbers"),
    (["--lr", "sgd=nan"], "a learning rate is a positive number"),
    (["--lr", "sgd=-1"], "a learning rate is a positive number"),
    (["--steps", "-1"], "steps"),
])
def test_descent_refuses_bad_input_before_any_work(tmp_path, capsys, args, message):
    out = tmp_path / "never"
    assert main(["descent", *args, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("kind", ["surface", "gradient-field", "activations", "difference-error"])
def test_plot_writes_each_figure(tmp_path, kind):
    path = tmp_path / f"{kind}.png"
    assert main(["plot", kind, "--function", "himmelblau", "--out", str(path)]) == 0
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000


def test_plot_refuses_unknown_functions_and_bad_limits(tmp_path, capsys):
    assert main(["plot", "surface", "--function", "sphere", "--out", str(tmp_path / "a.png")]) == 2
    assert "valid names: bowl" in capsys.readouterr().err
    assert main(["plot", "surface", "--xlim=1,-1", "--out", str(tmp_path / "a.png")]) == 2
    assert not (tmp_path / "a.png").exists()


def test_the_installed_command_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "zerodl", "descent", "--function", "himmelblau",
         "--optimizers", "adam", "--lr", "adam=0.1", "--steps", "5", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "himmelblau" in done.stdout and (tmp_path / "descent.png").exists()


def test_plot_without_matplotlib_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    hide_matplotlib(monkeypatch)
    assert main(["plot", "surface", "--out", str(tmp_path / "a.png")]) == 1
    assert "pip install 'zerodl[plot]'" in capsys.readouterr().err
    assert not (tmp_path / "a.png").exists()


def test_rosenbrock_with_the_default_rates_does_not_diverge(tmp_path, capsys):
    assert main(["descent", "--function", "rosenbrock", "--out", str(tmp_path)]) == 0
    runs = strict_json(tmp_path / "trajectories.json")["trajectories"]
    assert not any(run["diverged"] for run in runs.values())
    assert runs["sgd"]["lr"] == 0.002 and runs["adam"]["lr"] == 0.3
    assert runs["sgd"]["values"][-1] < 1.0 < runs["sgd"]["values"][0]   # f went down from 12.5
    assert "diverged" not in capsys.readouterr().out


def test_a_diverged_race_says_to_lower_the_rate(tmp_path, capsys):
    assert main(["descent", "--function", "rosenbrock", "--optimizers", "sgd,adam",
                 "--lr", "sgd=0.95", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sgd           0.95" in out and "diverged at step 2" in out
    assert "1 diverged: try a smaller learning rate, e.g. --lr sgd=0.095" in out
