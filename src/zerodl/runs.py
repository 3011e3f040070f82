"""A training run: its settings (config.json) and the parts made from them.

A run is a dict of settings: dataset, model, optimizer, lr, batch size,
epochs, weight decay, schedule, seed, hidden sizes, train subset, and (once
the data is loaded) its sizes. ``recipe(model, dataset)`` gives a model's
defaults; from the settings come the data, the model, its loss, optimizer and
schedule, the test loader, and the model file (model.npz) with the lines
reported at the end. `zerodl train` builds a run from these, `zerodl evaluate`
and the lab rebuild a trained model with them.
"""

from __future__ import annotations

from pathlib import Path

DATASETS = ("mnist", "fashion-mnist", "spiral", "xor", "circles", "sine")
IMAGE_DATASETS = ("mnist", "fashion-mnist")
MODELS = ("mlp", "simple-convnet", "deep-convnet")
SCHEDULES = ("constant", "cosine")

# The CNNs train as in the book (Adam, lr 0.001, batch 100), with the learning
# rate annealed to 0 (cosine) so that the last epoch settles instead of
# bouncing around a minimum: fewer epochs reach the book's accuracy. The MLP's
# recipe (momentum SGD, weight decay, cosine) takes 784-100-100-10 past 98%.
MODEL_DEFAULTS = {
    "mlp": {"optimizer": "momentum", "lr": 0.1, "batch_size": 100, "epochs": 15,
            "weight_decay": 5e-4, "schedule": "cosine", "hidden": [100, 100]},
    "simple-convnet": {"optimizer": "adam", "lr": 0.001, "batch_size": 100, "epochs": 6,
                       "weight_decay": 0.0, "schedule": "cosine"},
    "deep-convnet": {"optimizer": "adam", "lr": 0.001, "batch_size": 100, "epochs": 8,
                     "weight_decay": 0.0, "schedule": "cosine"},
}
# The small generated sets have few batches per epoch: more epochs, a bolder step.
POINTS_DEFAULTS = {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 100,
                   "weight_decay": 0.0, "schedule": "constant", "hidden": [64, 64]}
# Evaluation needs no graph, so it can take bigger batches (the deep net's im2col is large).
EVAL_BATCH = {"mlp": 1000, "simple-convnet": 500, "deep-convnet": 200}


def recipe(model: str, dataset: str, optimizer: str | None = None) -> dict:
    """The default settings of ``model`` on ``dataset``: optimizer, lr, batch size, epochs,
    weight decay, schedule (and hidden sizes for the MLP).

    With another ``optimizer`` than the recipe's, its lr and weight decay are
    that optimizer's training defaults from ``optim.OPTIMIZERS`` (the recipe's
    were tuned for its own optimizer).
    """
    from .optim import optimizer_spec

    defaults = dict(MODEL_DEFAULTS[model])
    if model == "mlp" and dataset not in IMAGE_DATASETS:
        defaults.update(POINTS_DEFAULTS)
    if optimizer is not None and optimizer != defaults["optimizer"]:
        spec = optimizer_spec(optimizer)
        defaults.update(optimizer=spec.name, lr=spec.lr, weight_decay=spec.weight_decay)
    return defaults


def classifies(config) -> bool:
    """True for the classification datasets (all but sine, a regression)."""
    return config["dataset"] != "sine"


def load_data(config, train: bool = True) -> dict:
    """Training and test arrays for the config's dataset, shaped for its model.

    ``train=False`` reads the test split alone (for ``zerodl evaluate``). The
    generated sets draw their test points from the same distribution with
    another seed (2*seed + 1 against 2*seed for training).
    """
    from . import data as zdata

    name = config["dataset"]
    out = {}
    if name in IMAGE_DATASETS:
        cls = zdata.MNIST if name == "mnist" else zdata.FashionMNIST
        flatten = config["model"] == "mlp"
        test = cls(train=False, flatten=flatten)
        out["x_test"], out["y_test"] = test.images, test.labels
        if train:
            images = cls(train=True, flatten=flatten)
            subset = config.get("train_subset") or None
            out["x_train"], out["y_train"] = images.images[:subset], images.labels[:subset]
        out["num_outputs"] = 10
    else:
        make = getattr(zdata, name)
        out["x_test"], out["y_test"] = make(seed=2 * config["seed"] + 1)
        labels = [out["y_test"]]
        if train:
            out["x_train"], out["y_train"] = make(seed=2 * config["seed"])
            labels.append(out["y_train"])
        out["num_outputs"] = 1 if name == "sine" else int(max(y.max() for y in labels)) + 1
    out["num_inputs"] = int(out["x_test"][0].size)
    return out


def build_model(config):
    """The config's network, freshly initialised from zerodl's shared generator."""
    from .nn import models

    if config["model"] == "mlp":
        sizes = [config["num_inputs"], *config["hidden"], config["num_outputs"]]
        return models.MLP(sizes)
    if config["model"] == "simple-convnet":
        return models.SimpleConvNet()
    return models.DeepConvNet()


def build_loss(config):
    """Cross-entropy (on logits) for the classification datasets, mean squared error for sine."""
    from . import nn

    return nn.CrossEntropyLoss() if classifies(config) else nn.MSELoss()


def build_optimizer(config, model):
    """The config's optimizer (a name of ``optim.OPTIMIZERS``) over ``model.named_parameters()``,
    with the config's learning rate and weight decay."""
    from . import optim

    return optim.create(config["optimizer"], model.named_parameters(), config["lr"],
                        weight_decay=config["weight_decay"])


def build_scheduler(config, optimizer):
    """Cosine annealing over the run's epochs, or None for a constant learning rate."""
    from . import optim

    if config["schedule"] == "cosine":
        return optim.CosineAnnealingLR(optimizer, T_max=config["epochs"])
    return None


def test_loader_for(config, data, device: str | None = None, shard=None):
    """A DataLoader over the test split in ``data`` (from ``load_data``), in order, with the
    model's evaluation batch size; ``device`` and ``shard`` as for ``DataLoader``."""
    from . import data as zdata

    return zdata.DataLoader((data["x_test"], data["y_test"]), EVAL_BATCH[config["model"]],
                            shuffle=False, device=device, shard=shard)


def save_model(path: Path, model, config) -> None:
    """model.npz: the state dict under "model" and the settings (JSON) under "config"."""
    from . import io

    io.save({"model": model.state_dict(), "config": config}, path)


def load_model(path: Path):
    """(model, config) rebuilt from a model.npz written by ``save_model``."""
    from . import io

    state = io.load(path)
    if "config" not in state or "model" not in state:
        raise ValueError(f"{path} holds no zerodl train settings (it was not written by "
                         "`zerodl train`)")
    config = state["config"]
    model = build_model(config)
    model.load_state_dict(state["model"])
    return model, config


# ------------------------------------------------------------ reporting
def metrics_dict(history, config) -> dict:
    """metrics.json: the final test loss/accuracy, one row per epoch, and the settings."""
    epochs = [
        {"epoch": e, "train_loss": tl, "train_accuracy": ta, "test_loss": vl,
         "test_accuracy": va, "seconds": round(s, 3)}
        for e, tl, ta, vl, va, s in zip(history.epoch, history.train_loss, history.train_accuracy,
                                        history.val_loss, history.val_accuracy, history.seconds)
    ]
    return {"test_accuracy": history.val_accuracy[-1], "test_loss": history.val_loss[-1],
            "epochs": epochs, "config": config}


def format_result(loss, accuracy, config) -> str:
    """The final line both `zerodl train` and `zerodl evaluate` print."""
    if accuracy is None:
        return f"test loss (MSE) on {config['dataset']}: {loss:.6f}"
    return f"test accuracy on {config['dataset']}: {accuracy:.2%} (test loss {loss:.4f})"
