/*
 * The notification proxy: routes of kind PROXY are forwarded, same method,
 * the routed path (worker/proxy_path.c: normalized, re-encoded, kept under
 * /api/v1/notifications) and the original query, to NOTIFICATION_SERVICE_URL
 * with h2o's HTTP/1.1 client over a keep-alive socket pool. The whole
 * upstream response is buffered (at most MAX_RESPONSE_SIZE: a bigger one is
 * a 502) and sent through our responders, so it is counted, logged and,
 * when the service is unreachable, answered with the envelope (docs/API.md, Envelope) and the
 * guide's messages.
 */
#include <grpc/status.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/breaker_gate.h"
#include "worker/clients/httpc.h"
#include "core/api.h"
#include "core/log.h"
#include "worker/proxy_path.h"
#include "worker/respond.h"
#include "worker/upstream.h"
#include "worker/clients/upstream_reason.h"

/* Every PROXY route (core/api.c, proxies[]) lives below this path. */
#define PROXY_PREFIX "/api/v1/notifications"

/* finish()'s error for a reply over MAX_RESPONSE_SIZE (compared by address). */
static const char too_large[] = "backend response too large";
/* finish()'s error when the request ran out of time (compared by address). */
static const char deadline[] = "context deadline exceeded";

typedef struct gw_http_upstream {
    gw_httpc_t c; /* NOTIFICATION_SERVICE_URL; lives as long as the worker */
} gw_http_upstream_t;

typedef struct {
    gw_pending_t pending;
    gw_httpc_call_t call; /* reqbufs: the head (request pool) and the client's body */
    h2o_iovec_t content_type;
    h2o_buffer_t *body;
    uint64_t start_us;
    gw_cb_ticket_t ticket; /* circuit breaker admission, recorded on completion */
    bool ticket_armed;
} http_op_t;

int gw_upstream_http_init(gw_worker_t *w, char *err, size_t errlen)
{
    gw_http_upstream_t *u = calloc(1, sizeof(*u));
    if (u == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (gw_httpc_init(&u->c, &w->ctx, "NOTIFICATION_SERVICE_URL", w->cfg->notification_service_url, 256,
                      (uint64_t)(w->cfg->request_timeout * 1000), err, errlen) != 0) {
        free(u);
        return -1;
    }
    w->http = u;
    return 0;
}

static void free_op(http_op_t *op)
{
    if (op->body != NULL)
        h2o_buffer_dispose(&op->body);
    free(op->content_type.base);
    free(op);
}

/* The client went away first (HTTP/2 reset, or the hang-up watch of
 * worker/hangup.c): close the upstream request; counted as CANCELLED, and
 * like a cancelled gRPC call not a breaker failure. */
static void cancel_op(gw_pending_t *p)
{
    http_op_t *op = H2O_STRUCT_FROM_MEMBER(http_op_t, pending, p);
    gw_worker_t *w = gw_worker_self();
    gw_met_observe_backend(w->met, GW_SVC_NOTIFICATION, GRPC_STATUS_CANCELLED, gw_now_us() - op->start_us);
    if (op->ticket_armed)
        gw_breaker_gate_record(w, GW_SVC_NOTIFICATION, &op->ticket, false);
    if (op->call.client != NULL)
        h2o_http1client_cancel(op->call.client);
    free_op(op);
}

static unsigned result_code(int status)
{
    return status >= 500 ? GW_CODE_HTTP_5XX : status >= 400 ? GW_CODE_HTTP_4XX : GW_CODE_HTTP_2XX;
}

/* The backend_requests_total code of an outcome: a transport failure is not
 * a 5xx from the backend, and running out of time is the request's deadline. */
static unsigned outcome_code(int status, const char *error, gw_backend_reason_t reason)
{
    if (error == too_large)
        return GW_CODE_RESPONSE_TOO_LARGE;
    if (error == deadline)
        return GRPC_STATUS_DEADLINE_EXCEEDED;
    if (error != NULL || reason != GW_REASON_NONE)
        return GW_CODE_TRANSPORT_ERROR;
    return result_code(status);
}

static void log_failure(gw_request_t *r, const char *error, gw_backend_reason_t reason, const char *raw)
{
    gw_worker_t *w = r->w;
    bool local = error == too_large;
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_WARN, local ? "backend message too large" : "backend call failed");
    gw_log_str(&l, "service", gw_api_proxy_upstream(w->cfg->api)->label);
    if (local) {
        gw_log_str(&l, "details", error);
        gw_log_int(&l, "max_response_size", w->cfg->max_response_size);
    } else {
        const h2o_url_t *url = &w->http->c.url;
        char target[300]; /* host:port only: never any userinfo of the URL */
        snprintf(target, sizeof(target), "%.*s:%u", (int)url->host.len, url->host.base,
                 (unsigned)h2o_url_get_port(url));
        gw_log_str(&l, "target", target);
        gw_log_str(&l, "reason", gw_met_reason_names[reason]);
        gw_log_str(&l, "message", error);
        gw_log_str(&l, "details", raw != NULL ? raw : "");
    }
    gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
    gw_log_end(&l);
}

/* Finish: count, answer (if the client is still there), free. `error` is
 * the client's message when no response is relayed (`raw` h2o's text). */
static void finish(http_op_t *op, int status, const char *error, gw_backend_reason_t reason, const char *raw)
{
    gw_worker_t *w = gw_worker_self();
    bool local = error == too_large; /* our limit, not the backend's failure */
    gw_met_observe_backend_reason(w->met, GW_SVC_NOTIFICATION, outcome_code(status, error, reason), reason,
                                  gw_now_us() - op->start_us);
    if (op->ticket_armed)
        gw_breaker_gate_record(w, GW_SVC_NOTIFICATION, &op->ticket,
                               !local && (error != NULL || status >= 500));
    gw_request_t *r = op->pending.req;
    op->call.client = NULL;
    r->pending = NULL;
    r->t_backend_us = (uint32_t)(gw_now_us() - op->start_us);
    if (r->trace.on)
        gw_trace_client_end(r, gw_api_proxy_upstream(w->cfg->api)->label, "proxy", r->t_backend_us,
                            error ? 502 : status, error != NULL || status >= 500);
    if (error != NULL) {
        log_failure(r, error, reason, raw);
        gw_respond_error(r, error == deadline ? 504 : 502, NULL, error);
    } else {
        const char *ct = op->content_type.base ? op->content_type.base : "application/json";
        gw_respond(r, status, ct, op->body ? op->body->bytes : "", op->body ? op->body->size : 0);
    }
    free_op(op);
}

/* h2o's client error `errstr`, before (`connected` false) or after the
 * connection was made: the request's deadline (504) or a transport failure
 * worded like the gRPC ones (worker/clients/upstream_reason.h). */
static void fail(http_op_t *op, const char *errstr, bool connected)
{
    if (gw_reason_http_is_deadline(errstr, connected)) {
        finish(op, 0, deadline, GW_REASON_NONE, errstr);
        return;
    }
    gw_http_upstream_t *u = gw_worker_self()->http;
    gw_backend_reason_t reason = gw_reason_from_http(errstr, connected);
    char message[256];
    gw_reason_message(reason, u->c.url.host.base, u->c.url.host.len, message, sizeof(message));
    finish(op, 0, message, reason, errstr);
}

static http_op_t *op_of(gw_httpc_call_t *call)
{
    return H2O_STRUCT_FROM_MEMBER(http_op_t, call, call);
}

static void on_done(gw_httpc_call_t *call, int status, const char *errstr, bool connected)
{
    if (errstr == NULL)
        finish(op_of(call), status, NULL, GW_REASON_NONE, NULL);
    else
        fail(op_of(call), errstr, connected);
}

/* A declared length over MAX_RESPONSE_SIZE is refused before any of the body is read. */
static bool on_head(gw_httpc_call_t *call, const h2o_header_t *headers, size_t num_headers)
{
    http_op_t *op = op_of(call);
    for (size_t i = 0; i < num_headers; i++) {
        const h2o_header_t *h = &headers[i];
        if (h2o_lcstris(h->name->base, h->name->len, H2O_STRLIT("content-type"))) {
            free(op->content_type.base);
            op->content_type = h2o_strdup(NULL, h->value.base, h->value.len);
        } else if (h2o_lcstris(h->name->base, h->name->len, H2O_STRLIT("content-length"))) {
            size_t declared = h2o_strtosize(h->value.base, h->value.len);
            if (declared != SIZE_MAX && declared > (size_t)gw_worker_self()->cfg->max_response_size) {
                finish(op, 0, too_large, GW_REASON_NONE, NULL);
                return false;
            }
        }
    }
    h2o_buffer_init(&op->body, &h2o_socket_buffer_prototype);
    return true;
}

static bool on_data(gw_httpc_call_t *call, const char *bytes, size_t len)
{
    http_op_t *op = op_of(call);
    if (op->body->size + len > (size_t)gw_worker_self()->cfg->max_response_size) {
        finish(op, 0, too_large, GW_REASON_NONE, NULL);
        return false;
    }
    h2o_buffer_reserve(&op->body, len);
    memcpy(op->body->bytes + op->body->size, bytes, len);
    op->body->size += len;
    return true;
}

static void add_header(gw_buf_t *b, const char *name, const char *value, size_t len)
{
    gw_buf_printf(b, "%s: ", name);
    gw_buf_add(b, value, len);
    gw_buf_puts(b, "\r\n");
}

/* The upstream request head, in the request's pool; {NULL, 0} (and a 400
 * answered) when the routed path cannot be forwarded. */
static h2o_iovec_t build_head(gw_request_t *r)
{
    h2o_req_t *req = r->req;
    gw_http_upstream_t *u = r->w->http;
    gw_buf_t b;
    gw_buf_init(&b, 1024);
    gw_buf_add(&b, req->method.base, req->method.len);
    gw_buf_putc(&b, ' ');
    bool has_query = req->query_at != SIZE_MAX;
    gw_proxy_path_result_t pr =
        gw_proxy_target(req->path_normalized.base, req->path_normalized.len,
                        has_query ? req->path.base + req->query_at + 1 : NULL,
                        has_query ? req->path.len - req->query_at - 1 : 0, PROXY_PREFIX, &b);
    if (pr != GW_PROXY_PATH_OK) {
        gw_buf_free(&b);
        gw_log_line_t l;
        gw_log_begin(&l, GW_LOG_WARN, "proxy path refused");
        gw_log_str(&l, "reason", gw_proxy_path_error(pr));
        gw_log_strn(&l, "path", req->path.base, req->query_at != SIZE_MAX ? req->query_at : req->path.len);
        gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
        gw_log_end(&l);
        gw_respond_error(r, 400, NULL, "invalid request path");
        return h2o_iovec_init(NULL, 0);
    }
    gw_buf_puts(&b, " HTTP/1.1\r\nHost: ");
    gw_buf_add(&b, u->c.url.authority.base, u->c.url.authority.len);
    gw_buf_printf(&b, "\r\nContent-Length: %zu\r\n", req->entity.base ? req->entity.len : 0);
    static const char *const forwarded[] = {"content-type", "authorization", "accept", "user-agent"};
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
        const h2o_iovec_t *v = gw_request_header(r, forwarded[i], strlen(forwarded[i]));
        if (v != NULL)
            add_header(&b, forwarded[i], v->base, v->len);
    }
    if (r->traceparent.len > 0)
        add_header(&b, "traceparent", r->traceparent.base, r->traceparent.len);
    add_header(&b, "x-correlation-id", r->correlation_id.base, r->correlation_id.len);
    add_header(&b, "x-forwarded-for", r->ip, strlen(r->ip));
    if (r->identity != NULL) {
        add_header(&b, "x-user-id", r->identity->claims.user_id, strlen(r->identity->claims.user_id));
        add_header(&b, "x-tenant-id", r->identity->claims.tenant_id, strlen(r->identity->claims.tenant_id));
    }
    gw_buf_puts(&b, "\r\n");
    h2o_iovec_t head = h2o_strdup(&req->pool, b.data, b.len);
    gw_buf_free(&b);
    return head;
}

gw_stage_result_t gw_upstream_http(gw_request_t *r)
{
    gw_http_upstream_t *u = r->w->http;
    h2o_iovec_t head = build_head(r);
    if (head.base == NULL)
        return GW_DONE;
    http_op_t *op = calloc(1, sizeof(*op));
    if (op == NULL) {
        gw_respond_error(r, 500, NULL, "out of memory");
        return GW_DONE;
    }
    op->call.reqbufs[0] = head;
    op->call.reqbufs[1] = r->req->entity.base ? r->req->entity : h2o_iovec_init(NULL, 0);
    op->start_us = gw_now_us();
    op->ticket = r->cb_ticket;
    op->ticket_armed = r->cb_armed;
    op->pending.req = r;
    op->pending.cancel = cancel_op;
    r->pending = &op->pending;
    r->upstream = gw_api_proxy_upstream(r->w->cfg->api)->label;
    op->call.on_done = on_done;
    op->call.on_head = on_head;
    op->call.on_data = on_data;
    gw_httpc_send(&u->c, &op->call);
    return GW_ASYNC;
}
