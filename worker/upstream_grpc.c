/*
 * REST → gRPC: turn a routed request into a unary call to its backend and
 * the reply (or the gRPC status) into the HTTP response.
 *
 * Request: JSON body + query parameters + path variables → the route's input
 * message (worker/transcode/transcode.c; for authenticated routes built earlier by the
 * authorize stage, which checks and fills its tenant_id: worker/tenant_scope.c),
 * packed and sent with the metadata of docs/API.md, Backend metadata and a deadline of the request's
 * remaining time. Reply: the output message as JSON, or the mapped error.
 * Called by the dispatch stage; completion runs on the loop thread.
 */
#include "worker/upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/auth.h"
#include "worker/breaker_gate.h"
#include "worker/cache.h"
#include "worker/clients/grpc_client.h"
#include "core/log.h"
#include "worker/respond.h"
#include "worker/tenant_scope.h"
#include "worker/transcode/transcode.h"
#include "core/urlenc.h"

#define MAX_QUERY_PARAMS 32

typedef struct {
    gw_pending_t pending; /* link to the request; NULL req once it is gone */
    gw_grpc_call_t *call;
    const gw_route_t *route; /* the worker's API owns it: outlives the call */
    gw_cb_ticket_t ticket;   /* circuit breaker admission, recorded on completion */
    bool ticket_armed;
} grpc_op_t;

static void cancel_op(gw_pending_t *p)
{
    grpc_op_t *op = H2O_STRUCT_FROM_MEMBER(grpc_op_t, pending, p);
    gw_grpc_call_cancel(op->call);
}

/* Path variables and decoded query parameters for the transcoder. The
 * variables are slices of the path the router matched, h2o's normalized
 * path, which is already percent-decoded: decoding them again would turn
 * `%2541` into `A` and `%252F` into `/` (double decoding). */
static int collect_params(gw_request_t *r, gw_transcode_param_t *vars, size_t *nvars,
                          gw_transcode_param_t *query, size_t *nquery)
{
    h2o_req_t *req = r->req;
    *nvars = 0;
    for (size_t i = 0; i < r->match.nvars; i++) {
        const gw_path_var_t *v = &r->match.vars[i];
        /* A decoded control byte (`%00` would cut the id short in the
         * backend's C string: `a%00b` would address `a`) is refused. */
        if (gw_has_control_byte(v->value, v->value_len))
            return -2;
        vars[(*nvars)++] = (gw_transcode_param_t){v->name, v->name_len, v->value, v->value_len};
    }
    *nquery = 0;
    if (req->query_at != SIZE_MAX) {
        gw_param_t params[MAX_QUERY_PARAMS];
        int n = gw_query_parse(&req->pool, req->path.base + req->query_at + 1,
                               req->path.len - req->query_at - 1, params, MAX_QUERY_PARAMS);
        if (n < 0)
            return -1;
        for (int i = 0; i < n; i++)
            query[(*nquery)++] = (gw_transcode_param_t){params[i].name, params[i].name_len, params[i].value,
                                                        params[i].value_len};
    }
    return 0;
}

ProtobufCMessage *gw_upstream_grpc_input(gw_request_t *r)
{
    gw_transcode_param_t vars[GW_ROUTE_MAX_VARS], query[MAX_QUERY_PARAMS];
    size_t nvars, nquery;
    int bad = collect_params(r, vars, &nvars, query, &nquery);
    if (bad != 0) {
        gw_respond_error(r, 400, NULL,
                         bad == -2 ? "invalid request path" : "malformed percent-encoding in the URL");
        return NULL;
    }
    const h2o_iovec_t *body = &r->req->entity;
    ProtobufCMessage *msg = NULL;
    char err[512];
    /* "*": the body is the whole message (the route's google.api.http body
     * rule is wired in by the route table later) */
    int rc = gw_transcode_request(r->match.route->input, body->base, body->base ? body->len : 0,
                                  r->match.route->body, query, nquery, vars, nvars, &msg, err, sizeof(err));
    if (rc != GW_TRANSCODE_OK) {
        gw_respond_error(r, rc == GW_TRANSCODE_INVALID ? 400 : 500, NULL,
                         rc == GW_TRANSCODE_NOMEM ? "out of memory" : err);
        return NULL;
    }
    return msg;
}

/* Pack the input message (built and tenant-scoped by the authorize stage
 * for authenticated routes, built here for public ones); answers 400
 * itself on bad input. */
static uint8_t *build_payload(gw_request_t *r, size_t *len)
{
    ProtobufCMessage *msg = gw_tenant_scope_take_message(r);
    if (msg == NULL && (msg = gw_upstream_grpc_input(r)) == NULL)
        return NULL;
    if ((r->match.route->flags & GW_RF_LOGOUT) && r->identity != NULL) {
        char *token = h2o_mem_alloc_pool(&r->req->pool, r->identity->token_len + 1);
        memcpy(token, r->identity->token, r->identity->token_len);
        token[r->identity->token_len] = '\0';
        gw_transcode_fill_string_if_empty(msg, "token", token);
    }
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = h2o_mem_alloc_pool(&r->req->pool, *len ? *len : 1);
    protobuf_c_message_pack(msg, buf);
    protobuf_c_message_free_unpacked(msg, NULL);
    return buf;
}

static size_t build_metadata(gw_request_t *r, gw_grpc_md_t *md)
{
    size_t n = 0;
    md[n++] = (gw_grpc_md_t){"x-correlation-id", r->correlation_id.base, r->correlation_id.len};
    if (r->identity != NULL) {
        gw_identity_t *id = r->identity;
        md[n++] = (gw_grpc_md_t){"x-user-id", id->claims.user_id, strlen(id->claims.user_id)};
        md[n++] = (gw_grpc_md_t){"x-tenant-id", id->claims.tenant_id, strlen(id->claims.tenant_id)};
        char *roles = h2o_mem_alloc_pool(&r->req->pool, sizeof(id->claims.roles) + 16);
        roles[0] = '\0';
        for (size_t i = 0; i < id->claims.nroles; i++) {
            if (i > 0)
                strcat(roles, ",");
            strcat(roles, id->claims.roles[i]);
        }
        md[n++] = (gw_grpc_md_t){"x-roles", roles, strlen(roles)};
    }
    const h2o_iovec_t *auth = gw_request_header(r, H2O_STRLIT("authorization"));
    if (auth != NULL)
        md[n++] = (gw_grpc_md_t){"authorization", auth->base, auth->len};
    if (r->traceparent.len > 0)
        md[n++] = (gw_grpc_md_t){"traceparent", r->traceparent.base, r->traceparent.len};
    return n;
}

static void respond_reply(gw_request_t *r, const gw_route_t *route, const gw_grpc_result_t *res)
{
    char *json;
    size_t len;
    /* RESPONSE_REDACT_FIELDS never reach the client, nor the cache (stored below) */
    int rc =
        gw_transcode_response_redacted(route->output, res->reply, res->reply_len,
                                       r->w->cfg->response_redact_fields, route->response_body, &json, &len);
    if (rc != GW_TRANSCODE_OK) {
        gw_respond_error(r, rc == GW_TRANSCODE_INVALID ? 502 : 500, NULL,
                         rc == GW_TRANSCODE_INVALID ? "malformed reply from backend"
                         : rc == GW_TRANSCODE_NOMEM ? "out of memory"
                                                    : "route response field not in the reply message");
        return;
    }
    gw_cache_store(r, json, len);
    bool deferred = ((route->flags & GW_RF_LOGOUT) && gw_auth_logout_reply(r, json, len)) ||
                    gw_cache_invalidate_reply(r, json, len);
    if (!deferred)
        gw_respond_json(r, 200, json, len);
    free(json);
}

/* Our own message size limit refused the call (gRPC core's text in `what`). */
static void log_size_refusal(gw_request_t *r, const gw_route_t *route, const char *what)
{
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_WARN, "backend message too large");
    gw_log_str(&l, "service", route->upstream->label);
    gw_log_str(&l, "rpc", route->rpc);
    gw_log_str(&l, "details", what);
    gw_log_int(&l, "max_request_message", (int64_t)gw_grpc_max_send(r->w));
    gw_log_int(&l, "max_response_size", r->w->cfg->max_response_size);
    gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
    gw_log_end(&l);
}

static void on_done(gw_grpc_call_t *call, void *data)
{
    grpc_op_t *op = data;
    const gw_grpc_result_t *res = gw_grpc_call_result(call);
    gw_worker_t *w = gw_worker_self();
    gw_met_observe_backend_reason(w->met, op->route->upstream->slot, gw_grpc_result_code(res), res->reason,
                                  res->latency_us);
    gw_request_t *r = op->pending.req;
    bool transport = false;
    char message[512];
    int status = res->status == GRPC_STATUS_OK ? 200
                                               : gw_grpc_error_response(w, op->route->upstream->slot, res,
                                                                        message, sizeof(message), &transport);
    /* A local size refusal is RESOURCE_EXHAUSTED, never a breaker failure:
     * the backend answered (a reply over MAX_RESPONSE_SIZE) or was never
     * reached, so it is recorded like any non-failure outcome. */
    if (op->ticket_armed)
        gw_breaker_gate_record(w, op->route->upstream->slot, &op->ticket,
                               gw_breaker_is_failure(res->status, transport));
    if (r == NULL) { /* the client went away; the call was cancelled */
        free(op);
        return;
    }
    r->pending = NULL;
    r->t_backend_us = (uint32_t)res->latency_us;
    if (r->trace.on)
        gw_trace_client_end(r, op->route->upstream->label, op->route->rpc, res->latency_us, (int)res->status,
                            gw_breaker_is_failure(res->status, transport));
    if (status == 200) {
        respond_reply(r, op->route, res);
    } else {
        if (res->local_limit != GW_GRPC_LIMIT_NONE) {
            log_size_refusal(r, op->route, res->details);
        } else if (status >= 500) {
            gw_log_line_t l;
            gw_log_begin(&l, GW_LOG_WARN, "backend call failed");
            gw_log_str(&l, "service", op->route->upstream->label);
            gw_log_str(&l, "rpc", op->route->rpc);
            gw_log_str(&l, "target", op->route->upstream->target);
            gw_log_str(&l, "grpc_status", gw_met_code_names[res->status < 17 ? res->status : 2]);
            gw_log_str(&l, "reason", gw_met_reason_names[res->reason]);
            gw_log_str(&l, "message", message);
            gw_log_str(&l, "details", res->details);
            gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
            gw_log_end(&l);
        }
        gw_respond_error(r, status, NULL, message);
    }
    free(op);
}

gw_stage_result_t gw_upstream_grpc(gw_request_t *r)
{
    const gw_route_t *route = r->match.route;
    size_t len;
    uint8_t *payload = build_payload(r, &len);
    if (payload == NULL)
        return GW_DONE;
    if (len > gw_grpc_max_send(r->w)) { /* gRPC would refuse it: do it here, before any call */
        char what[96];
        snprintf(what, sizeof(what), "request message of %zu bytes over the send limit", len);
        gw_met_observe_backend(r->w->met, route->upstream->slot, GW_CODE_REQUEST_TOO_LARGE, 0);
        r->upstream = route->upstream->label;
        log_size_refusal(r, route, what);
        gw_respond_error(r, 413, NULL, "request body too large");
        return GW_DONE;
    }
    gw_grpc_md_t md[GW_GRPC_MAX_MD];
    size_t nmd = build_metadata(r, md);
    grpc_op_t *op = calloc(1, sizeof(*op));
    if (op == NULL) {
        gw_respond_error(r, 500, NULL, "out of memory");
        return GW_DONE;
    }
    op->route = route;
    op->ticket = r->cb_ticket;
    op->ticket_armed = r->cb_armed;
    r->upstream = route->upstream->label;
    op->call = gw_grpc_call_start(r->w, route->upstream->slot, route->rpc, payload, len, md, nmd,
                                  r->deadline_us, on_done, op);
    if (op->call == NULL) {
        free(op);
        gw_respond_error(r, 502, NULL, "cannot start the backend call");
        return GW_DONE;
    }
    op->pending.req = r;
    op->pending.cancel = cancel_op;
    r->pending = &op->pending;
    return GW_ASYNC;
}
