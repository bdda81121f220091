"""Any gRPC service without recompiling (issue 13): a billing.v1.Billing
service written and compiled with protoc here, served by the schema-less echo
backend (tests/backends/echo_backend.c), added to a running gateway by a HUP
that loads its descriptor set, and checked through the gateway: every route
and binding, every policy key, the error mapping, the metrics, `-t`, a HUP
with a broken descriptor file and a route conflict.

The echo backend answers with the request bytes as field 1 of the reply, so
each `...Reply { XRequest echo = 1; ... }` below shows the message the gateway
built from the path, the query and the body; field 13 counts its calls (a
cache hit repeats the number), 14 is the gRPC method, 15 the identity
metadata."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading

import pytest

from gwtest import JWT_SECRET, ROOT, bearer, keepalive_load, make_token, metric, run_gateway, wait_for

BILLING_PROTO = r'''
syntax = "proto3";

package billing.v1;

import "google/api/annotations.proto";

service Billing {
  // A multi-segment variable, and a second binding with an int64 variable.
  rpc GetInvoice(GetInvoiceRequest) returns (GetInvoiceReply) {
    option (google.api.http) = {
      get: "/v1/{name=invoices/*}"
      additional_bindings { get: "/v1/by-number/{number}" }
    };
  }
  rpc ListRates(ListRatesRequest) returns (ListRatesReply) {
    option (google.api.http) = { get: "/v1/rates" };
  }
  rpc CreateInvoice(CreateInvoiceRequest) returns (CreateInvoiceReply) {
    option (google.api.http) = { post: "/v1/invoices" body: "*" };
  }
  // The body fills `item` only; the other fields come from the path and the query.
  rpc AddItem(AddItemRequest) returns (AddItemReply) {
    option (google.api.http) = { post: "/v1/{parent=invoices/*}/items" body: "item" };
  }
  // A nested path variable next to a body field.
  rpc UpdateDraft(UpdateDraftRequest) returns (UpdateDraftReply) {
    option (google.api.http) = { patch: "/v1/drafts/{invoice.name}" body: "invoice" };
  }
  rpc DeleteInvoice(DeleteInvoiceRequest) returns (DeleteInvoiceReply) {
    option (google.api.http) = { delete: "/v1/{name=invoices/*}" };
  }
  // No annotation: not exposed.
  rpc Reconcile(GetInvoiceRequest) returns (GetInvoiceReply);
}

enum Status {
  STATUS_UNSPECIFIED = 0;
  DRAFT = 1;
  SENT = 2;
  PAID = 3;
}

message Money {
  string currency = 1;
  int64 units = 2;
}

message Item {
  string sku = 1;
  int32 quantity = 2;
  Money price = 3;
}

message Customer {
  message Address {
    string city = 1;
    string country = 2;
  }
  string id = 1;
  Address address = 2;
}

message Invoice {
  string name = 1;
  Customer customer = 2;
  repeated Item items = 3;
  map<string, string> labels = 4;
  Status status = 5;
  int64 total_cents = 6;
  repeated string tags = 7;
  string org_id = 8;
}

message Filter {
  string currency = 1;
  int64 min_total = 2;
}

message GetInvoiceRequest {
  string name = 1;
  string org_id = 2;
  int64 number = 3;
  Status status = 4;
  repeated string tags = 5;
  Filter filter = 6;
}
message GetInvoiceReply { GetInvoiceRequest echo = 1; int64 seq = 13; string method = 14; string metadata = 15; }

message ListRatesRequest { string currency = 1; }
message ListRatesReply { ListRatesRequest echo = 1; int64 seq = 13; string method = 14; string metadata = 15; }

message CreateInvoiceRequest {
  string org_id = 1;
  Invoice invoice = 2;
  string request_id = 3;
}
message CreateInvoiceReply { CreateInvoiceRequest echo = 1; int64 seq = 13; string method = 14; string metadata = 15; }

message AddItemRequest {
  string parent = 1;
  string org_id = 2;
  Item item = 3;
  bool validate_only = 4;
}
message AddItemReply { AddItemRequest echo = 1; int64 seq = 13; string method = 14; string metadata = 15; }

message UpdateDraftRequest {
  Invoice invoice = 1;
  string org_id = 2;
  string reason = 3;
}
message UpdateDraftReply { UpdateDraftRequest echo = 1; int64 seq = 13; string method = 14; string metadata = 15; }

message DeleteInvoiceRequest { string name = 1; string org_id = 2; }
message DeleteInvoiceReply { DeleteInvoiceRequest echo = 1; int64 seq = 13; string method = 14; string metadata = 15; }
'''

# A second method on GetInvoice's template: a start error naming both.
CONFLICT_PROTO = r'''
syntax = "proto3";
package billing.v1;
import "google/api/annotations.proto";
service Billing {
  rpc GetInvoice(Req) returns (Req) { option (google.api.http) = { get: "/v1/{name=invoices/*}" }; }
  rpc Fetch(Req) returns (Req) { option (google.api.http) = { get: "/v1/{name=invoices/*}" }; }
}
message Req { string name = 1; }
'''

SVC = "billing.v1.Billing"
DEFAULT_PUBLIC = ["auth.AuthService/Register", "auth.AuthService/Login", "auth.AuthService/RefreshToken"]
ADMIN = "admin|super_admin"
DEFAULT_ROLES = ["user.UserService/DeleteUser=" + ADMIN] + [
    "tenant.TenantService/%s=%s" % (m, ADMIN) for m in
    ("CreateTenant", "ListTenants", "UpdateTenant", "DeleteTenant", "AddUserToTenant", "RemoveUserFromTenant")]
DEFAULT_CACHE = ["user.UserService/ListUsers", "user.UserService/SearchUsers", "user.UserService/GetUser",
                 "tenant.TenantService/ListTenants", "tenant.TenantService/GetTenant"]


def protoc(tmp, name, text):
    """Write tmp/name and compile it to tmp/<stem>.pb with its imports."""
    src = os.path.join(tmp, name)
    with open(src, "w") as f:
        f.write(text)
    out = os.path.join(tmp, name.replace(".proto", ".pb"))
    r = subprocess.run(["protoc", "-I" + tmp, "-I" + os.path.join(ROOT, "proto"), "--include_imports",
                        "--descriptor_set_out=" + out, src], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return out


def bundled_set(tmp):
    """The build's bundled descriptor set (auth, user, tenant), else the same compiled here."""
    built = os.path.join(ROOT, os.environ.get("BUILD", "build"), "bundled.pb")
    if os.path.exists(built):
        return built
    out = os.path.join(tmp, "bundled.pb")
    r = subprocess.run(["protoc", "-I" + os.path.join(ROOT, "proto"), "--include_imports",
                        "--descriptor_set_out=" + out, "auth.proto", "user.proto", "tenant.proto"],
                       cwd=os.path.join(ROOT, "proto"), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture
def tmpdir_():
    d = tempfile.mkdtemp(prefix="gw-desc-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def read_conf(gw):
    conf = {}
    with open(gw.conf_path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            conf[k] = v
    return conf


def billing_conf(base, sets, echo_addr):
    c = dict(base)
    c.update({
        "PROTO_DESCRIPTOR_SET": ",".join(sets),
        "GRPC_UPSTREAMS": "%s=%s" % (SVC, echo_addr),
        "PUBLIC_METHODS": ",".join(DEFAULT_PUBLIC + [SVC + "/ListRates"]),
        "METHOD_ROLES": ",".join(DEFAULT_ROLES + [SVC + "/DeleteInvoice=admin"]),
        "CACHE_METHODS": ",".join(DEFAULT_CACHE + [SVC + "/GetInvoice"]),
        "TENANT_FIELD": "org_id",
        "CACHE_TTL": "30",
    })
    return c


def check_t(conf_path):
    return run_gateway(["-t", "-c", conf_path], {"JWT_SECRET": JWT_SECRET})


def route_lines(t):
    """The route lines `-t` printed (api.h, gw_api_print)."""
    return [line for line in (t.stdout + t.stderr).splitlines() if line.startswith("route ")]


def has(d, **want):
    """d's fields include `want` (values compared exactly)."""
    return all(d.get(k) == v for k, v in want.items())


USER = bearer(make_token({"user_id": "u-7", "tenant_id": "acme", "roles": ["user"]}))
ADMIN_TOKEN = bearer(make_token({"user_id": "u-admin", "tenant_id": "acme", "roles": ["admin"]}))


def echo(r, method):
    assert r.status == 200, r
    body = r.json()
    assert body["method"] == "/%s/%s" % (SVC, method), body
    return body


def test_hup_adds_a_new_service_from_a_descriptor_set(stack_factory, echo_backend_factory, tmpdir_):
    billing = protoc(tmpdir_, "billing.proto", BILLING_PROTO)
    bundled = bundled_set(tmpdir_)
    ebe = echo_backend_factory()
    s = stack_factory(with_redis=True, conf={"CACHE_TTL": "30"})
    gw = s.gw

    # Before: the bundled set only; the billing routes do not exist.
    r = gw.get("/v1/invoices/inv-1", headers=USER)
    assert r.status == 404 and r.json()["error"]["message"] == "route not found", r
    assert not [l for l in route_lines(check_t(gw.conf_path)) if SVC in l]

    conf = billing_conf(read_conf(gw), [bundled, billing], ebe.addr)
    gw.write_conf(conf)
    t = check_t(gw.conf_path)
    assert t.returncode == 0, t.stdout + t.stderr
    lines = route_lines(t)
    want = [
        ("GET", "/v1/{name=invoices/*}", "GetInvoice", "auth=jwt roles=any cache=on"),
        ("GET", "/v1/by-number/{number}", "GetInvoice", "auth=jwt roles=any cache=on"),
        ("GET", "/v1/rates", "ListRates", "auth=public"),
        ("POST", "/v1/invoices", "CreateInvoice", "body=*"),
        ("POST", "/v1/{parent=invoices/*}/items", "AddItem", "body=item"),
        ("PATCH", "/v1/drafts/{invoice.name}", "UpdateDraft", "body=invoice"),
        ("DELETE", "/v1/{name=invoices/*}", "DeleteInvoice", "roles=admin"),
    ]
    for method, tmpl, rpc, extra in want:
        prefix = "route %s %s rpc=%s/%s upstream=%s " % (method, tmpl, SVC, rpc, SVC)
        line = [l for l in lines if l.startswith(prefix)]
        assert len(line) == 1 and extra in line[0], (prefix, extra, lines)
    assert len([l for l in lines if SVC in l]) == len(want), lines
    assert not [l for l in lines if "Reconcile" in l]
    # the bundled routes are still there, with their defaults
    assert any(l.startswith("route POST /api/v1/auth/login rpc=auth.AuthService/Login upstream=auth-service ")
               and "auth=public" in l for l in lines), lines
    assert any(l.startswith("route DELETE /api/v1/users/{user_id} rpc=user.UserService/DeleteUser ")
               and "roles=admin|super_admin" in l for l in lines), lines

    gw.reload()
    wait_for(lambda: gw.get("/v1/rates").status == 200, what="billing routes served after the HUP")

    check_bindings(gw)
    check_policies(gw)
    check_errors(gw)
    check_metrics(gw)
    check_broken_reload_keeps_routes(gw, conf, bundled, tmpdir_)


def check_bindings(gw):
    # {name=invoices/*}: the variable keeps both segments; query: enum by
    # name, repeated (appended per parameter), nested message, int64
    r = gw.get("/v1/invoices/inv-1?status=PAID&tags=a&tags=b&filter.currency=EUR&filter.min_total=9007199254740993",
               headers=USER)
    b = echo(r, "GetInvoice")
    assert has(b["echo"], name="invoices/inv-1", org_id="acme", status="PAID", tags=["a", "b"]), b
    assert b["echo"]["filter"] == {"currency": "EUR", "min_total": 9007199254740993}, b
    assert b["metadata"] == "x-user-id=u-7;x-tenant-id=acme", b
    # the additional binding: same method, an int64 path variable
    b = echo(gw.get("/v1/by-number/9007199254740993", headers=USER), "GetInvoice")
    assert has(b["echo"], name="", number=9007199254740993, org_id="acme"), b
    # a multi-segment variable matches exactly its pattern
    assert gw.get("/v1/invoices/a/b", headers=USER).status == 404
    assert gw.get("/v1/bills/inv-1", headers=USER).status == 404

    # body "*": nested messages (and a nested message type), repeated
    # messages, a map, an enum by name, int64 as a number or a string
    invoice = {"name": "invoices/new", "customer": {"id": "c-1", "address": {"city": "Lyon", "country": "FR"}},
               "items": [{"sku": "s-1", "quantity": 2, "price": {"currency": "EUR", "units": 1500}},
                         {"sku": "s-2", "quantity": 1}],
               "labels": {"team": "core", "cost-center": "42"}, "status": "DRAFT",
               "totalCents": "4000000000", "tags": ["x"]}
    b = echo(gw.req("POST", "/v1/invoices", body={"invoice": invoice, "request_id": "req-1"}, headers=USER),
             "CreateInvoice")
    got = b["echo"]
    assert has(got, org_id="acme", request_id="req-1"), got
    inv = got["invoice"]
    assert has(inv, name="invoices/new", labels={"team": "core", "cost-center": "42"}, status="DRAFT",
               total_cents=4000000000, tags=["x"], org_id=""), inv
    assert inv["customer"] == {"id": "c-1", "address": {"city": "Lyon", "country": "FR"}}, inv
    assert inv["items"][0] == {"sku": "s-1", "quantity": 2, "price": {"currency": "EUR", "units": 1500}}, inv
    assert has(inv["items"][1], sku="s-2", quantity=1, price=None), inv
    # unknown fields are refused as for the bundled services
    r = gw.req("POST", "/v1/invoices", body={"invoice": {"nope": 1}}, headers=USER)
    assert r.status == 400 and '"invoice.nope"' in r.json()["error"]["message"], r

    # body "item": the body is the Item; parent from the path; the rest from the query
    r = gw.req("POST", "/v1/invoices/inv-9/items?validate_only=true",
               body={"sku": "s-3", "quantity": 5, "price": {"currency": "USD", "units": "7"}}, headers=USER)
    b = echo(r, "AddItem")
    assert has(b["echo"], parent="invoices/inv-9", org_id="acme", validate_only=True), b
    assert b["echo"]["item"] == {"sku": "s-3", "quantity": 5, "price": {"currency": "USD", "units": 7}}, b
    # a field of the body target is not a field of the request
    r = gw.req("POST", "/v1/invoices/inv-9/items", body={"item": {"sku": "s-3"}}, headers=USER)
    assert r.status == 400, r

    # nested path variable {invoice.name} with body "invoice": the path wins
    r = gw.req("PATCH", "/v1/drafts/d-1?reason=typo", body={"name": "ignored", "status": "SENT"}, headers=USER)
    b = echo(r, "UpdateDraft")
    assert has(b["echo"], org_id="acme", reason="typo"), b
    assert has(b["echo"]["invoice"], name="d-1", status="SENT"), b

    # a known template with another method: 405 with Allow
    r = gw.req("PUT", "/v1/invoices/inv-1", body={}, headers=USER)
    assert r.status == 405 and set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET", "DELETE"}, r


def check_policies(gw):
    # no token on a non-public method: 401; the public one needs none
    r = gw.get("/v1/invoices/inv-1")
    assert r.status == 401 and r.json()["error"]["message"] == "authorization header required", r
    assert gw.req("POST", "/v1/invoices", body={}).status == 401
    b = echo(gw.get("/v1/rates?currency=EUR"), "ListRates")
    assert b["echo"] == {"currency": "EUR"} and b["metadata"] == "x-user-id=;x-tenant-id=", b

    # METHOD_ROLES: DeleteInvoice is admin-only
    r = gw.req("DELETE", "/v1/invoices/inv-1", headers=USER)
    assert r.status == 403 and r.json()["error"]["message"] == "insufficient role", r
    b = echo(gw.req("DELETE", "/v1/invoices/inv-1", headers=ADMIN_TOKEN), "DeleteInvoice")
    assert has(b["echo"], name="invoices/inv-1", org_id="acme"), b

    # TENANT_FIELD=org_id: another tenant's org_id is refused at any depth, unless admin
    r = gw.get("/v1/invoices/inv-1?org_id=other", headers=USER)
    assert r.status == 403 and r.json()["error"]["message"] == "tenant mismatch", r
    r = gw.req("POST", "/v1/invoices", body={"invoice": {"org_id": "other"}}, headers=USER)
    assert r.status == 403 and r.json()["error"]["message"] == "tenant mismatch", r
    r = gw.req("POST", "/v1/invoices", body={"orgId": "acme"}, headers=USER)
    assert echo(r, "CreateInvoice")["echo"]["org_id"] == "acme"
    b = echo(gw.get("/v1/invoices/inv-1?org_id=other", headers=ADMIN_TOKEN), "GetInvoice")
    assert b["echo"]["org_id"] == "other", b
    # a method whose request has the field at top level is tenant-scoped: a token without a tenant is refused
    r = gw.get("/v1/invoices/inv-1", headers=bearer(make_token({"tenant_id": None})))
    assert r.status == 403, r

    # CACHE_METHODS: GetInvoice is cached (a hit repeats the backend's call number)
    tok = bearer(make_token({"user_id": "u-8", "tenant_id": "cachet"}))
    r1 = gw.get("/v1/invoices/cached-1", headers=tok)
    assert r1.status == 200 and r1.headers.get("x-cache") == "MISS", r1

    def hit():
        r = gw.get("/v1/invoices/cached-1", headers=tok)
        return r if r.headers.get("x-cache") == "HIT" else None
    r2 = wait_for(hit, what="a cache hit on GetInvoice")
    assert r2.json() == r1.json(), (r1, r2)
    # a non-GET binding of the service drops the tenant's cached entries
    echo(gw.req("POST", "/v1/invoices", body={"request_id": "inv-new"}, headers=tok), "CreateInvoice")
    r3 = gw.get("/v1/invoices/cached-1", headers=tok)
    assert r3.status == 200 and r3.headers.get("x-cache") == "MISS", r3
    assert r3.json()["seq"] > r1.json()["seq"], (r1, r3)
    # methods not in CACHE_METHODS are not cached
    r = gw.get("/v1/rates")
    assert "x-cache" not in r.headers, r.headers


def check_errors(gw):
    """The backend's status, in the SPEC envelope with its grpc-message."""
    for code, status, name in ((3, 400, "BAD_REQUEST"), (5, 404, "NOT_FOUND"), (6, 409, "CONFLICT"),
                               (7, 403, "FORBIDDEN"), (8, 429, "RATE_LIMIT_EXCEEDED"), (16, 401, "UNAUTHORIZED"),
                               (12, 501, "NOT_IMPLEMENTED"), (13, 500, "INTERNAL_ERROR")):
        r = gw.req("POST", "/v1/invoices", body={"request_id": "grpc-status:%d" % code}, headers=USER)
        assert r.status == status, (code, r)
        body = r.json()
        assert body["success"] is False and body["error"] == {"code": name, "message": "echo: status %d" % code}, \
            (code, body)
        assert body["correlation_id"] and body["timestamp"], body
    # an error through a GET binding is not cached
    r = gw.get("/v1/invoices/inv-1?tags=grpc-status:5", headers=USER)
    assert r.status == 404 and r.json()["error"]["message"] == "echo: status 5", r
    r = gw.get("/v1/invoices/inv-1?tags=grpc-status:5", headers=USER)
    assert r.status == 404 and r.headers.get("x-cache") != "HIT", r


def check_metrics(gw):
    def counted():
        m = gw.metrics()
        return (metric(m, "api_gateway_backend_requests_total", service=SVC, code="OK") > 0 and
                metric(m, "api_gateway_backend_requests_total", service=SVC, code="NOT_FOUND") > 0 and
                metric(m, "api_gateway_requests_total", endpoint="/v1/{name=invoices/*}", status="200") > 0 and
                metric(m, "api_gateway_requests_total", endpoint="/v1/rates") > 0)
    wait_for(counted, what="billing metrics with service=%s" % SVC)
    text = gw.get("/metrics").body.decode()
    assert 'api_gateway_circuit_breaker_state{service="%s"}' % SVC in text
    # the bundled services keep their labels
    assert 'api_gateway_circuit_breaker_state{service="user-service"}' in text


def check_broken_reload_keeps_routes(gw, conf, bundled, tmp):
    broken = os.path.join(tmp, "broken.pb")
    with open(broken, "wb") as f:
        f.write(b"\x0a\xff\xff\xff\x0fnot a descriptor set")
    bad = dict(conf, PROTO_DESCRIPTOR_SET="%s,%s" % (bundled, broken))
    gw.write_conf(bad)
    t = check_t(gw.conf_path)
    assert t.returncode != 0
    errs = [l for l in (t.stdout + t.stderr).splitlines() if "PROTO_DESCRIPTOR_SET" in l]
    assert len(errs) == 1 and broken in errs[0], t.stdout + t.stderr
    before = gw.metric("api_gateway_reloads_total")
    gw.signal(signal.SIGHUP)
    gw.wait_log(r"PROTO_DESCRIPTOR_SET[^\n]*%s" % re.escape(broken))
    assert gw.metric("api_gateway_reloads_total") == before
    # the old generation still serves billing
    echo(gw.get("/v1/invoices/inv-2", headers=USER), "GetInvoice")
    # a missing file is named the same way
    missing = os.path.join(tmp, "missing.pb")
    gw.write_conf(dict(conf, PROTO_DESCRIPTOR_SET="%s,%s" % (bundled, missing)))
    t = check_t(gw.conf_path)
    assert t.returncode != 0 and re.search(r"PROTO_DESCRIPTOR_SET: %s: " % re.escape(missing), t.stdout + t.stderr), \
        t.stdout + t.stderr


def test_route_conflict_fails_the_config_check_naming_both_methods(tmpdir_):
    conflict = protoc(tmpdir_, "conflict.proto", CONFLICT_PROTO)
    conf = os.path.join(tmpdir_, "api-gateway.conf")
    with open(conf, "w") as f:
        f.write("JWT_SECRET=%s\nPROTO_DESCRIPTOR_SET=%s,%s\nGRPC_UPSTREAMS=%s=127.0.0.1:1\n" %
                (JWT_SECRET, bundled_set(tmpdir_), conflict, SVC))
    t = check_t(conf)
    out = t.stdout + t.stderr
    assert t.returncode != 0, out
    lines = [l for l in out.splitlines() if "conflict" in l]
    assert len(lines) == 1 and "GET /v1/{name=invoices/*}" in lines[0], out
    assert "%s/GetInvoice" % SVC in lines[0] and "%s/Fetch" % SVC in lines[0], out


def test_service_without_upstream_fails_the_config_check(tmpdir_):
    billing = protoc(tmpdir_, "billing.proto", BILLING_PROTO)
    conf = os.path.join(tmpdir_, "api-gateway.conf")
    with open(conf, "w") as f:
        f.write("JWT_SECRET=%s\nPROTO_DESCRIPTOR_SET=%s,%s\n" % (JWT_SECRET, bundled_set(tmpdir_), billing))
    t = check_t(conf)
    out = t.stdout + t.stderr
    assert t.returncode != 0 and re.search(r"GRPC_UPSTREAMS[^\n]*%s" % re.escape(SVC), out), out


BAD_PROTO = r'''
syntax = "proto3";
package bad.v1;
import "google/api/annotations.proto";
message Req { string id = 1; repeated string tags = 2; Inner inner = 3; }
message Inner { string x = 1; }
message Rep { string id = 1; }
service Bad {
  rpc Do(%s Req) returns (Rep) { option (google.api.http) = { %s }; }
}
'''


@pytest.mark.parametrize("stream,rule,extra,want", [
    ("", 'get: "/v1/x" body: "*"', "", "bad.v1.Bad/Do: GET /v1/x: a GET binding cannot have a body"),
    ("", 'get: "/admin/x"', "", "bad.v1.Bad/Do: GET /admin/x: /admin, /debug, /health, /ready and /metrics"),
    ("", 'get: "/v1/{nope}"', "", "path variable {nope}: no such field of bad.v1.Req"),
    ("", 'get: "/v1/{tags}"', "", "path variable {tags}: a repeated or map field of bad.v1.Req"),
    ("", 'get: "/v1/{inner}"', "", "path variable {inner}: a message field of bad.v1.Req"),
    ("", 'post: "/v1/x" body: "nope"', "", "POST /v1/x: body names no top-level field of the request"),
    ("", 'get: "/v1/x" response_body: "nope"', "", "response_body names no top-level field of the response"),
    ("stream", 'get: "/v1/x"', "", "bad.v1.Bad/Do: GET /v1/x: streaming methods cannot be bound"),
    ("", 'get: "/v1/{id"', "", 'bad.v1.Bad/Do: bad path template "/v1/{id": unterminated variable'),
    ("", 'custom { kind: "FOO" path: "/v1/x" }', "", "bad.v1.Bad/Do: FOO /v1/x: unsupported HTTP method"),
    ("", 'get: "/v1/x"', "PUBLIC_METHODS=bad.v1.Bad/Doo\n",
     "PUBLIC_METHODS: no method with routes named bad.v1.Bad/Doo in the descriptor set"),
    ("", 'get: "/v1/x"', "METHOD_ROLES=bad.v1.Bad/Do=admin||x\n", "METHOD_ROLES: bad.v1.Bad/Do: expected 1 to"),
    ("", 'get: "/v1/x"', "TENANT_FIELD=org-id\n", 'TENANT_FIELD: expected a field name, got "org-id"'),
])
def test_policy_and_mapping_errors_name_the_method(tmpdir_, stream, rule, extra, want):
    """What google/api/http.proto's mapping rules forbid, a binding where the
    gateway's own endpoints live, and a policy key naming what is not served
    are start errors: `-t` fails with one line naming the method or key."""
    bad = protoc(tmpdir_, "bad.proto", BAD_PROTO % (stream, rule))
    conf = os.path.join(tmpdir_, "api-gateway.conf")
    with open(conf, "w") as f:
        f.write("JWT_SECRET=%s\nPROTO_DESCRIPTOR_SET=%s\nGRPC_UPSTREAMS=bad.v1.Bad=127.0.0.1:1\n%s" %
                (JWT_SECRET, bad, extra))
    t = check_t(conf)
    out = t.stdout + t.stderr
    assert t.returncode != 0 and want in out, out
    assert not route_lines(t), out


def test_added_service_is_probed_and_broken_like_the_bundled_ones_and_leaves_with_its_routes(
        stack_factory, echo_backend_factory, tmpdir_):
    """A service from a descriptor set gets what the bundled ones have: a
    /health check by its name (grpc.health.v1 on its upstream), a breaker
    that opens on its failures, shows in /admin/breakers and resets by name.
    A HUP that drops its set drops its routes and its /health check."""
    billing = protoc(tmpdir_, "billing.proto", BILLING_PROTO)
    bundled = bundled_set(tmpdir_)
    ebe = echo_backend_factory()
    s = stack_factory(conf={"CB_MIN_REQUESTS": "3", "CB_OPEN_TIMEOUT": "60"})
    gw = s.gw
    base = read_conf(gw)
    gw.write_conf(billing_conf(base, [bundled, billing], ebe.addr))
    gw.reload()
    wait_for(lambda: gw.get("/v1/rates").status == 200, what="billing routes served after the HUP")

    def check(name):
        return gw.get("/health").json()["checks"].get(name)
    wait_for(lambda: check(SVC) == "healthy", what="/health checks %s" % SVC)
    assert check("user-service") == "healthy"

    ebe.stop()  # the backend goes away: its check fails, its breaker opens, the others are untouched
    wait_for(lambda: (check(SVC) or "").startswith("unhealthy"), timeout=15, what="%s unhealthy" % SVC)
    assert gw.get("/health").status == 503 and check("user-service") == "healthy"
    for _ in range(3):
        assert gw.get("/v1/rates").status in (502, 503)
    r = gw.get("/v1/rates")
    assert r.status == 503 and r.json()["error"]["code"] == "CIRCUIT_BREAKER_OPEN", r
    breakers = gw.get("/admin/breakers").json()["breakers"]
    assert breakers[SVC]["state"] == "open" and breakers["user-service"]["state"] == "closed", breakers
    assert gw.req("POST", "/admin/breakers/%s/reset" % SVC).status == 200
    assert gw.get("/admin/breakers").json()["breakers"][SVC]["state"] == "closed"

    # The set goes: its routes and its check go with it; the bundled ones stay.
    gw.write_conf(dict(base))
    gw.reload()
    wait_for(lambda: gw.get("/v1/rates").status == 404, what="billing routes gone after the HUP")
    wait_for(lambda: check(SVC) is None, what="%s gone from /health" % SVC)
    assert gw.get("/health").status == 200 and check("user-service") == "healthy"


def test_reloads_that_add_and_drop_a_service_fail_no_request(stack_factory, echo_backend_factory, tmpdir_):
    """Six HUPs under keep-alive load on a bundled route, alternately adding
    and dropping the billing set: every request is answered 2xx (each
    generation builds its own API; the old one keeps serving until the new
    one is ready), and each generation serves exactly its own routes."""
    billing = protoc(tmpdir_, "billing.proto", BILLING_PROTO)
    bundled = bundled_set(tmpdir_)
    ebe = echo_backend_factory()
    s = stack_factory(conf={"RATE_LIMIT_RPS": "1000000", "RATE_LIMIT_BURST": "1000000"})
    gw = s.gw
    base = read_conf(gw)
    with_billing = billing_conf(base, [bundled, billing], ebe.addr)
    token = make_token({"user_id": "u-1", "tenant_id": "acme", "roles": ["user"]})
    stop = threading.Event()
    out = {"ok": 0, "bad": [], "errors": [], "lock": threading.Lock()}
    threads = keepalive_load(gw.port, "/api/v1/users", token, stop, out, conns=4)
    try:
        wait_for(lambda: out["ok"] >= 50, what="load running")
        for i in range(6):
            adding = i % 2 == 0
            gw.write_conf(with_billing if adding else dict(base))
            gw.reload()
            want = 200 if adding else 404
            wait_for(lambda: gw.get("/v1/rates").status == want, what="billing %s after HUP %d" %
                     ("served" if adding else "gone", i + 1))
            seen = out["ok"]
            wait_for(lambda: out["ok"] >= seen + 30, what="load served after HUP %d" % (i + 1))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert out["bad"] == [] and out["errors"] == [], (out["bad"][:5], out["errors"][:5])
    assert gw.metric("api_gateway_reloads_total") == 6


WRAPPED_TENANT_PROTO = r'''
syntax = "proto3";
package wrap.v1;
import "google/api/annotations.proto";
import "google/protobuf/wrappers.proto";
service Things {
  rpc GetThing(GetThingRequest) returns (GetThingReply) { option (google.api.http) = { get: "/v1/things/{id}" }; }
}
message GetThingRequest { string id = 1; google.protobuf.StringValue org_id = 2; }
message GetThingReply { GetThingRequest echo = 1; int64 seq = 13; string method = 14; string metadata = 15; }
'''


def test_tenant_field_holds_through_body_fields_queries_and_wrappers(stack_factory, echo_backend_factory, tmpdir_):
    """TENANT_FIELD is checked on the message the gateway built, whatever
    built it: a body bound to one field (`body: "invoice"` puts the JSON
    into invoice, whose org_id is then nested), a query parameter next to a
    body field, and a google.protobuf.StringValue field of that name (read as
    its value: an unwrapped check would let "other" through)."""
    billing = protoc(tmpdir_, "billing.proto", BILLING_PROTO)
    wrapped = protoc(tmpdir_, "things.proto", WRAPPED_TENANT_PROTO)
    ebe = echo_backend_factory()
    s = stack_factory()
    gw = s.gw
    conf = billing_conf(read_conf(gw), [bundled_set(tmpdir_), billing, wrapped], ebe.addr)
    conf["GRPC_UPSTREAMS"] += ",wrap.v1.Things=" + ebe.addr
    gw.write_conf(conf)
    gw.reload()
    wait_for(lambda: gw.get("/v1/things/t1", headers=USER).status == 200, what="the wrapped-tenant route served")

    def refused(r):
        return r.status == 403 and r.json()["error"]["message"] == "tenant mismatch"
    # body: "invoice": the client's JSON lands in invoice, org_id one level down
    assert refused(gw.req("PATCH", "/v1/drafts/d1", body={"org_id": "other"}, headers=USER))
    assert refused(gw.req("PATCH", "/v1/drafts/d1?org_id=other", body={"name": "x"}, headers=USER))
    b = echo(gw.req("PATCH", "/v1/drafts/d1", body={"org_id": "acme", "tags": ["t"]}, headers=USER), "UpdateDraft")
    assert b["echo"]["invoice"]["org_id"] == "acme" and b["echo"]["org_id"] == "acme", b
    # body: "item" with the tenant in the query
    assert refused(gw.req("POST", "/v1/invoices/inv-1/items?org_id=other", body={"sku": "s"}, headers=USER))
    b = echo(gw.req("POST", "/v1/invoices/inv-1/items", body={"sku": "s"}, headers=USER), "AddItem")
    assert b["echo"]["org_id"] == "acme" and b["echo"]["item"]["sku"] == "s", b
    # a StringValue tenant field: checked by its value, filled when absent
    assert refused(gw.get("/v1/things/t1?org_id=other", headers=USER))
    b = gw.get("/v1/things/t1?org_id=acme", headers=USER).json()
    assert b["echo"] == {"id": "t1", "org_id": "acme"} and b["method"] == "/wrap.v1.Things/GetThing", b
    b = gw.get("/v1/things/t1", headers=USER).json()
    assert b["echo"]["org_id"] == "acme", b
    b = gw.get("/v1/things/t1?org_id=other", headers=ADMIN_TOKEN).json()
    assert b["echo"]["org_id"] == "other", b  # admins may name another tenant
