/*
 * Early errors: h2o answers some requests itself before any handler runs
 * (a declared body over MAX_REQUEST_SIZE → 413, broken chunked encoding or
 * content-length → 400). Those responses are bound to the host's fallback
 * path, where this filter turns h2o's text body into our JSON envelope and
 * gives them a correlation id, a metric and an access line like any other.
 * Registered by worker/worker.c on hostconf->fallback_path.
 */
#include "worker/errfilter.h"

#include "core/buf.h"
#include "worker/respond.h"
#include "worker/pipeline.h"

typedef struct {
    h2o_ostream_t super;
    h2o_iovec_t body;
    bool sent;
} envelope_ostream_t;

static void do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                    h2o_send_state_t state)
{
    envelope_ostream_t *o = (envelope_ostream_t *)self;
    (void)bufs;
    (void)bufcnt;
    if (!o->sent) {
        o->sent = true;
        h2o_ostream_send_next(&o->super, req, &o->body, 1, state);
    } else {
        h2o_ostream_send_next(&o->super, req, NULL, 0, state);
    }
}

static const char *message_for(int status)
{
    switch (status) {
    case 413:
        return "request body too large";
    case 400:
        return "malformed request";
    case 417:
        return "unsupported Expect header";
    default:
        return "request refused";
    }
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    gw_request_t *r = gw_pipeline_begin(req);
    int status = req->res.status;
    char storage[512];
    gw_buf_t b;
    gw_buf_init_fixed(&b, storage, sizeof(storage));
    gw_error_envelope(&b, gw_error_code_for_status(status), message_for(status), r->correlation_id.base,
                      r->correlation_id.len);
    /* Replace h2o's text/plain headers with ours. */
    memset(&req->res.headers, 0, sizeof(req->res.headers));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-correlation-id"), 0, NULL,
                          r->correlation_id.base, r->correlation_id.len);
    req->res.content_length = b.len;
    envelope_ostream_t *o = (envelope_ostream_t *)h2o_add_ostream(req, sizeof(*o), slot);
    o->super.do_send = do_send;
    o->body = h2o_strdup(&req->pool, b.data, b.len);
    o->sent = false;
    gw_request_finish(r, status);
    h2o_setup_next_ostream(req, &o->super.next);
}

void gw_errfilter_register(h2o_pathconf_t *fallback)
{
    h2o_filter_t *f = h2o_create_filter(fallback, sizeof(*f));
    f->on_setup_ostream = on_setup_ostream;
}
