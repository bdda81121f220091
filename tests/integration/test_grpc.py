"""REST → gRPC through the real gateway and the C demo backends: every SPEC
route end to end (status, JSON body, the metadata the backend received),
error mapping for every gRPC code, transport failures worded as the guide
words them, the notification proxy, and /health from real probes."""

import json
import signal
import time
import uuid

import pytest

from gwtest import bearer, make_token, request, wait_for


def admin_token(claims=None):
    c = {"user_id": "admin-1", "tenant_id": "acme", "roles": ["admin"]}
    c.update(claims or {})
    return make_token(c)


def user_token(claims=None):
    c = {"user_id": "u-1", "tenant_id": "acme", "roles": ["user"]}
    c.update(claims or {})
    return make_token(c)


def call(stack, method, path, body=None, token=None, headers=None):
    h = dict(headers or {})
    if token:
        h.update(bearer(token))
    return stack.gw.req(method, path, body=body, headers=h)


def test_auth_routes_end_to_end(stack):
    r = call(stack, "POST", "/api/v1/auth/register",
             {"email": "alice@example.com", "username": "alice", "password": "correct-horse-battery",
              "tenantId": "acme"})  # lowerCamelCase accepted on input
    assert r.status == 200, r
    body = r.json()
    assert set(body) == {"user_id", "message"} and uuid.UUID(body["user_id"])
    rec = stack.auth.records("/Register")[-1]
    assert rec["request"]["tenant_id"] == "acme" and rec["request"]["phone"] == ""
    r = call(stack, "POST", "/api/v1/auth/login", {"identifier": "alice", "password": "correct-horse-battery"})
    assert r.status == 200, r
    login = r.json()
    assert login["token_type"] == "Bearer" and isinstance(login["expires_in"], int) and login["expires_in"] > 0
    r = call(stack, "POST", "/api/v1/auth/refresh", {"refresh_token": login["refresh_token"]})
    assert r.status == 200 and r.json()["access_token"]
    # the auth service's own token works on an authenticated route
    r = call(stack, "GET", "/api/v1/users", token=login["access_token"])
    assert r.status == 200, r
    # logout forwards the bearer token to the backend
    r = call(stack, "POST", "/api/v1/auth/logout", {}, token=login["access_token"])
    assert r.status == 200 and r.json() == {"success": True, "message": "logged out"}
    assert stack.auth.records("/Logout")[-1]["request"]["token"] == login["access_token"]


def test_bad_credentials_map_to_401(stack):
    r = call(stack, "POST", "/api/v1/auth/login", {"identifier": "nobody", "password": "whatever-long"})
    assert r.status == 401 and r.json()["error"]["message"] == "invalid credentials"


def test_user_routes_end_to_end(stack):
    tok = user_token()
    r = call(stack, "POST", "/api/v1/users", {"email": "bob@example.com", "username": "bob", "first_name": "Bob",
                                              "roles": ["user"]}, token=tok)
    assert r.status == 200, r
    user = r.json()["user"]
    # every field emitted, snake_case, defaults included; but never password_hash (RESPONSE_REDACT_FIELDS)
    assert set(user) == {"id", "email", "username", "phone", "document_number", "first_name", "last_name",
                         "avatar_url", "is_active", "created_at", "updated_at"}
    assert user["is_active"] is True and user["phone"] == "" and user["first_name"] == "Bob"
    uid = user["id"]
    assert stack.user.records("/CreateUser")[-1]["request"]["tenant_id"] == "acme"  # filled from the token
    r = call(stack, "GET", "/api/v1/users/" + uid, token=tok)
    assert r.status == 200 and r.json()["user"]["email"] == "bob@example.com"
    r = call(stack, "GET", "/api/v1/users?page=1&page_size=10", token=tok)
    assert r.status == 200
    listing = r.json()
    assert listing["total"] == 1 and listing["page"] == 1 and listing["page_size"] == 10
    assert [u["id"] for u in listing["users"]] == [uid]
    r = call(stack, "GET", "/api/v1/users/search?query=BOB", token=tok)
    assert r.status == 200 and r.json()["total"] == 1
    r = call(stack, "PUT", "/api/v1/users/" + uid, {"last_name": "Builder"}, token=tok)
    assert r.status == 200 and r.json()["user"]["last_name"] == "Builder"
    assert stack.user.records("/UpdateUser")[-1]["request"]["user_id"] == uid  # path variable
    r = call(stack, "DELETE", "/api/v1/users/" + uid, token=admin_token())
    assert r.status == 200 and r.json() == {"success": True}
    r = call(stack, "GET", "/api/v1/users/" + uid, token=tok)
    assert r.status == 404 and r.json()["error"]["message"] == "user not found"


def test_tenant_routes_end_to_end(stack):
    adm = admin_token()
    r = call(stack, "POST", "/api/v1/tenants", {"name": "Globex", "domain": "globex.test",
                                                "subscription_tier": "gold"}, token=adm)
    assert r.status == 200, r
    tenant = r.json()["tenant"]
    tid = tenant["id"]
    assert tenant["config"] is None or isinstance(tenant["config"], dict)
    r = call(stack, "GET", "/api/v1/tenants?page_size=5", token=adm)
    assert r.status == 200 and r.json()["total"] == 1
    r = call(stack, "GET", "/api/v1/tenants/" + tid, token=adm)
    assert r.status == 200 and r.json()["tenant"]["name"] == "Globex"
    r = call(stack, "PUT", "/api/v1/tenants/" + tid, {"subscription_tier": "platinum"}, token=adm)
    assert r.status == 200 and r.json()["tenant"]["subscription_tier"] == "platinum"
    r = call(stack, "POST", "/api/v1/tenants/%s/users" % tid, {"user_id": "u-9", "role": "member"}, token=adm)
    assert r.status == 200 and r.json() == {"success": True}
    rec = stack.tenant.records("/AddUserToTenant")[-1]["request"]
    assert rec == {"tenant_id": tid, "user_id": "u-9", "role": "member"}
    r = call(stack, "DELETE", "/api/v1/tenants/%s/users/u-9" % tid, token=adm)
    assert r.status == 200 and r.json() == {"success": True}
    r = call(stack, "DELETE", "/api/v1/tenants/" + tid, token=adm)
    assert r.status == 200
    r = call(stack, "GET", "/api/v1/tenants/" + tid, token=adm)
    assert r.status == 404 and r.json()["error"]["message"] == "tenant not found"


def test_metadata_reaches_the_backend(stack):
    tok = user_token({"user_id": "u-42", "tenant_id": "acme", "roles": ["user", "editor"]})
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    r = call(stack, "GET", "/api/v1/users/u-42", token=tok,
             headers={"X-Correlation-ID": "corr-meta-1", "traceparent": tp})
    assert r.status == 404
    md = stack.user.records("/GetUser")[-1]
    m = md["metadata"]
    assert m["x-correlation-id"] == "corr-meta-1"
    assert m["x-user-id"] == "u-42" and m["x-tenant-id"] == "acme" and m["x-roles"] == "user,editor"
    assert m["authorization"] == "Bearer " + tok
    assert "traceparent" in m
    assert 4000 <= md["deadline_ms"] <= 5100  # REQUEST_TIMEOUT=5 in the stack


def test_backend_validation_errors(stack):
    tok = user_token()
    body = {"email": "dup@example.com", "username": "dup"}
    assert call(stack, "POST", "/api/v1/users", body, token=tok).status == 200
    r = call(stack, "POST", "/api/v1/users", body, token=tok)
    assert r.status == 409 and r.json()["error"]["message"] == "user with this email already exists"
    r = call(stack, "POST", "/api/v1/users", {"username": "noemail"}, token=tok)
    assert r.status == 400 and "email" in r.json()["error"]["message"]


def test_transcoding_errors_are_400_without_a_backend_call(stack):
    tok = user_token()
    before = len(stack.user.records())
    r = call(stack, "POST", "/api/v1/users", {"email": "x@y.z", "nickname": "x"}, token=tok)
    assert r.status == 400 and r.json()["error"]["message"] == 'invalid JSON body: unknown field "nickname"'
    r = stack.gw.req("POST", "/api/v1/users", body=b"{not json", headers={**bearer(tok),
                                                                          "Content-Type": "application/json"})
    assert r.status == 400 and r.json()["error"]["message"].startswith("invalid JSON body: ")
    r = call(stack, "GET", "/api/v1/users?page=abc", token=tok)
    assert r.status == 400 and r.json()["error"]["message"].startswith('invalid query parameter "page"')
    assert len(stack.user.records()) == before


CODES = [  # gRPC code → HTTP status (SPEC §4)
    (1, 499), (2, 500), (3, 400), (4, 504), (5, 404), (6, 409), (7, 403), (8, 429), (9, 400), (10, 409),
    (11, 400), (12, 501), (13, 500), (14, 503), (15, 500), (16, 401),
]


@pytest.mark.parametrize("code,http", CODES)
def test_grpc_status_mapping(stack_factory, code, http):
    s = stack_factory(conf={"CIRCUIT_BREAKER_ENABLED": "false"},
                      backend_args={"user": ["--fail-status", str(code), "--fail-message", "boom %d" % code]})
    r = call(s, "GET", "/api/v1/users/any", token=user_token())
    assert r.status == http, r
    msg = r.json()["error"]["message"]
    assert msg == ("context deadline exceeded" if code == 4 else "boom %d" % code)
    s.gw.wait_metric("api_gateway_backend_requests_total", 1, service="user-service")


def test_backend_down_is_502_connection_refused(stack):
    stack.user.stop()
    r = call(stack, "GET", "/api/v1/users/u-1", token=user_token())
    assert r.status == 502, r
    assert r.json()["error"] == {"code": "BAD_GATEWAY", "message": "connection refused"}
    stack.gw.wait_log(r'"msg":"backend call failed".*"service":"user-service"')


def test_unresolvable_host_is_502_no_such_host(stack_factory):
    s = stack_factory(conf={"USER_SERVICE_URL": "no-such-host.invalid:50052"})
    r = call(s, "GET", "/api/v1/users/u-1", token=user_token())
    assert r.status == 502, r
    assert r.json()["error"]["message"] == "dial tcp: lookup no-such-host.invalid: no such host"


def test_slow_backend_is_504_context_deadline_exceeded(stack_factory):
    s = stack_factory(conf={"REQUEST_TIMEOUT": "0.5"}, backend_args={"user": ["--latency-ms", "3000"]})
    t0 = time.monotonic()
    r = call(s, "GET", "/api/v1/users/u-1", token=user_token())
    took = time.monotonic() - t0
    assert r.status == 504 and r.json()["error"]["message"] == "context deadline exceeded"
    assert 0.4 < took < 2.0


def test_health_reports_a_stopped_backend(stack):
    wait_for(lambda: stack.gw.get("/health").json()["status"] == "healthy", what="all backends healthy")
    body = stack.gw.get("/health").json()
    assert body["status"] == "healthy"
    assert body["checks"] == {"auth-service": "healthy", "user-service": "healthy", "tenant-service": "healthy",
                              "notification-service": "healthy"}
    stack.tenant.stop()

    def unhealthy():
        r = stack.gw.get("/health")
        return r if r.status == 503 else None
    r = wait_for(unhealthy, timeout=10, what="/health 503")
    body = r.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["tenant-service"] == "unhealthy: connection refused"
    assert body["checks"]["user-service"] == "healthy"
    stack.tenant.start()
    wait_for(lambda: stack.gw.get("/health").status == 200, timeout=10, what="recovery")


def test_health_not_serving(stack):
    wait_for(lambda: stack.gw.get("/health").status == 200, what="healthy")
    stack.auth.signal(signal.SIGUSR2)  # NOT_SERVING
    r = wait_for(lambda: (lambda x: x if x.status == 503 else None)(stack.gw.get("/health")), what="503")
    assert r.json()["checks"]["auth-service"] == "unhealthy: NOT_SERVING"


def test_notification_proxy(stack):
    tok = user_token()
    r = call(stack, "POST", "/api/v1/notifications/email", {"to": "a@b.c", "subject": "hi"}, token=tok,
             headers={"X-Correlation-ID": "notif-1"})
    assert r.status == 201, r
    nid = r.json()["id"]
    rec = stack.notification.records()[-1]
    assert rec["metadata"]["x-correlation-id"] == "notif-1" and rec["metadata"]["x-user-id"] == "u-1"
    assert rec["request"] == {"to": "a@b.c", "subject": "hi"}
    r = call(stack, "GET", "/api/v1/notifications/" + nid, token=tok)
    assert r.status == 200 and r.json()["id"] == nid
    r = call(stack, "GET", "/api/v1/notifications?limit=5", token=tok)
    assert r.status == 200
    r = call(stack, "GET", "/api/v1/notifications/nope", token=tok)
    assert r.status == 404
    assert call(stack, "GET", "/api/v1/notifications").status == 401  # needs a token
    stack.notification.stop()
    r = call(stack, "POST", "/api/v1/notifications/webhook", {"url": "http://x"}, token=tok)
    assert r.status == 502 and r.json()["error"]["message"] == "connection refused"
    stack.gw.wait_metric("api_gateway_backend_requests_total", 1, service="notification-service",
                         code="HTTP_4XX")


def test_backend_metrics_and_access_log(stack):
    tok = user_token()
    call(stack, "GET", "/api/v1/users/nobody", token=tok, headers={"X-Correlation-ID": "m-1"})
    stack.gw.wait_metric("api_gateway_backend_requests_total", 1, service="user-service", code="NOT_FOUND")
    m = stack.gw.metrics()
    from gwtest import metric
    assert metric(m, "api_gateway_requests_total", endpoint="/api/v1/users/{user_id}", status="404") == 1
    assert metric(m, "api_gateway_backend_duration_seconds_count", service="user-service") == 1
    line = wait_for(lambda: [l for l in stack.gw.log_lines() if l.get("correlation_id") == "m-1"])[0]
    assert line["upstream"] == "user-service" and line["user_id"] == "u-1" and line["tenant_id"] == "acme"
    assert line["endpoint"] == "/api/v1/users/{user_id}"


def test_many_concurrent_calls(stack):
    import threading
    tok = user_token()
    statuses = []

    def run():
        for _ in range(25):
            statuses.append(call(stack, "GET", "/api/v1/users/none", token=tok).status)
    ts = [threading.Thread(target=run) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert statuses.count(404) == 200


def test_path_variables_are_decoded_once_and_control_bytes_refused(stack):
    """The router matches h2o's normalized path, which is already
    percent-decoded: a path variable must reach the backend as decoded once
    (`%2541` is `%41`, `%252F` is `%2F`, never `A` or `/`), and a decoded
    control byte (`%00` would cut the id short in the backend) is a 400."""
    tok = bearer(make_token({"tenant_id": "acme"}))
    for path, user_id in [("/api/v1/users/a%2541", "a%41"), ("/api/v1/users/a%252Fb", "a%2Fb"),
                          ("/api/v1/users/a%41b", "aAb"), ("/api/v1/users/a%20b", "a b")]:
        before = len(stack.user.records("/GetUser"))
        r = stack.gw.req("GET", path, headers=tok)
        assert r.status == 404, (path, r)
        recs = stack.user.records("/GetUser")
        assert len(recs) == before + 1 and recs[-1]["request"]["user_id"] == user_id, (path, recs[-1])
    for path in ("/api/v1/users/a%00b", "/api/v1/users/a%0Ab", "/api/v1/users/a%7Fb"):
        before = len(stack.user.records("/GetUser"))
        r = stack.gw.req("GET", path, headers=tok)
        assert r.status == 400 and r.json()["error"]["message"] == "invalid request path", (path, r)
        assert len(stack.user.records("/GetUser")) == before, path
