/*
 * Cutting in-flight requests at the drain deadline (see worker/drain.h),
 * over the worker's list of requests with pending work (worker/request.h).
 */
#include "worker/drain.h"

#include "core/log.h"
#include "shm/names.h"
#include "worker/respond.h"

/* Cancel the request's pending work (its completion then only cleans up)
 * and answer it; gw_request_finish unlinks it (and so does the first line,
 * for a request whose work already completed). */
static void cut(gw_request_t *r)
{
    gw_request_untrack_pending(r);
    if (r->finished || !gw_request_cancel_pending(r))
        return;
    uint64_t elapsed_ms = (gw_now_us() - r->start_us) / 1000;
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_WARN, "request cut at SHUTDOWN_TIMEOUT");
    gw_log_strn(&l, "method", r->req->method.base, r->req->method.len);
    gw_log_str(&l, "endpoint", gw_shm_endpoint_name(r->w->shm, r->endpoint));
    gw_log_str(&l, "upstream", r->upstream ? r->upstream : "");
    gw_log_int(&l, "elapsed_ms", (int64_t)elapsed_ms);
    gw_log_int(&l, "shutdown_timeout_s", r->w->cfg->shutdown_timeout);
    gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
    gw_log_end(&l);
    gw_met_count(r->w->met, GW_CTR_SHUTDOWN_CUT);
    r->req->http1_is_persistent = 0;
    gw_respond_error(r, 503, NULL, "request interrupted: the gateway is shutting down (SHUTDOWN_TIMEOUT)");
}

size_t gw_drain_cut(void)
{
    size_t n = 0;
    h2o_linklist_t *list = gw_request_pending_list();
    while (!h2o_linklist_is_empty(list)) {
        cut(GW_REQUEST_OF_PENDING(list->next));
        n++;
    }
    return n;
}
