"""Training-step time on the GPU (CuPy) against the CPU (NumPy): ``python -m benchmarks.gpu``.

Two steps are timed on each device, from the same initial weights and the
same random batch: SimpleConvNet with Adam at batch 100 (the book's CNN) and
an MLP 784-1000-1000-10 with momentum SGD at batch 256. A step is forward,
cross-entropy, backward and the optimizer's update; the figure is the median
over ``--steps`` steps after ``--warmup`` steps. On the GPU each timed step
ends with a device synchronisation, so it is the full time of the step, not
just the time to queue its kernels; "pipelined" is the mean time per step of
the same steps queued back to back with one synchronisation at the end, as a
training loop that reads no value back would run. ``--epoch`` also times one
``fit`` epoch of SimpleConvNet on the 60,000 MNIST images on the GPU, with the
batches cut on the CPU and copied per step or kept on the GPU
(``DataLoader(device="gpu")``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

import zerodl as zd
import zerodl.functional as F
from zerodl import nn, optim
from zerodl.autograd import Tensor
from zerodl.nn.models import MLP, SimpleConvNet

TASKS = {
    "SimpleConvNet, Adam, batch 100": (SimpleConvNet, lambda p: optim.Adam(p, lr=1e-3), 100),
    "MLP 784-1000-1000-10, momentum SGD, batch 256": (
        lambda: MLP([784, 1000, 1000, 10]), lambda p: optim.SGD(p, lr=0.01, momentum=0.9), 256),
}


def time_task(make_model, make_optimizer, batch: int, device: str, steps: int, warmup: int) -> dict:
    """Median seconds per synchronised step (and, on the GPU, per pipelined step)."""
    zd.manual_seed(0)
    model = make_model().to(device)
    optimizer = make_optimizer(model.named_parameters())
    rng = np.random.default_rng(0)
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    t = rng.integers(0, 10, batch)
    sync = _no_sync
    if device == "gpu":
        import cupy

        x, t = cupy.asarray(x), cupy.asarray(t)
        sync = cupy.cuda.Device().synchronize

    def step():
        loss = F.cross_entropy(model(Tensor(x)), t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    times = []
    for _ in range(warmup + steps):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    result = {"median_s": statistics.median(times[warmup:]), "min_s": min(times[warmup:])}
    if device == "gpu":
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        result["pipelined_s"] = (time.perf_counter() - start) / steps
    return result


def _no_sync() -> None:
    pass


def time_epoch(device_loader: bool) -> tuple[float, float]:
    """Seconds for one fit epoch of SimpleConvNet on the MNIST training set, on the GPU."""
    from zerodl.data import MNIST, DataLoader
    from zerodl.train import fit

    train = MNIST(train=True)
    zd.manual_seed(0)
    model = SimpleConvNet().to("gpu")
    optimizer = optim.Adam(model.named_parameters(), lr=1e-3)
    loader = DataLoader(train, batch_size=100, seed=0, device="gpu" if device_loader else None)
    start = time.perf_counter()
    history = fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=1, progress=False)
    return time.perf_counter() - start, history.train_accuracy[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--devices", default="gpu,cpu")
    parser.add_argument("--epoch", action="store_true", help="also time one fit epoch on the GPU")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    results = {"machine": _machine(), "steps": args.steps, "warmup": args.warmup, "tasks": {}}
    for name, (make_model, make_optimizer, batch) in TASKS.items():
        row = results["tasks"][name] = {}
        for device in args.devices.split(","):
            row[device] = time_task(make_model, make_optimizer, batch, device, args.steps, args.warmup)
            print(f"{name:48s} {device}: median {row[device]['median_s'] * 1e3:8.2f} ms/step"
                  + (f", pipelined {row[device]['pipelined_s'] * 1e3:.2f} ms/step"
                     if "pipelined_s" in row[device] else ""), flush=True)
        if "gpu" in row and "cpu" in row:
            print(f"{'':48s} GPU speed-up {row['cpu']['median_s'] / row['gpu']['median_s']:.1f}x",
                  flush=True)
    if args.epoch:
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


def _machine() -> dict:
    info = {"cpus": os.cpu_count(), "numpy": np.__version__, "python": sys.version.split()[0]}
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
