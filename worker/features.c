/*
 * Feature start-up order for a worker (see worker/features.h): the gRPC
 * JWT verifier and Redis first (the auth stage), the gRPC client (probes and
 * upstream calls use it), the HTTP upstream, the trace exporter, then the
 * health probes.
 */
#include "worker/features.h"

#include "core/api.h"

#include "worker/auth.h"
#include "worker/clients/grpc_client.h"
#include "worker/health_probe.h"
#include "worker/clients/redis.h"
#include "worker/trace.h"
#include "worker/upstream.h"

/* The gRPC upstreams this worker serves, by service slot: every gRPC
 * upstream of the generation's API (bound to slots by the master). */
static size_t grpc_upstreams(const gw_worker_t *w, gw_grpc_upstream_t *out)
{
    const gw_api_t *api = w->cfg->api;
    size_t n = 0;
    for (size_t i = 0; i < api->nupstreams; i++)
        if (api->upstreams[i].service != NULL)
            out[n++] =
                (gw_grpc_upstream_t){.slot = api->upstreams[i].slot, .target = api->upstreams[i].target};
    return n;
}

int gw_features_init(gw_worker_t *w, char *err, size_t errlen)
{
    gw_grpc_upstream_t ups[GW_SVC_MAX];
    if (gw_auth_init(w, err, errlen) != 0)
        return -1;
    if (gw_redis_init(w, err, errlen) != 0)
        return -1;
    if (gw_grpc_client_init(w, ups, grpc_upstreams(w, ups), err, errlen) != 0)
        return -1;
    if (gw_upstream_http_init(w, err, errlen) != 0)
        return -1;
    if (gw_trace_export_init(w, err, errlen) != 0)
        return -1;
    gw_health_probe_start(w);
    return 0;
}

void gw_features_shutdown(gw_worker_t *w)
{
    gw_health_probe_stop(w);
    gw_trace_export_shutdown(w);
    gw_grpc_client_shutdown(w);
    gw_redis_shutdown(w);
    gw_auth_shutdown(w);
}
