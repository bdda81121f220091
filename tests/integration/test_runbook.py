"""The runbook (docs/TROUBLESHOOTING.md) against the real gateway: each
section's symptom is reproduced through the real processes (gateway, demo
backends, Redis), and the strings, log lines and metric samples the section
quotes are read from the document and compared with what the gateway
prints. A doc that drifts from the code fails here.

Sections covered: High latency, High CPU, Traces not reaching Jaeger, Logs
not showing, "401: which check refused the token", "Breaker tuning", and
the Metrics reference (every family /metrics exposes is documented, and the
reference names nothing /metrics lacks)."""

import http.client
import http.server
import json
import os
import re
import signal
import socket
import threading
import time

from gwtest import bearer, free_port, make_token, parse_metrics, wait_for

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")


def doc(name="TROUBLESHOOTING.md"):
    with open(os.path.join(DOCS, name)) as f:
        return f.read()


def section(title):
    """The text of the section whose heading is exactly `title`, up to the
    next heading of the same or a higher level."""
    text = doc()
    m = re.search(r"^(#+) %s\n" % re.escape(title), text, re.M)
    assert m, "no section %r in TROUBLESHOOTING.md" % title
    level = len(m.group(1))
    end = re.compile(r"^#{1,%d} " % level, re.M).search(text, m.end())
    return text[m.end():end.start() if end else len(text)]


def ticks(cell):
    return re.findall(r"`([^`]+)`", cell)


def table_rows(text):
    """Body rows of the markdown tables in `text`, as lists of cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return [r for r in rows if not (r and r[0] in ("`reason`", "family", "metric", "symptom", "pattern",
                                                      "counters", "the line ends with"))]


def json_examples(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith('{"time"')]


def samples(text, prefix):
    """Metric samples quoted in a code block: {(name, labels): value}."""
    lines = [l for l in text.splitlines() if l.startswith(prefix) and re.match(r"^\S+ [0-9.]+$", l)]
    return parse_metrics("\n".join(lines))


def same_fields(real, example):
    assert set(real) == set(example), (sorted(set(real) ^ set(example)), real)


# ---- High latency ------------------------------------------------------------

def access_lines(gw, **match):
    return [l for l in gw.log_lines() if l.get("msg") == "access" and all(l.get(k) == v for k, v in match.items())]


def test_high_latency_slow_backend_shows_in_both_histograms_and_backend_ms(stack_factory):
    text = section("High latency")
    s = stack_factory(conf={"LOG_LEVEL": "debug"}, backend_args={"user": ["--latency-ms", "300"]})
    tok = bearer(make_token())
    quoted = samples(text, "api_gateway_")
    assert quoted, "no metric samples quoted in High latency"

    def round_of_four():
        seen = []
        go = threading.Barrier(4)

        def one():
            go.wait()
            assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200
        ts = [threading.Thread(target=one) for _ in range(4)]
        for t in ts:
            t.start()
        while any(t.is_alive() for t in ts):
            seen.append(s.gw.metric("api_gateway_active_requests"))
            time.sleep(0.02)
        for t in ts:
            t.join()
        return max(seen or [0])

    peak = round_of_four()
    # the histogram samples quoted are those of exactly that round
    wait_for(lambda: s.gw.metric("api_gateway_backend_duration_seconds_count", service="user-service") == 4,
             what="four backend calls observed")
    real = s.gw.metrics()
    for key, value in quoted.items():
        if key[0] != "api_gateway_active_requests":
            assert real[key] == value, (key, real.get(key), value)
    # the in-flight gauge: more rounds if the master's 250 ms rendering missed the overlap
    for _ in range(5):
        if peak >= quoted[("api_gateway_active_requests", ())]:
            break
        peak = round_of_four()
    assert peak == quoted[("api_gateway_active_requests", ())]
    # the access line: the fields of the quoted one, backend_ms nearly all of latency_ms
    (example,) = [e for e in json_examples(text) if e.get("msg") == "access" and e["backend_ms"] > 250]
    line = wait_for(lambda: access_lines(s.gw, endpoint="/api/v1/users", status=200), what="access line")[0]
    same_fields(line, example)
    assert line["backend_ms"] >= 300 and line["backend_ms"] >= 0.8 * line["latency_ms"], line


def test_high_latency_frozen_redis_shows_in_auth_ms_and_the_rest(stack_factory):
    text = section("High latency")
    (warn,) = [e for e in json_examples(text) if e["level"] == "warn"]
    (example,) = [e for e in json_examples(text) if e.get("msg") == "access" and e["cache"] == "ERROR"]
    s = stack_factory(conf={"LOG_LEVEL": "debug"}, with_redis=True, workers=1)
    tok = bearer(make_token())
    assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200  # connects to Redis
    os.kill(s.redis.proc.pid, signal.SIGSTOP)
    try:
        r = s.gw.req("GET", "/api/v1/users", headers=tok)
    finally:
        os.kill(s.redis.proc.pid, signal.SIGCONT)
    assert r.status == 200, r
    line = wait_for(lambda: access_lines(s.gw, correlation_id=r.headers["x-correlation-id"]),
                    what="access line")[0]
    same_fields(line, example)
    assert line["cache"] == example["cache"] == "ERROR"
    rest = line["latency_ms"] - line["limit_ms"] - line["auth_ms"] - line["backend_ms"]
    assert line["auth_ms"] >= 240 and rest >= 240, line
    assert "250 ms" in text and "`auth_ms` ≈ 250" in text
    got = [l for l in s.gw.log_lines() if l.get("msg") == warn["msg"]]
    assert got, s.gw.log_text()
    assert {k: got[0][k] for k in ("level", "role", "error", "policy")} == \
        {k: warn[k] for k in ("level", "role", "error", "policy")}
    # still frozen: the worker drops the connection, reconnects (the kernel
    # accepts for the stopped process) and says "restored", again and again
    dropped = re.search(r"`(redis unavailable: [^`]*)`", text).group(1).replace("\n", " ")
    restored = re.search(r"`(redis connection restored)`", text).group(1)
    os.kill(s.redis.proc.pid, signal.SIGSTOP)
    try:
        def flapping():
            assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200
            msgs = [l["msg"] for l in s.gw.log_lines()]
            return dropped in msgs and restored in msgs[msgs.index(dropped):]
        wait_for(flapping, timeout=20, what="dropped, then restored while still frozen")
        r = s.gw.req("GET", "/api/v1/users", headers=tok)
        line = wait_for(lambda: access_lines(s.gw, correlation_id=r.headers["x-correlation-id"]),
                        what="access line")[0]
        assert line["auth_ms"] >= 240 or line["cache"] == "ERROR", line
    finally:
        os.kill(s.redis.proc.pid, signal.SIGCONT)


# ---- High CPU ----------------------------------------------------------------

def test_high_cpu_per_process_and_sticky_connections(stack_factory):
    text = section("High CPU")
    fields = re.search(r"jq '\.workers\[\] \| \{([^}]*)\}'", text).group(1).replace(" ", "").split(",")
    quoted = samples(text, "process_cpu_seconds_total")
    s = stack_factory()
    tok = bearer(make_token())
    before = {w["slot"]: w["requests"] for w in s.gw.workers_info()["workers"]}
    # one keep-alive connection: all its requests stay with one worker
    conn = http.client.HTTPConnection("127.0.0.1", s.gw.port, timeout=10)
    try:
        for _ in range(200):
            conn.request("GET", "/api/v1/users", headers=tok)
            r = conn.getresponse()
            r.read()
            assert r.status == 200
    finally:
        conn.close()
    workers = s.gw.workers_info()["workers"]
    for w in workers:
        assert all(f in w for f in fields), (fields, w)
    deltas = sorted(w["requests"] - before[w["slot"]] for w in workers)
    assert deltas[-1] >= 200 and deltas[0] < 10, deltas

    def cpu_shown():
        ws = s.gw.workers_info()["workers"]
        return sum(w["cpu_seconds"] for w in ws) > 0 and ws
    workers = wait_for(cpu_shown, what="worker CPU time")
    m = s.gw.metrics()
    for (name, labels) in quoted:
        assert (name, labels) in m, (name, labels)
    for w in workers:
        v = m[("process_cpu_seconds_total", (("role", "worker"), ("slot", str(w["slot"]))))]
        assert abs(v - w["cpu_seconds"]) < 0.5, (v, w)


# ---- Traces not reaching Jaeger -------------------------------------------------

def trace_stack(stack_factory, url):
    return stack_factory(conf={"ENABLE_TRACING": "true", "JAEGER_URL": url, "TRACE_SAMPLE_RATIO": "1.0"}, workers=1)


def ends_with_cells(text):
    return {ticks(r[0])[0] for r in table_rows(text) if r[0].startswith("`failed:")}


def test_traces_to_a_closed_port(stack_factory):
    text = section("Traces not reaching Jaeger")
    quoted = samples(text, "api_gateway_trace_")
    (example,) = [e for e in json_examples(text) if e["level"] == "warn"]
    url = "http://127.0.0.1:%d" % free_port()
    s = trace_stack(stack_factory, url)
    n = 25
    for _ in range(n):
        assert s.gw.req("GET", "/api/v1/users", headers=bearer(make_token())).status == 200
    dropped = quoted[("api_gateway_trace_spans_dropped_total", ())]
    assert dropped == 2 * n  # a server and a client span per request, as the doc says
    s.gw.wait_metric("api_gateway_trace_spans_dropped_total", dropped)
    assert s.gw.metric("api_gateway_trace_spans_exported_total") == \
        quoted[("api_gateway_trace_spans_exported_total", ())] == 0
    errors = s.gw.metric("api_gateway_trace_export_errors_total")
    # one batch unless the 1 s flush timer fell in the middle of the 25 requests
    assert quoted[("api_gateway_trace_export_errors_total", ())] <= errors <= 2, errors
    doc_msg = re.sub(r"http://[^ ]+", url, example["msg"])
    got = [l for l in s.gw.log_lines() if l.get("msg", "").startswith("trace export to")]
    assert [(l["level"], l["msg"]) for l in got] == [(example["level"], doc_msg)], got
    assert any(doc_msg.endswith(e) for e in ends_with_cells(text)), ends_with_cells(text)


def test_traces_refused_by_the_collector(stack_factory):
    text = section("Traces not reaching Jaeger")

    class NotOtlp(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotOtlp)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d" % srv.server_address[1]
        s = trace_stack(stack_factory, url)
        for _ in range(5):
            assert s.gw.req("GET", "/api/v1/users", headers=bearer(make_token())).status == 200
        s.gw.wait_metric("api_gateway_trace_spans_dropped_total", 10)
        assert s.gw.metric("api_gateway_trace_export_errors_total") >= 1
        assert s.gw.metric("api_gateway_trace_spans_exported_total") == 0
        line = s.gw.wait_log("trace export to %s failed: [^\"]*" % re.escape(url)).group(0)
        ends = [e for e in ends_with_cells(text) if line.endswith(e)]
        assert ends == ["failed: non-2xx status"], (line, ends_with_cells(text))
    finally:
        srv.shutdown()
        srv.server_close()


# ---- Logs not showing ----------------------------------------------------------

def raw_request(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(data)
        return c.recv(4096)


def test_log_level_warn_drops_access_and_info_event_lines(stack_factory):
    text = section("Logs not showing")
    info_events = set(ticks(re.search(r"Event lines written at `info`(.*?)At `warn` you", text, re.S).group(1)))
    assert '"msg":"access"' in text and "LOG_LEVEL=warn" in text
    s = stack_factory(conf={"LOG_LEVEL": "warn"}, workers=1)
    acme = bearer(make_token({"tenant_id": "acme"}))
    assert s.gw.req("GET", "/api/v1/users", headers=acme).status == 200
    assert s.gw.req("GET", "/api/v1/users").status == 401
    assert s.gw.req("GET", "/api/v1/tenants/other", headers=acme).status == 403
    assert raw_request(s.gw.port, b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 400")
    events = {"authentication failed", "authorization failed", "bad request head"}
    assert events <= info_events, info_events
    # the refusals were counted (so they happened) yet logged no info line
    wait_for(lambda: s.gw.metric("api_gateway_requests_total", status="400") >= 1 and
             s.gw.metric("api_gateway_auth_failures_total") >= 1, what="the refusals counted")
    assert not events & {l["msg"] for l in s.gw.log_lines()}, [l for l in s.gw.log_lines() if l["msg"] in events]
    assert not [l for l in s.gw.log_lines() if l["level"] in ("info", "debug")]
    assert '"msg":"access"' not in s.gw.log_text()
    assert not [l for l in s.gw.log_lines() if re.match(r"worker \d+ ready|api-gateway .* starting", l["msg"])]
    # LOG_LEVEL=info and a reload bring the access lines back
    with open(s.gw.conf_path) as f:
        conf = f.read().replace("LOG_LEVEL=warn", "LOG_LEVEL=info")
    s.gw.write_conf(conf)
    s.gw.reload()
    s.gw.wait_ready()
    r = s.gw.req("GET", "/api/v1/users", headers=acme)
    assert r.status == 200
    wait_for(lambda: access_lines(s.gw, correlation_id=r.headers["x-correlation-id"]), what="access line back")
    assert '"msg":"access"' in s.gw.log_text()


# ---- 401 reasons ----------------------------------------------------------------

def test_every_documented_401_reason_is_what_the_gateway_logs(stack_factory):
    text = section("401: which check refused the token")
    documented = {}
    for row in table_rows(text):
        documented[ticks(row[0])[0]] = ticks(row[1])[0]
    (example,) = json_examples(text)
    s = stack_factory(with_redis=True)
    now = int(time.time())
    logged_out = make_token()
    r = s.gw.req("POST", "/api/v1/auth/logout", body={}, headers=bearer(logged_out))
    assert r.status == 200, r
    blacklisted = make_token({"jti": "jti-runbook-blacklisted"})
    s.redis.cli("SET", "blacklist:jti-runbook-blacklisted", "1")
    cases = [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-jwt"},
        bearer(make_token(alg="HS384")),
        bearer(make_token(secret="not-the-gateway-secret")),
        bearer(make_token(exp_in=-3600)),
        bearer(make_token({"nbf": now + 3600})),
        bearer(make_token({"exp": None})),
        bearer(make_token({"user_id": None, "sub": None})),
        bearer(logged_out),
        bearer(blacklisted),
    ]
    observed = {}
    for headers in cases:
        r = s.gw.req("GET", "/api/v1/users", headers=headers)
        assert r.status == 401, (headers, r)
        cid = r.headers["x-correlation-id"]
        line = wait_for(lambda: [l for l in s.gw.log_lines() if l.get("msg") == "authentication failed"
                                 and l.get("correlation_id") == cid], what="authentication failed line")[0]
        same_fields(line, example)
        observed[line["reason"]] = r.json()["error"]["message"]
    assert observed == documented


# ---- Breaker tuning ----------------------------------------------------------------

def test_breaker_opens_on_three_failures_with_the_defaults_and_stays_open_on_failed_probes(stack_factory):
    text = section("Breaker tuning: it opens too fast, or stays open")
    quoted = samples(text, "api_gateway_circuit_breaker")
    opened, failed_probe, probe_counts = re.findall(r"`(\"from\":[^`]*|\"probes_admitted\"[^`]*)`", text)[:3]
    s = stack_factory(conf={"CB_OPEN_TIMEOUT": "2"}, backend_args={"user": ["--fail-status", "14"]})
    tok = bearer(make_token())
    for _ in range(3):  # CB_MIN_REQUESTS and CB_FAILURE_RATIO left at their defaults
        r = s.gw.req("GET", "/api/v1/users", headers=tok)
        assert r.status == 503 and r.json()["error"]["message"] == "injected failure", r
    s.gw.wait_log(re.escape(opened) + r',"requests":3,"failures":3')
    for _ in range(2):
        r = s.gw.req("GET", "/api/v1/users", headers=tok)
        assert r.status == 503 and r.json()["error"] == {"code": "CIRCUIT_BREAKER_OPEN",
                                                         "message": "circuit breaker is open"}, r
        assert 1 <= int(r.headers["retry-after"]) <= 2
    for (name, labels), value in quoted.items():
        s.gw.wait_metric(name, value, **dict(labels))
    assert len(s.user.records("/ListUsers")) == 3
    # stays open: the probe after CB_OPEN_TIMEOUT fails too
    s.gw.wait_metric("api_gateway_circuit_breaker_state", 2, service="user-service")
    assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 503
    s.gw.wait_log(re.escape(failed_probe) + ".*" + re.escape(probe_counts))
    # the tuning: CB_MIN_REQUESTS raised by a reload, the breaker reset
    with open(s.gw.conf_path, "a") as f:
        f.write("CB_MIN_REQUESTS=10\n")
    s.gw.reload()
    assert s.gw.req("POST", "/admin/breakers/user-service/reset").status == 200
    s.gw.wait_metric("api_gateway_circuit_breaker_state", 0, service="user-service")
    calls = len(s.user.records("/ListUsers"))
    for _ in range(5):
        r = s.gw.req("GET", "/api/v1/users", headers=tok)
        assert r.status == 503 and r.json()["error"]["message"] == "injected failure", r
    assert len(s.user.records("/ListUsers")) == calls + 5
    assert s.gw.metric("api_gateway_circuit_breaker_state", service="user-service") == 0


# ---- Metrics reference ------------------------------------------------------------

# Families whose every label value is always rendered: the reference lists them all.
ENUMERATED = {"api_gateway_cache_requests_total": "result", "api_gateway_accept_errors_total": "reason",
              "api_gateway_workers": "state", "api_gateway_rate_limit_requests_total": "result"}


def exposed(text):
    types = {l.split()[2]: l.split()[3] for l in text.splitlines() if l.startswith("# TYPE ")}
    labels = {f: set() for f in types}
    values = {f: {} for f in types}
    for (name, lbls) in parse_metrics(text):
        fam = name if name in types else re.sub(r"_(bucket|sum|count)$", "", name)
        for k, v in lbls:
            if k != "le":
                labels[fam].add(k)
                values[fam].setdefault(k, set()).add(v)
    return types, labels, values


# Families with no sample on a single-node Redis (their label sets exist only
# on a Redis Cluster, test_redis_cluster.py): only their names and types can be
# checked here.
SAMPLELESS = {"api_gateway_redis_calls_total"}


def test_metrics_reference_is_every_exposed_family(stack_factory):
    s = stack_factory(with_redis=True, conf={"ENABLE_TRACING": "true",
                                             "JAEGER_URL": "http://127.0.0.1:%d" % free_port()})
    assert s.gw.req("GET", "/api/v1/users", headers=bearer(make_token())).status == 200
    # every labelled family has samples once that request is in the rendering
    wait_for(lambda: s.gw.metric("api_gateway_requests_total", endpoint="/api/v1/users") == 1, what="rendered")
    text = s.gw.get("/metrics").body.decode()
    types, labels, values = exposed(text)
    ref = {}
    for row in table_rows(section("Metrics reference")):
        (name,) = ticks(row[0])
        assert name not in ref, "documented twice: " + name
        ref[name] = row
    assert sorted(set(types) - set(ref)) == [], "exposed but not documented"
    assert sorted(set(ref) - set(types)) == [], "documented but not exposed"
    for name, row in ref.items():
        assert row[1] == types[name], (name, row[1], types[name])
        outside = re.sub(r"\([^)]*\)", "", row[2])
        if labels[name] or name not in SAMPLELESS:
            assert set(ticks(outside)) == labels[name], (name, ticks(outside), labels[name])
        if name in ENUMERATED:
            inside = re.search(r"`%s` \(([^)]*)\)" % ENUMERATED[name], row[2]).group(1)
            assert set(ticks(inside)) == values[name][ENUMERATED[name]], (name, inside)
    # and no metric name anywhere in the operator docs is one the gateway lacks
    for page in ("TROUBLESHOOTING.md", "OPERATIONS.md"):
        for n in set(re.findall(r"\b((?:api_gateway|process)_[a-z_]+)", doc(page))):
            fam = n if n in types else re.sub(r"_(bucket|sum|count)$", "", n)
            assert fam in types, "%s names %s, which /metrics lacks" % (page, n)
