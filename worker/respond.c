/*
 * Response helpers and the error envelope (see worker/respond.h). Called by
 * every pipeline stage and handler on the worker's event loop.
 */
#include "worker/respond.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "worker/cors.h"

const char *gw_error_code_for_status(int status)
{
    switch (status) {
    case 400:
        return "BAD_REQUEST";
    case 401:
        return "UNAUTHORIZED";
    case 403:
        return "FORBIDDEN";
    case 404:
        return "NOT_FOUND";
    case 405:
        return "METHOD_NOT_ALLOWED";
    case 408:
        return "REQUEST_TIMEOUT";
    case 409:
        return "CONFLICT";
    case 413:
        return "PAYLOAD_TOO_LARGE";
    case 414:
        return "URI_TOO_LONG";
    case 429:
        return "RATE_LIMIT_EXCEEDED";
    case 431:
        return "HEADERS_TOO_LARGE";
    case 499:
        return "CLIENT_CLOSED_REQUEST";
    case 501:
        return "NOT_IMPLEMENTED";
    case 502:
        return "BAD_GATEWAY";
    case 503:
        return "SERVICE_UNAVAILABLE";
    case 504:
        return "GATEWAY_TIMEOUT";
    default:
        return status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST";
    }
}

void gw_error_envelope(void *bufp, const char *code, const char *message, const char *corr, size_t corr_len)
{
    gw_buf_t *b = bufp;
    gw_buf_puts(b, "{\"success\":false,\"error\":{\"code\":");
    gw_buf_json_cstr(b, code);
    gw_buf_puts(b, ",\"message\":");
    gw_buf_json_cstr(b, message);
    gw_buf_puts(b, "},\"correlation_id\":");
    gw_buf_json_str(b, corr, corr_len);
    gw_buf_puts(b, ",\"timestamp\":\"");
    gw_buf_time_s(b, gw_wall_ms());
    gw_buf_puts(b, "\"}");
}

void gw_respond_header(gw_request_t *r, const char *name, const char *value, size_t len)
{
    h2o_req_t *req = r->req;
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL,
                          h2o_strdup(&req->pool, value, len).base, len);
}

/* `name` must be a string literal: h2o keeps the pointer. */
static void add_long_header(gw_request_t *r, const char *name, long v)
{
    char *s = h2o_mem_alloc_pool(&r->req->pool, 24);
    int n = snprintf(s, 24, "%ld", v);
    h2o_add_header_by_str(&r->req->pool, &r->req->res.headers, name, strlen(name), 0, NULL, s, (size_t)n);
}

/* RFC 6750 §3 (and RFC 9110 §15.5.2: every 401 names a scheme). A request
 * that presented a bearer token was refused for that token; one with another
 * kind of Authorization is a malformed attempt; one without any gets the bare
 * challenge. Backend 401s (a failed login) are answered the same way. */
static void add_www_authenticate(gw_request_t *r)
{
    static const char bare[] = "Bearer realm=\"api-gateway\"";
    static const char invalid_token[] = "Bearer realm=\"api-gateway\", error=\"invalid_token\"";
    static const char invalid_request[] = "Bearer realm=\"api-gateway\", error=\"invalid_request\"";
    const h2o_iovec_t *h = gw_request_header(r, H2O_STRLIT("authorization"));
    const char *v = bare;
    size_t len = sizeof(bare) - 1;
    if (h != NULL && h->len > 7 && strncasecmp(h->base, "bearer ", 7) == 0) {
        v = invalid_token;
        len = sizeof(invalid_token) - 1;
    } else if (h != NULL) {
        v = invalid_request;
        len = sizeof(invalid_request) - 1;
    }
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, v, len);
}

static void add_common_headers(gw_request_t *r, int status)
{
    h2o_req_t *req = r->req;
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-correlation-id"), 0, NULL,
                          r->correlation_id.base, r->correlation_id.len);
    if (status == 401)
        add_www_authenticate(r);
    if (r->rl_limit > 0 && ((status >= 200 && status < 300) || status == 429)) {
        add_long_header(r, "x-ratelimit-limit", r->rl_limit);
        add_long_header(r, "x-ratelimit-remaining", r->rl_remaining);
        add_long_header(r, "x-ratelimit-reset", r->rl_reset);
    }
    if (r->cache != NULL && r->cache[0] != '\0') {
        bool hit = r->cache[0] == 'H';
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-cache"), 0, NULL,
                              hit ? "HIT" : "MISS", hit ? 3 : 4);
    }
    gw_cors_add_headers(r);
}

const char *gw_http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 499:
        return "Client Closed Request";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

void gw_respond(gw_request_t *r, int status, const char *content_type, const char *body, size_t len)
{
    h2o_req_t *req = r->req;
    req->res.status = status;
    req->res.reason = gw_http_reason(status);
    req->res.content_length = len;
    if (content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                       strlen(content_type));
    add_common_headers(r, status);
    gw_request_finish(r, status);
    h2o_send_inline(req, body, len);
}

void gw_respond_json(gw_request_t *r, int status, const char *body, size_t len)
{
    gw_respond(r, status, "application/json", body, len);
}

void gw_respond_error(gw_request_t *r, int status, const char *code, const char *message)
{
    char storage[1024];
    gw_buf_t b;
    gw_buf_init_fixed(&b, storage, sizeof(storage));
    gw_error_envelope(&b, code ? code : gw_error_code_for_status(status), message, r->correlation_id.base,
                      r->correlation_id.len);
    if (b.truncated) {
        /* Only a huge backend message can overflow: send it without it. */
        gw_buf_init_fixed(&b, storage, sizeof(storage));
        gw_error_envelope(&b, code ? code : gw_error_code_for_status(status), "(message too long)",
                          r->correlation_id.base, r->correlation_id.len);
    }
    gw_respond_json(r, status, b.data, b.len);
}

void gw_respond_errorf(gw_request_t *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_respond_error(r, status, code, msg);
}
