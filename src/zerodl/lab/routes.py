"""The lab's JSON API: one function per route, called by the server's request handler.

Routes (JSON in and out; streams are Server-Sent Events, ``text/event-stream``):

    GET  /                          the page (static/index.html; server.py serves it and its files)
    GET  /api/info                  version, functions, optimizers, datasets (and their noise),
                                    activations, limits, digits model
    POST /api/surface               f on a grid, -grad f arrows, contour levels
    POST /api/descent               check a race and queue it -> {"run": id}
    GET  /api/descent/events?run=   the race, step by step (SSE)
    POST /api/network/start         (re)start the tab's training session -> the dataset's points
    GET  /api/network/events?session=  its decision boundary, loss and accuracy (SSE)
    POST /api/network/control       {"session", "action": pause|resume|reset|speed|stop}
    POST /api/network/stop          the page's beacon when the tab goes away
    GET  /api/digits/model          which digit model is loaded; training progress
    POST /api/digits/predict        a drawing -> ten probabilities (+ CNN filters and feature maps)
    POST /api/digits/train          train an MLP on MNIST for one epoch, in the background

Each route takes (handler, body, query): the request's Handler, its JSON body
({} for a GET) and its query parameters. It returns the JSON answer, or None
after streaming Server-Sent Events itself. A BadRequest becomes a 4xx answer
naming the field.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .. import __version__
from .validate import BadRequest

if TYPE_CHECKING:
    from .server import Handler

HEARTBEAT = 5.0   # seconds between SSE comments, which also reveal a closed tab


def info(handler: Handler, body, query) -> dict:
    """GET /api/info: version, functions, optimizers, datasets with their default noise,
    activations, limits and the digit model: the page builds its menus from these."""
    from .descent import functions_info, optimizers_info
    from .sessions import ACTIVATIONS, DATASETS, LIMITS

    return {"version": __version__, "functions": functions_info(),
            "optimizers": optimizers_info(), "datasets": list(DATASETS),
            "dataset_noise": DATASETS, "activations": list(ACTIVATIONS), "network_limits": LIMITS,
            "digits": handler.server.digits.status()}


def surface(handler: Handler, body, query) -> dict:
    """POST /api/surface: f on a grid, -∇f arrows and contour levels."""
    from .descent import surface as compute

    return compute(body)


def descent_create(handler: Handler, body, query) -> dict:
    """POST /api/descent: check a race and queue it; the address of its event stream."""
    key, run = handler.server.descents.create(body)
    return {"run": key, "events": f"/api/descent/events?run={key}", "parsed": run.surface.parsed}


def descent_events(handler: Handler, body, query) -> None:
    """GET /api/descent/events: stream the queued race step by step."""
    from .descent import race

    run = handler.server.descents.take(query.get("run", ""))
    if run is None:
        raise BadRequest("no such race (it ran already or expired): press Run again", "run",
                         status=404, code="race")
    handler.start_events()
    try:
        for event, data in race(run):
            handler.send_event(event, data)
            if event == "step" and run.delay:
                time.sleep(run.delay)
            if handler.server.closing.is_set():
                return
    except OSError:
        return  # the page went away: nothing is left to compute


def network_start(handler: Handler, body, query) -> dict:
    """POST /api/network/start: (re)start the tab's training session."""
    return handler.server.sessions.start(body)


def network_events(handler: Handler, body, query) -> None:
    """GET /api/network/events: the session's snapshots as they come, with heartbeats."""
    manager = handler.server.sessions
    session = manager.get(query.get("session", ""))
    handler.start_events()
    manager.attach(session)
    try:
        version, quiet_since = -1, time.monotonic()
        handler.send_event("hello", session.hello())
        while not handler.server.closing.is_set() and not handler.client_gone():
            snapshot = session.wait(version, timeout=1.0)
            if snapshot is not None:
                version = snapshot["version"]
                handler.send_event("state", snapshot)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > HEARTBEAT:
                handler.send_comment()
                quiet_since = time.monotonic()
            if session.stopped:
                handler.send_event("stopped", {"reason": session.stop_reason})
                return
    except OSError:
        return  # the tab closed: the manager stops the session when no stream is left
    finally:
        manager.detach(session)


def network_control(handler: Handler, body, query) -> dict:
    """POST /api/network/control: pause, resume, reset, speed or stop a session."""
    return handler.server.sessions.control(body)


def network_stop(handler: Handler, body, query) -> dict:
    """POST /api/network/stop: the page's beacon as its tab goes away."""
    return handler.server.sessions.control({**body, "action": "stop"})


def digits_model(handler: Handler, body, query) -> dict:
    """GET /api/digits/model: which digit model is loaded, and training progress."""
    return handler.server.digits.status()


def digits_predict(handler: Handler, body, query) -> dict:
    """POST /api/digits/predict: a drawing in, ten probabilities out."""
    return handler.server.digits.predict(body)


def digits_train(handler: Handler, body, query) -> dict:
    """POST /api/digits/train: train an MLP on MNIST in the background."""
    return handler.server.digits.train(body)


ROUTES = {
    ("GET", "/api/info"): info,
    ("POST", "/api/surface"): surface,
    ("POST", "/api/descent"): descent_create,
    ("GET", "/api/descent/events"): descent_events,
    ("POST", "/api/network/start"): network_start,
    ("GET", "/api/network/events"): network_events,
    ("POST", "/api/network/control"): network_control,
    ("POST", "/api/network/stop"): network_stop,
    ("GET", "/api/digits/model"): digits_model,
    ("POST", "/api/digits/predict"): digits_predict,
    ("POST", "/api/digits/train"): digits_train,
}
