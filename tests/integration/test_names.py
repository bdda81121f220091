"""The segment's names table (shm/names.c) through the real gateway: counts
stay attached to a route template and a service across a reload, /debug/shm
shows the table (services and endpoints by slot), /admin/breakers names its
services from it, and a reset of an unknown service lists what exists."""

from gwtest import bearer, make_token, request, wait_for

BUNDLED = ["auth-service", "user-service", "tenant-service", "notification-service"]


def users_count(g, status="200"):
    return g.metric("api_gateway_requests_total", method="GET", endpoint="/api/v1/users", status=status)


def test_reload_keeps_endpoint_counts(stack_factory):
    s = stack_factory()
    tok = bearer(make_token())
    for _ in range(5):
        assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200
    assert s.gw.get("/no/such/route").status == 404
    wait_for(lambda: users_count(s.gw) == 5, what="5 GET /api/v1/users counted")
    wait_for(lambda: s.gw.metric("api_gateway_requests_total", method="GET", endpoint="unmatched",
                                 status="404") == 1, what="the 404 counted as unmatched")
    backend = s.gw.metric("api_gateway_backend_requests_total", service="user-service", code="OK",
                          reason="none")
    assert backend >= 5
    s.gw.reload()
    # The new generation counts into the same slots: nothing restarts from 0.
    assert users_count(s.gw) == 5
    assert s.gw.metric("api_gateway_requests_total", method="GET", endpoint="unmatched", status="404") == 1
    assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200
    wait_for(lambda: users_count(s.gw) == 6, what="the new generation adds to the same series")
    m = s.gw.metrics()
    hist = [v for (name, labels), v in m.items()
            if name == "api_gateway_request_duration_seconds_count"
            and dict(labels) == {"method": "GET", "endpoint": "/api/v1/users"}]
    assert hist == [6]
    assert s.gw.metric("api_gateway_backend_requests_total", service="user-service", code="OK",
                       reason="none") >= backend + 1


def test_debug_shm_shows_the_names_table(gateway):
    shm = gateway.get("/debug/shm").json()
    assert shm["layout_version"] == 6
    assert shm["regions"]["names"]["bytes"] >= (16 + 128) * 128
    names = shm["names"]
    assert names["services"] == BUNDLED
    eps = names["endpoints"]
    assert eps[0] == "unmatched"
    for tmpl in ("/api/v1/users", "/api/v1/users/{user_id}", "/health", "/admin/breakers/{service}/reset"):
        assert tmpl in eps
    assert len(eps) == len(set(eps))
    gateway.reload()
    assert gateway.get("/debug/shm").json()["names"] == names  # same routes: same slots


def test_breakers_named_from_the_table(gateway):
    b = gateway.get("/admin/breakers").json()["breakers"]
    assert list(b) == BUNDLED
    assert all(v["state"] == "closed" for v in b.values())
    r = request(gateway.port, "POST", "/admin/breakers/user-service/reset")
    assert r.status == 200 and r.json()["service"] == "user-service"
    r = request(gateway.port, "POST", "/admin/breakers/billing.v1.Billing/reset")
    assert r.status == 404
    assert r.json()["error"]["message"] == (
        'unknown service "billing.v1.Billing" (one of auth-service, user-service, tenant-service, '
        'notification-service)')
    states = [(dict(l)["service"], v) for (n, l), v in gateway.metrics().items()
              if n == "api_gateway_circuit_breaker_state"]
    assert states == [(svc, 0) for svc in BUNDLED]
