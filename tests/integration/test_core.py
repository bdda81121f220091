"""The prefork core through the real process: start-up errors, the error
envelope, correlation ids, the access log, /metrics under promtool, exact
counting across workers, reloads under load, worker crashes, graceful stop."""

import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest

from gwtest import JWT_SECRET, Response, free_port, metric, parse_metrics, request, run_gateway, wait_for


# ---- start-up -------------------------------------------------------------

def test_missing_jwt_secret_exits_1():
    r = run_gateway([], {"API_GATEWAY_PORT": str(free_port())})
    assert r.returncode == 1
    assert r.stderr.strip() == \
        "api-gateway: JWT_SECRET: required (or set JWT_PUBLIC_KEY_FILE with JWT_ALGORITHM=RS256 or ES256)"


def test_bad_number_exits_1():
    r = run_gateway([], {"JWT_SECRET": "s", "RATE_LIMIT_RPS": "abc"})
    assert r.returncode == 1
    assert r.stderr.strip() == 'api-gateway: RATE_LIMIT_RPS: not a number: "abc"'


def test_port_in_use_exits_1():
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run_gateway([], {"JWT_SECRET": "s", "API_GATEWAY_PORT": str(port)})
    assert r.returncode == 1
    assert r.stderr.strip() == "api-gateway: listen 0.0.0.0:%d: Address already in use" % port


def test_config_check(tmp_path):
    conf = tmp_path / "gw.conf"
    conf.write_text("JWT_SECRET=s\nWORKERS=2\n")
    r = run_gateway(["-t", "-c", str(conf)], {})
    assert r.returncode == 0, r.stderr
    assert "is valid" in r.stdout
    r = run_gateway(["-t", "-v", "-c", str(conf)], {})
    assert "JWT_SECRET=<set>" in r.stdout and "WORKERS=2" in r.stdout
    conf.write_text("JWT_SECRET=s\nCB_MIN_REQUESTS=three\n")
    r = run_gateway(["-t", "-c", str(conf)], {})
    assert r.returncode == 1
    assert r.stderr.strip() == 'api-gateway: CB_MIN_REQUESTS: not a number: "three"'


def test_shipped_config_is_valid():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = run_gateway(["-t", "-c", os.path.join(root, "etc", "api-gateway.conf")], {"JWT_SECRET": "s"})
    assert r.returncode == 0, r.stderr


def test_check_refuses_a_listen_host_that_would_fail_at_start():
    """`-t` says what a start would: a malformed API_GATEWAY_HOST, or a name
    that does not resolve, is an error naming the key."""
    for host, message in [("bad host", 'API_GATEWAY_HOST: expected an IP address or a host name, got "bad host"'),
                          ("10.0.0.1;rm", 'API_GATEWAY_HOST: expected an IP address or a host name'),
                          ("gateway.invalid", 'API_GATEWAY_HOST: cannot resolve "gateway.invalid"')]:
        r = run_gateway(["-t"], {"JWT_SECRET": "s", "API_GATEWAY_HOST": host})
        assert r.returncode == 1, (host, r.stdout)
        assert r.stderr.startswith("api-gateway: " + message), (host, r.stderr)
    for host in ("127.0.0.1", "::1", "localhost"):
        r = run_gateway(["-t"], {"JWT_SECRET": "s", "API_GATEWAY_HOST": host})
        assert r.returncode == 0, (host, r.stderr)


def test_make_check_config_passes_on_the_shipped_file_without_a_secret():
    """`make check-config` as an operator runs it on a checkout: no JWT_SECRET
    anywhere, since the shipped file leaves it commented out."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    gw_bin = os.environ.get("GW_BIN", os.path.join(root, "bin", "api-gateway"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "MAKE"))}
    r = subprocess.run(["make", "-s", "-C", root, "-o", os.path.abspath(gw_bin), "check-config",
                        "BIN=" + os.path.dirname(os.path.abspath(gw_bin))],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "is valid" in r.stdout and "JWT_SECRET" in r.stdout


# ---- envelope, ids, logs --------------------------------------------------

def assert_envelope(r, status, code, message):
    assert r.status == status, r
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["success"] is False
    assert body["error"] == {"code": code, "message": message}
    assert body["correlation_id"] == r.headers["x-correlation-id"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body["timestamp"])


def test_error_envelopes(gateway):
    assert_envelope(gateway.get("/nope"), 404, "NOT_FOUND", "route not found")
    r = gateway.req("DELETE", "/health")
    assert_envelope(r, 405, "METHOD_NOT_ALLOWED", "method not allowed")
    assert r.headers["allow"] == "GET, HEAD"
    r = gateway.req("PATCH", "/api/v1/users/42")
    assert r.headers["allow"] == "GET, HEAD, PUT, DELETE"
    # A body without Content-Type on a route that takes one.
    r = gateway.req("POST", "/admin/breakers/user-service/reset", body=b"{}")
    assert_envelope(r, 400, "BAD_REQUEST", "Content-Type header required")


def test_body_too_large_is_refused_before_routing(gateway_factory):
    g = gateway_factory(conf={"JWT_SECRET": JWT_SECRET, "MAX_REQUEST_SIZE": "1000"})
    r = g.req("POST", "/api/v1/auth/login", body=b"x" * 1001, headers={"Content-Type": "application/json"})
    assert_envelope(r, 413, "PAYLOAD_TOO_LARGE", "request body too large")
    # A chunked body growing past the limit: h2o stops reading and answers
    # 413 mid-upload, so send it all in one write and then read the answer.
    chunk = b"200\r\n" + b"y" * 512 + b"\r\n"
    raw = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 3 + b"0\r\n\r\n")
    with socket.create_connection(("127.0.0.1", g.port), timeout=5) as s:
        try:
            s.sendall(raw)
        except BrokenPipeError:
            pass
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            more = s.recv(65536)
            if not more:
                break
            data += more
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body)["error"]["message"] == "request body too large"
    g.wait_metric("api_gateway_requests_total", 2, status="413")


def test_correlation_id_kept_or_made(gateway):
    r = gateway.get("/ready", headers={"X-Correlation-ID": "abc-123"})
    assert r.headers["x-correlation-id"] == "abc-123"
    r = gateway.get("/ready", headers={"X-Request-ID": "req.77"})
    assert r.headers["x-correlation-id"] == "req.77"
    r = gateway.get("/ready", headers={"X-Correlation-ID": "bad id\twith spaces"})
    made = r.headers["x-correlation-id"]
    assert uuid.UUID(made).version == 4
    r = gateway.get("/ready")
    assert uuid.UUID(r.headers["x-correlation-id"]).version == 4
    assert r.headers["x-correlation-id"] != made


def test_access_log_line(gateway):
    gateway.get("/nope?x=1&y=2", headers={"User-Agent": "probe/1.0", "X-Correlation-ID": "log-check-1"})
    line = wait_for(lambda: [l for l in gateway.log_lines() if l.get("correlation_id") == "log-check-1"],
                    what="access line")[0]
    for key in ("method", "path", "query", "status", "latency_ms", "ip", "user_agent", "correlation_id",
                "user_id", "tenant_id", "upstream", "cache", "time", "level"):
        assert key in line, key
    assert line["method"] == "GET" and line["path"] == "/nope" and line["query"] == "x=1&y=2"
    assert line["status"] == 404 and line["ip"] == "127.0.0.1" and line["user_agent"] == "probe/1.0"
    assert line["msg"] == "access" and line["level"] == "info"


def test_ready_and_health(gateway):
    r = gateway.get("/ready")
    assert r.status == 200 and r.json() == {"status": "ready"}
    r = gateway.get("/health")
    body = r.json()
    assert set(body) == {"status", "timestamp", "checks"}
    assert set(body["checks"]) == {"auth-service", "user-service", "tenant-service", "notification-service"}


def test_gzip(gateway):
    r = gateway.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.headers.get("content-encoding") == "gzip"
    assert b"api_gateway_requests_total" in gzip.decompress(r.body)
    r = gateway.get("/metrics")
    assert "content-encoding" not in r.headers


def test_admin_endpoints_only_from_admin_allow(gateway_factory):
    g = gateway_factory(env={"API_GATEWAY_HOST": "0.0.0.0"},
                        conf={"JWT_SECRET": JWT_SECRET, "ADMIN_ALLOW": "127.0.0.2/32"}, start=False)
    g.start(wait=False)
    wait_for(lambda: request(g.port, "GET", "/debug/workers", source="127.0.0.2").status == 200)
    for path in ("/debug/workers", "/debug/shm"):
        r = request(g.port, "GET", path, host="127.0.0.1")
        assert_envelope(r, 403, "FORBIDDEN", "forbidden: address not in ADMIN_ALLOW")
        assert request(g.port, "GET", path, source="127.0.0.2").status == 200
    assert re.search(r'"msg":"admin endpoint refused".*"ip":"127.0.0.1"', g.wait_log("admin endpoint refused")
                     .string)


# ---- metrics ----------------------------------------------------------------

@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) missing")
def test_metrics_pass_promtool(gateway):
    for p in ("/ready", "/nope", "/health"):
        gateway.get(p)
    gateway.wait_metric("api_gateway_requests_total", 1, endpoint="/ready")
    text = gateway.get("/metrics").body
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    assert r.returncode == 0, r.stdout + r.stderr
    m = parse_metrics(text.decode())
    for family in ("api_gateway_requests_total", "api_gateway_active_requests", "api_gateway_workers",
                   "api_gateway_worker_restarts_total", "api_gateway_reloads_total", "api_gateway_shm_bytes",
                   "process_cpu_seconds_total", "process_resident_memory_bytes",
                   "api_gateway_request_duration_seconds_bucket"):
        assert any(n == family for n, _ in m), family
    assert metric(m, "api_gateway_workers", state="ready") == 2
    assert metric(m, "process_resident_memory_bytes", role="master") > 0


def client_loop(port, path, stop, results, conns=1):
    """Keep-alive clients that reconnect when the server closes; records
    (ok, failures, errors) into results."""
    def run():
        conn = None
        while not stop.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                with results["lock"]:
                    if r.status == 200:
                        results["ok"] += 1
                    else:  # enough to find the request in the gateway's log
                        results["bad"].append((r.status, r.getheader("x-correlation-id")))
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                with results["lock"]:
                    results["errors"].append(repr(e))
                if conn:
                    conn.close()
                conn = None
        if conn:
            conn.close()
    threads = [threading.Thread(target=run) for _ in range(conns)]
    for t in threads:
        t.start()
    return threads


def new_results():
    return {"ok": 0, "bad": [], "errors": [], "lock": threading.Lock()}


def test_requests_counted_exactly_once_across_workers(gateway):
    n_conns, per_conn = 32, 50
    barrier = threading.Barrier(n_conns)

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
        conn.connect()
        barrier.wait()  # all connections open at once: both workers accept
        for _ in range(per_conn):
            conn.request("GET", "/ready")
            assert conn.getresponse().read()
        conn.close()
    threads = [threading.Thread(target=run) for _ in range(n_conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = n_conns * per_conn
    gateway.wait_metric("api_gateway_requests_total", total, endpoint="/ready", status="200")
    served = [w["requests"] for w in gateway.workers_info()["workers"]]
    assert sum(served) >= total and all(s > 0 for s in served), served
    time.sleep(0.6)  # two more renderings: the count stays exact
    assert gateway.metric("api_gateway_requests_total", endpoint="/ready", status="200") == total
    assert gateway.metric("api_gateway_request_duration_seconds_count", endpoint="/ready") == total


# ---- reloads, crashes, stop ---------------------------------------------------

def test_three_reloads_under_load_lose_nothing(gateway):
    stop, results = threading.Event(), new_results()
    threads = client_loop(gateway.port, "/ready", stop, results, conns=8)
    samples = []
    try:
        for i in range(3):
            time.sleep(0.3)
            gateway.reload()
            samples.append(gateway.metric("api_gateway_requests_total", endpoint="/ready"))
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert results["errors"] == [] and results["bad"] == [], results
    assert results["ok"] > 100
    assert gateway.metric("api_gateway_reloads_total") == 3
    assert samples == sorted(samples), samples  # counters never go backwards
    info = gateway.workers_info()
    assert info["generation"] == 4
    wait_for(lambda: gateway.ready_workers() == 2 and len(gateway.workers_info()["workers"]) == 2,
             what="old generations drained")
    gateway.wait_metric("api_gateway_requests_total", results["ok"], endpoint="/ready", status="200")


def test_changed_value_applies_after_reload(gateway_factory):
    g = gateway_factory(conf={"JWT_SECRET": JWT_SECRET, "MAX_REQUEST_SIZE": "1000"})
    body = b"x" * 2000
    hdrs = {"Content-Type": "application/json"}
    assert g.req("POST", "/nope", body=body, headers=hdrs).status == 413
    g.write_conf({"JWT_SECRET": JWT_SECRET, "MAX_REQUEST_SIZE": "5000"})
    g.reload()
    assert g.req("POST", "/nope", body=body, headers=hdrs).status == 404


def test_invalid_config_reload_keeps_serving(gateway):
    gen = gateway.workers_info()["generation"]
    gateway.write_conf({"JWT_SECRET": JWT_SECRET, "RATE_LIMIT_RPS": "abc"})
    gateway.signal(signal.SIGHUP)
    gateway.wait_log(r'reload failed: RATE_LIMIT_RPS: not a number: \\"abc\\"; keeping the current configuration')
    gateway.wait_metric("api_gateway_reload_failures_total", 1)
    assert gateway.get("/ready").status == 200
    assert gateway.workers_info()["generation"] == gen
    assert gateway.metric("api_gateway_reloads_total") == 0
    # fixed file: the next HUP works
    gateway.write_conf({"JWT_SECRET": JWT_SECRET})
    gateway.reload()


def test_killed_worker_replaced_within_2s(gateway):
    stop, results = threading.Event(), new_results()
    threads = client_loop(gateway.port, "/ready", stop, results, conns=4)
    try:
        time.sleep(0.3)
        victim = gateway.workers_info()["workers"][0]["pid"]
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()

        def replaced():
            ws = gateway.workers_info()["workers"]
            return len([w for w in ws if w["state"] == "ready"]) == 2 and victim not in [w["pid"] for w in ws]
        wait_for(replaced, timeout=2.0, what="replacement worker")
        took = time.monotonic() - killed_at
        with results["lock"]:
            ok_at_replace = results["ok"]
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert took < 2.0
    assert results["ok"] > ok_at_replace  # clients kept being served
    # only connections that lived on the killed worker may have seen an error
    assert len(results["errors"]) <= 4, results["errors"]
    gateway.wait_metric("api_gateway_worker_restarts_total", 1)
    gateway.wait_log(r"killed by signal 9 \(Killed\); restarting it")


def test_graceful_stop_reports_draining(gateway):
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    conn.request("GET", "/ready")
    assert conn.getresponse().read() == b'{"status":"ready"}'
    gateway.signal(signal.SIGTERM)
    gateway.wait_log(r"stopping: draining")
    conn.request("GET", "/ready")
    r = conn.getresponse()
    assert r.status == 503 and r.read() == b'{"status":"draining"}'
    assert r.getheader("connection", "").lower() == "close"
    assert gateway.proc.wait(10) == 0
    assert "api-gateway stopped" in gateway.log_text()


def test_sd_notify(gateway_factory, tmp_path):
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    g = gateway_factory(env={"NOTIFY_SOCKET": path})
    assert s.recv(4096).startswith(b"READY=1")
    g.signal(signal.SIGHUP)
    assert s.recv(4096).startswith(b"RELOADING=1\nMONOTONIC_USEC=")
    assert s.recv(4096).startswith(b"READY=1")
    g.signal(signal.SIGTERM)
    assert s.recv(4096).startswith(b"STOPPING=1")
    assert g.proc.wait(10) == 0
    s.close()


@pytest.mark.skipif(shutil.which("openssl") is None or shutil.which("curl") is None, reason="needs openssl, curl")
def test_tls_and_http2(gateway_factory, tmp_path):
    key, cert = str(tmp_path / "key.pem"), str(tmp_path / "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    g = gateway_factory(conf={"JWT_SECRET": JWT_SECRET, "TLS_CERT_FILE": cert, "TLS_KEY_FILE": key}, start=False)
    g.start(wait=False)
    url = "https://localhost:%d/ready" % g.port

    def curl(*extra):
        return subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_version} %{http_code}"]
                              + list(extra) + [url], capture_output=True, text=True).stdout
    wait_for(lambda: curl() == "2 200", what="HTTP/2 over TLS")
    assert curl("--http1.1") == "1.1 200"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_unit_verifies(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from gwtest import GW_BIN
    unit = open(os.path.join(root, "systemd", "api-gateway.service")).read()
    assert "Type=notify" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit and "LimitNOFILE=" in unit
    path = tmp_path / "api-gateway.service"
    path.write_text(unit.replace("/usr/local/bin/api-gateway", os.path.abspath(GW_BIN)))
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


def test_oversized_headers_are_431(gateway):
    r = gateway.req("GET", "/api/v1/users", headers={"X-Big": "a" * 70000})
    assert r.status == 431 and r.json()["error"]["message"] == "request header fields too large"
    assert gateway.req("GET", "/ready", headers={"X-Fine": "a" * 8000}).status == 200
