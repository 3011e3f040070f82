"""The measuring side: one process per system, driven over stdin/stdout by benchmarks.run.

A worker builds its job (a trainer on the shared batches, micro-benchmark
cases, or a time-to-accuracy run), says it is ready, then answers each
``{"cmd": "run", "n": N}`` (N steps, N repetitions of every case, or N more
epochs) until ``{"cmd": "exit"}``, when it reports its peak memory. Keeping
the processes alive lets the driver alternate systems (A B, B A, ...) without
paying start-up again, and gives each system its own peak resident memory.
"""

from __future__ import annotations

import json
import resource
import sys
import time

PREFIX = "@@bench "  # protocol lines; anything else a library prints is ignored


def send(message: dict) -> None:
    sys.stdout.write(PREFIX + json.dumps(message) + "\n")
    sys.stdout.flush()


def memory_mb() -> dict[str, float]:
    """This process's resident memory now and at its peak, MB.

    Read from /proc/self/status (VmRSS, VmHWM): ``ru_maxrss`` would not do, because
    Linux carries the parent's peak into a child across fork and exec.
    """
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f if line.startswith("Vm"))
        return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
                "peak_rss_mb": int(fields["VmHWM"].split()[0]) / 1024}
    except (OSError, KeyError):  # not Linux: the best available
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"rss_mb": peak, "peak_rss_mb": peak}


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class TrainJob:
    """Timed training steps of one system on one task, cycling through the shared batches."""

    def __init__(self, spec: dict):
        import numpy as np

        from .systems import make_trainer
        from .tasks import get_task

        task = get_task(spec["task"])
        with np.load(spec["data"], allow_pickle=False) as data:
            names = [str(n) for n in data["param_names"]]
            params = [(n, data[f"param_{i}"]) for i, n in enumerate(names)]
            xs, ts = data["x"], data["t"]
        self.trainer = make_trainer(spec["system"], task, params)
        self.batches = [self.trainer.prepare(x, t) for x, t in zip(xs, ts)]
        self.count = 0
        self.base_rss_mb = memory_mb()["rss_mb"]  # before any forward pass
        self.initial_loss = self.trainer.eval_loss(self.batches[0])

    def run(self, n: int) -> dict:
        times, losses = [], []
        faults = minor_faults()
        for _ in range(n):
            batch = self.batches[self.count % len(self.batches)]
            self.count += 1
            start = time.perf_counter()
            loss = self.trainer.step(batch)
            times.append((time.perf_counter() - start) * 1e3)
            losses.append(self.trainer.loss_value(loss))
        return {"times_ms": times, "losses": losses, "minflt": minor_faults() - faults}


def make_job(spec: dict):
    if spec["kind"] == "train":
        return TrainJob(spec)
    if spec["kind"] == "micro":
        from .micro import MicroJob
        return MicroJob(spec["system"], spec["quick"])
    if spec["kind"] == "layers":
        from .layers import LayerJob
        return LayerJob(spec.get("layers"))
    if spec["kind"] == "tta":
        from .tta import TTAJob
        return TTAJob(spec)
    raise ValueError(f"worker: unknown job kind {spec['kind']!r}")


def serve(spec: dict) -> int:
    """Run the worker loop for ``spec`` (kind, system, threads, ...); the process's main."""
    from zerodl.memory import keep_freed_memory

    from .systems import set_threads

    keep_freed_memory()  # as the zerodl command does; every system's worker gets the same malloc
    keep = set_threads(spec["system"], spec["threads"])
    try:
        job = make_job(spec)
    except Exception as exc:  # the driver reports it and goes on without this system
        send({"error": f"{type(exc).__name__}: {exc}"})
        raise
    send({"ready": True, "base_rss_mb": getattr(job, "base_rss_mb", memory_mb()["rss_mb"]),
          "initial_loss": getattr(job, "initial_loss", None)})
    for line in sys.stdin:
        message = json.loads(line)
        if message["cmd"] == "exit":
            send(memory_mb())
            break
        try:
            send(job.run(int(message["n"])))
        except Exception as exc:  # reported by the driver, which goes on with the others
            send({"error": f"{type(exc).__name__}: {exc}"})
            raise
    del keep
    return 0
