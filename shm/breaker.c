/*
 * Shared circuit breakers (see shm/breaker.h for the word layouts and the
 * transitions). Every change is a CAS on one word; the generation in the
 * state word orders everything else, so no lock is ever held.
 */
#include "shm/breaker.h"

#include <time.h>
#include <urcu/system.h>
#include <urcu/uatomic.h>

typedef struct {
    uint64_t state;
    uint64_t counts;
    uint64_t deadline;
    uint64_t opens_total;
    uint64_t opened_wall_ms;
} __attribute__((aligned(128))) breaker_t;

#define ST(s)   ((gw_cb_state_t)((s) >> 62))
#define GEN(s)  (((s) >> 32) & 0x3fffffffULL)
#define ADM(s)  (((s) >> 16) & 0xffffULL)
#define SUC(s)  ((s)&0xffffULL)
#define MS_MASK ((1ULL << 48) - 1)

static inline uint64_t mk(gw_cb_state_t st, uint64_t gen, uint64_t adm, uint64_t suc)
{
    return ((uint64_t)st << 62) | ((gen & 0x3fffffffULL) << 32) | ((adm & 0xffff) << 16) | (suc & 0xffff);
}

static inline uint64_t mk_deadline(uint64_t gen, uint64_t ms)
{
    return ((gen & 0xffff) << 48) | (ms & MS_MASK);
}

static inline bool deadline_of(uint64_t d, uint64_t gen, uint64_t *ms)
{
    *ms = d & MS_MASK;
    return (d >> 48) == (gen & 0xffff);
}

static inline uint64_t mk_counts(uint64_t gen, uint64_t win, uint64_t req, uint64_t fail)
{
    return ((gen & 0xfff) << 52) | ((win & 0xfffff) << 32) | (req << 16) | fail;
}

static breaker_t *at(const void *region, unsigned s)
{
    return (breaker_t *)region + (s % GW_BREAKER_MAX);
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

size_t gw_breaker_region_size(void)
{
    return GW_BREAKER_MAX * sizeof(breaker_t);
}

/* CAS the state from `from` to a new generation in `to`; true if we did it.
 * The winner publishes the deadline the new state runs until. */
static bool transition(breaker_t *b, uint64_t from, gw_cb_state_t to, uint64_t deadline_ms)
{
    uint64_t gen = GEN(from) + 1;
    if (uatomic_cmpxchg(&b->state, from, mk(to, gen, 0, 0)) != from)
        return false;
    uatomic_set(&b->deadline, mk_deadline(gen, deadline_ms));
    if (to == GW_CB_OPEN) {
        uatomic_set(&b->opened_wall_ms, wall_ms());
        uatomic_inc(&b->opens_total);
    }
    return true;
}

static uint32_t seconds_until(uint64_t deadline_ms, uint64_t now_ms)
{
    uint64_t left = deadline_ms > now_ms ? deadline_ms - now_ms : 0;
    uint32_t s = (uint32_t)((left + 999) / 1000);
    return s ? s : 1;
}

gw_cb_ticket_t gw_breaker_acquire(void *region, unsigned s, const gw_cb_params_t *p, uint64_t now_ms)
{
    breaker_t *b = at(region, s);
    for (;;) {
        uint64_t st = uatomic_read(&b->state);
        uint64_t gen = GEN(st), dl;
        bool known = deadline_of(uatomic_read(&b->deadline), gen, &dl);
        switch (ST(st)) {
        case GW_CB_CLOSED:
            return (gw_cb_ticket_t){.allowed = true, .token = gen};
        case GW_CB_OPEN:
            if (!known) /* just opened; the winner is publishing the deadline */
                return (gw_cb_ticket_t){.retry_after_s = seconds_until(now_ms + p->open_timeout_ms, now_ms)};
            if (now_ms < dl)
                return (gw_cb_ticket_t){.retry_after_s = seconds_until(dl, now_ms)};
            transition(b, st, GW_CB_HALF_OPEN, now_ms + p->open_timeout_ms);
            continue;
        case GW_CB_HALF_OPEN:
        default:
            if (ADM(st) < p->half_open_max) {
                uint64_t next = mk(GW_CB_HALF_OPEN, gen, ADM(st) + 1, SUC(st));
                if (uatomic_cmpxchg(&b->state, st, next) == st)
                    return (gw_cb_ticket_t){.allowed = true, .probe = true, .token = gen};
                continue;
            }
            /* All probes are out. If one never reported (its worker died),
             * start a fresh half-open period once the deadline passes. */
            if (known && now_ms >= dl) {
                transition(b, st, GW_CB_HALF_OPEN, now_ms + p->open_timeout_ms);
                continue;
            }
            return (gw_cb_ticket_t){.retry_after_s = 1};
        }
    }
}

/* Count one closed-state outcome in the current window; trip if due. */
static void record_closed(breaker_t *b, uint64_t st, const gw_cb_params_t *p, bool failure, uint64_t now_ms)
{
    uint64_t gen = GEN(st);
    uint64_t win = (now_ms / (p->interval_ms ? p->interval_ms : 1)) & 0xfffff;
    uint64_t c, req, fail;
    do {
        c = uatomic_read(&b->counts);
        bool current = (c >> 52) == (gen & 0xfff) && ((c >> 32) & 0xfffff) == win;
        req = current ? (c >> 16) & 0xffff : 0;
        fail = current ? c & 0xffff : 0;
        if (req == 0xffff) { /* keep the ratio, make room */
            req /= 2;
            fail /= 2;
        }
        req++;
        fail += failure;
    } while (uatomic_cmpxchg(&b->counts, c, mk_counts(gen, win, req, fail)) != c);
    if (failure && req >= p->min_requests && (double)fail >= p->failure_ratio * (double)req - 1e-9)
        transition(b, st, GW_CB_OPEN, now_ms + p->open_timeout_ms);
}

void gw_breaker_record(void *region, unsigned s, const gw_cb_params_t *p, const gw_cb_ticket_t *t,
                       bool failure, uint64_t now_ms)
{
    breaker_t *b = at(region, s);
    if (!t->allowed)
        return;
    for (;;) {
        uint64_t st = uatomic_read(&b->state);
        if (GEN(st) != (t->token & 0x3fffffffULL))
            return; /* admitted under a state that has since changed */
        if (ST(st) == GW_CB_CLOSED) {
            record_closed(b, st, p, failure, now_ms);
            return;
        }
        if (ST(st) != GW_CB_HALF_OPEN || !t->probe)
            return;
        if (failure) {
            if (transition(b, st, GW_CB_OPEN, now_ms + p->open_timeout_ms))
                return;
            continue;
        }
        if (SUC(st) + 1 >= p->half_open_max) {
            if (transition(b, st, GW_CB_CLOSED, 0))
                return;
            continue;
        }
        if (uatomic_cmpxchg(&b->state, st, mk(GW_CB_HALF_OPEN, GEN(st), ADM(st), SUC(st) + 1)) == st)
            return;
    }
}

gw_cb_state_t gw_breaker_state(const void *region, unsigned s, uint64_t now_ms)
{
    (void)now_ms;
    return ST(uatomic_read(&at(region, s)->state));
}

void gw_breaker_reset(void *region, unsigned s)
{
    breaker_t *b = at(region, s);
    for (;;) {
        uint64_t st = uatomic_read(&b->state);
        if (transition(b, st, GW_CB_CLOSED, 0))
            return;
    }
}

void gw_breaker_snapshot(const void *region, unsigned s, uint64_t now_ms, gw_cb_snapshot_t *out)
{
    const breaker_t *b = at(region, s);
    uint64_t st = uatomic_read(&b->state);
    uint64_t c = uatomic_read(&b->counts);
    (void)now_ms;
    *out = (gw_cb_snapshot_t){.state = ST(st),
                              .opened_at_ms = uatomic_read(&b->opened_wall_ms),
                              .opens_total = uatomic_read(&b->opens_total)};
    if (ST(st) == GW_CB_CLOSED && (c >> 52) == (GEN(st) & 0xfff)) {
        out->requests = (c >> 16) & 0xffff;
        out->failures = c & 0xffff;
    }
    if (ST(st) == GW_CB_HALF_OPEN)
        out->half_open_in_flight = (uint32_t)(ADM(st) - SUC(st));
}
