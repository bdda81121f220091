/*
 * Cutting in-flight requests at the drain deadline (see worker/drain.h).
 * One list per worker process of requests with pending asynchronous work.
 */
#include "worker/drain.h"

#include "core/log.h"
#include "shm/names.h"
#include "worker/respond.h"

static h2o_linklist_t tracked = {&tracked, &tracked};

void gw_drain_track(gw_request_t *r)
{
    if (!h2o_linklist_is_linked(&r->drain_link) && r->pending != NULL)
        h2o_linklist_insert(&tracked, &r->drain_link);
}

void gw_drain_untrack(gw_request_t *r)
{
    if (h2o_linklist_is_linked(&r->drain_link))
        h2o_linklist_unlink(&r->drain_link);
}

/* Cancel the request's pending work (its completion then only cleans up)
 * and answer it; gw_request_finish unlinks it. */
static void cut(gw_request_t *r)
{
    gw_drain_untrack(r);
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
    while (!h2o_linklist_is_empty(&tracked)) {
        cut(H2O_STRUCT_FROM_MEMBER(gw_request_t, drain_link, tracked.next));
        n++;
    }
    return n;
}
