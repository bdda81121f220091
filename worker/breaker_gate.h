/*
 * The circuit-breaker gate (worker/breaker_gate.c): a pipeline stage that
 * fails fast while a backend's breaker is open, the hook that records each
 * backend call's outcome and the operator reset. The parameters and the
 * transition log line are shared with the master (shm/breaker_log.h).
 */
#ifndef GW_BREAKER_GATE_H
#define GW_BREAKER_GATE_H

#include <stdbool.h>

#include "core/config.h"
#include "shm/breaker.h"
#include "shm/breaker_log.h"
#include "worker/request.h"

gw_stage_result_t gw_stage_breaker(gw_request_t *r);

/* Record the outcome of a backend call made with `ticket` to service slot
 * `service` (shm/names.h). */
void gw_breaker_gate_record(gw_worker_t *w, unsigned service, const gw_cb_ticket_t *ticket, bool failure);

/* POST /admin/breakers/{service}/reset from client address `by`. */
void gw_breaker_gate_reset(gw_worker_t *w, unsigned service, const char *by);

/* docs/API.md, Status mapping: which gRPC results count as failures. */
bool gw_breaker_is_failure(int grpc_status, bool transport);

#endif
