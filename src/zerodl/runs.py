"""A training run: its settings (config.json) and the parts made from them.

A run is a dict of settings: dataset, model, optimizer, lr, batch size,
epochs, weight decay, schedule, seed, hidden sizes, train subset, and (once
the data is loaded) its sizes. ``recipe(model, dataset)`` gives a model's
defaults; from the settings come the data, the model, its loss, optimizer and
schedule, the test loader, and the model file (model.npz) with the lines
reported at the end. `zerodl train` builds a run from these, `zerodl evaluate`
and the lab rebuild a trained model with them.

Sizes have stated upper bounds (``LIMITS``), the same for the command line and
for saved settings: a saved config is checked (``check_config``: known model,
dataset from ``DATASETS``, types, sizes within the limits) before anything is
built from it, so a small file cannot make zerodl build a huge model.
"""

from __future__ import annotations

import math
from pathlib import Path

DATASETS = ("mnist", "fashion-mnist", "spiral", "xor", "circles", "sine")
IMAGE_DATASETS = ("mnist", "fashion-mnist")
MODELS = ("mlp", "simple-convnet", "deep-convnet")
SCHEDULES = ("constant", "cosine")
# (inputs per sample, outputs) of the model each dataset needs.
DATA_SHAPES = {"mnist": (784, 10), "fashion-mnist": (784, 10), "spiral": (2, 3), "xor": (2, 2),
               "circles": (2, 2), "sine": (1, 1)}

# Upper bounds of a run's settings (zerodl train's options and saved configs alike).
# An MLP of MAX_PARAMETERS float32 weights takes 200 MB, 800 MB with Adam's moments
# and the gradients: the most a learner's machine is asked for.
LIMITS = {
    "epochs": 100_000,
    "batch_size": 1_000_000,
    "seed": 2**32 - 1,  # --seed only: saved configs of older zerodl may hold any seed >= 0
    "train_subset": 10_000_000,
    "hidden_layers": 100,
    "hidden_width": 100_000,
    "parameters": 50_000_000,
}

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
    from .data.generated import GENERATED

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
        make = GENERATED[name]  # a name of DATASETS (check_config), never any attribute
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
    """(model, config) rebuilt from a model.npz written by ``save_model``.

    The saved settings are checked (``check_config``) before the model is
    built; parameters that do not fit it raise RunConfigError naming the file.
    """
    from . import io

    state = io.load(path)
    if not isinstance(state.get("config"), dict) or not isinstance(state.get("model"), dict):
        raise RunConfigError(f"{path} holds no zerodl train settings (it was not written by "
                             "`zerodl train`): give the model.npz of a `zerodl train` run")
    config = check_config(state["config"], path, trained=True)
    model = build_model(config)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, ValueError, TypeError) as e:
        first, *rest = [line.strip() for line in str(e).splitlines() if line.strip()] or [""]
        raise RunConfigError(f"{path}: its parameters do not fit the model its settings describe "
                             f"({config['model']}, {_architecture(config)}): "
                             f"{' '.join([first, '; '.join(rest)]).strip()}. The file is "
                             "damaged or was edited: train again, or use another copy") from None
    return model, config


# ------------------------------------------------------------ checking settings
class RunConfigError(ValueError):
    """Saved settings (config.json, the config in model.npz) that zerodl cannot use."""


# The settings every saved config holds, with their types; the sizes with LIMITS.
_TYPES = {"dataset": str, "model": str, "optimizer": str, "lr": float, "epochs": int,
          "batch_size": int, "weight_decay": float, "schedule": str, "seed": int,
          "hidden": (list, type(None)), "train_subset": (int, type(None))}
_TRAINED = {"num_inputs": int, "num_outputs": int}  # known once the data was loaded


def check_config(config, source, trained: bool = False) -> dict:
    """``config`` (settings read from ``source``) once every field is known to be usable.

    Checked before anything is built from it: every setting present with its
    type, model in MODELS, dataset in DATASETS, optimizer in optim.OPTIMIZERS,
    schedule in SCHEDULES, numbers finite, the seed >= 0 and sizes within
    ``LIMITS`` (the MLP's parameter count included); ``trained``: num_inputs
    and num_outputs too, equal to the dataset's. Raises RunConfigError naming
    the file and the field.
    """
    from .optim import OPTIMIZERS

    def bad(key, why):
        return RunConfigError(f"{source}: {key} = {config.get(key)!r} {why}; the file is "
                              "damaged or was edited: train again (zerodl train --out DIR), "
                              "or fix the value")

    if not isinstance(config, dict):
        raise RunConfigError(f"{source}: the settings are {type(config).__name__}, not a "
                             "JSON object; train again (zerodl train --out DIR)")
    for key, kind in {**_TYPES, **(_TRAINED if trained else {})}.items():
        if key not in config:
            raise RunConfigError(f"{source}: the setting {key!r} is missing; the file is "
                                 "damaged or from another program: train again")
        value = config[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            continue  # JSON writes 1.0 as 1 where a person edited it
        if isinstance(value, bool) or not isinstance(value, kind):
            raise bad(key, f"is a {type(value).__name__}, not {_kind_name(kind)}")
    for key, names in [("model", MODELS), ("dataset", DATASETS), ("optimizer", tuple(OPTIMIZERS)),
                       ("schedule", SCHEDULES)]:
        if config[key] not in names:
            raise bad(key, f"is not one of {', '.join(names)}")
    if not (math.isfinite(config["lr"]) and config["lr"] > 0):
        raise bad("lr", "is not a positive finite number")
    if not (math.isfinite(config["weight_decay"]) and config["weight_decay"] >= 0):
        raise bad("weight_decay", "is not a finite number >= 0")
    for key, low in [("epochs", 1), ("batch_size", 1), ("train_subset", 1)]:
        if config[key] is not None and not low <= config[key] <= LIMITS[key]:
            raise bad(key, f"is outside {low}..{LIMITS[key]:,} (runs.LIMITS)")
    if config["seed"] < 0:  # no upper bound: it costs nothing, and older zerodl took any seed
        raise bad("seed", "is negative")
    if trained and (config["num_inputs"], config["num_outputs"]) != DATA_SHAPES[config["dataset"]]:
        raise bad("num_inputs", f"and num_outputs = {config['num_outputs']!r} are not "
                  f"{config['dataset']}'s {DATA_SHAPES[config['dataset']]}")
    problem = check_architecture(config)
    if problem:
        raise bad("hidden", problem)
    return config


def check_architecture(config) -> str | None:
    """Why the config's hidden sizes are not usable (a sentence naming the limit), or None.

    The MLP needs 1..LIMITS["hidden_layers"] whole sizes in 1..LIMITS["hidden_width"]
    and at most LIMITS["parameters"] parameters; the CNNs take no hidden sizes.
    """
    hidden = config.get("hidden")
    if config["model"] != "mlp":
        return None if hidden is None else f"is given, but {config['model']} has a fixed architecture"
    if not isinstance(hidden, list) or not hidden:
        return "is no list of layer sizes such as [100, 100]"
    if len(hidden) > LIMITS["hidden_layers"]:
        return f"has {len(hidden)} layers, more than {LIMITS['hidden_layers']} (runs.LIMITS)"
    width = LIMITS["hidden_width"]
    if not all(isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= width for h in hidden):
        return f"holds a size that is no whole number in 1..{width:,} (runs.LIMITS)"
    count = parameter_count(config)
    if count > LIMITS["parameters"]:
        return (f"makes an MLP of {count:,} parameters, more than {LIMITS['parameters']:,} "
                "(runs.LIMITS): ask for fewer or smaller layers")
    return None


def parameter_count(config) -> int:
    """The number of weights and biases of the config's MLP on its dataset."""
    inputs, outputs = DATA_SHAPES[config["dataset"]]
    sizes = [inputs, *config["hidden"], outputs]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


# ------------------------------------------------------------ reporting
def metrics_dict(history, config, note: str | None = None) -> dict:
    """metrics.json: the final test loss/accuracy, one row per epoch, and the settings.

    Strict JSON: a loss or accuracy that is inf or NaN (a diverged run) is
    null, and ``note`` (or, when there is none, a sentence saying so) explains it.
    """
    epochs = [
        {"epoch": e, "train_loss": _finite(tl), "train_accuracy": _finite(ta),
         "test_loss": _finite(vl), "test_accuracy": _finite(va), "seconds": round(s, 3)}
        for e, tl, ta, vl, va, s in zip(history.epoch, history.train_loss, history.train_accuracy,
                                        history.val_loss, history.val_accuracy, history.seconds)
    ]
    last = epochs[-1] if epochs else {}
    metrics = {"test_accuracy": last.get("test_accuracy"), "test_loss": last.get("test_loss"),
               "epochs": epochs, "config": config}
    values = [v for row in zip(history.train_loss, history.val_loss) for v in row]
    if note is None and any(v is not None and not math.isfinite(v) for v in values):
        note = "a loss that was not finite (inf or NaN: the run diverged) is written as null"
    if note is not None:
        metrics["note"] = note
    return metrics


def format_result(loss, accuracy, config) -> str:
    """The final line both `zerodl train` and `zerodl evaluate` print."""
    if accuracy is None:
        return f"test loss (MSE) on {config['dataset']}: {loss:.6f}"
    return f"test accuracy on {config['dataset']}: {accuracy:.2%} (test loss {loss:.4f})"


# ------------------------------------------------------------ helpers
def _finite(value):
    """``value`` for strict JSON: None where it is inf or NaN."""
    return None if value is None or not math.isfinite(value) else value


def _architecture(config) -> str:
    if config["model"] == "mlp":
        return "layers " + "-".join(map(str, [config["num_inputs"], *config["hidden"],
                                               config["num_outputs"]]))
    return "its fixed layers"


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({"NoneType": "null", "str": "a string", "int": "a whole number",
                        "float": "a number", "list": "a list"}[k.__name__] for k in kinds)
