"""Every notebook runs end to end in a fresh Jupyter kernel, printing its numbers and drawing its figures.

Each notebook in notebooks/ is executed by nbclient in a new kernel with
``ZERODL_NOTEBOOK_QUICK=1`` (small data, few epochs: about a minute for all
of them); ``-m slow`` runs them at their full size. The kernel is this very
Python: jupyter_client starts the "python3" kernel with ``sys.executable``,
so a clean clone's .venv runs them, with its zerodl. Like a reader's fresh
kernel it gets no MPLBACKEND, so figures take the inline backend.

A notebook passes when no cell fails or writes to stderr (a warning a reader
would see), it shows at least its number of figures, prints its texts, and
each number its patterns catch lies in the given range. Notebooks are kept in
the repository without outputs; the install cell is the same in all of them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NUMBER = r"([-+]?[0-9.]+(?:e[-+]?\d+)?)"


def _need(module: str):
    """The module, or a skip (a failure in CI, which must have the notebook extra installed)."""
    try:
        return __import__(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is missing: CI must install the notebook extra")
        pytest.skip(f"{module} is not installed: pip install -e '.[notebook]'")


nbformat = _need("nbformat")
nbclient = _need("nbclient")
pytest.importorskip("matplotlib")


@dataclass
class Expect:
    """What a notebook must show: figures, printed texts, and numbers within ranges."""

    images: int
    texts: tuple[str, ...] = ()
    values: dict[str, tuple[float, float]] = field(default_factory=dict)   # regex -> (lo, hi)
    full: dict[str, tuple[float, float]] = field(default_factory=dict)     # at full size only


EXPECTED = {
    "000_gradient.ipynb": Expect(
        images=3, texts=("∇f(0.5, -1) = (1, -2)", "数値微分 (central difference): [ 1. -2.]"),
        values={rf"\(max \|autodiff - numerical\|\) = {NUMBER}": (0, 1e-6)}),
    "001_gradient_descent.ipynb": Expect(
        images=4, texts=("[-6.11110793e-10  8.14814391e-10]", "NumPy loop): 0.0",
                         "lr 1.5: diverged at step 18", "the best direction): θ = 0°"),
        values={rf"θ = 0°,  Δf = {NUMBER}": (-0.1, -0.0995)}),
    "002_computational_graph_adagrad.ipynb": Expect(
        images=2, texts=("z = 4.2   ∂z/∂x = 0.8   ∂z/∂y = 2", "7.28000  -0.80000   3.28992",
                         "(after 100 steps): (6.415e-04, 2.037e-10)",
                         "(after 100 steps): (4.514e-02, 0.000e+00)"),
        values={rf"\(max difference\): {NUMBER}": (0, 1e-12)}),
    "003_stumbling_notes.ipynb": Expect(
        images=2, texts=("A @ A: matmul: (2, 3) @ (2, 3): inner sizes 3 and 2 differ",
                         "dy/dx = 4", "[0.01821127 0.24519181 0.73659691]",
                         "1e-04       1.36e-04       4.53e-09"),
        values={rf"max \|by hand - engine\| = {NUMBER}": (0, 1e-12)}),
    "004_backprop_gradients.ipynb": Expect(
        images=1, values={rf"max \|formula - autodiff\| = {NUMBER}": (0, 1e-12),
                          rf"\(max difference over all steps\): {NUMBER}": (0, 1e-10),
                          rf"steps\): formula {NUMBER}": (0, 0.02)},
        full={rf"steps\): formula {NUMBER}": (0, 0.008)}),
    "ch03_neural_networks.ipynb": Expect(
        images=3, texts=("[0.31682708 0.69627909]",
                         "F.softmax:  [9.99954600e-01 4.53978686e-05 2.06106005e-09]"),
        values={rf"Accuracy: {NUMBER}": (0.85, 1), rf"zerodl MLP accuracy: {NUMBER}": (0.85, 1)},
        full={rf"zerodl MLP accuracy: {NUMBER}": (0.92, 1)}),
    "ch04_learning.ipynb": Expect(
        images=3, texts=("2 is likely: sum of squares 0.0975, cross-entropy 0.5108",
                         "7 is likely: sum of squares 0.5975, cross-entropy 2.3026",
                         "[3.0, 4.0] -> [6. 8.]", "central np.float64(0.1999999999990898)",
                         "F.cross_entropy per sample: [0.417, 1000.0]"),
        values={rf"test acc {NUMBER}": (0.6, 1), rf"zerodl MLP test accuracy: {NUMBER}": (0.8, 1)},
        full={rf"zerodl MLP test accuracy: {NUMBER}": (0.95, 1)}),
    "ch05_backprop.ipynb": Expect(
        images=2, texts=("price: 220.00000000000003", "dapple: 2.2  dapple_num: 110.00000000000001",
                         "price: 715.0000000000001", "'tax': 650.0", "dY == (y - t) / N: True",
                         "gradcheck: True"),
        values={rf"(?m)^[Wb][12]: {NUMBER}": (0, 1e-6),
                rf"test accuracy after \d+ steps: {NUMBER}": (0.85, 1)},
        full={rf"test accuracy after \d+ steps: {NUMBER}": (0.96, 1)}),
    "ch06_learning_techniques.ipynb": Expect(
        images=5, texts=("SGD: ends at ( -0.3504,   0.0848)", "AdaGrad: ends at ( -0.1202,   0.0000)"),
        values={rf"\(max difference, book vs zerodl\): {NUMBER}": (0, 1e-4),
                rf"no weight decay: train acc {NUMBER}": (0.8, 1),
                rf"init     he: training loss {NUMBER}": (0, 2.2)}),
    "ch07_cnn.ipynb": Expect(
        images=2, texts=("[[15. 16.]\n [ 6. 15.]]", "(9, 75)\n(90, 75)", "[[2. 3.]\n [4. 2.]]"),
        values={rf"zerodl SimpleConvNet: test accuracy {NUMBER}": (0.7, 1)},
        full={rf"zerodl SimpleConvNet: test accuracy {NUMBER}": (0.98, 1)}),
    "ch08_deep_learning.ipynb": Expect(
        images=1, texts=("parameters: 123,552",),
        values={rf"test accuracy: {NUMBER}": (0.2, 1), rf"answers that changed: {NUMBER}": (0, 20)},
        full={rf"test accuracy: {NUMBER}": (0.98, 1)}),
}


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_on_small_settings(name, data_root, tmp_path):
    nb = execute(NOTEBOOKS / name, data_root, tmp_path, quick=True)
    check(nb, EXPECTED[name], full=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_at_full_size(name, data_root, tmp_path):
    nb = execute(NOTEBOOKS / name, data_root, tmp_path, quick=False, timeout=3600)
    check(nb, EXPECTED[name], full=True)


def test_notebooks_are_kept_without_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                 and (c.outputs or c.execution_count is not None)]
        assert not dirty, (f"{path.name}: cells {dirty} hold outputs; clear them before committing: "
                           f"python notebooks/clear_outputs.py")
        assert path.stat().st_size < 40_000, f"{path.name} is {path.stat().st_size} bytes"
        assert nb.metadata.kernelspec.name == "python3"


def test_clear_outputs_empties_an_executed_notebook(tmp_path):
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        from clear_outputs import clear
    finally:
        sys.path.remove(str(NOTEBOOKS))
    nb = nbformat.read(NOTEBOOKS / "000_gradient.ipynb", as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="zerodl 0.1.0\n")]
    code.execution_count = 1
    code.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    assert clear(path) and not clear(path)
    assert nbformat.read(path, as_version=4) == nbformat.read(NOTEBOOKS / "000_gradient.ipynb",
                                                               as_version=4)


def test_the_install_cell_is_the_same_in_every_notebook():
    cells = {path.name: install_cell(path) for path in sorted(NOTEBOOKS.glob("*.ipynb"))}
    first = next(iter(cells.values()))
    assert "ZERODL_SOURCE" in first and "ZERODL_NOTEBOOK_QUICK" in first
    assert {name for name, source in cells.items() if source != first} == set()


def test_the_install_cell_does_nothing_when_zerodl_is_there(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    monkeypatch.setenv("ZERODL_NOTEBOOK_QUICK", "1")
    namespace = run_install_cell(monkeypatch)
    assert calls == [] and namespace["QUICK"] is True


def test_the_install_cell_installs_from_zerodl_source(monkeypatch):
    import zerodl

    calls = []

    def pip(cmd, check):
        calls.append(cmd)
        sys.modules["zerodl"] = zerodl               # installed: the import now works

    monkeypatch.setitem(sys.modules, "zerodl", None)  # `import zerodl` fails, as in a bare Colab
    monkeypatch.setattr(subprocess, "run", pip)
    monkeypatch.setenv("ZERODL_SOURCE", "/content/zerodl-0.1.0-py3-none-any.whl")
    monkeypatch.delenv("ZERODL_NOTEBOOK_QUICK", raising=False)
    namespace = run_install_cell(monkeypatch)
    assert calls == [[sys.executable, "-m", "pip", "install", "-q",
                      "/content/zerodl-0.1.0-py3-none-any.whl", "matplotlib"]]
    assert namespace["zerodl"] is zerodl and namespace["QUICK"] is False


def test_the_install_cell_says_what_to_set_without_a_source(monkeypatch):
    monkeypatch.setitem(sys.modules, "zerodl", None)
    monkeypatch.delenv("ZERODL_SOURCE", raising=False)
    with pytest.raises(RuntimeError, match="ZERODL_SOURCE"):
        run_install_cell(monkeypatch)


def test_a_fresh_kernel_shows_zerodl_figures_and_graphs_once(tmp_path):
    """A zerodl figure ending a cell is one PNG, with no %matplotlib inline; so is one made
    mid-cell, and plt.show() after drawing into ax=; a graph ending a cell is a picture."""
    cells = [
        "import sys, zerodl\nfrom zerodl import viz\nprint(sys.executable)\nprint(zerodl.__file__)",
        "viz.plot_activations(['relu'])",
        "fig = viz.plot_gradient_field('bowl', n=5)",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
        "viz.plot_activations(['tanh'], ax=ax)\nplt.show()",
        "fig",
        "x = zerodl.tensor(2.0, requires_grad=True)\nviz.draw_graph(x * x + 1)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    run(nb, kernel_env(None, quick=True), tmp_path, timeout=120)
    executable, package = nb.cells[0].outputs[0].text.split()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    assert Path(package).resolve().is_relative_to(ROOT / "src")
    for i in (1, 4):     # the last expression: one execute_result holding the PNG
        assert [(o.output_type, "image/png" in o.data) for o in nb.cells[i].outputs] == [
            ("execute_result", True)], nb.cells[i].outputs
    for i in (2, 3):     # drawn in the cell: shown once when it ends
        assert [(o.output_type, "image/png" in o.data) for o in nb.cells[i].outputs] == [
            ("display_data", True)], nb.cells[i].outputs
    (graph,) = nb.cells[5].outputs
    assert {"image/png", "image/svg+xml"} & set(graph.data)
    assert graph.data["text/plain"].startswith("<computational graph: 2 functions")


# ---------------------------------------------------------------- helpers
def kernel_env(data_root, quick: bool) -> dict:
    """The environment of a reader's fresh kernel, on small settings when ``quick``."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)        # conftest sets Agg for the tests; Jupyter sets inline itself
    env["ZERODL_NOTEBOOK_QUICK"] = "1" if quick else "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    # the cores are shared by pytest and the kernel (and in CI by nothing else): BLAS threads
    # that spin against each other make small matrix products many times slower
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"   # no debugger notice in the kernel's output
    if data_root is not None:
        env["ZERODL_DATA"] = str(data_root)
    return env


def run(nb, env: dict, cwd: Path, timeout: int):
    """Execute ``nb`` in place in a new "python3" kernel started in ``cwd``."""
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute(env=env)
    return nb


def execute(path: Path, data_root, tmp_path: Path, quick: bool, timeout: int = 600):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    run(nb, kernel_env(data_root, quick), tmp_path, timeout)
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
    return nb


def check(nb, expect: Expect, full: bool) -> None:
    texts, images = [], 0
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"cell {i}: {out.ename}: {out.evalue}"
            if out.output_type == "stream":
                assert out.name == "stdout", f"cell {i} wrote to stderr:\n{out.text}"
                texts.append(out.text)
            else:
                data = out.get("data", {})
                images += bool({"image/png", "image/svg+xml"} & set(data))
                texts.append(data.get("text/plain", ""))
    printed = "".join(texts)
    assert images >= expect.images, f"{images} figures shown, expected {expect.images}"
    for text in expect.texts:
        assert text in printed, f"{text!r} not printed:\n{printed}"
    for pattern, (lo, hi) in {**expect.values, **(expect.full if full else {})}.items():
        found = [float(v) for v in re.findall(pattern, printed)]
        assert found, f"nothing printed matches {pattern!r}:\n{printed}"
        assert all(lo <= v <= hi for v in found), f"{pattern!r}: {found} not all in [{lo}, {hi}]"


def install_cell(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code")


def run_install_cell(monkeypatch) -> dict:
    """Run the install cell here, in a namespace of its own; returns that namespace."""
    namespace: dict = {}
    exec(compile(install_cell(sorted(NOTEBOOKS.glob("*.ipynb"))[0]), "install cell", "exec"),
         namespace)
    return namespace
