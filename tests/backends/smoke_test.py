#!/usr/bin/python3
"""Smoke test of demo-backend: every service, error codes and messages,
JWT claims, metadata recording, latency concurrency, signals and health.

Needs Debian's python3-grpcio and python3-grpc-tools (run with /usr/bin/python3):
    /usr/bin/python3 tests/backends/smoke_test.py [path/to/demo-backend]
Prints "N passed, N failed" and exits 1 when anything failed.
"""
import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import grpc
from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin", "demo-backend")
SECRET = "demo-secret-change-me"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TMP = tempfile.mkdtemp(prefix="demo-backend-smoke.")

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


def gen_stubs():
    # The service protos import google/api/annotations.proto (its modules land in
    # TMP/google/api; `google` is a namespace package) and, through it,
    # google/protobuf/descriptor.proto from libprotobuf-dev.
    args = ["protoc", "-I" + os.path.join(ROOT, "proto"), "-I/usr/include", "--python_out=" + TMP,
            "--grpc_python_out=" + TMP]
    args += [os.path.join(ROOT, "proto", p) for p in ("auth.proto", "user.proto", "tenant.proto", "health.proto",
                                                      "google/api/http.proto", "google/api/annotations.proto")]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, TMP)


gen_stubs()
import auth_pb2 as A  # noqa: E402
import auth_pb2_grpc as AG  # noqa: E402
import health_pb2 as H  # noqa: E402
import health_pb2_grpc as HG  # noqa: E402
import tenant_pb2 as T  # noqa: E402
import tenant_pb2_grpc as TG  # noqa: E402
import user_pb2 as U  # noqa: E402
import user_pb2_grpc as UG  # noqa: E402


class Backend:
    def __init__(self, service, *flags):
        self.record = os.path.join(TMP, "%s-%d.jsonl" % (service, time.monotonic_ns()))
        cmd = [BIN, "--service", service, "--listen", "127.0.0.1:0", "--record", self.record] + list(flags)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"demo-backend (\w+) listening on (\S+):(\d+)$", line.strip())
        if not m:
            raise SystemExit("backend did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(m.group(3))
        self.addr = "127.0.0.1:%d" % self.port
        self.channel = grpc.insecure_channel(self.addr) if service != "notification" else None

    def signal(self, sig):
        self.proc.send_signal(sig)
        time.sleep(0.2)

    def records(self):
        with open(self.record) as f:
            return [json.loads(line) for line in f]

    def stop(self):
        if self.channel:
            self.channel.close()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(10)
        check(rc == 0, "%s exits 0 on SIGTERM (rc=%s, stderr=%s)" % (self.addr, rc, self.proc.stderr.read()))


def expect_error(fn, req, code, message=None, **kw):
    try:
        fn(req, timeout=5, **kw)
    except grpc.RpcError as e:
        ok = e.code() == code and (message is None or e.details() == message)
        check(ok, "%s: want %s %r, got %s %r" % (fn._method, code, message, e.code(), e.details()))
        return
    check(False, "%s: want %s, got OK" % (fn._method, code))


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_claims(token, secret=SECRET):
    head, body, sig = token.split(".")
    want = hmac.new(secret.encode(), (head + "." + body).encode(), hashlib.sha256).digest()
    check(hmac.compare_digest(want, b64d(sig)), "JWT signature verifies with the secret")
    check(json.loads(b64d(head)).get("alg") == "HS256", "JWT alg is HS256")
    return json.loads(b64d(body))


def jwt_make(claims, secret=SECRET):
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    head = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = enc(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), (head + "." + body).encode(), hashlib.sha256).digest()
    return head + "." + body + "." + enc(sig)


def health(b):
    return HG.HealthStub(b.channel).Check(H.HealthCheckRequest(), timeout=5).status


# ---------------------------------------------------------------- auth
def test_auth():
    b = Backend("auth", "--token-ttl", "600")
    s = AG.AuthServiceStub(b.channel)
    E = grpc.StatusCode
    expect_error(s.Register, A.RegisterRequest(password="longenough"), E.INVALID_ARGUMENT, "email is required")
    expect_error(s.Register, A.RegisterRequest(email="nope", password="longenough"), E.INVALID_ARGUMENT,
                 "invalid email")
    expect_error(s.Register, A.RegisterRequest(email="a@x.io", password="short"), E.INVALID_ARGUMENT,
                 "password must be at least 8 characters")
    r = s.Register(A.RegisterRequest(email="alice@x.io", username="alice", password="password1", tenant_id="t1"))
    check(UUID4.match(r.user_id) and r.message == "user registered", "Register returns uuid4 + message")
    expect_error(s.Register, A.RegisterRequest(email="ALICE@x.io", password="password1"), E.ALREADY_EXISTS,
                 "user already exists")
    expect_error(s.Register, A.RegisterRequest(email="other@x.io", username="alice", password="password1"),
                 E.ALREADY_EXISTS, "user already exists")
    s.Register(A.RegisterRequest(email="admin@x.io", username="root", password="password1", tenant_id="t9"))

    expect_error(s.Login, A.LoginRequest(identifier="alice", password="wrongpass"), E.UNAUTHENTICATED,
                 "invalid credentials")
    expect_error(s.Login, A.LoginRequest(identifier="ghost", password="password1"), E.UNAUTHENTICATED,
                 "invalid credentials")
    lr = s.Login(A.LoginRequest(identifier="alice@x.io", password="password1"))
    check(lr.token_type == "Bearer" and lr.expires_in == 600 and len(lr.refresh_token) >= 32, "Login fields")
    c = jwt_claims(lr.access_token)
    check(c["user_id"] == r.user_id and c["sub"] == r.user_id, "claims user_id/sub")
    check(c["tenant_id"] == "t1" and c["roles"] == ["user"] and c["email"] == "alice@x.io", "claims tenant/roles")
    check(UUID4.match(c["jti"]) and c["exp"] == c["iat"] + 600 and abs(c["iat"] - time.time()) < 5, "claims times")
    lr2 = s.Login(A.LoginRequest(identifier="alice", password="password1", tenant_id="t2"))
    check(jwt_claims(lr2.access_token)["tenant_id"] == "t2", "login tenant_id overrides")
    adm = jwt_claims(s.Login(A.LoginRequest(identifier="root", password="password1")).access_token)
    check(adm["roles"] == ["user", "admin"], "admin role from email prefix: %s" % adm["roles"])

    rr = s.RefreshToken(A.RefreshTokenRequest(refresh_token=lr.refresh_token))
    check(rr.access_token and rr.refresh_token != lr.refresh_token and rr.expires_in == 600, "refresh rotates")
    check(jwt_claims(rr.access_token)["jti"] != c["jti"], "refreshed token has a new jti")
    expect_error(s.RefreshToken, A.RefreshTokenRequest(refresh_token=lr.refresh_token), E.UNAUTHENTICATED,
                 "invalid refresh token")

    v = s.ValidateToken(A.ValidateTokenRequest(token=lr.access_token))
    check(v.valid and v.user_id == r.user_id and v.tenant_id == "t1" and list(v.roles) == ["user"], "validate ok")
    check(v.metadata["jti"] == c["jti"] and "users:read" in v.permissions, "validate metadata/permissions")
    v = s.ValidateToken(A.ValidateTokenRequest(token=lr.access_token, tenant_id="other"))
    check(not v.valid and v.error_message == "tenant mismatch", "validate tenant mismatch")
    v = s.ValidateToken(A.ValidateTokenRequest(token=lr.access_token[:-2] + "xx"))
    check(not v.valid and v.error_message == "invalid token", "validate tampered: %r" % v.error_message)
    expired = jwt_make({"user_id": "u", "sub": "u", "exp": int(time.time()) - 5, "jti": "j"})
    v = s.ValidateToken(A.ValidateTokenRequest(token=expired))
    check(not v.valid and v.error_message == "token has expired", "validate expired")
    check(s.VerifyToken(A.VerifyTokenRequest(token=lr.access_token)).valid, "verify ok")
    check(not s.VerifyToken(A.VerifyTokenRequest(token="garbage")).valid, "verify garbage")

    expect_error(s.Logout, A.LogoutRequest(), E.INVALID_ARGUMENT, "token is required")
    lo = s.Logout(A.LogoutRequest(), metadata=[("authorization", "Bearer " + lr.access_token)])
    check(lo.success and lo.message == "logged out", "logout")
    v = s.ValidateToken(A.ValidateTokenRequest(token=lr.access_token))
    check(not v.valid and v.error_message == "token has been revoked", "revoked after logout")

    expect_error(s.GetUserRoles, A.GetUserRolesRequest(), E.INVALID_ARGUMENT, "user_id is required")
    expect_error(s.GetUserRoles, A.GetUserRolesRequest(user_id="nope"), E.NOT_FOUND, "user not found")
    check(list(s.GetUserRoles(A.GetUserRolesRequest(user_id=r.user_id)).roles) == ["user"], "roles")
    check(s.CheckPermission(A.CheckPermissionRequest(user_id=r.user_id, permission="users:read")).allowed, "perm")
    check(not s.CheckPermission(A.CheckPermissionRequest(user_id=r.user_id, permission="users:delete")).allowed,
          "perm denied")
    cfg = s.GetTenantLoginConfig(A.GetTenantLoginConfigRequest(tenant_id="t1"))
    check(list(cfg.allowed_identifiers) == ["email", "username"] and cfg.allow_registration, "login config")

    # unknown method, health toggle, failure toggle, recording
    unknown = b.channel.unary_unary("/auth.AuthService/Nope")
    expect_error(unknown, b"", E.UNIMPLEMENTED, "unknown method /auth.AuthService/Nope")
    check(health(b) == H.HealthCheckResponse.SERVING, "health SERVING")
    b.signal(signal.SIGUSR2)
    check(health(b) == H.HealthCheckResponse.NOT_SERVING, "SIGUSR2 → NOT_SERVING")
    b.signal(signal.SIGUSR2)
    check(health(b) == H.HealthCheckResponse.SERVING, "SIGUSR2 → SERVING")
    b.signal(signal.SIGUSR1)
    expect_error(s.GetTenantLoginConfig, A.GetTenantLoginConfigRequest(), E.UNAVAILABLE, "injected failure")
    check(health(b) == H.HealthCheckResponse.SERVING, "health unaffected by failure injection")
    b.signal(signal.SIGUSR1)
    s.GetTenantLoginConfig(A.GetTenantLoginConfigRequest(), timeout=3,
                           metadata=[("x-user-id", "u-42"), ("x-correlation-id", "corr-1")])
    last = b.records()[-1]
    check(last["method"] == "/auth.AuthService/GetTenantLoginConfig", "record method")
    check(last["metadata"].get("x-user-id") == "u-42" and last["metadata"].get("x-correlation-id") == "corr-1",
          "record metadata: %s" % last["metadata"])
    check(isinstance(last["deadline_ms"], int) and 2000 < last["deadline_ms"] <= 3100, "record deadline_ms")
    check(last["request"] == {"tenant_id": ""} and last["code"] == 0, "record request: %s" % last["request"])
    s.GetTenantLoginConfig(A.GetTenantLoginConfigRequest(tenant_id="t7"))
    check(b.records()[-1]["deadline_ms"] is None, "record deadline null without deadline")
    check(all("grpc.health" not in x["method"] for x in b.records()), "health not recorded by default")
    b.stop()


# ---------------------------------------------------------------- user
def test_user():
    b = Backend("user")
    s = UG.UserServiceStub(b.channel)
    E = grpc.StatusCode
    t1 = [("x-tenant-id", "t1")]
    expect_error(s.CreateUser, U.CreateUserRequest(email="a@x.io"), E.INVALID_ARGUMENT, "tenant_id is required")
    expect_error(s.CreateUser, U.CreateUserRequest(tenant_id="t1"), E.INVALID_ARGUMENT, "email is required")
    expect_error(s.CreateUser, U.CreateUserRequest(email="bad"), E.INVALID_ARGUMENT, "invalid email", metadata=t1)
    u1 = s.CreateUser(U.CreateUserRequest(email="bob@x.io", username="bob", first_name="Bob", tenant_id="t1",
                                          password="secret123")).user
    check(UUID4.match(u1.id) and u1.is_active and RFC3339.match(u1.created_at), "CreateUser fields")
    check(re.match(r"^sha256\$[0-9a-f]{32}\$[0-9a-f]{64}$", u1.password_hash), "password_hash (for redaction)")
    expect_error(s.CreateUser, U.CreateUserRequest(email="BOB@x.io"), E.ALREADY_EXISTS,
                 "user with this email already exists", metadata=t1)  # tenant from x-tenant-id
    for i in range(25):
        s.CreateUser(U.CreateUserRequest(email="u%d@x.io" % i, tenant_id="t2", last_name="Smith%d" % i))
    check(s.CreateUser(U.CreateUserRequest(email="bob@x.io", tenant_id="t9")).user.id != u1.id,
          "emails are unique per tenant only")
    expect_error(s.GetUser, U.GetUserRequest(tenant_id="t1"), E.INVALID_ARGUMENT, "user_id is required")
    expect_error(s.GetUser, U.GetUserRequest(user_id="nope", tenant_id="t1"), E.NOT_FOUND, "user not found")
    expect_error(s.GetUser, U.GetUserRequest(user_id=u1.id), E.INVALID_ARGUMENT, "tenant_id is required")
    check(s.GetUser(U.GetUserRequest(user_id=u1.id, tenant_id="t1")).user.email == "bob@x.io", "GetUser")
    check(s.GetUser(U.GetUserRequest(user_id=u1.id), metadata=t1).user.email == "bob@x.io", "GetUser by metadata")
    expect_error(s.GetUser, U.GetUserRequest(user_id=u1.id, tenant_id="t2"), E.NOT_FOUND, "user not found")
    expect_error(s.GetUser, U.GetUserRequest(user_id=u1.id, tenant_id="t2"), E.NOT_FOUND, "user not found",
                 metadata=t1)  # the request's tenant_id wins over the metadata
    lst = s.ListUsers(U.ListUsersRequest(tenant_id="t2"))
    check(lst.total == 25 and len(lst.users) == 20 and lst.page == 1 and lst.page_size == 20, "list defaults")
    lst = s.ListUsers(U.ListUsersRequest(tenant_id="t2", page=2, page_size=20))
    check(len(lst.users) == 5, "list page 2")
    lst = s.ListUsers(U.ListUsersRequest(tenant_id="t2", page_size=1000))
    check(lst.page_size == 100 and lst.total == 25, "list cap")
    expect_error(s.ListUsers, U.ListUsersRequest(), E.INVALID_ARGUMENT, "tenant_id is required")
    time.sleep(1.1)
    up = s.UpdateUser(U.UpdateUserRequest(user_id=u1.id, tenant_id="t1", last_name="Builder")).user
    check(up.last_name == "Builder" and up.first_name == "Bob" and up.updated_at > up.created_at, "update")
    expect_error(s.UpdateUser, U.UpdateUserRequest(user_id="nope", tenant_id="t1"), E.NOT_FOUND, "user not found")
    expect_error(s.UpdateUser, U.UpdateUserRequest(user_id=u1.id, tenant_id="t2", last_name="X"), E.NOT_FOUND,
                 "user not found")
    sr = s.SearchUsers(U.SearchUsersRequest(query="smith1", tenant_id="t2"))
    check(sr.total == 11, "search smith1 total=%d" % sr.total)
    check(s.SearchUsers(U.SearchUsersRequest(query="BOB", tenant_id="t2")).total == 0, "search within tenant")
    ut = s.AddUserToTenant(U.AddUserToTenantRequest(user_id=u1.id, tenant_id="t3", roles=["admin"]), metadata=t1)
    check(ut.success and list(ut.user_tenant.roles) == ["admin"], "user AddUserToTenant")
    expect_error(s.AddUserToTenant, U.AddUserToTenantRequest(user_id=u1.id, tenant_id="t3"), E.ALREADY_EXISTS,
                 metadata=t1)
    expect_error(s.AddUserToTenant, U.AddUserToTenantRequest(user_id=u1.id, tenant_id="t4"), E.NOT_FOUND,
                 "user not found", metadata=[("x-tenant-id", "t2")])  # not visible to the caller's tenant
    gt = s.GetUserTenants(U.GetUserTenantsRequest(user_id=u1.id), metadata=t1).tenants
    check([t.tenant_id for t in gt] == ["t1"], "GetUserTenants: the caller's membership only")
    check(s.RemoveUserFromTenant(U.RemoveUserFromTenantRequest(user_id=u1.id, tenant_id="t3")).success, "remove")
    expect_error(s.RemoveUserFromTenant, U.RemoveUserFromTenantRequest(user_id=u1.id, tenant_id="t3"), E.NOT_FOUND)
    bi = s.GetUserByIdentifier(U.GetUserByIdentifierRequest(identifier="bob", tenant_id="t1"))
    check(bi.user.id == u1.id and len(bi.tenants) == 1, "by identifier")
    expect_error(s.GetUserByIdentifier, U.GetUserByIdentifierRequest(identifier="bob", tenant_id="t2"), E.NOT_FOUND)
    expect_error(s.GetUserByIdentifier, U.GetUserByIdentifierRequest(identifier="zzz", tenant_id="t1"), E.NOT_FOUND)
    tok = jwt_make({"user_id": u1.id, "sub": u1.id, "tenant_id": "t1", "roles": ["user"],
                    "exp": int(time.time()) + 60, "jti": "x"})
    vt = s.VerifyToken(U.VerifyTokenRequest(token=tok))
    check(vt.valid and vt.user_id == u1.id and list(vt.tenant_ids) == ["t1"] and vt.role == "user", "user verify")
    check(not s.VerifyToken(U.VerifyTokenRequest(token=tok + "x")).valid, "user verify bad sig")
    expect_error(s.DeleteUser, U.DeleteUserRequest(user_id=u1.id, tenant_id="t2"), E.NOT_FOUND, "user not found")
    check(s.DeleteUser(U.DeleteUserRequest(user_id=u1.id, tenant_id="t1")).success, "delete")
    expect_error(s.DeleteUser, U.DeleteUserRequest(user_id=u1.id, tenant_id="t1"), E.NOT_FOUND, "user not found")
    b.stop()


# ---------------------------------------------------------------- tenant
def test_tenant():
    b = Backend("tenant", "--fail-status", "13", "--fail-message", "boom")
    s = TG.TenantServiceStub(b.channel)
    E = grpc.StatusCode
    expect_error(s.ListTenants, T.ListTenantsRequest(), E.INTERNAL, "boom")
    b.signal(signal.SIGUSR1)
    expect_error(s.CreateTenant, T.CreateTenantRequest(), E.INVALID_ARGUMENT, "name is required")
    t1 = s.CreateTenant(T.CreateTenantRequest(name="Acme", domain="acme.io")).tenant
    check(UUID4.match(t1.id) and t1.subscription_tier == "free" and t1.is_active, "create tenant")
    check(list(t1.config.allowed_login_identifiers) == ["email", "username"], "default tenant config")
    expect_error(s.CreateTenant, T.CreateTenantRequest(name="acme"), E.ALREADY_EXISTS)
    expect_error(s.CreateTenant, T.CreateTenantRequest(name="Other", domain="ACME.io"), E.ALREADY_EXISTS)
    t2 = s.CreateTenant(T.CreateTenantRequest(name="Globex", subscription_tier="pro")).tenant
    check(s.GetTenant(T.GetTenantRequest(tenant_id=t2.id)).tenant.subscription_tier == "pro", "get tenant")
    expect_error(s.GetTenant, T.GetTenantRequest(tenant_id="nope"), E.NOT_FOUND, "tenant not found")
    lst = s.ListTenants(T.ListTenantsRequest(page=1, page_size=1))
    check(lst.total == 2 and len(lst.tenants) == 1 and lst.tenants[0].id == t1.id, "list tenants")
    expect_error(s.UpdateTenant, T.UpdateTenantRequest(tenant_id=t2.id, name="Acme"), E.ALREADY_EXISTS)
    up = s.UpdateTenant(T.UpdateTenantRequest(tenant_id=t2.id, name="Globex2")).tenant
    check(up.name == "Globex2" and up.subscription_tier == "pro", "update tenant")
    expect_error(s.AddUserToTenant, T.AddUserToTenantRequest(tenant_id="nope", user_id="u1"), E.NOT_FOUND,
                 "tenant not found")
    expect_error(s.AddUserToTenant, T.AddUserToTenantRequest(tenant_id=t1.id), E.INVALID_ARGUMENT,
                 "user_id is required")
    check(s.AddUserToTenant(T.AddUserToTenantRequest(tenant_id=t1.id, user_id="u1")).success, "add user")
    expect_error(s.AddUserToTenant, T.AddUserToTenantRequest(tenant_id=t1.id, user_id="u1"), E.ALREADY_EXISTS)
    check(s.RemoveUserFromTenant(T.RemoveUserFromTenantRequest(tenant_id=t1.id, user_id="u1")).success, "rm")
    expect_error(s.RemoveUserFromTenant, T.RemoveUserFromTenantRequest(tenant_id=t1.id, user_id="u1"), E.NOT_FOUND)
    cfg = T.TenantConfig(default_service_url="http://def", fallback_chain=["http://fb"],
                         service_mappings={"billing": "http://billing"})
    got = s.UpdateTenantConfig(T.UpdateTenantConfigRequest(tenant_id=t1.id, config=cfg)).config
    check(got.service_mappings["billing"] == "http://billing", "update config")
    check(s.GetTenantConfig(T.GetTenantConfigRequest(tenant_id=t1.id)).config == cfg, "get config")
    ds = s.GetDefaultService(T.GetDefaultServiceRequest(tenant_id=t1.id))
    check(ds.default_service_url == "http://def" and list(ds.fallback_urls) == ["http://fb"], "default service")
    u = s.GetServiceURL(T.GetServiceURLRequest(tenant_id=t1.id, service_name="billing"))
    check(u.success and u.url == "http://billing" and not u.is_default, "url from mapping")
    u = s.GetServiceURL(T.GetServiceURLRequest(tenant_id=t1.id, service_name="x"))
    check(u.success and u.url == "http://def" and u.is_default, "url default")
    sc = T.ServiceConfig(primary_endpoint=T.ServiceEndpoint(url="http://p1", priority=1), is_active=True)
    sc2 = s.UpdateServiceConfig(T.UpdateServiceConfigRequest(tenant_id=t1.id, service_name="x", config=sc)).config
    check(UUID4.match(sc2.id) and sc2.tenant_id == t1.id and sc2.service_name == "x", "update service config")
    check(s.GetServiceConfig(T.GetServiceConfigRequest(tenant_id=t1.id, service_name="x")).config == sc2, "get sc")
    expect_error(s.GetServiceConfig, T.GetServiceConfigRequest(tenant_id=t1.id, service_name="y"), E.NOT_FOUND)
    check(s.GetServiceURL(T.GetServiceURLRequest(tenant_id=t1.id, service_name="x")).url == "http://p1", "url p1")
    check(len(s.ListTenantServices(T.ListTenantServicesRequest(tenant_id=t1.id)).services) == 1, "list services")
    h = s.GetServiceHealth(T.GetServiceHealthRequest(tenant_id=t1.id, service_name="x")).healths
    check(len(h) == 1 and h[0].is_healthy and h[0].endpoint_url == "http://p1", "service health")
    check(s.DeleteTenant(T.DeleteTenantRequest(tenant_id=t2.id)).success, "delete tenant")
    expect_error(s.DeleteTenant, T.DeleteTenantRequest(tenant_id=t2.id), E.NOT_FOUND, "tenant not found")
    b.stop()


# ---------------------------------------------------------------- latency, deadlines, ports
def test_latency():
    b = Backend("user", "--latency-ms", "200")
    s = UG.UserServiceStub(b.channel)
    s.ListUsers(U.ListUsersRequest(tenant_id="t1"))  # connect
    t0 = time.monotonic()
    futs = [s.ListUsers.future(U.ListUsersRequest(tenant_id="t1"), timeout=10) for _ in range(50)]
    for f in futs:
        f.result()
    dt = time.monotonic() - t0
    print("latency check: 50 concurrent calls with --latency-ms 200 took %.3f s" % dt)
    check(0.2 <= dt < 0.6, "50 concurrent calls with 200 ms latency: %.3f s" % dt)
    try:
        s.ListUsers(U.ListUsersRequest(tenant_id="t1"), timeout=0.05)
        check(False, "deadline shorter than latency must fail")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded: %s" % e.code())
    time.sleep(0.3)
    check(health(b) == H.HealthCheckResponse.SERVING, "alive after deadline, health not delayed")
    p = subprocess.run([BIN, "--service", "auth", "--listen", b.addr], capture_output=True, text=True, timeout=10)
    check(p.returncode == 1 and "Address already in use" in p.stderr, "port in use: rc=%d %r" % (p.returncode,
                                                                                                 p.stderr))
    b.stop()
    nb = Backend("tenant", "--health", "NOT_SERVING")
    check(health(nb) == H.HealthCheckResponse.NOT_SERVING, "--health NOT_SERVING")
    nb.stop()


# ---------------------------------------------------------------- notification
def http(port, method, path, body=None, headers=None):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_notification():
    b = Backend("notification")
    hdr = {"Content-Type": "application/json", "X-User-ID": "u-7", "X-Correlation-ID": "c-9"}
    st, body = http(b.port, "POST", "/api/v1/notifications/email", '{"to":"a@x.io","subject":"hi"}', hdr)
    check(st == 201 and UUID4.match(body["id"]) and body["status"] == "queued" and body["channel"] == "email",
          "POST email: %s %s" % (st, body))
    rec = b.records()[-1]
    check(rec["metadata"].get("x-user-id") == "u-7" and rec["request"] == {"to": "a@x.io", "subject": "hi"},
          "notification record: %s" % rec)
    st, wh = http(b.port, "POST", "/api/v1/notifications/webhook", '{"url":"http://h"}', hdr)
    check(st == 201 and wh["channel"] == "webhook", "POST webhook")
    st, err = http(b.port, "POST", "/api/v1/notifications/email", "{nope", hdr)
    check(st == 400 and err == {"error": "invalid JSON"}, "invalid JSON: %s %s" % (st, err))
    st, lst = http(b.port, "GET", "/api/v1/notifications?limit=1")
    check(st == 200 and len(lst["notifications"]) == 1 and lst["total"] == 2, "list limit")
    st, one = http(b.port, "GET", "/api/v1/notifications/" + body["id"])
    check(st == 200 and one["payload"]["subject"] == "hi", "get by id")
    st, nf = http(b.port, "GET", "/api/v1/notifications/nope")
    check(st == 404 and nf == {"error": "notification not found"}, "404 by id")
    st, _ = http(b.port, "GET", "/api/v1/notifications/email")
    check(st == 405, "GET on POST route: %d" % st)
    b.signal(signal.SIGUSR1)
    st, err = http(b.port, "GET", "/api/v1/notifications")
    check(st == 503 and err == {"error": "injected failure"}, "SIGUSR1 on notification: %d" % st)
    b.stop()

    b = Backend("notification", "--latency-ms", "200", "--fail-status", "502")
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        res = list(ex.map(lambda _: http(b.port, "GET", "/api/v1/notifications"), range(20)))
    dt = time.monotonic() - t0
    check(all(r == (502, {"error": "injected failure"}) for r in res), "HTTP fail-status 502")
    check(0.2 <= dt < 0.8, "20 concurrent HTTP requests with 200 ms latency: %.3f s" % dt)
    b.stop()


def main():
    for t in (test_auth, test_user, test_tenant, test_latency, test_notification):
        try:
            t()
        except Exception as e:  # a crash in one group still reports the others
            check(False, "%s raised %r" % (t.__name__, e))
    print("%d passed, %d failed" % (passed, failed))
    if failed:
        print("record files kept in", TMP)
    else:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
