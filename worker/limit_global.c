/*
 * Global rate limits (RATE_LIMIT_SCOPE=global): post-paid leases.
 *
 * Each host may admit up to `lease` requests per key on credit; the debt
 * lives in the limiter region (shm/limiter.c, credit table) so all workers
 * of the host share it. When the debt reaches half the lease, one worker
 * (the settle claim is single-flight per host) charges it to the global
 * GCRA bucket in Redis with one atomic script (SETTLE_LUA below), which
 * grants as many of the owed tokens as the global bucket holds. A host
 * whose debt reaches the lease refuses until Redis has been charged, so
 * at any moment each host has admitted at most `lease` tokens that the
 * global bucket has not seen: admitted <= burst + rate*t + hosts*lease.
 *
 * Redis unavailable (this worker's connection down, or a settle failed):
 * the worker marks itself down in the region's mask; while any worker is
 * marked the host uses its local buckets alone. A marked worker probes
 * with the same script (want 0) at most once a second and unmarks itself
 * on success. The first mark and the last unmark are logged and counted.
 */
#include "worker/limit_global.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/limiter.h"
#include "core/log.h"
#include "worker/clients/redis.h"

#define SETTLE_HOLD_MS    1000 /* a settle claim lapses after this (worker died mid-call) */
#define SETTLE_RETRY_MAX  1000 /* ms: back-off cap after the global bucket refused */
#define PROBE_INTERVAL_MS 1000

/* KEYS[1] = rl:{...}; ARGV = interval_us, burst, want. Global GCRA state:
 * the theoretical arrival time in microseconds of Redis' clock (TIME, so
 * hosts' clocks do not matter); the key expires when the bucket is full
 * again. Returns {granted, ms until the next token when short}. */
static const char SETTLE_LUA[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local interval = tonumber(ARGV[1])\n"
    "local span = interval * tonumber(ARGV[2])\n"
    "local want = tonumber(ARGV[3])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or 0)\n"
    "if tat < now then tat = now end\n"
    "if tat - now > span then tat = now + span end\n"
    "local g = math.floor((now + span - tat) / interval)\n"
    "if g > want then g = want end\n"
    "if g > 0 then\n"
    "  tat = tat + g * interval\n"
    "  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)\n"
    "end\n"
    "local wait = 0\n"
    "if g < want then wait = math.ceil((tat + interval - now - span) / 1000) end\n"
    "return {g, wait}\n";

typedef struct {
    gw_worker_t *w;
    uint64_t seg_key;
    uint32_t want;
    uint32_t backoff_ms; /* time ⌈lease/2⌉ tokens take to refill: no use asking sooner */
    bool probe;
} settle_t;

/* Per worker: the probe of a marked-down worker (one at a time). */
static bool probe_in_flight;
static uint64_t next_probe_ms;

static void *region_of(gw_worker_t *w)
{
    return gw_shm_region(w->shm, GW_SHM_REGION_LIMITER);
}

uint32_t gw_limit_global_lease(const gw_config_t *cfg, long burst)
{
    long l = cfg->rate_limit_global_lease > 0 ? cfg->rate_limit_global_lease : burst / 10;
    if (l > burst)
        l = burst;
    return l < 1 ? 1 : (uint32_t)l;
}

size_t gw_limit_global_key(char *buf, size_t buflen, int kind, const void *bytes, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const uint8_t *p = bytes;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    int n = snprintf(buf, buflen, "rl:{%s:%016llx}", kind == GW_LIMIT_KIND_IP ? "ip" : "tenant",
                     (unsigned long long)h);
    return n < 0 ? 0 : (size_t)n;
}

static void mark(gw_worker_t *w, bool down, const char *why)
{
    uint64_t bit = 1ULL << (w->slot % 64);
    uint64_t before = gw_limiter_global_mark(region_of(w), w->slot, down);
    if (down && before == 0) {
        gw_met_count(w->met, GW_CTR_RLG_FALLBACKS);
        gw_log_line_t l;
        gw_log_begin(&l, GW_LOG_WARN, "global rate limits: redis unavailable, falling back to local limits");
        gw_log_str(&l, "reason", why);
        gw_log_end(&l);
    } else if (!down && before == bit) {
        gw_met_count(w->met, GW_CTR_RLG_RECOVERIES);
        gw_logf(GW_LOG_INFO, "global rate limits: redis reachable again, limits are global");
    }
}

static void count_result(gw_worker_t *w, uint32_t want, uint32_t granted)
{
    gw_counter_t c = granted >= want ? GW_CTR_RLG_SETTLE_GRANTED
                     : granted > 0   ? GW_CTR_RLG_SETTLE_PARTIAL
                                     : GW_CTR_RLG_SETTLE_DENIED;
    gw_met_count(w->met, c);
}

static void on_settled(const redisReply *reply, const char *error, void *data)
{
    settle_t *s = data;
    gw_worker_t *w = s->w;
    uint64_t now = gw_now_us();
    if (s->probe)
        probe_in_flight = false;
    if (error == NULL &&
        (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
         reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[1]->type != REDIS_REPLY_INTEGER))
        error = "unexpected reply to the settle script";
    if (error != NULL && w->draining) { /* the connection is being closed under us */
        free(s);
        return;
    }
    if (error != NULL) {
        gw_met_count(w->met, GW_CTR_RLG_SETTLE_ERROR);
        if (!s->probe)
            gw_limiter_settle_done(region_of(w), s->seg_key, 0, SETTLE_RETRY_MAX, now);
        next_probe_ms = gw_now_ms() + PROBE_INTERVAL_MS;
        mark(w, true, error);
        free(s);
        return;
    }
    long long g = reply->element[0]->integer, wait = reply->element[1]->integer;
    uint32_t granted = g < 0 ? 0 : (uint32_t)g;
    uint32_t retry = 0;
    if (granted < s->want) { /* the global bucket ran dry: wait for tokens */
        long long ms = wait > (long long)s->backoff_ms ? wait : (long long)s->backoff_ms;
        retry = ms < 1 ? 1 : ms > SETTLE_RETRY_MAX ? SETTLE_RETRY_MAX : (uint32_t)ms;
    }
    count_result(w, s->want, granted);
    if (s->probe) /* charged nothing and claimed nothing: only says Redis answers */
        mark(w, false, NULL);
    else
        gw_limiter_settle_done(region_of(w), s->seg_key, granted, retry, now);
    free(s);
}

/* One EVAL of SETTLE_LUA charging `want` tokens; false if it could not be sent. */
static bool send_settle(gw_request_t *r, int kind, const void *bytes, size_t len, uint64_t seg_key,
                        double rps, long burst, uint32_t want, bool probe)
{
    settle_t *s = malloc(sizeof(*s));
    if (s == NULL)
        return false;
    uint32_t half = (gw_limit_global_lease(r->w->cfg, burst) + 1) / 2;
    double backoff = half * 1000.0 / rps;
    *s = (settle_t){.w = r->w,
                    .seg_key = seg_key,
                    .want = want,
                    .backoff_ms = backoff > SETTLE_RETRY_MAX ? SETTLE_RETRY_MAX : (uint32_t)backoff,
                    .probe = probe};
    char key[64], interval[24], bur[24], wnt[16];
    size_t klen = gw_limit_global_key(key, sizeof(key), kind, bytes, len);
    double t = 1e6 / rps;
    snprintf(interval, sizeof(interval), "%.0f", t < 1 ? 1.0 : t + 0.4999);
    snprintf(bur, sizeof(bur), "%ld", burst);
    snprintf(wnt, sizeof(wnt), "%u", want);
    /* EVAL script 1 key args...: the cluster client routes by argv[3]. */
    const char *argv[] = {"EVAL", SETTLE_LUA, "1", key, interval, bur, wnt};
    size_t argvlen[] = {4, sizeof(SETTLE_LUA) - 1, 1, klen, strlen(interval), strlen(bur), strlen(wnt)};
    if (gw_redis_command(r->w, on_settled, s, 7, argv, argvlen) == NULL) {
        free(s);
        return false;
    }
    return true;
}

/* Fallback: a marked worker whose connection is back probes Redis. */
static void maybe_probe(gw_request_t *r, int kind, const void *bytes, size_t len, uint64_t seg_key,
                        double rps, long burst)
{
    gw_worker_t *w = r->w;
    uint64_t mine = 1ULL << (w->slot % 64);
    if (!(gw_limiter_global_down(region_of(w)) & mine) || probe_in_flight || gw_now_ms() < next_probe_ms)
        return;
    next_probe_ms = gw_now_ms() + PROBE_INTERVAL_MS;
    probe_in_flight = send_settle(r, kind, bytes, len, seg_key, rps, burst, 0, true);
}

bool gw_limit_global_admit(gw_request_t *r, int kind, const void *bytes, size_t len, uint64_t seg_key,
                           double rps, long burst)
{
    gw_worker_t *w = r->w;
    void *region = region_of(w);
    if (!gw_redis_up(w)) {
        /* Still connecting after start: local limits, no fallback yet. */
        const char *why = gw_redis_last_error(w);
        if (why[0] != '\0')
            mark(w, true, why);
        return true;
    }
    if (gw_limiter_global_down(region) != 0) {
        maybe_probe(r, kind, bytes, len, seg_key, rps, burst);
        return true;
    }
    uint32_t lease = gw_limit_global_lease(w->cfg, burst), debt, want;
    uint64_t now = gw_now_us();
    bool ok = gw_limiter_credit_take(region, seg_key, lease, now, &debt);
    if (gw_limiter_settle_claim(region, seg_key, (lease + 1) / 2, SETTLE_HOLD_MS, now, &want) &&
        !send_settle(r, kind, bytes, len, seg_key, rps, burst, want, false)) {
        gw_limiter_settle_done(region, seg_key, 0, 0, now);
        mark(w, true, "redis command could not be sent");
    }
    return ok;
}
