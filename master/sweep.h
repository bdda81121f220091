/*
 * Segment sizing for the limiter and breaker regions, and the master's
 * periodic limiter cleanup sweep (issue-5 work lands here).
 */
#ifndef GW_SWEEP_H
#define GW_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "master/config.h"

struct gw_master;

size_t gw_sweep_limiter_bytes(const gw_config_t *cfg);
size_t gw_sweep_breaker_bytes(void);

#endif
