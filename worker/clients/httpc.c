/*
 * Outgoing HTTP/1.1 endpoints (see worker/clients/httpc.h).
 */
#include "worker/clients/httpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gw_httpc_init(gw_httpc_t *c, h2o_context_t *ctx, const char *key, const char *url, size_t max_sockets,
                  uint64_t io_timeout_ms, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->url_text = strdup(url);
    if (c->url_text == NULL || h2o_url_parse(c->url_text, SIZE_MAX, &c->url) != 0) {
        snprintf(err, errlen, "%s: cannot parse \"%s\"", key, url);
        free(c->url_text);
        c->url_text = NULL;
        return -1;
    }
    h2o_socketpool_init_by_hostport(&c->pool, c->url.host, h2o_url_get_port(&c->url), 0, max_sockets);
    h2o_socketpool_set_timeout(&c->pool, ctx->loop, 2000);
    h2o_timeout_init(ctx->loop, &c->io_timeout, io_timeout_ms);
    c->ctx.loop = ctx->loop;
    c->ctx.getaddr_receiver = &ctx->receivers.hostinfo_getaddr;
    c->ctx.io_timeout = &c->io_timeout;
    return 0;
}

void gw_httpc_dispose(gw_httpc_t *c)
{
    if (c->url_text == NULL)
        return;
    h2o_socketpool_dispose(&c->pool);
    free(c->url_text);
    c->url_text = NULL;
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
    gw_httpc_call_t *call = client->data;
    h2o_buffer_t *in = client->sock->input;
    if (in->size > 0) {
        if (call->on_data != NULL && !call->on_data(call, in->bytes, in->size))
            return -1;
        h2o_buffer_consume(&client->sock->input, in->size);
    }
    if (errstr == h2o_http1client_error_is_eos)
        call->on_done(call, call->status, NULL, true);
    else if (errstr != NULL)
        call->on_done(call, 0, errstr, true);
    return 0;
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr, int minor_version,
                                       int status, h2o_iovec_t msg, h2o_header_t *headers, size_t num_headers,
                                       int rlen)
{
    (void)minor_version;
    (void)msg;
    (void)rlen;
    gw_httpc_call_t *call = client->data;
    if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
        call->on_done(call, 0, errstr, true);
        return NULL;
    }
    call->status = status;
    if (call->on_head != NULL && !call->on_head(call, headers, num_headers))
        return NULL;
    if (errstr == h2o_http1client_error_is_eos) { /* no body */
        call->on_done(call, status, NULL, true);
        return NULL;
    }
    return on_body;
}

static h2o_http1client_head_cb on_connect(h2o_http1client_t *client, const char *errstr,
                                          h2o_iovec_t **reqbufs, size_t *reqbufcnt, int *method_is_head)
{
    gw_httpc_call_t *call = client->data;
    if (errstr != NULL) {
        call->on_done(call, 0, errstr, false);
        return NULL;
    }
    *reqbufs = call->reqbufs;
    *reqbufcnt = call->reqbufs[1].len > 0 ? 2 : 1;
    *method_is_head = 0;
    return on_head;
}

void gw_httpc_send(gw_httpc_t *c, gw_httpc_call_t *call)
{
    h2o_http1client_connect_with_pool(&call->client, call, &c->ctx, &c->pool, on_connect);
}
