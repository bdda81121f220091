"""`make run`'s demo script in --check mode: it starts the demo backends,
Redis and the gateway with etc/api-gateway.conf, runs the curl examples it
prints (register → login → create a user → list users) and checks them."""

import os
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
