/*
 * The admit stage (worker/admit.c), first of the pipeline, and the dispatch
 * stage (worker/dispatch.c), the last: it hands the request to a built-in
 * handler, the gRPC upstream or the HTTP proxy. The other stages are
 * declared by the headers of their concerns (worker/limit.h, worker/auth.h,
 * worker/cache.h, worker/breaker_gate.h). Each returns GW_NEXT to continue,
 * GW_DONE after answering, or GW_ASYNC after starting work that will call
 * gw_request_resume(). Called by the driver, worker/pipeline.c.
 */
#ifndef GW_STAGES_H
#define GW_STAGES_H

#include "worker/request.h"

gw_stage_result_t gw_stage_admit(gw_request_t *r);    /* worker/admit.c */
gw_stage_result_t gw_stage_dispatch(gw_request_t *r); /* worker/dispatch.c */

#endif
