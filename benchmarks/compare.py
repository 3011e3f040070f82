"""Two checkouts of zerodl side by side: ``python -m benchmarks.compare --base PATH``.

Times this checkout's zerodl ("new") against another one's ("base", e.g. a
``git worktree add /tmp/base HEAD`` made before a change), each in its own
worker process, the two alternating round by round (new base, base new, ...)
with the machine check of ``benchmarks.run`` before each round. It runs the
training steps of ``--tasks`` and, with ``--layers``, the convolution, ReLU
and pooling layers of SimpleConvNet and DeepConvNet forward and backward
(``benchmarks.layers``).

On a shared machine the minimum over all repetitions is the steadiest figure
(another tenant only ever adds time); the median of the round medians is
given beside it, and rounds next to a slow machine check (``report.slow_rounds``)
are named.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, metavar="PATH",
                   help="the other checkout (its src/ is imported by the base worker)")
    p.add_argument("--new", metavar="PATH",
                   help="the checkout measured as new (default: this one; a worktree of a commit "
                        "keeps other uncommitted work out of the comparison)")
    p.add_argument("--tasks", nargs="*", default=["simple_convnet", "deep_convnet"], metavar="TASK")
    p.add_argument("--layers", nargs="*", metavar="LAYER",
                   help="also time the layers (all of benchmarks.layers.LAYERS, or those named)")
    p.add_argument("--rounds", type=int, default=6, help="alternation rounds (default 6)")
    p.add_argument("--steps", type=int, help="timed steps (or layer repetitions) per round")
    p.add_argument("--threads", type=int, default=2, help="BLAS threads for both (default 2)")
    p.add_argument("--torch", action="store_true", help="time PyTorch's training step too")
    return p.parse_args(argv)


def main(argv=None) -> int:
    from .run import set_thread_environment

    args = parse_args(argv)
    set_thread_environment(args.threads)
    from .run import ROOT

    base = Path(args.base).resolve() / "src"
    args.new_src = Path(args.new).resolve() / "src" if args.new else ROOT / "src"
    for src in (base, args.new_src):
        if not (src / "zerodl" / "__init__.py").exists():
            print(f"compare: {src} holds no zerodl package", file=sys.stderr)
            return 2
    print(header(args), flush=True)
    with tempfile.TemporaryDirectory(prefix="zerodl-compare-") as tmp:
        for name in args.tasks:
            print(table(name, compare_task(name, args, base, Path(tmp))), flush=True)
    if args.layers is not None:
        print(table("layers", compare_layers(args, base)), flush=True)
    print(f"load average after: {_load()}")
    return 0


def header(args) -> str:
    from .machine import blas_info, machine_info

    info = machine_info(args.threads)
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in blas_info())
    return (f"machine: {info['cpu']}, {info['cores']} cores; BLAS {blas}; "
            f"{args.threads} threads; load average before: {_load()}\n"
            f"new = {args.new or 'this checkout'}, base = {args.base}; {args.rounds} alternating rounds")


def _load() -> str:
    import os

    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _specs(kind: str, args, base: Path, **extra) -> list[dict]:
    common = {"kind": kind, "system": "zerodl", "threads": args.threads, **extra}
    specs = [{**common, "name": "new", "src": str(args.new_src)},
             {**common, "name": "base", "src": str(base)}]
    if args.torch and kind == "train":
        specs.append({**common, "system": "torch", "name": "torch"})
    return specs


def compare_task(name: str, args, base: Path, tmp: Path) -> dict:
    """Per system: the training step's times of every round, and each round's machine check."""
    import numpy as np

    from . import tasks as T
    from .run import Pool, machine_check

    task = T.get_task(name)
    params = T.initial_params(task)
    xs, ts = T.make_batches(task, count=10)
    data = tmp / f"{name}.npz"
    np.savez(data, x=xs, t=ts, param_names=np.array([n for n, _ in params]),
             **{f"param_{i}": v for i, (_, v) in enumerate(params)})
    with Pool(_specs("train", args, base, task=name, data=str(data))) as pool:
        _fail_loudly(pool)
        for worker in pool.workers:
            pool.ask(worker, {"cmd": "run", "n": 2})
        runs = pool.alternate(args.rounds, {"cmd": "run", "n": args.steps or task.steps},
                              check=machine_check)
        pool.close()
    return _rounds(runs, lambda r: {"step": r["times_ms"]})


def compare_layers(args, base: Path) -> dict:
    from .run import Pool, machine_check

    with Pool(_specs("layers", args, base, layers=args.layers or None)) as pool:
        _fail_loudly(pool)
        runs = pool.alternate(args.rounds, {"cmd": "run", "n": args.steps or 5}, check=machine_check)
        pool.close()
    return _rounds(runs, lambda r: r["cases"])


def _rounds(runs: dict, times_of) -> dict:
    """Per system, each round as (times by case, machine check before, machine check after)."""
    return {system: [(times_of(r), r["machine_check"], r.get("machine_check_after")) for r in rs]
            for system, rs in runs.items()}


def _fail_loudly(pool) -> None:
    if pool.failures:
        raise RuntimeError(f"compare: workers failed: {pool.failures}")


def table(title: str, runs: dict) -> str:
    """Per case: min and median of round medians for each system, the new/base ratios,
    and the rounds (1-based, per system) next to a slow machine check, before or after."""
    from .report import slow_rounds

    slow = slow_rounds({"systems": {s: {"round_checks": [before for _, before, _ in rs],
                                        "round_checks_after": [after for *_, after in rs]}
                                    for s, rs in runs.items()}})
    systems = list(runs)
    cases = list(next(iter(runs.values()))[0][0])
    lines = [f"\n== {title} (ms; min over all repetitions / median of round medians)",
             f"{'case':<22}" + "".join(f"{s:>20}" for s in systems) + "   new/base min  med"]
    for case in cases:
        cells, mins, meds = [], {}, {}
        for s in systems:
            values = [t for times, *_ in runs[s] for t in times[case]]
            mins[s] = min(values)
            meds[s] = statistics.median(statistics.median(times[case]) for times, *_ in runs[s])
            cells.append(f"{mins[s]:>9.3f} / {meds[s]:>8.3f}")
        ratio = f"{mins['new'] / mins['base']:>9.2f} {meds['new'] / meds['base']:>5.2f}"
        lines.append(f"{case:<22}" + "".join(f"{c:>20}" for c in cells) + "   " + ratio)
    for s in systems:
        # each round: the sum over cases of the case's median (for a task, the step's median)
        totals = [sum(statistics.median(ts) for ts in times.values()) for times, *_ in runs[s]]
        lines.append(f"{s} rounds: " + " ".join(f"{m:.2f}" for m in totals)
                     + (f"; slow machine check next to round(s) {[i + 1 for i in slow[s]]}"
                        if slow[s] else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - started:.0f} s)")
    sys.exit(code)
