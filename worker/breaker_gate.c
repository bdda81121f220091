/*
 * Circuit-breaker gate (see worker/breaker_gate.h). The breakers live in the
 * segment (shm/breaker.c), one per backend service, shared by all workers
 * and kept across reloads. The ticket taken here travels with the backend
 * call so its outcome is recorded against the state that admitted it.
 * A transition is logged by the process whose CAS made it (shm/breaker.c
 * hands it a gw_cb_event_t, shm/breaker_log.c writes the line), so each is
 * logged exactly once in all.
 */
#include "worker/breaker_gate.h"

#include <grpc/grpc.h>
#include <stdio.h>

#include "core/log.h"
#include "worker/respond.h"

bool gw_breaker_is_failure(int grpc_status, bool transport)
{
    switch (grpc_status) {
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_UNKNOWN:
    case GRPC_STATUS_DATA_LOSS:
        return true;
    default:
        return transport;
    }
}

gw_stage_result_t gw_stage_breaker(gw_request_t *r)
{
    const gw_route_t *route = r->match.route;
    const gw_config_t *cfg = r->w->cfg;
    if (!cfg->circuit_breaker_enabled || route->kind == GW_ROUTE_BUILTIN)
        return GW_NEXT;
    gw_cb_params_t p = gw_breaker_params(cfg);
    void *region = gw_shm_region(r->w->shm, GW_SHM_REGION_BREAKER);
    gw_cb_event_t ev;
    r->cb_ticket = gw_breaker_acquire(region, route->upstream->slot, &p, gw_now_ms(), &ev);
    gw_breaker_log_event(r->w->shm, route->upstream->slot, &ev, &p, NULL);
    r->cb_armed = r->cb_ticket.allowed;
    if (r->cb_ticket.allowed)
        return GW_NEXT;
    gw_met_count(r->w->met, GW_CTR_BREAKER_REJECTED);
    char retry[16];
    int n = snprintf(retry, sizeof(retry), "%u", r->cb_ticket.retry_after_s);
    gw_respond_header(r, "retry-after", retry, (size_t)n);
    r->upstream = route->upstream->label;
    gw_respond_error(r, 503, "CIRCUIT_BREAKER_OPEN", "circuit breaker is open");
    return GW_DONE;
}

void gw_breaker_gate_record(gw_worker_t *w, unsigned service, const gw_cb_ticket_t *ticket, bool failure)
{
    gw_cb_params_t p = gw_breaker_params(w->cfg);
    gw_cb_event_t ev;
    gw_breaker_record(gw_shm_region(w->shm, GW_SHM_REGION_BREAKER), service, &p, ticket, failure, gw_now_ms(),
                      &ev);
    gw_breaker_log_event(w->shm, service, &ev, &p, NULL);
}

void gw_breaker_gate_reset(gw_worker_t *w, unsigned service, const char *by)
{
    gw_cb_params_t p = gw_breaker_params(w->cfg);
    gw_cb_event_t ev;
    gw_breaker_reset(gw_shm_region(w->shm, GW_SHM_REGION_BREAKER), service, &ev);
    gw_breaker_log_event(w->shm, service, &ev, &p, by);
}
