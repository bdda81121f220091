"""Connections spread evenly over the workers (issue 15, worker/accept.c).

The workers share one listening socket and a connection stays with the
worker that accepted it, so without balancing a burst of keep-alive
connections lands mostly on whichever worker woke first (48/2 was measured).
Each test opens its connections in one burst (every TCP handshake completes
in the kernel's queue before any request is sent), sends one GET /ready on
each and keeps them open, then reads every worker's open connections from
/debug/workers over one of those same connections (so the reading adds no
connection) and asserts max/min <= 1.2."""

import http.client
import json

import pytest

from gwtest import wait_for

MAX_RATIO = 1.2


def open_burst(port, n):
    """n keep-alive connections: all connected first, then one GET /ready on
    each (the answer read), all left open."""
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(n)]
    for c in conns:
        c.connect()
    for c in conns:
        c.request("GET", "/ready")
    for c in conns:
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        assert r.getheader("connection", "").lower() != "close"
    return conns


def debug_workers(conn):
    conn.request("GET", "/debug/workers")
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, (r.status, body)
    return json.loads(body)


def spread(conn, workers, n):
    """Open connections per ready worker of the serving generation, read over
    `conn`, once the gateway counts exactly our n (the fixture's readiness
    probes close theirs a moment after answering)."""
    def read():
        info = debug_workers(conn)
        counts = [w["connections"] for w in info["workers"]
                  if w["state"] == "ready" and w["generation"] == info["generation"]]
        return counts if len(counts) == workers and sum(counts) == n else None
    return wait_for(read, 10, what="%d connections counted on %d workers" % (n, workers))


def check(counts):
    assert min(counts) > 0 and max(counts) / min(counts) <= MAX_RATIO, \
        "connections per worker: %s (max/min %.2f > %.1f)" % (
            counts, max(counts) / max(min(counts), 1), MAX_RATIO)


@pytest.mark.parametrize("workers,n", [(2, 50), (4, 200)])
def test_burst_of_keepalive_connections_spreads_evenly(gateway_factory, workers, n):
    g = gateway_factory(workers=workers)
    conns = open_burst(g.port, n)
    try:
        check(spread(conns[0], workers, n))
    finally:
        for c in conns:
            c.close()


def test_worker_that_lost_its_connections_gets_the_next_burst(gateway_factory):
    """Every connection of one worker closes; the next burst must go to that
    worker until the two are even again."""
    g = gateway_factory(workers=2)
    conns = open_burst(g.port, 50)
    try:
        spread(conns[0], 2, 50)
        by_worker = {}
        for c in conns:
            pid = [w["pid"] for w in debug_workers(c)["workers"] if w["self"]][0]
            by_worker.setdefault(pid, []).append(c)
        assert len(by_worker) == 2, {p: len(cs) for p, cs in by_worker.items()}
        gone, kept = sorted(by_worker.values(), key=len)
        for c in gone:
            c.close()
        conns = kept + open_burst(g.port, len(gone))
        check(spread(conns[0], 2, 50))
    finally:
        for c in conns:
            c.close()
