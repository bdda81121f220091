/*
 * The Redis response cache (REDIS_URL set): GET responses of the routes of
 * CACHE_METHODS (core/api.c sets GW_RF_CACHE) are kept under `cache:<tenant>:<path>?<query>` (<tenant> =
 * the request's effective tenant, worker/tenant_scope.c) for CACHE_TTL
 * seconds; bodies over CACHE_MAX_BODY are not kept; a successful mutation of
 * a collection drops every key cached for it. Redis down, slow or refusing
 * the command → the request is served uncached and counted as an `error`
 * lookup, never failed. A request with `Cache-Control: no-cache` (or
 * `Pragma: no-cache`) skips the lookup (`bypass`, RFC 9111 §5.2.1.4) and its
 * fresh response replaces the stored one.
 *
 * Invalidation: each stored key is also added to an index set for its
 * service — `cache-idx:<tenant>:user-service` (per tenant) and
 * `cache-idx:tenant-service` (a service with a cached method not scoped by
 * tenant, like the tenant list, has one index for all tenants) — and a
 * mutation deletes the indexed keys and the index in one Lua script, before
 * its response is sent, so the client's next GET is fresh. On a Redis
 * Cluster both names carry the index as a {hash tag} (see index_key).
 */
#include "worker/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "worker/clients/redis.h"
#include "worker/clients/redis_cluster.h"
#include "worker/redis_pending.h"
#include "worker/respond.h"

static const char store_script[] = "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) "
                                   "redis.call('SADD', KEYS[2], KEYS[1]) "
                                   "redis.call('EXPIRE', KEYS[2], ARGV[2]) return 1";
static const char drop_script[] =
    "local ks = redis.call('SMEMBERS', KEYS[1]) "
    "for i = 1, #ks, 500 do redis.call('DEL', unpack(ks, i, math.min(i + 499, #ks))) end "
    "redis.call('DEL', KEYS[1]) return #ks";

/* The tenant the request acts on (set by the authorize stage: the token's,
 * or the one an admin named), so an admin's PUT on another tenant's user
 * drops that tenant's entries, not the admin's own. */
static const char *tenant_of(const gw_request_t *r)
{
    if (r->tenant != NULL && r->tenant[0] != '\0')
        return r->tenant;
    return r->identity && r->identity->claims.tenant_id[0] ? r->identity->claims.tenant_id : "_";
}

/* The index's name without its prefix: "<tenant>:<service>" (a write
 * through one of a service's routes drops what the tenant has cached from
 * that service: templates of one resource differ, "/v1/invoices" and
 * "/v1/{name=invoices/STAR}", so the service is the unit that is sure to
 * cover them), or the service alone when one of its cached methods is not
 * scoped by tenant (tenant.TenantService's ListTenants: what one tenant's
 * write changes, every tenant may have cached). */
static int index_name(const gw_request_t *r, char *out, size_t len)
{
    const gw_upstream_t *u = r->match.route->upstream;
    if (u->cache_shared)
        return snprintf(out, len, "%s", u->label);
    return snprintf(out, len, "%s:%s", tenant_of(r), u->label);
}

/* On a Redis Cluster, the store and drop scripts touch an entry and its
 * index together, so both carry the index name as their {hash tag} and
 * land in one slot: cache-idx:{acme:user-service} and
 * cache:{acme:user-service}:acme:/api/v1/users/42. A single node keeps
 * the plain names. */
static int index_key(const gw_request_t *r, char *out, size_t len)
{
    char name[280];
    index_name(r, name, sizeof(name));
    return snprintf(out, len, gw_rc_active() ? "cache-idx:{%s}" : "cache-idx:%s", name);
}

static void count(gw_request_t *r, gw_counter_t c)
{
    gw_met_count(r->w->met, c);
}

/* ---- lookup stage ------------------------------------------------------- */

static void on_lookup(gw_request_t *r, const redisReply *reply, const char *error, void *data,
                      uint64_t waited_us)
{
    (void)data;
    (void)waited_us;
    if (reply != NULL && reply->type == REDIS_REPLY_STRING) {
        count(r, GW_CTR_CACHE_HIT);
        r->cache = "HIT";
        gw_respond_json(r, 200, reply->str, reply->len);
        return;
    }
    if (reply != NULL && reply->type == REDIS_REPLY_NIL) {
        count(r, GW_CTR_CACHE_MISS);
        r->cache = "MISS";
    } else {
        /* Stopped, frozen (timeout), refusing the password, or any other
         * error reply: also counted as a Redis error by worker/clients/redis.c. */
        (void)error;
        count(r, GW_CTR_CACHE_ERROR);
        r->cache = "ERROR";
    }
    gw_request_resume(r);
}

/* Whether a header value holds the token no-cache, in any case. */
static bool has_no_cache(const h2o_iovec_t *v)
{
    for (size_t i = 0; v != NULL && i + 8 <= v->len; i++)
        if (strncasecmp(v->base + i, "no-cache", 8) == 0)
            return true;
    return false;
}

/* The client asked for a fresh answer (RFC 9111 §5.2.1.4 no-cache; Pragma
 * for HTTP/1.0 clients). */
static bool wants_fresh(const gw_request_t *r)
{
    return has_no_cache(gw_request_header(r, H2O_STRLIT("cache-control"))) ||
           has_no_cache(gw_request_header(r, H2O_STRLIT("pragma")));
}

gw_stage_result_t gw_stage_cache_lookup(gw_request_t *r)
{
    if (!(r->match.route->flags & GW_RF_CACHE) || r->method != GW_METHOD_GET || !gw_redis_enabled(r->w))
        return GW_NEXT;
    h2o_req_t *req = r->req;
    const char *tenant = tenant_of(r);
    char tag[284] = "";
    if (gw_rc_active()) {
        char name[280];
        index_name(r, name, sizeof(name));
        snprintf(tag, sizeof(tag), "{%s}:", name);
    }
    size_t klen = 6 + strlen(tag) + strlen(tenant) + 1 + req->path.len;
    char *key = h2o_mem_alloc_pool(&req->pool, klen + 1);
    /* req->path is "<path>?<query>" as the client sent it (query included). */
    snprintf(key, klen + 1, "cache:%s%s:%.*s", tag, tenant, (int)req->path.len, req->path.base);
    r->cache_key = h2o_iovec_init(key, strlen(key));
    if (wants_fresh(r)) {
        count(r, GW_CTR_CACHE_BYPASS);
        r->cache = "BYPASS";
        return GW_NEXT;
    }
    const char *argv[] = {"GET", key};
    size_t argvlen[] = {3, r->cache_key.len};
    if (!gw_redis_pending_start(r, on_lookup, NULL, NULL, 2, argv, argvlen)) {
        /* not connected (stopped, or refused at connect): an error, not a choice */
        count(r, GW_CTR_CACHE_ERROR);
        r->cache = "ERROR";
        return GW_NEXT;
    }
    return GW_ASYNC;
}

/* ---- store -------------------------------------------------------------- */

static void on_stored(const redisReply *reply, const char *error, void *data)
{
    (void)reply;
    (void)error;
    (void)data; /* best effort: a failed store only means the next GET misses */
}

void gw_cache_store(gw_request_t *r, const char *body, size_t len)
{
    if (r->cache == NULL || (strcmp(r->cache, "MISS") != 0 && strcmp(r->cache, "BYPASS") != 0))
        return;
    if (len > (size_t)r->w->cfg->cache_max_body) {
        count(r, GW_CTR_CACHE_SKIPPED_SIZE);
        return;
    }
    char idx[300], ttl[24];
    int ilen = index_key(r, idx, sizeof(idx));
    int tlen = snprintf(ttl, sizeof(ttl), "%ld", r->w->cfg->cache_ttl);
    const char *argv[] = {"EVAL", store_script, "2", r->cache_key.base, idx, body, ttl};
    size_t argvlen[] = {4, sizeof(store_script) - 1, 1, r->cache_key.len, (size_t)ilen, len, (size_t)tlen};
    gw_redis_command(r->w, on_stored, NULL, 7, argv, argvlen);
}

/* ---- invalidation ------------------------------------------------------- */

static void on_dropped(gw_request_t *r, const redisReply *reply, const char *error, void *data,
                       uint64_t waited_us)
{
    gw_held_reply_t *held = data;
    (void)waited_us;
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
        gw_logf(GW_LOG_WARN, "cache invalidation failed: %s (entries expire after CACHE_TTL)",
                error ? error : "unexpected reply");
    gw_respond_json(r, 200, held->body, held->len);
    free(held);
}

bool gw_cache_invalidate_reply(gw_request_t *r, const char *body, size_t len)
{
    if (!(r->match.route->flags & GW_RF_INVALIDATE) || !gw_redis_enabled(r->w))
        return false;
    gw_held_reply_t *held = gw_held_reply_new(body, len);
    if (held == NULL)
        return false;
    char idx[300];
    int ilen = index_key(r, idx, sizeof(idx));
    const char *argv[] = {"EVAL", drop_script, "1", idx};
    size_t argvlen[] = {4, sizeof(drop_script) - 1, 1, (size_t)ilen};
    if (!gw_redis_pending_start(r, on_dropped, held, free, 4, argv, argvlen)) {
        free(held);
        return false; /* Redis down: nothing cached can be served either */
    }
    return true;
}
