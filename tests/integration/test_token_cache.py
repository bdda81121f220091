"""The per-worker cache of verified tokens (worker/token_cache.c) changes no
answer: a cached token is still checked against revocations (Redis
blacklist and the segment's logout record) on every request, is refused
once its exp passes, is matched byte for byte (the same payload with
another signature is verified, and refused, on its own), and never lends one
token's claims to another. A reload that changes JWT_SECRET starts workers
with an empty cache. One worker, so every request meets the warm cache."""

import time

from gwtest import bearer, make_token, wait_for

SECRET2 = "a-different-secret-after-reload"


def get_user(s, tok, uid="nobody"):
    return s.gw.req("GET", "/api/v1/users/" + uid, headers=bearer(tok))


def cached(s, tok):
    """Two answers through the gateway: the second comes from the cache."""
    for _ in range(2):
        r = get_user(s, tok)
        assert r.status == 404, r  # authenticated; the user does not exist


def reasons(s):
    return [l.get("reason") for l in s.gw.log_lines() if l.get("msg") == "authentication failed"]


def test_revoked_token_refused_even_when_cached(stack_factory):
    s = stack_factory(with_redis=True, workers=1)
    tok = make_token({"jti": "jti-cache-redis"}, exp_in=300)
    cached(s, tok)
    s.redis.cli("SET", "blacklist:jti-cache-redis", "1", "EX", "300")
    r = get_user(s, tok)
    assert r.status == 401 and r.json()["error"]["message"] == "token has been revoked", r
    assert reasons(s)[-1] == "jti is blacklisted"
    # A logout through the gateway: the segment's record refuses it too.
    other = make_token({"jti": "jti-cache-logout"}, exp_in=300)
    cached(s, other)
    r = s.gw.req("POST", "/api/v1/auth/logout", body={}, headers=bearer(other))
    assert r.status == 200, r
    r = get_user(s, other)
    assert r.status == 401 and r.json()["error"]["message"] == "token has been revoked", r


def test_expired_token_refused_even_when_cached(stack_factory):
    s = stack_factory(conf={"JWT_LEEWAY": "0"}, workers=1)
    tok = make_token(exp_in=2)
    cached(s, tok)
    exp = int(time.time()) + 2
    wait_for(lambda: time.time() >= exp + 1, timeout=10, what="the token's exp to pass")
    r = get_user(s, tok)
    assert r.status == 401 and r.json()["error"]["message"] == "invalid or expired token", r
    assert reasons(s)[-1] == "token expired"


def test_same_payload_with_wrong_signature_is_not_served_from_cache(stack_factory):
    s = stack_factory(workers=1)
    tok = make_token({"user_id": "u-cached"}, exp_in=300)
    cached(s, tok)
    head_payload = tok.rsplit(".", 1)[0]
    forged = make_token({"user_id": "u-cached"}, secret="not-the-secret", exp_in=300)
    forged = head_payload + "." + forged.rsplit(".", 1)[1]
    assert forged != tok and forged.startswith(head_payload + ".")
    r = get_user(s, forged)
    assert r.status == 401 and r.json()["error"]["message"] == "invalid or expired token", r
    assert reasons(s)[-1] == "signature mismatch"
    truncated = tok[:-2]  # a prefix of a cached token is a different token
    assert get_user(s, truncated).status == 401
    assert get_user(s, tok).status == 404  # the genuine one still passes


def test_different_tokens_never_share_claims(stack_factory):
    s = stack_factory(workers=1)
    toks = {"u-%d" % i: make_token({"user_id": "u-%d" % i, "tenant_id": "t-%d" % i, "roles": ["r%d" % i]},
                                   exp_in=300) for i in range(40)}
    for rnd in range(2):  # the second round is served from the cache
        for uid, tok in toks.items():
            assert get_user(s, tok, uid).status == 404
            m = s.user.records("/GetUser")[-1]["metadata"]
            i = uid.split("-")[1]
            assert (m["x-user-id"], m["x-tenant-id"], m["x-roles"]) == (uid, "t-" + i, "r" + i), (rnd, m)
            assert m["authorization"] == "Bearer " + tok


def test_reload_with_new_secret_refuses_tokens_verified_with_the_old_one(stack_factory):
    s = stack_factory(workers=1)
    tok = make_token(exp_in=300)
    cached(s, tok)
    with open(s.gw.conf_path) as f:
        conf = f.read()
    import gwtest
    with open(s.gw.conf_path, "w") as f:
        f.write(conf.replace("JWT_SECRET=" + gwtest.JWT_SECRET, "JWT_SECRET=" + SECRET2))
    s.gw.reload()
    gen = s.gw.workers_info()["generation"]
    wait_for(lambda: s.gw.ready_workers(gen) == 1 and
             all(w["generation"] == gen for w in s.gw.workers_info()["workers"]),
             timeout=20, what="only new-generation workers")
    r = get_user(s, tok)
    assert r.status == 401 and r.json()["error"]["message"] == "invalid or expired token", r
    assert reasons(s)[-1] == "signature mismatch"
    assert get_user(s, make_token(secret=SECRET2, exp_in=300)).status == 404
