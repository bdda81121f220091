/*
 * The last pipeline stage: hand the request to what serves its route — a
 * built-in handler, a gRPC backend call, or the notification HTTP proxy.
 */
#include "worker/builtin.h"
#include "worker/respond.h"
#include "worker/stages.h"
#include "worker/upstream.h"

gw_stage_result_t gw_stage_dispatch(gw_request_t *r)
{
    const gw_route_t *route = r->match.route;
    switch (route->kind) {
    case GW_ROUTE_BUILTIN: {
        gw_builtin_fn fn = gw_builtin_handler(route->builtin);
        if (fn == NULL)
            break;
        return fn(r) == 0 ? GW_DONE : GW_ASYNC;
    }
    case GW_ROUTE_GRPC:
        return gw_upstream_grpc(r);
    case GW_ROUTE_PROXY:
        return gw_upstream_http(r);
    }
    gw_respond_error(r, 500, NULL, "route has no handler");
    return GW_DONE;
}
