"""The GPU backend (CuPy): every operation, training, ``fit`` and checkpoints give what the CPU gives.

Each GPU test runs the same computation twice, on NumPy arrays and on CuPy
arrays, and compares values and gradients: float64 operations to ~1e-10,
float32 training to float32 accuracy. They also check that results stay on
the GPU (CuPy arrays all the way: no silent copy to the host and back).
Marked ``gpu`` and skipped, with the reason, where CuPy or a CUDA device is
missing. The last tests check the CPU-only side of the device switch and run
everywhere.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import zerodl as zd
import zerodl.functional as F
from zerodl import io, nn, optim
from zerodl.autograd import Tensor
from zerodl.backend import as_numpy, device_of, to_device
from zerodl.data import MNIST, DataLoader
from zerodl.gradcheck_cases import CASES
from zerodl.nn.models import MLP, SimpleConvNet
from zerodl.train import evaluate, fit, load_checkpoint


def _find_gpu():
    """(cupy, None) when CuPy can compute on a CUDA device, else (None, why not)."""
    try:
        import cupy
    except Exception as e:  # ImportError, or a CUDA library that fails to load
        return None, f"CuPy is not importable ({type(e).__name__}: {e}); pip install 'zerodl[gpu]'"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None, "CuPy sees no CUDA device"
        float((cupy.arange(3.0) ** 2).sum())  # a kernel really runs
    except Exception as e:
        return None, f"CuPy cannot use a CUDA device ({type(e).__name__}: {e})"
    return cupy, None


cp, NO_GPU = _find_gpu()


def gpu_test(test):
    """Mark ``test`` as a GPU test, skipped (saying why) where there is no usable GPU."""
    return pytest.mark.gpu(pytest.mark.skipif(cp is None, reason=f"no GPU: {NO_GPU}")(test))


def on_gpu(a) -> bool:
    """True for a CuPy array or a Tensor holding one (a CuPy array's own .data is a pointer)."""
    return cp is not None and isinstance(a.data if isinstance(a, Tensor) else a, cp.ndarray)


def gpu_copy(inputs):
    """The same inputs with their arrays on the GPU (constants that are not Tensors stay)."""
    return tuple(Tensor(cp.asarray(x.data), requires_grad=x.requires_grad) if isinstance(x, Tensor)
                 else x for x in inputs)


def close(gpu, cpu, rtol, atol):
    gpu = gpu.data if isinstance(gpu, Tensor) else gpu
    cpu = cpu.data if isinstance(cpu, Tensor) else cpu
    assert on_gpu(gpu), f"expected a CuPy array, got {type(gpu).__name__}"
    assert type(cpu) is np.ndarray
    assert gpu.dtype == cpu.dtype and gpu.shape == cpu.shape
    np.testing.assert_allclose(cp.asnumpy(gpu), cpu, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- every operation
def forward_backward(fn, xs, v):
    """fn's output and the gradients of Σ v·fn(xs) with respect to every input that needs one."""
    out = fn(*xs)
    (out * Tensor(v)).sum().backward()
    return out, [x.grad for x in xs if isinstance(x, Tensor) and x.requires_grad]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@gpu_test
def test_every_gradcheck_case_gives_the_cpu_values_and_gradients_on_the_gpu(case):
    xs = case.make_inputs(np.random.default_rng(0))
    gxs = gpu_copy(xs)
    with zd.no_grad():
        shape = case.fn(*xs).shape
    v = np.asarray(np.random.default_rng(1).standard_normal(shape), np.float64)
    out_cpu, grads_cpu = forward_backward(case.fn, xs, v)
    out_gpu, grads_gpu = forward_backward(case.fn, gxs, cp.asarray(v))
    close(out_gpu, out_cpu, rtol=1e-10, atol=1e-12)
    assert len(grads_gpu) == len(grads_cpu) > 0
    for g_gpu, g_cpu in zip(grads_gpu, grads_cpu):
        close(g_gpu, g_cpu, rtol=1e-10, atol=1e-12)


def second_order(fn, xs, v, w):
    """Gradients of Σ w·∇(Σ v·fn(xs)): backward(create_graph=True), then backward again."""
    (fn(*xs) * Tensor(v)).sum().backward(create_graph=True)
    firsts = [x.grad for x in xs]
    for x in xs:
        x.grad = None
    sum((g * Tensor(wi)).sum() for g, wi in zip(firsts, w)).backward()
    return [x.grad for x in xs]


SECOND_ORDER = {
    "tanh": (lambda x: F.tanh(x), [(3, 4)]),
    "gelu": (lambda x: F.gelu(x), [(3, 4)]),
    "softmax": (lambda x: F.softmax(x), [(3, 4)]),
    "getitem repeats": (lambda x: x[np.array([0, 2, 0])] ** 2, [(4, 3)]),
    "conv2d stride 2 pad 1": (lambda x, W: F.conv2d(x, W, stride=2, pad=1) ** 2,
                              [(2, 2, 5, 5), (3, 2, 3, 3)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2) ** 2, [(2, 2, 4, 4)]),
    "batch_norm": (lambda x, g, b: F.batch_norm(x, g, b, None, None, training=True) ** 2,
                   [(4, 3), (3,), (3,)]),
    "cross_entropy": (lambda x: F.cross_entropy(x, np.array([0, 2, 1])), [(3, 4)]),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
@gpu_test
def test_second_derivatives_on_the_gpu_match_the_cpu(name):
    fn, shapes = SECOND_ORDER[name]
    rng = np.random.default_rng(2)
    arrays = [rng.uniform(-2, 2, size=s) for s in shapes]
    out_shape = fn(*[Tensor(a) for a in arrays]).shape
    v = np.asarray(rng.standard_normal(out_shape), np.float64)
    w = [rng.standard_normal(s) for s in shapes]
    cpu = second_order(fn, [Tensor(a.copy(), requires_grad=True) for a in arrays], v, w)
    gpu = second_order(fn, [Tensor(cp.asarray(a), requires_grad=True) for a in arrays],
                       cp.asarray(v), [cp.asarray(wi) for wi in w])
    for g_gpu, g_cpu in zip(gpu, cpu):
        close(g_gpu, g_cpu, rtol=1e-9, atol=1e-11)


@gpu_test
def test_float32_stays_float32_on_the_gpu():
    x = Tensor(cp.ones((4, 1, 8, 8), cp.float32), requires_grad=True)
    W = Tensor(cp.full((2, 1, 3, 3), 0.1, cp.float32), requires_grad=True)
    y = F.gelu(F.max_pool2d(F.conv2d(x, W, pad=1), 2)) * np.float64(2.0) + 1.0
    loss = F.cross_entropy(y.reshape(4, -1), np.array([0, 1, 2, 3]))
    loss.backward()
    assert on_gpu(y) and on_gpu(loss) and on_gpu(x.grad) and on_gpu(W.grad)
    assert {y.dtype, loss.dtype, x.grad.dtype, W.grad.dtype} == {np.dtype(np.float32)}


# ---------------------------------------------------------------- models and optimizers
@pytest.fixture(scope="module")
def mnist_batches(data_root):
    """Five real MNIST batches of 100 images (1, 28, 28) in [0, 1] with their labels."""
    train = MNIST(root=data_root, train=True)
    return [(train.images[i:i + 100], train.labels[i:i + 100]) for i in range(0, 500, 100)]


MODELS = {
    "MLP": lambda: MLP([784, 100, 100, 10]),
    "MLP batchnorm dropout": lambda: MLP([784, 100, 100, 10], batchnorm=True, dropout=0.2),
    "SimpleConvNet": lambda: SimpleConvNet(),
}
BIASES_BEFORE_BATCHNORM = {"MLP batchnorm dropout": ("layers.0.b", "layers.4.b")}
OPTIMIZERS = {
    "Adam": lambda params: optim.Adam(params, lr=1e-3),
    "SGD momentum": lambda params: optim.SGD(params, lr=0.05, momentum=0.9),
}


def train_steps(model, make_optimizer, batches, gpu: bool):
    """Losses of a few training steps; checks on the way that everything stays on its device."""
    optimizer = make_optimizer(model.named_parameters())
    zd.manual_seed(1)  # the same dropout masks on both devices
    losses = []
    for x, t in batches:
        if gpu:
            x, t = cp.asarray(x), cp.asarray(t)
        y = model(Tensor(x))
        loss = F.cross_entropy(y, t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if gpu:
            assert on_gpu(y) and on_gpu(loss)
            for name, p in model.named_parameters():
                assert on_gpu(p) and on_gpu(p.grad), name
                assert p.dtype == p.grad.dtype == np.float32, name
            for state in optimizer.state.values():
                assert all(on_gpu(a) for k, a in state.items() if k != "step")
        losses.append(float(loss.item()))
    return losses, optimizer


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("model_name", list(MODELS))
@gpu_test
def test_a_model_moved_to_the_gpu_trains_like_on_the_cpu(model_name, opt_name, mnist_batches):
    zd.manual_seed(0)
    cpu_model = MODELS[model_name]()
    zd.manual_seed(0)
    gpu_model = MODELS[model_name]().to("gpu")
    for p, q in zip(cpu_model.parameters(), gpu_model.parameters()):
        close(q, p, rtol=0, atol=0)
    cpu_losses, _ = train_steps(cpu_model, OPTIMIZERS[opt_name], mnist_batches, gpu=False)
    gpu_losses, _ = train_steps(gpu_model, OPTIMIZERS[opt_name], mnist_batches, gpu=True)
    assert gpu_losses[-1] < gpu_losses[0]  # it learns
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=2e-4)
    cpu_state, gpu_state = cpu_model.state_dict(), gpu_model.state_dict()
    assert all(type(a) is np.ndarray for a in gpu_state.values())  # state_dict copies to the host
    for key in cpu_state:
        if opt_name == "Adam" and key in BIASES_BEFORE_BATCHNORM.get(model_name, ()):
            # BatchNorm cancels these biases, so their gradient is 0 up to rounding; Adam turns
            # that rounding noise into full-size steps of either sign, different on each device.
            continue
        np.testing.assert_allclose(gpu_state[key], cpu_state[key], rtol=1e-3, atol=2e-4, err_msg=key)
    cpu_model.eval()
    gpu_model.eval()
    x = mnist_batches[0][0]
    with zd.no_grad():
        close(gpu_model(Tensor(cp.asarray(x))), cpu_model(Tensor(x)), rtol=1e-3, atol=1e-3)


OPTIMIZER_KINDS = {
    "SGD nesterov wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "AdaGrad": lambda p: optim.AdaGrad(p, lr=0.01),
    "RMSProp centered momentum": lambda p: optim.RMSProp(p, lr=1e-3, momentum=0.5, centered=True),
    "Adam wd": lambda p: optim.Adam(p, lr=1e-3, weight_decay=1e-3),
    "AdamW": lambda p: optim.AdamW(p, lr=1e-3),
}


@pytest.mark.parametrize("opt_name", list(OPTIMIZER_KINDS))
@gpu_test
def test_an_optimizer_state_saved_on_the_gpu_continues_on_the_cpu(opt_name, mnist_batches):
    make = OPTIMIZER_KINDS[opt_name]
    zd.manual_seed(0)
    gpu_model = MLP([784, 50, 10]).to("gpu")
    _, gpu_opt = train_steps(gpu_model, make, mnist_batches[:3], gpu=True)
    saved = gpu_opt.state_dict()
    arrays = [a for s in saved["state"].values() for k, a in s.items() if k != "step"]
    assert arrays and all(type(a) is np.ndarray for a in arrays)
    zd.manual_seed(0)
    cpu_model = MLP([784, 50, 10])
    cpu_model.load_state_dict(gpu_model.state_dict())
    cpu_opt = make(cpu_model.named_parameters())
    cpu_opt.load_state_dict(saved)
    x, t = mnist_batches[3]
    for model, opt, (xb, tb) in [(cpu_model, cpu_opt, (x, t)),
                                 (gpu_model, gpu_opt, (cp.asarray(x), cp.asarray(t)))]:
        loss = F.cross_entropy(model(Tensor(xb)), tb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert cpu_opt.state["layers.0.W"]["step"] == gpu_opt.state["layers.0.W"]["step"] == 4
    for p, q in zip(cpu_model.parameters(), gpu_model.parameters()):
        close(q, p, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- fit, evaluate, checkpoints
@pytest.fixture(scope="module")
def mnist_subset(data_root):
    train = MNIST(root=data_root, train=True)
    test = MNIST(root=data_root, train=False)
    return (train.images[:1000], train.labels[:1000]), (test.images[:500], test.labels[:500])


def leaves(tree):
    """Every array in a nested dict/list (a loaded checkpoint)."""
    if isinstance(tree, dict):
        for v in tree.values():
            yield from leaves(v)
    elif isinstance(tree, list):
        for v in tree:
            yield from leaves(v)
    elif hasattr(tree, "shape"):
        yield tree


def fit_once(device, train, val, path, epochs=1, resume=None):
    zd.manual_seed(0)
    model = SimpleConvNet().to(device)
    optimizer = optim.Adam(model.named_parameters(), lr=1e-3)
    loader = DataLoader(train, batch_size=100, seed=0)            # NumPy batches: fit moves them
    val_loader = DataLoader(val, batch_size=250, shuffle=False)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, loader, val_loader, epochs=epochs,
                  checkpoint=path, resume=resume, progress=False)
    return model, optimizer, history


@gpu_test
def test_fit_on_the_gpu_matches_the_cpu_and_its_checkpoints_load_anywhere(mnist_subset, tmp_path):
    train, val = mnist_subset
    gpu_model, gpu_opt, gpu_hist = fit_once("gpu", train, val, tmp_path / "gpu.npz")
    cpu_model, _, cpu_hist = fit_once("cpu", train, val, tmp_path / "cpu.npz")
    assert all(on_gpu(p) for p in gpu_model.parameters())
    assert gpu_hist.train_loss[0] == pytest.approx(cpu_hist.train_loss[0], rel=1e-4)
    assert gpu_hist.val_loss[0] == pytest.approx(cpu_hist.val_loss[0], rel=1e-3)
    assert abs(gpu_hist.val_accuracy[0] - cpu_hist.val_accuracy[0]) <= 2 / 500
    assert gpu_hist.val_accuracy[0] > 0.5  # it learned (10 steps)

    # The checkpoint on disk holds NumPy arrays only: it loads where there is no CuPy.
    arrays = list(leaves(io.load(tmp_path / "gpu.npz")))
    assert len(arrays) > 10 and all(type(a) is np.ndarray for a in arrays)

    # A GPU checkpoint restores a CPU model and optimizer exactly ...
    zd.manual_seed(0)
    restored = SimpleConvNet()
    restored_opt = optim.Adam(restored.named_parameters(), lr=1e-3)
    history = load_checkpoint(tmp_path / "gpu.npz", restored, restored_opt)
    assert history.val_loss == gpu_hist.val_loss
    for (name, p), (_, q) in zip(restored.named_parameters(), gpu_model.named_parameters()):
        np.testing.assert_array_equal(p.data, cp.asnumpy(q.data), err_msg=name)
    assert type(restored_opt.state["layers.0.W"]["exp_avg"]) is np.ndarray
    assert restored_opt.state.keys() == gpu_opt.state.keys()
    for name, state in gpu_opt.state.items():          # every moment and step count, exactly
        assert restored_opt.state[name].keys() == state.keys()
        for key, value in state.items():
            if key == "step":
                assert restored_opt.state[name][key] == value
            else:
                np.testing.assert_array_equal(restored_opt.state[name][key], cp.asnumpy(value),
                                              err_msg=f"{name} {key}")

    # ... and evaluate gives the same numbers on both devices.
    val_loader = DataLoader(val, batch_size=250, shuffle=False)
    cpu_loss, cpu_acc = evaluate(restored, val_loader, nn.CrossEntropyLoss())
    gpu_loss, gpu_acc = evaluate(gpu_model, val_loader, nn.CrossEntropyLoss())
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-4) and abs(gpu_acc - cpu_acc) <= 1 / 500

    # Resumed on the GPU (a fresh model) and on the CPU, epoch 2 is the same.
    (tmp_path / "gpu_copy.npz").write_bytes((tmp_path / "gpu.npz").read_bytes())
    _, _, resumed_gpu = fit_once("gpu", train, val, tmp_path / "gpu.npz", epochs=2,
                                 resume=tmp_path / "gpu.npz")
    _, _, resumed_cpu = fit_once("cpu", train, val, tmp_path / "gpu_copy.npz", epochs=2,
                                 resume=tmp_path / "gpu_copy.npz")
    assert len(resumed_gpu) == len(resumed_cpu) == 2
    assert resumed_gpu.train_loss[1] == pytest.approx(resumed_cpu.train_loss[1], rel=1e-3)


@gpu_test
def test_a_gpu_data_loader_hands_out_the_cpu_batches_on_the_gpu(mnist_subset):
    train, _ = mnist_subset
    cpu = list(DataLoader(train, batch_size=300, seed=3))
    gpu_loader = DataLoader(train, batch_size=300, seed=3, device="gpu")
    assert all(on_gpu(a) for a in gpu_loader._arrays)  # copied once, not per batch
    gpu = list(gpu_loader)
    assert len(gpu) == len(cpu) == 4
    for (xg, tg), (xc, tc) in zip(gpu, cpu):
        assert on_gpu(xg) and on_gpu(tg)
        np.testing.assert_array_equal(cp.asnumpy(xg), xc)
        np.testing.assert_array_equal(cp.asnumpy(tg), tc)
    back = next(iter(DataLoader(tuple(cp.asarray(a) for a in train), 10, shuffle=False,
                                device="cpu")))
    assert type(back[0]) is np.ndarray and back[0].shape == (10, 1, 28, 28)


@gpu_test
def test_mixing_devices_is_a_clear_error():
    x = Tensor(cp.ones((4, 3), cp.float32))
    with pytest.raises(TypeError, match=r"mul: inputs are on different devices \(gpu \(4, 3\), cpu \(3,\)\)"):
        x * np.ones(3, np.float32)
    model = MLP([784, 50, 10]).to("gpu")
    with pytest.raises(TypeError, match=r"linear: inputs are on different devices \(cpu \(2, 784\), gpu"):
        model(np.zeros((2, 784), np.float32))
    with pytest.raises(TypeError, match="x is on the gpu, running_mean on the cpu"):
        F.batch_norm(x, None, None, np.zeros(3, np.float32), np.ones(3, np.float32), training=True)


@gpu_test
def test_zerodl_train_device_gpu_matches_the_cpu(tmp_path, data_root, monkeypatch):
    import json

    from zerodl.cli import main

    monkeypatch.setenv("ZERODL_DATA", str(data_root))
    metrics = {}
    for device in ("gpu", "cpu"):
        out = tmp_path / device
        args = ["train", "--model", "mlp", "--hidden", "50", "--train-subset", "2000", "--epochs", "2",
                "--device", device, "--out", str(out), "--no-progress"]
        assert main(args) == 0
        metrics[device] = json.loads((out / "metrics.json").read_text())
    assert metrics["gpu"]["test_accuracy"] > 0.8
    assert metrics["gpu"]["test_accuracy"] == pytest.approx(metrics["cpu"]["test_accuracy"], abs=0.003)
    assert metrics["gpu"]["test_loss"] == pytest.approx(metrics["cpu"]["test_loss"], rel=2e-3)
    # model.npz holds NumPy arrays: `zerodl evaluate` reads it on the CPU.
    assert main(["evaluate", str(tmp_path / "gpu")]) == 0


class _TwinRanks:
    """Two ranks in one process. The other rank's gradients are twice this one's (a sum
    triples them), and rank 0's parameters are this one's plus 1 (a broadcast adds 1)."""

    rank, size = 1, 2

    def allreduce_sum(self, array):
        assert type(array) is np.ndarray  # MPI gets host memory
        array *= 3
        return array

    def broadcast(self, array, root=0):
        assert type(array) is np.ndarray
        array += 1
        return array


@gpu_test
def test_data_parallel_gradients_and_parameters_stay_on_the_gpu():
    from zerodl import distributed

    model = MLP([6, 5, 3]).to("gpu")
    before = {k: cp.asnumpy(v.data) for k, v in model.named_parameters()}
    distributed.broadcast_parameters(model, _TwinRanks())
    for name, p in model.named_parameters():   # rank 0's values, back on the GPU
        assert on_gpu(p.data) and np.array_equal(cp.asnumpy(p.data), before[name] + 1)
        before[name] += 1
    F.cross_entropy(model(Tensor(cp.ones((4, 6), cp.float32))), cp.asarray([0, 1, 2, 0])).backward()
    grads = {k: cp.asnumpy(p.grad.data) for k, p in model.named_parameters()}
    opt = distributed.DistributedOptimizer(optim.SGD(model.named_parameters(), lr=0.1), _TwinRanks())
    opt.step()                      # the mean of g and 2g is 1.5 g
    for name, p in model.named_parameters():
        assert on_gpu(p.grad.data) and p.grad.dtype == np.float32
        np.testing.assert_allclose(cp.asnumpy(p.grad.data), 1.5 * grads[name], rtol=1e-6)
        np.testing.assert_allclose(cp.asnumpy(p.data), before[name] - 0.15 * grads[name],
                                   rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- without a GPU (run everywhere)
def test_devices_are_named_cpu_or_gpu():
    x = np.arange(3.0)
    assert to_device(x, "cpu") is x and device_of(x) == device_of(Tensor(x)) == "cpu"
    with pytest.raises(ValueError, match="unknown device 'tpu'; use 'cpu' or 'gpu'"):
        to_device(x, "tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        DataLoader((x, x), batch_size=2, device="tpu")
    batches = list(DataLoader((x, x), batch_size=2, shuffle=False, device="cpu"))
    assert [b[0].tolist() for b in batches] == [[0.0, 1.0], [2.0]]
    assert as_numpy(Tensor(x)) is x


@pytest.mark.skipif(cp is not None, reason="a GPU is present: this checks the message without one")
def test_asking_for_the_gpu_without_cupy_says_how_to_get_it(tmp_path, capsys):
    from zerodl.cli import main

    with pytest.raises(RuntimeError, match=r"pip install zerodl\[gpu\]"):
        MLP([4, 2]).to("gpu")
    code = main(["train", "--dataset", "xor", "--device", "gpu", "--out", str(tmp_path / "r"),
                 "--no-progress"])
    assert code == 2 and "--device gpu needs CuPy" in capsys.readouterr().err


def test_cupy_without_a_usable_device_is_no_gpu(tmp_path):
    import subprocess
    import sys

    fake = tmp_path / "cupy"                 # imports like CuPy on a machine with no GPU
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "import types\nclass ndarray: pass\ncuda = types.SimpleNamespace(is_available=lambda: False)\n")
    code = ("from zerodl import backend\nfrom zerodl.nn.models import MLP\n"
            "print(backend.gpu_available)\n"
            "try:\n    MLP([4, 2]).to('gpu')\nexcept RuntimeError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(
                              [str(tmp_path), *sys.path])})
    assert done.returncode == 0, done.stderr
    available, message = done.stdout.splitlines()[:2]
    assert available == "False" and "pip install zerodl[gpu]" in message
