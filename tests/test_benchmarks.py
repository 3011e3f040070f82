"""The benchmark suite runs, and every system computes the same thing from the same start.

Timings are never asserted: the machines are shared and noisy.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402
from benchmarks.systems import make_trainer, unavailable_reason  # noqa: E402
from benchmarks.tasks import get_task, initial_params, make_batches  # noqa: E402


def _systems() -> list[str]:
    return [s for s in ("zerodl", "reference", "torch") if unavailable_reason(s) is None]


def _two_losses(system: str, task, params, x, t) -> list[float]:
    trainer = make_trainer(system, task, params)
    batch = trainer.prepare(x, t)
    return [trainer.loss_value(trainer.step(batch)) for _ in range(2)]


@pytest.mark.parametrize("task_name", ["mlp_small", "simple_convnet"])
def test_every_system_computes_the_same_losses_from_the_same_start(task_name, data_root,
                                                                   monkeypatch):
    monkeypatch.setenv("ZERODL_DATA", str(data_root))
    task = get_task(task_name)
    params = initial_params(task)
    xs, ts = make_batches(task, count=1)
    losses = {s: _two_losses(s, task, params, xs[0], ts[0]) for s in _systems()}

    first = losses["zerodl"][0]
    assert abs(first - math.log(10)) < 0.5  # He-initialised logits: near chance on 10 classes
    for system, (loss0, loss1) in losses.items():
        # Step 1 is the loss at the shared initial weights (float32 vs the reference's
        # float64); step 2 follows one update, so it checks backward and the optimizer too.
        assert loss0 == pytest.approx(first, rel=1e-4), system
        assert loss1 == pytest.approx(losses["zerodl"][1], rel=1e-3), system
        assert loss1 < loss0, system


def test_quick_suite_runs_and_writes_results(tmp_path, data_root):
    out = tmp_path / "results.json"
    env = {**os.environ, "ZERODL_DATA": str(data_root)}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--tasks", "mlp_small", "--steps", "3",
         "--rounds", "2", "--warmup", "1", "--no-micro", "--threads", "1", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Training step, median ms" in proc.stdout
    results = json.loads(out.read_text())
    task = results["tasks"]["mlp_small"]
    assert task["failures"] == {}
    assert set(task["systems"]) == set(_systems())
    first = task["systems"]["zerodl"]["first_loss"]
    for entry in task["systems"].values():
        assert entry["steps"] == 6
        assert len(entry["times_ms"]) == 6 and entry["min_ms"] <= entry["median_ms"]
        # Linux syncs per-CPU RSS counters lazily: VmHWM may trail an earlier VmRSS by
        # a few dozen pages, so compare to within 1 MB.
        assert entry["peak_rss_mb"] >= entry["base_rss_mb"] - 1.0 and entry["base_rss_mb"] > 0
        assert entry["first_loss"] == pytest.approx(first, rel=1e-4)
        # each round's median, and the machine's speed measured just before it
        assert len(entry["round_medians_ms"]) == len(entry["round_checks"]) == 2
        assert all(c["matmul_ms"] > 0 and c["copy_ms"] > 0 for c in entry["round_checks"])
    assert results["machine"]["threads"] == 1

    page = tmp_path / "BENCHMARKS.md"
    page.write_text(f"# Benchmarks\n\nintro\n\n{report.BEGIN}\nold\n{report.END}\n\nnotes\n")
    report.update_markdown(page, results)
    text = page.read_text()
    assert "old" not in text and text.startswith("# Benchmarks") and text.endswith("notes\n")
    assert "| mlp_small |" in text
    assert "with a check of the machine's speed just before each" in text


@pytest.mark.slow
def test_time_to_accuracy_alternates_the_systems_epoch_by_epoch(data_root, capfd, monkeypatch):
    from benchmarks.run import bench_tta

    systems = [s for s in _systems() if s != "reference"]
    monkeypatch.setenv("ZERODL_DATA", str(data_root))
    results = bench_tta(systems + ["reference"], {"threads": 1}, max_epochs=2, subset=300)
    log = capfd.readouterr().err
    for task_name, target in (("simple_convnet", 0.988), ("deep_convnet", 0.990)):
        entry = results[task_name]
        assert entry["target"] == target and entry["subset"] == 300
        assert set(entry["systems"]) == set(systems)  # the reference is not trained
        for record in entry["systems"].values():
            # 300 images cannot reach the target: both epochs run, each timed and evaluated
            assert record["reached"] is False and record["seconds_to_target"] is None
            seconds = [e["train_seconds"] for e in record["epochs"]]
            assert [e["epoch"] for e in record["epochs"]] == [1, 2]
            assert 0 < seconds[0] < seconds[1]
            assert all(0.1 < e["test_accuracy"] < target for e in record["epochs"])
    if len(systems) == 2:  # A B, then B A: the first system's second epoch comes last
        first, second = systems
        order = [line.split()[0] for line in log.splitlines() if " epoch " in line]
        assert order[:4] == [first, second, second, first]


def test_reference_im2col_and_col2im_are_adjoint(rng):
    # <im2col(x), c> = <x, col2im(c)>: col2im is the exact backward of im2col.
    from benchmarks.reference import col2im, im2col

    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col(x, 3, 2, stride=2, pad=1)
    c = rng.standard_normal(cols.shape)
    assert cols.shape == (2 * 4 * 4, 3 * 3 * 2)
    assert np.sum(cols * c) == pytest.approx(np.sum(x * col2im(c, x.shape, 3, 2, 2, 1)))


def test_the_task_names_of_the_command_lines_are_the_tasks():
    from benchmarks import TASK_NAMES
    from benchmarks.tasks import TASKS

    assert TASK_NAMES == tuple(TASKS)


def _check(matmul: float = 1.0, copy: float = 1.0) -> dict:
    return {"matmul_ms": matmul, "copy_ms": copy}


def test_slow_rounds_are_those_next_to_a_slow_machine_check_before_or_after():
    """A check over SLOW_CHECK (1.25) times the task's median check marks its round."""
    task = {"systems": {
        "zerodl": {"round_medians_ms": [10.0, 30.0, 11.0, 12.0],
                   "round_checks": [_check(), _check(matmul=2.0), _check(), _check()],
                   "round_checks_after": [_check(), _check(), _check(), _check(copy=1.3)]},
        "torch": {"round_medians_ms": [5.0, 6.0, 50.0, 7.0],
                  "round_checks": [_check(), _check(), _check(), _check(matmul=1.2)],
                  "round_checks_after": [_check(), _check(), _check(copy=1.26), None]},
    }}
    slow = report.slow_rounds(task)
    assert slow == {"zerodl": [1, 3], "torch": [2]}
    assert report.quiet_median(task["systems"]["zerodl"], slow["zerodl"]) == 10.5
    assert report.quiet_median(task["systems"]["torch"], slow["torch"]) == 6.0
    assert report.quiet_median(task["systems"]["torch"], [0, 1, 2, 3]) is None
    assert report._quiet_ratio(task) == "1.75"
    rounds = report.rounds_table({"tasks": {"deep_convnet": task}}, markdown=True)
    assert "10.0 30.0* 11.0 12.0*" in rounds and "5.00 6.00 50.0* 7.00" in rounds


def test_slow_rounds_of_results_without_checks_after_them():
    """Results saved before the check after each round: the checks before alone decide."""
    task = {"systems": {"zerodl": {"round_medians_ms": [1.0, 2.0],
                                   "round_checks": [_check(), _check(copy=9.0)]},
                        "torch": {"round_medians_ms": [1.0, 1.0],
                                  "round_checks": [_check(), _check()]}}}
    assert report.slow_rounds(task) == {"zerodl": [1], "torch": []}
    unchecked = {"systems": {"zerodl": {"round_medians_ms": [1.0], "round_checks": []}}}
    assert report.slow_rounds(unchecked) == {"zerodl": []}


def test_compare_table_gives_minima_medians_ratios_and_the_slow_rounds():
    from benchmarks.compare import table

    runs = {  # per system, each round: (times by case, check before, check after)
        "new": [({"step": [2.0, 3.0, 4.0]}, _check(), _check()),
                ({"step": [1.0, 5.0, 6.0]}, _check(), _check(matmul=3.0))],
        "base": [({"step": [4.0, 6.0, 8.0]}, _check(), None),
                 ({"step": [4.0, 4.0, 4.0]}, _check(), _check())],
    }
    lines = table("simple_convnet", runs).splitlines()
    step = next(line for line in lines if line.startswith("step"))
    # new: min 1, median of round medians (3, 5) = 4; base: min 4, medians (6, 4) = 5
    assert step.split()[1:] == ["1.000", "/", "4.000", "4.000", "/", "5.000", "0.25", "0.80"]
    assert "new rounds: 3.00 5.00; slow machine check next to round(s) [2]" in lines
    assert "base rounds: 6.00 4.00" in lines


def test_compare_times_the_layers_of_two_checkouts_side_by_side():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.compare", "--base", str(ROOT), "--tasks",
         "--layers", "simple.pool", "--rounds", "2", "--steps", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for row in ("simple.pool fwd", "simple.pool bwd"):
        cells = next(line for line in lines if line.startswith(row)).split()[2:]
        assert len(cells) == 8 and all(float(c) > 0 for c in cells if c != "/"), row
    assert sum(line.startswith(("new rounds: ", "base rounds: ")) for line in lines) == 2
