"""The chaos harness (tests/chaos/run.py) for 40 seconds: every fault in
turn under load, zero unexpected failures, bounded RSS, constant segment."""

import os
import subprocess
import sys


def test_chaos_short_run():
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, "..", "chaos", "run.py")
    r = subprocess.run([sys.executable, script, "--duration", "40"], capture_output=True, text=True, timeout=240)
    print(r.stdout[-4000:])
    assert "failed otherwise" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " 0 failed otherwise" in r.stdout
