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
