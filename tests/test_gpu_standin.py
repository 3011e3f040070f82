"""The GPU code paths on a CPU: tests/test_gpu.py against a strict CuPy stand-in.

Where there is no GPU (CI), test_gpu.py skips. This test runs its GPU tests in a
subprocess whose ``import cupy`` finds tests/cupy_standin: NumPy underneath, but as
strict as CuPy about devices (a NumPy array meeting a GPU array, an implicit copy to
the host, an array's ``.data`` taken for an array: each raises). It proves the
plumbing (every operation, models, optimizers, fit, checkpoints, the loader and
``zerodl train --device gpu`` keep GPU arrays on the GPU and save NumPy); the CUDA
numerics need a real GPU (``pytest -m gpu`` there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_the_gpu_tests_pass_against_a_strict_cupy_standin(tmp_path):
    path = [str(TESTS / "cupy_standin"), str(TESTS.parent / "src"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu", "-rs",
         "--basetemp", str(tmp_path / "run"), str(TESTS / "test_gpu.py")],
        env=env, capture_output=True, text=True, timeout=600, cwd=TESTS.parent,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed" not in summary and " passed" in summary, summary
    assert "no GPU" not in result.stdout, "the stand-in was not picked up:\n" + result.stdout[-2000:]


def _under_the_standin(code: str, *args, tmp_path=None):
    path = [str(TESTS / "cupy_standin"), str(TESTS.parent / "src"), str(TESTS.parent)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    return subprocess.run([sys.executable, *(["-c", code] if code else []), *args], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path or TESTS.parent)


def test_the_standin_is_as_strict_as_cupy_about_devices():
    done = _under_the_standin("""
import numpy as np, cupy as cp
x = cp.ones(3)
for name, act in [("mix", lambda: x + np.ones(3)), ("to host", lambda: np.asarray(x)),
                  ("set from host", lambda: x.__setitem__(slice(None), np.ones(3)))]:
    try:
        act()
    except TypeError:
        print(name, "refused")
print("data is an array:", isinstance(x.data, (np.ndarray, cp.ndarray)))
print("T on the GPU:", isinstance(cp.ones((2, 3)).T, cp.ndarray))
""")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:5] == ["mix refused", "to host refused", "set from host refused",
                                           "data is an array: False", "T on the GPU: True"]


def test_the_gpu_benchmark_runs_against_the_standin(tmp_path):
    done = _under_the_standin("", "-m", "benchmarks.gpu", "--steps", "1", "--warmup", "0",
                              "--json", str(tmp_path / "gpu.json"))
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "gpu.json").read_text())
    for task in ("simple_convnet", "mlp_big"):
        row = results["tasks"][task]
        assert set(row) == {"gpu", "cpu"} and row["gpu"]["pipelined_s"] > 0
    assert results["machine"]["threads"] == 2 and "CuPy stand-in" in results["machine"]["gpu"]
