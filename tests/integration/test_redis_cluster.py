"""REDIS_URL=redis-cluster://: the blacklist, logout revocations and the
response cache on a real 3-master + 3-replica Redis Cluster started by the
test, shared by two gateway instances (each its own master, workers and
segment); keys routed by slot over every master; MOVED and ASK followed
during a slot migration; a master killed under traffic (no 5xx, /health
degraded while its slots have no master, the promoted replica used after a
slot-map refresh)."""

from gwtest import JWT_SECRET, bearer, make_token, metric, run_gateway, wait_for


def two_gateways(stack_factory, gateway_factory, cluster, conf=None):
    c = {"REDIS_URL": cluster.url, "CACHE_TTL": "30"}
    c.update(conf or {})
    a = stack_factory(conf=c)
    bconf = {"JWT_SECRET": JWT_SECRET, "AUTH_SERVICE_URL": a.auth.addr, "USER_SERVICE_URL": a.user.addr,
             "TENANT_SERVICE_URL": a.tenant.addr, "NOTIFICATION_SERVICE_URL": "http://" + a.notification.addr,
             "REQUEST_TIMEOUT": "5"}
    bconf.update(c)
    b = gateway_factory(conf=bconf)
    for g in (a.gw, b):
        wait_redis(g, "healthy")
    return a, b


def wait_redis(g, prefix, timeout=20):
    return wait_for(lambda: g.get("/health").json()["checks"]["redis"].startswith(prefix), timeout,
                    interval=0.1, what="/health redis %s" % prefix)


def cache_key(tenant, path):
    return "cache:{%s:user-service}:%s:%s" % (tenant, tenant, path)


def create_user(gw, tok, name):
    r = gw.req("POST", "/api/v1/users", body={"email": name + "@example.com", "username": name}, headers=tok)
    assert r.status == 200, r
    return r.json()["user"]["id"]


def node_calls(g):
    """{port: ok calls} from api_gateway_redis_calls_total."""
    out = {}
    for line in g.get("/metrics").body.decode().splitlines():
        if line.startswith("api_gateway_redis_calls_total{") and 'result="ok"' in line:
            port = int(line.split('node="')[1].split('"')[0].rsplit(":", 1)[1])
            out[port] = out.get(port, 0) + float(line.split()[-1])
    return out


def test_two_gateways_share_revocations_and_cache(redis_cluster_factory, stack_factory, gateway_factory):
    cluster = redis_cluster_factory()
    a, b = two_gateways(stack_factory, gateway_factory, cluster)
    # a logout through A is refused by B (B has no local record of it)
    tok = make_token({"jti": "cluster-logout-1"}, exp_in=300)
    assert b.get("/api/v1/users", headers=bearer(tok)).status == 200
    r = a.gw.req("POST", "/api/v1/auth/logout", body={}, headers=bearer(tok))
    assert r.status == 200, r
    assert cluster.ccli("EXISTS", "blacklist:cluster-logout-1") == "1"
    r = b.get("/api/v1/users", headers=bearer(tok))
    assert r.status == 401 and r.json()["error"]["message"] == "token has been revoked", r
    # a response cached through A is a HIT on B
    user = bearer(make_token({"tenant_id": "acme"}))
    path = "/api/v1/users/" + create_user(a.gw, user, "dora")
    r = a.gw.req("GET", path, headers=user)
    assert r.status == 200 and r.headers.get("x-cache") == "MISS", r
    wait_for(lambda: cluster.ccli("EXISTS", cache_key("acme", path)) == "1", what="entry stored")
    r2 = b.get(path, headers=user)
    assert r2.status == 200 and r2.headers.get("x-cache") == "HIT" and r2.json() == r.json(), r2
    # an invalidation through B drops what A cached (script and index share a slot)
    assert b.req("PUT", path, body={"first_name": "Dorothy"}, headers=user).status == 200
    assert cluster.ccli("EXISTS", cache_key("acme", path)) == "0"
    assert a.gw.req("GET", path, headers=user).headers.get("x-cache") == "MISS"
    # keys spread over every master: many tokens revoked, many tenants cached
    for i in range(40):
        t = make_token({"jti": "spread-%d" % i, "tenant_id": "t%d" % i})
        assert a.gw.req("POST", "/api/v1/auth/logout", body={}, headers=bearer(t)).status == 200
    masters = cluster.masters_map()
    assert len(masters) == 3
    for port in masters:
        assert int(cluster.cli(port, "DBSIZE")) > 0, "master %d holds no key" % port
    wait_for(lambda: all(node_calls(a.gw).get(port, 0) > 0 for port in masters), what="calls on every master")
    m = a.gw.metrics()
    assert metric(m, "api_gateway_redis_slot_map_refreshes_total") >= 2  # one per worker at least


def node_id(cluster, port):
    return cluster.cli(port, "CLUSTER", "MYID")


def test_moved_and_ask_are_followed(redis_cluster_factory, stack_factory, gateway_factory):
    cluster = redis_cluster_factory()
    a, _ = two_gateways(stack_factory, gateway_factory, cluster)
    g = a.gw
    jti = "migrating-1"
    key = "blacklist:" + jti
    slot = cluster.slot(key)
    src = cluster.master_for_key(key)
    dst = next(p for p in cluster.masters_map() if p != src)
    tok = make_token({"jti": jti}, exp_in=300)
    for _ in range(4):  # both workers load the map and route the key to src
        assert g.get("/api/v1/users", headers=bearer(tok)).status == 200
    # mid-migration: src answers ASK for a key it does not hold
    assert cluster.cli(dst, "CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(cluster, src)) == "OK"
    assert cluster.cli(src, "CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(cluster, dst)) == "OK"
    for _ in range(4):
        assert g.get("/api/v1/users", headers=bearer(tok)).status == 200
    wait_for(lambda: g.metric("api_gateway_redis_redirects_total", kind="ask") >= 4, what="ASKs followed")
    # the slot now belongs to dst: the stale map gets MOVED, follows it and refreshes
    for port in (dst, src):
        assert cluster.cli(port, "CLUSTER", "SETSLOT", slot, "NODE", node_id(cluster, dst)) == "OK"
    refreshes = g.metric("api_gateway_redis_slot_map_refreshes_total")
    assert g.req("POST", "/api/v1/auth/logout", body={}, headers=bearer(tok)).status == 200
    assert cluster.cli(dst, "EXISTS", key) == "1"  # written on the new owner
    r = g.get("/api/v1/users", headers=bearer(tok))
    assert r.status == 401 and r.json()["error"]["message"] == "token has been revoked", r
    wait_for(lambda: g.metric("api_gateway_redis_redirects_total", kind="moved") >= 1, what="a MOVED counted")
    wait_for(lambda: g.metric("api_gateway_redis_slot_map_refreshes_total") > refreshes, what="map refreshed")


def test_master_killed_under_traffic(redis_cluster_factory, stack_factory, gateway_factory):
    cluster = redis_cluster_factory()
    a, b = two_gateways(stack_factory, gateway_factory, cluster)
    user = bearer(make_token({"tenant_id": "acme"}))
    path = "/api/v1/users/" + create_user(a.gw, user, "erin")
    assert a.gw.get(path, headers=user).headers.get("x-cache") == "MISS"
    key = cache_key("acme", path)
    wait_for(lambda: cluster.ccli("EXISTS", key) == "1", what="entry stored")
    assert b.get(path, headers=user).headers.get("x-cache") == "HIT"
    victim = cluster.master_for_key(key)
    replica = next(p for p in cluster.live_ports()
                   if p != victim and "master_port:%d" % victim in cluster.cli(p, "INFO", "replication"))
    refreshes = b.metric("api_gateway_redis_slot_map_refreshes_total")
    errors = b.metric("api_gateway_cache_requests_total", result="error")
    cluster.kill(victim)  # its replica is promoted after cluster-node-timeout (1 s) and an election

    def serve():
        for g in (a.gw, b):
            r = g.get(path, headers=user)
            assert r.status == 200, r  # never a 5xx: the cache is served around
        return True

    def promoted():
        serve()
        return "role:master" in cluster.cli(replica, "INFO", "replication")
    wait_for(promoted, 30, interval=0.05, what="replica promoted")
    cluster.wait_ok()

    def hit_again():  # the new master is used: a fresh entry is stored there and hit
        serve()
        r = b.get(path, headers=user)
        assert r.status == 200, r
        return r.headers.get("x-cache") == "HIT"
    wait_for(hit_again, 20, interval=0.1, what="cache HIT from the promoted replica")
    assert cluster.cli(replica, "EXISTS", key) == "1"
    wait_for(lambda: node_calls(b).get(replica, 0) > 0, what="calls to the promoted replica")
    assert b.metric("api_gateway_redis_slot_map_refreshes_total") > refreshes
    assert b.metric("api_gateway_cache_requests_total", result="error") > errors  # the seconds the failover took
    wait_redis(b, "healthy")
    assert b.get("/health").json()["status"] == "healthy"
    # the promoted replica has no replica of its own: killing it leaves its
    # slots without a master, and /health says so while requests go on
    lost = sum(hi - lo + 1 for lo, hi in cluster.masters_map()[replica])
    cluster.kill(replica)

    def degraded():
        serve()
        h = b.get("/health").json()
        return h["status"] == "degraded" and h["checks"]["redis"] == "degraded: %d slots unreachable" % lost
    wait_for(degraded, 20, interval=0.05, what="/health degraded")
    assert b.get("/health").status == 200
    for _ in range(10):
        serve()


def test_cluster_url_validation():
    cases = [("redis-cluster://", "no seed nodes"),
             ("redis-cluster://127.0.0.1", "every seed node needs host:port"),
             ("redis-cluster://127.0.0.1:7000,", "empty seed node in the list"),
             ("redis-cluster://127.0.0.1:99999", "seed port must be 1..65535"),
             ("redis-cluster://127.0.0.1:7000/1", "a cluster has only database 0"),
             ("redis-cluster://user:s3cr3t@127.0.0.1:7000", "the password form is :password@")]
    for url, message in cases:
        r = run_gateway(["-t"], {"JWT_SECRET": JWT_SECRET, "REDIS_URL": url})
        out = r.stdout + r.stderr
        assert r.returncode == 1 and message in out and "s3cr3t" not in out, (url, out)
    ok = run_gateway(["-t"], {"JWT_SECRET": JWT_SECRET, "REDIS_URL": "redis-cluster://:s3cr3t@a:1,b.example:2"})
    assert ok.returncode == 0, ok.stdout + ok.stderr
