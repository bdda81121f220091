/*
 * CORS headers and preflight answers (see worker/cors.h).
 */
#include "worker/cors.h"

#include <string.h>
#include <strings.h>

#include "worker/respond.h"

/* Is `origin` listed in CORS_ALLOWED_ORIGINS (comma separated, "*" = any)? */
static bool origin_allowed(const char *list, const h2o_iovec_t *origin)
{
    const char *p = list;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ',' && *p != ' ')
            p++;
        size_t n = (size_t)(p - start);
        if (n == 1 && *start == '*')
            return true;
        if (n == origin->len && strncasecmp(start, origin->base, n) == 0)
            return true;
    }
    return false;
}

static const h2o_iovec_t *allowed_origin(gw_request_t *r)
{
    const char *list = r->w->cfg->cors_allowed_origins;
    if (list == NULL || list[0] == '\0')
        return NULL;
    const h2o_iovec_t *origin = gw_request_header(r, H2O_STRLIT("origin"));
    if (origin == NULL || !origin_allowed(list, origin))
        return NULL;
    return origin;
}

void gw_cors_add_headers(gw_request_t *r)
{
    const h2o_iovec_t *origin = allowed_origin(r);
    if (origin == NULL)
        return;
    h2o_req_t *req = r->req;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, origin->base,
                   origin->len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-expose-headers"), 0, NULL,
                          H2O_STRLIT("X-Correlation-ID, X-RateLimit-Limit, X-RateLimit-Remaining, "
                                     "X-RateLimit-Reset, Retry-After, X-Cache"));
}

bool gw_cors_preflight(gw_request_t *r, unsigned allowed)
{
    if (r->method != GW_METHOD_OPTIONS || allowed_origin(r) == NULL ||
        gw_request_header(r, H2O_STRLIT("access-control-request-method")) == NULL)
        return false;
    char methods[64];
    size_t n = gw_method_list(allowed, methods, sizeof(methods));
    gw_respond_header(r, "access-control-allow-methods", methods, n);
    gw_respond_header(r, "access-control-allow-headers",
                      H2O_STRLIT("Authorization, Content-Type, X-Correlation-ID, X-Request-ID, traceparent"));
    gw_respond_header(r, "access-control-max-age", H2O_STRLIT("600"));
    gw_respond(r, 204, NULL, "", 0);
    return true;
}
