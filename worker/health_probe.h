/*
 * Periodic gRPC health checks of the backends (worker/health_probe.c).
 */
#ifndef GW_HEALTH_PROBE_H
#define GW_HEALTH_PROBE_H

#include "worker/worker.h"

void gw_health_probe_start(gw_worker_t *w);
void gw_health_probe_stop(gw_worker_t *w);

#endif
