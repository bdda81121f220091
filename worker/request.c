/*
 * Per-request state and its accessors (see worker/request.h): creation in
 * the request's pool, header lookup, the time left, the resume callback, and
 * gw_request_finish — the single place where a request's status is recorded
 * (metrics + access log). Beneath the stages: it calls none of them; what the
 * driver must do around a request's life it hands over as hooks.
 */
#include "worker/request.h"

#include <string.h>

#include "core/log.h"
#include "shm/names.h"

const h2o_iovec_t *gw_request_header(const gw_request_t *r, const char *name, size_t len)
{
    ssize_t i = h2o_find_header_by_str(&r->req->headers, name, len, -1);
    return i < 0 ? NULL : &r->req->headers.entries[i].value;
}

double gw_request_remaining_s(const gw_request_t *r)
{
    return ((double)r->deadline_us - (double)gw_now_us()) / 1e6;
}

#define ACCESS_PATH_MAX 1024

static void access_log(gw_request_t *r, uint64_t micros)
{
    if (!gw_log_enabled(GW_LOG_INFO))
        return;
    h2o_req_t *req = r->req;
    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    size_t query_len = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0;
    const h2o_iovec_t *ua = gw_request_header(r, H2O_STRLIT("user-agent"));
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_INFO, "access");
    gw_log_strn(&l, "method", req->method.base, req->method.len);
    /* Capped so that an over-long target (an HTTP/2 414) still logs a line
     * with every field. */
    gw_log_strn(&l, "path", req->path.base, path_len < ACCESS_PATH_MAX ? path_len : ACCESS_PATH_MAX);
    gw_log_strn(&l, "query", query_len ? req->path.base + req->query_at + 1 : "",
                query_len < ACCESS_PATH_MAX ? query_len : ACCESS_PATH_MAX);
    gw_log_int(&l, "status", r->status);
    gw_log_double(&l, "latency_ms", (double)micros / 1000.0);
    gw_log_str(&l, "ip", r->ip);
    gw_log_strn(&l, "user_agent", ua ? ua->base : "", ua ? ua->len : 0);
    gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
    gw_log_str(&l, "user_id", r->identity ? r->identity->claims.user_id : "");
    gw_log_str(&l, "tenant_id", r->identity ? r->identity->claims.tenant_id : "");
    gw_log_str(&l, "upstream", r->upstream ? r->upstream : "");
    gw_log_str(&l, "cache", r->cache ? r->cache : "");
    gw_log_str(&l, "endpoint", gw_shm_endpoint_name(r->w->shm, r->endpoint));
    if (gw_log_enabled(GW_LOG_DEBUG)) {
        gw_log_double(&l, "limit_ms", r->t_limit_us / 1000.0);
        gw_log_double(&l, "auth_ms", r->t_auth_us / 1000.0);
        gw_log_double(&l, "backend_ms", r->t_backend_us / 1000.0);
    }
    gw_log_end_buffered(&l);
}

void gw_request_finish(gw_request_t *r, int status)
{
    if (r->finished)
        return;
    r->finished = true;
    r->status = status;
    uint64_t micros = gw_now_us() - r->start_us;
    gw_worker_t *w = r->w;
    gw_met_observe_request(w->met, r->endpoint, r->method, status, micros);
    gw_met_gauge_add(&w->met->active_requests, -1);
    CMM_STORE_SHARED(w->rec->requests, CMM_LOAD_SHARED(w->rec->requests) + 1);
    w->inflight--;
    gw_request_untrack_pending(r);
    if (r->on_finish != NULL)
        r->on_finish(r, status); /* the driver's hook: disarm the hang-up check, end the span */
    access_log(r, micros);
}

static h2o_linklist_t pending_requests = {&pending_requests, &pending_requests};

h2o_linklist_t *gw_request_pending_list(void)
{
    return &pending_requests;
}

void gw_request_track_pending(gw_request_t *r)
{
    if (!h2o_linklist_is_linked(&r->pending_link) && r->pending != NULL && !r->finished)
        h2o_linklist_insert(&pending_requests, &r->pending_link);
}

void gw_request_untrack_pending(gw_request_t *r)
{
    if (h2o_linklist_is_linked(&r->pending_link))
        h2o_linklist_unlink(&r->pending_link);
}

bool gw_request_cancel_pending(gw_request_t *r)
{
    gw_pending_t *pending = r->pending;
    if (pending == NULL)
        return false;
    r->pending = NULL;
    pending->req = NULL;
    if (pending->cancel != NULL)
        pending->cancel(pending);
    return true;
}

/* The request's pool is being freed: the client went away, or the response
 * is complete. Cancel pending work; account a request that never answered. */
static void on_dispose(void *p)
{
    gw_request_t *r = p;
    gw_request_cancel_pending(r);
    if (!r->finished)
        gw_request_finish(r, 499);
}

gw_request_t *gw_request_new(h2o_req_t *req, void (*resume)(gw_request_t *r),
                             void (*on_finish)(gw_request_t *r, int status))
{
    gw_worker_t *w = gw_worker_self();
    gw_request_t *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), on_dispose);
    memset(r, 0, sizeof(*r));
    r->req = req;
    r->w = w;
    r->start_us = gw_now_us();
    r->deadline_us = r->start_us + (uint64_t)(w->cfg->request_timeout * 1e6);
    r->method = gw_method_parse(req->method.base, req->method.len);
    r->endpoint = GW_ENDPOINT_UNMATCHED; /* endpoint slot (shm/names.h) until the router matches */
    w->inflight++;
    gw_met_gauge_add(&w->met->active_requests, 1);
    r->resume = resume;
    r->on_finish = on_finish;
    return r;
}

void gw_request_resume(gw_request_t *r)
{
    if (r->resume != NULL)
        r->resume(r);
}
