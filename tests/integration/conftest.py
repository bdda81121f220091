"""pytest fixtures: every process a test starts is stopped when it ends."""

import os
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


@pytest.fixture
def gateway(gateway_factory):
    return gateway_factory()
