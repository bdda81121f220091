/*
 * The worker's gRPC client (gRPC C core): one channel per upstream service,
 * indexed by the service's slot in the segment (shm/names.h) and created at
 * start from the list of (slot, target) the worker gives it, so a service a
 * descriptor set adds needs nothing here; one completion queue polled by the h2o event loop itself (gRPC
 * core's epoll fd is watched by the loop; a completion thread only as a fallback). Only workers use it —
 * grpc_init runs after fork, never in the master (a gRPC-initialised parent hangs its forked children).
 *
 * A call is started on the loop thread with gw_grpc_call_start(); its
 * `done` callback later runs on the loop thread with the status, the
 * details and the reply bytes. The call object is owned by this module: it
 * is freed right after `done` returns. gw_grpc_call_cancel() may be called
 * any time before that (the call then completes with CANCELLED).
 *
 * Message sizes: the channels send at most gw_grpc_max_send() bytes
 * (MAX_REQUEST_SIZE plus the room transcoding may add) and receive at most
 * MAX_RESPONSE_SIZE. gRPC core reports either limit as RESOURCE_EXHAUSTED,
 * the same code a backend uses for its own quota; the result's local_limit
 * tells the two apart, so only a backend's own RESOURCE_EXHAUSTED becomes a
 * 429 and our refusals become 413 / 502.
 */
#ifndef GW_GRPC_CLIENT_H
#define GW_GRPC_CLIENT_H

#include <grpc/grpc.h>
#include <stddef.h>
#include <stdint.h>

#include "core/route.h"
#include "worker/clients/upstream_reason.h"
#include "worker/worker.h"

#define GW_GRPC_MAX_MD 8

typedef struct gw_grpc_call gw_grpc_call_t;
typedef void (*gw_grpc_done_cb)(gw_grpc_call_t *call, void *data);

/* A size limit enforced by our own gRPC client (not by the backend). */
typedef enum {
    GW_GRPC_LIMIT_NONE = 0,
    GW_GRPC_LIMIT_SEND, /* request message over the channel's send limit */
    GW_GRPC_LIMIT_RECV, /* reply message over MAX_RESPONSE_SIZE */
} gw_grpc_limit_t;

/* Results, valid inside the done callback. */
typedef struct {
    grpc_status_code status;
    gw_grpc_limit_t local_limit; /* RESOURCE_EXHAUSTED raised by our client */
    const char *details;         /* NUL-terminated grpc-message (may be "") */
    gw_backend_reason_t reason;  /* transport failure class; NONE if the backend answered */
    const uint8_t *reply;        /* the reply message, packed protobuf */
    size_t reply_len;
    uint64_t latency_us;
} gw_grpc_result_t;

/* One metadata entry to send; both strings are copied at start. */
typedef struct {
    const char *key; /* lowercase literal, e.g. "x-user-id" */
    const char *value;
    size_t value_len;
} gw_grpc_md_t;

/* Who serves one gRPC service: its slot (< GW_SVC_MAX) and its "host:port".
 * The target string is not copied: it must outlive the client (it belongs
 * to the worker's configuration). */
typedef struct {
    unsigned slot;
    const char *target;
} gw_grpc_upstream_t;

/* Start gRPC core and open a channel for each of `ups` (a later entry for
 * the same slot wins; a slot out of range or an empty target is skipped). */
int gw_grpc_client_init(gw_worker_t *w, const gw_grpc_upstream_t *ups, size_t nups, char *err, size_t errlen);
void gw_grpc_client_shutdown(gw_worker_t *w);

/* Start a unary call: `method` is "/pkg.Service/Method", `payload` the packed
 * request (copied), deadline_us a CLOCK_MONOTONIC deadline in microseconds
 * (gw_now_us() base), `slot` the service's slot. Returns the call, or NULL
 * if it could not be started (no channel for `slot`, out of memory; then
 * `done` is never called). */
gw_grpc_call_t *gw_grpc_call_start(gw_worker_t *w, unsigned slot, const char *method, const uint8_t *payload,
                                   size_t len, const gw_grpc_md_t *md, size_t nmd, uint64_t deadline_us,
                                   gw_grpc_done_cb done, void *data);
void gw_grpc_call_cancel(gw_grpc_call_t *call);
const gw_grpc_result_t *gw_grpc_call_result(const gw_grpc_call_t *call);

/* Classify a failed call the way docs/API.md, Errors words it: fills `message` with
 * a transport failure's message (gw_reason_message: "connection refused",
 * "dial tcp: lookup HOST: no such host", "connect timeout", "TLS handshake
 * failed", ... all 502, *transport set), "context deadline exceeded" (504),
 * "backend response too large" (502) / "request body too large" (413) for
 * our own size limits, or the backend's own grpc-message, and returns the
 * HTTP status to answer with. */
int gw_grpc_error_response(const gw_worker_t *w, unsigned slot, const gw_grpc_result_t *res, char *message,
                           size_t len, bool *transport);

/* The backend_requests_total code of a result: the gRPC status, or
 * GW_CODE_REQUEST_TOO_LARGE / GW_CODE_RESPONSE_TOO_LARGE for local refusals. */
unsigned gw_grpc_result_code(const gw_grpc_result_t *res);

/* Largest request message the channels send (callers refuse bigger ones
 * with 413 before starting a call). */
size_t gw_grpc_max_send(const gw_worker_t *w);

/* gRPC status → HTTP status (docs/API.md, Status mapping). */
int gw_grpc_status_to_http(grpc_status_code code);

/* The target ("host:port") of service slot `slot`, NULL if it has no
 * channel (the health probe walks the slots with this). */
const char *gw_grpc_target(const gw_worker_t *w, unsigned slot);

#endif
