"""make check-layers: the include layers go one way (docs/ARCHITECTURE.md,
Layers). The real tree passes; a copy of it with one wrong-way include
planted fails, naming the file, the line and the rule it breaks."""

import os
import shutil
import subprocess

import pytest

import gwtest

SCRIPT = os.path.join(gwtest.ROOT, "tests", "check-layers.sh")
LAYERS = ("core", "shm", "master", "worker")


def run(root):
    return subprocess.run([SCRIPT, root], capture_output=True, text=True, timeout=60)


@pytest.fixture
def tree(tmp_path):
    for d in LAYERS:
        shutil.copytree(os.path.join(gwtest.ROOT, d), tmp_path / d)
    return tmp_path


def plant(tree, path, include):
    """Append `#include "include"` to tree/path; returns its line number."""
    p = tree / path
    lines = p.read_text().splitlines()
    lines.append('#include "%s"' % include)
    p.write_text("\n".join(lines) + "\n")
    return len(lines)


def test_real_tree_passes():
    r = run(gwtest.ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "includes go one way" in r.stdout


def test_copy_passes(tree):
    r = run(str(tree))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(
    "path,include,rule",
    [
        ("master/views.c", "worker/worker.h", "master:"),  # master → worker
        ("core/log.h", "master/master.h", "core:"),  # core → master
        ("core/config.c", "shm/segment.h", "core:"),  # core → shm
        ("core/buf.c", "worker/request.h", "core:"),  # core → worker
        ("shm/view.c", "worker/worker.h", "shm:"),  # shm → worker
        ("worker/limit.c", "master/master.h", "worker:"),  # worker → master
        ("worker/clients/redis.c", "worker/pipeline.h", "clients:"),  # client → driver
        ("worker/clients/httpc.c", "worker/auth.h", "clients:"),  # client → stage
        ("worker/transcode/transcode.c", "worker/request.h", "transcode:"),
        ("worker/request.c", "worker/hangup.h", "request:"),  # request → stage
        ("worker/cache.c", "worker/pipeline.h", "driver:"),  # stage → driver
    ],
)
def test_wrong_way_include_fails(tree, path, include, rule):
    line = plant(tree, path, include)
    r = run(str(tree))
    assert r.returncode != 0, r.stdout
    want = "%s:%d: %s" % (path, line, rule)
    assert want in r.stdout, r.stdout
    assert include in r.stdout
    assert "wrong-way include" in r.stdout
