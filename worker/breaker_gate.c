/*
 * Circuit-breaker gate (see worker/breaker_gate.h). The breakers live in the
 * segment (shm/breaker.c), one per backend service, shared by all workers
 * and kept across reloads. The ticket taken here travels with the backend
 * call so its outcome is recorded against the state that admitted it.
 * A transition is logged by the process whose CAS made it (shm/breaker.c
 * hands it a gw_cb_event_t), so each is logged exactly once in all.
 */
#include "worker/breaker_gate.h"

#include <grpc/grpc.h>
#include <stdio.h>

#include "worker/log.h"
#include "worker/respond.h"

static const char *const state_names[] = {"closed", "open", "half-open"};

gw_cb_params_t gw_breaker_params(const gw_config_t *cfg)
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
    gw_cb_params_t p = gw_breaker_params(cfg);
    void *region = gw_shm_region(r->w->shm, GW_SHM_REGION_BREAKER);
    gw_cb_event_t ev;
    r->cb_ticket = gw_breaker_acquire(region, route->service, &p, gw_now_ms(), &ev);
    gw_breaker_log_event(route->service, &ev, &p, NULL);
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
    gw_cb_params_t p = gw_breaker_params(w->cfg);
    gw_cb_event_t ev;
    gw_breaker_record(gw_shm_region(w->shm, GW_SHM_REGION_BREAKER), service, &p, ticket, failure, gw_now_ms(),
                      &ev);
    gw_breaker_log_event(service, &ev, &p, NULL);
}

void gw_breaker_gate_reset(gw_worker_t *w, gw_service_t service, const char *by)
{
    gw_cb_params_t p = gw_breaker_params(w->cfg);
    gw_cb_event_t ev;
    gw_breaker_reset(gw_shm_region(w->shm, GW_SHM_REGION_BREAKER), service, &ev);
    gw_breaker_log_event(service, &ev, &p, by);
}

/* The counts behind each kind of move: the window's for an opening (and a
 * reset of a closed breaker), the probes' for a half-open outcome, the
 * period for a timeout. */
static void log_counts(gw_log_line_t *l, const gw_cb_event_t *ev, const gw_cb_params_t *p)
{
    if (ev->from == GW_CB_CLOSED) {
        gw_log_int(l, "requests", ev->requests);
        gw_log_int(l, "failures", ev->failures);
        if (ev->requests > 0)
            gw_log_double(l, "failure_ratio", (double)ev->failures / (double)ev->requests);
        if (ev->to == GW_CB_OPEN) {
            gw_log_double(l, "threshold", p->failure_ratio);
            gw_log_int(l, "window_s", p->interval_ms / 1000);
        }
    } else if (ev->from == GW_CB_HALF_OPEN) {
        gw_log_int(l, "probes_admitted", ev->probes_admitted);
        gw_log_int(l, "probes_succeeded", ev->probes_succeeded);
        gw_log_int(l, "probes_required", p->half_open_max);
    }
    if (ev->open_timeout_ms > 0)
        gw_log_int(l, "open_timeout_s", ev->open_timeout_ms / 1000);
    if (ev->to == GW_CB_OPEN)
        gw_log_int(l, "open_for_s", p->open_timeout_ms / 1000);
}

void gw_breaker_log_event(gw_service_t service, const gw_cb_event_t *ev, const gw_cb_params_t *p,
                          const char *by)
{
    if (!ev->happened)
        return;
    gw_log_line_t l;
    gw_log_begin(&l, ev->to == GW_CB_OPEN ? GW_LOG_WARN : GW_LOG_INFO, "circuit breaker state change");
    gw_log_str(&l, "service", gw_service_names[service]);
    gw_log_str(&l, "from", state_names[ev->from]);
    gw_log_str(&l, "to", state_names[ev->to]);
    gw_log_str(&l, "reason", ev->reason);
    log_counts(&l, ev, p);
    if (by != NULL)
        gw_log_str(&l, "by", by);
    gw_log_end(&l);
}
