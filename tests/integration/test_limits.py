"""Rate limiting and circuit breaking through the real gateway: buckets in the
shared segment exact across two workers, the SPEC's 429 headers, client IP
from X-Forwarded-For only behind TRUSTED_PROXIES, tenant limits and their
override file applied by HUP, the cleanup sweep, a full table that evicts
instead of growing, and the shared breaker's whole cycle."""

import signal
import time

from gwtest import JWT_SECRET, bearer, make_token, request, wait_for


def hdr(r, name):
    return r.headers.get(name.lower())


def statuses(port, n, path="/api/v1/users", headers=None):
    return [request(port, "GET", path, headers=headers).status for _ in range(n)]


def limited_gateway(gateway_factory, **conf):
    c = {"JWT_SECRET": JWT_SECRET, "RATE_LIMIT_RPS": "0.01", "RATE_LIMIT_BURST": "5"}
    c.update(conf)
    return gateway_factory(conf=c)


def test_ip_bucket_exact_across_workers_with_headers(gateway_factory):
    g = limited_gateway(gateway_factory, RATE_LIMIT_BURST="20")
    # 60 requests, each on a new connection, spread over both workers
    got = statuses(g.port, 60)
    assert got.count(429) == 40 and got.count(401) == 20, got
    assert got[:20] == [401] * 20  # admitted ones reach the auth stage
    r = request(g.port, "GET", "/api/v1/users")
    assert r.status == 429 and r.json()["error"]["message"] == "rate limit exceeded"
    assert r.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(hdr(r, "Retry-After")) >= 1
    assert hdr(r, "X-RateLimit-Limit") == "20" and hdr(r, "X-RateLimit-Remaining") == "0"
    assert int(hdr(r, "X-RateLimit-Reset")) >= 1
    # not limited: /health, /ready, /metrics
    assert all(s == 200 for s in statuses(g.port, 5, "/ready"))
    assert request(g.port, "GET", "/metrics").status == 200
    wait_for(lambda: g.metric("api_gateway_rate_limit_requests_total", result="limited") == 41,
             what="limited requests counted")
    assert g.metric("api_gateway_rate_limit_requests_total", result="allowed") == 20


def test_2xx_carries_ratelimit_headers(stack_factory):
    s = stack_factory(conf={"RATE_LIMIT_RPS": "0.01", "RATE_LIMIT_BURST": "10"})
    r = s.gw.req("GET", "/api/v1/users", headers=bearer(make_token()))
    assert r.status == 200
    assert hdr(r, "X-RateLimit-Limit") == "10" and hdr(r, "X-RateLimit-Remaining") == "9"
    assert hdr(r, "X-RateLimit-Reset") is not None


def test_forwarded_for_only_from_trusted_proxies(gateway_factory):
    g = limited_gateway(gateway_factory)
    # without TRUSTED_PROXIES the header is ignored: one bucket for the peer
    got = [request(g.port, "GET", "/api/v1/users", headers={"X-Forwarded-For": "10.0.0.%d" % i}).status
           for i in range(8)]
    assert got.count(429) == 3, got
    g.stop()
    g = limited_gateway(gateway_factory, TRUSTED_PROXIES="127.0.0.0/8")
    for client in ("10.0.0.1", "10.0.0.2"):
        got = statuses(g.port, 7, headers={"X-Forwarded-For": "203.0.113.9, " + client})
        assert got.count(429) == 2, (client, got)
    # the right-most untrusted address is the client: a spoofed left part changes nothing
    got = statuses(g.port, 2, headers={"X-Forwarded-For": "1.2.3.4, 10.0.0.1"})
    assert got == [429, 429]


def test_tenant_limit_and_override_file_by_hup(stack_factory, tmp_path):
    f = tmp_path / "tenants.txt"
    f.write_text("# tenant rps burst\nbig 100 50\n")
    s = stack_factory(conf={"RATE_LIMIT_TENANT_RPS": "0.01", "RATE_LIMIT_TENANT_BURST": "3",
                            "RATE_LIMIT_TENANTS_FILE": str(f)})
    small = bearer(make_token({"tenant_id": "small"}))
    big = bearer(make_token({"tenant_id": "big"}))
    got = [s.gw.req("GET", "/api/v1/users", headers=small).status for _ in range(5)]
    assert got == [200, 200, 200, 429, 429], got
    got = [s.gw.req("GET", "/api/v1/users", headers=big).status for _ in range(10)]
    assert got == [200] * 10
    f.write_text("big 0.01 2\nsmall 100 100\n")
    s.gw.reload()
    # the override raised its limit: the empty bucket refills at 100/s instead of 0.01/s
    wait_for(lambda: s.gw.req("GET", "/api/v1/users", headers=small).status == 200, timeout=2,
             what="raised tenant limit applied")
    got = [s.gw.req("GET", "/api/v1/users", headers=bearer(make_token({"tenant_id": "big"}))).status
           for _ in range(3)]
    assert 429 in got


def test_bad_tenants_file_is_a_precise_error(gateway_factory, tmp_path):
    f = tmp_path / "tenants.txt"
    f.write_text("acme 10\n")
    g = gateway_factory(conf={"JWT_SECRET": JWT_SECRET, "RATE_LIMIT_TENANTS_FILE": str(f)}, start=False)
    import subprocess
    import gwtest
    r = subprocess.run([gwtest.GW_BIN, "-t", "-c", g.conf_path], env=g.env, capture_output=True, text=True)
    assert r.returncode == 1
    assert "RATE_LIMIT_TENANTS_FILE" in r.stderr and ":1:" in r.stderr, r.stderr


def test_sweep_frees_idle_entries_and_table_stays_fixed(gateway_factory):
    g = limited_gateway(gateway_factory, TRUSTED_PROXIES="127.0.0.1/32", RATE_LIMIT_TABLE_SIZE="1024",
                        RATE_LIMIT_CLEANUP_INTERVAL="1", RATE_LIMIT_IDLE_TIMEOUT="1", RATE_LIMIT_RPS="1000")
    shm_before = g.metric("api_gateway_shm_bytes")
    for i in range(3000):  # more distinct clients than the table holds
        request(g.port, "GET", "/api/v1/users", headers={"X-Forwarded-For": "10.%d.%d.1" % (i // 250, i % 250)})
    wait_for(lambda: g.metric("api_gateway_rate_limit_evictions_total") > 0, what="evictions counted")
    assert g.metric("api_gateway_rate_limit_table_capacity") == 1024
    wait_for(lambda: g.metric("api_gateway_rate_limit_swept_total") > 0, timeout=15, what="sweep freed entries")
    wait_for(lambda: g.metric("api_gateway_rate_limit_active_limiters") == 0, timeout=15, what="table empty")
    g.wait_log("rate limiter sweep")
    assert g.metric("api_gateway_shm_bytes") == shm_before


def breaker_stack(stack_factory, **conf):
    c = {"CB_OPEN_TIMEOUT": "1", "CB_MIN_REQUESTS": "3", "CB_FAILURE_RATIO": "0.6"}
    c.update(conf)
    return stack_factory(conf=c, backend_args={"user": ["--fail-status", "14"]})


def test_breaker_opens_fails_fast_half_opens_and_closes(stack_factory):
    s = breaker_stack(stack_factory)
    tok = bearer(make_token())
    for _ in range(3):
        assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 503
    calls = len(s.user.records("/ListUsers"))
    assert calls == 3
    r = s.gw.req("GET", "/api/v1/users", headers=tok)
    assert r.status == 503 and r.json()["error"]["message"] == "circuit breaker is open"
    assert r.json()["error"]["code"] == "CIRCUIT_BREAKER_OPEN" and int(hdr(r, "Retry-After")) >= 1
    for _ in range(10):  # fail fast on every worker, no backend call
        assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 503
    assert len(s.user.records("/ListUsers")) == calls
    # open, or already half-open: the gauge shows the live state, which moves
    # on by itself CB_OPEN_TIMEOUT=1 after the opening (test_breaker_watch.py)
    wait_for(lambda: s.gw.metric("api_gateway_circuit_breaker_state", service="user-service") in (1, 2),
             what="breaker gauge open or half-open")
    assert s.gw.get("/admin/breakers").json()["breakers"]["user-service"]["state"] in ("open", "half-open")
    s.gw.wait_log("circuit breaker state change")
    # the backend recovers; after CB_OPEN_TIMEOUT the probes close the breaker
    s.user.signal(signal.SIGUSR1)
    time.sleep(1.1)  # CB_OPEN_TIMEOUT=1 must elapse: the behaviour under test is time-based
    got = [s.gw.req("GET", "/api/v1/users", headers=tok).status for _ in range(5)]
    assert got == [200] * 5, got
    s.gw.wait_metric("api_gateway_circuit_breaker_state", 0, service="user-service")
    assert s.gw.get("/admin/breakers").json()["breakers"]["user-service"]["opens_total"] == 1


def test_breaker_half_open_failure_reopens(stack_factory):
    s = breaker_stack(stack_factory)
    tok = bearer(make_token())
    for _ in range(3):
        s.gw.req("GET", "/api/v1/users", headers=tok)
    time.sleep(1.1)  # CB_OPEN_TIMEOUT=1
    assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 503  # the probe fails
    assert s.gw.get("/admin/breakers").json()["breakers"]["user-service"]["state"] == "open"
    r = s.gw.req("GET", "/api/v1/users", headers=tok)
    assert r.json()["error"]["message"] == "circuit breaker is open"


def test_breaker_reset_and_survives_hup(stack_factory):
    s = breaker_stack(stack_factory, CB_OPEN_TIMEOUT="60")
    tok = bearer(make_token())
    for _ in range(3):
        s.gw.req("GET", "/api/v1/users", headers=tok)
    s.gw.reload()
    r = s.gw.req("GET", "/api/v1/users", headers=tok)
    assert r.json()["error"]["message"] == "circuit breaker is open"  # still open in the new generation
    r = request(s.gw.port, "POST", "/admin/breakers/user-service/reset")
    assert r.status == 200 and r.json()["breaker"]["state"] == "closed"
    s.gw.wait_log('"msg":"circuit breaker state change","service":"user-service","from":"open","to":"closed",'
                  '"reason":"reset"')
    s.user.signal(signal.SIGUSR1)
    assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200
    r = request(s.gw.port, "POST", "/admin/breakers/nope-service/reset")
    assert r.status == 404 and "unknown service" in r.json()["error"]["message"]
    # not from a non-allowed address
    assert request(s.gw.port, "POST", "/admin/breakers/user-service/reset", source="127.0.0.2").status == 403


def test_client_errors_do_not_open_the_breaker(stack_factory):
    s = stack_factory(backend_args={"user": ["--fail-status", "5"]})  # NOT_FOUND
    tok = bearer(make_token())
    got = [s.gw.req("GET", "/api/v1/users/x", headers=tok).status for _ in range(6)]
    assert got == [404] * 6
    assert s.gw.get("/admin/breakers").json()["breakers"]["user-service"]["state"] == "closed"
