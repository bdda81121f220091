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
 * Transitions (SPEC §4): closed → open when the window holds at least
 * min_requests calls with failures/requests >= failure_ratio; open → half-open
 * on the first request after open_timeout; half-open admits exactly
 * half_open_max probes across all workers: all succeed → closed, one fails →
 * open. A probe whose worker died is given up after another open_timeout.
 * Callers: worker/breaker_gate.c, worker/admin.c, master/views_metrics.c.
 */
#ifndef GW_SHM_BREAKER_H
#define GW_SHM_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_BREAKER_MAX 8

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

typedef struct {
    gw_cb_state_t state;
    uint64_t requests, failures; /* current closed window */
    uint64_t opened_at_ms;       /* wall clock of the last opening, 0 if never */
    uint32_t half_open_in_flight;
    uint64_t opens_total;
} gw_cb_snapshot_t;

size_t gw_breaker_region_size(void);

/* Ask to call service `s` at monotonic time now_ms. */
gw_cb_ticket_t gw_breaker_acquire(void *region, unsigned s, const gw_cb_params_t *p, uint64_t now_ms);

/* Record the outcome of a call admitted with `t`. */
void gw_breaker_record(void *region, unsigned s, const gw_cb_params_t *p, const gw_cb_ticket_t *t,
                       bool failure, uint64_t now_ms);

gw_cb_state_t gw_breaker_state(const void *region, unsigned s, uint64_t now_ms);

/* Operator reset (POST /admin/breakers/{service}/reset): closed, counts zero. */
void gw_breaker_reset(void *region, unsigned s);

void gw_breaker_snapshot(const void *region, unsigned s, uint64_t now_ms, gw_cb_snapshot_t *out);

#endif
