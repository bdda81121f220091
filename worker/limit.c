/*
 * Rate-limit stages: a token bucket per client IP (before authentication,
 * so it also shields the auth path) and, when configured, per tenant (after
 * authentication, from the token's tenant_id). Buckets live in the shared
 * limiter table (shm/limiter.c), so every worker draws on the same tokens.
 * A 429 carries Retry-After and X-RateLimit-*; allowed requests carry the
 * X-RateLimit-* of the tighter bucket on their 2xx response.
 *
 * RATE_LIMIT_SCOPE=global adds a second check after the host's bucket has
 * admitted a request: the host's credit against the limit shared by every
 * host through Redis (worker/limit_global.c). The host's own bucket stays
 * the fast path and the cap of one host; local scope is unchanged.
 */
#include "worker/limit.h"

#include <stdio.h>
#include <string.h>

#include "core/tenant_limits.h"
#include "shm/limiter.h"
#include "core/log.h"
#include "worker/limit_global.h"
#include "worker/respond.h"

#define KEY_KIND_IP     GW_LIMIT_KIND_IP
#define KEY_KIND_TENANT GW_LIMIT_KIND_TENANT

/* What a limit is keyed on: the bytes the Redis key is derived from. */
typedef struct {
    int kind;
    const void *bytes;
    size_t len;
} limit_subject_t;

static void *table(const gw_request_t *r)
{
    return gw_shm_region(r->w->shm, GW_SHM_REGION_LIMITER);
}

/* Keep the headers of whichever bucket has the fewest tokens left. */
static void note_headers(gw_request_t *r, const gw_limit_result_t *res)
{
    if (r->rl_limit == 0 || (long)res->remaining < r->rl_remaining) {
        r->rl_limit = res->limit;
        r->rl_remaining = res->remaining;
        r->rl_reset = res->reset_s;
    }
}

static gw_stage_result_t decide(gw_request_t *r, uint64_t key, double rps, long burst, const char *scope,
                                const limit_subject_t *sub)
{
    uint64_t t0 = gw_now_us();
    gw_limit_result_t res = gw_limiter_take(table(r), key, rps, (uint32_t)burst, gw_now_us());
    if (res.allowed && r->w->cfg->rate_limit_global &&
        !gw_limit_global_admit(r, sub->kind, sub->bytes, sub->len, key, rps, burst)) {
        gw_limiter_untake(table(r), key, rps, gw_now_us());
        res.allowed = false; /* other hosts used the shared tokens */
        res.retry_after_s = 1;
    }
    r->t_limit_us += (uint32_t)(gw_now_us() - t0);
    gw_metrics_slot_t *met = r->w->met;
    if (res.evicted)
        gw_met_count(met, GW_CTR_RATELIMIT_EVICTIONS);
    if (res.allowed) {
        gw_met_count(met, GW_CTR_RATELIMIT_ALLOWED);
        note_headers(r, &res);
        return GW_NEXT;
    }
    gw_met_count(met, GW_CTR_RATELIMIT_LIMITED);
    r->rl_limit = res.limit;
    r->rl_remaining = 0;
    r->rl_reset = res.reset_s;
    char retry[16];
    int n = snprintf(retry, sizeof(retry), "%u", res.retry_after_s);
    gw_respond_header(r, "retry-after", retry, (size_t)n);
    if (gw_log_enabled(GW_LOG_DEBUG)) {
        gw_log_line_t l;
        gw_log_begin(&l, GW_LOG_DEBUG, "rate limited");
        gw_log_str(&l, "scope", scope);
        gw_log_str(&l, "ip", r->ip);
        gw_log_end(&l);
    }
    gw_respond_error(r, 429, NULL, "rate limit exceeded");
    return GW_DONE;
}

gw_stage_result_t gw_stage_limit_ip(gw_request_t *r)
{
    const gw_config_t *cfg = r->w->cfg;
    if (!cfg->rate_limit_enabled || (r->match.route->flags & GW_RF_NO_LIMIT))
        return GW_NEXT;
    uint64_t key = gw_limiter_key(table(r), r->ip_bytes, sizeof(r->ip_bytes), KEY_KIND_IP);
    limit_subject_t sub = {KEY_KIND_IP, r->ip_bytes, sizeof(r->ip_bytes)};
    return decide(r, key, cfg->rate_limit_rps, cfg->rate_limit_burst, "ip", &sub);
}

gw_stage_result_t gw_stage_limit_tenant(gw_request_t *r)
{
    const gw_config_t *cfg = r->w->cfg;
    if (!cfg->rate_limit_enabled || (r->match.route->flags & GW_RF_NO_LIMIT) || r->identity == NULL ||
        r->identity->claims.tenant_id[0] == '\0')
        return GW_NEXT;
    const gw_tenant_limit_t *o = gw_tenant_limits_find(&cfg->tenant_limits, r->identity->claims.tenant_id);
    double rps = o ? o->rps : cfg->rate_limit_tenant_rps;
    long burst = o ? o->burst : cfg->rate_limit_tenant_burst;
    if (rps <= 0)
        return GW_NEXT; /* per-tenant limiting off and no override for this tenant */
    const char *t = r->identity->claims.tenant_id;
    uint64_t key = gw_limiter_key(table(r), t, strlen(t), KEY_KIND_TENANT);
    limit_subject_t sub = {KEY_KIND_TENANT, t, strlen(t)};
    return decide(r, key, rps, burst, "tenant", &sub);
}
