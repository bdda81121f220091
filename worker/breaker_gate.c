/*
 * Circuit-breaker gate (see worker/breaker_gate.h). The breakers live in the
 * segment (shm/breaker.c), one per backend service, shared by all workers
 * and kept across reloads. The ticket taken here travels with the backend
 * call so its outcome is recorded against the state that admitted it.
 */
#include "worker/breaker_gate.h"

#include <grpc/grpc.h>
#include <stdio.h>

#include "worker/log.h"
#include "worker/respond.h"

static gw_cb_params_t params(const gw_config_t *cfg)
{
    return (gw_cb_params_t){.failure_ratio = cfg->cb_failure_ratio,
                            .min_requests = (uint32_t)cfg->cb_min_requests,
                            .interval_ms = (uint32_t)(cfg->cb_interval * 1000),
                            .open_timeout_ms = (uint32_t)(cfg->cb_open_timeout * 1000),
                            .half_open_max = (uint32_t)cfg->cb_half_open_max_requests};
}

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
    gw_cb_params_t p = params(cfg);
    void *region = gw_shm_region(r->w->shm, GW_SHM_REGION_BREAKER);
    r->cb_ticket = gw_breaker_acquire(region, route->service, &p, gw_now_ms());
    r->cb_armed = r->cb_ticket.allowed;
    if (r->cb_ticket.allowed)
        return GW_NEXT;
    gw_met_count(r->w->met, GW_CTR_BREAKER_REJECTED);
    char retry[16];
    int n = snprintf(retry, sizeof(retry), "%u", r->cb_ticket.retry_after_s);
    gw_respond_header(r, "retry-after", retry, (size_t)n);
    r->upstream = gw_service_names[route->service];
    gw_respond_error(r, 503, "CIRCUIT_BREAKER_OPEN", "circuit breaker is open");
    return GW_DONE;
}

void gw_breaker_gate_record(gw_worker_t *w, gw_service_t service, const gw_cb_ticket_t *ticket, bool failure)
{
    gw_cb_params_t p = params(w->cfg);
    void *region = gw_shm_region(w->shm, GW_SHM_REGION_BREAKER);
    gw_cb_state_t before = gw_breaker_state(region, service, gw_now_ms());
    gw_breaker_record(region, service, &p, ticket, failure, gw_now_ms());
    gw_cb_state_t after = gw_breaker_state(region, service, gw_now_ms());
    if (before != after) {
        static const char *names[] = {"closed", "open", "half-open"};
        gw_log_line_t l;
        gw_log_begin(&l, after == GW_CB_OPEN ? GW_LOG_WARN : GW_LOG_INFO, "circuit breaker state change");
        gw_log_str(&l, "service", gw_service_names[service]);
        gw_log_str(&l, "from", names[before]);
        gw_log_str(&l, "to", names[after]);
        gw_log_end(&l);
    }
}
