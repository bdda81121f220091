"""The backend clients through the real gateway and the C demo backends:
message size limits (413 / 502, never 429 for our own limits), the path the
notification proxy forwards, and cancelling backend work when the client
hangs up (499)."""

import os
import socket

from gwtest import make_token, metric, request, wait_for

MiB = 1 << 20


def user_token(claims=None):
    c = {"user_id": "u-1", "tenant_id": "acme", "roles": ["user"]}
    c.update(claims or {})
    return make_token(c)


def auth(token=None):
    return {"Authorization": "Bearer " + (token or user_token())}


def call(stack, method, path, body=None, headers=None, timeout=30):
    h = auth()
    h.update(headers or {})
    return request(stack.gw.port, method, path, body=body, headers=h, timeout=timeout)


def access_line(gw, correlation_id):
    lines = [l for l in gw.log_lines() if l.get("msg") == "access" and l.get("correlation_id") == correlation_id]
    return lines[0] if lines else None


def backend_stderr(backend):
    with open(os.path.join(backend.dir, "stderr"), errors="replace") as f:
        return f.read()


# ---- item 5: message sizes -------------------------------------------------

def test_5mb_create_then_list_and_search_work_end_to_end(stack):
    """gRPC's default 4 MiB receive limit used to turn the created user's
    reply into a 429, and every later list of the tenant as well."""
    big = "x" * (5 * 1000 * 1000)
    r = call(stack, "POST", "/api/v1/users", {"email": "big@example.com", "username": "big", "first_name": big})
    assert r.status == 200, r
    user = r.json()["user"]
    assert len(user["first_name"]) == len(big)
    r = call(stack, "GET", "/api/v1/users")
    assert r.status == 200, r
    assert r.json()["total"] == 1 and r.json()["users"][0]["id"] == user["id"]
    r = call(stack, "GET", "/api/v1/users/search?query=big")
    assert r.status == 200 and r.json()["total"] == 1
    m = stack.gw.metrics()
    assert metric(m, "api_gateway_backend_requests_total", service="user-service", code="RESOURCE_EXHAUSTED") == 0
    assert metric(m, "api_gateway_requests_total", status="429") == 0


def test_grpc_reply_over_max_response_size_is_502_not_a_breaker_failure(stack_factory):
    s = stack_factory(conf={"MAX_RESPONSE_SIZE": str(MiB), "CB_MIN_REQUESTS": "2", "CB_FAILURE_RATIO": "0.5"})
    part = "y" * (600 * 1000)  # each reply fits, the list of both does not
    for i in range(2):
        r = call(s, "POST", "/api/v1/users", {"email": "u%d@example.com" % i, "first_name": part})
        assert r.status == 200, r
    for i in range(4):  # more than CB_MIN_REQUESTS: the breaker must stay closed
        r = call(s, "GET", "/api/v1/users", headers={"X-Correlation-ID": "big-list-%d" % i})
        assert r.status == 502, r
        assert r.json()["error"] == {"code": "BAD_GATEWAY", "message": "backend response too large"}
    assert len(s.user.records("/ListUsers")) == 4  # the backend answered every time
    s.gw.wait_metric("api_gateway_backend_requests_total", 4, service="user-service", code="RESPONSE_TOO_LARGE")
    m = s.gw.metrics()
    assert metric(m, "api_gateway_backend_requests_total", service="user-service", code="RESOURCE_EXHAUSTED") == 0
    assert metric(m, "api_gateway_circuit_breaker_state", service="user-service") == 0
    line = s.gw.wait_log(r'"msg":"backend message too large".*"correlation_id":"big-list-0"').group(0)
    assert "Received message larger than max" in line and '"service":"user-service"' in line
    assert call(s, "GET", "/api/v1/users/search?query=nobody").status == 200


def test_backend_resource_exhausted_stays_429_even_worded_like_a_size_limit(stack_factory):
    """A backend refusing with its own (4 MiB) limit is its answer, not ours."""
    msg = "Received message larger than max (5000110 vs. 4194304)"
    s = stack_factory(conf={"CIRCUIT_BREAKER_ENABLED": "false"},
                      backend_args={"user": ["--fail-status", "8", "--fail-message", msg]})
    r = call(s, "GET", "/api/v1/users")
    assert r.status == 429 and r.json()["error"]["message"] == msg, r
    s.gw.wait_metric("api_gateway_backend_requests_total", 1, service="user-service", code="RESOURCE_EXHAUSTED")
    assert s.gw.metric("api_gateway_backend_requests_total", code="RESPONSE_TOO_LARGE") == 0


def test_notification_reply_over_max_response_size_is_502(stack_factory):
    s = stack_factory(conf={"MAX_RESPONSE_SIZE": str(MiB)})
    r = call(s, "POST", "/api/v1/notifications/email", {"to": "a@b.c", "body": "z" * (MiB + 1000)})
    assert r.status == 201, r  # the request may be large; the reply is small
    r = call(s, "GET", "/api/v1/notifications", headers={"X-Correlation-ID": "big-notif"})
    assert r.status == 502, r
    assert r.json()["error"]["message"] == "backend response too large"
    s.gw.wait_metric("api_gateway_backend_requests_total", 1, service="notification-service",
                     code="RESPONSE_TOO_LARGE")
    s.gw.wait_log(r'"msg":"backend message too large".*"service":"notification-service"')
    assert call(s, "GET", "/api/v1/notifications/nope").status == 404  # the proxy still works


# ---- item 6: the path the notification proxy forwards ---------------------

def test_proxy_forwards_the_routed_path(stack):
    cases = [
        ("/internal/../api/v1/notifications?limit=5", 200, "/api/v1/notifications?limit=5"),
        ("/api/v1/notifications/x/..", 200, "/api/v1/notifications"),
        ("/api/v1//notifications/./abc", 404, "/api/v1/notifications/abc"),
        # decoded characters are re-encoded: "?" stays part of the id
        ("/api/v1/notifications/a%3Fb?limit=1", 404, "/api/v1/notifications/a%3Fb?limit=1"),
        ("/api/v1/notifications/caf%C3%A9", 404, "/api/v1/notifications/caf%C3%A9"),
    ]
    for path, status, forwarded in cases:
        before = len(stack.notification.records())
        r = call(stack, "GET", path)
        assert r.status == status, (path, r)
        recs = stack.notification.records()
        assert len(recs) == before + 1, path
        assert recs[-1]["path"] == forwarded, (path, recs[-1]["path"])


def test_proxy_never_forwards_encoded_dot_segments(stack):
    """h2o decodes %2e and %2F before resolving dot segments: such paths are
    routed (or refused) by their resolved form, and only that form may reach
    the backend, never the encoded one it could resolve its own way."""
    not_routed = [  # resolve outside /api/v1/notifications: the gateway's 404
        "/api/v1/notifications/%2e%2e",
        "/api/v1/notifications%2F%2e%2e",
        "/api/v1/notifications/%2e%2e%2F%2e%2e%2Fhealth",
        "/api/v1/notifications/..%2F..%2Fhealth",
        "/api/v1/notifications/%2E%2E/%2e%2e/health",
        "/api/v1/notifications/a%2Fb",
    ]
    for path in not_routed:
        r = call(stack, "GET", path)
        assert r.status == 404 and r.json()["error"]["message"] == "route not found", (path, r)
    assert stack.notification.records() == []
    routed = [  # resolve inside: forwarded in the resolved, canonical form
        ("/api/v1/notifications/%2E", "/api/v1/notifications"),
        ("/api/v1/notifications/abc%2F%2e%2e", "/api/v1/notifications"),
        ("/internal%2F%2e%2e%2Fapi/v1/notifications", "/api/v1/notifications"),
        ("/api/v1/notifications/x%2F%2E%2E%2Fy", "/api/v1/notifications/y"),
    ]
    for path, forwarded in routed:
        before = len(stack.notification.records())
        r = call(stack, "GET", path)
        assert r.status in (200, 404), (path, r)
        recs = stack.notification.records()
        assert len(recs) == before + 1 and recs[-1]["path"] == forwarded, (path, recs[-1]["path"])
    # a decoded control byte is refused before the backend
    for path in ("/api/v1/notifications/x%00y", "/api/v1/notifications/x%0Ay"):
        before = len(stack.notification.records())
        r = call(stack, "GET", path)
        assert r.status == 400 and r.json()["error"]["message"] == "invalid request path", (path, r)
        assert len(stack.notification.records()) == before
    stack.gw.wait_log(r'"msg":"proxy path refused".*"reason":"control character"')


# ---- item 11a: client hang-up cancels the backend call --------------------

def send_and_hang_up(gw, raw_request, backend, method):
    """Send one HTTP/1.1 request on a raw socket, wait until the backend has
    the call, then close the connection."""
    before = len(backend.records(method))
    sock = socket.create_connection(("127.0.0.1", gw.port))
    try:
        sock.sendall(raw_request)
        wait_for(lambda: len(backend.records(method)) > before, what="the backend call")
    finally:
        sock.close()


def raw_get(path, correlation_id, body=None):
    head = "%s %s HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer %s\r\nX-Correlation-ID: %s\r\n" % (
        "POST" if body else "GET", path, user_token(), correlation_id)
    if body:
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return (head + "\r\n").encode() + (body or b"")


def test_client_hangup_cancels_the_grpc_call(stack_factory):
    s = stack_factory(backend_args={"user": ["--latency-ms", "1900"]})
    send_and_hang_up(s.gw, raw_get("/api/v1/users/u-1", "hangup-grpc"), s.user, "/GetUser")
    line = wait_for(lambda: access_line(s.gw, "hangup-grpc"), timeout=10, what="the access line")
    assert line["status"] == 499, line
    assert line["latency_ms"] < 1500, line  # well before the backend would have answered
    assert line["upstream"] == "user-service"
    s.gw.wait_metric("api_gateway_requests_total", 1, status="499")
    s.gw.wait_metric("api_gateway_backend_requests_total", 1, service="user-service", code="CANCELLED")
    wait_for(lambda: "call cancelled by the client: /user.UserService/GetUser" in backend_stderr(s.user),
             what="the backend seeing the cancellation")


def test_client_hangup_cancels_the_proxied_request(stack_factory):
    s = stack_factory(backend_args={"notification": ["--latency-ms", "1900"]})
    send_and_hang_up(s.gw, raw_get("/api/v1/notifications/email", "hangup-http", b'{"to":"a@b.c"}'),
                     s.notification, "/email")
    line = wait_for(lambda: access_line(s.gw, "hangup-http"), timeout=10, what="the access line")
    assert line["status"] == 499 and line["latency_ms"] < 1500, line
    s.gw.wait_metric("api_gateway_requests_total", 1, status="499")
    s.gw.wait_metric("api_gateway_backend_requests_total", 1, service="notification-service", code="CANCELLED")


def test_pipelined_requests_are_not_a_hangup(stack_factory):
    s = stack_factory(backend_args={"user": ["--latency-ms", "300"]})
    sock = socket.create_connection(("127.0.0.1", s.gw.port))
    sock.settimeout(10)
    try:
        sock.sendall(raw_get("/api/v1/users/u-1", "pipe-1") + raw_get("/api/v1/users/u-2", "pipe-2"))
        data = b""
        while data.count(b"HTTP/1.1 404") < 2:
            chunk = sock.recv(65536)
            assert chunk, "connection closed after %r" % data
            data += chunk
    finally:
        sock.close()
    for cid in ("pipe-1", "pipe-2"):
        line = wait_for(lambda: access_line(s.gw, cid), what="access line " + cid)
        assert line["status"] == 404, line
    assert s.gw.metric("api_gateway_requests_total", status="499") == 0
