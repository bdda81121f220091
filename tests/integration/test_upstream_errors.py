"""Upstream transport failures, told apart: each failure a backend can show
below the protocol (nothing listening, a name that does not resolve, a TLS
mismatch, a listener that never completes the connection, a reset) gets its
own message in the error envelope, its own `reason` label on
api_gateway_backend_requests_total and a `backend call failed` log line
with that reason -- for the gRPC backends and the notification HTTP proxy.
And the notification service's own health check in /health."""

import shutil
import socket
import struct
import subprocess
import threading

import pytest

from gwtest import bearer, free_port, make_token, wait_for

TOKEN_CLAIMS = {"user_id": "u-1", "tenant_id": "acme", "roles": ["user"]}
NO_BREAKER = {"CIRCUIT_BREAKER_ENABLED": "false"}


def get_user(stack):
    return stack.gw.req("GET", "/api/v1/users/u-1", headers=bearer(make_token(TOKEN_CLAIMS)))


def get_notifications(stack):
    return stack.gw.req("GET", "/api/v1/notifications", headers=bearer(make_token(TOKEN_CLAIMS)))


def failure_line(gw, service, reason):
    """The `backend call failed` log line for `service` with `reason`."""
    def find():
        return [l for l in gw.log_lines()
                if l.get("msg") == "backend call failed" and l.get("service") == service
                and l.get("reason") == reason]
    return wait_for(find, what="backend call failed %s reason=%s" % (service, reason))[0]


def assert_failure(stack, r, service, message, reason, code):
    assert r.status == 502, r
    assert r.json()["error"] == {"code": "BAD_GATEWAY", "message": message}
    line = failure_line(stack.gw, service, reason)
    assert line["message"] == message and line["details"]
    stack.gw.wait_metric("api_gateway_backend_requests_total", 1, service=service, code=code, reason=reason)


# ---- listeners that misbehave in one precise way ---------------------------

class Listener:
    """A loopback TCP listener that never speaks: `silent` completes the TCP
    handshake in the kernel but nobody accepts or writes (no HTTP/2 SETTINGS
    ever comes); `backlog` has a full accept queue, so SYNs go unanswered;
    `reset` accepts and resets the connection at once."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.fillers = []
        if mode == "backlog":
            self.sock.listen(0)
            for _ in range(4):  # fill the accept queue (backlog 0 holds one)
                c = socket.socket()
                c.setblocking(False)
                try:
                    c.connect(self.sock.getsockname())
                except BlockingIOError:
                    pass
                self.fillers.append(c)
        else:
            self.sock.listen(16)
        if mode == "reset":
            threading.Thread(target=self._reset_loop, daemon=True).start()

    def _reset_loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.recv(1)
            except OSError:
                pass
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.sock.getsockname()[1]

    def close(self):
        for c in self.fillers:
            c.close()
        self.sock.close()


@pytest.fixture
def listener():
    made = []

    def make(mode):
        made.append(Listener(mode))
        return made[-1]
    yield make
    for l in made:
        l.close()


# ---- gRPC backends ----------------------------------------------------------

def test_grpc_refused(stack_factory):
    s = stack_factory(conf=dict(NO_BREAKER, USER_SERVICE_URL="127.0.0.1:%d" % free_port()))
    assert_failure(s, get_user(s), "user-service", "connection refused", "refused", "UNAVAILABLE")


def test_grpc_name_that_does_not_resolve(stack_factory):
    s = stack_factory(conf=dict(NO_BREAKER, USER_SERVICE_URL="no-such-host.invalid:50052"))
    assert_failure(s, get_user(s), "user-service", "dial tcp: lookup no-such-host.invalid: no such host", "dns",
                   "UNAVAILABLE")


def test_grpc_tls_against_a_plaintext_backend(stack_factory):
    """GRPC_TLS=true while the backend listens in plaintext: the backend is up,
    so neither `connection refused` nor a timeout, but a TLS handshake failure."""
    s = stack_factory(conf=dict(NO_BREAKER, GRPC_TLS="true"))
    assert_failure(s, get_user(s), "user-service", "TLS handshake failed", "tls_handshake", "UNAVAILABLE")
    assert "Ssl handshake failed" in failure_line(s.gw, "user-service", "tls_handshake")["details"]
    r = wait_for(lambda: (lambda x: x if x.status == 503 else None)(s.gw.get("/health")), what="/health 503")
    assert r.json()["checks"]["user-service"] == "unhealthy: TLS handshake failed"


# A full accept queue ("backlog") is not deterministic on a busy machine: the
# kernel may complete a queued handshake and reset it later, which is a
# `reset`. The silent listener is the deterministic connect timeout.
@pytest.mark.parametrize("mode", ["silent"])
def test_grpc_connect_timeout(stack_factory, listener, mode):
    """A listener that accepts and never speaks HTTP/2, or never accepts: gRPC's
    connect attempt times out (within REQUEST_TIMEOUT) -- not `connection
    refused`, and not the request's own 504."""
    hung = listener(mode)
    # gRPC's connect timeout is half of REQUEST_TIMEOUT (here 2 s): the call
    # fails on the connect attempt, 2 s before its own deadline.
    s = stack_factory(conf=dict(NO_BREAKER, USER_SERVICE_URL=hung.addr, REQUEST_TIMEOUT="4"))
    assert_failure(s, get_user(s), "user-service", "connect timeout", "connect_timeout", "UNAVAILABLE")


def test_grpc_reset(stack_factory, listener):
    rst = listener("reset")
    s = stack_factory(conf=dict(NO_BREAKER, USER_SERVICE_URL=rst.addr))
    assert_failure(s, get_user(s), "user-service", "connection reset by backend", "reset", "UNAVAILABLE")


def test_completed_calls_have_reason_none(stack):
    r = get_user(stack)
    assert r.status == 404, r
    stack.gw.wait_metric("api_gateway_backend_requests_total", 1, service="user-service", code="NOT_FOUND",
                         reason="none")


def test_backends_own_unavailable_is_not_a_transport_failure(stack_factory):
    s = stack_factory(conf=NO_BREAKER, backend_args={"user": ["--fail-status", "14", "--fail-message", "db down"]})
    r = get_user(s)
    assert r.status == 503 and r.json()["error"]["message"] == "db down"
    s.gw.wait_metric("api_gateway_backend_requests_total", 1, service="user-service", code="UNAVAILABLE",
                     reason="none")


# ---- the notification HTTP proxy --------------------------------------------

def test_http_refused(stack):
    stack.notification.stop()
    assert_failure(stack, get_notifications(stack), "notification-service", "connection refused", "refused",
                   "TRANSPORT_ERROR")
    assert stack.gw.metric("api_gateway_backend_requests_total", service="notification-service",
                           code="HTTP_5XX") == 0


def test_http_name_that_does_not_resolve(stack_factory):
    s = stack_factory(conf=dict(NO_BREAKER, NOTIFICATION_SERVICE_URL="http://no-such-host.invalid:8084"))
    assert_failure(s, get_notifications(s), "notification-service",
                   "dial tcp: lookup no-such-host.invalid: no such host", "dns", "TRANSPORT_ERROR")


def test_http_connect_timeout(stack_factory, listener):
    hung = listener("backlog")
    s = stack_factory(conf=dict(NO_BREAKER, NOTIFICATION_SERVICE_URL="http://" + hung.addr, REQUEST_TIMEOUT="1"))
    assert_failure(s, get_notifications(s), "notification-service", "connect timeout", "connect_timeout",
                   "TRANSPORT_ERROR")


def test_http_reset(stack_factory, listener):
    rst = listener("reset")
    s = stack_factory(conf=dict(NO_BREAKER, NOTIFICATION_SERVICE_URL="http://" + rst.addr))
    assert_failure(s, get_notifications(s), "notification-service", "connection reset by backend", "reset",
                   "TRANSPORT_ERROR")


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) missing")
def test_reason_label_passes_promtool(stack):
    stack.notification.stop()
    get_notifications(stack)
    get_user(stack)
    stack.gw.wait_metric("api_gateway_backend_requests_total", 1, code="TRANSPORT_ERROR", reason="refused")
    stack.gw.wait_metric("api_gateway_backend_requests_total", 1, service="user-service", reason="none")
    text = stack.gw.get("/metrics").body
    assert b'reason="refused"' in text and b'reason="none"' in text
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr


# ---- the notification service in /health -----------------------------------

def health(stack):
    return stack.gw.get("/health")


def test_notification_health_follows_the_service(stack):
    r = wait_for(lambda: (lambda x: x if x.json()["status"] == "healthy" else None)(health(stack)),
                 what="healthy")
    assert r.status == 200
    assert r.json()["checks"] == {"auth-service": "healthy", "user-service": "healthy",
                                  "tenant-service": "healthy", "notification-service": "healthy"}
    stack.notification.stop()
    r = wait_for(lambda: (lambda x: x if x.json()["checks"]["notification-service"] ==
                          "unhealthy: connection refused" else None)(health(stack)),
                 what="notification-service unhealthy: connection refused")
    # Only degraded: the gRPC routes still work without the notification service.
    assert r.status == 200 and r.json()["status"] == "degraded"
    assert r.json()["checks"]["user-service"] == "healthy"
    stack.notification.start()
    wait_for(lambda: health(stack).json()["checks"]["notification-service"] == "healthy", what="recovery")
    wait_for(lambda: health(stack).json()["status"] == "healthy", what="overall healthy again")


def test_notification_health_path_is_configurable(stack_factory):
    s = stack_factory(conf={"NOTIFICATION_HEALTH_PATH": "/nope"})
    r = wait_for(lambda: (lambda x: x if x.json()["checks"]["notification-service"] != "unhealthy: not checked yet"
                          else None)(health(s)), what="notification probed")
    assert r.json()["checks"]["notification-service"] == "unhealthy: HTTP 404"
    assert r.status == 200 or r.json()["status"] == "unhealthy"  # 503 only while a gRPC probe is pending


def test_notification_health_not_serving(stack):
    wait_for(lambda: health(stack).json()["checks"]["notification-service"] == "healthy", what="healthy")
    stack.notification.signal(__import__("signal").SIGUSR2)  # the demo backend's NOT_SERVING switch
    wait_for(lambda: health(stack).json()["checks"]["notification-service"] == "unhealthy: HTTP 503",
             what="unhealthy: HTTP 503")
