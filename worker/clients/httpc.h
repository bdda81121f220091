/*
 * An outgoing HTTP/1.1 endpoint on a worker's loop: the parsed URL, a
 * keep-alive socket pool and h2o's client context. Shared by the
 * notification proxy (worker/upstream_http.c) and the trace exporter
 * (worker/trace_export.c). Owns a copy of the URL text (the parsed URL
 * points into it) until gw_httpc_dispose. gw_httpc_send runs one exchange
 * (connect, send, read the head and body) with h2o's callbacks written once
 * here; the caller sees only the outcome.
 */
#ifndef GW_HTTPC_H
#define GW_HTTPC_H

#include <stdbool.h>
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

/* One request/response exchange, embedded in the caller's state (reach it
 * with H2O_STRUCT_FROM_MEMBER). The caller fills reqbufs and the callbacks;
 * the callbacks run on the loop. */
typedef struct gw_httpc_call gw_httpc_call_t;
struct gw_httpc_call {
    h2o_http1client_t *client; /* h2o's, while in flight: h2o_http1client_cancel to abandon */
    h2o_iovec_t reqbufs[2];    /* the head, then the body ({NULL, 0}: none); the caller's memory */
    int status;                /* the response's, once its head arrived */
    /* The exchange is over: `errstr` NULL, a whole response of `status`; else
     * h2o's error before (`connected` false) or after the connection was
     * made (status 0). Not called after on_head/on_data returned false. */
    void (*on_done)(gw_httpc_call_t *call, int status, const char *errstr, bool connected);
    /* Optional: the response head (status in call->status). false: the
     * callback ended the exchange itself; nothing more is read. */
    bool (*on_head)(gw_httpc_call_t *call, const h2o_header_t *headers, size_t num_headers);
    /* Optional (NULL: the body is discarded): a piece of the body. false:
     * the callback ended the exchange itself; the connection is closed. */
    bool (*on_data)(gw_httpc_call_t *call, const char *bytes, size_t len);
};

/* Connect (through the pool), send call->reqbufs, read the response. */
void gw_httpc_send(gw_httpc_t *c, gw_httpc_call_t *call);

#endif
