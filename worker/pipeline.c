/*
 * The request pipeline's driver: h2o hands every request to
 * gw_pipeline_on_req, which sets up the per-request state (worker/request.c),
 * routes it and runs the stages below in order. Each stage lives with its
 * concern (admission, limits, auth, cache, breaker, backends) and resumes the
 * pipeline through the callback set here (gw_request_resume), never by
 * calling up into this file. This file owns the order and the watches on
 * requests with pending work (hang-up, drain).
 */
#include "worker/pipeline.h"

#include <string.h>

#include "worker/auth.h"
#include "worker/breaker_gate.h"
#include "worker/cache.h"
#include "worker/cors.h"
#include "worker/h1guard.h"
#include "worker/hangup.h"
#include "worker/ident.h"
#include "worker/limit.h"
#include "worker/respond.h"
#include "worker/stages.h"
#include "worker/trace.h"

typedef gw_stage_result_t (*stage_fn)(gw_request_t *r);

/* The pipeline, in order. */
static const stage_fn stages[] = {
    gw_stage_admit,        /* worker/admit.c: admin, metrics switch, sizes, body */
    gw_stage_limit_ip,     /* worker/limit.c: token bucket per client IP */
    gw_stage_authenticate, /* worker/auth.c: JWT + blacklist (async) */
    gw_stage_limit_tenant, /* worker/limit.c: token bucket per tenant */
    gw_stage_authorize,    /* worker/auth.c: roles, tenant match */
    gw_stage_cache_lookup, /* worker/cache.c: Redis response cache (async) */
    gw_stage_breaker,      /* worker/breaker_gate.c: fail fast when open */
    gw_stage_dispatch,     /* worker/dispatch.c: built-in, gRPC or proxy */
};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))

static void pipeline_resume(gw_request_t *r);

/* gw_request_finish's hook: the request is answered, so it no longer needs
 * watching; its server span ends with its status. */
static void pipeline_on_finish(gw_request_t *r, int status)
{
    gw_hangup_disarm_if_idle(); /* gw_request_finish unlinked it from the pending list */
    if (r->trace.on)
        gw_trace_server_end(r, status);
}

gw_request_t *gw_pipeline_begin(h2o_req_t *req)
{
    gw_request_t *r = gw_request_new(req, pipeline_resume, pipeline_on_finish);
    gw_ident_correlation(r);
    gw_ident_client_ip(r);
    gw_trace_start(r); /* sets r->traceparent (passed through when tracing is off) */
    return r;
}

static void respond_bad_method(gw_request_t *r)
{
    char allow[80];
    unsigned allowed = r->match.allowed;
    if (allowed & (1u << GW_METHOD_GET))
        allowed |= 1u << GW_METHOD_HEAD;
    size_t n = gw_method_list(allowed, allow, sizeof(allow));
    gw_respond_header(r, "allow", allow, n);
    gw_respond_error(r, 405, NULL, "method not allowed");
}

static void pipeline_resume(gw_request_t *r)
{
    while (r->stage < NSTAGES) {
        gw_stage_result_t res = stages[r->stage](r);
        r->stage++;
        if (res == GW_ASYNC) {
            /* watched for a client leaving (HTTP/1: h2o would not notice) and
             * answered 503 if still pending at SHUTDOWN_TIMEOUT */
            gw_request_track_pending(r);
            gw_hangup_arm();
        }
        if (res != GW_NEXT)
            return;
    }
}

int gw_pipeline_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    gw_request_t *r = gw_pipeline_begin(req);
    if (gw_h1guard_refused(r)) /* HTTP/1 head refused by worker/h1guard.c */
        return 0;
    if (req->path.len > (size_t)r->w->cfg->max_uri_size) { /* HTTP/2 (HTTP/1 is refused above) */
        gw_respond_error(r, 414, NULL, "request URI too long");
        return 0;
    }
    const h2o_iovec_t *path = &req->path_normalized;
    gw_match_result_t mr = gw_router_match(r->w->cfg->api, r->method, path->base, path->len, &r->match);
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
    pipeline_resume(r);
    return 0;
}
