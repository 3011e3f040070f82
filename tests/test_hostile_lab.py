"""The lab against hostile requests: every route and field with values no page would send.

Each must be refused with a 4xx answer (never a 500, never a hang): numbers
past float's range, NaN and Infinity, deep nesting, wrong types, huge
strings, bad UTF-8, strange Content-Length headers, clients that trickle
their bytes or never finish, and more connections than the server serves.
"""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from zerodl.lab.server import start_in_thread
from zerodl.lab.validate import MAX_DEPTH

HUGE = "1" + "0" * 400                       # float(HUGE) raises OverflowError
# Values no field accepts (as JSON text, spliced into an otherwise good body).
MALFORMED = {
    "huge int": HUGE, "huge negative int": "-" + HUGE, "5000 digits": "7" * 5000,
    "1e400": "1e400", "NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity",
    "huge string": json.dumps("x" * 60_000), "lone surrogate": '"\\ud800"',
    "nested lists": "[" * 30 + "]" * 30, "nested objects": '{"a":' * 30 + "1" + "}" * 30,
    "huge ints in a list": f"[{HUGE}, {HUGE}]", "NaN in a list": "[NaN, 1]",
    "Infinity in a list": "[1, Infinity]", "5000 floats": json.dumps([1e308] * 5000),
    "objects in a list": '[{"name": {"name": []}}]',
}
# Wrong types: refused or, where the field is optional, read as its default; never a 500.
WRONG_TYPES = {"true": "true", "false": "false", "null": "null", "zero": "0", "-0": "-0",
               "tiny": "5e-324", "text number": '"1"', "empty text": '""', "empty list": "[]",
               "empty object": "{}", "three numbers": "[1, 2, 3]", "one number": "[1]",
               "fraction": "0.5"}

# Each POST route: a body it accepts, and the fields to spoil one at a time.
ROUTES = {
    "/api/surface": ({"function": "bowl", "n": 10, "arrows": 5},
                     ["function", "formula", "xlim", "ylim", "n", "arrows"]),
    "/api/descent": ({"function": "bowl", "start": [1, 1], "steps": 3, "delay_ms": 0,
                      "optimizers": [{"name": "sgd", "lr": 0.1}]},
                     ["function", "formula", "xlim", "ylim", "start", "steps", "delay_ms",
                      "optimizers", "optimizers.0", "optimizers.0.name", "optimizers.0.lr", "tab"]),
    "/api/network/start": ({"session": "fuzz-session", "paused": True, "dataset": "xor"},
                           ["session", "dataset", "noise", "hidden", "activation", "optimizer",
                            "lr", "batch_size", "seed", "speed"]),
    "/api/network/control": ({"session": "fuzz-session", "action": "speed", "speed": 10},
                             ["session", "action", "speed"]),
    "/api/network/stop": ({"session": "fuzz-not-running"}, ["session"]),
    "/api/digits/predict": ({"width": 8, "height": 8, "pixels": [0] * 64},
                            ["width", "height", "pixels"]),
    "/api/digits/train": ({"subset": 1000}, ["subset"]),
}
SPLICE = '"@@hostile@@"'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_in_thread(runs_root=tmp_path_factory.mktemp("runs"), max_sessions=2)
    s.digits._train = lambda subset: None          # a train request that gets through trains nothing
    yield s
    s.close()


def send(port, method, path, raw: bytes | None = None, headers=None, timeout=20):
    """(status, JSON answer or None) of one request on a new connection."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, body=raw, headers={"Content-Type": "application/json",
                                                **(headers or {})})
    r = c.getresponse()
    payload = r.read()
    c.close()
    return r.status, (json.loads(payload) if "json" in (r.getheader("Content-Type") or "") else None)


def spoiled(body: dict, field: str, value: str) -> bytes:
    """``body`` as JSON text with ``field`` (dotted into lists and objects) set to ``value``."""
    body = json.loads(json.dumps(body))
    *path, last = field.split(".")
    inner = body
    for key in path:
        inner = inner[int(key)] if isinstance(inner, list) else inner[key]
    inner[int(last) if isinstance(inner, list) else last] = "@@hostile@@"
    return json.dumps(body).replace(SPLICE, value).encode()


def cases(values):
    return [pytest.param(path, field, value, id=f"{path}:{field}:{name}")
            for path, (_, fields) in ROUTES.items() for field in fields
            for name, value in values.items()]


@pytest.fixture(autouse=True, scope="module")
def running_session(server):
    status, _ = send(server.port, "POST", "/api/network/start",
                     json.dumps(ROUTES["/api/network/start"][0]).encode())
    assert status == 200
    yield


@pytest.mark.parametrize("path, field, value", cases(MALFORMED))
def test_every_field_refuses_malformed_values_with_a_4xx(server, path, field, value):
    status, answer = send(server.port, "POST", path, spoiled(ROUTES[path][0], field, value))
    assert 400 <= status < 500, (status, answer)
    assert answer["error"] and len(answer["error"]) < 400          # a message, not an echo


@pytest.mark.parametrize("path, field, value", cases(WRONG_TYPES))
def test_every_field_answers_wrong_types_without_a_500(server, path, field, value):
    status, answer = send(server.port, "POST", path, spoiled(ROUTES[path][0], field, value))
    assert status < 500, answer


@pytest.mark.parametrize("path", list(ROUTES))
@pytest.mark.parametrize("raw", [
    b"[" * 20_000, b'{"a":' * 12_000, b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    ("[" * 20_000 + '"' + "]" * 20_000).encode(), HUGE.encode(), b"NaN", b"null", b"[]",
    b'"text"', b"\xff\xfe{}", '{"function": "bowl"}'.encode("utf-16"), b'\xef\xbb\xbf{}',
    b'{"function": "bo\xffwl"}', b'{"function": "bowl"', b"{" + b" " * 60_000 + b"}x",
], ids=lambda raw: repr(raw[:12]))
def test_every_route_refuses_bodies_that_are_not_a_plain_json_object(server, path, raw):
    status, answer = send(server.port, "POST", path, raw)
    assert status == 400 and answer["field"] is None, answer


def test_nesting_is_refused_before_parsing_and_allowed_within_the_limit(server):
    status, answer = send(server.port, "POST", "/api/surface", b"[" * 20_000)
    assert status == 400 and f"deeper than {MAX_DEPTH} levels" in answer["error"]
    brackets_in_a_string = json.dumps({"function": "bowl", "n": 10, "note": "[" * 20_000})
    assert send(server.port, "POST", "/api/surface", brackets_in_a_string.encode())[0] == 200


@pytest.mark.parametrize("field, value", [("lr", HUGE), ("noise", HUGE), ("xlim", f"[0, {HUGE}]"),
                                          ("start", f"[{HUGE}, 0]"), ("delay_ms", HUGE),
                                          ("pixels", json.dumps([0] * 63)[:-1] + f", {HUGE}]")])
def test_a_400_digit_integer_is_out_of_range_and_named(server, field, value):
    """The campaign's OverflowErrors: each is now a 400 naming the field."""
    path, body = {
        "lr": ("/api/network/start", {"session": "fuzz-session", "paused": True, "lr": 0}),
        "noise": ("/api/network/start", {"session": "fuzz-session", "paused": True, "noise": 0}),
        "xlim": ("/api/surface", {"function": "bowl", "xlim": 0}),
        "start": ("/api/descent", ROUTES["/api/descent"][0]),
        "delay_ms": ("/api/descent", ROUTES["/api/descent"][0]),
        "pixels": ("/api/digits/predict", ROUTES["/api/digits/predict"][0]),
    }[field]
    status, answer = send(server.port, "POST", path, spoiled(body, field, value))
    assert status == 400 and answer["field"] == field, answer
    assert HUGE not in answer["error"]


@pytest.mark.parametrize("path", [
    "/api/descent/events?run=%ff%fe", "/api/descent/events?run=" + "x" * 8000,
    "/api/descent/events?run=%00", "/api/descent/events?run", "/api/descent/events?run=a&run=b",
    "/api/network/events?session=%ff", "/api/network/events?session=" + "s" * 8000,
    "/api/network/events?session=../../etc/passwd", "/api/network/events",
])
def test_streams_refuse_unknown_or_malformed_ids_with_404(server, path):
    assert send(server.port, "GET", path)[0] == 404


@pytest.mark.parametrize("path", ["/static/%2e%2e/server.py", "/static/" + "a" * 10_000 + ".js",
                                  "/%ff", "/static/lab.js%00.png", "//etc/passwd",
                                  "/api/info/../../x", "/static/..\\server.py"])
def test_paths_outside_the_page_are_404(server, path):
    assert send(server.port, "GET", path)[0] == 404


def test_a_head_request_is_answered_without_a_body(server):
    """A HEAD answer has headers only: a body after them would be read as the next answer on
    the same keep-alive connection."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    host = f"Host: 127.0.0.1:{server.port}\r\n"
    sock.sendall(f"HEAD /api/info HTTP/1.1\r\n{host}\r\n".encode())
    time.sleep(0.3)                                   # all that the server sends is here now
    sock.settimeout(0.5)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except TimeoutError:
        pass                                          # the connection stays open: keep-alive
    assert answer.startswith(b"HTTP/1.1 405") and answer.endswith(b"\r\n\r\n"), answer
    sock.sendall(f"GET /api/info HTTP/1.1\r\n{host}Connection: close\r\n\r\n".encode())
    sock.settimeout(10)
    assert read_until_closed(sock).startswith(b"HTTP/1.1 200")
    sock.close()


def test_a_body_sent_with_a_get_is_never_read_as_the_next_request(server):
    """The server reads no body of a GET: the connection closes after the answer, so bytes
    hidden in such a body are not served as a request of their own."""
    sock = raw_connection(server)
    host = f"Host: 127.0.0.1:{server.port}\r\n"
    hidden = f"GET /api/hidden-request HTTP/1.1\r\n{host}\r\n"
    sock.sendall(f"GET /api/info HTTP/1.1\r\n{host}Content-Length: {len(hidden)}\r\n\r\n"
                 f"{hidden}".encode())
    answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200") and answer.count(b"HTTP/1.1 ") == 1, answer
    sock.close()


# ---------------------------------------------------------------- headers
@pytest.mark.parametrize("length", ["+2", " 2 ", "0_2", "２", "٢", "²", "2, 2", "-1", "0x2", "1e1",
                                    "", "2 2", "99999999999999999999"])
def test_content_length_is_digits_only(server, length):
    """int() reads '+2', ' 2 ', '0_2' and '٢' as 2: the header takes ASCII digits only."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.putrequest("POST", "/api/surface")
    c.putheader("Content-Length", length.encode())
    c.endheaders(b"{}")
    r = c.getresponse()
    answer = json.loads(r.read())
    c.close()
    assert r.status == 400 and "Content-Length" in answer["error"], answer


def test_two_content_length_headers_are_refused(server):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.putrequest("POST", "/api/surface")
    c.putheader("Content-Length", "2")
    c.putheader("Content-Length", "2")
    c.endheaders(b"{}")
    r = c.getresponse()
    assert r.status == 400 and "one header" in json.loads(r.read())["error"]
    c.close()


def test_a_refused_origin_is_named_as_the_origin(server):
    status, answer = send(server.port, "POST", "/api/surface", b'{"function": "bowl"}',
                          headers={"Origin": "http://evil.example"})
    assert status == 403
    assert "Origin 'http://evil.example' refused" in answer["error"] and "Host" not in answer["error"]
    status, answer = send(server.port, "GET", "/api/info", headers={"Origin": "null"})
    assert status == 403 and "Origin 'null'" in answer["error"]


# ---------------------------------------------------------------- slow clients, many clients
@pytest.fixture
def strict_server(tmp_path):
    s = start_in_thread(runs_root=tmp_path, idle_timeout=1.0, request_time=1.0, max_connections=3)
    yield s
    s.close()


def raw_connection(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_a_client_trickling_its_headers_is_cut_off(strict_server):
    sock = raw_connection(strict_server)
    sock.sendall(f"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1:{strict_server.port}\r\n".encode())
    t = time.monotonic()
    try:
        for _ in range(40):                       # one byte every 0.1 s: each read is quick
            sock.sendall(b"X")
            time.sleep(0.1)
    except OSError:
        pass                                      # the server closed the connection
    sock.settimeout(5)
    try:
        assert read_until_closed(sock) == b""
    except ConnectionResetError:
        pass
    assert time.monotonic() - t < 3.0             # request_time is 1 s
    sock.close()


def test_a_body_that_never_finishes_gets_408(strict_server):
    sock = raw_connection(strict_server)
    sock.sendall(f"POST /api/surface HTTP/1.1\r\nHost: 127.0.0.1:{strict_server.port}\r\n"
                 "Content-Length: 50\r\n\r\n{\"fun".encode())
    t = time.monotonic()
    answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 1 s" in answer
    assert time.monotonic() - t < 3.0
    sock.close()


def test_an_idle_keep_alive_connection_is_closed(strict_server):
    c = http.client.HTTPConnection("127.0.0.1", strict_server.port, timeout=10)
    c.request("GET", "/api/info")
    assert c.getresponse().read() and c.sock is not None
    t = time.monotonic()
    assert read_until_closed(c.sock) == b""       # closed by the server after 1 idle second
    assert 0.5 < time.monotonic() - t < 3.0
    c.close()


def test_connections_past_the_limit_get_503_and_the_server_recovers(strict_server):
    held = [raw_connection(strict_server) for _ in range(3)]    # each holds a thread, sends nothing
    time.sleep(0.2)
    extra = raw_connection(strict_server)
    answer = read_until_closed(extra)
    assert answer.startswith(b"HTTP/1.1 503") and b"try again in a moment" in answer
    extra.close()
    for sock in held:
        sock.close()
    deadline = time.monotonic() + 5
    while True:                                   # the held threads end as their sockets close
        try:
            status, _ = send(strict_server.port, "GET", "/api/info", timeout=5)
        except OSError:
            status = None
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 200
