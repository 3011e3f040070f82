"""The lab's web server: Python's ThreadingHTTPServer, a static page and a small JSON API.

It serves the page (``GET /``, ``/static/<file>``) and the JSON API, whose routes
are in ``routes.py``.

Every request must name the server itself in its Host header (127.0.0.1:PORT,
localhost:PORT or [::1]:PORT): a page on another site that rebinds its DNS
name to 127.0.0.1 is refused with 403. Bodies are limited to 64 KiB (413).
Nothing a request sends is executed: formulas go through ``formula.py``'s
parser and every other field is checked against a range or a list.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .. import __version__
from .routes import ROUTES
from .validate import BadRequest

MAX_BODY = 64 * 1024
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

    def __init__(self, host: str = "127.0.0.1", port: int = 0, model_dir=None,
                 runs_root="runs", max_sessions: int = 4, session_grace: float = 15.0,
                 verbose: bool = False):
        from .descent import DescentRuns
        from .digits import DigitsLab
        from .sessions import SessionManager

        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)
        self.host = host
        self.port = self.server_address[1]
        self.verbose = verbose
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
    timeout = 120  # an idle keep-alive connection is closed after this many seconds

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
        try:
            if not self._host_allowed():
                raise BadRequest("this server answers only to its own loopback address "
                                 f"(Host {self.headers.get('Host')!r} refused)", None, status=403)
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

    def _host_allowed(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in self.server.allowed_hosts:
            return False
        origin = self.headers.get("Origin")
        # Browsers send Origin on cross-site POSTs and streams: only the lab's own page may call.
        return origin is None or origin.lower() in {f"http://{h}" for h in self.server.allowed_hosts}

    def _read_json(self) -> dict:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise BadRequest("send the body with a Content-Length", None, status=411)
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            self.close_connection = True
            raise BadRequest("bad Content-Length", None) from None
        if length > MAX_BODY:
            if length <= DRAIN_LIMIT:  # read it away, so the client sees the answer, not a reset
                self.rfile.read(length)
                self.body_read = True
            raise BadRequest(f"request body of {length} bytes is over the {MAX_BODY}-byte limit",
                             None, status=413)
        if length < 0:
            self.close_connection = True
            raise BadRequest("bad Content-Length", None)
        raw = self.rfile.read(length) if length else b""
        self.body_read = True
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(f"the body is not valid JSON ({e})", None) from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object", None)
        return body

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
