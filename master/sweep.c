/*
 * Sizing of the limiter and breaker regions (see master/sweep.h).
 */
#include "master/sweep.h"

size_t gw_sweep_limiter_bytes(const gw_config_t *cfg)
{
    (void)cfg;
    return 0;
}

size_t gw_sweep_breaker_bytes(void)
{
    return 0;
}
