"""The master and the accept path through the real processes: reloads under
gRPC load with zero failed requests, SIGHUPs queued behind a reload in
progress, restart-only settings on every HUP, environment values overriding
bad file values, and descriptor exhaustion (EMFILE) backing off instead of
spinning."""

import errno
import http.client
import os
import resource
import signal
import socket
import threading
import time

from gwtest import (JWT_SECRET, bearer, free_port, keepalive_load, make_token, metric, parse_metrics, run_gateway,
                    wait_for)

UNLIMITED = {"RATE_LIMIT_RPS": "1000000", "RATE_LIMIT_BURST": "1000000"}


# ---- reloads under load on a gRPC route ---------------------------------------


def test_hups_under_grpc_keepalive_load_fail_nothing(stack_factory):
    s = stack_factory(conf=UNLIMITED)
    token = make_token({"user_id": "u-1", "tenant_id": "acme", "roles": ["user"]})
    stop = threading.Event()
    out = {"ok": 0, "bad": [], "errors": [], "lock": threading.Lock()}
    threads = keepalive_load(s.gw.port, "/api/v1/users", token, stop, out, conns=6)
    try:
        wait_for(lambda: out["ok"] >= 50, what="load running")
        for i in range(5):
            s.gw.reload()
            seen = out["ok"]
            wait_for(lambda: out["ok"] >= seen + 50, what="load served after reload %d" % (i + 1))
    finally:
        stop.set()
        for t in threads:
            t.join()
    failed = [(st, cid, [l for l in s.gw.log_lines() if l.get("correlation_id") == cid]) for st, cid, _ in out["bad"]]
    assert out["bad"] == [], failed
    assert out["errors"] == [], out["errors"]
    assert out["ok"] > 300
    assert s.gw.metric("api_gateway_reloads_total") == 5


def test_new_generation_waits_for_a_backend_slow_to_handshake(stack_factory):
    """A new worker's first call opens its channel; a backend slow to finish
    the HTTP/2 handshake (here: stopped for half a second) must delay the
    call, not fail it (gRPC's minimum connect timeout, not its reconnect
    backoff, bounds the attempt)."""
    s = stack_factory(conf=UNLIMITED)
    token = make_token({"user_id": "u-1", "tenant_id": "acme", "roles": ["user"]})
    assert s.gw.req("GET", "/api/v1/users", headers=bearer(token)).status == 200
    s.user.signal(signal.SIGSTOP)
    try:
        s.gw.reload()  # the new generation has not connected to user-service yet
        gen = s.gw.workers_info()["generation"]
        wait_for(lambda: all(w["generation"] == gen or w["state"] != "ready" for w in s.gw.workers_info()["workers"]),
                 what="the old generation no longer accepting")
        result = {}

        def call():
            result["r"] = s.gw.req("GET", "/api/v1/users", headers=dict(bearer(token), **{"X-Correlation-ID": "slow-hs"}))
        t = threading.Thread(target=call)
        t.start()
        time.sleep(0.5)  # the stimulus: the backend stays stopped this long
    finally:
        s.user.signal(signal.SIGCONT)
    t.join()
    assert result["r"].status == 200, (result["r"], [l for l in s.gw.log_lines() if l.get("correlation_id") == "slow-hs"])


# ---- SIGHUP during a reload, restart-only settings ------------------------------

def test_hup_during_a_reload_is_queued_not_dropped(gateway_factory):
    g = gateway_factory(conf={"JWT_SECRET": JWT_SECRET, "MAX_REQUEST_SIZE": "1000"})
    # The config path becomes a FIFO: the master's read of it blocks until the
    # test writes, which holds the master inside a reload for as long as the
    # test needs, with no timing involved.
    os.unlink(g.conf_path)
    os.mkfifo(g.conf_path)

    def master_reading():
        try:
            return os.open(g.conf_path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno == errno.ENXIO:  # no reader yet
                return None
            raise

    def master_holds_fifo():
        fds = "/proc/%d/fd" % g.proc.pid
        return any(os.path.realpath(os.path.join(fds, f)) == os.path.realpath(g.conf_path)
                   for f in os.listdir(fds))

    def feed(conf):
        # The first reload's reader must be gone, or this write could reach it.
        wait_for(lambda: not master_holds_fifo(), what="the first read finished")
        fd = wait_for(master_reading, what="the master reading its config file")
        os.write(fd, "".join("%s=%s\n" % kv for kv in conf.items()).encode())
        os.close(fd)

    g.signal(signal.SIGHUP)
    fd = wait_for(master_reading, what="the master reading its config file")
    g.signal(signal.SIGHUP)  # arrives while the first reload is under way
    os.write(fd, ("JWT_SECRET=%s\nMAX_REQUEST_SIZE=2000\n" % JWT_SECRET).encode())
    os.close(fd)
    # The master may not even have returned from its open() yet: wait until it
    # has read and closed the file (it logs the new generation after that),
    # or the next write would reach this same read.
    g.wait_log(r"reloading: starting generation 2", timeout=30)
    # the edit made after the first read: the queued reload must read it
    feed({"JWT_SECRET": JWT_SECRET, "MAX_REQUEST_SIZE": "5000"})
    g.wait_metric("api_gateway_reloads_total", 2)
    wait_for(lambda: g.workers_info()["generation"] == 3, what="generation 3 serving")
    body = b"x" * 3000
    assert g.req("POST", "/nope", body=body, headers={"Content-Type": "application/json"}).status == 404
    assert g.log_text().count("queued another one") == 1
    assert "SIGHUP ignored" not in g.log_text()


def test_restart_only_settings_keep_their_value_and_warn_on_every_hup(gateway_factory):
    port, other = free_port(), free_port()
    conf = {"JWT_SECRET": JWT_SECRET, "API_GATEWAY_HOST": "127.0.0.1", "API_GATEWAY_PORT": str(port)}
    g = gateway_factory(conf=conf, port=port, start=False)
    del g.env["API_GATEWAY_HOST"], g.env["API_GATEWAY_PORT"]  # the file decides
    g.start()
    g.write_conf(dict(conf, API_GATEWAY_PORT=str(other), RATE_LIMIT_TABLE_SIZE="4096",
                      REVOCATION_TABLE_SIZE="512"))
    warnings = ["API_GATEWAY_HOST/PORT change (127.0.0.1:%d) needs a restart; still listening on 127.0.0.1:%d"
                % (other, port),
                "RATE_LIMIT_TABLE_SIZE change (262144 -> 4096) needs a restart; keeping 262144",
                "REVOCATION_TABLE_SIZE change (16384 -> 512) needs a restart; keeping 16384"]
    for n in (1, 2, 3):
        g.reload()
        for w in warnings:
            wait_for(lambda: g.log_text().count(w) == n, what="%r logged %d times" % (w, n))
    assert g.get("/ready").status == 200
    assert g.metric("api_gateway_rate_limit_table_capacity") == 262144
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", other)) != 0  # nothing listens on the new port


# ---- environment over file --------------------------------------------------------

def test_environment_overrides_a_bad_file_value(tmp_path):
    conf = tmp_path / "gw.conf"
    conf.write_text("JWT_SECRET=s\nRATE_LIMIT_RPS=abc\n")
    r = run_gateway(["-t", "-v", "-c", str(conf)], {"RATE_LIMIT_RPS": "7"})
    assert r.returncode == 0, r.stderr
    assert "RATE_LIMIT_RPS=7\n" in r.stdout
    # a bad value in the environment is still an error naming the key
    r = run_gateway(["-t", "-c", str(conf)], {"RATE_LIMIT_RPS": "seven"})
    assert r.returncode == 1
    assert r.stderr.strip() == 'api-gateway: RATE_LIMIT_RPS: not a number: "seven"'
    # and without the override the file's value is
    r = run_gateway(["-t", "-c", str(conf)], {})
    assert r.returncode == 1
    assert r.stderr.strip() == 'api-gateway: RATE_LIMIT_RPS: not a number: "abc"'


# ---- descriptor exhaustion ------------------------------------------------------

def cpu_seconds(pid):
    """utime + stime of a process, from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fds_below(pid, limit):
    return sum(1 for fd in os.listdir("/proc/%d/fd" % pid) if int(fd) < limit)


def test_fd_exhaustion_backs_off_logs_counts_and_recovers(gateway_factory):
    g = gateway_factory(workers=1)
    pid = g.workers_info()["workers"][0]["pid"]
    # A keep-alive connection opened before the worker runs out, to read
    # /metrics while it cannot accept new ones.
    scraper = http.client.HTTPConnection("127.0.0.1", g.port, timeout=5)

    def scrape():
        scraper.request("GET", "/metrics")
        return parse_metrics(scraper.getresponse().read().decode())
    assert metric(scrape(), "api_gateway_accept_errors_total", reason="emfile") == 0
    limit = len(os.listdir("/proc/%d/fd" % pid)) + 16
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
    idle = []
    try:
        for _ in range(limit + 32):  # more than the worker can hold; the rest wait in the queue
            idle.append(socket.create_connection(("127.0.0.1", g.port)))
        wait_for(lambda: fds_below(pid, limit) == limit, what="worker out of descriptors")
        t0, cpu0 = time.monotonic(), cpu_seconds(pid)
        wait_for(lambda: time.monotonic() - t0 >= 2.0, interval=0.1, what="2 s exhausted")
        elapsed, used = time.monotonic() - t0, cpu_seconds(pid) - cpu0
        assert fds_below(pid, limit) >= limit - 2  # still exhausted (a resolver socket may come and go)
        # Before the fix the worker retried accept4 in a tight loop (a full core).
        assert used < 0.1 * elapsed, "worker used %.2f s of CPU in %.2f s while out of descriptors" % (used, elapsed)
        warns = [l for l in g.log_lines() if l.get("errno") == "EMFILE"]
        assert warns and warns[0]["level"] == "warn" and warns[0]["worker"] == 0, warns
        assert "Too many open files (EMFILE)" in warns[0]["msg"], warns[0]
        # once per second at most, each line saying how many failures it stands for
        assert len(warns) <= elapsed + 3, len(warns)
        logged = sum(l["failures"] for l in warns)
        wait_for(lambda: metric(scrape(), "api_gateway_accept_errors_total", reason="emfile") >= logged,
                 what="accept errors counted")
    finally:
        for s in idle:
            s.close()
        scraper.close()
    # Descriptors free up: new clients are served promptly again.
    wait_for(lambda: g.get("/ready", timeout=2).status == 200, timeout=5, what="served again")
    r = subprocess_promtool(g.get("/metrics").body)
    assert r.returncode == 0, r.stdout + r.stderr


def subprocess_promtool(text):
    import subprocess
    return subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)


def test_request_longer_than_shutdown_timeout_is_answered_503_and_logged(stack_factory):
    """A reload keeps every request shorter than SHUTDOWN_TIMEOUT; one still in
    flight at the old worker's deadline is answered 503 in the envelope,
    logged and counted, never cut without a response."""
    s = stack_factory(env={"SHUTDOWN_TIMEOUT": "1"}, backend_args={"user": ["--latency-ms", "3000"]})
    tok = bearer(make_token({"tenant_id": "acme"}))
    result = {}

    def call():
        t0 = time.monotonic()
        result["r"] = s.gw.req("GET", "/api/v1/users/u-1", headers=dict(tok, **{"X-Correlation-ID": "cut-1"}))
        result["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=call)
    t.start()
    wait_for(lambda: len(s.user.records("/GetUser")) >= 1, what="the backend call started")
    s.gw.reload()
    t.join(15)
    r = result["r"]
    assert r.status == 503, r
    body = r.json()
    assert body["success"] is False and "SHUTDOWN_TIMEOUT" in body["error"]["message"], body
    assert body["correlation_id"] == "cut-1"
    assert result["elapsed"] < 2.9, result  # before the backend would have answered
    lines = s.gw.log_lines()
    cut = [l for l in lines if l.get("msg") == "request cut at SHUTDOWN_TIMEOUT"]
    assert len(cut) == 1 and cut[0]["correlation_id"] == "cut-1" and cut[0]["upstream"] == "user-service", cut
    # Access lines are buffered (flushed each loop turn, at most 100 ms, or at exit).
    def access_lines():
        return [l for l in s.gw.log_lines() if l.get("msg") == "access" and l.get("correlation_id") == "cut-1"]

    wait_for(access_lines, what="the access line of the cut request")
    access = access_lines()
    assert len(access) == 1 and access[0]["status"] == 503, access
    s.gw.wait_metric("api_gateway_shutdown_cut_requests_total", 1)
    # the new generation serves
    assert s.gw.req("GET", "/ready").status == 200


def test_hup_that_shortens_the_sweep_interval_applies_at_once(gateway_factory):
    """RATE_LIMIT_CLEANUP_INTERVAL changed by a reload counts from the last
    sweep: 600 s → 1 s sweeps within seconds, not after the old 600 s."""
    gw = gateway_factory(conf={"JWT_SECRET": JWT_SECRET, "RATE_LIMIT_CLEANUP_INTERVAL": "600"})
    sweeps = gw.metric("api_gateway_rate_limit_sweeps_total")
    gw.write_conf({"JWT_SECRET": JWT_SECRET, "RATE_LIMIT_CLEANUP_INTERVAL": "1"})
    gw.reload()
    wait_for(lambda: gw.metric("api_gateway_rate_limit_sweeps_total") >= sweeps + 2, timeout=15,
             what="two sweeps on the new interval")
    gw.wait_log(r"rate limiter sweep interval 600 s -> 1 s")
