/*
 * Shared circuit breakers (see shm/breaker.h for the word layouts and the
 * transitions). Everything a transition decides (state, generation, probe
 * counts, deadline) lives in the one state word, so every transition is a
 * single CAS: a process killed at any instruction leaves the breaker either
 * in the state before or in the state after, never in between. The other
 * words are the closed window's counts (tagged with the generation, so stale
 * counts read as zero) and statistics (opens_total, opened_wall_ms), which
 * a killed process can at worst leave one opening behind. No lock is held.
 * The caller whose CAS made a transition gets a gw_cb_event_t describing it
 * (filled from the word it replaced), so exactly one process logs each.
 */
#include "shm/breaker.h"

#include <time.h>
#include <urcu/system.h>
#include <urcu/uatomic.h>

typedef struct {
    uint64_t state;
    uint64_t counts;
    uint64_t opens_total;
    uint64_t opened_wall_ms;
} __attribute__((aligned(128))) breaker_t;

/* state word: [state:2][generation:14][admitted:10][succeeded:10][deadline:28] */
#define GEN_BITS 14
#define GEN_MASK ((1ULL << GEN_BITS) - 1)
#define PRB_MASK 0x3ffULL
#define DL_BITS  28
#define DL_MASK  ((1ULL << DL_BITS) - 1)

#define ST(s)  ((gw_cb_state_t)((s) >> 62))
#define GEN(s) (((s) >> 48) & GEN_MASK)
#define ADM(s) (((s) >> 38) & PRB_MASK)
#define SUC(s) (((s) >> 28) & PRB_MASK)
#define DL(s)  ((s)&DL_MASK)

static inline uint64_t mk(gw_cb_state_t st, uint64_t gen, uint64_t adm, uint64_t suc, uint64_t deadline_ms)
{
    return ((uint64_t)st << 62) | ((gen & GEN_MASK) << 48) | ((adm & PRB_MASK) << 38) |
           ((suc & PRB_MASK) << 28) | (deadline_ms & DL_MASK);
}

/* A reader's clock may lag the writer's: it read now_ms, then was
 * descheduled while another worker opened the breaker. */
#define CLOCK_SLACK_MS 60000

/* Milliseconds left until the deadline in `s`, 0 once it has passed. The
 * deadline is kept modulo 2^28 ms (74 h): it was set at most open_timeout
 * ahead of its writer's clock, so a distance beyond that (plus the slack
 * for a lagging reader) is a deadline long past (wrapped, or from a much
 * longer CB_OPEN_TIMEOUT before a reload) and counts as passed. A breaker
 * left alone for a multiple of 74 h can thus look pending for at most one
 * more open_timeout + slack, never longer. */
static inline uint64_t left_ms(uint64_t s, uint64_t now_ms, uint32_t open_timeout_ms)
{
    uint64_t left = (DL(s) - now_ms) & DL_MASK;
    if (left > (uint64_t)open_timeout_ms + CLOCK_SLACK_MS)
        return 0;
    return left < open_timeout_ms ? left : open_timeout_ms;
}

static inline uint32_t half_open_max(const gw_cb_params_t *p)
{
    return p->half_open_max < PRB_MASK ? p->half_open_max : (uint32_t)PRB_MASK;
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

/* CAS the state from `from` to state `to` of the next generation, running
 * until deadline_ms; true if we did it, and then `ev` (if any) describes the
 * move for our caller alone to log. The statistics follow the CAS: a
 * process killed in between loses one count, it blocks nothing. */
static bool transition(breaker_t *b, uint64_t from, gw_cb_state_t to, uint64_t deadline_ms,
                       const char *reason, gw_cb_event_t *ev)
{
    if (uatomic_cmpxchg(&b->state, from, mk(to, GEN(from) + 1, 0, 0, deadline_ms)) != from)
        return false;
    if (to == GW_CB_OPEN) {
        uatomic_set(&b->opened_wall_ms, wall_ms());
        uatomic_inc(&b->opens_total);
    }
    if (ev != NULL)
        *ev = (gw_cb_event_t){.happened = true,
                              .from = ST(from),
                              .to = to,
                              .reason = reason,
                              .probes_admitted = (uint32_t)ADM(from),
                              .probes_succeeded = (uint32_t)SUC(from)};
    return true;
}

static void no_event(gw_cb_event_t *ev)
{
    if (ev != NULL)
        ev->happened = false;
}

/* The open (or half-open) period that ends at the deadline in `st` is over:
 * start a half-open period. */
static bool start_half_open(breaker_t *b, uint64_t st, const gw_cb_params_t *p, uint64_t now_ms,
                            gw_cb_event_t *ev)
{
    const char *why = ST(st) == GW_CB_OPEN ? "open_timeout" : "probes_lost";
    if (!transition(b, st, GW_CB_HALF_OPEN, now_ms + p->open_timeout_ms, why, ev))
        return false;
    if (ev != NULL)
        ev->open_timeout_ms = p->open_timeout_ms;
    return true;
}

static uint32_t seconds_until(uint64_t left)
{
    uint32_t s = (uint32_t)((left + 999) / 1000);
    return s ? s : 1;
}

gw_cb_ticket_t gw_breaker_acquire(void *region, unsigned s, const gw_cb_params_t *p, uint64_t now_ms,
                                  gw_cb_event_t *ev)
{
    breaker_t *b = at(region, s);
    no_event(ev);
    for (;;) {
        uint64_t st = uatomic_read(&b->state);
        uint64_t gen = GEN(st), left = left_ms(st, now_ms, p->open_timeout_ms);
        switch (ST(st)) {
        case GW_CB_CLOSED:
            return (gw_cb_ticket_t){.allowed = true, .token = gen};
        case GW_CB_OPEN:
            if (left > 0)
                return (gw_cb_ticket_t){.retry_after_s = seconds_until(left)};
            start_half_open(b, st, p, now_ms, ev);
            continue;
        case GW_CB_HALF_OPEN:
        default:
            if (ADM(st) < half_open_max(p)) {
                uint64_t next = mk(GW_CB_HALF_OPEN, gen, ADM(st) + 1, SUC(st), DL(st));
                if (uatomic_cmpxchg(&b->state, st, next) == st)
                    return (gw_cb_ticket_t){.allowed = true, .probe = true, .token = gen};
                continue;
            }
            /* All probes are out. If one never reported (its worker died),
             * start a fresh half-open period once the deadline passes. */
            if (left == 0) {
                start_half_open(b, st, p, now_ms, ev);
                continue;
            }
            return (gw_cb_ticket_t){.retry_after_s = 1};
        }
    }
}

/* Count one closed-state outcome in the current window; trip if due. */
static void record_closed(breaker_t *b, uint64_t st, const gw_cb_params_t *p, bool failure, uint64_t now_ms,
                          gw_cb_event_t *ev)
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
    if (failure && req >= p->min_requests && (double)fail >= p->failure_ratio * (double)req - 1e-9 &&
        transition(b, st, GW_CB_OPEN, now_ms + p->open_timeout_ms, "failure_ratio", ev) && ev != NULL) {
        ev->requests = (uint32_t)req;
        ev->failures = (uint32_t)fail;
    }
}

void gw_breaker_record(void *region, unsigned s, const gw_cb_params_t *p, const gw_cb_ticket_t *t,
                       bool failure, uint64_t now_ms, gw_cb_event_t *ev)
{
    breaker_t *b = at(region, s);
    no_event(ev);
    if (!t->allowed)
        return;
    for (;;) {
        uint64_t st = uatomic_read(&b->state);
        if (GEN(st) != (t->token & GEN_MASK))
            return; /* admitted under a state that has since changed */
        if (ST(st) == GW_CB_CLOSED) {
            record_closed(b, st, p, failure, now_ms, ev);
            return;
        }
        if (ST(st) != GW_CB_HALF_OPEN || !t->probe)
            return;
        if (failure) {
            if (transition(b, st, GW_CB_OPEN, now_ms + p->open_timeout_ms, "probe_failed", ev))
                return;
            continue;
        }
        if (SUC(st) + 1 >= half_open_max(p)) {
            if (transition(b, st, GW_CB_CLOSED, 0, "probes_succeeded", ev)) {
                if (ev != NULL)
                    ev->probes_succeeded++; /* this one */
                return;
            }
            continue;
        }
        if (uatomic_cmpxchg(&b->state, st, mk(GW_CB_HALF_OPEN, GEN(st), ADM(st), SUC(st) + 1, DL(st))) == st)
            return;
    }
}

gw_cb_state_t gw_breaker_state(const void *region, unsigned s, uint64_t now_ms)
{
    (void)now_ms;
    return ST(uatomic_read(&at(region, s)->state));
}

void gw_breaker_tick(void *region, unsigned s, const gw_cb_params_t *p, uint64_t now_ms, gw_cb_event_t *ev)
{
    breaker_t *b = at(region, s);
    uint64_t st = uatomic_read(&b->state);
    no_event(ev);
    if (ST(st) == GW_CB_OPEN && left_ms(st, now_ms, p->open_timeout_ms) == 0)
        start_half_open(b, st, p, now_ms, ev);
}

void gw_breaker_reset(void *region, unsigned s, gw_cb_event_t *ev)
{
    breaker_t *b = at(region, s);
    for (;;) {
        uint64_t st = uatomic_read(&b->state);
        uint64_t c = uatomic_read(&b->counts);
        if (!transition(b, st, GW_CB_CLOSED, 0, "reset", ev))
            continue;
        if (ev != NULL && ST(st) == GW_CB_CLOSED && (c >> 52) == (GEN(st) & 0xfff)) {
            ev->requests = (uint32_t)((c >> 16) & 0xffff);
            ev->failures = (uint32_t)(c & 0xffff);
        }
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
