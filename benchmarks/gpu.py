"""Training-step time on the GPU (CuPy) against the CPU (NumPy): ``python -m benchmarks.gpu``.

The suite's ``simple_convnet`` and ``mlp_big`` tasks (benchmarks/tasks.py: the
same models, optimizers and batch sizes) are timed on each device with
zerodl's trainer, from the same initial weights and the same random batch. A
step is forward, cross-entropy, backward and the optimizer's update; the
figure is the median over ``--steps`` steps after ``--warmup`` steps, with the
CPU's BLAS at ``--threads`` threads. On the GPU each timed step ends with a
device synchronisation, so it is the full time of the step, not just the time
to queue its kernels; "pipelined" is the mean time per step of the same steps
queued back to back with one synchronisation at the end. (Each step still
reads two values back: cross-entropy checks that the labels are classes.)
``--epoch`` also times one ``fit`` epoch of SimpleConvNet on the 60,000 MNIST
images on the GPU, with the batches cut on the CPU and copied per step or kept
on the GPU (``DataLoader(device="gpu")``), after an untimed warm-up epoch on
1,000 images that compiles the GPU kernels.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

TASK_NAMES = ("simple_convnet", "mlp_big")


def time_task(task_name: str, device: str, steps: int, warmup: int) -> dict:
    """Median seconds per synchronised step (and, on the GPU, per pipelined step)."""
    import numpy as np

    from zerodl.backend import to_device

    from .systems.zerodl_system import ZerodlTrainer
    from .tasks import get_task, initial_params

    task = get_task(task_name)
    trainer = ZerodlTrainer(task, initial_params(task))
    trainer.model.to(device)  # in place: the optimizer's parameters follow
    rng = np.random.default_rng(0)
    shape = (task.batch_size, 784) if task.flat_input else (task.batch_size, 1, 28, 28)
    x, t = rng.random(shape, dtype=np.float32), rng.integers(0, 10, task.batch_size)
    batch = trainer.prepare(to_device(x, device), to_device(t, device))
    sync = lambda: None  # noqa: E731
    if device == "gpu":
        import cupy

        sync = cupy.cuda.Device().synchronize

    times = []
    for _ in range(warmup + steps):
        start = time.perf_counter()
        trainer.step(batch)
        sync()
        times.append(time.perf_counter() - start)
    result = {"median_s": statistics.median(times[warmup:]), "min_s": min(times[warmup:])}
    if device == "gpu":
        start = time.perf_counter()
        for _ in range(steps):
            trainer.step(batch)
        sync()
        result["pipelined_s"] = (time.perf_counter() - start) / steps
    return result


def time_epoch(device_loader: bool, images: int | None = None) -> tuple[float, float]:
    """Seconds for one fit epoch of SimpleConvNet on the MNIST training set (or its
    first ``images``), on the GPU, and the epoch's training accuracy."""
    import zerodl as zd
    from zerodl import nn, optim
    from zerodl.data import MNIST, DataLoader
    from zerodl.nn.models import SimpleConvNet
    from zerodl.train import fit

    train = MNIST(train=True)
    data = (train.images[:images], train.labels[:images])
    zd.manual_seed(0)
    model = SimpleConvNet().to("gpu")
    optimizer = optim.Adam(model.named_parameters(), lr=1e-3)
    loader = DataLoader(data, batch_size=100, seed=0, device="gpu" if device_loader else None)
    start = time.perf_counter()
    history = fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=1, progress=False)
    return time.perf_counter() - start, history.train_accuracy[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads on the CPU")
    parser.add_argument("--devices", default=None,
                        help="comma-separated: gpu,cpu (default: both, or cpu without a GPU)")
    parser.add_argument("--epoch", action="store_true", help="also time one fit epoch on the GPU")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)

    from .run import set_thread_environment

    set_thread_environment(args.threads)  # before NumPy is imported
    from zerodl.memory import keep_freed_memory

    keep_freed_memory()  # as the zerodl command does
    from zerodl.backend import device_name, gpu_available

    from .systems import set_threads

    keep = set_threads("zerodl", args.threads)  # noqa: F841  (the limits last while it lives)
    devices = [device_name(d) for d in (args.devices or ("gpu,cpu" if gpu_available else "cpu"))
               .split(",")]
    results = {"machine": _machine(args.threads), "steps": args.steps, "warmup": args.warmup,
               "tasks": {}}
    for name in TASK_NAMES:
        row = results["tasks"][name] = {}
        for device in devices:
            row[device] = time_task(name, device, args.steps, args.warmup)
            print(f"{name:16s} {device}: median {row[device]['median_s'] * 1e3:8.2f} ms/step"
                  + (f", pipelined {row[device]['pipelined_s'] * 1e3:.2f} ms/step"
                     if "pipelined_s" in row[device] else ""), flush=True)
        if "gpu" in row and "cpu" in row:
            print(f"{'':16s} GPU speed-up {row['cpu']['median_s'] / row['gpu']['median_s']:.1f}x",
                  flush=True)
    if args.epoch:
        time_epoch(device_loader=True, images=1000)  # untimed: CuPy compiles its kernels here
        for device_loader in (False, True):
            seconds, accuracy = time_epoch(device_loader)
            key = "epoch_gpu_loader_s" if device_loader else "epoch_cpu_loader_s"
            results[key] = seconds
            how = 'DataLoader(device="gpu")' if device_loader else "NumPy batches copied per step"
            print(f"fit, SimpleConvNet, 1 epoch of MNIST on the GPU, {how}: "
                  f"{seconds:.1f} s (train accuracy {accuracy:.2%})", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


def _machine(threads: int) -> dict:
    """The suite's machine description, with the GPU's name and CuPy's version."""
    from .machine import machine_info

    info = machine_info(threads)
    try:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        info.update(gpu=props["name"].decode(), cupy=cupy.__version__,
                    cuda_runtime=cupy.cuda.runtime.runtimeGetVersion())
    except Exception as e:  # no GPU: CPU timings only
        info["gpu"] = f"none ({type(e).__name__})"
    return info


if __name__ == "__main__":
    raise SystemExit(main())
