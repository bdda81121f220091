/*
 * The admit stage, first of the pipeline (worker/pipeline.c runs it): the
 * route-level checks decidable from the route and the headers alone — the
 * metrics switch, ADMIN_ALLOW, header and body sizes, a duplicate
 * Authorization, a body without Content-Type.
 */
#include "core/cidr.h"
#include "core/log.h"
#include "worker/h1guard.h"
#include "worker/respond.h"
#include "worker/stages.h"

/* Route-level admission: everything decidable from the route and headers. */
gw_stage_result_t gw_stage_admit(gw_request_t *r)
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
