/*
 * Between the trace context (worker/trace.c) and the exporter
 * (worker/trace_export.c): the span record and the hand-over.
 */
#ifndef GW_TRACE_INT_H
#define GW_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/worker.h"

typedef enum { GW_SPAN_SERVER = 2, GW_SPAN_CLIENT = 3 } gw_span_kind_t; /* OTLP SpanKind values */

/* One finished span. Strings are static (route templates, RPC paths,
 * service and method names), so a span owns no memory. */
typedef struct {
    uint8_t trace_id[16], span_id[8], parent_id[8];
    bool has_parent, error;
    gw_span_kind_t kind;
    uint64_t start_ns, end_ns;
    const char *name;    /* SERVER: route template; CLIENT: the RPC path "/pkg.Service/Method" or "proxy" */
    const char *method;  /* the request's HTTP method (attribute of SERVER and proxy spans) */
    const char *service; /* CLIENT: backend service */
    int status;          /* SERVER: HTTP status; CLIENT: gRPC code or HTTP status */
} gw_span_t;

/* Queue a span for export; dropped (and counted) when the buffer is full. */
void gw_trace_record(gw_worker_t *w, const gw_span_t *span);

void gw_trace_hex(char *out, const uint8_t *bytes, size_t n);
uint64_t gw_trace_now_ns(void);

#endif
