"""docs/API.md stays true of the code: every route it lists is served by the
real gateway (neither 404 nor 405), every route the gateway serves (as
`api-gateway -t` prints its route table) is listed with the same backend
call, roles and caching, and every error message in its Errors table is one
the code can produce."""

import os
import re

from gwtest import make_token, bearer, run_gateway

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
API = os.path.join(ROOT, "docs", "API.md")


def section(name):
    with open(API) as f:
        text = f.read()
    m = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(name), text, re.S | re.M)
    assert m, "docs/API.md has no section %s" % name
    return m.group(1)


def documented_routes():
    """[(method, path)] from the Routes table and the public/admin paragraph."""
    out = []
    text = section("Routes")
    for row in re.findall(r"^\| ((?:GET|POST|PUT|DELETE)[^|]*)\|", text, re.M):
        row = row.strip()
        methods = re.findall(r"\b(GET|POST|PUT|DELETE)\b", row)
        paths = re.findall(r"(/[a-z0-9_/{}.\[\]]+)", row)
        if "/email, /webhook" in row:  # POST /api/v1/notifications/email, /webhook; GET …[/{id}]
            out += [("POST", "/api/v1/notifications/email"), ("POST", "/api/v1/notifications/webhook"),
                    ("GET", "/api/v1/notifications"), ("GET", "/api/v1/notifications/{id}")]
            continue
        out.append((methods[0], paths[0]))
    for method, path in re.findall(r"`(GET|POST) (/[a-z/{}_]+)`", text):
        out.append((method, path))
    return out


def concrete(path):
    return re.sub(r"\{[a-z_]+\}", lambda m: "acme" if m.group(0) == "{tenant_id}" else "x1", path)


def test_every_documented_route_is_served_and_every_served_route_documented(stack_factory):
    s = stack_factory()
    admin = bearer(make_token({"tenant_id": "acme", "roles": ["admin"]}))
    routes = documented_routes()
    assert len(routes) >= 28, routes
    for method, path in routes:
        body = {} if method in ("POST", "PUT") else None
        r = s.gw.req(method, concrete(path), body=body, headers=admin)
        assert r.status not in (404, 405) or b"route not found" not in r.body and b"method not allowed" not in r.body, \
            (method, path, r)
    # the other way round: the route table this gateway serves lists nothing undocumented
    table = route_table(s.gw.conf_path)
    assert set(routes) == set(table), "docs/API.md and `api-gateway -t` differ: %s" % sorted(
        set(routes) ^ set(table))


def route_table(conf_path):
    """{(method, template): the rest of the line} from `api-gateway -t`
    (core/api.h, gw_api_print): the routes the gateway would serve."""
    r = run_gateway(["-t", "-c", conf_path], {})
    assert r.returncode == 0, r.stdout + r.stderr
    table = {}
    for line in (r.stdout + r.stderr).splitlines():
        m = re.match(r"^route (GET|POST|PUT|PATCH|DELETE) (/\S*) (.*)$", line)
        if m:
            assert (m.group(1), m.group(2)) not in table, line
            table[(m.group(1), m.group(2))] = m.group(3)
    assert table, "`api-gateway -t` printed no route lines:\n" + r.stdout + r.stderr
    return table


def test_documented_backend_calls_roles_and_caching_match_the_route_table(gateway_factory):
    """Each gRPC row of the Routes table: its RPC, roles (public / any /
    a list) and cache column (cached or not) are what `-t` says."""
    g = gateway_factory(start=False)
    table = route_table(g.conf_path)
    rows = re.findall(r"^\| ((?:GET|POST|PUT|PATCH|DELETE) /[^ |]*) \| ([a-z]+\.\w+/\w+)[^|]*\|([^|]*)\|([^|]*)\|",
                      section("Routes"), re.M)
    assert len(rows) >= 17, rows
    for route, rpc, roles, cache in rows:
        method, path = route.split(" ")
        line = table.get((method, path))
        assert line is not None, route
        assert "rpc=%s " % rpc in line + " ", (route, line)
        roles = roles.strip()
        if roles == "public":
            assert "auth=public" in line, (route, line)
        else:
            assert "auth=jwt" in line, (route, line)
            want = "any" if roles == "any" else "|".join(x.strip() for x in roles.split(","))
            assert "roles=%s " % want in line + " ", (route, line)
        assert ("cache=on" in line) == (cache.strip() == "cached"), (route, line)


def c_sources():
    for top in ("core", "master", "shm", "worker"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith(".c"):
                    with open(os.path.join(dirpath, f), errors="replace") as fh:
                        yield fh.read()


def test_every_documented_error_message_is_in_the_code():
    code = "\n".join(c_sources())
    messages = []
    for row in re.findall(r"^\| (\d{3}) \| (.*?) \|", section("Errors"), re.M):
        messages += re.findall(r"`([^`]+)`", row[1])
    assert len(messages) >= 35, messages
    missing = []
    for msg in messages:
        if msg.startswith("WWW-") or "=" in msg or msg.startswith(("MAX_", "REDIS_", "SHUTDOWN")):
            continue
        literal = re.split(r"<[^>]+>", msg)[0]  # the fixed part before a placeholder
        if literal.strip() and literal not in code and literal.rstrip() not in code:
            missing.append(msg)
    assert not missing, "messages documented in docs/API.md but not in the code: %s" % missing
