/*
 * Circuit breakers in the shared segment: one per backend service, shared by
 * every worker of every generation, so states and counts survive a HUP.
 *
 * Each breaker is a few words in its own cache line:
 *   state    [state:2][generation:14][probes admitted:10][probes succeeded:10]
 *            [deadline:28]: everything a transition decides, changed by one
 *            CAS. The deadline (monotonic ms modulo 2^28) ends the open
 *            period, or, half-open, the wait for probes that never report.
 *   counts   [generation:12][window:20][requests:16][failures:16] of the
 *            current CB_INTERVAL window while closed
 *   opens_total, opened_wall_ms: statistics, written after the CAS
 * (CB_HALF_OPEN_MAX_REQUESTS is at most 1000, so the probe counts fit.)
 * Every transition bumps the generation, so the outcome of a call admitted
 * under an older state is ignored (it cannot close or reopen the breaker a
 * second time) and stale counts are read as zero. Since a transition is a
 * single CAS, a process killed at any instruction leaves the old state or
 * the new one: an open breaker always carries the deadline that ends it
 * (tests/unit/test_breaker.c kills a process at every instruction of a
 * breaker's whole cycle).
 *
 * Transitions (docs/API.md, Status mapping): closed → open when the window holds at least
 * min_requests calls with failures/requests >= failure_ratio; open → half-open
 * once open_timeout has passed, by whichever comes first: a request
 * (gw_breaker_acquire) or the master's tick (gw_breaker_tick, so the state
 * shown moves on with no traffic); half-open admits exactly half_open_max
 * probes across all workers: all succeed → closed, one fails → open. A probe
 * whose worker died is given up after another open_timeout (a new half-open
 * period, started by a request only: the master never cuts a slow probe).
 * The call whose CAS made a transition, and only it, gets it back in a
 * gw_cb_event_t, so each transition is logged once across all processes.
 * Callers: worker/breaker_gate.c, worker/admin.c (through breaker_gate),
 * master/sweep.c (the tick), master/views_metrics.c.
 */
#ifndef GW_SHM_BREAKER_H
#define GW_SHM_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/route.h"

/* One breaker per service slot (shm/names.h): `s` below is a slot. */
#define GW_BREAKER_MAX GW_SVC_MAX

typedef enum { GW_CB_CLOSED = 0, GW_CB_OPEN = 1, GW_CB_HALF_OPEN = 2 } gw_cb_state_t;

typedef struct {
    double failure_ratio;
    uint32_t min_requests;
    uint32_t interval_ms;
    uint32_t open_timeout_ms;
    uint32_t half_open_max;
} gw_cb_params_t;

/* What gw_breaker_acquire decided; travels with the backend call. */
typedef struct {
    bool allowed;
    bool probe;             /* admitted as a half-open probe */
    uint64_t token;         /* generation at admission */
    uint32_t retry_after_s; /* when refused */
} gw_cb_ticket_t;

/* A transition made by this call (its CAS won); `happened` false if none.
 * A call makes at most one (open_timeout_ms >= 1). */
typedef struct {
    bool happened;
    gw_cb_state_t from, to;
    const char *reason;          /* "failure_ratio", "open_timeout", "probes_succeeded",
                                    "probe_failed", "probes_lost", "reset" (static strings) */
    uint32_t requests, failures; /* the closed window that tripped it (or was reset) */
    uint32_t probes_admitted;    /* half-open: probes admitted / succeeded so far */
    uint32_t probes_succeeded;
    uint32_t open_timeout_ms; /* the period that ended (open → half-open, probes lost) */
} gw_cb_event_t;

typedef struct {
    gw_cb_state_t state;
    uint64_t requests, failures; /* current closed window */
    uint64_t opened_at_ms;       /* wall clock of the last opening, 0 if never */
    uint32_t half_open_in_flight;
    uint64_t opens_total;
} gw_cb_snapshot_t;

size_t gw_breaker_region_size(void);

/* Ask to call service `s` at monotonic time now_ms. `ev` (may be NULL)
 * receives the transition this call made, if any. */
gw_cb_ticket_t gw_breaker_acquire(void *region, unsigned s, const gw_cb_params_t *p, uint64_t now_ms,
                                  gw_cb_event_t *ev);

/* Record the outcome of a call admitted with `t`; `ev` as above. */
void gw_breaker_record(void *region, unsigned s, const gw_cb_params_t *p, const gw_cb_ticket_t *t,
                       bool failure, uint64_t now_ms, gw_cb_event_t *ev);

/* The master's tick: one CAS attempt, never a loop, moving an open breaker
 * whose open_timeout has passed to half-open (the same move the next request
 * would make). A lost race means another process made a move: nothing to do.
 * Half-open breakers are left alone, so probes in flight are never cut short
 * and their accounting (admitted/succeeded) stays the workers'. */
void gw_breaker_tick(void *region, unsigned s, const gw_cb_params_t *p, uint64_t now_ms, gw_cb_event_t *ev);

gw_cb_state_t gw_breaker_state(const void *region, unsigned s, uint64_t now_ms);

/* Operator reset (POST /admin/breakers/{service}/reset): closed, counts zero.
 * Always a transition (reason "reset"), from whatever state it was in. */
void gw_breaker_reset(void *region, unsigned s, gw_cb_event_t *ev);

void gw_breaker_snapshot(const void *region, unsigned s, uint64_t now_ms, gw_cb_snapshot_t *out);

#endif
