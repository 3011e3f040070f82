"""`zerodl train`: train a model on a dataset, with progress, metrics and checkpoints.

    zerodl train --dataset mnist --model simple-convnet --epochs 5 --out runs/cnn
    zerodl train --resume runs/cnn                    # finish an interrupted run
    zerodl train --resume runs/cnn --epochs 10        # or go on to 10 epochs in all
    zerodl train --model simple-convnet --device gpu  # on an NVIDIA GPU (pip install 'zerodl[gpu]')
    mpirun -n 2 zerodl train --model simple-convnet   # data-parallel (pip install 'zerodl[dist]')

The run's folder receives config.json (the resolved settings), checkpoint.npz
(after every epoch), model.npz (the trained parameters with the settings, for
`zerodl evaluate`), metrics.json and learning_curve.png (with matplotlib).

A resumed run with the same epochs ends with exactly the parameters of one
that never stopped. A larger --epochs makes it a longer run: a cosine
schedule is then re-planned over the new total from where it stands.

Under mpirun every process trains on its part of each batch (the batch size
is the whole batch's, so the recipe is the same as alone) and rank 0 writes
the files (zerodl.distributed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ..optim import OPTIMIZERS
from ..runs import (
    DATASETS,
    IMAGE_DATASETS,
    LIMITS,
    MODEL_DEFAULTS,
    MODELS,
    POINTS_DEFAULTS,
    SCHEDULES,
    build_loss,
    build_model,
    build_optimizer,
    build_scheduler,
    check_architecture,
    classifies,
    format_result,
    load_data,
    metrics_dict,
    recipe,
    save_model,
    test_loader_for,
)
from .errors import CommandError, check_output_folder, debugging, report
from .options import number, sizes

SETTINGS = ("dataset", "model", "optimizer", "lr", "batch_size", "weight_decay", "schedule",
            "seed", "hidden", "train_subset")


def add_parser(subparsers):
    """``zerodl train``'s options."""
    p = subparsers.add_parser(
        "train",
        help="train a model (MLP, SimpleConvNet, DeepConvNet) and save metrics and parameters",
        description="Train a model on a dataset, printing the loss and accuracy of every epoch; "
                    "the run's folder (--out) receives metrics.json, model.npz, checkpoint.npz "
                    "and learning_curve.png. Options left out take the model's defaults "
                    "(the book's Adam lr=0.001, batch 100 for the CNNs).",
        epilog=_defaults_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="training data; the test split (or a fresh sample) is used to evaluate "
                        "(default: mnist)")
    p.add_argument("--model", choices=MODELS, default=None, help="network (default: mlp)")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default=None,
                   help="update rule (default: per model)")
    p.add_argument("--lr", type=number(float, above=0), default=None,
                   help="learning rate (default: per optimizer)")
    p.add_argument("--epochs", type=number(int, above=0, high=LIMITS["epochs"]), default=None,
                   help="epochs in total, counting resumed ones; raised on --resume, a cosine "
                        f"schedule is re-planned over the new total (default: per model; at most "
                        f"{LIMITS['epochs']:,})")
    p.add_argument("--batch-size", type=number(int, above=0, high=LIMITS["batch_size"]), default=None,
                   help=f"mini-batch size (default: per model; at most {LIMITS['batch_size']:,})")
    p.add_argument("--weight-decay", type=number(float, 0), default=None,
                   help="L2 penalty, decoupled for adamw (default: per model; 0.01 for adamw)")
    p.add_argument("--schedule", choices=SCHEDULES, default=None,
                   help="learning rate over the epochs: constant, or cosine annealing to 0 "
                        "(default: per model)")
    p.add_argument("--seed", type=number(int, 0, LIMITS["seed"]), default=None,
                   help="seed for initial weights, shuffling and generated data, 0 to 2**32-1 "
                        "(default: 0)")
    p.add_argument("--hidden", type=sizes(LIMITS["hidden_layers"], LIMITS["hidden_width"]),
                   default=None,
                   help=f"hidden layer sizes of the MLP, e.g. 100,100 (at most "
                        f"{LIMITS['hidden_layers']} layers of {LIMITS['hidden_width']:,} units "
                        f"and {LIMITS['parameters']:,} parameters in all)")
    p.add_argument("--train-subset", type=number(int, above=0, high=LIMITS["train_subset"]), default=None,
                   metavar="N", help="train on the first N training samples only (quick runs)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for the outputs (default: runs/MODEL-DATASET)")
    p.add_argument("--resume", default=None, metavar="DIR",
                   help="continue the run saved in DIR (its checkpoint and settings)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                   help="where to train: cpu (NumPy) or gpu (CuPy, needs an NVIDIA GPU and "
                        "`pip install 'zerodl[gpu]'`; default: cpu)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(parser=p)
    return p


def run(args) -> int:
    """Train (or resume) the run the options describe; the exit status (130 when interrupted)."""
    parser = args.parser
    config, out = _resolve(args, parser)  # every argument error happens here, before any work

    from .. import distributed

    comm = distributed.init()  # a world of one unless started by mpirun
    if comm.size == 1:
        return _train(args, config, out, comm)
    # An error in one rank must end them all: the others may be waiting for it in an Allreduce.
    try:
        return _train(args, config, out, comm)
    except Exception as e:
        comm.abort(report(f"train (rank {comm.rank})", e, debugging(getattr(args, "debug", False))))


def _train(args, config, out: Path, comm) -> int:
    """The run itself; with several ranks (mpirun), data-parallel, rank 0 writing and printing."""
    from .. import train as zt

    lead = comm.rank == 0
    if args.device == "gpu":
        from ..backend import gpu_available

        if not gpu_available:
            raise CommandError("--device gpu needs CuPy and an NVIDIA GPU; install it with "
                               "`pip install 'zerodl[gpu]'` (or train with --device cpu)", 2)
    if config["batch_size"] < comm.size:
        raise CommandError(f"--batch-size {config['batch_size']} cannot be split among "
                           f"{comm.size} processes; use at least {comm.size}", 2)
    data = load_data(config)
    if config["train_subset"] and config["train_subset"] > len(data["y_train"]):
        raise CommandError(f"--train-subset {config['train_subset']} is more than the "
                           f"{len(data['y_train'])} training samples of {config['dataset']}", 2)
    config["num_inputs"], config["num_outputs"] = data["num_inputs"], data["num_outputs"]
    config["train_size"], config["test_size"] = len(data["y_train"]), len(data["y_test"])

    from .. import data as zdata
    from .. import distributed
    from ..random import manual_seed

    manual_seed(config["seed"])
    model = build_model(config).to(args.device)  # before the optimizer: its state follows
    optimizer = build_optimizer(config, model)
    if comm.size > 1:
        distributed.broadcast_parameters(model, comm)
        optimizer = distributed.DistributedOptimizer(optimizer, comm)
        manual_seed(config["seed"] + comm.rank)  # each rank its own dropout masks
    scheduler = build_scheduler(config, optimizer)
    loss_fn = build_loss(config)
    train_loader = zdata.DataLoader((data["x_train"], data["y_train"]), config["batch_size"],
                                    shuffle=True, seed=config["seed"], device=args.device,
                                    shard=comm)
    test_loader = test_loader_for(config, data, device=args.device, shard=comm)

    checkpoint = out / "checkpoint.npz"
    resume = checkpoint if args.resume else None
    done = 0
    if resume:
        from .resume import check_checkpoint

        done = check_checkpoint(out, checkpoint, model, optimizer, scheduler, train_loader)
        if config["epochs"] < done:
            raise CommandError(f"--epochs {config['epochs']} is fewer than the {done} epochs "
                               f"already done in {out}: give --epochs {done} or more, or leave "
                               "it out", 2)
    if lead:
        out.mkdir(parents=True, exist_ok=True)
        _write_json(out / "config.json", config)
        _print_header(config, out, done if resume else None, args.device, comm.size)
    bars = "bar" if lead and not args.no_progress else False  # the lines are printed below
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned
            history = zt.fit(model, loss_fn, optimizer, train_loader, test_loader,
                             config["epochs"], checkpoint=checkpoint if lead else None,
                             resume=resume, scheduler=scheduler, progress=bars,
                             metric="accuracy" if classifies(config) else None,
                             on_epoch_end=_epoch_lines(config["epochs"]) if lead else None, comm=comm)
    except zt.TrainingInterrupted as e:
        if lead:
            print(f"\ninterrupted: the state after epoch {e.epoch} is saved in {e.checkpoint}\n"
                  f"resume with: zerodl train --resume {out}", file=sys.stderr)
        return 130
    except FloatingPointError as e:  # fit's DivergedError
        if not lead:  # every rank saw the same numbers: rank 0 writes metrics.json and says so
            return 1
        raise _diverged(e, config, out) from e
    if not lead:
        return 0

    save_model(out / "model.npz", model, config)
    metrics = metrics_dict(history, config)
    _write_json(out / "metrics.json", metrics)
    written = ["metrics.json", "model.npz", "checkpoint.npz", "config.json"]
    if _plot(history, out / "learning_curve.png", config):
        written.append("learning_curve.png")
    print(format_result(metrics["test_loss"], metrics["test_accuracy"], config))
    print(f"outputs in {out}/: {', '.join(written)}")
    print(f"evaluate again with: zerodl evaluate {out}")
    return 0


def _diverged(error: FloatingPointError, config, out: Path) -> CommandError:
    """The error saying where the run diverged and how to avoid it, once metrics.json of
    the epochs before is written (strict JSON: inf and NaN as null)."""
    what = str(error).removeprefix("fit: ")
    history = getattr(error, "history", None)
    if history is not None and len(history):
        _write_json(out / "metrics.json", metrics_dict(
            history, config, note=f"training diverged after these epochs: {what}"))
    lr = config["lr"]
    saved = ("this run wrote no model.npz (the one in the folder is an earlier run's)"
             if (out / "model.npz").exists() else "no model.npz was written")
    return CommandError(f"training diverged: {what}. {saved[0].upper()}{saved[1:]}. Fix: train "
                        f"again with a smaller learning rate (--lr {lr:g} now; try --lr "
                        f"{lr / 10:g} or less)")


# ------------------------------------------------------------ arguments
def _defaults_text() -> str:
    lines = ["defaults:"]
    for name, d in [*MODEL_DEFAULTS.items(), ("mlp on spiral, xor, circles, sine", POINTS_DEFAULTS)]:
        text = f"{d['optimizer']} lr {d['lr']:g}, batch {d['batch_size']}, {d['epochs']} epochs"
        if d["weight_decay"]:
            text += f", weight decay {d['weight_decay']:g}"
        if d["schedule"] != "constant":
            text += f", {d['schedule']} schedule"
        if "hidden" in d:
            text += f", hidden {','.join(map(str, d['hidden']))}"
        lines.append(f"  {name}: {text}")
    lines.append("  another --optimizer: lr " + ", ".join(f"{k} {s.lr:g}" for k, s in OPTIMIZERS.items()))
    return "\n".join(lines)


def _resolve(args, parser) -> tuple[dict, Path]:
    """The run's full settings (saved ones with --resume), checked against each other and
    against runs.LIMITS; the output folder checked writable. Nothing is loaded yet."""
    given = {k: getattr(args, k) for k in SETTINGS if getattr(args, k) is not None}
    if args.resume:
        out = Path(args.resume)
        if not (out / "checkpoint.npz").exists() or not (out / "config.json").exists():
            parser.error(f"--resume {out}: no checkpoint.npz and config.json there "
                         "(the folder a `zerodl train --out DIR` run wrote)")
        if args.out and Path(args.out) != out:
            parser.error("--resume DIR continues in DIR; leave out --out")
        from .resume import read_config

        config = read_config(out)
        clash = {k: v for k, v in given.items() if config.get(k) != v}
        if clash:
            names = ", ".join("--" + k.replace("_", "-") for k in clash)
            parser.error(f"--resume uses the saved settings; {names} differ from them "
                         "(only --epochs, --device and --no-progress may change)")
        if args.epochs is not None:
            config["epochs"] = args.epochs
        return config, check_output_folder(out, "--resume")

    dataset = given.get("dataset", "mnist")
    model = given.get("model", "mlp")
    if model != "mlp" and dataset not in IMAGE_DATASETS:
        parser.error(f"--model {model} takes 28x28 images (mnist, fashion-mnist); {dataset} "
                     f"holds {'1-D inputs' if dataset == 'sine' else '2-D points'}: "
                     "use --model mlp")
    if "hidden" in given and model != "mlp":
        parser.error(f"--hidden sets the MLP's layers; {model} has a fixed architecture")
    defaults = recipe(model, dataset, given.get("optimizer"))
    config = {
        "dataset": dataset,
        "model": model,
        "optimizer": defaults["optimizer"],
        "lr": given.get("lr", defaults["lr"]),
        "epochs": args.epochs if args.epochs is not None else defaults["epochs"],
        "batch_size": given.get("batch_size", defaults["batch_size"]),
        "weight_decay": given.get("weight_decay", defaults["weight_decay"]),
        "schedule": given.get("schedule", defaults["schedule"]),
        "seed": given.get("seed", 0),
        "hidden": given.get("hidden", defaults.get("hidden")),
        "train_subset": given.get("train_subset"),
    }
    if config["train_subset"] and dataset not in IMAGE_DATASETS:
        parser.error("--train-subset picks images of mnist or fashion-mnist; "
                     f"{dataset} is generated in full")
    problem = check_architecture(config)
    if problem:
        parser.error(f"--hidden {','.join(map(str, config['hidden']))} {problem}")
    out = Path(args.out) if args.out else Path("runs") / f"{model}-{dataset}"
    return config, check_output_folder(out)


def _epoch_lines(epochs: int):
    """fit's ``on_epoch_end`` that prints fit's own line for each epoch of ``epochs``
    (also with --no-progress, where fit itself shows nothing)."""
    from ..train.progress import epoch_line, print_line

    return lambda epoch, history: print_line(epoch_line(history, len(history) - 1, epochs))


def _print_header(config, out, done: int | None, device: str = "cpu", processes: int = 1) -> None:
    what = (f"{config['model']} on {config['dataset']} ({config['train_size']:,} training "
            f"samples; validation on the {config['test_size']:,} test samples)")
    how = (f"{config['optimizer']} lr={config['lr']:g}, batch {config['batch_size']}, "
           f"{config['epochs']} epochs")
    if config["weight_decay"]:
        how += f", weight decay {config['weight_decay']:g}"
    if config["schedule"] != "constant":
        how += f", {config['schedule']} schedule"
    if device != "cpu":
        how += f", on the {device.upper()}"
    if processes > 1:
        how += f", data-parallel on {processes} processes"
    if done is not None:
        print(f"resuming {what} after epoch {done}: {how}", flush=True)
    else:
        print(f"training {what}: {how}, seed {config['seed']}; outputs in {out}/", flush=True)


def _plot(history, path: Path, config) -> bool:
    """learning_curve.png when matplotlib is installed; False (saying so) when it is not."""
    from .. import viz

    try:
        viz.plot_history(history, title=f"{config['model']} on {config['dataset']}", path=path)
    except ImportError as e:
        print(f"skipped {path.name}: {e}; then train again to get it", flush=True)
        return False
    return True


def _write_json(path: Path, obj) -> None:
    """``obj`` as strict JSON (no NaN or Infinity), written atomically."""
    from ..io import atomic_write

    text = json.dumps(obj, indent=2, allow_nan=False) + "\n"
    atomic_write(path, lambda f: f.write(text.encode()), "zerodl train")
