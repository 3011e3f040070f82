"""The lab's web server: Python's ThreadingHTTPServer, a static page and a small JSON API.

It serves the page (``GET /``, ``/static/<file>``) and the JSON API, whose routes
are in ``routes.py``.

Every request must name the server itself in its Host header (127.0.0.1:PORT,
localhost:PORT or [::1]:PORT): a page on another site that rebinds its DNS
name to 127.0.0.1 is refused with 403, and so is a call from another site's
page (its Origin header). Bodies are limited to 64 KiB (413) and 32 levels of
nesting. Nothing a request sends is executed: formulas go through
``formula.py``'s parser and every other field is checked against a range or a list.

Sized for a classroom: the listen queue holds LISTEN_QUEUE connections (a
full queue drops them, and clients retry only after 1, 3, 7 s), at most
MAX_CONNECTIONS are served at once (one thread each; more get 503), a
connection waits at most IDLE_TIMEOUT seconds for its next request and a
request must arrive whole within REQUEST_TIME seconds of its first byte, so
a slow client cannot hold a thread for long.
"""

from __future__ import annotations

import io
import json
import select
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .. import __version__
from .routes import ROUTES
from .validate import BadRequest, read_json, shown

MAX_BODY = 64 * 1024
LISTEN_QUEUE = 256        # connections waiting to be accepted (socketserver's default is 5)
MAX_CONNECTIONS = 256     # connections served at once
IDLE_TIMEOUT = 30.0       # seconds a connection waits for its next request, or for a write
REQUEST_TIME = 10.0       # seconds from a request's first byte until its body has arrived
DRAIN_LIMIT = 1024 * 1024
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".js": "text/javascript; charset=utf-8", ".png": "image/png",
                ".svg": "image/svg+xml"}
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class LabServer(ThreadingHTTPServer):
    """The lab on ``host:port`` (port 0 picks a free one); ``serve_forever()`` runs it.

    Each request gets its own daemon thread, so a training stream in one tab
    never blocks another request. ``close()`` stops every session and the server.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_QUEUE

    def __init__(self, host: str = "127.0.0.1", port: int = 0, model_dir=None,
                 runs_root="runs", max_sessions: int = 4, session_grace: float = 15.0,
                 verbose: bool = False, max_connections: int = MAX_CONNECTIONS,
                 idle_timeout: float = IDLE_TIMEOUT, request_time: float = REQUEST_TIME):
        from .descent import DescentRuns
        from .digits import DigitsLab
        from .sessions import SessionManager

        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)
        self.host = host
        self.port = self.server_address[1]
        self.verbose = verbose
        self.idle_timeout, self.request_time = idle_timeout, request_time
        self._slots = threading.BoundedSemaphore(max_connections)
        self.allowed_hosts = allowed_hosts(host, self.port)
        self.descents = DescentRuns()
        try:
            self.digits = DigitsLab(model_dir, runs_root)
        except Exception:
            self.server_close()
            raise
        self.sessions = SessionManager(max_sessions=max_sessions, grace=session_grace)
        self.closing = threading.Event()

    @property
    def url(self) -> str:
        """The address to open in a browser (a loopback one when listening on every interface)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}/"

    def close(self) -> None:
        """Stop the sessions, the serving loop (when running) and the socket."""
        self.closing.set()
        self.sessions.stop_all()
        self.digits.stop()
        if getattr(self, "_serving", False):
            self.shutdown()
        self.server_close()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve requests until ``close()`` (remembering that it runs, for ``close``)."""
        self._serving = True
        try:
            super().serve_forever(poll_interval)
        finally:
            self._serving = False

    def process_request(self, request, client_address) -> None:
        """Serve a new connection in its own thread, or answer 503 when all slots are taken."""
        if not self._slots.acquire(blocking=False):
            _answer_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        """The connection's thread: its requests, then its slot is free again."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host header values that name this server: its loopback names with its port."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if host not in ("0.0.0.0", "::", ""):
        names.add(f"[{host}]" if ":" in host else host)
    return {f"{name}:{port}".lower() for name in names}


def start_in_thread(host: str = "127.0.0.1", port: int = 0, **kwargs) -> LabServer:
    """A LabServer already serving in a daemon thread (tests and notebooks); ``close()`` ends it."""
    server = LabServer(host, port, **kwargs)
    threading.Thread(target=server.serve_forever, name="zerodl-lab", daemon=True).start()
    return server


# ---------------------------------------------------------------- the handler
class Handler(BaseHTTPRequestHandler):
    """One request: the Host check, the route, and a JSON, static or event-stream answer."""

    server: LabServer
    server_version = f"zerodl-lab/{__version__}"
    protocol_version = "HTTP/1.1"

    def setup(self):
        """Read the connection through a _RequestReader (the server's time limits)."""
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)
        self.rfile.close()
        self.rfile = io.BufferedReader(_RequestReader(self.connection, self.server.idle_timeout,
                                                      self.server.request_time))

    def handle_one_request(self):
        """One request of the connection; the REQUEST_TIME clock starts at its first byte."""
        self.rfile.raw.deadline = None
        super().handle_one_request()

    def do_GET(self):
        """A GET: the page, its files, or a route of the API."""
        self._dispatch("GET")

    def do_POST(self):
        """A POST: a route of the API with a JSON body."""
        self._dispatch("POST")

    def do_HEAD(self):
        """HEAD is not served: 405."""
        self._send_json(405, {"error": "use GET or POST", "field": None})

    def _dispatch(self, method: str) -> None:
        self.streaming = False
        self.body_read = method != "POST"
        if method != "POST" and (self.headers.get("Content-Length", "0").strip() != "0"
                                 or self.headers.get("Transfer-Encoding")):
            self.close_connection = True  # a GET's body is never read: it must not become a request
        try:
            self._check_caller()
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if method == "GET" and (url.path == "/" or url.path.startswith("/static/")):
                return self._static(url.path)
            route = ROUTES.get((method, url.path))
            if route is None:
                known = any(path == url.path for _, path in ROUTES)
                raise BadRequest(f"{method} {url.path} is not part of the lab's API", None,
                                 status=405 if known else 404)
            body = self._read_json() if method == "POST" else {}
            result = route(self, body, query)
            if result is not None:
                self._send_json(200, result)
        except BadRequest as e:
            if not self.body_read:
                self.close_connection = True  # an unread body must not be taken for a request
            self._send_json(e.status, e.body())
        except TimeoutError:
            self.close_connection = True
            if not self.streaming:
                self._send_json(408, {"error": f"the request did not arrive within "
                                               f"{self.server.request_time:g} s", "field": None})
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception as e:  # a bug: say so, keep serving
            traceback.print_exc(file=sys.stderr)
            message = {"error": f"internal error: {type(e).__name__}: {e}", "field": None}
            if not self.streaming:
                self._send_json(500, message)
                return
            try:
                self.send_event("failed", message)
            except OSError:
                pass

    def _check_caller(self) -> None:
        """403 unless the Host header names this server and any Origin is the lab's own page."""
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in self.server.allowed_hosts:
            raise BadRequest("this server answers only to its own loopback address "
                             f"(Host {shown(self.headers.get('Host'))} refused)", None, status=403)
        origin = self.headers.get("Origin")
        # Browsers send Origin on cross-site POSTs and streams: only the lab's own page may call.
        if origin is not None and origin.lower() not in {f"http://{h}"
                                                         for h in self.server.allowed_hosts}:
            raise BadRequest("only the lab's own page may call this server "
                             f"(Origin {shown(origin)} refused)", None, status=403)

    def _read_json(self) -> dict:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise BadRequest("send the body with a Content-Length", None, status=411)
        length = self._content_length()
        if length > MAX_BODY:
            if length <= DRAIN_LIMIT:  # read it away, so the client sees the answer, not a reset
                self.rfile.read(length)
                self.body_read = True
            raise BadRequest(f"request body of {length} bytes is over the {MAX_BODY}-byte limit",
                             None, status=413)
        raw = self.rfile.read(length) if length else b""
        self.body_read = True
        return read_json(raw)

    def _content_length(self) -> int:
        """The one Content-Length header, ASCII digits only (int() would take '+2', '0_2', '٢')."""
        values = self.headers.get_all("Content-Length") or ["0"]
        text = values[0]
        if len(values) > 1 or not (text.isascii() and text.isdigit()) or len(text) > 12:
            self.close_connection = True
            raise BadRequest(f"bad Content-Length {shown(', '.join(values))}: send one header "
                             "of digits only", None)
        return int(text)

    # -- responses
    def _headers(self, status: int, content_type: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CSP)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _send_json(self, status: int, obj) -> None:
        data = json.dumps(obj, allow_nan=False).encode()
        try:
            self._headers(status, "application/json", len(data))
            if self.command != "HEAD":  # a HEAD answer is headers only (HTTP): no body follows
                self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _static(self, path: str) -> None:
        name = "index.html" if path == "/" else path[len("/static/"):]
        kind = STATIC_TYPES.get(Path(name).suffix)
        # Only plain names of the package's own files: no folders, no '..'.
        if not name or "/" in name or "\\" in name or name.startswith(".") or kind is None:
            raise BadRequest(f"no such file: {path}", None, status=404)
        try:
            data = resources.files(__package__).joinpath("static", name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, OSError):
            raise BadRequest(f"no such file: {path}", None, status=404) from None
        self._headers(200, kind, len(data))
        self.wfile.write(data)

    def start_events(self) -> None:
        """Begin a Server-Sent Events response; the connection closes when the stream ends."""
        self.close_connection = True
        self.streaming = True
        self._headers(200, "text/event-stream; charset=utf-8", None)
        self.wfile.write(b"retry: 3000\n\n")

    def send_event(self, event: str, data) -> None:
        """One SSE message; raises OSError when the page has gone."""
        payload = json.dumps(data, allow_nan=False, separators=(",", ":"))
        self.wfile.write(f"event: {event}\ndata: {payload}\n\n".encode())

    def send_comment(self, text: str = "ping") -> None:
        """An SSE comment line (a heartbeat the page ignores); raises OSError when the page has gone."""
        self.wfile.write(f": {text}\n\n".encode())

    def client_gone(self) -> bool:
        """True once the page has closed its end of an event stream (it never sends more)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def log_message(self, format, *args):
        """Log requests only with ``--verbose``."""
        if self.server.verbose:
            super().log_message(format, *args)


# ---------------------------------------------------------------- helpers
class _RequestReader(io.RawIOBase):
    """The connection as its handler reads it: ``idle`` seconds to wait for a request's first
    byte, then ``limit`` seconds for the rest of it, however slowly it trickles in."""

    def __init__(self, sock: socket.socket, idle: float, limit: float):
        self.sock, self.idle, self.limit = sock, idle, limit
        self.deadline: float | None = None     # set at a request's first byte

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        timeout = self.idle if self.deadline is None else self.deadline - time.monotonic()
        if timeout <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.sock.settimeout(timeout)
        try:
            n = self.sock.recv_into(buffer)
        finally:
            self.sock.settimeout(self.idle)      # writes wait at most idle seconds
        if n and self.deadline is None:
            self.deadline = time.monotonic() + self.limit
        return n


def _answer_busy(request: socket.socket) -> None:
    """A 503 written straight to a connection that gets no thread (every slot is taken)."""
    body = json.dumps({"error": "the lab is serving as many connections as it can: "
                                "try again in a moment", "field": None}).encode()
    head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n")
    try:
        request.settimeout(1.0)
        request.sendall(head.encode() + body)
    except OSError:
        pass
