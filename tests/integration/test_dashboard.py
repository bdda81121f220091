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


# What each panel must plot, by title: the metric families its queries read.
# A panel whose queries drift from its title fails here.
PANEL_METRICS = {
    "Request rate by endpoint": {"api_gateway_requests_total"},
    "Error ratios (5xx / all, 4xx / all)": {"api_gateway_requests_total"},
    "Latency p50 / p95 / p99": {"api_gateway_request_duration_seconds_bucket"},
    "Active requests": {"api_gateway_active_requests"},
    "Rate limiting": {"api_gateway_rate_limit_requests_total", "api_gateway_rate_limit_evictions_total"},
    "Active limiters": {"api_gateway_rate_limit_active_limiters", "api_gateway_rate_limit_table_capacity"},
    "Circuit breaker state (0 closed, 1 open, 2 half-open)": {"api_gateway_circuit_breaker_state"},
    "Backend latency p95 by service": {"api_gateway_backend_duration_seconds_bucket"},
    "Backend calls by code": {"api_gateway_backend_requests_total"},
    "Cache hit ratio": {"api_gateway_cache_requests_total"},
    "Workers and restarts": {"api_gateway_workers", "api_gateway_worker_restarts_total"},
    "Reloads": {"api_gateway_reloads_total", "api_gateway_reload_failures_total"},
    "Shared segment bytes by region": {"api_gateway_shm_bytes"},
    "Redis errors and auth failures": {"api_gateway_redis_errors_total", "api_gateway_auth_failures_total"},
}

# Results of api_gateway_cache_requests_total that are lookups (the others,
# such as too_large, count stores and must stay out of a hit ratio).
CACHE_LOOKUP_RESULTS = {"hit", "miss"}


def selectors(expr):
    """[(metric, {label: (op, value)})] for every series selector in expr."""
    out = []
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges such as [$__rate_interval]
    for m in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?", expr):
        name = m.group(1)
        if name in PROMQL_WORDS or expr[m.end():m.end() + 1] == "(":
            continue
        if re.search(r"by \([^)]*$", expr[:m.start()]):
            continue
        matchers = {k: (op, v) for k, op, v in re.findall(r'(\w+)\s*(=~|!=|=)\s*"([^"]*)"', m.group(3) or "")}
        out.append((name, matchers))
    return out


def label_ok(value, op, want):
    if op == "=":
        return value == want
    if op == "!=":
        return value != want
    return re.fullmatch(want, value) is not None


def output_labels(expr, name, matchers, samples):
    """The labels that vary across the series this target plots."""
    series = [dict(lbls) for n, lbls in samples
              if n == name and all(label_ok(dict(lbls).get(k, ""), op, v) for k, (op, v) in matchers.items())]
    grouping = re.search(r"by \(([^)]*)\)", expr)
    if grouping:
        keep = [l.strip() for l in grouping.group(1).split(",") if l.strip() and l.strip() != "le"]
    elif re.match(r"\s*(sum|avg|max|min)\s*\(", expr):
        keep = []
    else:
        keep = sorted({k for s in series for k in s})
    return {k for k in keep if len({s.get(k) for s in series}) > 1}


def test_dashboard_titles_legends_and_denominators(stack_factory):
    with open(DASHBOARD) as f:
        dash = json.load(f)
    s = stack_factory(with_redis=True)
    tok = bearer(make_token())
    assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200
    assert s.gw.req("GET", "/api/v1/users", headers=tok).status == 200
    wait_for(lambda: s.gw.metric("api_gateway_cache_requests_total", result="hit") > 0, what="a cache hit")
    samples = list(s.gw.metrics())
    titles = [p["title"] for p in dash["panels"]]
    assert sorted(titles) == sorted(PANEL_METRICS), "panels and PANEL_METRICS differ"
    for p in dash["panels"]:
        names = set()
        legends = []
        for t in p["targets"]:
            names |= metric_names(t["expr"])
            legend = t.get("legendFormat", "")
            assert legend, "%s: a query without a legend" % p["title"]
            legends.append(legend)
            if "/" in t["expr"]:
                continue  # a ratio of two sums: one series
            for name, matchers in selectors(t["expr"]):
                for label in output_labels(t["expr"], name, matchers, samples):
                    assert "{{%s}}" % label in legend, \
                        "%s: %s plots one series per %s under legend %r" % (p["title"], name, label, legend)
        assert names == PANEL_METRICS[p["title"]], "%s queries %s" % (p["title"], sorted(names))
        assert len(set(legends)) == len(legends), "%s: two queries share a legend" % p["title"]
        if "5xx" in p["title"] or "4xx" in p["title"]:
            for t in p["targets"]:
                num = re.search(r'status=~"(\d)\.\."', t["expr"]).group(1)
                assert num + "xx" in p["title"] and num + "xx" in t["legendFormat"], (p["title"], t)
        if p["title"] == "Cache hit ratio":
            denominator = p["targets"][0]["expr"].split(" / ", 1)[1]
            ((_, matchers),) = selectors(denominator)
            assert "result" in matchers, "hit ratio denominator counts every result: " + denominator
            op, want = matchers["result"]
            results = {dict(l)["result"] for n, l in samples if n == "api_gateway_cache_requests_total"}
            counted = {r for r in results if label_ok(r, op, want)}
            assert counted == CACHE_LOOKUP_RESULTS, "hit ratio denominator counts %s" % sorted(counted)
        if p["title"].startswith("Shared segment bytes"):
            stacked = [t for t in p["targets"] if "{{kind}}" in t["legendFormat"]]
            assert stacked and all('kind!="total"' in t["expr"] for t in stacked), \
                "the stacked regions include the total"
