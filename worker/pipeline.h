/*
 * The request pipeline's driver (worker/pipeline.c), on top of the worker:
 * the h2o entry point and the request set-up the early-error filter shares.
 * Included only by the h2o entry points — worker/worker.c (registers the
 * handler), worker/errfilter.c — never by a stage (make check-layers).
 */
#ifndef GW_PIPELINE_H
#define GW_PIPELINE_H

#include "worker/request.h"

/* h2o entry point, registered on the catch-all path. */
int gw_pipeline_on_req(h2o_handler_t *self, h2o_req_t *req);

/* A new request with the driver's hooks, its correlation id, client address
 * and server span. Also used by the early-error filter for requests h2o
 * refused before routing. */
gw_request_t *gw_pipeline_begin(h2o_req_t *req);

#endif
