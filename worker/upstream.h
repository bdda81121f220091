/*
 * The two kinds of upstream a route can have: a gRPC backend
 * (worker/upstream_grpc.c) and the notification HTTP service
 * (worker/upstream_http.c). Both are entered from the dispatch stage and
 * answer the request themselves when the backend replies.
 */
#ifndef GW_UPSTREAM_H
#define GW_UPSTREAM_H

#include "worker/request.h"

gw_stage_result_t gw_upstream_grpc(gw_request_t *r);
/* The route's input message from the JSON body, query and path variables
 * (the caller frees it with protobuf_c_message_free_unpacked), or NULL after
 * answering 400 (500 when out of memory). */
ProtobufCMessage *gw_upstream_grpc_input(gw_request_t *r);
gw_stage_result_t gw_upstream_http(gw_request_t *r);

int gw_upstream_http_init(gw_worker_t *w, char *err, size_t errlen);

#endif
