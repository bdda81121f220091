"""The Grafana dashboard (docs/grafana/api-gateway.json) against a real
gateway: valid JSON, every panel titled with at least one query, and every
metric its PromQL names exists in /metrics (histograms by their _bucket)."""

import json
import os
import re

from gwtest import bearer, make_token, wait_for

DASHBOARD = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "grafana", "api-gateway.json")
PROMQL_WORDS = {"sum", "by", "rate", "increase", "histogram_quantile", "le", "without", "avg", "max", "min"}


def metric_names(expr):
    expr = re.sub(r"\{[^}]*\}", "", expr)      # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)     # ranges
    expr = re.sub(r"by \([^)]*\)", "", expr)   # grouping labels
    return {w for w in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr) if w not in PROMQL_WORDS}


def test_dashboard_queries_name_real_metrics(stack_factory):
    with open(DASHBOARD) as f:
        dash = json.load(f)
    s = stack_factory(with_redis=True)
    tok = bearer(make_token())
    assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200
    wait_for(lambda: s.gw.metric("api_gateway_backend_duration_seconds_count") > 0, what="backend metrics")
    samples = {name for name, _ in s.gw.metrics()}
    assert dash["panels"], "no panels"
    names = set()
    for p in dash["panels"]:
        assert p.get("title"), p
        assert p.get("targets"), p["title"]
        for t in p["targets"]:
            names |= metric_names(t["expr"])
    assert "api_gateway_request_duration_seconds_bucket" in names
    missing = sorted(n for n in names if n not in samples)
    assert not missing, "dashboard names metrics /metrics does not have: %s" % missing
