/*
 * Authentication and authorization stages, and the logout blacklist.
 *
 *   authenticate  Authorization: Bearer <jwt> → verified claims (worker/jwt.c:
 *                 algorithm pinned by config, exp/nbf checked here, never by
 *                 the token, JWT_REQUIRED_CLAIMS) → the segment's record of
 *                 logouts made through this gateway (shm/revoke.h) →
 *                 blacklist:<jti> in Redis (async). Redis down:
 *                 REDIS_FAIL_OPEN decides (serve with a warning, or 503);
 *                 the segment record is checked either way, so a token
 *                 logged out here stays refused while Redis is gone.
 *   authorize     route roles ("insufficient role"), then tenant isolation
 *                 (worker/tenant_scope.c): a tenant_id anywhere in the request
 *                 other than the token's → "tenant mismatch" unless the token
 *                 has admin or super_admin; the token's fills an empty one.
 *   logout        after the backend's Logout succeeds, record the jti in the
 *                 segment (every worker sees it at once) and blacklist it in
 *                 Redis, both for the token's remaining lifetime.
 *
 * Messages are those of docs/API.md, Errors; the reason behind a 401 goes to the log, never
 * the token itself.
 */
#include "worker/auth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "shm/revoke.h"
#include "worker/jwt.h"
#include "core/log.h"
#include "worker/clients/redis.h"
#include "worker/redis_pending.h"
#include "worker/respond.h"
#include "worker/tenant_scope.h"
#include "worker/token_cache.h"

/* Verified tokens of this worker process (worker/token_cache.h); made and
 * freed with the verifier, so a reload's new workers start empty. */
static gw_token_cache_t *tokens;

int gw_auth_init(gw_worker_t *w, char *err, size_t errlen)
{
    const gw_config_t *cfg = w->cfg;
    gw_jwt_alg_t alg;
    if (gw_jwt_alg_parse(cfg->jwt_algorithm, &alg) != 0) {
        snprintf(err, errlen, "JWT_ALGORITHM: unsupported \"%s\"", cfg->jwt_algorithm);
        return -1;
    }
    const char *prev = cfg->jwt_secret_previous[0] ? cfg->jwt_secret_previous : NULL;
    const char *key = cfg->jwt_public_key_file[0] ? cfg->jwt_public_key_file : NULL;
    w->jwt = gw_jwt_verifier_new(alg, cfg->jwt_secret, prev, key, cfg->jwt_leeway, err, errlen);
    if (w->jwt == NULL)
        return -1;
    if (gw_jwt_verifier_require(w->jwt, cfg->jwt_required_claims, err, errlen) != 0) {
        gw_jwt_verifier_free(w->jwt);
        w->jwt = NULL;
        return -1;
    }
    tokens = gw_token_cache_new(GW_TOKEN_CACHE_ENTRIES); /* NULL: every request verifies */
    return 0;
}

void gw_auth_shutdown(gw_worker_t *w)
{
    if (w->jwt != NULL)
        gw_jwt_verifier_free(w->jwt);
    w->jwt = NULL;
    gw_token_cache_free(tokens);
    tokens = NULL;
}

static gw_stage_result_t unauthorized(gw_request_t *r, const char *message, const char *reason)
{
    gw_met_count(r->w->met, GW_CTR_AUTH_FAILURES);
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_INFO, "authentication failed");
    gw_log_str(&l, "reason", reason);
    gw_log_str(&l, "ip", r->ip);
    gw_log_strn(&l, "path", r->req->path.base,
                r->req->query_at != SIZE_MAX ? r->req->query_at : r->req->path.len);
    gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
    gw_log_end(&l);
    gw_respond_error(r, 401, NULL, message);
    return GW_DONE;
}

/* "Bearer <token>": the scheme is case-insensitive, the token non-empty
 * and free of spaces. */
static bool bearer_token(const h2o_iovec_t *h, const char **token, size_t *len)
{
    if (h->len < 8 || strncasecmp(h->base, "Bearer ", 7) != 0)
        return false;
    const char *t = h->base + 7;
    size_t n = h->len - 7;
    while (n > 0 && t[n - 1] == ' ')
        n--;
    if (n == 0 || memchr(t, ' ', n) != NULL)
        return false;
    *token = t;
    *len = n;
    return true;
}

/* A warning per second at most: a dead Redis must not flood the log. */
static void warn_redis_down(gw_request_t *r, const char *why, const char *policy)
{
    static uint64_t last_ms;
    uint64_t now = gw_now_ms();
    gw_met_count(r->w->met, GW_CTR_REDIS_ERRORS);
    if (now - last_ms < 1000)
        return;
    last_ms = now;
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_WARN, "token blacklist unavailable");
    gw_log_str(&l, "error", why);
    gw_log_str(&l, "policy", policy);
    gw_log_end(&l);
}

/* Redis could not answer: serve (REDIS_FAIL_OPEN=true) or refuse. */
static gw_stage_result_t blacklist_unavailable(gw_request_t *r, const char *why)
{
    if (r->w->cfg->redis_fail_open) {
        warn_redis_down(r, why, "fail-open: serving without the revocation check");
        return GW_NEXT;
    }
    warn_redis_down(r, why, "fail-closed: refusing");
    gw_respond_error(r, 503, NULL, "token revocation check unavailable");
    return GW_DONE;
}

static void on_blacklist_reply(gw_request_t *r, const redisReply *reply, const char *error, void *data,
                               uint64_t waited_us)
{
    (void)data;
    r->t_auth_us += (uint32_t)waited_us;
    gw_stage_result_t res;
    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER)
        res = blacklist_unavailable(r, error ? error : "unexpected reply");
    else if (reply->integer != 0)
        res = unauthorized(r, "token has been revoked", "jti is blacklisted");
    else
        res = GW_NEXT;
    if (res == GW_NEXT)
        gw_request_resume(r);
}

static gw_stage_result_t check_blacklist(gw_request_t *r)
{
    gw_worker_t *w = r->w;
    if (!gw_redis_enabled(w) || r->identity->claims.jti[0] == '\0')
        return GW_NEXT;
    char key[160];
    int n = snprintf(key, sizeof(key), "blacklist:%s", r->identity->claims.jti);
    const char *argv[] = {"EXISTS", key};
    size_t argvlen[] = {6, (size_t)n};
    if (!gw_redis_pending_start(r, on_blacklist_reply, NULL, NULL, 2, argv, argvlen))
        return blacklist_unavailable(r, gw_redis_last_error(w)[0] ? gw_redis_last_error(w) : "not connected");
    return GW_ASYNC;
}

/* The segment's revocation table; NULL in a segment made without one. */
static void *revocations(gw_worker_t *w)
{
    if (w->shm->hdr->regions[GW_SHM_REGION_REVOKE].size == 0)
        return NULL;
    return gw_shm_region(w->shm, GW_SHM_REGION_REVOKE);
}

static bool revoked_here(gw_request_t *r)
{
    void *table = revocations(r->w);
    const char *jti = r->identity->claims.jti;
    return table != NULL && jti[0] != '\0' && gw_revoke_check(table, jti, strlen(jti), (int64_t)time(NULL));
}

/* The identity holds its own copy of the claims (request pool): `c` may be
 * the token cache's entry, which the next put may overwrite or evict. */
static void set_identity(gw_request_t *r, const gw_jwt_claims_t *c, const char *token, size_t len)
{
    gw_identity_t *id = h2o_mem_alloc_pool(&r->req->pool, sizeof(*id));
    id->claims = *c;
    id->token = token;
    id->token_len = len;
    r->identity = id;
}

/* The token's claims from the cache, else from full verification (then
 * cached); NULL after answering 401. The pointer is the cache's or *buf,
 * valid until the next put. exp/nbf are re-checked on every hit. */
static const gw_jwt_claims_t *verified_or_401(gw_request_t *r, const char *token, size_t len,
                                              gw_jwt_claims_t *buf)
{
    time_t now = time(NULL);
    const gw_jwt_claims_t *hit = gw_token_cache_get(tokens, token, len, (long long)now);
    if (hit != NULL)
        return hit;
    gw_jwt_result_t res = gw_jwt_verify(r->w->jwt, token, len, now, buf);
    if (res == GW_JWT_ERR_MISSING_CLAIM) {
        char reason[GW_JWT_MAX_CLAIM_NAME + 48]; /* the claim's name from our config, not the token */
        snprintf(reason, sizeof(reason), "missing required claim \"%s\"", buf->missing);
        unauthorized(r, "invalid or expired token", reason);
        return NULL;
    }
    if (res != GW_JWT_OK) {
        unauthorized(r, "invalid or expired token", gw_jwt_strerror(res));
        return NULL;
    }
    long long from, until;
    gw_jwt_window(r->w->jwt, buf, &from, &until);
    gw_token_cache_put(tokens, token, len, buf, from, until);
    return buf;
}

gw_stage_result_t gw_stage_authenticate(gw_request_t *r)
{
    if (!(r->match.route->flags & GW_RF_AUTH))
        return GW_NEXT;
    uint64_t t0 = gw_now_us();
    const h2o_iovec_t *h = gw_request_header(r, H2O_STRLIT("authorization"));
    if (h == NULL)
        return unauthorized(r, "authorization header required", "no Authorization header");
    const char *token;
    size_t len;
    if (!bearer_token(h, &token, &len))
        return unauthorized(r, "invalid authorization header format", "not \"Bearer <token>\"");
    gw_jwt_claims_t buf;
    const gw_jwt_claims_t *claims = verified_or_401(r, token, len, &buf);
    r->t_auth_us = (uint32_t)(gw_now_us() - t0);
    if (claims == NULL)
        return GW_DONE;
    set_identity(r, claims, token, len);
    if (revoked_here(r))
        return unauthorized(r, "token has been revoked", "jti revoked by a logout through this gateway");
    return check_blacklist(r);
}

static bool has_role(const gw_identity_t *id, const char *role)
{
    for (size_t i = 0; i < id->claims.nroles; i++)
        if (strcmp(id->claims.roles[i], role) == 0)
            return true;
    return false;
}

static gw_stage_result_t forbidden(gw_request_t *r, const char *message)
{
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_INFO, "authorization failed");
    gw_log_str(&l, "reason", message);
    gw_log_str(&l, "user_id", r->identity->claims.user_id);
    gw_log_str(&l, "tenant_id", r->identity->claims.tenant_id);
    gw_log_str(&l, "endpoint", r->match.route->tmpl);
    gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
    gw_log_end(&l);
    gw_respond_error(r, 403, NULL, message);
    return GW_DONE;
}

gw_stage_result_t gw_stage_authorize(gw_request_t *r)
{
    const gw_route_t *route = r->match.route;
    gw_identity_t *id = r->identity;
    if (id == NULL)
        return GW_NEXT;
    bool admin = has_role(id, "admin") || has_role(id, "super_admin");
    if (route->roles[0] != NULL) {
        bool ok = false;
        for (size_t i = 0; i < GW_ROUTE_MAX_ROLES && route->roles[i] != NULL && !ok; i++)
            ok = has_role(id, route->roles[i]);
        if (!ok)
            return forbidden(r, "insufficient role");
    }
    return gw_tenant_scope(r, admin);
}

/* ---- logout ------------------------------------------------------------- */

static void finish_logout(gw_request_t *r, gw_held_reply_t *held, const char *error)
{
    if (error != NULL) {
        gw_log_line_t l;
        gw_log_begin(&l, GW_LOG_ERROR, "logout: token not blacklisted");
        gw_log_str(&l, "error", error);
        gw_log_str(&l, "user_id", r->identity->claims.user_id);
        gw_log_end(&l);
        gw_met_count(r->w->met, GW_CTR_REDIS_ERRORS);
        if (!r->w->cfg->redis_fail_open) {
            gw_respond_error(r, 503, NULL, "token revocation unavailable");
            free(held);
            return;
        }
    }
    gw_respond_json(r, 200, held->body, held->len);
    free(held);
}

static void on_logout_set(gw_request_t *r, const redisReply *reply, const char *error, void *data,
                          uint64_t waited_us)
{
    (void)waited_us;
    finish_logout(r, data,
                  reply == NULL || reply->type == REDIS_REPLY_ERROR ? (error ? error : "SET failed") : NULL);
}

/* Record the logout in the segment before anything else can fail: it is
 * what keeps the token refused if Redis is down now or later. */
static void record_revocation(gw_request_t *r)
{
    static uint64_t last_warn_ms;
    void *table = revocations(r->w);
    const gw_identity_t *id = r->identity;
    if (table == NULL)
        return;
    gw_revoke_result_t res = gw_revoke_add(table, id->claims.jti, strlen(id->claims.jti),
                                           id->claims.exp + r->w->cfg->jwt_leeway, (int64_t)time(NULL));
    if (res == GW_REVOKE_EVICTED && gw_now_ms() - last_warn_ms >= 1000) {
        gw_revoke_stats_t st;
        gw_revoke_stats(table, &st);
        last_warn_ms = gw_now_ms();
        gw_logf(
            GW_LOG_WARN,
            "revocation table full: evicted the revocation expiring soonest "
            "(%llu entries are too few for the logouts of one token lifetime: raise REVOCATION_TABLE_SIZE)",
            (unsigned long long)st.capacity);
    } else if (res == GW_REVOKE_CONTENDED) {
        gw_log_line_t l;
        gw_log_begin(&l, GW_LOG_ERROR, "logout: jti not recorded in the revocation table");
        gw_log_str(&l, "user_id", id->claims.user_id);
        gw_log_end(&l);
    }
}

bool gw_auth_logout_reply(gw_request_t *r, const char *body, size_t len)
{
    gw_identity_t *id = r->identity;
    if (id == NULL || id->claims.jti[0] == '\0')
        return false;
    record_revocation(r);
    if (!gw_redis_enabled(r->w))
        return false;
    gw_held_reply_t *held = gw_held_reply_new(body, len);
    if (held == NULL)
        return false;
    long long ttl = id->claims.exp - (long long)time(NULL) + r->w->cfg->jwt_leeway;
    char key[160], ttlbuf[24];
    int klen = snprintf(key, sizeof(key), "blacklist:%s", id->claims.jti);
    int tlen = snprintf(ttlbuf, sizeof(ttlbuf), "%lld", ttl > 0 ? ttl : 1);
    const char *argv[] = {"SET", key, "1", "EX", ttlbuf};
    size_t argvlen[] = {3, (size_t)klen, 1, 2, (size_t)tlen};
    /* Cancelled (the client went away): the SET still reaches Redis. */
    if (!gw_redis_pending_start(r, on_logout_set, held, free, 5, argv, argvlen))
        finish_logout(r, held, gw_redis_last_error(r->w)[0] ? gw_redis_last_error(r->w) : "not connected");
    return true;
}
