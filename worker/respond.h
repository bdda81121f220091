/*
 * Responders: every response the pipeline produces goes through here, so
 * that each one carries X-Correlation-ID (and X-RateLimit-* / CORS headers
 * where due, WWW-Authenticate: Bearer on every 401), errors share the
 * envelope of docs/API.md, Envelope, and gw_request_finish() records the status, the metrics
 * and the access line exactly once.
 */
#ifndef GW_RESPOND_H
#define GW_RESPOND_H

#include <stddef.h>

#include "worker/request.h"

/* Send `body` (copied into the request pool) with a content type. */
void gw_respond(gw_request_t *r, int status, const char *content_type, const char *body, size_t len);
void gw_respond_json(gw_request_t *r, int status, const char *body, size_t len);

/* The error envelope:
 * {"success":false,"error":{"code":C,"message":M},"correlation_id":…,"timestamp":…}
 * code NULL = the default code for the status (gw_error_code_for_status). */
void gw_respond_error(gw_request_t *r, int status, const char *code, const char *message);
void gw_respond_errorf(gw_request_t *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

const char *gw_error_code_for_status(int status);

/* Write the envelope into a gw_buf_t (used by the early-error filter too). */
void gw_error_envelope(void *buf, const char *code, const char *message, const char *corr, size_t corr_len);

const char *gw_http_reason(int status);

/* Add a response header; `name` must be a string literal (h2o keeps the
 * pointer), the value is copied into the request pool. */
void gw_respond_header(gw_request_t *r, const char *name, const char *value, size_t len);

#endif
