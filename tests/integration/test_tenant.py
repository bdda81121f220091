"""Tenant isolation (broken object-level authorization) and response
redaction, through the real gateway, the C demo backends and Redis.

The tenant a request acts on is the token's: a tenant_id named anywhere
(path, query, JSON body, snake or camel case, percent-encoded, repeated)
that differs from it is 403 "tenant mismatch" unless the token is an
admin's; the backends scope every read and write by the tenant they get;
the cache keys and invalidates by that tenant; RESPONSE_REDACT_FIELDS
(password_hash) never reach a client, cached or not."""

import pytest

from gwtest import bearer, make_token, wait_for


def token(tenant, roles=("user",), user="u-1"):
    return bearer(make_token({"user_id": user, "tenant_id": tenant, "roles": list(roles)}))


ACME = token("acme", user="u-acme")
EVIL = token("evil", user="u-evil")
ADMIN = token("root", roles=("user", "admin"), user="u-admin")


def err(r):
    return r.json()["error"]["message"]


def create_user(s, tok, name, **extra):
    body = {"email": name + "@example.com", "username": name, "first_name": name.title(), "password": "pw-" + name}
    body.update(extra)
    r = s.gw.req("POST", "/api/v1/users", body=body, headers=tok)
    assert r.status == 200, r
    return r.json()["user"]


def assert_refused(s, method, *args, **kw):
    """The request s.gw.req(*args, **kw) is 403 tenant mismatch, and the
    user backend never sees it."""
    before = len(s.user.records(method))
    r = s.gw.req(*args, **kw)
    assert r.status == 403 and err(r) == "tenant mismatch", r
    assert len(s.user.records(method)) == before, s.user.records(method)[-1]


@pytest.fixture
def two_tenants(stack_factory):
    s = stack_factory()
    s.acme_user = create_user(s, ACME, "alice")
    s.evil_user = create_user(s, EVIL, "mallory")
    return s


def ids(r):
    return sorted(u["id"] for u in r.json()["users"])


@pytest.mark.parametrize("query", ["tenant_id=acme", "tenantId=acme", "tenant%5Fid=acme", "tenant%5fid=acme"])
def test_list_with_another_tenant_in_the_query_is_403(two_tenants, query):
    s = two_tenants
    assert_refused(s, "/ListUsers", "GET", "/api/v1/users?" + query, headers=EVIL)
    # without one: only evil's own users
    r = s.gw.req("GET", "/api/v1/users", headers=EVIL)
    assert r.status == 200 and ids(r) == [s.evil_user["id"]], r
    assert s.user.records("/ListUsers")[-1]["request"]["tenant_id"] == "evil"


def test_search_with_another_tenant_is_403(two_tenants):
    s = two_tenants
    assert_refused(s, "/SearchUsers", "GET", "/api/v1/users/search?query=ali&tenant_id=acme", headers=EVIL)
    r = s.gw.req("GET", "/api/v1/users/search?query=ali", headers=EVIL)  # acme's alice is not evil's
    assert r.status == 200 and r.json()["total"] == 0 and r.json()["users"] == [], r
    r = s.gw.req("GET", "/api/v1/users/search?query=ali", headers=ACME)
    assert r.status == 200 and ids(r) == [s.acme_user["id"]]


@pytest.mark.parametrize("key", ["tenant_id", "tenantId"])
def test_create_with_another_tenant_in_the_body_is_403(two_tenants, key):
    s = two_tenants
    assert_refused(s, "/CreateUser", "POST", "/api/v1/users", body={"email": "planted@example.com", key: "acme"},
                   headers=EVIL)
    # nor by a duplicate key, which the transcoder refuses outright
    for body in ('{"email":"x@example.com","tenant_id":"evil","tenant_id":"acme"}',
                 '{"email":"x@example.com","tenant_id":"evil","tenantId":"acme"}'):
        r = s.gw.req("POST", "/api/v1/users", body=body, headers=dict(EVIL, **{"Content-Type": "application/json"}))
        assert r.status == 400 and "duplicate" in err(r), r
    r = s.gw.req("GET", "/api/v1/users", headers=ACME)
    assert ids(r) == [s.acme_user["id"]]


def test_create_fills_the_token_tenant(two_tenants):
    s = two_tenants
    u = create_user(s, EVIL, "eve")
    assert s.user.records("/CreateUser")[-1]["request"]["tenant_id"] == "evil"
    r = s.gw.req("GET", "/api/v1/users", headers=ACME)
    assert u["id"] not in ids(r)
    # the same email in another tenant is another user, not a conflict
    create_user(s, ACME, "eve")


def test_update_with_another_tenant_in_the_query_is_403(two_tenants):
    s = two_tenants
    uid = s.acme_user["id"]
    assert_refused(s, "/UpdateUser", "PUT", "/api/v1/users/%s?tenant_id=acme" % uid, body={"first_name": "Pwned"},
                   headers=EVIL)
    # without the parameter the scoped backend does not know the user
    r = s.gw.req("PUT", "/api/v1/users/" + uid, body={"first_name": "Pwned"}, headers=EVIL)
    assert r.status == 404 and err(r) == "user not found", r
    r = s.gw.req("GET", "/api/v1/users/" + uid, headers=ACME)
    assert r.status == 200 and r.json()["user"]["first_name"] == "Alice"


def test_get_and_delete_by_id_across_tenants_is_404(two_tenants):
    s = two_tenants
    uid = s.acme_user["id"]
    r = s.gw.req("GET", "/api/v1/users/" + uid, headers=EVIL)
    assert r.status == 404 and err(r) == "user not found", r
    assert s.user.records("/GetUser")[-1]["request"]["tenant_id"] == "evil"
    evil_admin = token("evil", roles=("admin",))
    r = s.gw.req("DELETE", "/api/v1/users/" + uid, headers=evil_admin)  # admin of evil, acting on evil
    assert r.status == 404, r
    assert s.gw.req("GET", "/api/v1/users/" + uid, headers=ACME).status == 200


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/users/search?query=a", "/api/v1/users/u-1"])
def test_token_without_tenant_is_403(stack, path):
    no_tenant = bearer(make_token({"tenant_id": None}))
    empty = bearer(make_token({"tenant_id": ""}))
    for p in (path, "/api/v1/tenants/acme"):
        for tok in (no_tenant, empty):
            r = stack.gw.req("GET", p, headers=tok)
            assert r.status == 403 and err(r) == "tenant mismatch", r
    assert not stack.user.records() and not stack.tenant.records()


def test_admin_without_tenant_may_list_and_create_tenants(stack):
    # tenant list and create act on the platform (admin only), not on a tenant
    adm = bearer(make_token({"tenant_id": None, "roles": ["admin"]}))
    r = stack.gw.req("POST", "/api/v1/tenants", body={"name": "Initech"}, headers=adm)
    assert r.status == 200, r
    r = stack.gw.req("GET", "/api/v1/tenants", headers=adm)
    assert r.status == 200 and r.json()["total"] == 1
    # but a tenant's own resources still need a tenant in the token
    assert stack.gw.req("GET", "/api/v1/users", headers=adm).status == 403


def test_admin_may_act_on_another_tenant(two_tenants):
    s = two_tenants
    uid = s.acme_user["id"]
    r = s.gw.req("GET", "/api/v1/users?tenant_id=acme", headers=ADMIN)
    assert r.status == 200 and ids(r) == [uid], r
    # with no tenant named, the admin acts on its own tenant
    r = s.gw.req("GET", "/api/v1/users/" + uid, headers=ADMIN)
    assert r.status == 404, r
    r = s.gw.req("PUT", "/api/v1/users/%s?tenant_id=acme" % uid, body={"last_name": "Admin-set"}, headers=ADMIN)
    assert r.status == 200 and r.json()["user"]["last_name"] == "Admin-set", r
    assert s.user.records("/UpdateUser")[-1]["request"]["tenant_id"] == "acme"
    r = s.gw.req("POST", "/api/v1/users", body={"email": "hire@example.com", "tenantId": "acme"}, headers=ADMIN)
    assert r.status == 200, r
    assert len(ids(s.gw.req("GET", "/api/v1/users", headers=ACME))) == 2


def test_cache_invalidation_after_an_admin_put_uses_the_target_tenant(stack_factory):
    s = stack_factory(with_redis=True, conf={"CACHE_TTL": "60"})
    uid = create_user(s, ACME, "carol")["id"]
    path = "/api/v1/users/" + uid
    assert s.gw.req("GET", path, headers=ACME).headers.get("x-cache") == "MISS"
    wait_for(lambda: s.redis.cli("EXISTS", "cache:acme:" + path) == "1", what="acme's entry stored")
    r = s.gw.req("GET", path, headers=ACME)
    assert r.headers.get("x-cache") == "HIT" and r.json()["user"]["first_name"] == "Carol"
    r = s.gw.req("PUT", path + "?tenant_id=acme", body={"first_name": "Caroline"}, headers=ADMIN)
    assert r.status == 200, r
    assert s.redis.cli("EXISTS", "cache:acme:" + path) == "0"
    r = s.gw.req("GET", path, headers=ACME)
    assert r.status == 200 and r.headers.get("x-cache") == "MISS", r
    assert r.json()["user"]["first_name"] == "Caroline"
    # an admin's read of acme is cached under acme, never under the admin's tenant
    r = s.gw.req("GET", path + "?tenant_id=acme", headers=ADMIN)
    assert r.status == 200
    wait_for(lambda: s.redis.cli("EXISTS", "cache:acme:%s?tenant_id=acme" % path) == "1", what="admin's entry")
    assert s.redis.cli("KEYS", "cache:root:*") == ""


@pytest.mark.parametrize("query", ["tenant_id=evil&tenant_id=acme", "tenant_id=acme&tenantId=evil&tenant_id=acme",
                                   "tenantId=evil&tenant%5Fid=acme"])
def test_repeated_query_parameters_are_checked_as_used(two_tenants, query):
    s = two_tenants
    assert_refused(s, "/ListUsers", "GET", "/api/v1/users?" + query, headers=EVIL)
    # the last one wins, as in the transcoder: here it is evil's own
    r = s.gw.req("GET", "/api/v1/users?tenant_id=acme&tenant_id=evil", headers=EVIL)
    assert r.status == 200 and ids(r) == [s.evil_user["id"]], r


def test_notification_proxy_query_tenant_is_checked(stack):
    r = stack.gw.req("GET", "/api/v1/notifications?limit=5&tenant%5Fid=acme", headers=EVIL)
    assert r.status == 403 and err(r) == "tenant mismatch", r
    assert not stack.notification.records()
    assert stack.gw.req("GET", "/api/v1/notifications?tenant_id=evil", headers=EVIL).status == 200


def test_password_hash_never_reaches_clients(stack_factory):
    s = stack_factory(with_redis=True, conf={"CACHE_TTL": "60"})
    r = s.gw.req("POST", "/api/v1/users", body={"email": "dan@example.com", "password": "hunter2-long"},
                 headers=ACME)
    assert r.status == 200 and "password_hash" not in r.json()["user"], r
    assert b"password_hash" not in r.body and b"sha256$" not in r.body
    uid = r.json()["user"]["id"]
    for path in ("/api/v1/users/" + uid, "/api/v1/users", "/api/v1/users/search?query=dan"):
        first = s.gw.req("GET", path, headers=ACME)
        assert first.status == 200 and first.headers.get("x-cache") == "MISS", first
        assert b"password_hash" not in first.body and b"sha256$" not in first.body, first
        key = "cache:acme:" + path
        wait_for(lambda: s.redis.cli("EXISTS", key) == "1", what="stored " + key)
        assert "password_hash" not in s.redis.cli("GET", key)
        hit = s.gw.req("GET", path, headers=ACME)
        assert hit.headers.get("x-cache") == "HIT" and hit.body == first.body
    r = s.gw.req("PUT", "/api/v1/users/" + uid, body={"last_name": "D"}, headers=ACME)
    assert r.status == 200 and "password_hash" not in r.json()["user"]


def test_redact_fields_are_configurable_at_any_depth(stack_factory):
    s = stack_factory(conf={"RESPONSE_REDACT_FIELDS": "password_hash, email"})
    create_user(s, ACME, "erin")
    r = s.gw.req("GET", "/api/v1/users", headers=ACME)
    assert r.status == 200
    user = r.json()["users"][0]  # a User nested in a repeated field
    assert "email" not in user and "password_hash" not in user and user["username"] == "erin"
    assert r.json()["total"] == 1
