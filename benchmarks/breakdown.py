"""Where a zerodl training step spends its time: ``python -m benchmarks.breakdown [TASK ...]``.

Every Function's ``forward`` and backward rule is wrapped in an exclusive
timer (time inside nested operations is charged to them, not to the caller),
and so are the optimizer's ``step`` and ``zero_grad``. What remains of the
step is the engine and module machinery: ``Function.__call__``, graph
bookkeeping, the backward traversal, Module dispatch. The operation bodies are
almost entirely NumPy calls, so the split reads as NumPy time vs engine
overhead. ``--cprofile`` adds the hottest functions by own time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict

from . import TASK_NAMES

TIMER_NOTE = "each timed call adds about 0.3 µs of timer overhead, counted as engine time"


class ExclusiveTimer:
    """Wrap callables so each one's own time (minus nested wrapped calls) is summed by key.

    A wrapper made with ``context="in backward"`` labels the operations called inside
    it: ``MatMul.forward (in backward)`` is a matrix product computing a gradient.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list] = []  # [start, time in nested wrapped calls, context]
        self._restore: list[tuple[type, str, object]] = []

    def wrap(self, owner: type, attribute: str, key: str, context: str | None = None) -> None:
        original = owner.__dict__[attribute]
        stack, seconds, calls, clock = self._stack, self.seconds, self.calls, time.perf_counter

        def timed(*args, **kwargs):
            outer = stack[-1][2] if stack else None
            label = f"{key} ({outer})" if outer and not context else key
            frame = [clock(), 0.0, context or outer]
            stack.append(frame)
            try:
                return original(*args, **kwargs)
            finally:
                stack.pop()
                elapsed = clock() - frame[0]
                seconds[label] += elapsed - frame[1]
                calls[label] += 1
                if stack:
                    stack[-1][1] += elapsed

        setattr(owner, attribute, timed)
        self._restore.append((owner, attribute, original))

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def unwrap(self) -> None:
        for owner, attribute, original in reversed(self._restore):
            setattr(owner, attribute, original)
        self._restore.clear()


def _function_classes():
    import zerodl.functional  # noqa: F401  (registers every operation)
    from zerodl import Function

    seen, todo = [], list(Function.__subclasses__())
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def instrument(trainer) -> ExclusiveTimer:
    """Wrap every operation's forward/backward and the trainer's optimizer."""
    timer = ExclusiveTimer()
    for cls in _function_classes():
        if "forward" in cls.__dict__:
            timer.wrap(cls, "forward", f"{cls.__name__}.forward")
        if "backward" in cls.__dict__:
            timer.wrap(cls, "backward", f"{cls.__name__}.backward", "in backward")
    opt_cls = type(trainer.optimizer)
    for attribute in ("step", "zero_grad"):
        owner = next(c for c in opt_cls.__mro__ if attribute in c.__dict__)
        timer.wrap(owner, attribute, f"optimizer.{attribute}", "in optimizer")
    return timer


def breakdown(task_name: str, steps: int = 20, warmup: int = 3) -> dict:
    """Per-step milliseconds: total, each operation's forward/backward, optimizer, engine rest."""
    from .systems import make_trainer
    from .tasks import get_task, initial_params, make_batches

    task = get_task(task_name)
    trainer = make_trainer("zerodl", task, initial_params(task))
    xs, ts = make_batches(task, count=min(steps, 10))
    batches = [trainer.prepare(x, t) for x, t in zip(xs, ts)]

    def run(n: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            trainer.step(batches[i % len(batches)])
        return (time.perf_counter() - start) * 1e3 / n

    run(warmup)
    plain_ms = run(steps)
    timer = instrument(trainer)
    try:
        run(1)
        timer.reset()
        total_ms = run(steps)
    finally:
        timer.unwrap()
    ops = {k: v * 1e3 / steps for k, v in timer.seconds.items()}
    calls = {k: c / steps for k, c in timer.calls.items()}
    optimizer_ms = sum(v for k, v in ops.items() if "optimizer" in k)
    body_ms = sum(v for k, v in ops.items() if "optimizer" not in k)
    return {"task": task_name, "plain_ms": plain_ms, "instrumented_ms": total_ms,
            "op_bodies_ms": body_ms, "optimizer_ms": optimizer_ms,
            "engine_ms": total_ms - body_ms - optimizer_ms, "ops_ms": ops, "calls": calls}


def format_breakdown(b: dict, top: int = 12) -> str:
    total = b["instrumented_ms"]
    lines = [
        f"{b['task']}: {b['plain_ms']:.2f} ms/step ({total:.2f} ms instrumented)",
        f"  operation bodies (NumPy) {b['op_bodies_ms']:.2f} ms ({b['op_bodies_ms'] / total:.0%}), "
        f"optimizer {b['optimizer_ms']:.2f} ms ({b['optimizer_ms'] / total:.0%}), "
        f"engine and modules {b['engine_ms']:.2f} ms ({b['engine_ms'] / total:.0%})",
    ]
    for key, ms in sorted(b["ops_ms"].items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {key:<42} {ms:8.3f} ms {ms / total:5.1%}  {b['calls'][key]:.0f} calls")
    return "\n".join(lines)


def cprofile_top(task_name: str, steps: int = 20, top: int = 15) -> str:
    """The hottest functions by own time over ``steps`` training steps (cProfile)."""
    import cProfile
    import io
    import pstats

    from .systems import make_trainer
    from .tasks import get_task, initial_params, make_batches

    task = get_task(task_name)
    trainer = make_trainer("zerodl", task, initial_params(task))
    xs, ts = make_batches(task, count=min(steps, 10))
    batches = [trainer.prepare(x, t) for x, t in zip(xs, ts)]
    trainer.step(batches[0])
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(steps):
        trainer.step(batches[i % len(batches)])
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None) -> int:
    from .run import set_thread_environment

    p = argparse.ArgumentParser(prog="python -m benchmarks.breakdown", description=__doc__)
    p.add_argument("tasks", nargs="*",
                   help=f"tasks (default: all): {' '.join(TASK_NAMES)}")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--cprofile", action="store_true", help="also print cProfile's top functions")
    args = p.parse_args(argv)
    set_thread_environment(args.threads)  # before NumPy is imported (by .tasks)
    from zerodl.memory import keep_freed_memory

    from .systems import set_threads

    keep_freed_memory()  # as the suite's workers do: no page faults per step to time
    from .tasks import TASKS

    keep = set_threads("zerodl", args.threads)
    for name in args.tasks or TASKS:
        print(format_breakdown(breakdown(name, args.steps), args.top), flush=True)
        if args.cprofile:
            print(cprofile_top(name, args.steps, args.top))
    print(f"({TIMER_NOTE})")
    del keep
    return 0


if __name__ == "__main__":
    sys.exit(main())
