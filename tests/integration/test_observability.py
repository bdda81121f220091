"""Observability and caching through the real gateway: the Redis response
cache (a real redis-server, killed mid-test), every metric family of SPEC §5
present and moving, ENABLE_METRICS=false, and LOG_LEVEL=debug stage timings."""

import json
import os
import re
import signal
import subprocess

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
    # Cache-Control: no-cache skips the lookup (bypass) and refreshes the entry
    bypass0 = cache_result(s, "bypass")
    calls = len(s.user.records("/GetUser"))
    r = s.gw.req("GET", path, headers=dict(tok, **{"Cache-Control": "No-Cache"}))
    assert r.status == 200 and r.headers.get("x-cache") == "MISS", r
    assert len(s.user.records("/GetUser")) == calls + 1
    wait_for(lambda: cache_result(s, "bypass") == bypass0 + 1, what="bypass counted")
    # Redis killed: still served, uncached, and counted as an error (not a bypass)
    errors0, bypass0 = cache_result(s, "error"), cache_result(s, "bypass")
    s.redis.stop()
    r = s.gw.req("GET", path, headers=tok)
    assert r.status == 200 and r.headers.get("x-cache") == "MISS", r
    assert r.json()["user"]["first_name"] == "Caroline"
    wait_for(lambda: cache_result(s, "error") >= errors0 + 1, what="cache error counted")
    assert cache_result(s, "bypass") == bypass0
    assert '"cache":"ERROR"' in s.gw.log_text()


def test_cache_errors_counted_when_redis_is_frozen_or_refuses_the_password(stack_factory):
    """A frozen Redis (SIGSTOP: lookups time out) and a Redis that requires a
    password we do not send both count as errors, and requests are served."""
    s = stack_factory(with_redis=True)
    tok = bearer(make_token({"tenant_id": "acme"}))
    uid = create_user(s, tok, "erin")
    path = "/api/v1/users/" + uid
    assert s.gw.req("GET", path, headers=tok).status == 200
    errors0 = cache_result(s, "error")
    s.redis.cli("CONFIG", "SET", "requirepass", "hunter2-not-ours")
    # connections made before stay authenticated: drop them, so the gateway
    # reconnects and is refused (NOAUTH) like a gateway with a wrong password
    s.redis.cli("-a", "hunter2-not-ours", "--no-auth-warning", "CLIENT", "KILL", "TYPE", "normal")
    wait_for(lambda: s.gw.req("GET", path, headers=tok).headers.get("x-cache") == "MISS" and
             cache_result(s, "error") >= errors0 + 1, what="NOAUTH counted as an error")
    r = s.gw.req("GET", path, headers=tok)
    assert r.status == 200 and r.headers.get("x-cache") == "MISS", r
    s.redis.cli("-a", "hunter2-not-ours", "--no-auth-warning", "CONFIG", "SET", "requirepass", "")
    errors1 = cache_result(s, "error")
    os.kill(s.redis.proc.pid, signal.SIGSTOP)
    try:
        r = s.gw.req("GET", path, headers=tok)
        assert r.status == 200 and r.headers.get("x-cache") == "MISS", r
        wait_for(lambda: cache_result(s, "error") >= errors1 + 1, what="timeout counted as an error")
    finally:
        os.kill(s.redis.proc.pid, signal.SIGCONT)
    assert cache_result(s, "bypass") == 0


def test_documented_clear_cache_command_clears_everything_the_cache_writes(stack_factory):
    s = stack_factory(with_redis=True)
    tok = bearer(make_token({"tenant_id": "acme"}))
    for name in ("fay", "gus"):
        uid = create_user(s, tok, name)
        assert s.gw.req("GET", "/api/v1/users/" + uid, headers=tok).status == 200
    assert s.gw.req("GET", "/api/v1/tenants", headers=bearer(make_token({"roles": ["admin"]}))).status == 200
    wait_for(lambda: int(s.redis.cli("DBSIZE")) >= 3, what="entries and indexes stored")
    s.redis.cli("SET", "blacklist:some-jti", "1")  # not the cache's: must survive
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "TROUBLESHOOTING.md")) as f:
        doc = f.read()
    cmd = re.search(r"Clear everything the cache writes[^`]*`([^`]+)`", doc).group(1)
    cmd = cmd.replace("redis-cli", "redis-cli -p %d" % s.redis.port)
    subprocess.run(["bash", "-c", cmd], check=True, timeout=30)
    keys = s.redis.cli("--scan").split()
    assert keys == ["blacklist:some-jti"], keys


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
