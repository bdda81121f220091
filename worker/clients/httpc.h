/*
 * An outgoing HTTP/1.1 endpoint on a worker's loop: the parsed URL, a
 * keep-alive socket pool and h2o's client context. Shared by the
 * notification proxy (worker/upstream_http.c) and the trace exporter
 * (worker/trace_export.c). Owns a copy of the URL text (the parsed URL
 * points into it) until gw_httpc_dispose.
 */
#ifndef GW_HTTPC_H
#define GW_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#define H2O_USE_LIBUV 0
#include <h2o.h>

typedef struct {
    h2o_url_t url;
    char *url_text;
    h2o_socketpool_t pool;
    h2o_http1client_ctx_t ctx;
    h2o_timeout_t io_timeout;
} gw_httpc_t;

/* Parse `url` (named `key` in the error line) and set up the pool of at most
 * `max_sockets` connections, idle ones closed after 2 s. 0, or -1 + err. */
int gw_httpc_init(gw_httpc_t *c, h2o_context_t *ctx, const char *key, const char *url, size_t max_sockets,
                  uint64_t io_timeout_ms, char *err, size_t errlen);

void gw_httpc_dispose(gw_httpc_t *c);

#endif
