"""The digits panel: a drawing in, the ten probabilities of a trained network out.

The model is one that ``zerodl train`` saved (``DIR/model.npz``; by default
the newest such run under ``runs/`` trained on MNIST), or an MLP that the
lab trains for one epoch when the learner presses Train and MNIST is present.
A drawing is prepared the way MNIST's digits were: grey levels in [0, 1],
the digit scaled to fit a 20×20 box and placed in the 28×28 image so that
its centre of mass is at the centre. For a CNN the page also gets the
first layer's filters and the feature maps they make of the drawing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from .validate import BadRequest, b64_uint8, integer

DIGIT_DATASETS = ("mnist",)
MAX_SIDE = 128          # the page sends its drawing at most 128×128 pixels


class ModelDirError(ValueError):
    """A --model-dir that holds no usable digit model."""


def find_run(root: str | Path = "runs") -> Path | None:
    """The newest folder under ``root`` (or one level deeper) holding a model.npz, or None."""
    root = Path(root)
    if not root.is_dir():
        return None
    found = [p for pattern in ("*/model.npz", "*/*/model.npz") for p in root.glob(pattern)]
    found = [p for p in found if _dataset_of(p.parent) in DIGIT_DATASETS + (None,)]
    return max(found, key=lambda p: p.stat().st_mtime).parent if found else None


def load_run(run_dir: str | Path):
    """(model, config, test accuracy) from a ``zerodl train`` output folder."""
    from ..runs import load_model

    run_dir = Path(run_dir)
    path = run_dir / "model.npz"
    if not path.is_file():
        raise ModelDirError(f"{path} not found: give the --out folder of `zerodl train "
                            "--dataset mnist` (it holds model.npz)")
    try:
        model, config = load_model(path)
    except (OSError, ValueError, KeyError) as e:
        raise ModelDirError(f"cannot load {path}: {e}") from None
    if config.get("dataset") not in DIGIT_DATASETS:
        raise ModelDirError(f"{path} was trained on {config.get('dataset')!r}; the digits panel "
                            "needs an MNIST model (zerodl train --dataset mnist)")
    model.eval()
    return model, config, _metrics_accuracy(run_dir)


def mnist_like(image: np.ndarray) -> np.ndarray:
    """A drawing (H, W) with ink in [0, 1] prepared as MNIST's digits were: (28, 28) float32.

    The ink's bounding box is scaled (area average) so its longer side is 20
    pixels, then placed in a 28×28 image with its centre of mass at (14, 14).
    An empty drawing gives zeros.
    """
    a = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    out = np.zeros((28, 28), dtype=np.float32)
    if a.max() < 0.05:
        return out
    ink = a > 0.1 * a.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    small = _resize_area(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    small /= small.max()
    H, W = small.shape
    mass = small.sum()
    cy = (small.sum(axis=1) @ np.arange(H)) / mass
    cx = (small.sum(axis=0) @ np.arange(W)) / mass
    top = int(np.clip(round(13.5 - cy), 0, 28 - H))
    left = int(np.clip(round(13.5 - cx), 0, 28 - W))
    out[top:top + H, left:left + W] = small
    return out


class DigitsLab:
    """The digit model the page talks to: loaded from a run, or trained here on request."""

    def __init__(self, model_dir=None, runs_root: str | Path = "runs"):
        self.lock = threading.Lock()
        self.model = self.config = self.accuracy = None
        self.source = self._conv = self._filter_images = None
        self.load_error = None
        self.training = {"state": "idle", "progress": 0.0, "message": ""}
        self._stop = threading.Event()
        run_dir = Path(model_dir) if model_dir else find_run(runs_root)
        if model_dir:
            self._use(*load_run(run_dir), source=str(run_dir))   # a bad --model-dir fails now
        elif run_dir is not None:
            try:
                self._use(*load_run(run_dir), source=str(run_dir))
            except ModelDirError as e:
                self.load_error = str(e)

    def stop(self) -> None:
        """Ask a training run in the background to end at its next step."""
        self._stop.set()

    def status(self) -> dict:
        """Which model is loaded (source, kind, test accuracy, CNN filters) and how training goes."""
        with self.lock:
            out = {"available": self.model is not None, "source": self.source,
                   "model": self.config.get("model") if self.config else None,
                   "kind": self._kind(), "test_accuracy": self.accuracy,
                   "lab_subset": self.config.get("train_subset")
                   if self.config and self.config.get("trained_in_lab") else None,
                   "error": self.load_error, "training": dict(self.training)}
            if out["kind"] == "cnn":
                out["filters"] = self._filter_images
        return out

    # -- prediction
    def predict(self, body: dict) -> dict:
        """Ten probabilities for the drawing in ``body`` (+ filters and feature maps for a CNN)."""
        import zerodl.functional as F
        from zerodl import Tensor, no_grad

        image = _drawing(body)
        with self.lock:
            model, kind, conv = self.model, self._kind(), self._conv
        x = mnist_like(image)
        if model is None or not x.any():
            # Still show how the drawing was prepared; the page says why there is no answer.
            return {"available": model is not None, "empty": not x.any(), "input": b64_uint8(x),
                    "probabilities": None, "prediction": None}
        batch = x.reshape(1, 1, 28, 28) if kind == "cnn" else x.reshape(1, 784)
        with no_grad():
            probs = F.softmax(model(Tensor(batch)), axis=1).data[0].astype(np.float64)
        out = {"available": True, "empty": False, "input": b64_uint8(x),
               "probabilities": probs.tolist(),
               "prediction": int(np.argmax(probs))}
        if kind == "cnn":
            out["feature_maps"] = _feature_maps(conv, batch)
        return out

    # -- training in the lab
    def train(self, body: dict) -> dict:
        """Start training an MLP 784-100-10 on MNIST (one epoch, Adam) in a background thread.

        Refused (409) while a CNN is loaded: the MLP would replace a better model.
        """
        subset = integer(body, "subset", 60000, 1000, 60000, label="training subset")
        with self.lock:
            if self.training["state"] in ("loading", "training"):
                raise BadRequest("a training run is going on already", "train", status=409,
                                 code="busy")
            if self._kind() == "cnn":
                raise BadRequest(f"a CNN ({self.config.get('model')}) is loaded: an MLP trained "
                                 "here would replace it with a weaker model; train another CNN "
                                 "with `zerodl train --dataset mnist --model simple-convnet` and "
                                 "restart the lab", "train", status=409, code="cnn")
            self.training = {"state": "loading", "progress": 0.0,
                             "message": "reading MNIST", "subset": subset}
        threading.Thread(target=self._train, args=(subset,), name="lab-digits-train",
                         daemon=True).start()
        return {"started": True, "subset": subset}

    def _train(self, subset: int) -> None:
        import zerodl.functional as F
        from zerodl import data, optim
        from zerodl import train as ztrain
        from zerodl.nn.models import MLP

        try:
            train_set = data.MNIST(train=True, flatten=True)
            test_set = data.MNIST(train=False, flatten=True)
            loader = data.DataLoader((train_set.images[:subset], train_set.labels[:subset]),
                                     100, shuffle=True, seed=0)
            test = data.DataLoader((test_set.images, test_set.labels), 1000, shuffle=False)
            model = MLP([784, 100, 10])
            total = len(loader)

            def on_step(epoch, step, loss):
                if self._stop.is_set():
                    raise _Stopped
                if step == total:
                    self._progress("training", 1.0, "measuring on the 10,000 test digits",
                                   step=step, total=total, measuring=True)
                elif step % 10 == 1:
                    self._progress("training", step / total, f"step {step}/{total}, loss {loss:.3f}",
                                   step=step, total=total, loss=float(loss))

            start = time.monotonic()
            history = ztrain.fit(model, F.cross_entropy, optim.Adam(model.named_parameters(), lr=1e-3),
                                 loader, test, epochs=1, progress=False, on_step=on_step)
            accuracy = history.val_accuracy[-1]
            model.eval()
            config = {"model": "mlp", "dataset": "mnist", "hidden": [100], "train_subset": subset,
                      "trained_in_lab": True}
            seconds = time.monotonic() - start
            with self.lock:
                self._use(model, config, float(accuracy),
                          source=f"trained in the lab ({subset:,} digits, 1 epoch)")
                self.training = {"state": "done", "progress": 1.0, "subset": subset,
                                 "accuracy": float(accuracy), "seconds": seconds,
                                 "message": f"test accuracy {accuracy:.1%} after {seconds:.0f} s"}
        except _Stopped:  # the lab is shutting down
            return
        except Exception as e:  # missing data above all: tell the page how to fix it
            from ..data.download import DatasetNotFoundError

            code = {"code": "data"} if isinstance(e, DatasetNotFoundError) else {}  # for i18n.js
            with self.lock:
                self.training = {"state": "failed", "progress": 0.0, "message": str(e), **code}

    def _progress(self, state: str, progress: float, message: str, **details) -> None:
        with self.lock:
            self.training = {**self.training, "state": state, "progress": progress,
                             "message": message, **details}

    # -- helpers
    def _use(self, model, config, accuracy, source) -> None:
        self.model, self.config, self.accuracy, self.source = model, config, accuracy, source
        self.load_error = None
        self._conv = _first_conv(model)
        self._filter_images = self._filters()   # the weights stay fixed: drawn once, sent each poll

    def _kind(self) -> str | None:
        if self.model is None:
            return None
        return "cnn" if self.config.get("model") != "mlp" else "mlp"

    def _filters(self) -> dict | None:
        if self._conv is None:
            return None
        W = np.asarray(self._conv.W.data, dtype=np.float64)[:, 0]     # (FN, FH, FW), channel 0
        lo = W.min(axis=(1, 2), keepdims=True)
        span = np.maximum(W.max(axis=(1, 2), keepdims=True) - lo, 1e-12)
        return {"shape": list(W.shape), "data": b64_uint8((W - lo) / span)}


def _feature_maps(conv, batch) -> dict | None:
    """What the first layer ``conv`` (None for an MLP) makes of the drawing, after ReLU."""
    import zerodl.functional as F
    from zerodl import Tensor, no_grad

    if conv is None:
        return None
    with no_grad():
        maps = F.relu(conv(Tensor(batch))).data[0]
    maps = np.asarray(maps, dtype=np.float64)
    return {"shape": list(maps.shape), "data": b64_uint8(maps / max(maps.max(), 1e-12))}


class _Stopped(Exception):
    """Raised from the training callback when the lab stops, to leave ``fit`` at once."""


def _drawing(body: dict) -> np.ndarray:
    width = integer(body, "width", None, 8, MAX_SIDE)
    height = integer(body, "height", None, 8, MAX_SIDE)
    pixels = body.get("pixels")
    if not isinstance(pixels, list) or len(pixels) != width * height:
        raise BadRequest(f"pixels must be a list of width*height = {width * height} numbers",
                         "pixels")
    try:
        image = np.asarray(pixels, dtype=np.float64).reshape(height, width)
    except (TypeError, ValueError, OverflowError):   # not numbers, or ints past float's range
        raise BadRequest("pixels must be numbers from 0 to 255", "pixels") from None
    if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 255:
        raise BadRequest("pixels must be numbers from 0 to 255", "pixels")
    return image / 255.0


def _first_conv(model):
    """The model's first Conv2d layer, or None for an MLP."""
    from ..nn import Conv2d

    return next((m for m in model.modules() if isinstance(m, Conv2d)), None)


def _dataset_of(run_dir: Path) -> str | None:
    return _saved_field(run_dir / "config.json", "dataset")


def _metrics_accuracy(run_dir: Path) -> float | None:
    accuracy = _saved_field(run_dir / "metrics.json", "test_accuracy")
    ok = isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) and 0 <= accuracy <= 1
    return float(accuracy) if ok else None


def _saved_field(path: Path, key: str):
    """``key`` of the JSON object in ``path``; None when the file is missing, unreadable or
    not an object (a damaged run must not keep the lab from starting)."""
    import json

    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return saved.get(key) if isinstance(saved, dict) else None


def _resize_area(a: np.ndarray, H: int, W: int) -> np.ndarray:
    """``a`` resized to (H, W): each output pixel is the mean of the input pixels it covers."""
    h, w = a.shape
    S = np.zeros((h + 1, w + 1))
    S[1:, 1:] = a.cumsum(0).cumsum(1)     # integral image: any box sum in four look-ups
    r0 = np.floor(np.arange(H) * h / H).astype(int)
    r1 = np.maximum(r0 + 1, np.ceil(np.arange(1, H + 1) * h / H).astype(int))
    c0 = np.floor(np.arange(W) * w / W).astype(int)
    c1 = np.maximum(c0 + 1, np.ceil(np.arange(1, W + 1) * w / W).astype(int))
    box = (S[r1][:, c1] - S[r0][:, c1] - S[r1][:, c0] + S[r0][:, c0])
    return box / ((r1 - r0)[:, None] * (c1 - c0)[None, :])
