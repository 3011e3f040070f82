"""`zerodl evaluate DIR`: reload a trained model and measure it on the test set again."""

from __future__ import annotations

from pathlib import Path


def add_parser(subparsers):
    """``zerodl evaluate``'s options."""
    p = subparsers.add_parser(
        "evaluate",
        help="reload a run's model.npz and print its test accuracy",
        description="Rebuild the model saved by `zerodl train --out DIR` from DIR/model.npz "
                    "and evaluate it on the test set of the dataset it was trained on; the "
                    "accuracy printed is the one in DIR/metrics.json.",
    )
    p.add_argument("run_dir", metavar="DIR", help="the folder a `zerodl train` run wrote")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(parser=p)
    return p


def run(args) -> int:
    """Rebuild DIR/model.npz and print its test loss and accuracy.

    A file that cannot be read, or whose saved settings are unknown, out of
    bounds or do not fit its parameters, ends the command with one message
    (runs.load_model's errors, reported by cli.main) before any data is loaded.
    """
    path = Path(args.run_dir) / "model.npz"
    if not path.exists():
        args.parser.error(f"{path} not found: DIR must be the --out folder of `zerodl train`")

    from .. import distributed
    from .. import train as zt
    from ..runs import build_loss, classifies, format_result, load_data, load_model, test_loader_for

    comm = distributed.init()  # under mpirun each process evaluates its part of the test set
    model, config = load_model(path)
    data = load_data(config, train=False)
    loss, accuracy = zt.evaluate(model, test_loader_for(config, data, shard=comm),
                                 build_loss(config), metric="accuracy" if classifies(config) else None,
                                 progress=comm.rank == 0 and not args.no_progress, desc="test set",
                                 comm=comm)
    if comm.rank == 0:
        print(format_result(loss, accuracy, config))
    return 0
