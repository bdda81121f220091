"""Authentication and authorization through the real gateway: JWT checks with
the algorithm pinned by config, the Redis blacklist (a real redis-server,
killed and restarted mid-test), logout, roles, tenants, ADMIN_ALLOW and
TRUSTED_PROXIES, and secret rotation over HUP."""

import json
import os
import subprocess
import tempfile
import time

import pytest

from gwtest import JWT_SECRET, b64url, bearer, make_token, request, run_gateway, wait_for


def err(r):
    return r.json()["error"]["message"]


def get_users(stack, token=None, headers=None):
    h = dict(headers or {})
    if token is not None:
        h.update(bearer(token))
    return stack.gw.req("GET", "/api/v1/users", headers=h)


def test_valid_token_and_identity_forwarded(stack):
    tok = make_token({"user_id": "u-42", "tenant_id": "acme", "roles": ["user", "editor"]})
    r = get_users(stack, tok)
    assert r.status == 200, r
    md = stack.user.records("/ListUsers")[-1]["metadata"]
    assert md["x-user-id"] == "u-42" and md["x-tenant-id"] == "acme"
    assert md["x-roles"] == "user,editor"
    assert md["authorization"] == "Bearer " + tok
    # `sub` stands in for `user_id`
    r = get_users(stack, make_token({"user_id": None, "sub": "u-sub"}))
    assert r.status == 200 and stack.user.records("/ListUsers")[-1]["metadata"]["x-user-id"] == "u-sub"


@pytest.mark.parametrize("headers,message", [
    ({}, "authorization header required"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid authorization header format"),
    ({"Authorization": "Bearer"}, "invalid authorization header format"),
    ({"Authorization": "Bearer a.b"}, "invalid or expired token"),
    ({"Authorization": "Bearer !!!.???.***"}, "invalid or expired token"),
])
def test_missing_or_malformed_header(stack, headers, message):
    r = get_users(stack, headers=headers)
    assert r.status == 401 and err(r) == message, r
    assert r.json()["error"]["code"] == "UNAUTHORIZED"
    assert not stack.user.records("/ListUsers")  # never reached the backend


def test_bad_tokens_rejected(stack):
    now = int(time.time())
    bad = {
        "bad signature": make_token(secret="not-the-secret-at-all-0123456789"),
        "expired": make_token(exp_in=-30),
        "not yet valid": make_token({"nbf": now + 300}),
        "no exp": make_token({"exp": None}),
        "alg none": make_token(header={"alg": "none", "typ": "JWT"}, sign=False),
        "alg none signed": make_token(header={"alg": "none", "typ": "JWT"}, sign=False) + "c2ln",
        "HS512 token for an HS256 gateway": make_token(alg="HS512"),
        "RS256 header": make_token(header={"alg": "RS256", "typ": "JWT"}, sign=False) + b64url(b"x" * 256),
        "no user": make_token({"user_id": None, "sub": None}),
    }
    for name, tok in bad.items():
        r = get_users(stack, tok)
        assert r.status == 401, (name, r)
        assert err(r) == "invalid or expired token", (name, r)
    assert not stack.user.records("/ListUsers")
    wait_for(lambda: stack.gw.metric("api_gateway_auth_failures_total") >= len(bad), what="auth failures counted")
    # the token itself is never logged
    log = stack.gw.log_text()
    assert bad["expired"] not in log and JWT_SECRET not in log


def test_leeway_accepts_recent_expiry(stack_factory):
    s = stack_factory(conf={"JWT_LEEWAY": "60"})
    assert get_users(s, make_token(exp_in=-30)).status == 200
    assert get_users(s, make_token(exp_in=-120)).status == 401


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data, capture_output=True, check=True).stdout


def rs256_token(key_path, claims):
    now = int(time.time())
    body = {"user_id": "u-rsa", "tenant_id": "acme", "roles": ["user"], "jti": "j-" + os.urandom(4).hex(),
            "exp": now + 600}
    body.update(claims)
    signing_input = (b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "." +
                     b64url(json.dumps(body).encode()))
    sig = openssl("dgst", "-sha256", "-sign", key_path, data=signing_input.encode())
    return signing_input + "." + b64url(sig)


def test_rs256_pinned_and_key_confusion(stack_factory):
    d = tempfile.mkdtemp(prefix="gw-rsa-")
    key, pub = os.path.join(d, "key.pem"), os.path.join(d, "pub.pem")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
    openssl("pkey", "-in", key, "-pubout", "-out", pub)
    s = stack_factory(conf={"JWT_ALGORITHM": "RS256", "JWT_PUBLIC_KEY_FILE": pub, "JWT_SECRET": ""})
    r = get_users(s, rs256_token(key, {}))
    assert r.status == 200, r
    # the public key used as an HMAC secret: the classic HS/RS confusion
    with open(pub, "rb") as f:
        forged = make_token(secret=f.read(), alg="HS256")
    r = get_users(s, forged)
    assert r.status == 401 and err(r) == "invalid or expired token"
    # a token signed by another RSA key
    other = os.path.join(d, "other.pem")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other)
    assert get_users(s, rs256_token(other, {})).status == 401
    assert get_users(s, rs256_token(key, {"exp": int(time.time()) - 10})).status == 401


def test_blacklisted_jti_and_logout(stack_factory):
    s = stack_factory(with_redis=True)
    tok = make_token({"jti": "revoked-1"})
    assert get_users(s, tok).status == 200
    s.redis.cli("SET", "blacklist:revoked-1", "1", "EX", "60")
    r = get_users(s, tok)
    assert r.status == 401 and err(r) == "token has been revoked"
    # logout: the backend is called, then the jti is blacklisted for the token's remaining life
    tok2 = make_token({"jti": "logout-1"}, exp_in=300)
    assert get_users(s, tok2).status == 200
    r = s.gw.req("POST", "/api/v1/auth/logout", body={}, headers=bearer(tok2))
    assert r.status == 200, r
    assert s.auth.records("/Logout")[-1]["request"]["token"] == tok2
    ttl = int(s.redis.cli("TTL", "blacklist:logout-1"))
    assert 250 <= ttl <= 300
    r = get_users(s, tok2)
    assert r.status == 401 and err(r) == "token has been revoked"


def test_role_protected_route(stack):
    r = stack.gw.req("GET", "/api/v1/tenants", headers=bearer(make_token({"roles": ["user"]})))
    assert r.status == 403 and err(r) == "insufficient role" and r.json()["error"]["code"] == "FORBIDDEN"
    assert not stack.tenant.records("/ListTenants")
    r = stack.gw.req("GET", "/api/v1/tenants", headers=bearer(make_token({"roles": ["admin"]})))
    assert r.status == 200, r


def test_tenant_mismatch(stack):
    admin = make_token({"roles": ["super_admin"], "tenant_id": "root"})
    r = stack.gw.req("POST", "/api/v1/tenants", body={"name": "Other Co", "domain": "other.example.com"}, headers=bearer(admin))
    assert r.status == 200, r
    other = r.json()["tenant"]["id"]
    r = stack.gw.req("GET", "/api/v1/tenants/" + other, headers=bearer(make_token({"tenant_id": "acme"})))
    assert r.status == 403 and err(r) == "tenant mismatch"
    r = stack.gw.req("GET", "/api/v1/tenants/" + other, headers=bearer(make_token({"tenant_id": other})))
    assert r.status == 200, r
    r = stack.gw.req("GET", "/api/v1/tenants/" + other, headers=bearer(admin))  # admins cross tenants
    assert r.status == 200, r


def test_admin_allow_and_trusted_proxies(gateway_factory):
    g = gateway_factory(conf={"JWT_SECRET": JWT_SECRET, "ADMIN_ALLOW": "127.0.0.1/32",
                              "TRUSTED_PROXIES": "127.0.0.3/32"})
    assert request(g.port, "GET", "/debug/workers").status == 200
    r = request(g.port, "GET", "/debug/workers", source="127.0.0.2")
    assert r.status == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert request(g.port, "GET", "/admin/breakers", source="127.0.0.2").status == 403
    # an untrusted peer cannot claim to be an allowed address
    r = request(g.port, "GET", "/debug/workers", source="127.0.0.2", headers={"X-Forwarded-For": "127.0.0.1"})
    assert r.status == 403
    # a trusted proxy forwards the real client: allowed only if that client is
    r = request(g.port, "GET", "/debug/workers", source="127.0.0.3", headers={"X-Forwarded-For": "127.0.0.1"})
    assert r.status == 200
    r = request(g.port, "GET", "/debug/workers", source="127.0.0.3", headers={"X-Forwarded-For": "10.9.9.9"})
    assert r.status == 403


def test_redis_down_fail_open_then_reconnect(stack_factory):
    s = stack_factory(with_redis=True)
    tok = make_token({"jti": "live-1"})
    assert get_users(s, tok).status == 200
    s.redis.stop()
    r = get_users(s, tok)
    assert r.status == 200, r  # REDIS_FAIL_OPEN=true (default): served
    wait_for(lambda: s.gw.metric("api_gateway_redis_errors_total") >= 1, what="redis errors counted")
    s.gw.wait_log("token blacklist unavailable")
    wait_for(lambda: s.gw.get("/health").json()["checks"]["redis"].startswith("degraded"), timeout=10,
             what="redis degraded in /health")
    assert s.gw.get("/health").json()["status"] == "degraded"
    s.redis.start()  # same port
    s.redis.cli("SET", "blacklist:live-1", "1", "EX", "60")
    wait_for(lambda: get_users(s, tok).status == 401, timeout=15, what="blacklist enforced after reconnect")
    wait_for(lambda: s.gw.get("/health").json()["checks"]["redis"] == "healthy", timeout=10, what="redis healthy")


def test_redis_down_fail_closed(stack_factory):
    s = stack_factory(with_redis=True, conf={"REDIS_FAIL_OPEN": "false"})
    tok = make_token()
    assert get_users(s, tok).status == 200
    s.redis.stop()
    r = get_users(s, tok)
    assert r.status == 503 and err(r) == "token revocation check unavailable", r
    assert not [x for x in s.user.records("/ListUsers") if x["metadata"].get("authorization") == "Bearer " + tok][1:]


def test_secret_rotation_over_hup(stack_factory):
    old, new = JWT_SECRET, "rotated-secret-0123456789abcdef0123456789"
    s = stack_factory()
    old_tok = make_token(secret=old)
    assert get_users(s, old_tok).status == 200
    conf = open(s.gw.conf_path).read().replace("JWT_SECRET=" + old, "JWT_SECRET=" + new)
    s.gw.write_conf(conf + "JWT_SECRET_PREVIOUS=%s\n" % old)
    s.gw.reload()
    assert get_users(s, make_token(secret=new)).status == 200
    assert get_users(s, old_tok).status == 200  # still accepted during the rotation
    s.gw.write_conf(conf)  # previous secret removed
    s.gw.reload()
    assert get_users(s, make_token(secret=new)).status == 200
    r = get_users(s, old_tok)
    assert r.status == 401 and err(r) == "invalid or expired token"


# ---- JWT_REQUIRED_CLAIMS ------------------------------------------------------

def test_required_claims(stack_factory):
    s = stack_factory(conf={"JWT_REQUIRED_CLAIMS": "exp, jti,tenant_id"})
    assert get_users(s, make_token()).status == 200  # make_token carries all three
    missing = {"jti": make_token({"jti": None}), "tenant_id": make_token({"tenant_id": ""})}
    for claim, tok in missing.items():
        r = get_users(s, tok)
        assert r.status == 401 and err(r) == "invalid or expired token", (claim, r)
        s.gw.wait_log(r'"reason":"missing required claim \\"%s\\""' % claim)
        assert tok not in s.gw.log_text()
    assert not s.user.records("/ListUsers")[1:]  # only the complete token reached the backend


def test_required_claims_default_and_bad_value(stack_factory):
    s = stack_factory()  # default JWT_REQUIRED_CLAIMS=exp: jti and tenant_id stay optional
    assert get_users(s, make_token({"jti": None})).status == 200
    # no tenant_id: authenticated, and served where no tenant is needed
    # (tenant-scoped routes refuse it: see test_tenant.py)
    admin = make_token({"jti": None, "tenant_id": None, "roles": ["admin"]})
    assert s.gw.req("GET", "/api/v1/tenants", headers=bearer(admin)).status == 200
    r = get_users(s, make_token({"exp": None}))
    assert r.status == 401 and err(r) == "invalid or expired token"
    s.gw.wait_log(r'"reason":"missing required claim \\"exp\\""')
    r = run_gateway(["-t"], {"JWT_SECRET": "s", "JWT_REQUIRED_CLAIMS": "exp,,jti"})
    assert r.returncode == 1
    assert r.stderr.strip() == 'api-gateway: JWT_REQUIRED_CLAIMS: empty claim name in "exp,,jti"'
