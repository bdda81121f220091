/*
 * The circuit-breaker gate (worker/breaker_gate.c): a pipeline stage that
 * fails fast while a backend's breaker is open, the hook that records each
 * backend call's outcome, the operator reset, and the one log line of a
 * transition (also used by the master's tick, master/sweep.c).
 */
#ifndef GW_BREAKER_GATE_H
#define GW_BREAKER_GATE_H

#include <stdbool.h>

#include "master/config.h"
#include "shm/breaker.h"
#include "worker/request.h"

gw_stage_result_t gw_stage_breaker(gw_request_t *r);

/* Record the outcome of a backend call made with `ticket`. */
void gw_breaker_gate_record(gw_worker_t *w, gw_service_t service, const gw_cb_ticket_t *ticket, bool failure);

/* POST /admin/breakers/{service}/reset from client address `by`. */
void gw_breaker_gate_reset(gw_worker_t *w, gw_service_t service, const char *by);

/* The breaker parameters of a configuration. */
gw_cb_params_t gw_breaker_params(const gw_config_t *cfg);

/* Log `ev` if it happened: one JSON line "circuit breaker state change"
 * (warn when the breaker opens, info otherwise) with service, from, to,
 * reason and the counts that caused it. `by` (may be NULL): who reset it. */
void gw_breaker_log_event(gw_service_t service, const gw_cb_event_t *ev, const gw_cb_params_t *p,
                          const char *by);

/* SPEC §4: which gRPC results count as failures. */
bool gw_breaker_is_failure(int grpc_status, bool transport);

#endif
