"""`zerodl descent`: race optimizers down a 2-D landscape; write the paths (JSON) and a figure.

    zerodl descent --function elongated --optimizers sgd,momentum,adagrad,adam \\
                   --start=-7,2 --steps 30 --out runs/descent

is the book's optimizer comparison (ch. 6.1.7, fig. 6-8), with its learning rates.
Where those rates overshoot a steeper function (rosenbrock, himmelblau, beale)
at once, the function's own default rates (``FUNCTION_LRS``) are used instead;
a run that still diverges is reported with a smaller rate to try.
"""

from __future__ import annotations

import math

from .errors import CommandError, check_output_folder
from .options import pair

MAX_STEPS = 100_000  # per optimizer; each step is a forward and backward pass
# Rates of the momentum family and SGD that follow these functions' steep walls
# for 30 steps from their start without diverging (the others' defaults do).
FUNCTION_LRS = {
    "rosenbrock": {"sgd": 0.002, "momentum": 0.001, "nesterov": 0.001},
    "himmelblau": {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01},
    "beale": {"sgd": 0.01, "momentum": 0.005, "nesterov": 0.005},
}


def add_parser(subparsers):
    """``zerodl descent``'s options."""
    from ..landscape import FUNCTIONS
    from ..optim import OPTIMIZERS

    p = subparsers.add_parser(
        "descent",
        help="run optimizers on a 2-D function; write trajectories.json and descent.png",
        description="Minimise a 2-D test function with several optimizers from the same start "
                    "and draw their paths on its contour plot. Default learning rates: "
                    + ", ".join(f"{k}={s.descent_lr:g}" for k, s in OPTIMIZERS.items())
                    + " (the book's for sgd, momentum, adagrad and adam); on "
                    + "; ".join(f"{f}: " + ", ".join(f"{k}={v:g}" for k, v in lrs.items())
                                for f, lrs in FUNCTION_LRS.items()) + ".",
    )
    p.add_argument("--function", default="elongated",
                   help=f"one of: {', '.join(FUNCTIONS)} (default: elongated)")
    p.add_argument("--optimizers", default="sgd,momentum,adagrad,adam",
                   help=f"comma-separated, from: {', '.join(OPTIMIZERS)}")
    p.add_argument("--start", default=None,
                   help="start point x,y; write --start=-7,2 when it begins with a minus "
                        "(default: the function's own start)")
    p.add_argument("--steps", type=int, default=30,
                   help=f"updates per optimizer, 0 to {MAX_STEPS:,} (default 30)")
    p.add_argument("--lr", action="append", default=[], metavar="NAME=VALUE",
                   help="learning rate of one optimizer, e.g. --lr sgd=0.5 (repeatable)")
    p.add_argument("--grad", choices=["autodiff", "numerical"], default="autodiff",
                   help="gradients by backpropagation or by central differences")
    p.add_argument("--layout", choices=["overlay", "grid"], default="overlay",
                   help="all paths on one map, or one panel per optimizer (as in the book)")
    p.add_argument("--out", default="runs/descent", help="output folder (default runs/descent)")
    return p


def run(args) -> int:
    """Race the chosen optimizers; write trajectories.json and descent.png (2 on a bad option)."""
    from .. import landscape

    try:  # every option checked before anything runs or is written
        config = _check(args, landscape)
    except ValueError as e:
        raise CommandError(str(e), 2) from None
    check_output_folder(args.out)
    runs = {name: landscape.minimize(config["function"], config["start"], name, lr=lr,
                                     steps=args.steps, grad=args.grad)
            for name, lr in config["lrs"].items()}
    return _write(config, runs, args, landscape)


def _check(args, landscape) -> dict:
    """Every name and number checked before any work is done."""
    from ..optim import OPTIMIZERS

    if args.function not in landscape.FUNCTIONS:
        raise ValueError(f"unknown function {args.function!r}; "
                         f"valid names: {', '.join(landscape.FUNCTIONS)}")
    if not 0 <= args.steps <= MAX_STEPS:
        raise ValueError(f"--steps {args.steps}: give 0 to {MAX_STEPS:,} updates per optimizer")
    names = [n.strip().lower() for n in args.optimizers.split(",") if n.strip()]
    bad = [n for n in names if n not in OPTIMIZERS]
    if bad or not names:
        raise ValueError(f"unknown optimizer {', '.join(map(repr, bad)) or '(none given)'}; "
                         f"valid names: {', '.join(OPTIMIZERS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"an optimizer is listed twice in {args.optimizers!r}")
    lrs = {n: FUNCTION_LRS.get(args.function, {}).get(n, OPTIMIZERS[n].descent_lr)
           for n in names}
    for item in (part for spec in args.lr for part in spec.split(",") if part):
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in OPTIMIZERS:
            raise ValueError(f"--lr {item!r}: unknown optimizer {name!r}; "
                             f"valid names: {', '.join(OPTIMIZERS)}")
        if name not in lrs:
            raise ValueError(f"--lr {item!r}: {name} is not among --optimizers {args.optimizers}")
        try:
            lrs[name] = float(value)
        except ValueError:
            raise ValueError(f"--lr {item!r}: expected NAME=NUMBER, e.g. sgd=0.95") from None
        if not (math.isfinite(lrs[name]) and lrs[name] > 0):
            raise ValueError(f"--lr {item!r}: a learning rate is a positive number")
    start = landscape.FUNCTIONS[args.function].start
    if args.start is not None:
        start = pair(args.start, "--start")
    return {"function": args.function, "start": start, "lrs": lrs}


def _write(config, runs, args, landscape) -> int:
    """trajectories.json, descent.png and a table of where each optimizer ended."""
    import json
    import re
    from pathlib import Path

    from .. import viz
    from ..io import atomic_write, finite_list

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "function": config["function"],
        "formula": landscape.FUNCTIONS[config["function"]].formula,
        "start": list(config["start"]),
        "steps": args.steps,
        "grad": args.grad,
        "trajectories": {
            name: {"lr": t.lr, "points": finite_list(t.points), "values": finite_list(t.values),
                   "diverged": t.diverged, "stopped_at": t.stopped_at}
            for name, t in runs.items()
        },
    }
    # One point or one list of values per line: readable, and a tenth of the lines.
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]",
                  json.dumps(record, indent=1, ensure_ascii=False, allow_nan=False))
    atomic_write(out / "trajectories.json", lambda f: f.write((text + "\n").encode()))
    viz.plot_trajectories(list(runs.values()), config["function"], layout=args.layout,
                          path=out / "descent.png")

    print(f"{config['function']}: f(x, y) = {record['formula']}, start {config['start']}, "
          f"{args.steps} steps ({args.grad} gradients)")
    print(f"{'optimizer':<10} {'lr':>7}  {'final point':>26}  {'f(final)':>11}")
    for name, t in runs.items():
        x, y = t.final
        note = f"  diverged at step {t.stopped_at}" if t.diverged else ""
        print(f"{name:<10} {t.lr:>7g}  ({x:>11.4g}, {y:>11.4g})  {t.values[-1]:>11.4g}{note}")
    diverged = [(name, t) for name, t in runs.items() if t.diverged]
    if diverged:
        print(f"{len(diverged)} diverged: try a smaller learning rate, e.g. "
              + " ".join(f"--lr {name}={t.lr / 10:g}" for name, t in diverged))
    print(f"wrote {out / 'trajectories.json'} and {out / 'descent.png'}")
    return 0
