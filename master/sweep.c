/*
 * Limiter region set-up and the cleanup sweep (see master/sweep.h).
 *
 * Every RATE_LIMIT_CLEANUP_INTERVAL seconds: entries idle for
 * RATE_LIMIT_IDLE_TIMEOUT are retired (workers can still resurrect them), a
 * grace period starts (shm/qsbr.h), and once every live worker has passed a
 * quiescent point the retired entries are freed for reuse. The master polls
 * the grace period from its loop, so a stuck worker delays the sweep (with a
 * warning naming it) but never the master. The table's memory is fixed: the
 * sweep only decides which slots are free, and a full table evicts instead.
 *
 * The breakers' tick moves an open breaker to half-open once its timeout has
 * passed, as the next request would: without it an idle service's breaker
 * would show open (and never log the move) until traffic came back.
 */
#include "master/sweep.h"

#include "core/hash.h"

#include <stdlib.h>

#include "master/master.h"
#include "shm/breaker.h"
#include "shm/limiter.h"
#include "shm/names.h"
#include "shm/qsbr.h"
#include "shm/breaker_log.h"
#include "core/log.h"

#define STATS_INTERVAL_MS 2000
#define GRACE_WARN_MS     10000

typedef struct gw_sweep {
    bool waiting; /* retired entries are waiting for a grace period */
    uint64_t target;
    uint64_t next_ms;
    uint64_t scheduled_ms; /* when next_ms was set, from interval_s */
    long interval_s;       /* the RATE_LIMIT_CLEANUP_INTERVAL next_ms was set with */
    uint64_t started_ms;
    uint64_t retired;
    bool warned;
    uint64_t next_stats_ms;
    uint64_t active;
} gw_sweep_t;

size_t gw_sweep_limiter_bytes(const gw_config_t *cfg)
{
    return gw_limiter_region_size((uint32_t)cfg->rate_limit_table_size);
}

size_t gw_sweep_breaker_bytes(void)
{
    return gw_breaker_region_size();
}

void gw_sweep_init_regions(gw_shm_t *shm, const gw_config_t *cfg)
{
    gw_limiter_init(gw_shm_region(shm, GW_SHM_REGION_LIMITER), (uint32_t)cfg->rate_limit_table_size,
                    gw_hash_seed());
}

/* The next sweep, RATE_LIMIT_CLEANUP_INTERVAL after `from`. */
static void schedule(gw_master_t *m, gw_sweep_t *s, uint64_t from)
{
    s->scheduled_ms = from;
    s->interval_s = m->cfg.rate_limit_cleanup_interval;
    s->next_ms = from + (uint64_t)s->interval_s * 1000;
}

static gw_sweep_t *state(gw_master_t *m)
{
    if (m->sweep == NULL) {
        m->sweep = calloc(1, sizeof(gw_sweep_t));
        if (m->sweep != NULL)
            schedule(m, m->sweep, gw_now_ms());
    }
    return m->sweep;
}

/* A reload changed the interval: count it from the last sweep, not from
 * whenever the old interval would have ended (up to a day away). */
static void follow_interval(gw_master_t *m, gw_sweep_t *s, uint64_t now)
{
    if (s->interval_s == m->cfg.rate_limit_cleanup_interval)
        return;
    long old = s->interval_s;
    schedule(m, s, s->scheduled_ms);
    gw_logf(GW_LOG_INFO, "rate limiter sweep interval %ld s -> %ld s; next sweep in %llu s", old,
            s->interval_s, (unsigned long long)(s->next_ms > now ? (s->next_ms - now) / 1000 : 0));
}

static void start_sweep(gw_master_t *m, gw_sweep_t *s, uint64_t now)
{
    void *table = gw_shm_region(&m->shm, GW_SHM_REGION_LIMITER);
    s->started_ms = now;
    s->retired =
        gw_limiter_sweep_retire(table, gw_now_us(), (uint64_t)m->cfg.rate_limit_idle_timeout * 1000000);
    s->warned = false;
    if (s->retired == 0) {
        uatomic_inc(&m->shm.hdr->sweeps_total);
        gw_logf(GW_LOG_INFO, "rate limiter sweep: no entry idle for %ld s", m->cfg.rate_limit_idle_timeout);
        schedule(m, s, now);
        return;
    }
    s->target = gw_qsbr_begin(&m->shm);
    s->waiting = true;
}

static void finish_sweep(gw_master_t *m, gw_sweep_t *s, uint64_t now)
{
    void *table = gw_shm_region(&m->shm, GW_SHM_REGION_LIMITER);
    size_t freed = gw_limiter_sweep_free(table);
    gw_limiter_stats_t st;
    gw_limiter_stats(table, &st);
    s->active = st.used;
    s->waiting = false;
    uatomic_inc(&m->shm.hdr->sweeps_total);
    uatomic_add(&m->shm.hdr->swept_total, freed);
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_INFO, "rate limiter sweep");
    gw_log_int(&l, "retired", (int64_t)s->retired);
    gw_log_int(&l, "freed", (int64_t)freed);
    gw_log_int(&l, "resurrected", (int64_t)(s->retired > freed ? s->retired - freed : 0));
    gw_log_int(&l, "active", (int64_t)st.used);
    gw_log_int(&l, "capacity", (int64_t)st.capacity);
    gw_log_int(&l, "took_ms", (int64_t)(now - s->started_ms));
    gw_log_end(&l);
    schedule(m, s, now);
}

void gw_sweep_breakers(gw_master_t *m, uint64_t now)
{
    gw_cb_params_t p = gw_breaker_params(&m->cfg);
    void *region = gw_shm_region(&m->shm, GW_SHM_REGION_BREAKER);
    /* Every service slot ever named: a service a reload dropped keeps its
     * breaker, and moving it on costs one CAS attempt. */
    unsigned n = gw_shm_nservices(&m->shm);
    for (unsigned s = 0; s < n; s++) {
        gw_cb_event_t ev;
        gw_breaker_tick(region, s, &p, now, &ev);
        gw_breaker_log_event(&m->shm, s, &ev, &p, NULL);
    }
}

void gw_sweep_tick(gw_master_t *m, uint64_t now)
{
    gw_sweep_breakers(m, now);
    gw_sweep_t *s = state(m);
    if (s == NULL || m->stopping)
        return;
    if (now >= s->next_stats_ms) {
        gw_limiter_stats_t st;
        gw_limiter_stats(gw_shm_region(&m->shm, GW_SHM_REGION_LIMITER), &st);
        s->active = st.used;
        s->next_stats_ms = now + STATS_INTERVAL_MS;
    }
    if (!s->waiting) {
        follow_interval(m, s, now);
        if (now >= s->next_ms)
            start_sweep(m, s, now);
        return;
    }
    int blocker = -1;
    if (gw_qsbr_poll(&m->shm, s->target, &blocker)) {
        finish_sweep(m, s, now);
    } else if (!s->warned && now - s->started_ms > GRACE_WARN_MS) {
        s->warned = true;
        gw_logf(GW_LOG_WARN,
                "rate limiter sweep waiting for worker slot %d (pid %llu) to pass a quiescent point", blocker,
                (unsigned long long)gw_shm_worker(&m->shm, (unsigned)blocker)->pid);
    }
}

uint64_t gw_sweep_active_limiters(const gw_master_t *m)
{
    return m->sweep ? m->sweep->active : 0;
}
