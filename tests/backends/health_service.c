/*
 * demo-backend: grpc.health.v1.Health/Check. Every service name (including
 * "") gets the process-wide status, which starts as SERVING (or
 * NOT_SERVING with --health NOT_SERVING) and flips on SIGUSR2. Watch is not
 * served (UNIMPLEMENTED). Not subject to --fail-status or --latency-ms.
 */
#include "tests/backends/backend.h"
#include "proto/pb.h"

static grpc_status_code check(call_t *c, const ProtobufCMessage *req, ProtobufCMessage **out)
{
    Grpc__Health__V1__HealthCheckResponse *resp =
        call_new_msg(c, &grpc__health__v1__health_check_response__descriptor);
    (void)req;
    resp->status = atomic_load(&g_serving)
                       ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                       : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

static const struct rpc_method health_methods[] = {
    {"Check", check},
    {NULL, NULL},
};

const struct service_def health_service_def = {
    .desc = &grpc__health__v1__health__descriptor,
    .methods = health_methods,
};
