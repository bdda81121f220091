/*
 * The pipeline stages that live outside worker/request.c, in pipeline order.
 * Each returns GW_NEXT to continue, GW_DONE after answering, or GW_ASYNC
 * after starting work that will call gw_pipeline_resume().
 */
#ifndef GW_STAGES_H
#define GW_STAGES_H

#include "worker/request.h"

gw_stage_result_t gw_stage_dispatch(gw_request_t *r); /* worker/dispatch.c */

/* worker/request.c: used by the early-error filter too. */
gw_request_t *gw_request_new(h2o_req_t *req);

#endif
