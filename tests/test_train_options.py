"""fit's max_steps, evaluate_first and progress; History as a table and a dict."""

from __future__ import annotations

import io as textio
import sys
import types

import numpy as np
import pytest

import zerodl as zd
from test_train import assert_same_params, params  # tests/ is on sys.path
from zerodl import nn, optim
from zerodl.data import DataLoader, spiral
from zerodl.train import History, checkpoint_epoch, evaluate, fit


def make_run(seed=0, dropout=0.0):
    """A spiral classifier with 10 training batches per epoch and 3 validation batches."""
    zd.manual_seed(seed)
    model = nn.models.MLP([2, 16, 3], dropout=dropout)
    opt = optim.Adam(model.named_parameters(), lr=0.01)
    loader = DataLoader(spiral(seed=0), batch_size=30, seed=seed)
    val = DataLoader(spiral(seed=1), batch_size=100, shuffle=False)
    return model, opt, loader, val


# ------------------------------------------------------------ max_steps
def test_max_steps_stops_in_the_middle_of_an_epoch():
    model, opt, loader, val = make_run()
    losses = []
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=5, max_steps=25,
                  progress=False, on_step=lambda epoch, step, loss: losses.append((epoch, loss)))
    assert len(losses) == 25 and losses[-1][0] == 3
    assert history.epoch == [1, 2, 3] and history.step == [10, 20, 25]
    assert history.stopped == "max_steps" and "max_steps=25" in history.stop_message
    # the partial epoch's row is the mean over its 5 batches of 30 samples
    assert history.train_loss[-1] == pytest.approx(np.mean([v for e, v in losses if e == 3]),
                                                   rel=1e-12)
    assert history.val_loss[-1] == evaluate(model, val, nn.CrossEntropyLoss())[0]


def test_max_steps_alone_runs_as_many_epochs_as_it_needs():
    model, opt, loader, _ = make_run()
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, max_steps=35, progress=False)
    assert history.epoch == [1, 2, 3, 4] and history.step == [10, 20, 30, 35]


def test_epochs_reached_first_is_no_early_stop():
    model, opt, loader, _ = make_run()
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2, max_steps=25, progress=False)
    assert history.epoch == [1, 2] and history.step == [10, 20] and history.stopped is None


def test_max_steps_gives_the_same_parameters_as_stepping_by_hand():
    model, opt, loader, _ = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, max_steps=13, progress=False)

    by_hand, opt2, loader2, _ = make_run()
    loss_fn, steps = nn.CrossEntropyLoss(), 0
    while steps < 13:
        for x, t in loader2:
            loss = loss_fn(by_hand(zd.Tensor(x)), t)
            opt2.zero_grad()
            loss.backward()
            opt2.step()
            steps += 1
            if steps == 13:
                break
    assert_same_params(params(model), params(by_hand))


def test_a_partial_epoch_is_not_checkpointed_and_resuming_gives_the_straight_run(tmp_path):
    model, opt, loader, val = make_run(dropout=0.2)
    fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=4, progress=False)
    straight = params(model)

    path = tmp_path / "checkpoint.npz"
    model, opt, loader, val = make_run(dropout=0.2)
    fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=4, max_steps=25, progress=False,
        checkpoint=path)
    assert checkpoint_epoch(path) == 2          # the last whole epoch, not the 5 steps of epoch 3

    model, opt, loader, val = make_run(seed=9, dropout=0.2)
    resumed = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=4, progress=False,
                  resume=path)
    assert resumed.epoch == [1, 2, 3, 4] and resumed.step == [10, 20, 30, 40]
    assert_same_params(params(model), straight)


def test_max_steps_counts_the_resumed_steps(tmp_path):
    path = tmp_path / "checkpoint.npz"
    model, opt, loader, _ = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2, progress=False, checkpoint=path)
    model, opt, loader, _ = make_run(seed=3)
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, max_steps=25, progress=False,
                  resume=path)
    assert history.step == [10, 20, 25]
    model2, opt2, loader2, _ = make_run()
    fit(model2, nn.CrossEntropyLoss(), opt2, loader2, max_steps=25, progress=False)
    assert_same_params(params(model), params(model2))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_max_steps_must_be_a_positive_integer(bad):
    model, opt, loader, _ = make_run()
    with pytest.raises(ValueError, match="max_steps must be a positive integer"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, max_steps=bad)


# ------------------------------------------------------------ evaluate_first
def test_evaluate_first_adds_the_untrained_model_as_epoch_0():
    model, opt, loader, val = make_run(dropout=0.3)
    before_train = evaluate(model, loader, nn.CrossEntropyLoss())
    before_val = evaluate(model, val, nn.CrossEntropyLoss())
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=2, progress=False,
                  evaluate_first=True)
    assert history.epoch == [0, 1, 2] and history.step == [0, 10, 20]
    # (the training set is summed in another shuffled order: equal up to rounding)
    assert history.train_loss[0] == pytest.approx(before_train[0], rel=1e-6)
    assert history.train_accuracy[0] == before_train[1]
    assert (history.val_loss[0], history.val_accuracy[0]) == before_val
    assert history.seconds[0] == 0.0 and history.eval_seconds[0] > 0
    assert abs(history.train_loss[0] - np.log(3)) < 0.5         # three classes, untrained


def test_evaluate_first_leaves_the_run_itself_unchanged(tmp_path):
    model, opt, loader, val = make_run(dropout=0.3)
    plain = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=2, progress=False)
    expected = params(model)
    model, opt, loader, val = make_run(dropout=0.3)
    path = tmp_path / "c.npz"
    first = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=2, progress=False,
                evaluate_first=True, checkpoint=path)
    assert_same_params(params(model), expected)                # the loader's shuffling was put back
    assert first.train_loss[1:] == plain.train_loss
    assert checkpoint_epoch(path) == 2
    # resuming keeps the epoch-0 row and does not add another
    model, opt, loader, val = make_run(seed=4, dropout=0.3)
    resumed = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=3, progress=False,
                  evaluate_first=True, resume=path)
    assert resumed.epoch == [0, 1, 2, 3] and resumed.train_loss[:3] == first.train_loss


# ------------------------------------------------------------ what fit shows
def test_progress_prints_one_line_per_epoch_that_says_validation(capsys, recwarn):
    model, opt, loader, val = make_run()
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=3, evaluate_first=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("epoch 0/3 (untrained)  training loss ")
    assert lines[3].startswith("epoch 3/3  training loss ")
    assert f"validation loss {history.val_loss[3]:.4f}, accuracy {history.val_accuracy[3]:.2%}" \
        in lines[3]
    assert f"training loss {history.train_loss[3]:.4f}" in lines[3]
    assert not [w for w in recwarn if "Tqdm" in type(w.message).__name__]


def test_progress_bar_alone_and_no_progress_print_no_lines(capsys):
    model, opt, loader, val = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=2, progress="bar")
    fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=2, progress=False)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="progress must be True, False or 'bar'"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, progress="lines")


def test_a_stopped_epoch_says_so_in_its_line(capsys):
    model, opt, loader, _ = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, max_steps=15)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("epoch 2 (stopped at step 15: max_steps)  training loss")


class _Terminal(textio.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_bar_is_drawn_and_removed(monkeypatch, capsys):
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    model, opt, loader, _ = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1)
    drawn = screen.getvalue()
    assert drawn.startswith("\repoch 1/1:") and "/10 [" in drawn
    assert drawn.endswith(" \r")                                # and wiped when the epoch ends
    assert capsys.readouterr().out.startswith("epoch 1/1  training loss")


def test_a_jupyter_kernel_without_ipywidgets_gets_lines_and_no_warning(monkeypatch, capsys, recwarn):
    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)        # import fails
    monkeypatch.setattr(sys, "stderr", _Terminal())
    model, opt, loader, _ = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2)
    assert sys.stderr.getvalue() == ""                          # no text bar in a notebook
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert not recwarn.list


# ------------------------------------------------------------ History as a table
def small_history() -> History:
    h = History()
    h.append(epoch=0, step=0, train_loss=1.0986, train_accuracy=0.3333, val_loss=1.1,
             val_accuracy=0.3, seconds=0.0, eval_seconds=0.01)
    h.append(epoch=1, step=10, train_loss=0.51234, train_accuracy=0.8, val_loss=0.6,
             val_accuracy=0.75, seconds=1.25, eval_seconds=0.02)
    return h


def test_history_repr_is_a_table():
    lines = repr(small_history()).splitlines()
    assert lines[0] == "History: 1 epochs, 10 steps, 1.2 s of training"
    assert lines[1].split() == ["epoch", "step", "training", "loss", "training", "accuracy",
                                "validation", "loss", "validation", "accuracy", "seconds"]
    assert lines[3].split() == ["1", "10", "0.5123", "80.00%", "0.6000", "75.00%", "1.25"]


def test_history_repr_leaves_out_empty_columns_and_shortens_long_runs():
    h = History()
    for e in range(1, 31):
        h.append(epoch=e, step=e, train_loss=1.0 / e, seconds=0.1)
    lines = repr(h).splitlines()
    assert lines[1].split() == ["epoch", "step", "training", "loss", "seconds"]
    assert len(lines) == 2 + 21 and lines[12].split() == ["…"] * 4
    assert lines[-1].split()[0] == "30"


def test_history_html_for_jupyter():
    page = small_history()._repr_html_()
    assert page.count("<tr>") == 3 and "<th>validation accuracy</th>" in page
    assert "<td>80.00%</td>" in page


def test_history_to_dict_is_columns_of_equal_length():
    d = small_history().to_dict()
    assert list(d) == ["epoch", "step", "train_loss", "train_accuracy", "val_loss",
                       "val_accuracy", "seconds", "eval_seconds"]
    assert {len(v) for v in d.values()} == {2} and d["train_loss"] == [1.0986, 0.51234]
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(small_history().to_dict())
    assert frame.shape == (2, 8) and frame["val_accuracy"].iloc[1] == 0.75


def test_history_from_an_older_checkpoint_gets_empty_steps():
    h = History.from_dict({"epoch": [1, 2], "train_loss": [0.5, 0.4]})
    assert h.step == [None, None] and h.val_loss == [None, None] and h.steps == 0
