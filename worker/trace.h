/*
 * Distributed tracing (ENABLE_TRACING=true): W3C traceparent in, a SERVER
 * span per request and a CLIENT span per backend call, exported in batches
 * as OTLP/HTTP JSON to JAEGER_URL by worker/trace_export.c.
 *
 * Callers: worker/pipeline.c (gw_trace_start when a request arrives,
 * gw_trace_server_end from its gw_request_finish hook), worker/upstream_grpc.c and
 * worker/upstream_http.c (gw_trace_client_end when a backend call ends),
 * worker/features.c (exporter start and stop). With tracing off, an incoming
 * traceparent is forwarded unchanged and nothing else happens.
 */
#ifndef GW_TRACE_H
#define GW_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_request;
struct gw_worker;

#define GW_TRACEPARENT_LEN 55 /* "00-" 32 "-" 16 "-" 2 */

/* Per-request trace state, inside gw_request_t (request pool). */
typedef struct gw_trace {
    bool on; /* tracing enabled and this request sampled */
    bool has_parent;
    uint8_t flags;
    uint8_t trace_id[16];
    uint8_t parent_id[8]; /* the caller's span (incoming traceparent) */
    uint8_t server_id[8]; /* our SERVER span */
    uint8_t client_id[8]; /* our CLIENT span: the parent the backend sees */
    uint64_t start_ns;    /* wall clock */
    char header[GW_TRACEPARENT_LEN + 1];
} gw_trace_t;

/* Parse a W3C traceparent; false for anything malformed, an unknown version
 * with a short form, or all-zero ids. */
bool gw_trace_parse(const char *s, size_t len, uint8_t trace_id[16], uint8_t parent_id[8], uint8_t *flags);

/* A request arrived: continue or start a trace and set r->traceparent. */
void gw_trace_start(struct gw_request *r);

/* A backend call of `r` ended after `latency_us`: record the CLIENT span.
 * `service` and `rpc` are static strings: `rpc` is the gRPC path
 * ("/pkg.Service/Method") or "proxy" for the HTTP proxy; `status` is the
 * gRPC code or the HTTP status. */
void gw_trace_client_end(struct gw_request *r, const char *service, const char *rpc, uint64_t latency_us,
                         int status, bool error);

/* The response went out: record the SERVER span. */
void gw_trace_server_end(struct gw_request *r, int status);

/* Exporter (worker/trace_export.c). */
int gw_trace_export_init(struct gw_worker *w, char *err, size_t errlen);
void gw_trace_export_shutdown(struct gw_worker *w);

#endif
