"""`make run`'s demo script in --check mode: it starts the demo backends,
Redis and the gateway with etc/api-gateway.conf, runs the curl examples it
prints (register → login → create a user → list users) and checks them."""

import os
import socket
import subprocess

import gwtest


def test_make_run_demo_examples_work():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, API_GATEWAY_PORT=str(gwtest.free_port()))
    for k in ("DEMO_AUTH_PORT", "DEMO_USER_PORT", "DEMO_TENANT_PORT", "DEMO_NOTIFICATION_PORT", "DEMO_REDIS_PORT"):
        env[k] = str(gwtest.free_port())
    r = subprocess.run(["tests/run-demo.sh", gwtest.GW_BIN, gwtest.BACKEND_BIN, "--check"], cwd=root, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def _demo_env():
    env = dict(os.environ, API_GATEWAY_PORT=str(gwtest.free_port()))
    for k in ("DEMO_AUTH_PORT", "DEMO_USER_PORT", "DEMO_TENANT_PORT", "DEMO_NOTIFICATION_PORT", "DEMO_REDIS_PORT"):
        env[k] = str(gwtest.free_port())
    return env


def test_make_run_stops_with_one_line_when_a_backend_port_is_taken():
    """A port held by another process (as an ephemeral port left from a test
    run can be): the demo names the service, the port and the variable that
    moves it, exits non-zero, and never prints the curl examples."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = _demo_env()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env["DEMO_USER_PORT"] = str(port)
        r = subprocess.run(["tests/run-demo.sh", gwtest.GW_BIN, gwtest.BACKEND_BIN, "--check"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "curl" not in r.stdout, r.stdout
    lines = [l for l in r.stderr.splitlines() if l.startswith("demo:")]
    assert len(lines) == 1, r.stderr
    assert "user service" in lines[0] and "127.0.0.1:%d" % port in lines[0] and "DEMO_USER_PORT" in lines[0], lines
    assert "Address already in use" in lines[0], lines


def test_make_run_stops_when_the_gateway_port_is_taken():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = _demo_env()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen(1)
        env["API_GATEWAY_PORT"] = str(taken.getsockname()[1])
        r = subprocess.run(["tests/run-demo.sh", gwtest.GW_BIN, gwtest.BACKEND_BIN, "--check"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "curl" not in r.stdout, r.stdout
    assert "Address already in use" in r.stderr and "API_GATEWAY_PORT" in r.stderr, r.stderr
