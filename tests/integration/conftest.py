"""pytest fixtures: every process a test starts is stopped when it ends."""

import os
import re
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402


@pytest.fixture
def gateway_factory():
    started = []

    def make(**kw):
        start = kw.pop("start", True)
        g = gwtest.Gateway(**kw)
        started.append(g)
        if start:
            g.start()
        return g

    yield make
    for g in started:
        if g.proc is not None and g.proc.poll() is None:
            g.stop()
    # Under `make test-asan` a sanitizer report in a gateway log fails the test
    # that produced it; otherwise the temporary directories are removed.
    for g in started:
        if os.path.exists(g.log_path):
            report = SANITIZER.search(g.log_text())
            assert report is None, "sanitizer report in %s: %s" % (g.log_path, report.group(0))
        shutil.rmtree(g.dir, ignore_errors=True)


SANITIZER = re.compile(r"(ERROR: (Address|Leak)Sanitizer|runtime error:)[^\n]*")


@pytest.fixture
def gateway(gateway_factory):
    return gateway_factory()


def stop_backends(started):
    """Stop every started backend, then fail on any sanitizer report in its stderr."""
    for b in started:
        b.stop()
    for b in started:
        path = os.path.join(b.dir, "stderr")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                report = SANITIZER.search(f.read())
            assert report is None, "sanitizer report in %s: %s" % (path, report.group(0))
        shutil.rmtree(b.dir, ignore_errors=True)


@pytest.fixture
def backend_factory():
    started = []

    def make(service, args=(), **kw):
        b = gwtest.Backend(service, args, **kw)
        started.append(b)
        return b.start()

    yield make
    stop_backends(started)


@pytest.fixture
def echo_backend_factory():
    """make() → a started gwtest.EchoBackend (any gRPC method echoed)."""
    started = []

    def make():
        b = gwtest.EchoBackend()
        started.append(b)
        return b.start()

    yield make
    stop_backends(started)


@pytest.fixture
def redis_factory():
    started = []

    def make():
        r = gwtest.Redis()
        started.append(r)
        return r.start()

    yield make
    for r in started:
        r.stop()


@pytest.fixture
def redis_cluster_factory():
    """make(masters=3, replicas=1) → a started gwtest.RedisCluster: .url,
    .nodes [(port, proc)], .master_for_key(key), .kill(port), .wait_ok()."""
    started = []

    def make(masters=3, replicas=1):
        c = gwtest.RedisCluster(masters, replicas)
        started.append(c)
        return c.start()

    yield make
    for c in started:
        c.stop()


class Stack:
    """Demo backends + gateway wired together."""

    def __init__(self, gateway, backends, redis):
        self.gw = gateway
        self.auth, self.user, self.tenant, self.notification = backends
        self.redis = redis


@pytest.fixture
def stack_factory(gateway_factory, backend_factory, redis_factory):
    def make(conf=None, env=None, with_redis=False, backend_args=None, workers=2, start=True):
        backend_args = backend_args or {}
        bs = [backend_factory(s, backend_args.get(s, ())) for s in ("auth", "user", "tenant", "notification")]
        redis = redis_factory() if with_redis else None
        c = {"JWT_SECRET": gwtest.JWT_SECRET, "AUTH_SERVICE_URL": bs[0].addr, "USER_SERVICE_URL": bs[1].addr,
             "TENANT_SERVICE_URL": bs[2].addr, "NOTIFICATION_SERVICE_URL": "http://" + bs[3].addr,
             "REQUEST_TIMEOUT": "5"}
        if redis is not None:
            c["REDIS_URL"] = redis.url
        c.update(conf or {})
        g = gateway_factory(conf=c, env=env, workers=workers, start=start)
        return Stack(g, bs, redis)
    return make


@pytest.fixture
def stack(stack_factory):
    return stack_factory()
