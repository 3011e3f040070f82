"""The `zerodl` command: --version and `gradcheck`, run as a user would (a subprocess)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import zerodl
from zerodl.gradcheck_cases import CASES

SRC = str(Path(zerodl.__file__).resolve().parents[1])


def run_zerodl(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "zerodl", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_version():
    result = run_zerodl("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"zerodl {zerodl.__version__}"


def test_console_script_version():
    script = Path(sys.executable).with_name("zerodl")
    script = str(script) if script.exists() else shutil.which("zerodl")
    if script is None:
        pytest.skip("the zerodl console script is not installed (pip install -e .)")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"zerodl {zerodl.__version__}"


def test_gradcheck_passes_every_operation():
    result = run_zerodl("gradcheck")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["operation", "max", "abs", "error", "result"]
    rows = lines[1:-1]
    assert len(rows) == len(CASES)
    for case, row in zip(CASES, rows):
        assert row.startswith(case.name)
        error, verdict = row[len(case.name):].split()
        assert verdict == "pass"
        assert float(error) < 1e-5
    assert lines[-1] == "all passed"


def test_gradcheck_filters_by_name():
    result = run_zerodl("gradcheck", "softmax", "matmul vector")
    assert result.returncode == 0, result.stderr
    names = [line.rsplit(None, 2)[0] for line in result.stdout.strip().splitlines()[1:-1]]
    assert names == [c.name for c in CASES if "softmax" in c.name or "matmul vector" in c.name]
    assert "log_softmax" in names and "matmul" not in names
    assert result.stdout.strip().endswith("all passed")


def test_gradcheck_help_explains_the_seed_and_names():
    result = run_zerodl("gradcheck", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--seed SEED seed of the random inputs, 0 to 2**32-1 (default 0)" in text
    assert "only the operations whose name contains one of these" in text


def test_gradcheck_of_an_unknown_name_checks_nothing_and_fails():
    result = run_zerodl("gradcheck", "softmax", "nosuchop")
    assert result.returncode == 2 and result.stdout == ""
    assert "no operation matches 'nosuchop'" in result.stderr and "log_softmax" in result.stderr
