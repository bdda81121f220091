/*
 * Circuit-breaker parameters and transition log lines (see
 * shm/breaker_log.h): shared by the worker's gate (worker/breaker_gate.c)
 * and the master's tick (master/sweep.c), so a transition reads the same
 * whichever process made it.
 */
#include "shm/breaker_log.h"

#include "shm/names.h"

static const char *const state_names[] = {"closed", "open", "half-open"};

gw_cb_params_t gw_breaker_params(const gw_config_t *cfg)
{
    return (gw_cb_params_t){.failure_ratio = cfg->cb_failure_ratio,
                            .min_requests = (uint32_t)cfg->cb_min_requests,
                            .interval_ms = (uint32_t)(cfg->cb_interval * 1000),
                            .open_timeout_ms = (uint32_t)(cfg->cb_open_timeout * 1000),
                            .half_open_max = (uint32_t)cfg->cb_half_open_max_requests};
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

void gw_breaker_log_event(const gw_shm_t *shm, unsigned slot, const gw_cb_event_t *ev,
                          const gw_cb_params_t *p, const char *by)
{
    if (!ev->happened)
        return;
    gw_log_line_t l;
    gw_log_begin(&l, ev->to == GW_CB_OPEN ? GW_LOG_WARN : GW_LOG_INFO, "circuit breaker state change");
    gw_log_str(&l, "service", gw_shm_service_name(shm, slot));
    gw_log_str(&l, "from", state_names[ev->from]);
    gw_log_str(&l, "to", state_names[ev->to]);
    gw_log_str(&l, "reason", ev->reason);
    log_counts(&l, ev, p);
    if (by != NULL)
        gw_log_str(&l, "by", by);
    gw_log_end(&l);
}
