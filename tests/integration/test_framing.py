"""HTTP/1 framing and the edges of the request head, through the real gateway
on raw sockets (http.client would normalise most of these requests):
repeated X-Forwarded-For lines read as one list, request-smuggling shapes
(RFC 9112 §6.1/§6.3) answered once and closed, every parse error in the
SPEC's envelope (400/414/431/501) with a correlation id, a metric and an
access line, 414 over HTTP/2 and before any backend call, a repeated
Authorization header, and WWW-Authenticate on every 401."""

import json
import re
import shutil
import socket
import subprocess
import threading

import pytest

from gwtest import JWT_SECRET, bearer, make_token, request, wait_for


# ---- raw HTTP/1 -------------------------------------------------------------

def exchange(port, data, timeout=10):
    """Send `data` on one connection (from a thread, so that a server that
    answers early and closes does not block us), read until EOF. Fails if the
    server keeps the connection open (no EOF within `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        def send():
            try:
                s.sendall(data)
            except OSError:
                pass  # answered and closed before we finished: expected for huge heads
        t = threading.Thread(target=send, daemon=True)
        t.start()
        out = b""
        while True:
            try:
                more = s.recv(65536)
            except ConnectionResetError:
                break  # the server closed with our unread bytes in its queue
            except socket.timeout:
                raise AssertionError("connection still open after %d bytes: %r" % (len(out), out[:300]))
            if not more:
                break
            out += more
        t.join(timeout)
    return out


def parse_responses(data):
    """Split a byte stream into [(status, {header: value}, body)]."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, "truncated response head: %r" % data[:300]
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:n]))
        data = rest[n:]
    return out


def one_response(port, data):
    """Exactly one response, then EOF: nothing after the refused (or the
    last) head was read as another request."""
    got = parse_responses(exchange(port, data))
    assert len(got) == 1, [(s, b[:120]) for s, _, b in got]
    return got[0]


def assert_envelope(resp, status, code, message):
    st, headers, body = resp
    assert st == status, (st, body[:300])
    assert headers.get("content-type") == "application/json", headers
    doc = json.loads(body)
    assert doc["success"] is False
    assert doc["error"] == {"code": code, "message": message}
    assert doc["correlation_id"] and doc["correlation_id"] == headers.get("x-correlation-id")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", doc["timestamp"])
    assert headers.get("connection", "").lower() == "close", headers


def head(request_line, *fields, body=b""):
    """A raw request: request line, header lines, CRLF, body."""
    lines = [request_line] + list(fields)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ---- 1. repeated X-Forwarded-For lines ---------------------------------------

def test_repeated_forwarded_for_lines_are_one_list(gateway_factory):
    g = gateway_factory(conf={"JWT_SECRET": JWT_SECRET, "TRUSTED_PROXIES": "127.0.0.1/32",
                              "RATE_LIMIT_RPS": "0.01", "RATE_LIMIT_BURST": "5"})
    # the client is 10.0.0.5 whether the list comes as one line or two
    two_lines = head("GET /debug/shm HTTP/1.1", "Host: x", "X-Forwarded-For: 127.0.0.1",
                     "X-Forwarded-For: 10.0.0.5", "Connection: close")
    assert_envelope(one_response(g.port, two_lines), 403, "FORBIDDEN", "forbidden: address not in ADMIN_ALLOW")
    one_line = head("GET /debug/shm HTTP/1.1", "Host: x", "X-Forwarded-For: 127.0.0.1, 10.0.0.5",
                    "Connection: close")
    assert one_response(g.port, one_line)[0] == 403
    # every hop trusted: the leftmost is the origin (a local admin)
    trusted = head("GET /debug/shm HTTP/1.1", "Host: x", "X-Forwarded-For: 127.0.0.1",
                   "X-Forwarded-For: 127.0.0.1", "Connection: close")
    assert one_response(g.port, trusted)[0] == 200
    # varying the first line does not escape the client's bucket (burst 5)
    got = [one_response(g.port, head("GET /api/v1/users HTTP/1.1", "Host: x", "X-Forwarded-For: 10.9.0.%d" % i,
                                     "X-Forwarded-For: 10.0.0.7", "Connection: close"))[0] for i in range(8)]
    assert got == [401] * 5 + [429] * 3, got
    lines = [l for l in g.log_lines() if l.get("msg") == "access" and l["path"] == "/api/v1/users"]
    assert {l["ip"] for l in lines} == {"10.0.0.7"}


# ---- 2. request smuggling shapes ------------------------------------------------

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize("raw,message", [
    (head("POST /ready HTTP/1.1", "Host: x", "Content-Length: 0", "Content-Length: 37", body=SMUGGLED),
     "conflicting Content-Length headers"),
    (head("POST /ready HTTP/1.1", "Host: x", "Content-Length: 0", "Content-Length: 0", body=SMUGGLED),
     "duplicate Content-Length header"),
    (head("POST /ready HTTP/1.0", "Connection: keep-alive", "Transfer-Encoding: chunked",
          body=b"0\r\n\r\n" + SMUGGLED), "Transfer-Encoding not allowed in HTTP/1.0"),
    (head("POST /ready HTTP/1.0", "Connection: keep-alive", "Transfer-Encoding: chunked", "Content-Length: 5",
          body=b"0\r\n\r\n" + SMUGGLED), "Transfer-Encoding not allowed in HTTP/1.0"),
    (head("POST /ready HTTP/1.1", "Host: x", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked",
          body=b"0\r\n\r\n" + SMUGGLED), "duplicate Transfer-Encoding header"),
    (head("GET /ready HTTP/1.1", body=SMUGGLED), "missing Host header"),
    (head("GET /ready HTTP/1.1", "Host: a", "Host: b", body=SMUGGLED), "duplicate Host header"),
    (head("GET /ready HTTP/1.1", "Host: x", "X-A: 1", " folded", body=SMUGGLED), "obsolete line folding in header"),
    (head("POST /ready HTTP/1.1", "Host: x", "Content-Length: 0, 37", body=SMUGGLED), "invalid Content-Length header"),
], ids=["cl-differ", "cl-same", "te-http10", "te-cl-http10", "te-twice", "no-host", "two-hosts", "obs-fold",
        "cl-list"])
def test_smuggling_shapes_answered_once_then_closed(gateway, raw, message):
    assert_envelope(one_response(gateway.port, raw), 400, "BAD_REQUEST", message)


def test_unknown_transfer_coding_is_501(gateway):
    raw = head("POST /ready HTTP/1.1", "Host: x", "Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n" + SMUGGLED)
    assert_envelope(one_response(gateway.port, raw), 501, "NOT_IMPLEMENTED", "unsupported Transfer-Encoding")


def test_transfer_encoding_with_content_length_reads_chunked_then_closes(gateway):
    # By Content-Length the body would be "0\r\n\r\n" plus 32 bytes of the
    # next request; by chunked it is empty and the rest is a second request.
    # We read it as chunked, answer, and close: the rest is never a request.
    raw = head("GET /ready HTTP/1.1", "Host: x", "Content-Length: 37", "Transfer-Encoding: chunked",
               body=b"0\r\n\r\n" + SMUGGLED)
    status, headers, body = one_response(gateway.port, raw)
    assert status == 200 and json.loads(body) == {"status": "ready"}
    assert headers["connection"].lower() == "close"


def test_well_formed_keep_alive_still_pipelines(gateway):
    # the guard changes nothing for ordinary requests: two on one connection
    raw = (head("GET /ready HTTP/1.1", "Host: x") + head("POST /ready HTTP/1.1", "Host: x", "Content-Length: 2",
                                                         "Content-Type: application/json", body=b"{}")
           + head("GET /ready HTTP/1.0"))
    got = parse_responses(exchange(gateway.port, raw))
    assert [s for s, _, _ in got] == [200, 405, 200], got
    # the worker checked at start that libh2o's parser calls reach the guard
    assert "head guard not in libh2o's path" not in gateway.log_text()


# ---- 3. h2o's own parse errors and head limits, in the envelope ---------------

@pytest.mark.parametrize("raw,status,code,message", [
    (head("GET /ready HTTP/1.1", "Host: x", *["X-H%d: v" % i for i in range(120)]),
     431, "HEADERS_TOO_LARGE", "too many header fields"),
    (head("GET /ready HTTP/1.1", "Host: x", "X-Big: " + "a" * (1 << 20)),
     431, "HEADERS_TOO_LARGE", "request header fields too large"),
    (head("GET /ready HTTP/1.1", "Host: x", *["X-H%d: %s" % (i, "b" * 1000) for i in range(70)]),
     431, "HEADERS_TOO_LARGE", "request header fields too large"),
    (head("GET /ready?" + "q" * (1 << 20) + " HTTP/1.1", "Host: x"), 414, "URI_TOO_LONG", "request URI too long"),
    (head("GET /api/v1/users/" + "u" * 8200 + " HTTP/1.1", "Host: x"), 414, "URI_TOO_LONG", "request URI too long"),
    (head("GET /ready HTTP/1.1", "Host: x", "X-Nul: a\x00b"), 400, "BAD_REQUEST", "malformed request"),
    (head("GET /ready HTTP/1.1", "Host: x", "X-Cr: a\rb"), 400, "BAD_REQUEST", "malformed request"),
    (head("G\x01T /ready HTTP/1.1", "Host: x"), 400, "BAD_REQUEST", "malformed request"),
    (head("G(T /ready HTTP/1.1", "Host: x"), 400, "BAD_REQUEST", "invalid request method"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, 400, "BAD_REQUEST", "malformed request"),
], ids=["120-headers", "1MiB-header", "70KiB-of-headers", "1MiB-url", "8200-byte-path", "nul", "cr",
        "ctl-in-method", "bad-method", "tls-hello"])
def test_parse_errors_use_the_envelope(gateway, raw, status, code, message):
    assert_envelope(one_response(gateway.port, raw), status, code, message)
    gateway.wait_metric("api_gateway_requests_total", 1, endpoint="unmatched", status=str(status))
    wait_for(lambda: [l for l in gateway.log_lines() if l.get("msg") == "access" and l["status"] == status],
             what="access line for %d" % status)
    assert any(l.get("msg") == "bad request head" and l["reason"] == message for l in gateway.log_lines())


def test_head_just_under_the_limits_is_served(gateway):
    raw = head("GET /ready?" + "q" * (8192 - 7) + " HTTP/1.1", "Host: x", *["X-H%d: v" % i for i in range(90)],
               "X-Big: " + "a" * 60000, "Connection: close")
    status, _, body = one_response(gateway.port, raw)
    assert status == 200, body


def test_correlation_id_kept_on_a_refused_head(gateway):
    raw = head("GET /ready HTTP/1.1", "Host: a", "Host: b", "X-Correlation-ID: framing-abc-1")
    st, headers, body = one_response(gateway.port, raw)
    assert st == 400 and headers["x-correlation-id"] == "framing-abc-1"
    assert json.loads(body)["correlation_id"] == "framing-abc-1"


# ---- 4. long paths never reach a route or a backend --------------------------

def test_long_path_is_414_before_any_backend_call(stack):
    tok = make_token()
    ok = "/api/v1/users/" + "a" * (8192 - len("/api/v1/users/"))
    r = stack.gw.req("GET", ok, headers=bearer(tok))
    assert r.status == 404, r  # reached the backend, which has no such user
    assert len(stack.user.records("/GetUser")) == 1
    r = stack.gw.req("GET", ok + "a", headers=bearer(tok))
    assert r.status == 414 and r.json()["error"]["message"] == "request URI too long", r
    r = stack.gw.req("GET", "/api/v1/users/" + "b" * 100000, headers=bearer(tok))
    assert r.status == 414, r
    assert len(stack.user.records("/GetUser")) == 1


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_long_path_over_http2_is_414(gateway):
    url = "http://127.0.0.1:%d/api/v1/users/%s" % (gateway.port, "c" * 9000)
    r = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-D", "-", url], capture_output=True, timeout=20)
    out = r.stdout.decode()
    assert out.startswith("HTTP/2 414"), out[:300]
    doc = json.loads(out.split("\r\n\r\n", 1)[1])
    assert doc["error"] == {"code": "URI_TOO_LONG", "message": "request URI too long"}
    assert re.search(r"(?im)^x-correlation-id: " + re.escape(doc["correlation_id"]), out)
    gateway.wait_metric("api_gateway_requests_total", 1, endpoint="unmatched", status="414")


# ---- 5, 6. Authorization -------------------------------------------------------

def test_two_authorization_headers_are_refused(stack):
    raw = head("GET /api/v1/users HTTP/1.1", "Host: x", "Authorization: Bearer " + make_token(),
               "Authorization: Bearer junk", "Connection: close")
    assert_envelope(one_response(stack.gw.port, raw), 400, "BAD_REQUEST", "duplicate Authorization header")
    assert not stack.user.records("/ListUsers")


@pytest.mark.parametrize("headers,challenge", [
    ({}, 'Bearer realm="api-gateway"'),
    ({"Authorization": "Bearer a.b"}, 'Bearer realm="api-gateway", error="invalid_token"'),
    ({"Authorization": "Bearer " + make_token(exp_in=-60)}, 'Bearer realm="api-gateway", error="invalid_token"'),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, 'Bearer realm="api-gateway", error="invalid_request"'),
], ids=["missing", "garbage", "expired", "basic"])
def test_401_carries_www_authenticate(gateway, headers, challenge):
    r = request(gateway.port, "GET", "/api/v1/users", headers=headers)
    assert r.status == 401, r
    assert r.headers.get("www-authenticate") == challenge


def test_401_from_a_backend_carries_www_authenticate(stack):
    r = stack.gw.req("POST", "/api/v1/auth/login", body={"identifier": "nobody@example.com", "password": "wrong-pass"})
    assert r.status == 401, r
    assert r.headers.get("www-authenticate") == 'Bearer realm="api-gateway"'
    assert request(stack.gw.port, "GET", "/ready").headers.get("www-authenticate") is None
