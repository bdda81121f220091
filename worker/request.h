/*
 * Per-request state and its accessors (worker/request.c), beneath the
 * stages: every stage, responder and handler includes this; it includes no
 * stage and not the driver (worker/pipeline.h).
 *
 * A gw_request_t lives in the h2o request's memory pool (allocated with a
 * dispose callback), so it is freed with the request. The driver
 * (worker/pipeline.c) runs the stages in order; a stage either passes
 * (GW_NEXT), answers (GW_DONE), or starts asynchronous work (GW_ASYNC) whose
 * completion calls gw_request_resume(), which continues through the callback
 * the driver set when it created the request. Asynchronous work must hold a gw_pending_t: if the
 * client disappears first (HTTP/2 reset), the request's dispose callback
 * clears the pending's request pointer and calls its cancel hook, and the
 * completion then only cleans up after itself. HTTP/1 clients that hang up
 * are found by worker/hangup.c, which does the same and answers 499.
 */
#ifndef GW_REQUEST_H
#define GW_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/breaker.h"
#include "core/jwt_claims.h"
#include "core/route.h"
#include "worker/trace.h"
#include "worker/worker.h"

typedef enum { GW_NEXT = 0, GW_DONE = 1, GW_ASYNC = 2 } gw_stage_result_t;

struct gw_request;
typedef struct gw_pending {
    struct gw_request *req;                  /* NULL once the request is gone */
    void (*cancel)(struct gw_pending *self); /* called when the request goes away first */
} gw_pending_t;

/* Who the request acts for (set by the auth stage, request pool memory):
 * the verified claims, copied whole from the verifier's result or the
 * token cache's entry. A copy, not a pointer, because the cache entry
 * belongs to the cache and may be overwritten or evicted by the next put
 * while this request still waits (Redis, the backend). */
typedef struct gw_identity {
    gw_jwt_claims_t claims;
    const char *token; /* points into the Authorization header (request pool) */
    size_t token_len;
} gw_identity_t;

typedef struct gw_request {
    h2o_req_t *req;
    gw_worker_t *w;
    uint64_t start_us;
    uint64_t deadline_us; /* start + REQUEST_TIMEOUT */

    gw_method_t method;
    gw_match_t match;
    unsigned endpoint;
    unsigned stage;

    h2o_iovec_t correlation_id;
    char ip[48]; /* client address as text (X-Forwarded-For when trusted) */
    uint8_t ip_family;
    uint8_t ip_bytes[16];

    gw_identity_t *identity; /* set by the auth stage, pool memory */
    /* Set by the authorize stage (worker/tenant_scope.c): the tenant the
     * request acts on (the token's, or the one an admin named; pool memory,
     * NULL when none), and the gRPC input message it already built. */
    const char *tenant;
    struct gw_scoped_msg *scoped;
    const char *upstream;    /* access log: the backend that served it */
    const char *cache;       /* access log: HIT / MISS / BYPASS / "" */
    h2o_iovec_t cache_key;   /* set by the cache lookup (request pool) */
    h2o_iovec_t traceparent; /* forwarded to backends (request pool or trace.header) */
    gw_trace_t trace;        /* worker/trace.c */

    int status;    /* set when the response starts */
    bool finished; /* response started, metrics and log written */
    gw_pending_t *pending;
    h2o_linklist_t pending_link; /* on the worker's list of requests with pending work */

    /* Circuit-breaker ticket for the backend call (armed when taken). */
    gw_cb_ticket_t cb_ticket;
    bool cb_armed;
    /* Rate-limit outcome, echoed in X-RateLimit-* headers (0 limit = none). */
    long rl_limit, rl_remaining, rl_reset;
    /* Per-stage timings for LOG_LEVEL=debug (microseconds). */
    uint32_t t_auth_us, t_limit_us, t_backend_us;

    /* Set by the driver (worker/pipeline.c) at creation: continue the
     * pipeline after asynchronous work; and what to undo when the request
     * is answered (watches, the server span). Either may be NULL. */
    void (*resume)(struct gw_request *r);
    void (*on_finish)(struct gw_request *r, int status);
} gw_request_t;

/* Set up the per-request state in req's pool with the driver's hooks (see
 * above); called by the driver only (gw_pipeline_begin). */
gw_request_t *gw_request_new(h2o_req_t *req, void (*resume)(gw_request_t *r),
                             void (*on_finish)(gw_request_t *r, int status));

/* Continue the pipeline after asynchronous work (on the loop thread): calls
 * the resume callback the driver set. */
void gw_request_resume(gw_request_t *r);

/* Cancel the request's pending work, if any: the pending forgets the request
 * (its completion then only cleans up) and its cancel hook runs. Returns
 * whether there was work to cancel. Used when the request goes away (pool
 * disposal), when its client hangs up (worker/hangup.c) and at the drain
 * deadline (worker/drain.c). */
bool gw_request_cancel_pending(gw_request_t *r);

/* The worker's requests whose stage went asynchronous and that are not yet
 * answered. The driver links a request when a stage returns GW_ASYNC
 * (gw_request_track_pending; again on a later GW_ASYNC is a no-op);
 * gw_request_finish unlinks it. worker/hangup.c polls the HTTP/1 ones for a
 * client that left, worker/drain.c answers them all at SHUTDOWN_TIMEOUT.
 * Loop thread only. */
h2o_linklist_t *gw_request_pending_list(void);
void gw_request_track_pending(gw_request_t *r);
void gw_request_untrack_pending(gw_request_t *r);
#define GW_REQUEST_OF_PENDING(node) H2O_STRUCT_FROM_MEMBER(gw_request_t, pending_link, node)

/* Record status, metrics and the access line, and run the driver's
 * on_finish hook; called once per request by the responders in
 * worker/respond.c just before the response starts. */
void gw_request_finish(gw_request_t *r, int status);

/* Seconds left before REQUEST_TIMEOUT (may be <= 0). */
double gw_request_remaining_s(const gw_request_t *r);

/* Look up a request header (lowercase name). */
const h2o_iovec_t *gw_request_header(const gw_request_t *r, const char *name, size_t len);

#endif
