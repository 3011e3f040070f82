"""Every example runs headless, prints the articles' numbers and writes its figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "000_gradient_field.py": (["000_surface.png", "000_gradient_field.png"],
                              ["∇f(0.5, -1) = (1, -2)", "max |autodiff − numerical| = "]),
    "001_gradient_descent.py": (["001_trajectory.png", "001_surface.png"],
                                ["[-6.11110793e-10  8.14814391e-10]", "θ =   0°: Δf = -0.009999"]),
    "002_computational_graph_adagrad.py": (
        ["002_paths.png", "002_graph.dot"],
        ["z = 4.2  ∂z/∂(x, y) = (0.8, 2.0)", "7.28000  -0.80000   3.28992",
         "after 100 steps, lr 0.9:      (6.415e-04, 2.037e-10)",
         "landscape.minimize: max difference 0.0e+00"]),
    "003_activations_and_differences.py": (
        ["003_activations.png", "003_difference_error.png"],
        ["1e-04       1.36e-04       4.53e-09", "Softmax-with-Loss", "Affine"]),
    "004_two_layer_gradients.py": (["004_gradients.txt"], ["all six gradients agree"]),
    "optimizer_comparison.py": (["optimizer_comparison.png"],
                                ["SGD (lr=0.95)      (  -0.3504,    0.0848)",
                                 "AdaGrad (lr=1.5)   (  -0.1202,    0.0000)"]),
}


def test_every_example_is_tested():
    scripts = sorted(p.name for p in (ROOT / "examples").glob("*.py"))
    assert scripts == sorted(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs_headless(script, tmp_path):
    files, expected = CASES[script]
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env.pop("DISPLAY", None)
    done = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    for text in expected:
        assert text in done.stdout, f"{script} should print {text!r}:\n{done.stdout}"
    for name in files:
        path = tmp_path / name
        assert path.exists() and path.stat().st_size > 100, name
        if name.endswith(".png"):
            assert path.read_bytes()[:4] == b"\x89PNG"
