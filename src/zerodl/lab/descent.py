"""The lab's descent panel: surfaces to draw and optimizer races to stream.

Everything is computed by ``zerodl.landscape`` (``grid``, ``gradient_field``
and ``iter_minimize`` with the real optimizers); this module only checks what
the page asked for and shapes the answers as JSON-ready values.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .. import landscape
from ..io import finite_list
from ..optim import BOOK_OPTIMIZERS
from ..optim import OPTIMIZERS as REGISTRY
from .formula import FormulaError, compile_formula, to_text
from .validate import BadRequest, identifier, integer, number, pair, shown

OPTIMIZERS = BOOK_OPTIMIZERS  # the book's six, in the registry's order (the page's order)
MAX_STEPS = 1000
MAX_DELAY_MS = 500
MAX_COORD = 1e4
FORMULA_WINDOW = (-5.0, 5.0)


@dataclass
class Surface:
    """What f the page asked for: its callable, how to name it, and its plotting window."""

    f: object
    name: str
    parsed: str | None
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minima: list


def resolve_surface(body: dict) -> Surface:
    """The function named by ``body["function"]`` or typed in ``body["formula"]`` (400 otherwise)."""
    formula = body.get("formula")
    if formula is not None and str(formula).strip():
        if not isinstance(formula, str):
            raise BadRequest("the formula must be text", "formula")
        try:
            parsed = compile_formula(formula)
        except FormulaError as e:
            raise BadRequest(str(e), "formula", position=e.position, code="formula",
                             reason=e.reason, reason_code=e.kind, token=e.token) from None
        xlim = pair(body, "xlim", FORMULA_WINDOW, MAX_COORD)
        ylim = pair(body, "ylim", FORMULA_WINDOW, MAX_COORD)
        return Surface(parsed, formula, to_text(parsed.tree), xlim, ylim, [])
    name = body.get("function")
    if not isinstance(name, str) or name not in landscape.FUNCTIONS:
        raise BadRequest(f"unknown function {shown(name)}; choose one of "
                         f"{', '.join(landscape.FUNCTIONS)} or type a formula", "function")
    entry = landscape.FUNCTIONS[name]
    xlim = pair(body, "xlim", entry.xlim, MAX_COORD)
    ylim = pair(body, "ylim", entry.ylim, MAX_COORD)
    return Surface(entry, name, None, xlim, ylim, [list(m) for m in entry.minima])


def functions_info() -> list[dict]:
    """Every built-in landscape with its formula, window, minima and a suggested start."""
    return [{"name": e.name, "formula": e.formula, "description": e.description,
             "xlim": list(e.xlim), "ylim": list(e.ylim), "minima": [list(m) for m in e.minima],
             "start": list(e.start)} for e in landscape.FUNCTIONS.values()]


def optimizers_info() -> list[dict]:
    """The optimizers the page offers, from ``optim.OPTIMIZERS``: name, label, the descent
    learning rate (``lr``), the training one (``train_lr``), and whether the book races it
    (fig. 6-8: ticked at first)."""
    return [{"name": name, "label": REGISTRY[name].label, "lr": REGISTRY[name].descent_lr,
             "train_lr": REGISTRY[name].lr, "book_race": REGISTRY[name].book_race}
            for name in OPTIMIZERS]


def surface(body: dict) -> dict:
    """f on an n×n grid, −∇f arrows on an m×m grid, and contour levels (quantiles of f)."""
    s = resolve_surface(body)
    n = integer(body, "n", 80, 10, 160)
    m = integer(body, "arrows", 17, 5, 40)
    with np.errstate(all="ignore"):
        X, Y, Z = landscape.grid(s.f, s.xlim, s.ylim, n=n)
        AX, AY, U, V = landscape.gradient_field(s.f, s.xlim, s.ylim, n=m)
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        raise BadRequest("f is not a finite number anywhere in the window", "formula"
                         if s.parsed else "function", code="nowhere")
    levels = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, 25)))
    return {
        "name": s.name, "parsed": s.parsed, "xlim": list(s.xlim), "ylim": list(s.ylim),
        "minima": s.minima, "n": n, "z": finite_list(Z), "levels": finite_list(levels),
        "zmin": float(finite.min()), "zmax": float(finite.max()),
        "arrows": {"n": m, "x": finite_list(AX[0]), "y": finite_list(AY[:, 0]),
                   "u": finite_list(-U), "v": finite_list(-V)},
    }


@dataclass
class DescentRun:
    """A race checked and waiting for the page's event stream to pick it up."""

    surface: Surface
    start: tuple[float, float]
    steps: int
    optimizers: list[tuple[str, float]]
    delay: float
    created: float
    tab: str = ""          # the page's tab id ("" for a client that sends none)


class DescentRuns:
    """Races waiting to be streamed, forgotten after ``ttl`` seconds if never opened.

    Fair to every tab: one tab (the ``tab`` id its page sends; clients that send
    none count as one) may have ``per_tab`` races waiting, and when ``limit``
    races wait in all, a new one pushes out the oldest race of the tab holding
    the most, so no client can shut the others out. (On localhost any program
    can invent tab ids; the push-out keeps even that from refusing anyone.)
    """

    def __init__(self, limit: int = 32, per_tab: int = 4, ttl: float = 60.0):
        self.limit, self.per_tab, self.ttl = limit, per_tab, ttl
        self._runs: dict[str, DescentRun] = {}
        self._lock = threading.Lock()

    def create(self, body: dict) -> tuple[str, DescentRun]:
        """Check the race in ``body`` and queue it: (its key, the DescentRun); 429 when its tab
        has ``per_tab`` races waiting already."""
        run = _parse_run(body)
        with self._lock:
            now = time.monotonic()
            for key in [k for k, r in self._runs.items() if now - r.created > self.ttl]:
                del self._runs[key]
            waiting = Counter(r.tab for r in self._runs.values())
            if waiting[run.tab] >= self.per_tab:
                raise BadRequest(f"this tab has {self.per_tab} races waiting to start already: "
                                 "open their event streams, or wait a minute", "tab", status=429,
                                 code="queue", count=self.per_tab)
            if len(self._runs) >= self.limit:
                busiest = max(waiting, key=waiting.get)
                del self._runs[next(k for k, r in self._runs.items() if r.tab == busiest)]
            key = secrets.token_urlsafe(12)
            self._runs[key] = run
        return key, run

    def waiting(self) -> int:
        """How many races wait for their event streams now."""
        with self._lock:
            return len(self._runs)

    def take(self, key: str) -> DescentRun | None:
        """The race queued under ``key``, removed from the queue (None when unknown or expired)."""
        with self._lock:
            return self._runs.pop(key, None)


def race(run: DescentRun):
    """Yield (event, data) pairs: "start", one "step" per step, "diverged" as runs blow up, "end".

    All optimizers advance in lock-step, each by its own ``landscape.iter_minimize``.
    """
    walkers = {name: landscape.iter_minimize(run.surface.f, run.start, name, lr, run.steps)
               for name, lr in run.optimizers}
    yield "start", {"function": run.surface.name, "start": list(run.start), "steps": run.steps,
                    "optimizers": [{"name": n, "lr": lr, "label": REGISTRY[n].label}
                                   for n, lr in run.optimizers]}
    results: dict[str, dict] = {}
    for step in range(run.steps + 1):
        points = {}
        for name in list(walkers):
            with np.errstate(all="ignore"):
                s = next(walkers[name])  # a walker is dropped at its last step, below
            point = finite_list(np.append(s.point, s.value))
            points[name] = point
            if s.diverged or step == run.steps:
                del walkers[name]
                results[name] = {"point": point[:2], "value": point[2], "steps": step,
                                 "diverged": bool(s.diverged)}
                if s.diverged:
                    yield "diverged", {"name": name, "step": step, "point": point}
        yield "step", {"step": step, "points": points}
        if not walkers:
            break
    yield "end", {"results": results}


def _parse_run(body: dict) -> DescentRun:
    tab = identifier(body, "tab", default="")     # "" for a client that names no tab
    s = resolve_surface(body)
    start = pair(body, "start", None, MAX_COORD, ordered=False)
    steps = integer(body, "steps", 100, 1, MAX_STEPS)
    delay = number(body, "delay_ms", 20.0, 0.0, MAX_DELAY_MS) / 1000.0
    chosen = body.get("optimizers")
    if not isinstance(chosen, list) or not chosen:
        raise BadRequest("tick at least one optimizer", "optimizers", code="tick")
    optimizers, seen = [], set()
    for item in chosen:
        if not isinstance(item, dict) or item.get("name") not in OPTIMIZERS:
            name = item.get("name") if isinstance(item, dict) else item
            raise BadRequest(f"unknown optimizer {shown(name)}; choose from {', '.join(OPTIMIZERS)}",
                             "optimizers")
        name = item["name"]
        if name in seen:
            raise BadRequest(f"{name} is listed twice", "optimizers")
        seen.add(name)
        lr = number(item, "lr", REGISTRY[name].descent_lr, 1e-6, 100.0, field=f"lr.{name}",
                    label=f"the learning rate of {REGISTRY[name].label}")
        optimizers.append((name, lr))
    return DescentRun(s, start, steps, optimizers, delay, time.monotonic(), tab)
