"""Figures render headless with the right axes, lines and legends, and are not blank."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import zerodl as zd  # noqa: E402
from zerodl import landscape, viz  # noqa: E402


def pixels(fig) -> np.ndarray:
    """Render with Agg and return the RGB array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(float)


def assert_drawn(fig):
    rgb = pixels(fig)
    assert rgb.std() > 10, "the figure is (nearly) blank"
    assert (rgb.sum(axis=2) < 300).mean() > 0.005, "almost nothing dark (lines, text) was drawn"


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def test_importing_zerodl_and_viz_does_not_import_matplotlib():
    code = ("import sys, zerodl, zerodl.viz, zerodl.landscape; "
            "sys.exit('matplotlib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("kind", ["wireframe", "surface"])
def test_plot_surface(kind):
    fig = viz.plot_surface("bowl", (-1, 1), (-1, 1), n=21, kind=kind)
    ax = fig.axes[0]
    assert ax.name == "3d"
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x", "y", "f(x, y)")
    assert "x² + y²" in ax.get_title()
    assert len(fig.axes) == (2 if kind == "surface" else 1)  # the surface has a colour bar
    assert_drawn(fig)
    with pytest.raises(ValueError, match="wireframe"):
        viz.plot_surface("bowl", kind="mesh")


def test_plot_gradient_field_draws_minus_the_gradient():
    fig = viz.plot_gradient_field("bowl", (-1, 1), (-1, 1), n=11)
    ax = fig.axes[0]
    (q,) = [c for c in ax.collections if type(c).__name__ == "Quiver"]
    assert q.N == 121
    X, Y = q.XY[:, 0], q.XY[:, 1]
    np.testing.assert_allclose(q.U, -2 * X)      # arrows are −∇f = (−2x, −2y): downhill
    np.testing.assert_allclose(q.V, -2 * Y)
    assert ax.get_aspect() == 1.0 and ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert "−∇f" in ax.get_title()
    assert "Cauchy–Schwarz" in viz.plot_gradient_field.__doc__
    assert_drawn(fig)


def test_normalized_gradient_field_has_unit_arrows():
    fig = viz.plot_gradient_field("rosenbrock", n=9, normalize=True)
    (q,) = [c for c in fig.axes[0].collections if type(c).__name__ == "Quiver"]
    norms = np.hypot(q.U, q.V)
    np.testing.assert_allclose(norms[norms > 0], 1.0)
    assert len(fig.axes) == 2                  # arrows coloured by |∇f|, with a colour bar
    assert_drawn(fig)


def book_runs():
    return [landscape.minimize("elongated", (-7, 2), name, lr=landscape.DEFAULT_LRS[name],
                               steps=30) for name in ("sgd", "momentum", "adagrad", "adam")]


def test_plot_trajectories_overlay_has_one_legend_entry_per_optimizer():
    fig = viz.plot_trajectories(book_runs(), "elongated")
    ax = fig.axes[0]
    texts = legend_texts(ax)
    assert texts[:4] == ["SGD (lr=0.95)", "Momentum (lr=0.1)", "AdaGrad (lr=1.5)", "Adam (lr=0.3)"]
    assert texts[4:] == ["start", "end", "minimum"]
    paths = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(paths) == 4 and all(len(p.get_xdata()) == 31 for p in paths)
    assert ax.get_aspect() == 1.0 and ax.get_xlim() == (-10.0, 10.0)
    assert "30 steps" in ax.get_title()
    assert_drawn(fig)


def test_plot_trajectories_grid_gives_each_optimizer_a_panel(tmp_path):
    path = tmp_path / "grid.png"
    fig = viz.plot_trajectories(book_runs(), "elongated", layout="grid", path=path)
    assert [ax.get_title() for ax in fig.axes] == [
        "SGD (lr=0.95)", "Momentum (lr=0.1)", "AdaGrad (lr=1.5)", "Adam (lr=0.3)"]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary left behind
    assert_drawn(fig)


def test_a_diverged_trajectory_is_labelled_and_the_view_stays_on_the_window():
    runs = {"too fast": landscape.minimize("bowl", (-3, 4), "sgd", lr=1.5, steps=50),
            "fine": landscape.minimize("bowl", (-3, 4), "sgd", lr=0.1, steps=50)}
    ax = viz.plot_trajectories(runs, "bowl").axes[0]
    assert legend_texts(ax)[:2] == ["too fast, diverged at step 18", "fine"]
    assert ax.get_xlim() == (-5.0, 5.0)


def test_plot_trajectories_without_a_function_frames_the_points():
    t = landscape.minimize(lambda x, y: (x - 1) ** 2 + y ** 2, (3, 2), "sgd", lr=0.1, steps=20)
    ax = viz.plot_trajectories([t]).axes[0]
    lo, hi = ax.get_xlim()
    assert lo < 1.0 and hi > 3.0
    with pytest.raises(ValueError, match="no trajectories"):
        viz.plot_trajectories([])


def test_plot_history_from_a_dict_an_object_and_with_missing_values():
    d = {"train_loss": [2.0, 1.0, 0.5], "val_loss": [2.1, 1.3, 0.9],
         "train_accuracy": [0.3, 0.6, 0.8], "val_accuracy": [0.25, 0.5, 0.7],
         "seconds": [1.0, 1.5, 1.5]}
    fig = viz.plot_history(d)
    loss, acc = fig.axes
    assert (loss.get_title(), acc.get_title()) == ("loss", "accuracy")
    assert legend_texts(loss) == ["training", "validation"]
    np.testing.assert_allclose(loss.get_lines()[1].get_ydata(), [2.1, 1.3, 0.9])
    assert "4.0 s" in fig._suptitle.get_text()
    assert_drawn(fig)
    # no validation set, regression (accuracy None), as train.History records them
    obj = SimpleNamespace(train_loss=[1.0, 0.5], train_accuracy=[None, None],
                          val_loss=[None, None], val_accuracy=[None, None], seconds=[1, 1])
    loss, acc = viz.plot_history(obj).axes
    assert len(loss.get_lines()) == 1 and len(acc.get_lines()) == 0
    with pytest.raises(ValueError, match="train_loss"):
        viz.plot_history({"val_loss": [1.0]})


def test_plot_history_takes_a_train_history():
    train = pytest.importorskip("zerodl.train")
    h = train.History()
    for e in (1, 2):
        h.append(epoch=e, train_loss=1.0 / e, train_accuracy=0.5 + 0.1 * e, val_loss=1.1 / e,
                 val_accuracy=0.45 + 0.1 * e, seconds=0.5, eval_seconds=0.1)
    loss, acc = viz.plot_history(h).axes
    assert len(loss.get_lines()) == 2 and len(acc.get_lines()) == 2


def test_plot_activations_shows_autodiff_derivatives():
    fig = viz.plot_activations()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["step", "sigmoid", "tanh", "relu", "leaky_relu (slope 0.1)", "gelu",
                      "softplus", "identity"]
    sig = fig.axes[1]
    x, y = sig.get_lines()[0].get_data()
    _, dy = sig.get_lines()[1].get_data()
    np.testing.assert_allclose(dy, y * (1 - y), atol=1e-12)   # σ' = σ(1 − σ)
    _, dstep = fig.axes[0].get_lines()[1].get_data()
    assert not np.any(dstep)                                   # no gradient through a step
    assert_drawn(fig)
    with pytest.raises(ValueError, match="valid names"):
        viz.plot_activations(["swish"])


def test_difference_errors_have_their_minimum_where_theory_says():
    e = viz.difference_errors()
    h = e["h"]
    best_forward, best_central = h[np.argmin(e["forward"])], h[np.argmin(e["central"])]
    assert 1e-10 <= best_forward <= 1e-6      # ≈ √ε
    assert 1e-7 <= best_central <= 1e-3      # ≈ ∛ε
    at = np.argmin(np.abs(np.log10(h) + 4))   # h = 1e-4, the book's choice
    assert e["central"][at] < 1e-8 < 1e-5 < e["forward"][at]


def test_plot_difference_error_is_log_log_with_both_curves():
    fig = viz.plot_difference_error()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    texts = legend_texts(ax)
    assert any(t.startswith("forward") for t in texts) and any(t.startswith("central")
                                                               for t in texts)
    assert ax.get_xlabel() == "step h"
    assert_drawn(fig)


def test_plot_filters_from_an_array_and_from_a_model(rng):
    fig = viz.plot_filters(rng.standard_normal((30, 1, 5, 5)))
    assert len(fig.axes) == 30 and all(len(ax.images) == 1 for ax in fig.axes)
    assert_drawn(fig)
    rgb = viz.plot_filters(rng.standard_normal((6, 3, 3, 3)))
    assert rgb.axes[0].images[0].get_array().shape == (3, 3, 3)
    with pytest.raises(ValueError, match="FN, C, FH, FW"):
        viz.plot_filters(rng.standard_normal((5, 5)))
    models = pytest.importorskip("zerodl.nn.models")
    fig = viz.plot_filters(models.SimpleConvNet())
    assert len(fig.axes) == 30 and "layers.0" in fig._suptitle.get_text()


def test_draw_graph_shows_the_functions_and_tensors():
    x = zd.Tensor(np.float64(8.0), requires_grad=True, name="x")
    y = zd.Tensor(np.float64(1.0), requires_grad=True, name="y")
    z = x ** 2 * (1 / 20) + y ** 2
    dot = viz.draw_graph(z)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    boxes = [line for line in dot.splitlines() if "shape=box" in line]
    assert sorted(b.split('label="')[1].split('"')[0] for b in boxes) == [
        "Add", "Mul", "Pow (**2)", "Pow (**2)"]
    assert 'label="x\\n8"' in dot and 'label="4.2"' in dot
    assert dot.count("->") == 10               # 6 edges into the 4 nodes, 4 out of them
    z.backward()
    assert "freed" in viz.draw_graph(z)


def test_render_says_what_to_install_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.graphs.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Graphviz"):
        viz.render("digraph { a -> b }", tmp_path / "g.png")
    assert (tmp_path / "g.dot").read_text() == "digraph { a -> b }"
    assert not (tmp_path / "g.png").exists()
