/*
 * The request pipeline: h2o hands every request to gw_request_on_req, which
 * sets up the per-request state, routes it and runs the stages below in
 * order. Each stage lives with its concern (limits, auth, cache, backends);
 * this file owns the order, the bookkeeping of in-flight requests, and the
 * single place where a request's status is recorded (metrics + access log).
 */
#include "worker/request.h"

#include <string.h>

#include "worker/auth.h"
#include "worker/breaker_gate.h"
#include "worker/cache.h"
#include "worker/cors.h"
#include "worker/drain.h"
#include "worker/h1guard.h"
#include "worker/hangup.h"
#include "worker/ident.h"
#include "worker/limit.h"
#include "core/log.h"
#include "worker/respond.h"
#include "worker/stages.h"

typedef gw_stage_result_t (*stage_fn)(gw_request_t *r);

static gw_stage_result_t stage_admit(gw_request_t *r);

/* The pipeline, in order. */
static const stage_fn stages[] = {
    stage_admit,           /* route-level checks: admin, metrics switch, body */
    gw_stage_limit_ip,     /* worker/limit.c: token bucket per client IP */
    gw_stage_authenticate, /* worker/auth.c: JWT + blacklist (async) */
    gw_stage_limit_tenant, /* worker/limit.c: token bucket per tenant */
    gw_stage_authorize,    /* worker/auth.c: roles, tenant match */
    gw_stage_cache_lookup, /* worker/cache.c: Redis response cache (async) */
    gw_stage_breaker,      /* worker/breaker_gate.c: fail fast when open */
    gw_stage_dispatch,     /* worker/dispatch.c: built-in, gRPC or proxy */
};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))

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
    gw_log_str(&l, "user_id", r->identity ? r->identity->user_id : "");
    gw_log_str(&l, "tenant_id", r->identity ? r->identity->tenant_id : "");
    gw_log_str(&l, "upstream", r->upstream ? r->upstream : "");
    gw_log_str(&l, "cache", r->cache ? r->cache : "");
    gw_log_str(&l, "endpoint", gw_router_endpoint_name(r->endpoint));
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
    gw_hangup_unwatch(r);
    gw_drain_untrack(r);
    uint64_t micros = gw_now_us() - r->start_us;
    gw_worker_t *w = r->w;
    gw_met_observe_request(w->met, r->endpoint, r->method, status, micros);
    gw_met_gauge_add(&w->met->active_requests, -1);
    CMM_STORE_SHARED(w->rec->requests, CMM_LOAD_SHARED(w->rec->requests) + 1);
    w->inflight--;
    if (r->trace.on)
        gw_trace_server_end(r, status);
    access_log(r, micros);
}

/* The request's pool is being freed: the client went away, or the response
 * is complete. Cancel pending work; account a request that never answered. */
static void on_dispose(void *p)
{
    gw_request_t *r = p;
    if (r->pending != NULL) {
        gw_pending_t *pending = r->pending;
        r->pending = NULL;
        pending->req = NULL;
        if (pending->cancel != NULL)
            pending->cancel(pending);
    }
    if (!r->finished)
        gw_request_finish(r, 499);
}

/* Set up the per-request state. Also used by the early-error filter for
 * requests h2o refused before routing. */
gw_request_t *gw_request_new(h2o_req_t *req)
{
    gw_worker_t *w = gw_worker_self();
    gw_request_t *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), on_dispose);
    memset(r, 0, sizeof(*r));
    r->req = req;
    r->w = w;
    r->start_us = gw_now_us();
    r->deadline_us = r->start_us + (uint64_t)(w->cfg->request_timeout * 1e6);
    r->method = gw_met_method_index(req->method.base, req->method.len);
    r->endpoint = gw_router_unmatched_endpoint();
    w->inflight++;
    gw_met_gauge_add(&w->met->active_requests, 1);
    gw_ident_correlation(r);
    gw_ident_client_ip(r);
    gw_trace_start(r); /* sets r->traceparent (passed through when tracing is off) */
    return r;
}

static void respond_bad_method(gw_request_t *r)
{
    char allow[80] = "";
    unsigned allowed = r->match.allowed;
    if (allowed & (1u << GW_METHOD_GET))
        allowed |= 1u << GW_METHOD_HEAD;
    for (int m = 0; m < GW_MET_NMETHODS; m++) {
        if (allowed & (1u << m)) {
            if (allow[0] != '\0')
                strcat(allow, ", ");
            strcat(allow, gw_met_method_names[m]);
        }
    }
    gw_respond_header(r, "allow", allow, strlen(allow));
    gw_respond_error(r, 405, NULL, "method not allowed");
}

void gw_pipeline_resume(gw_request_t *r)
{
    while (r->stage < NSTAGES) {
        gw_stage_result_t res = stages[r->stage](r);
        r->stage++;
        if (res == GW_ASYNC) {
            gw_hangup_watch(r); /* HTTP/1: h2o would not notice the client leaving */
            gw_drain_track(r);  /* answered 503 if still pending at SHUTDOWN_TIMEOUT */
        }
        if (res != GW_NEXT)
            return;
    }
}

int gw_request_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    gw_request_t *r = gw_request_new(req);
    if (gw_h1guard_refused(r)) /* HTTP/1 head refused by worker/h1guard.c */
        return 0;
    if (req->path.len > (size_t)r->w->cfg->max_uri_size) { /* HTTP/2 (HTTP/1 is refused above) */
        gw_respond_error(r, 414, NULL, "request URI too long");
        return 0;
    }
    const h2o_iovec_t *path = &req->path_normalized;
    gw_match_result_t mr = gw_router_match(r->method, path->base, path->len, &r->match);
    r->endpoint = r->match.endpoint;
    if (mr != GW_MATCH_NOT_FOUND && gw_cors_preflight(r, r->match.allowed))
        return 0;
    if (mr == GW_MATCH_NOT_FOUND) {
        gw_respond_error(r, 404, NULL, "route not found");
        return 0;
    }
    if (mr == GW_MATCH_BAD_METHOD) {
        respond_bad_method(r);
        return 0;
    }
    gw_pipeline_resume(r);
    return 0;
}

/* Route-level admission: everything decidable from the route and headers. */
static gw_stage_result_t stage_admit(gw_request_t *r)
{
    const gw_route_t *route = r->match.route;
    h2o_req_t *req = r->req;
    if ((route->flags & GW_RF_METRICS) && !r->w->cfg->enable_metrics) {
        gw_respond_error(r, 404, NULL, "route not found");
        return GW_DONE;
    }
    if ((route->flags & GW_RF_ADMIN) &&
        !gw_cidr_list_match_ip(&r->w->cfg->admin_allow, r->ip_family, r->ip_bytes)) {
        gw_log_line_t l;
        gw_log_begin(&l, GW_LOG_WARN, "admin endpoint refused");
        gw_log_str(&l, "ip", r->ip);
        gw_log_str(&l, "endpoint", route->tmpl);
        gw_log_end(&l);
        gw_respond_error(r, 403, NULL, "forbidden: address not in ADMIN_ALLOW");
        return GW_DONE;
    }
    size_t header_bytes = 0;
    for (size_t i = 0; i < req->headers.size; i++)
        header_bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    if (header_bytes > GW_MAX_HEADER_BYTES) { /* HTTP/2; HTTP/1 heads are checked by h1guard */
        gw_respond_error(r, 431, NULL, "request header fields too large");
        return GW_DONE;
    }
    /* Authorization is a singleton field (RFC 9110 §11.6.2): with two, a
     * proxy in front may have checked another one than we would. */
    ssize_t auth = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (auth >= 0 && h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, auth) >= 0) {
        gw_respond_error(r, 400, NULL, "duplicate Authorization header");
        return GW_DONE;
    }
    if (req->entity.base != NULL && req->entity.len > (size_t)r->w->cfg->max_request_size) {
        gw_respond_error(r, 413, NULL, "request body too large");
        return GW_DONE;
    }
    bool has_body = req->entity.base != NULL && req->entity.len > 0;
    if (has_body && r->method != GW_METHOD_GET && r->method != GW_METHOD_DELETE &&
        h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1) < 0) {
        gw_respond_error(r, 400, NULL, "Content-Type header required");
        return GW_DONE;
    }
    return GW_NEXT;
}
