/*
 * /health, /ready and /metrics. The master renders /metrics and /health into
 * the segment (master/views*.c); a worker only copies the latest rendering
 * into the response, so a scrape costs the worker a memcpy.
 */
#include "worker/builtin.h"

#include "shm/view.h"
#include "worker/request.h"
#include "worker/respond.h"

/* Copy a view into the request pool; NULL (and an error response) on failure. */
static char *copy_view(gw_request_t *r, gw_view_kind_t kind, size_t *len, int *status)
{
    const gw_shm_t *shm = r->w->shm;
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t cap = gw_view_length(shm, kind) + 4096;
        char *dst = h2o_mem_alloc_pool(&r->req->pool, cap);
        ssize_t n = gw_view_read(shm, kind, dst, cap, status, NULL);
        if (n > 0) {
            *len = (size_t)n;
            return dst;
        }
        if (n != -2)
            break;
    }
    gw_respond_error(r, 503, NULL, "view not rendered yet");
    return NULL;
}

int gw_builtin_health(gw_request_t *r)
{
    size_t len;
    int status;
    char *body = copy_view(r, GW_VIEW_HEALTH, &len, &status);
    if (body != NULL)
        gw_respond(r, status, "application/json", body, len);
    return 0;
}

int gw_builtin_ready(gw_request_t *r)
{
    /* Only a stopping gateway is "draining": during a reload the old
     * generation finishes its requests while the new one is ready, and a
     * load balancer must not take the whole instance out for that. */
    if (CMM_LOAD_SHARED(r->w->shm->hdr->state) == GW_STATE_STOPPING) {
        /* The master announces the stop before this worker handles its
         * SIGTERM: close the connection now rather than when h2o learns. */
        r->req->http1_is_persistent = 0;
        gw_respond_json(r, 503, H2O_STRLIT("{\"status\":\"draining\"}"));
    } else
        gw_respond_json(r, 200, H2O_STRLIT("{\"status\":\"ready\"}"));
    return 0;
}

int gw_builtin_metrics(gw_request_t *r)
{
    size_t len;
    int status;
    char *body = copy_view(r, GW_VIEW_METRICS, &len, &status);
    if (body != NULL)
        gw_respond(r, status, "text/plain; version=0.0.4; charset=utf-8", body, len);
    return 0;
}

gw_builtin_fn gw_builtin_handler(gw_builtin_t id)
{
    static const gw_builtin_fn handlers[GW_BUILTIN_COUNT] = {
        [GW_BUILTIN_HEALTH] = gw_builtin_health,
        [GW_BUILTIN_READY] = gw_builtin_ready,
        [GW_BUILTIN_METRICS] = gw_builtin_metrics,
        [GW_BUILTIN_DEBUG_WORKERS] = gw_admin_workers,
        [GW_BUILTIN_DEBUG_SHM] = gw_admin_shm,
        [GW_BUILTIN_ADMIN_BREAKERS] = gw_admin_breakers,
        [GW_BUILTIN_ADMIN_BREAKER_RESET] = gw_admin_breaker_reset,
    };
    return (unsigned)id < GW_BUILTIN_COUNT ? handlers[id] : NULL;
}
