/*
 * Feature start-up order for a worker (see worker/features.h): the gRPC
 * JWT verifier and Redis first (the auth stage), the gRPC client (probes and
 * upstream calls use it), the HTTP upstream, the trace exporter, then the
 * health probes.
 */
#include "worker/features.h"

#include "worker/auth.h"
#include "worker/clients/grpc_client.h"
#include "worker/health_probe.h"
#include "worker/clients/redis.h"
#include "worker/trace.h"
#include "worker/upstream.h"

int gw_features_init(gw_worker_t *w, char *err, size_t errlen)
{
    if (gw_auth_init(w, err, errlen) != 0)
        return -1;
    if (gw_redis_init(w, err, errlen) != 0)
        return -1;
    if (gw_grpc_client_init(w, err, errlen) != 0)
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
