"""Run zerodl's benchmark suite:
``python -m benchmarks.run [--quick] [--tasks ...] [--tta] [--out F.json] [--markdown F.md]``.

Each system (zerodl, PyTorch when installed, the book-style reference) runs in
its own worker process (``--worker``, see worker.py), so peak memory is per
system; the driver alternates the systems round by round (A B C, C B A, ...)
so that drift in the machine's speed hits all of them alike. Thread counts are
fixed through environment variables before NumPy or PyTorch is imported, then
again through threadpoolctl and ``torch.set_num_threads`` in each worker.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import TASK_NAMES

# Pause before each system's round: the previous worker's BLAS/OpenMP threads spin for
# a while after their last task, and must not take a core from the next system.
SETTLE_SECONDS = 0.3

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
# OpenBLAS's idle workers spin 2^N cycles after each product before they sleep: 2^28
# (~0.1 s) by default, which keeps a core busy through zerodl's threaded convolution
# kernels; 2^20 (~0.4 ms) frees it and costs small products nothing (BENCHMARKS.md).
# Only zerodl and the book-style reference use OpenBLAS; a value set by the caller wins.
OPENBLAS_THREAD_TIMEOUT = "20"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a few steps of each task (under a minute)")
    p.add_argument("--tasks", nargs="+", metavar="TASK",
                   help=f"tasks to run (default: all): {' '.join(TASK_NAMES)}")
    p.add_argument("--systems", nargs="+", metavar="SYSTEM",
                   help="systems to run (default: zerodl torch reference)")
    p.add_argument("--threads", type=int, default=2, help="threads for every system (default 2)")
    p.add_argument("--rounds", type=int, help="alternation rounds (default 5, quick 2)")
    p.add_argument("--steps", type=int, help="timed steps per round (default: per task)")
    p.add_argument("--warmup", type=_at_least_one, help="untimed steps first (default 2, quick 1)")
    p.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    p.add_argument("--tta", action="store_true",
                   help="also time training to 98.8%% (SimpleConvNet) / 99.0%% (DeepConvNet) test "
                        "accuracy, zerodl and PyTorch, for those of --tasks (minutes)")
    p.add_argument("--tta-epochs", type=int, default=10, help="epoch cap of --tta (default 10)")
    p.add_argument("--tta-subset", type=int, metavar="N",
                   help="--tta on the first N training images only (a smoke test of the pipeline)")
    p.add_argument("--out", metavar="FILE.json", help="write the results as JSON")
    p.add_argument("--markdown", metavar="FILE.md",
                   help="replace the results section of this markdown file (e.g. BENCHMARKS.md)")
    p.add_argument("--worker", metavar="JSON", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def set_thread_environment(threads: int) -> None:
    """Fix BLAS/OpenMP thread counts; effective only before NumPy/PyTorch are imported."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", OPENBLAS_THREAD_TIMEOUT)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        set_thread_environment(spec["threads"])
        from .worker import serve
        return serve(spec)
    set_thread_environment(args.threads)
    return drive(args)


# ---------------------------------------------------------------- talking to workers
class WorkerError(RuntimeError):
    pass


class Worker:
    """A worker process (python -m benchmarks.run --worker SPEC) and its request/answer pipe."""

    def __init__(self, spec: dict):
        from .worker import PREFIX

        self.name, self.prefix = spec.get("name", spec["system"]), PREFIX
        env = dict(os.environ)
        src = spec.get("src", str(ROOT / "src"))  # another checkout's zerodl (benchmarks.compare)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.run", "--worker", json.dumps(spec)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        )

    def receive(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith(self.prefix):
                message = json.loads(line[len(self.prefix):])
                if "error" in message:
                    raise WorkerError(message["error"])
                return message
        raise WorkerError(f"the {self.name} worker exited (rc {self.proc.wait()}) without answering")

    def request(self, message: dict) -> dict:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        return self.receive()

    def close(self) -> dict:
        try:
            return self.request({"cmd": "exit"})
        finally:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Pool:
    """Workers for several systems; a worker that fails is dropped and its error kept."""

    def __init__(self, specs: list[dict]):
        self.failures: dict[str, str] = {}
        started = {spec.get("name", spec["system"]): Worker(spec) for spec in specs}  # imports overlap
        self.workers: dict[str, Worker] = {}
        self.hello: dict[str, dict] = {}
        for name, worker in started.items():
            try:
                self.hello[name] = worker.receive()
                self.workers[name] = worker
            except WorkerError as exc:
                self._fail(name, worker, exc)

    def _fail(self, name: str, worker: Worker, exc: Exception) -> None:
        self.failures[name] = str(exc)
        self.workers.pop(name, None)
        worker.kill()

    def ask(self, name: str, message: dict) -> dict | None:
        worker = self.workers[name]
        try:
            return worker.request(message)
        except WorkerError as exc:
            self._fail(name, worker, exc)
            return None

    def alternate(self, rounds: int, message: dict, check=None) -> dict[str, list[dict]]:
        """Send ``message`` to every worker ``rounds`` times, reversing the order each round.

        ``check()``, when given, runs before the settling pause that precedes each
        request (its own BLAS threads spin for a while after it, like a worker's), and
        again right after the answer; the results are kept in the answer under
        "machine_check" and "machine_check_after".
        """
        answers: dict[str, list[dict]] = {name: [] for name in self.workers}
        for r in range(rounds):
            names = list(self.workers)
            for name in names if r % 2 == 0 else reversed(names):
                checked = check() if check is not None else None
                time.sleep(SETTLE_SECONDS)
                answer = self.ask(name, message)
                if answer is not None:
                    if checked is not None:
                        answer["machine_check"] = checked
                        # a slow spell that starts during the round shows here
                        answer["machine_check_after"] = check()
                    answers[name].append(answer)
        return {name: a for name, a in answers.items() if name in self.workers}

    def close(self) -> dict[str, dict]:
        """Stop every worker; their final reports (peak memory) by system."""
        closing = {}
        for name, worker in list(self.workers.items()):
            try:
                closing[name] = worker.close()
            except WorkerError as exc:
                self._fail(name, worker, exc)
        return closing

    def kill(self) -> None:
        for worker in self.workers.values():
            worker.kill()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:  # whatever happened, no worker outlives the pool
        self.kill()


# ---------------------------------------------------------------- the benchmarks
_check_arrays: dict = {}


def machine_check() -> dict[str, float]:
    """The machine's speed right now: the same small NumPy work, timed in the driver
    0.3 s before each system's round (medians of 5, ms). On a shared machine a slow spell
    slows this too, so each round's timings can be read against it: a 512×512
    float32 matrix product (compute) and a 16 MB copy (memory bandwidth)."""
    import numpy as np

    if not _check_arrays:
        rng = np.random.default_rng(0)
        _check_arrays.update(a=rng.random((512, 512), dtype=np.float32),
                             product=np.empty((512, 512), np.float32),
                             source=rng.random(4 << 20, dtype=np.float32),
                             copy=np.empty(4 << 20, np.float32))
    c = _check_arrays

    def median_ms(work) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            work()
            times.append((time.perf_counter() - start) * 1e3)
        return statistics.median(times)

    return {"matmul_ms": median_ms(lambda: np.matmul(c["a"], c["a"], out=c["product"])),
            "copy_ms": median_ms(lambda: np.copyto(c["copy"], c["source"]))}


def bench_task(task, systems: list[str], cfg: dict, tmp: Path) -> dict:
    """Time ``task``'s training step on every system; medians, memory, faults, first loss."""
    import numpy as np

    from . import tasks as T
    from .report import summarize

    params = T.initial_params(task)
    xs, ts = T.make_batches(task, count=cfg["batches"])
    data = tmp / f"{task.name}.npz"
    np.savez(data, x=xs, t=ts, param_names=np.array([n for n, _ in params]),
             **{f"param_{i}": v for i, (_, v) in enumerate(params)})
    specs = [{"kind": "train", "system": s, "task": task.name, "data": str(data),
              "threads": cfg["threads"]} for s in systems]
    with Pool(specs) as pool:
        result: dict = {"description": task.describe(), "systems": {}, "failures": pool.failures}
        warm = {name: pool.ask(name, {"cmd": "run", "n": cfg["warmup"]}) for name in list(pool.workers)}
        steps = cfg["steps"] or (task.quick_steps if cfg["quick"] else task.steps)
        runs = pool.alternate(cfg["rounds"], {"cmd": "run", "n": steps}, check=machine_check)
        closing = pool.close()
        for name in closing:
            result["systems"][name] = summarize(runs[name], warm[name], pool.hello[name],
                                                closing[name])
    if task.model == "mlp":
        flops = T.matmul_flops(task)
        result["matmul_gflop_per_step"] = flops / 1e9
        for entry in result["systems"].values():
            entry["gflops"] = flops / (entry["median_ms"] * 1e-3) / 1e9
    return result


def bench_micro(systems: list[str], cfg: dict) -> dict:
    """Micro-benchmark cases per system, alternated; plus this machine's float32 matmul peak."""
    from .report import summarize_cases

    specs = [{"kind": "micro", "system": s, "threads": cfg["threads"], "quick": cfg["quick"]}
             for s in [*systems, "peak"]]
    with Pool(specs) as pool:
        runs = pool.alternate(cfg["micro_rounds"], {"cmd": "run", "n": cfg["micro_reps"]})
        pool.close()
    peak = summarize_cases(runs.pop("peak", []), best="max")
    errors = {name: r[0]["errors"] for name, r in runs.items() if r and r[0]["errors"]}
    return {"cases": {name: summarize_cases(r) for name, r in runs.items()},
            "matmul_peak": peak, "failures": pool.failures, "errors": errors}


def bench_tta(systems: list[str], cfg: dict, max_epochs: int, subset: int | None = None,
              task_names=None) -> dict:
    """Training seconds to the target test accuracy, the systems alternating epoch by epoch."""
    from .tta import TARGETS

    out: dict = {}
    trained = [s for s in systems if s != "reference"]  # the reference is not trained to accuracy
    if not trained:
        print("time to accuracy: no system to train (the book-style reference is not)", flush=True)
        return out
    for task_name, target in TARGETS.items():
        if task_names is not None and task_name not in task_names:
            continue
        print(f"time to {target:.1%}: {task_name} on {', '.join(trained)} ...", flush=True)
        specs = [{"kind": "tta", "system": system, "task": task_name, "target": target,
                  "threads": cfg["threads"], "subset": subset}
                 for system in trained]
        with Pool(specs) as pool:
            answers = pool.alternate(max_epochs, {"cmd": "run", "n": 1})
            pool.close()
        out[task_name] = {"target": target, "max_epochs": max_epochs, "subset": subset,
                          "systems": {s: answers[s][-1] if answers.get(s) else
                                      {"error": pool.failures.get(s)} for s in trained}}
    return out


def config(args) -> dict:
    quick = args.quick
    return {
        "quick": quick, "threads": args.threads, "steps": args.steps,
        "rounds": args.rounds or (2 if quick else 5),
        "warmup": args.warmup if args.warmup is not None else (1 if quick else 2),
        "batches": 4 if quick else 10,
        "micro_rounds": 1 if quick else 3, "micro_reps": 1 if quick else 5,
    }


def drive(args) -> int:
    from . import report
    from .machine import machine_info
    from .systems import SYSTEMS, unavailable_reason
    from .tasks import TASKS, get_task

    started = time.perf_counter()
    cfg = config(args)
    tasks = [get_task(name) for name in (args.tasks or TASKS)]
    systems, skipped = [], {}
    for name in args.systems or SYSTEMS:
        reason = unavailable_reason(name)
        if reason:
            skipped[name] = reason
        else:
            systems.append(name)
    results: dict = {"machine": machine_info(args.threads), "config": cfg,
                     "command": " ".join(["python -m benchmarks.run", *sys.argv[1:]]),
                     "skipped": skipped, "tasks": {}}
    print(report.header(results), flush=True)
    with tempfile.TemporaryDirectory(prefix="zerodl-bench-") as tmp:
        for task in tasks:
            print(f"task {task.name}: {task.describe()} ...", end=" ", flush=True)
            t0 = time.perf_counter()
            try:
                results["tasks"][task.name] = bench_task(task, systems, cfg, Path(tmp))
            except Exception as exc:  # e.g. a model zerodl cannot build: go on with the rest
                results["tasks"][task.name] = {"description": task.describe(), "systems": {},
                                               "failures": {"all": f"{type(exc).__name__}: {exc}"}}
            print(f"{time.perf_counter() - t0:.0f} s", flush=True)
    if not args.no_micro:
        print("micro-benchmarks ...", end=" ", flush=True)
        t0 = time.perf_counter()
        results["micro"] = bench_micro(systems, cfg)
        print(f"{time.perf_counter() - t0:.0f} s", flush=True)
    if args.tta:
        results["tta"] = bench_tta(systems, cfg, args.tta_epochs, args.tta_subset,
                                   [task.name for task in tasks])
    results["seconds"] = time.perf_counter() - started
    if args.out:  # first: a long run keeps its results even if printing them fails
        report.write_json(results, args.out)
    print(report.text(results))
    if args.out:
        print(f"results written to {args.out}")
    if args.markdown:
        report.update_markdown(args.markdown, results)
        print(f"tables written into {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
