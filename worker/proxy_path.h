/*
 * The request-target the notification proxy sends upstream
 * (worker/upstream_http.c): the path we routed, never the raw one.
 *
 * h2o's path_normalized resolves literal dot segments but percent-decodes
 * everything else in the same pass, so "%2e%2e" and "%2F" come out as
 * literal ".." and "/" that were never resolved. Forwarding the raw path
 * lets the backend resolve what we did not route; forwarding the decoded
 * path unencoded lets it resolve "..", or read "?" or "#" we decoded. So the
 * target is rebuilt from the routed segments, each re-encoded, refusing any
 * dot segment left and anything outside the route's prefix.
 */
#ifndef GW_PROXY_PATH_H
#define GW_PROXY_PATH_H

#include <stddef.h>

#include "core/buf.h"

typedef enum {
    GW_PROXY_PATH_OK = 0,
    GW_PROXY_PATH_DOT_SEGMENT,   /* "." or ".." left after normalization (they were encoded) */
    GW_PROXY_PATH_CONTROL_CHAR,  /* a decoded control byte (%00, %0A, ...) */
    GW_PROXY_PATH_OUTSIDE_PREFIX /* not `prefix` itself nor below it */
} gw_proxy_path_result_t;

/* Append to `out` "/seg/seg..." from the normalized path `norm` (empty
 * segments dropped, bytes outside RFC 3986 pchar percent-encoded), then
 * "?" + `query` (the raw query without its '?', NULL for none; bytes that
 * cannot appear in a request line are percent-encoded). `prefix` is a
 * literal path like "/api/v1/notifications". On failure `out` may hold a
 * partial target: the caller discards it. */
gw_proxy_path_result_t gw_proxy_target(const char *norm, size_t norm_len, const char *query, size_t query_len,
                                       const char *prefix, gw_buf_t *out);

const char *gw_proxy_path_error(gw_proxy_path_result_t res);

#endif
