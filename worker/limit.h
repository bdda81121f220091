/*
 * Rate-limit pipeline stages (worker/limit.c).
 */
#ifndef GW_LIMIT_H
#define GW_LIMIT_H

#include "worker/request.h"

gw_stage_result_t gw_stage_limit_ip(gw_request_t *r);
gw_stage_result_t gw_stage_limit_tenant(gw_request_t *r);

#endif
