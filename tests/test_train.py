"""fit / evaluate / History / checkpoints, on the generated spiral (fast, exact)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import zerodl as zd
from zerodl import nn, optim
from zerodl.data import DataLoader, sine, spiral
from zerodl.train import History, TrainingInterrupted, checkpoint_epoch, evaluate, fit


def make_run(seed=0, dropout=0.0, lr=0.01, batch_size=30):
    """A fresh spiral classifier, its optimizer and loaders, all seeded by ``seed``."""
    zd.manual_seed(seed)
    X, y = spiral(seed=0)
    model = nn.models.MLP([2, 32, 32, 3], dropout=dropout)
    opt = optim.Adam(model.named_parameters(), lr=lr)
    loader = DataLoader((X, y), batch_size=batch_size, seed=seed)
    val = DataLoader(spiral(seed=1), batch_size=100, shuffle=False)
    return model, opt, loader, val


def params(model) -> dict[str, np.ndarray]:
    return {name: p.data.copy() for name, p in model.named_parameters()}


def assert_same_params(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), f"{name} differs"


def test_fit_learns_the_spiral():
    model, opt, loader, val = make_run()
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=60, progress=False)
    assert history.train_accuracy[-1] >= 0.9
    assert history.val_accuracy[-1] >= 0.85          # fresh points of the same spirals
    assert history.train_loss[-1] < history.train_loss[0] / 3
    _, train_acc = evaluate(model, loader)
    assert train_acc >= 0.9


def test_history_has_one_entry_per_epoch():
    model, opt, loader, val = make_run()
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=3, progress=False)
    assert history.epoch == [1, 2, 3] and len(history) == 3
    for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        values = getattr(history, name)
        assert len(values) == 3 and all(isinstance(v, float) for v in values), name
    assert all(0.0 <= a <= 1.0 for a in history.train_accuracy + history.val_accuracy)
    assert all(s > 0 for s in history.seconds) and len(history.eval_seconds) == 3
    assert History.from_dict(history.to_dict()) == history


def test_history_without_validation_has_none():
    model, opt, loader, _ = make_run()
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2, progress=False)
    assert history.val_loss == [None, None] and history.val_accuracy == [None, None]


def test_train_loss_is_the_batch_size_weighted_mean_of_the_step_losses():
    model, opt, loader, _ = make_run(batch_size=70)   # 300 samples: batches 70, 70, 70, 70, 20
    losses = []
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False,
                  on_step=lambda epoch, step, loss: losses.append(loss))
    assert len(losses) == 5
    expected = (sum(losses[:4]) * 70 + losses[4] * 20) / 300
    assert history.train_loss[0] == pytest.approx(expected, rel=1e-12)


def test_one_forward_pass_per_step_and_per_validation_batch():
    model, opt, loader, val = make_run()
    calls = []
    forward = model.forward
    model.forward = lambda x: calls.append(zd.is_grad_enabled()) or forward(x)
    fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=2, progress=False)
    per_epoch = len(loader) + len(val)                 # 10 training + 3 validation batches
    assert len(calls) == 2 * per_epoch
    # training batches record the graph, validation batches do not
    assert calls[:10] == [True] * 10 and calls[10:13] == [False] * 3


def test_evaluate_runs_in_eval_mode_without_graph_and_restores_training():
    model, _, _, loader = make_run(dropout=0.5)        # the validation loader: fixed order
    seen = []
    forward = model.forward
    model.forward = lambda x: seen.append((model.training, zd.is_grad_enabled())) or forward(x)
    first = evaluate(model, loader, nn.CrossEntropyLoss())
    second = evaluate(model, loader, nn.CrossEntropyLoss())
    assert first == second                              # dropout is off: deterministic
    assert set(seen) == {(False, False)}
    assert model.training


def test_regression_has_no_accuracy():
    zd.manual_seed(0)
    model = nn.models.MLP([1, 32, 32, 1], activation="tanh")
    loader = DataLoader(sine(seed=0), batch_size=20, seed=0)
    history = fit(model, nn.MSELoss(), optim.Adam(model.named_parameters(), lr=0.01), loader,
                  loader, epochs=30, progress=False)
    assert history.train_accuracy[-1] is None and history.val_accuracy[-1] is None
    # sin(2 pi x) has variance 0.5 and the noise 0.01: the fit explains nearly all of it
    assert history.val_loss[-1] < 0.05


def test_resume_gives_bit_identical_parameters(tmp_path):
    model, opt, loader, val = make_run(dropout=0.2)
    straight = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=4, progress=False)
    expected = params(model)

    path = tmp_path / "checkpoint.npz"
    model, opt, loader, val = make_run(dropout=0.2)
    fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=2, progress=False, checkpoint=path)
    assert checkpoint_epoch(path) == 2

    # A different seed: everything the rest of the run depends on must come from the file.
    model, opt, loader, val = make_run(seed=123, dropout=0.2)
    resumed = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=4, progress=False,
                  checkpoint=path, resume=path)
    assert_same_params(params(model), expected)
    assert resumed.epoch == [1, 2, 3, 4]
    assert resumed.train_loss == straight.train_loss
    assert resumed.val_accuracy == straight.val_accuracy
    assert checkpoint_epoch(path) == 4


def test_resume_restores_the_scheduler(tmp_path):
    def run(epochs, resume=None):
        model, opt, loader, _ = make_run()
        sched = optim.StepLR(opt, step_size=1, gamma=0.5)
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=epochs, progress=False,
            scheduler=sched, checkpoint=tmp_path / "c.npz", resume=resume)
        return params(model)

    expected = run(3)
    run(1)
    assert_same_params(run(3, resume=tmp_path / "c.npz"), expected)


def test_ctrl_c_saves_the_last_epoch_and_says_how_to_resume(tmp_path):
    model, opt, loader, _ = make_run(dropout=0.2)
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=4, progress=False)
    expected = params(model)

    def interrupt(epoch, step, loss):
        if epoch == 3 and step == 4:
            raise KeyboardInterrupt

    path = tmp_path / "run" / "checkpoint.npz"
    path.parent.mkdir()
    model, opt, loader, _ = make_run(dropout=0.2)
    with pytest.raises(TrainingInterrupted) as info:
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=4, progress=False,
            checkpoint=path, on_step=interrupt)
    e = info.value
    assert isinstance(e, KeyboardInterrupt)
    assert e.epoch == 2 and e.checkpoint == str(path) and len(e.history) == 2
    message = str(e)
    assert "epoch 3 of 4" in message and str(path) in message
    assert f"zerodl train --resume {path.parent}" in message
    assert checkpoint_epoch(path) == 2

    model, opt, loader, _ = make_run(seed=7, dropout=0.2)
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=4, progress=False, resume=path)
    assert_same_params(params(model), expected)


def test_ctrl_c_in_the_first_epoch_leaves_the_initial_state(tmp_path):
    model, opt, loader, _ = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False)
    expected = params(model)

    def interrupt(epoch, step, loss):
        raise KeyboardInterrupt

    path = tmp_path / "checkpoint.npz"
    model, opt, loader, _ = make_run()
    with pytest.raises(TrainingInterrupted, match="state after epoch 0"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2, progress=False,
            checkpoint=path, on_step=interrupt)
    assert checkpoint_epoch(path) == 0
    model, opt, loader, _ = make_run(seed=5)
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False, resume=path)
    assert_same_params(params(model), expected)


def test_ctrl_c_without_checkpoint_says_nothing_was_saved():
    model, opt, loader, _ = make_run()

    def interrupt(epoch, step, loss):
        raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match="nothing was saved") as info:
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2, progress=False,
            on_step=interrupt)
    assert info.value.checkpoint is None


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    model, opt, loader, _ = make_run()
    path = tmp_path / "checkpoint.npz"
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False, checkpoint=path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2, progress=False,
            checkpoint=path, resume=path)
    monkeypatch.undo()
    assert path.read_bytes() == before                  # the old checkpoint is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]  # no temp left
    assert checkpoint_epoch(path) == 1


def test_fit_rejects_no_epochs():
    model, opt, loader, _ = make_run()
    with pytest.raises(ValueError, match="epochs"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=0)


def test_resume_past_the_requested_epochs_returns_the_saved_history(tmp_path):
    model, opt, loader, _ = make_run()
    path = tmp_path / "c.npz"
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2, progress=False, checkpoint=path)
    saved = params(model)
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False, resume=path)
    assert history.epoch == [1, 2]
    assert_same_params(params(model), saved)


def test_resume_from_a_checkpoint_that_does_not_fit_names_the_file_and_the_part(tmp_path):
    """fit(resume=) goes through the same checks as `zerodl train --resume`."""
    from zerodl import io
    from zerodl.train import CheckpointError

    path = tmp_path / "checkpoint.npz"
    model, opt, loader, val = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=1, progress=False, checkpoint=path)
    state = io.load(path)
    state["optimizer"]["hyperparameters"]["lr"] = "fast"
    io.save(state, path)
    model, opt, loader, val = make_run()
    with pytest.raises(CheckpointError, match=r"checkpoint\.npz: its optimizer's lr = 'fast' is not "
                                              r"a finite number"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=2, progress=False, resume=path)
    other = nn.models.MLP([2, 8, 3])  # another run's model
    with pytest.raises(CheckpointError, match="its parameters does not fit this run"):
        fit(other, nn.CrossEntropyLoss(), optim.SGD(other.parameters(), lr=0.1), loader,
            epochs=2, progress=False, resume=path)


def test_a_checkpoint_with_the_untrained_row_resumes(tmp_path):
    """fit(evaluate_first=True) saves an epoch-0 row; its checkpoints resume like any other."""
    path = tmp_path / "checkpoint.npz"
    model, opt, loader, val = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=1, progress=False,
        checkpoint=path, evaluate_first=True)
    model, opt, loader, val = make_run()
    resumed = fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=2, progress=False,
                  resume=path)
    assert resumed.epoch == [0, 1, 2]


def test_a_checkpoint_holding_non_finite_parameters_is_refused(tmp_path):
    """fit never writes one; an older zerodl's diverged run could have. Resuming it, even with
    nothing left to train, must not hand back a broken model as trained."""
    from zerodl import io
    from zerodl.train import CheckpointError

    path = tmp_path / "checkpoint.npz"
    model, opt, loader, val = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=1, progress=False, checkpoint=path)
    state = io.load(path)
    state["model"]["layers.2.W"][0, 0] = np.nan
    io.save(state, path)
    model, opt, loader, val = make_run()
    with pytest.raises(CheckpointError, match=r"parameter layers\.2\.W holds inf or NaN"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=1, progress=False, resume=path)
