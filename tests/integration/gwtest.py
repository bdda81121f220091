"""Helpers for the integration tests: start the real gateway (and, in later
tests, the demo backends and Redis) as processes on loopback ports, talk
HTTP to them, and read /metrics.

Everything here uses the Python standard library only (Debian's python3)."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GW_BIN = os.environ.get("GW_BIN", os.path.join(ROOT, "bin", "api-gateway"))
BACKEND_BIN = os.environ.get("GW_BACKEND", os.path.join(ROOT, "build", "bin", "demo-backend"))
ECHO_BIN = os.environ.get("GW_ECHO_BACKEND", os.path.join(os.path.dirname(BACKEND_BIN), "echo-backend"))
JWT_SECRET = "integration-test-secret"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=10.0, interval=0.02, what="condition"):
    """Poll `cond` until it returns a truthy value; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last:
                return last
        except (OSError, http.client.HTTPException, ValueError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:200])


def request(port, method, path, body=None, headers=None, host="127.0.0.1", timeout=10, source=None):
    """One request on a fresh connection."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def parse_metrics(text):
    """Prometheus text → {(name, ((label, value), ...)): float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            raise ValueError("bad metrics line: %r" % line)
        labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(metrics, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for (n, lbls), v in metrics.items():
        d = dict(lbls)
        if n == name and all(d.get(k) == str(v2) for k, v2 in labels.items()):
            total += v
    return total


class Gateway:
    """The real bin/api-gateway as a child process, on a free port, with its
    JSON log in a file."""

    def __init__(self, env=None, conf=None, workers=2, port=None, args=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="gw-test-")
        self.conf_path = os.path.join(self.dir, "api-gateway.conf")
        self.log_path = os.path.join(self.dir, "gateway.log")
        self.env = dict(os.environ)
        for k in list(self.env):  # keep tests independent of the caller's settings
            if k.startswith(("API_GATEWAY_", "JWT_", "RATE_LIMIT_", "CB_", "REDIS_", "CACHE_", "TLS_")):
                del self.env[k]
        self.env.update({
            "API_GATEWAY_HOST": "127.0.0.1",
            "API_GATEWAY_PORT": str(self.port),
            "WORKERS": str(workers),
            "SHUTDOWN_TIMEOUT": "5",
        })
        self.env.update(env or {})
        self.workers = workers
        self.write_conf(conf if conf is not None else {"JWT_SECRET": JWT_SECRET})
        self.args = args or []
        self.proc = None

    def write_conf(self, conf):
        with open(self.conf_path, "w") as f:
            if isinstance(conf, str):
                f.write(conf)
            else:
                for k, v in conf.items():
                    f.write("%s=%s\n" % (k, v))

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([GW_BIN, "-c", self.conf_path] + self.args, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=15):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("gateway exited with %s:\n%s" % (self.proc.returncode, self.log_text()))
            return self.ready_workers() == self.workers
        wait_for(ready, timeout, what="%d ready workers" % self.workers)

    def workers_info(self):
        return request(self.port, "GET", "/debug/workers").json()

    def ready_workers(self, generation=None):
        info = self.workers_info()
        gen = generation or info["generation"]
        return sum(1 for w in info["workers"] if w["state"] == "ready" and w["generation"] == gen)

    def get(self, path, **kw):
        return request(self.port, "GET", path, **kw)

    def req(self, method, path, **kw):
        return request(self.port, method, path, **kw)

    def metrics(self):
        r = self.get("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.body.decode())

    def metric(self, name, **labels):
        return metric(self.metrics(), name, **labels)

    def wait_metric(self, name, value, timeout=10, **labels):
        """Poll /metrics (rendered by the master a few times a second)."""
        return wait_for(lambda: self.metric(name, **labels) == value, timeout,
                        what="%s%r == %r" % (name, labels, value))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def reload(self, timeout=15):
        """SIGHUP and wait until the new generation serves."""
        before = self.metric("api_gateway_reloads_total")
        self.signal(signal.SIGHUP)
        self.wait_metric("api_gateway_reloads_total", before + 1, timeout=timeout)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def log_lines(self):
        out = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def wait_log(self, pattern, timeout=10):
        return wait_for(lambda: re.search(pattern, self.log_text()), timeout, what="log line %r" % pattern)

    def stop(self, timeout=20):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("gateway did not stop within %ss" % timeout)
        finally:
            self.log.close()


def run_gateway(args, env, timeout=10):
    """Run the binary to completion (config checks, start-up failures)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "API_GATEWAY_"))}
    full.update(env)
    return subprocess.run([GW_BIN] + args, env=full, capture_output=True, text=True, timeout=timeout)


# ---- demo backends, Redis, tokens -------------------------------------------

class _Listener:
    """A test process on a free loopback port that prints "listening on" once
    it serves, stopped by SIGTERM (then SIGKILL after 10 s); its stderr goes
    to self.dir/stderr, checked for sanitizer reports by conftest.py."""

    def __init__(self, port, prefix):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.proc = None

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def _spawn(self, cmd, what):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(os.path.join(self.dir, "stderr"), "ab"))
        line = self.proc.stdout.readline().decode()
        assert "listening on" in line, "%s did not start: %r" % (what, line)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()


class Backend(_Listener):
    """One demo-backend process (tests/backends) on a free loopback port,
    recording every call it receives."""

    def __init__(self, service, args=(), port=None, record=None):
        super().__init__(port, "gw-backend-")
        self.service = service
        self.args = list(args)
        self.record_path = record or os.path.join(self.dir, "record.jsonl")

    def start(self):
        cmd = [BACKEND_BIN, "--service", self.service, "--listen", self.addr, "--jwt-secret", JWT_SECRET,
               "--record", self.record_path] + self.args
        return self._spawn(cmd, "demo-backend %s" % self.service)

    def restart(self, args=None):
        self.stop()
        if args is not None:
            self.args = list(args)
        return self.start()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def records(self, method=None):
        if not os.path.exists(self.record_path):
            return []
        out = []
        with open(self.record_path) as f:
            for line in f:
                rec = json.loads(line)
                if method is None or rec["method"].endswith(method):
                    out.append(rec)
        return out


class EchoBackend(_Listener):
    """tests/backends/echo_backend.c: answers any gRPC method with the request
    bytes as field 1 of the reply, a call counter as field 13, the method path
    as 14 and "x-user-id=U;x-tenant-id=T" as 15; a request containing
    "grpc-status:N" gets status N. Serves grpc.health.v1.Health/Check."""

    def __init__(self, port=None):
        super().__init__(port, "gw-echo-")

    def start(self):
        return self._spawn([ECHO_BIN, "--listen", self.addr], "echo-backend")


class Redis:
    """A private redis-server on a free port, stopped by PID."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.proc = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.cli("PING") == "PONG", what="redis up")
        return self

    def cli(self, *args):
        """One command through redis-cli; its raw output as a string."""
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def free_cluster_port():
    """A free loopback port P whose cluster bus port P+10000 is free too."""
    import random
    while True:
        p = random.randint(20000, 40000)
        try:
            for q in (p, p + 10000):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind(("127.0.0.1", q))
            return p
        except OSError:
            continue


class RedisCluster:
    """A private Redis Cluster (`masters` masters, each with `replicas`
    replicas) on free loopback ports, stopped by PID. cluster-node-timeout is
    1000 ms, so a killed master's replica is promoted within a few seconds."""

    def __init__(self, masters=3, replicas=1):
        self.dir = tempfile.mkdtemp(prefix="gw-cluster-")
        self.ports = []
        while len(self.ports) < masters * (1 + replicas):
            p = free_cluster_port()
            if p not in self.ports:
                self.ports.append(p)
        self.masters, self.replicas = masters, replicas
        self.procs = {}

    @property
    def nodes(self):
        return [(p, self.procs[p]) for p in self.ports]

    @property
    def url(self):
        return "redis-cluster://" + ",".join("127.0.0.1:%d" % p for p in self.ports[:self.masters])

    def live_ports(self):
        return [p for p in self.ports if self.procs[p].poll() is None]

    def start(self):
        for p in self.ports:
            self.procs[p] = subprocess.Popen(
                ["redis-server", "--port", str(p), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", os.path.join(self.dir, "nodes-%d.conf" % p),
                 "--cluster-node-timeout", "1000", "--appendonly", "no", "--save", "", "--dir", self.dir,
                 "--dbfilename", "dump-%d.rdb" % p, "--repl-diskless-sync-delay", "0"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for p in self.ports:
            wait_for(lambda p=p: self.cli(p, "PING") == "PONG", what="redis %d up" % p)
        r = subprocess.run(["redis-cli", "--cluster", "create"] + ["127.0.0.1:%d" % p for p in self.ports] +
                           ["--cluster-replicas", str(self.replicas), "--cluster-yes"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        self.wait_ok()
        return self

    def cli(self, port, *args):
        """One command through redis-cli on one node; its raw output."""
        r = subprocess.run(["redis-cli", "-p", str(port)] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def ccli(self, *args):
        """A command through redis-cli -c (follows redirects) on a live node."""
        r = subprocess.run(["redis-cli", "-c", "-p", str(self.live_ports()[0])] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def masters_map(self):
        """{port: [(lo, hi), ...]} of the live masters that own slots."""
        out = {}
        for line in self.cli(self.live_ports()[0], "CLUSTER", "NODES").splitlines():
            f = line.split()
            if "master" not in f[2] or "fail" in f[2]:
                continue
            port = int(f[1].split("@")[0].rsplit(":", 1)[1])
            ranges = []
            for r in f[8:]:
                if r.startswith("["):
                    continue  # a slot being migrated
                lo, _, hi = r.partition("-")
                ranges.append((int(lo), int(hi or lo)))
            if ranges:
                out[port] = ranges
        return out

    def slot(self, key):
        return int(self.cli(self.live_ports()[0], "CLUSTER", "KEYSLOT", key))

    def master_for_key(self, key):
        s = self.slot(key)
        for port, ranges in self.masters_map().items():
            if any(lo <= s <= hi for lo, hi in ranges):
                return port
        raise AssertionError("no master owns slot %d" % s)

    def wait_ok(self, timeout=30):
        """Every live node says cluster_state:ok, masters cover all slots,
        and every replica of a live master is in sync (so it can take over)."""
        def ok():
            live = self.live_ports()
            if not all("cluster_state:ok" in self.cli(p, "CLUSTER", "INFO") for p in live):
                return False
            for p in live:
                info = self.cli(p, "INFO", "replication")
                m = re.search(r"master_port:(\d+)", info)
                if m and int(m.group(1)) in live and "master_link_status:up" not in info:
                    return False
            covered = sum(hi - lo + 1 for rs in self.masters_map().values() for lo, hi in rs)
            return covered == 16384 and all(p in live for p in self.masters_map())
        wait_for(ok, timeout, interval=0.1, what="cluster_state:ok on every node")

    def kill(self, port):
        self.procs[port].kill()
        self.procs[port].wait(10)

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)


def b64url(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(claims=None, secret=JWT_SECRET, alg="HS256", header=None, exp_in=600, sign=True):
    """An HS256/384/512 JWT signed with the standard library."""
    import hashlib
    import hmac
    now = int(time.time())
    body = {"user_id": "u-test", "sub": "u-test", "tenant_id": "acme", "roles": ["user"],
            "jti": "jti-%s" % os.urandom(6).hex(), "iat": now, "exp": now + exp_in}
    body.update(claims or {})
    body = {k: v for k, v in body.items() if v is not None}
    hdr = header or {"alg": alg, "typ": "JWT"}
    signing_input = (b64url(json.dumps(hdr, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(body, separators=(",", ":")).encode()))
    if not sign:
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[hdr["alg"]]
    key = secret.encode() if isinstance(secret, str) else secret
    sig = hmac.new(key, signing_input.encode(), digest).digest()
    return signing_input + "." + b64url(sig)


def bearer(token):
    return {"Authorization": "Bearer " + token}


def keepalive_load(port, path, token, stop, out, conns):
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
