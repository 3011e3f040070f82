"""The network panel's training sessions: one small MLP learning a 2-D dataset per browser tab.

A ``Session`` owns one thread that runs the book's learning loop (ch. 4.5):
take a mini-batch, forward, cross-entropy loss, ``backward()``, an optimizer
step, with zerodl's own ``nn.models.MLP``, ``optim`` and ``data.DataLoader``.
A few times a second it measures the loss and accuracy on the whole dataset
and the class probabilities over a grid (the decision-boundary map), and
publishes them for the page's event stream.

The ``SessionManager`` bounds how many sessions run at once and stops a
session when its tab has gone: no stream attached for ``grace`` seconds
(the stream notices a closed tab; the page also sends a beacon on ``pagehide``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, replace

import numpy as np

from ..io import finite_list
from ..optim import BOOK_OPTIMIZERS
from .validate import BadRequest, b64_uint8, choice, identifier, integer, number, shown

DATASETS = {"spiral": 0.2, "xor": 0.1, "circles": 0.1}      # name -> default noise
ACTIVATIONS = ("relu", "tanh", "sigmoid")
OPTIMIZERS = BOOK_OPTIMIZERS  # the book's six
LIMITS = {"hidden_layers": 4, "hidden_size": 64, "lr": [1e-5, 10.0], "batch_size": [1, 512],
          "noise": [0.0, 0.5], "speed": [0, 5000], "max_steps": 20000}
GRID = 48                 # the decision-boundary map is GRID x GRID class probabilities
PUBLISH_EVERY = 0.1       # seconds between snapshots while training
HISTORY = 2000            # (step, loss, accuracy) points kept for a stream that (re)connects


@dataclass(frozen=True)
class Config:
    """What the learner set: data, network, optimizer, and steps per second (0 = flat out)."""

    dataset: str
    noise: float
    hidden: tuple[int, ...]
    activation: str
    optimizer: str
    lr: float
    batch_size: int
    seed: int
    speed: int


def parse_config(body: dict) -> Config:
    """The training settings of a start request, each checked (BadRequest names the field)."""
    dataset = choice(body, "dataset", tuple(DATASETS), "spiral")
    noise = number(body, "noise", DATASETS[dataset], *LIMITS["noise"])
    hidden = _hidden_sizes(body.get("hidden", [16, 16]))
    activation = choice(body, "activation", ACTIVATIONS, "relu")
    optimizer = choice(body, "optimizer", OPTIMIZERS, "adam")
    lr = number(body, "lr", 0.01, *LIMITS["lr"], label="learning rate")
    batch_size = integer(body, "batch_size", 32, *LIMITS["batch_size"], label="batch size")
    seed = integer(body, "seed", 0, 0, 2**31 - 1)
    speed = integer(body, "speed", 0, *LIMITS["speed"], label="steps per second")
    return Config(dataset, noise, hidden, activation, optimizer, lr, batch_size, seed, speed)


# ---------------------------------------------------------------- one training run
class Trainer:
    """The dataset, the MLP, its optimizer and the loop's position; no threads here."""

    def __init__(self, config: Config):
        from .. import data, optim
        from ..nn.models import MLP

        self.config = config
        make = getattr(data, config.dataset)
        X, y = make(noise=config.noise, seed=config.seed)
        self.X, self.y = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)
        self.classes = int(self.y.max()) + 1
        self.model = MLP([2, *config.hidden, self.classes], activation=config.activation,
                         rng=np.random.default_rng(config.seed))
        self.optimizer = optim.create(config.optimizer, self.model.named_parameters(), config.lr)
        self.loader = data.DataLoader((self.X, self.y), min(config.batch_size, len(self.y)),
                                      shuffle=True, seed=config.seed)
        self.batches = iter(self.loader)
        self.step = 0
        self.epoch = 0
        self.history: deque = deque(maxlen=HISTORY)
        lim = float(np.abs(self.X).max()) * 1.15
        self.window = [-lim, lim]
        g = np.linspace(-lim, lim, GRID, dtype=np.float32)
        gx, gy = np.meshgrid(g, g)       # rows follow y, from -lim (bottom of the map) up
        self.grid_points = np.stack([gx.ravel(), gy.ravel()], axis=1)

    def train_step(self) -> float:
        """One mini-batch: forward, loss, backward, update. Returns the batch loss."""
        import zerodl.functional as F
        from zerodl import Tensor

        try:
            xb, yb = next(self.batches)
        except StopIteration:
            self.epoch += 1
            self.batches = iter(self.loader)
            xb, yb = next(self.batches)
        self.model.train()
        loss = F.cross_entropy(self.model(Tensor(np.asarray(xb))), np.asarray(yb))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return float(loss.data)

    def measure(self) -> dict:
        """Loss and accuracy on the whole dataset, and the class probabilities over the grid."""
        import zerodl.functional as F
        from zerodl import Tensor, no_grad

        self.model.eval()
        with no_grad(), np.errstate(all="ignore"):
            logits = self.model(Tensor(self.X))
            loss = float(F.cross_entropy(logits, self.y).data)
            accuracy = float(np.mean(np.argmax(logits.data, axis=1) == self.y))
            probs = F.softmax(self.model(Tensor(self.grid_points)), axis=1).data
        self.history.append((self.step, loss, accuracy))
        return {"step": self.step, "epoch": self.epoch, "loss": loss if np.isfinite(loss) else None,
                "accuracy": accuracy, "grid": GRID, "classes": self.classes,
                "boundary": b64_uint8(probs.reshape(GRID, GRID, self.classes))}

    def describe(self) -> dict:
        """The dataset's points and labels, the map's window and the settings, for the page."""
        return {"points": finite_list(self.X), "labels": self.y.tolist(), "classes": self.classes,
                "window": self.window, "config": asdict(self.config)}


# ---------------------------------------------------------------- a tab's session
class Session:
    """One tab's training: a thread that obeys start/pause/resume/reset/stop and publishes state."""

    def __init__(self, sid: str, max_steps: int = LIMITS["max_steps"]):
        self.id = sid
        self.max_steps = max_steps
        self.cond = threading.Condition()
        self.commands: deque = deque()
        self.snapshot: dict | None = None
        self.version = 0
        self.trainer: Trainer | None = None
        self.state = "starting"   # starting, running, paused, finished, diverged, failed
        self.stopped = False
        self.stop_reason = None
        self.clients = 0
        self.last_seen = time.monotonic()
        self.thread = threading.Thread(target=self._run, name=f"lab-session-{sid[:8]}",
                                       daemon=True)

    # -- called by request threads
    def command(self, name: str, arg=None) -> None:
        """Queue ``name`` (configure, reset, speed, pause, resume) for the session's thread."""
        with self.cond:
            self.commands.append((name, arg))
            self.cond.notify_all()

    def stop(self, reason: str) -> None:
        """End the session's thread (the first ``reason`` given is kept)."""
        with self.cond:
            if not self.stopped:
                self.stopped, self.stop_reason = True, reason
            self.cond.notify_all()

    def wait(self, version: int, timeout: float) -> dict | None:
        """The newest snapshot once it is newer than ``version`` (None after ``timeout``)."""
        with self.cond:
            self.cond.wait_for(lambda: self.version > version or self.stopped, timeout)
            return self.snapshot if self.version > version else None

    def hello(self) -> dict:
        """What a (re)connecting stream needs first: the loss/accuracy history so far."""
        with self.cond:
            history = list(self.trainer.history) if self.trainer else []
        return {"session": self.id, "history": history}

    # -- the session's own thread
    def _run(self) -> None:
        next_step = time.monotonic()
        last_publish = 0.0
        try:
            while True:
                with self.cond:
                    self.cond.wait_for(lambda: self.stopped or self.commands
                                       or self.state == "running")
                    if self.stopped:
                        return
                    commands = list(self.commands)
                    self.commands.clear()
                for name, arg in commands:
                    self._apply(name, arg)
                    next_step = time.monotonic()
                if commands:
                    self._publish()
                    last_publish = time.monotonic()
                    continue
                with np.errstate(all="ignore"):
                    loss = self.trainer.train_step()
                if not np.isfinite(loss):
                    self.state = "diverged"
                elif self.trainer.step >= self.max_steps:
                    self.state = "finished"
                now = time.monotonic()
                if self.state != "running" or now - last_publish >= PUBLISH_EVERY:
                    self._publish()
                    last_publish = now
                speed = self.trainer.config.speed
                if speed:
                    next_step += 1.0 / speed
                    time.sleep(max(0.0, next_step - time.monotonic()))
                    next_step = max(next_step, time.monotonic() - 0.5)  # no catch-up bursts
                else:
                    time.sleep(0)  # let request threads in
        except Exception as e:  # a bug or a numerical blow-up: report it to the page
            error = f"{type(e).__name__}: {e}"
            self.state = "failed"
            try:
                self._publish(error=error)
            finally:  # this thread ends: stopped, the next Train starts a fresh session
                self.stop(f"training failed: {error}")
            raise

    def _apply(self, name: str, arg) -> None:
        if name == "configure":
            trainer, paused = arg
            self.trainer = trainer
            self.state = "paused" if paused else "running"
        elif name == "reset" and self.trainer is not None:
            self.trainer = Trainer(self.trainer.config)
            self.state = "paused"
        elif name == "speed" and self.trainer is not None:
            self.trainer.config = replace(self.trainer.config, speed=arg)
        elif name == "pause" and self.state == "running":
            self.state = "paused"
        elif name == "resume" and self.state == "paused":
            self.state = "running"

    def _publish(self, error: str | None = None) -> None:
        snapshot = self.trainer.measure() if self.trainer is not None else {}
        snapshot["state"] = self.state
        snapshot["max_steps"] = self.max_steps
        if error:
            snapshot["error"] = error
        with self.cond:
            self.version += 1
            snapshot["version"] = self.version
            self.snapshot = snapshot
            self.cond.notify_all()


# ---------------------------------------------------------------- all sessions
class SessionManager:
    """The running sessions by id: at most ``max_sessions``; orphans stop after ``grace`` seconds."""

    def __init__(self, max_sessions: int = 4, grace: float = 15.0,
                 max_steps: int = LIMITS["max_steps"]):
        self.max_sessions, self.grace, self.max_steps = max_sessions, grace, max_steps
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.reaper = threading.Thread(target=self._reap, name="lab-session-reaper", daemon=True)
        self.closed = threading.Event()
        self.reaper.start()

    def start(self, body: dict) -> dict:
        """Start (or restart with new settings) the session ``body["session"]``."""
        sid = identifier(body, "session")
        config = parse_config(body)
        paused = bool(body.get("paused", False))
        trainer = Trainer(config)            # built here, so a bad setting fails this request
        with self.lock:
            session = self.sessions.get(sid)
            if session is not None and session.stopped:
                del self.sessions[sid]  # the reaper may not have come by yet: it holds no place
                session = None
            if session is None:
                if len(self.sessions) >= self.max_sessions:
                    raise BadRequest(f"{self.max_sessions} training sessions are running already "
                                     "(one per lab tab): close another tab first", "session",
                                     status=503, code="sessions", count=self.max_sessions)
                session = Session(sid, self.max_steps)
                self.sessions[sid] = session
                session.thread.start()
            session.last_seen = time.monotonic()
        session.command("configure", (trainer, paused))
        return {"session": sid, **trainer.describe()}

    def get(self, sid: str) -> Session:
        """The running session ``sid``; a 404 BadRequest when it has stopped or never was."""
        with self.lock:
            session = self.sessions.get(sid)
        if session is None or session.stopped:
            raise BadRequest("no such training session (it stopped): press Train to start again",
                             "session", status=404, code="stopped")
        return session

    def control(self, body: dict) -> dict:
        """pause, resume, reset or stop the session named in ``body``, or set its ``speed``."""
        sid = identifier(body, "session")
        action = choice(body, "action", ("pause", "resume", "reset", "stop", "speed"))
        speed = integer(body, "speed", None, *LIMITS["speed"], label="steps per second") \
            if action == "speed" else None
        session = self.get(sid)
        session.last_seen = time.monotonic()
        if action == "stop":
            self._remove(session, "stopped by the page")
        else:
            session.command(action, speed)
        return {"session": sid, "action": action}

    def attach(self, session: Session) -> None:
        """Count one more event stream watching ``session``."""
        with self.lock:
            session.clients += 1
            session.last_seen = time.monotonic()

    def detach(self, session: Session) -> None:
        """Count one stream fewer (the reaper stops a session nobody watches)."""
        with self.lock:
            session.clients -= 1
            session.last_seen = time.monotonic()

    def stop_all(self) -> None:
        """Stop every session and the reaper (the server is closing)."""
        self.closed.set()
        with self.lock:
            sessions = list(self.sessions.values())
        for session in sessions:
            self._remove(session, "the lab server stopped")

    def running(self) -> int:
        """How many sessions are running now."""
        with self.lock:
            return len(self.sessions)

    def _remove(self, session: Session, reason: str) -> None:
        session.stop(reason)
        with self.lock:
            if self.sessions.get(session.id) is session:
                del self.sessions[session.id]

    def _reap(self) -> None:
        while not self.closed.wait(min(1.0, self.grace / 4)):
            now = time.monotonic()
            with self.lock:
                orphans = [s for s in self.sessions.values()
                           if s.stopped or (s.clients <= 0 and now - s.last_seen > self.grace)]
            for session in orphans:
                self._remove(session, "no page was watching")


def _hidden_sizes(value) -> tuple[int, ...]:
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(" ", ",").split(",") if p.strip()]
        if not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):  # not '²', '٣'
            raise BadRequest(f"hidden sizes must be whole numbers separated by commas, as 16, 16; "
                             f"got {shown(value)}", "hidden", code="hidden")
        value = [int(p) for p in parts]
    if (not isinstance(value, (list, tuple))
            or any(isinstance(v, bool) or not isinstance(v, int) for v in value)):
        raise BadRequest(f"hidden sizes must be a list of whole numbers, got {shown(value)}",
                         "hidden", code="hidden")
    if not 1 <= len(value) <= LIMITS["hidden_layers"]:
        raise BadRequest(f"use 1 to {LIMITS['hidden_layers']} hidden layers, got {len(value)}",
                         "hidden", code="layers", limits=[1, LIMITS["hidden_layers"]])
    if not all(1 <= v <= LIMITS["hidden_size"] for v in value):
        raise BadRequest(f"each hidden layer has 1 to {LIMITS['hidden_size']} neurons, "
                         f"got {shown(list(value))}", "hidden", code="neurons",
                         limits=[1, LIMITS["hidden_size"]])
    return tuple(value)
