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
