"""Observability and caching through the real gateway: the Redis response
cache (a real redis-server, killed mid-test), every metric family of SPEC §5
present and moving, ENABLE_METRICS=false, and LOG_LEVEL=debug stage timings."""

import json

from gwtest import bearer, make_token, metric, wait_for

SPEC_FAMILIES = [
    "api_gateway_requests_total", "api_gateway_request_duration_seconds", "api_gateway_active_requests",
    "api_gateway_rate_limit_requests_total", "api_gateway_rate_limit_active_limiters",
    "api_gateway_rate_limit_evictions_total", "api_gateway_circuit_breaker_state",
    "api_gateway_backend_requests_total", "api_gateway_backend_duration_seconds",
    "api_gateway_cache_requests_total", "api_gateway_workers", "api_gateway_worker_restarts_total",
    "api_gateway_reloads_total", "api_gateway_shm_bytes",
]


def families(text):
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def cache_result(s, result):
    return s.gw.metric("api_gateway_cache_requests_total", result=result)


def create_user(s, tok, name):
    r = s.gw.req("POST", "/api/v1/users", body={"email": name + "@example.com", "username": name}, headers=tok)
    assert r.status == 200, r
    return r.json()["user"]["id"]


def test_cache_miss_hit_invalidate_and_redis_down(stack_factory):
    s = stack_factory(with_redis=True, conf={"CACHE_TTL": "30"})
    tok = bearer(make_token({"tenant_id": "acme"}))
    uid = create_user(s, tok, "carol")
    path = "/api/v1/users/" + uid
    r = s.gw.req("GET", path, headers=tok)
    assert r.status == 200 and r.headers.get("x-cache") == "MISS"
    calls = len(s.user.records("/GetUser"))
    wait_for(lambda: s.redis.cli("EXISTS", "cache:acme:" + path) == "1", what="response stored")
    ttl = int(s.redis.cli("TTL", "cache:acme:" + path))
    assert 0 < ttl <= 30
    r2 = s.gw.req("GET", path, headers=tok)
    assert r2.status == 200 and r2.headers.get("x-cache") == "HIT" and r2.json() == r.json()
    assert len(s.user.records("/GetUser")) == calls  # served without a backend call
    # other tenants never see acme's entry
    r = s.gw.req("GET", path, headers=bearer(make_token({"tenant_id": "other"})))
    assert r.headers.get("x-cache") == "MISS"
    # PUT drops the cached entries of the collection before answering
    r = s.gw.req("PUT", path, body={"first_name": "Caroline"}, headers=tok)
    assert r.status == 200, r
    assert s.redis.cli("EXISTS", "cache:acme:" + path) == "0"
    r = s.gw.req("GET", path, headers=tok)
    assert r.headers.get("x-cache") == "MISS" and r.json()["user"]["first_name"] == "Caroline"
    wait_for(lambda: cache_result(s, "hit") >= 1 and cache_result(s, "miss") >= 3, what="cache metrics")
    # Redis killed: still served, uncached
    s.redis.stop()
    r = s.gw.req("GET", path, headers=tok)
    assert r.status == 200 and r.headers.get("x-cache") in (None, "MISS", "BYPASS"), r
    assert r.json()["user"]["first_name"] == "Caroline"
    wait_for(lambda: cache_result(s, "bypass") >= 1, what="bypass counted")


def test_oversize_body_not_cached(stack_factory):
    s = stack_factory(with_redis=True, conf={"CACHE_MAX_BODY": "64"})
    tok = bearer(make_token({"tenant_id": "acme"}))
    uid = create_user(s, tok, "dave")
    path = "/api/v1/users/" + uid
    for _ in range(3):
        r = s.gw.req("GET", path, headers=tok)
        assert r.status == 200 and r.headers.get("x-cache") == "MISS" and len(r.body) > 64
    assert s.redis.cli("EXISTS", "cache:acme:" + path) == "0"
    assert len(s.user.records("/GetUser")) == 3


def test_every_spec_metric_family_exists_and_moves(stack_factory):
    s = stack_factory(with_redis=True)
    text = s.gw.get("/metrics").body.decode()
    missing = [f for f in SPEC_FAMILIES if f not in families(text)]
    assert not missing, missing
    assert "process_cpu_seconds_total" in text and "process_resident_memory_bytes" in text
    m0 = s.gw.metrics()
    tok = bearer(make_token())
    assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200
    assert s.gw.req("GET", "/api/v1/users", headers=tok).headers.get("x-cache") in ("MISS", "HIT")

    def moved():
        m = s.gw.metrics()
        total = metric
        return (total(m, "api_gateway_requests_total", endpoint="/api/v1/users", method="GET", status="200") >
                total(m0, "api_gateway_requests_total", endpoint="/api/v1/users", method="GET", status="200") and
                total(m, "api_gateway_backend_requests_total", service="user-service", code="OK") >
                total(m0, "api_gateway_backend_requests_total", service="user-service", code="OK") and
                total(m, "api_gateway_backend_duration_seconds_count", service="user-service") >
                total(m0, "api_gateway_backend_duration_seconds_count", service="user-service") and
                total(m, "api_gateway_request_duration_seconds_count", endpoint="/api/v1/users") >
                total(m0, "api_gateway_request_duration_seconds_count", endpoint="/api/v1/users") and
                total(m, "api_gateway_rate_limit_requests_total", result="allowed") >
                total(m0, "api_gateway_rate_limit_requests_total", result="allowed") and
                total(m, "api_gateway_cache_requests_total") > total(m0, "api_gateway_cache_requests_total"))
    wait_for(moved, what="request, backend, limiter and cache metrics moved")
    assert s.gw.metric("api_gateway_workers") == 2
    assert s.gw.metric("api_gateway_circuit_breaker_state", service="user-service") == 0
    # the raw path never becomes a label
    assert "/api/v1/users/" not in "".join(l for l in text.splitlines() if "endpoint=" in l and "{user_id}" not in l)


def test_metrics_disabled_is_404(gateway_factory):
    g = gateway_factory(conf={"JWT_SECRET": "x" * 40, "ENABLE_METRICS": "false"})
    r = g.get("/metrics")
    assert r.status == 404 and r.json()["error"]["message"] == "route not found"
    assert g.get("/ready").status == 200


def test_debug_log_has_stage_timings(stack_factory):
    s = stack_factory(conf={"LOG_LEVEL": "debug"})
    assert s.gw.req("GET", "/api/v1/users", headers=bearer(make_token())).status == 200

    def access_line():
        for line in s.gw.log_lines():
            if line.get("endpoint") == "/api/v1/users" and line.get("status") == 200:
                return line
        return None
    line = wait_for(access_line, what="access log line")
    for k in ("limit_ms", "auth_ms", "backend_ms", "latency_ms"):
        assert isinstance(line[k], (int, float)), (k, line)
    assert line["backend_ms"] > 0 and line["upstream"] == "user-service"
    assert json.dumps(line)  # one JSON object per line
