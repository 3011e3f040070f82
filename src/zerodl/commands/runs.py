"""The parts of a `zerodl train` run, made from its settings (config.json).

The data, the model, its loss, optimizer and schedule, the test loader, the
model file and the lines reported at the end: `zerodl train` builds a run
from these, `zerodl evaluate` and the lab rebuild a trained model with them.
"""

from __future__ import annotations

from pathlib import Path

IMAGE_DATASETS = ("mnist", "fashion-mnist")
# Evaluation needs no graph, so it can take bigger batches (the deep net's im2col is large).
EVAL_BATCH = {"mlp": 1000, "simple-convnet": 500, "deep-convnet": 200}


def classifies(config) -> bool:
    """True for the classification datasets (all but sine, a regression)."""
    return config["dataset"] != "sine"


def load_data(config, train: bool = True) -> dict:
    """Training and test arrays for the config's dataset, shaped for its model.

    ``train=False`` reads the test split alone (for ``zerodl evaluate``). The
    generated sets draw their test points from the same distribution with
    another seed (2*seed + 1 against 2*seed for training).
    """
    from .. import data as zdata

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
    from ..nn import models

    if config["model"] == "mlp":
        sizes = [config["num_inputs"], *config["hidden"], config["num_outputs"]]
        return models.MLP(sizes)
    if config["model"] == "simple-convnet":
        return models.SimpleConvNet()
    return models.DeepConvNet()


def build_loss(config):
    from .. import nn

    return nn.CrossEntropyLoss() if classifies(config) else nn.MSELoss()


def build_optimizer(config, model):
    """The config's optimizer over ``model.named_parameters()``, with its weight decay."""
    from ..landscape import make_optimizer

    return make_optimizer(config["optimizer"], model.named_parameters(), config["lr"],
                          weight_decay=config["weight_decay"])


def build_scheduler(config, optimizer):
    """Cosine annealing over the run's epochs, or None for a constant learning rate."""
    from .. import optim

    if config["schedule"] == "cosine":
        return optim.CosineAnnealingLR(optimizer, T_max=config["epochs"])
    return None


def test_loader_for(config, data, device: str | None = None, shard=None):
    from .. import data as zdata

    return zdata.DataLoader((data["x_test"], data["y_test"]), EVAL_BATCH[config["model"]],
                            shuffle=False, device=device, shard=shard)


def save_model(path: Path, model, config) -> None:
    """model.npz: the state dict under "model" and the settings (JSON) under "config"."""
    from .. import io

    io.save({"model": model.state_dict(), "config": config}, path)


def load_model(path: Path):
    """(model, config) rebuilt from a model.npz written by ``save_model``."""
    from .. import io

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
