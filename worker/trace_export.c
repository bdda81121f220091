/*
 * The span exporter (ENABLE_TRACING=true): a per-worker bounded buffer of
 * finished spans, sent as one OTLP/HTTP JSON POST to JAEGER_URL (path
 * /v1/traces unless the URL names one) every second or once 256 spans are
 * waiting. At most one export is in flight; it runs on the worker's loop
 * with h2o's HTTP/1.1 client and never blocks a request. A full buffer drops
 * new spans; a failed export drops its batch; both are counted
 * (api_gateway_trace_spans_dropped_total, _trace_export_errors_total).
 *
 * Ownership: the tracer belongs to its worker (w->tracer); the batch body of
 * an export is a heap buffer owned by the export until its completion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "worker/clients/httpc.h"
#include "core/log.h"
#include "worker/trace.h"
#include "worker/trace_int.h"

#define SPAN_CAP  2048
#define BATCH_MAX 256
#define FLUSH_MS  1000

typedef struct gw_tracer {
    gw_worker_t *w;
    gw_httpc_t c; /* JAEGER_URL */
    h2o_timeout_t flush_timeout;
    h2o_timeout_entry_t flush_entry;
    gw_span_t spans[SPAN_CAP]; /* ring */
    size_t head, count;
    /* the export in flight */
    gw_httpc_call_t call; /* reqbufs point into body */
    gw_buf_t body;
    size_t batch; /* spans in the export in flight (the oldest ones) */
    bool warned;
} gw_tracer_t;

static void flush(gw_tracer_t *t);

static void on_flush_timer(h2o_timeout_entry_t *entry)
{
    gw_tracer_t *t = H2O_STRUCT_FROM_MEMBER(gw_tracer_t, flush_entry, entry);
    flush(t);
    h2o_timeout_link(t->w->ctx.loop, &t->flush_timeout, &t->flush_entry);
}

int gw_trace_export_init(gw_worker_t *w, char *err, size_t errlen)
{
    if (!w->cfg->enable_tracing)
        return 0;
    gw_tracer_t *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (gw_httpc_init(&t->c, &w->ctx, "JAEGER_URL", w->cfg->jaeger_url, 4, 5000, err, errlen) != 0) {
        free(t);
        return -1;
    }
    t->w = w;
    h2o_timeout_init(w->ctx.loop, &t->flush_timeout, FLUSH_MS);
    t->flush_entry.cb = on_flush_timer;
    h2o_timeout_link(w->ctx.loop, &t->flush_timeout, &t->flush_entry);
    w->tracer = t;
    return 0;
}

void gw_trace_export_shutdown(gw_worker_t *w)
{
    gw_tracer_t *t = w->tracer;
    if (t == NULL)
        return;
    if (t->call.client != NULL)
        h2o_http1client_cancel(t->call.client);
    if (h2o_timeout_is_linked(&t->flush_entry))
        h2o_timeout_unlink(&t->flush_entry);
    if (t->body.data != NULL)
        gw_buf_free(&t->body);
    gw_httpc_dispose(&t->c);
    free(t);
    w->tracer = NULL;
}

void gw_trace_record(gw_worker_t *w, const gw_span_t *span)
{
    gw_tracer_t *t = w->tracer;
    if (t == NULL)
        return;
    if (t->count == SPAN_CAP) {
        gw_met_count(w->met, GW_CTR_TRACE_SPANS_DROPPED);
        return;
    }
    t->spans[(t->head + t->count) % SPAN_CAP] = *span;
    t->count++;
    if (t->count - t->batch >= BATCH_MAX)
        flush(t);
}

/* ---- OTLP JSON ------------------------------------------------------------ */

static void attr_strn(gw_buf_t *b, bool *first, const char *key, const char *value, size_t n)
{
    gw_buf_puts(b, *first ? "{\"key\":" : ",{\"key\":");
    *first = false;
    gw_buf_json_cstr(b, key);
    gw_buf_puts(b, ",\"value\":{\"stringValue\":");
    gw_buf_json_str(b, value, n);
    gw_buf_puts(b, "}}");
}

static void attr_str(gw_buf_t *b, bool *first, const char *key, const char *value)
{
    if (value != NULL)
        attr_strn(b, first, key, value, strlen(value));
}

static void attr_int(gw_buf_t *b, bool *first, const char *key, int64_t value)
{
    gw_buf_puts(b, *first ? "{\"key\":" : ",{\"key\":");
    *first = false;
    gw_buf_json_cstr(b, key);
    gw_buf_puts(b, ",\"value\":{\"intValue\":\"");
    gw_buf_i64(b, value);
    gw_buf_puts(b, "\"}}");
}

/* A CLIENT span: a gRPC call (name "/pkg.Service/Method") gets rpc.*
 * attributes, the notification proxy gets http.* ones. */
static void client_attrs(gw_buf_t *b, bool *first, const gw_span_t *s)
{
    attr_str(b, first, "peer.service", s->service);
    const char *slash = s->name[0] == '/' ? strchr(s->name + 1, '/') : NULL;
    if (slash == NULL) {
        attr_str(b, first, "http.method", s->method);
        attr_int(b, first, "http.status_code", s->status);
        return;
    }
    attr_str(b, first, "rpc.system", "grpc");
    attr_strn(b, first, "rpc.service", s->name + 1, (size_t)(slash - s->name - 1));
    attr_str(b, first, "rpc.method", slash + 1);
    attr_int(b, first, "rpc.grpc.status_code", s->status);
}

static void span_json(gw_buf_t *b, const gw_span_t *s)
{
    char id[33];
    gw_buf_puts(b, "{\"traceId\":\"");
    gw_trace_hex(id, s->trace_id, 16);
    gw_buf_add(b, id, 32);
    gw_buf_puts(b, "\",\"spanId\":\"");
    gw_trace_hex(id, s->span_id, 8);
    gw_buf_add(b, id, 16);
    gw_buf_puts(b, "\",\"parentSpanId\":\"");
    if (s->has_parent) {
        gw_trace_hex(id, s->parent_id, 8);
        gw_buf_add(b, id, 16);
    }
    gw_buf_puts(b, "\",\"name\":");
    if (s->kind == GW_SPAN_SERVER) {
        char name[160];
        snprintf(name, sizeof(name), "%s %s", s->method, s->name);
        gw_buf_json_cstr(b, name);
    } else {
        gw_buf_json_cstr(b, s->name);
    }
    gw_buf_printf(b, ",\"kind\":%d,\"startTimeUnixNano\":\"", (int)s->kind);
    gw_buf_u64(b, s->start_ns);
    gw_buf_puts(b, "\",\"endTimeUnixNano\":\"");
    gw_buf_u64(b, s->end_ns);
    gw_buf_puts(b, "\",\"attributes\":[");
    bool first = true;
    if (s->kind == GW_SPAN_SERVER) {
        attr_str(b, &first, "http.method", s->method);
        attr_str(b, &first, "http.route", s->name);
        attr_int(b, &first, "http.status_code", s->status);
    } else {
        client_attrs(b, &first, s);
    }
    gw_buf_printf(b, "],\"status\":{\"code\":%d}}", s->error ? 2 : 1);
}

/* The POST for the oldest `n` spans into t->body (owned by the export). */
static void build_batch(gw_tracer_t *t, size_t n)
{
    gw_buf_t json;
    gw_buf_init(&json, 512 * n + 256);
    gw_buf_puts(&json, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
                       "\"value\":{\"stringValue\":\"api-gateway\"}}]},\"scopeSpans\":[{\"scope\":"
                       "{\"name\":\"api-gateway\"},\"spans\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            gw_buf_putc(&json, ',');
        span_json(&json, &t->spans[(t->head + i) % SPAN_CAP]);
    }
    gw_buf_puts(&json, "]}]}]}");
    gw_buf_init(&t->body, json.len + 512);
    bool has_path = t->c.url.path.len > 1;
    gw_buf_puts(&t->body, "POST ");
    if (has_path)
        gw_buf_add(&t->body, t->c.url.path.base, t->c.url.path.len);
    else
        gw_buf_puts(&t->body, "/v1/traces");
    gw_buf_puts(&t->body, " HTTP/1.1\r\nHost: ");
    gw_buf_add(&t->body, t->c.url.authority.base, t->c.url.authority.len);
    gw_buf_printf(&t->body, "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", json.len);
    size_t head = t->body.len;
    gw_buf_add(&t->body, json.data, json.len);
    gw_buf_free(&json);
    t->call.reqbufs[0] = h2o_iovec_init(t->body.data, head);
    t->call.reqbufs[1] = h2o_iovec_init(t->body.data + head, t->body.len - head);
}

/* The export of the current batch ended: account for it, free it. */
static void export_done(gw_tracer_t *t, int status, const char *error)
{
    gw_metrics_slot_t *met = t->w->met;
    if (error == NULL && status >= 200 && status < 300) {
        gw_met_add(&met->counters[GW_CTR_TRACE_SPANS_EXPORTED], t->batch);
        t->warned = false;
    } else {
        gw_met_count(met, GW_CTR_TRACE_EXPORT_ERRORS);
        gw_met_add(&met->counters[GW_CTR_TRACE_SPANS_DROPPED], t->batch);
        if (!t->warned) { /* once per failure streak, not once a second */
            gw_logf(GW_LOG_WARN, "trace export to %s failed: %s", t->w->cfg->jaeger_url,
                    error ? error : "non-2xx status");
            t->warned = true;
        }
    }
    t->head = (t->head + t->batch) % SPAN_CAP;
    t->count -= t->batch;
    t->batch = 0;
    t->call.client = NULL;
    gw_buf_free(&t->body);
    t->body.data = NULL;
}

static void on_export_done(gw_httpc_call_t *call, int status, const char *errstr, bool connected)
{
    (void)connected;
    export_done(H2O_STRUCT_FROM_MEMBER(gw_tracer_t, call, call), status, errstr);
}

/* Send the waiting spans (up to BATCH_MAX) unless an export is in flight. */
static void flush(gw_tracer_t *t)
{
    if (t->call.client != NULL || t->batch > 0 || t->count == 0)
        return;
    t->batch = t->count < BATCH_MAX ? t->count : BATCH_MAX;
    build_batch(t, t->batch);
    t->call.on_done = on_export_done;
    gw_httpc_send(&t->c, &t->call);
}
