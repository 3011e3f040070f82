"""fit and non-finite numbers: on_nan="raise"|"stop"|"continue", DivergedError, and
checkpoints that are never overwritten with inf or nan (issue 18, item 1)."""

from __future__ import annotations

import numpy as np
import pytest

import zerodl as zd
from zerodl import io, nn, optim
from zerodl.data import DataLoader, spiral
from zerodl.train import DivergedError, checkpoint_epoch, fit

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow is the point here


def make_run(lr=0.01, batch_size=30, sizes=(2, 16, 3)):
    """A small spiral classifier (10 batches per epoch), SGD, seeded."""
    zd.manual_seed(0)
    model = nn.models.MLP(list(sizes))
    opt = optim.SGD(model.named_parameters(), lr=lr)
    loader = DataLoader(spiral(seed=0), batch_size=batch_size, seed=0)
    val = DataLoader(spiral(seed=1), batch_size=100, shuffle=False)
    return model, opt, loader, val


def params(model) -> dict[str, np.ndarray]:
    return {name: p.data.copy() for name, p in model.named_parameters()}


def all_finite(state: dict) -> bool:
    return all(np.isfinite(a).all() for a in state.values())


class NanAt:
    """Cross-entropy, except that the loss of training step ``at`` (counted over the run) is nan."""

    def __init__(self, at: int):
        self.at, self.calls = at, 0

    def __call__(self, y, t):
        loss = nn.CrossEntropyLoss()(y, t)
        if not zd.is_grad_enabled():
            return loss
        self.calls += 1
        return loss * (float("nan") if self.calls == self.at else 1.0)


def params_after_steps(n: int) -> dict[str, np.ndarray]:
    model, opt, loader, _ = make_run()
    fit(model, nn.CrossEntropyLoss(), opt, loader, max_steps=n, progress=False)
    return params(model)


def test_raise_names_epoch_and_step_and_makes_no_update_from_the_nan_loss():
    model, opt, loader, _ = make_run()
    with pytest.raises(DivergedError) as info:
        fit(model, NanAt(14), opt, loader, epochs=3, progress=False)
    e = info.value
    assert isinstance(e, FloatingPointError)                  # old handlers still catch it
    assert (e.epoch, e.step, e.what) == (2, 4, "training loss")
    assert "the training loss is nan at epoch 2, step 4" in str(e)
    assert "lower the learning rate (lr=0.01)" in str(e) and "nothing was saved" in str(e)
    assert e.history.epoch == [1]                             # the epochs measured before
    for name, value in params_after_steps(13).items():        # 13 updates, not 14
        np.testing.assert_array_equal(params(model)[name], value)


def test_a_nan_loss_on_the_first_batch_points_at_the_data_not_the_rate():
    model, opt, loader, _ = make_run()
    with pytest.raises(DivergedError, match=r"step 1 \(before any update\): check the inputs"):
        fit(model, NanAt(1), opt, loader, progress=False)


def test_stop_ends_cleanly_and_the_history_says_so():
    model, opt, loader, val = make_run()
    history = fit(model, NanAt(14), opt, loader, val, epochs=3, progress=False, on_nan="stop")
    assert history.epoch == [1, 2] and history.step == [10, 13]
    assert history.stopped == "diverged"
    assert "at epoch 2, step 4" in history.stop_message
    assert np.isnan(history.train_loss[-1])                   # the nan batch is in its epoch's mean
    assert np.isfinite(history.val_loss[-1])                  # the model itself is still fine
    for name, value in params_after_steps(13).items():
        np.testing.assert_array_equal(params(model)[name], value)
    assert "stopped: " in repr(history)


def test_continue_trains_on_and_records_the_nan():
    model, opt, loader, val = make_run()
    seen = []
    history = fit(model, NanAt(14), opt, loader, val, epochs=3, progress=False, on_nan="continue",
                  on_step=lambda epoch, step, loss: seen.append(loss))
    assert len(seen) == 30 and np.isnan(seen[13]) and all(np.isfinite(seen[:13]))
    assert history.epoch == [1, 2, 3] and history.stopped is None
    assert np.isfinite(history.train_loss[0]) and np.isnan(history.train_loss[1])
    # the nan gradient reached every weight: the curve is flat from there on
    assert np.isnan(history.val_loss[2]) and not all_finite(params(model))
    assert history.val_accuracy[1] == history.val_accuracy[2]


def test_continue_keeps_the_last_finite_checkpoint_and_warns(tmp_path):
    model, opt, loader, _ = make_run()
    path = tmp_path / "checkpoint.npz"
    with pytest.warns(UserWarning, match="checkpoint of epoch 1 .* is kept"):
        fit(model, NanAt(14), opt, loader, epochs=3, progress=False, on_nan="continue",
            checkpoint=path)
    assert checkpoint_epoch(path) == 1
    saved = io.load(path)["model"]
    assert all_finite(saved)
    for name, value in params_after_steps(10).items():
        np.testing.assert_array_equal(saved[name], value)


def test_diverged_parameters_are_caught_before_the_checkpoint(tmp_path):
    """The issue's case in small: lr 1e308, one batch per epoch, one epoch. The loss of that
    step is finite (it is computed before the update); the parameters after it are not."""
    model, opt, loader, val = make_run(lr=1e308, batch_size=100_000)
    initial = params(model)
    path = tmp_path / "checkpoint.npz"
    with pytest.raises(DivergedError) as info:
        fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=1, progress=False,
            checkpoint=path)
    e = info.value
    assert (e.epoch, e.step, e.what) == (1, 1, "parameters")
    assert "parameter layers.0.W holds inf or nan at epoch 1, step 1" in str(e)
    assert "lower the learning rate (lr=1e+308)" in str(e)
    assert e.checkpoint == str(path) and e.saved_epoch == 0
    assert f"the checkpoint of epoch 0 in {path} is kept" in str(e)
    saved = io.load(path)
    assert saved["meta"]["epoch"] == 0 and all_finite(saved["model"])
    for name, value in initial.items():
        np.testing.assert_array_equal(saved["model"][name], value)


def test_a_good_checkpoint_survives_a_later_divergence(tmp_path):
    model, opt, loader, val = make_run()
    path = tmp_path / "checkpoint.npz"
    after_first = {}

    def blow_up(epoch, history):
        if epoch == 1:
            after_first.update(params(model))
            opt.lr = 1e308

    with pytest.raises(DivergedError) as info:
        fit(model, nn.CrossEntropyLoss(), opt, loader, val, epochs=3, progress=False,
            checkpoint=path, on_epoch_end=blow_up)
    assert info.value.epoch == 2 and info.value.saved_epoch == 1
    assert checkpoint_epoch(path) == 1
    saved = io.load(path)["model"]
    for name, value in after_first.items():
        np.testing.assert_array_equal(saved[name], value)


def test_stop_on_diverged_parameters_writes_no_checkpoint(tmp_path):
    model, opt, loader, _ = make_run(lr=1e308, batch_size=100_000)
    path = tmp_path / "checkpoint.npz"
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=3, progress=False,
                  on_nan="stop", checkpoint=path)
    assert history.epoch == [1] and history.stopped == "diverged"
    assert "parameter layers.0.W" in history.stop_message
    assert checkpoint_epoch(path) == 0 and all_finite(io.load(path)["model"])


def test_a_non_finite_validation_loss_is_divergence_too():
    model, opt, loader, val = make_run()

    def loss_fn(y, t):  # finite while training, inf when evaluating
        loss = nn.CrossEntropyLoss()(y, t)
        return loss if zd.is_grad_enabled() else loss * float("inf")

    with pytest.raises(DivergedError, match="the validation loss is inf at epoch 1, step 10") as info:
        fit(model, loss_fn, opt, loader, val, epochs=2, progress=False)
    assert info.value.what == "validation loss"


def test_a_model_given_non_finite_weights_is_refused_before_the_first_checkpoint(tmp_path):
    model, opt, loader, _ = make_run()
    model.layers[0].b.data[0] = np.inf
    with pytest.raises(DivergedError, match="before training, parameter layers.0.b holds inf"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, progress=False,
            checkpoint=tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()


def test_on_nan_is_checked():
    model, opt, loader, _ = make_run()
    with pytest.raises(ValueError, match="on_nan must be one of 'raise', 'stop', 'continue'"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, on_nan="ignore")
