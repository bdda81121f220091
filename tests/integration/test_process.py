"""The master and the accept path through the real processes: reloads under
gRPC load with zero failed requests, SIGHUPs queued behind a reload in
progress, restart-only settings on every HUP, environment values overriding
bad file values, and descriptor exhaustion (EMFILE) backing off instead of
spinning."""

import http.client
import os
import resource
import signal
import socket
import threading
import time

from gwtest import JWT_SECRET, bearer, make_token, parse_metrics, metric, request, run_gateway, wait_for

UNLIMITED = {"RATE_LIMIT_RPS": "1000000", "RATE_LIMIT_BURST": "1000000"}


# ---- reloads under load on a gRPC route ---------------------------------------

def grpc_load(port, path, token, stop, out, conns):
    """Keep-alive clients on `path`; every non-2xx answer and every transport
    error is recorded with its correlation id, so a failure can be found in
    the gateway's log."""
    def run(n):
        conn, i = None, 0
        while not stop.is_set():
            cid = "load-%d-%d" % (n, i)
            i += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path, headers=dict(bearer(token), **{"X-Correlation-ID": cid}))
                r = conn.getresponse()
                body = r.read()
                with out["lock"]:
                    if 200 <= r.status < 300:
                        out["ok"] += 1
                    else:
                        out["bad"].append((r.status, cid, body[:300]))
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                # A keep-alive connection closed by a draining worker between
                # two requests is the client's to retry (RFC 9112 §9.3.1),
                # but only if nothing of the request was answered.
                with out["lock"]:
                    out["errors"].append((repr(e), cid))
                if conn:
                    conn.close()
                conn = None
        if conn:
            conn.close()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(conns)]
    for t in threads:
        t.start()
    return threads


def test_hups_under_grpc_keepalive_load_fail_nothing(stack_factory):
    s = stack_factory(conf=UNLIMITED)
    token = make_token({"user_id": "u-1", "tenant_id": "acme", "roles": ["user"]})
    stop = threading.Event()
    out = {"ok": 0, "bad": [], "errors": [], "lock": threading.Lock()}
    threads = grpc_load(s.gw.port, "/api/v1/users", token, stop, out, conns=6)
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
    retried = [e for e in out["errors"] if "RemoteDisconnected" not in e[0]]
    assert retried == [], out["errors"]
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

