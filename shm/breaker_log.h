/*
 * Circuit-breaker glue used by both processes (shm/breaker_log.c): the
 * breaker parameters of a configuration, and the one log line of a
 * transition. Callers: worker/breaker_gate.c (acquire, record, reset) and
 * master/sweep.c (the open → half-open tick).
 */
#ifndef GW_SHM_BREAKER_LOG_H
#define GW_SHM_BREAKER_LOG_H

#include "core/config.h"
#include "core/log.h"
#include "core/route.h"
#include "shm/breaker.h"
#include "shm/segment.h"

/* The breaker parameters of a configuration. */
gw_cb_params_t gw_breaker_params(const gw_config_t *cfg);

/* Log `ev` if it happened: one JSON line "circuit breaker state change"
 * (warn when the breaker opens, info otherwise) with service (the name of
 * service slot `slot` in the segment's names table), from, to, reason and
 * the counts that caused it. `by` (may be NULL): who reset it. */
void gw_breaker_log_event(const gw_shm_t *shm, unsigned slot, const gw_cb_event_t *ev,
                          const gw_cb_params_t *p, const char *by);

#endif
