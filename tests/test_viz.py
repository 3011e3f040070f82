"""Figures render headless with the right axes, lines and legends, and are not blank; they are
pyplot's figures (plt.show, fig.show), draw into the user's Axes with ax=, and graphs draw
themselves."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import zerodl as zd  # noqa: E402
from zerodl import landscape, viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    """pyplot keeps every figure until it is closed: start and end each test with none."""
    import matplotlib.pyplot as plt

    plt.close("all")
    yield
    plt.close("all")


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
    assert fig._suptitle.get_text() == "30 steps on f(x, y) = x²/20 + y² (elongated)"
    assert_drawn(fig)
    titled = viz.plot_trajectories(book_runs(), "elongated", layout="grid", title="fig. 6-8")
    assert titled._suptitle.get_text() == "fig. 6-8"


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


def test_plot_history_puts_the_untrained_row_at_epoch_zero():
    train = pytest.importorskip("zerodl.train")
    h = train.History()
    for e in (0, 1, 2):  # fit(evaluate_first=True): epoch 0 is the model before any step
        h.append(epoch=e, train_loss=2.0 / (e + 1), val_loss=2.1 / (e + 1))
    loss, _ = viz.plot_history(h).axes
    np.testing.assert_array_equal(loss.get_lines()[0].get_xdata(), [0, 1, 2])


def test_plot_activations_shows_autodiff_derivatives():
    fig = viz.plot_activations()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["step", "sigmoid", "tanh", "relu", "leaky_relu (slope 0.1)", "gelu",
                      "softplus", "identity"]
    assert fig._suptitle.get_text() == "activation functions and their derivatives"
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


# ---------------------------------------------------------------- figures behave like pyplot's
def test_a_plot_is_a_pyplot_figure_that_plt_show_finds():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    fig = viz.plot_activations(["relu"])
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == [fig.number] and plt.gcf() is fig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # Agg may say it cannot show
        fig.show()                                     # does not raise under Agg


def test_saving_under_agg_releases_the_figure_so_loops_do_not_pile_up(tmp_path):
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # pyplot warns past 20 open figures
        for i in range(25):
            fig = viz.plot_activations(["sigmoid"], path=tmp_path / f"{i}.png")
    assert plt.get_fignums() == []
    assert len(list(tmp_path.glob("*.png"))) == 25
    assert fig.axes[0].get_title() == "sigmoid"        # the returned figure is whole
    fig.show()                                         # and still quietly "shows" under Agg
    fig.savefig(tmp_path / "again.png")
    assert (tmp_path / "again.png").read_bytes()[:4] == b"\x89PNG"


def test_a_backend_that_cannot_start_gives_an_off_screen_figure(monkeypatch):
    import matplotlib.pyplot as plt

    def broken(*args, **kwargs):
        raise ImportError("no Qt binding")

    monkeypatch.setattr(plt, "figure", broken)
    with pytest.warns(UserWarning, match="no Qt binding"):
        fig = viz.plot_gradient_field("bowl", n=5)
    assert_drawn(fig)


# ---------------------------------------------------------------- ax=: drawing into your axes
def subplots(*args, **kwargs):
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def test_plot_gradient_field_draws_into_the_given_axes():
    fig, (left, right) = subplots(1, 2)
    assert viz.plot_gradient_field("bowl", (-1, 1), (-1, 1), n=5, ax=right) is fig
    (q,) = [c for c in right.collections if type(c).__name__ == "Quiver"]
    np.testing.assert_allclose(q.U, -2 * q.XY[:, 0])
    assert not left.collections and len(fig.axes) == 2       # nothing else was touched


def test_plot_surface_needs_a_3d_axes():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    ax = fig.add_subplot(1, 2, 2, projection="3d")
    assert viz.plot_surface("bowl", n=11, ax=ax) is fig
    (wire,) = ax.collections
    assert type(wire).__name__ == "Line3DCollection" and ax.get_zlabel() == "f(x, y)"
    with pytest.raises(ValueError, match="projection='3d'"):
        viz.plot_surface("bowl", ax=fig.add_subplot(1, 2, 1))


def test_plot_trajectories_into_one_axes_or_one_per_path():
    runs = book_runs()
    fig, ax = subplots()
    viz.plot_trajectories(runs, "elongated", ax=ax)
    paths = [line for line in ax.get_lines() if line.get_marker() == "o"]
    np.testing.assert_allclose(paths[0].get_xdata(), runs[0].points[:, 0])
    fig, axes = subplots(2, 2)
    assert viz.plot_trajectories(runs, "elongated", layout="grid", ax=axes) is fig
    assert [a.get_title() for a in axes.flat] == ["SGD (lr=0.95)", "Momentum (lr=0.1)",
                                                  "AdaGrad (lr=1.5)", "Adam (lr=0.3)"]
    assert fig._suptitle is None                             # the user's figure keeps its title
    with pytest.raises(ValueError, match="4 Axes"):
        viz.plot_trajectories(runs, "elongated", layout="grid", ax=axes[0])


def test_plot_activations_into_one_axes_per_name():
    fig, axes = subplots(1, 2)
    viz.plot_activations(["sigmoid", "relu"], ax=axes)
    x, y = axes[0].get_lines()[0].get_data()
    _, dy = axes[0].get_lines()[1].get_data()
    np.testing.assert_allclose(dy, y * (1 - y), atol=1e-12)
    _, relu = axes[1].get_lines()[0].get_data()
    np.testing.assert_allclose(relu, np.maximum(x, 0))
    _, one = subplots()
    assert viz.plot_activations(["tanh"], ax=one).axes == [one]
    with pytest.raises(ValueError, match="3 Axes"):
        viz.plot_activations(["step", "tanh", "relu"], ax=axes)


def test_plot_difference_error_into_the_given_axes():
    fig, ax = subplots()
    viz.plot_difference_error(ax=ax)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "step h"
    forward = ax.get_lines()[0]
    e = viz.difference_errors()
    np.testing.assert_allclose(forward.get_ydata(), e["forward"][e["forward"] > 0])


def test_plot_history_into_two_axes_or_one(tmp_path):
    d = {"train_loss": [2.0, 1.0], "val_loss": [2.5, 1.5], "train_accuracy": [0.5, 0.7]}
    fig, (a, b, c) = subplots(1, 3)
    viz.plot_history(d, ax=[a, b], path=tmp_path / "h.png")
    np.testing.assert_allclose(a.get_lines()[1].get_ydata(), [2.5, 1.5])
    np.testing.assert_allclose(b.get_lines()[0].get_ydata(), [0.5, 0.7])
    assert not c.get_lines() and (tmp_path / "h.png").exists()   # the whole figure is saved
    viz.plot_history(d, ax=c)                                    # one Axes: the losses alone
    assert [line.get_label() for line in c.get_lines()] == ["training", "validation"]


SAVED_INTO_AXES = {
    "surface": lambda ax, path: viz.plot_surface("bowl", n=5, ax=ax, path=path),
    "gradient_field": lambda ax, path: viz.plot_gradient_field("bowl", n=5, ax=ax, path=path),
    "trajectories": lambda ax, path: viz.plot_trajectories(book_runs()[:1], "elongated", ax=ax,
                                                           path=path),
    "activations": lambda ax, path: viz.plot_activations(["relu"], ax=ax, path=path),
    "difference_error": lambda ax, path: viz.plot_difference_error(ax=ax, path=path),
    "history": lambda ax, path: viz.plot_history({"train_loss": [1.0, 0.5]}, ax=ax, path=path),
    "filters": lambda ax, path: viz.plot_filters(np.ones((2, 1, 3, 3)), ax=ax, path=path),
    "graph": lambda ax, path: viz.draw_graph(small_graph()).draw(ax=ax, path=path),
}


@pytest.mark.parametrize("name", list(SAVED_INTO_AXES))
def test_saving_into_your_axes_leaves_your_figure_with_pyplot(name, tmp_path):
    """Under Agg a figure zerodl made and saved leaves pyplot's list; yours, given through ax=,
    stays there (plt.gcf(), plt.savefig() still find it)."""
    import matplotlib.pyplot as plt

    fig = plt.figure()
    ax = fig.add_subplot(projection="3d" if name == "surface" else None)
    assert SAVED_INTO_AXES[name](ax, tmp_path / "part.png") is fig
    assert (tmp_path / "part.png").exists()
    assert plt.get_fignums() == [fig.number] and plt.gcf() is fig


def test_plot_filters_into_one_axes_is_one_tiled_image(rng):
    W = rng.standard_normal((6, 1, 3, 3))
    fig, (before, after) = subplots(1, 2)
    viz.plot_filters(W, ncols=3, ax=before)
    viz.plot_filters(W * 2 + 1, ncols=3, ax=after, title="after")
    (img,) = before.images
    mosaic = img.get_array()
    assert mosaic.shape == (2 * 4 - 1, 3 * 4 - 1)            # 2×3 tiles of 3×3, 1-pixel gaps
    tile = W[4, 0]                                           # row 1, column 1
    np.testing.assert_allclose(mosaic[4:7, 4:7], (tile - tile.min()) / np.ptp(tile))
    assert mosaic.mask[3].all() and mosaic.mask[:, 3].all()  # the gaps
    np.testing.assert_allclose(after.images[0].get_array(), mosaic)  # scaled per filter
    assert after.get_title() == "after" and len(fig.axes) == 2


# ---------------------------------------------------------------- graphs that draw themselves
def small_graph():
    x = zd.Tensor(np.float64(8.0), requires_grad=True, name="x")
    y = zd.Tensor(np.float64(1.0), requires_grad=True, name="y")
    return x ** 2 * (1 / 20) + y ** 2


def test_a_graph_is_its_dot_text_and_knows_its_parts():
    g = viz.draw_graph(small_graph())
    assert isinstance(g, str) and isinstance(g, viz.Graph) and str(g).startswith("digraph")
    kinds = sorted(n.kind for n in g.nodes)
    assert kinds.count("function") == 4 and kinds.count("tensor") == 7
    assert len(g.edges) == g.count("->") == 10
    assert repr(g).startswith("<computational graph: 4 functions, 7 tensors")


def test_layout_puts_inputs_left_the_output_right_and_no_crossings():
    from zerodl.viz.graph_layout import layered_positions

    g = viz.draw_graph(small_graph())
    pos = layered_positions([n.key for n in g.nodes], g.edges)
    by_label = {n.label: pos[n.key] for n in g.nodes}
    assert by_label["x\n8"][0] == by_label["y\n1"][0] == 0.0
    assert by_label["4.2"][0] == max(p[0] for p in pos.values()) == 6.0
    assert by_label["0.05"][0] == by_label["64"][0] == 2.0   # the constant sits beside Mul
    for (a, b), (c, d) in [(e, f) for e in g.edges for f in g.edges]:   # edges between the
        if pos[a][0] == pos[c][0] and pos[b][0] == pos[d][0]:          # same two columns
            assert (pos[a][1] - pos[c][1]) * (pos[b][1] - pos[d][1]) >= 0


def test_without_graphviz_a_graph_shows_as_a_matplotlib_png(monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(viz.graphs.shutil, "which", lambda name: None)
    g = viz.draw_graph(small_graph())
    assert g._repr_svg_() is None
    png = g._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and plt.get_fignums() == []   # drawn off-screen
    with pytest.raises(RuntimeError, match="Graphviz"):
        g.svg()
    fig, ax = subplots()
    assert g.draw(ax=ax) is fig
    arrows = [t for t in ax.texts if type(t).__name__ == "Annotation"]
    labels = [t.get_text() for t in ax.texts if t not in arrows]
    assert sorted(labels) == sorted(n.label for n in g.nodes) and len(arrows) == 10
    assert_drawn(fig)


def test_with_graphviz_a_graph_shows_as_svg_drawn_by_dot(tmp_path, monkeypatch):
    # a stand-in for Graphviz's dot: it checks that it got DOT text and answers with SVG
    dot = tmp_path / "dot"
    dot.write_text('#!/bin/sh\n[ "$1" = "-Tsvg" ] || exit 3\nhead -c 7 | grep -q digraph || '
                   'exit 4\necho "<svg>graph</svg>"\n')
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    g = viz.draw_graph(small_graph())
    assert g._repr_svg_().strip() == "<svg>graph</svg>"
    assert g._repr_png_() is None                            # one picture, not two


def test_a_freed_graph_says_so_in_its_drawing(monkeypatch):
    monkeypatch.setattr(viz.graphs.shutil, "which", lambda name: None)
    z = small_graph()
    z.backward()
    g = viz.draw_graph(z)
    assert g.freed and "partly freed" in repr(g)
    fig = g.draw()
    assert "freed by backward()" in fig.axes[0].get_title()


def test_in_ipython_a_figure_draws_itself_with_ipythons_printers_and_leaves_pyplot(monkeypatch):
    """What Jupyter sees (the real kernel is in test_notebooks.py): the bundle comes from the
    printers IPython has for figures, and under the inline backend the figure then leaves
    pyplot's list, so the end-of-cell flush does not show it a second time."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from zerodl.viz import display

    fig = viz.plot_activations(["relu"])
    assert fig._repr_mimebundle_() is None          # outside IPython: nothing to add

    class Formatter:
        def __init__(self, printer):
            self.printer = printer

        def lookup_by_type(self, cls):
            if cls is not Figure or self.printer is None:
                raise KeyError(cls)
            return self.printer

    formatters = {"text/plain": Formatter(repr), "image/png": Formatter(lambda f: b"PNG"),
                  "image/jpeg": Formatter(None),
                  "image/svg+xml": Formatter(lambda f: ("<svg/>", {"isolated": True}))}
    shell = SimpleNamespace(display_formatter=SimpleNamespace(formatters=formatters))
    monkeypatch.setattr(display, "_shell", lambda: shell)
    monkeypatch.setattr(display, "_inline_backend", lambda: True)
    assert plt.get_fignums() == [fig.number]
    data, metadata = fig._repr_mimebundle_()
    assert data == {"image/png": b"PNG", "image/svg+xml": "<svg/>"}
    assert metadata == {"image/svg+xml": {"isolated": True}}
    assert plt.get_fignums() == []                                        # shown: released
    assert fig._repr_mimebundle_(include={"image/png"}) == {"image/png": b"PNG"}
