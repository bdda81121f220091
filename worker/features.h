/*
 * Start-up and shutdown of the worker's feature modules (backend channels,
 * Redis, JWT verifier, tracing, ...), in dependency order. Called once by
 * worker/worker.c after h2o is set up and before the first accept.
 */
#ifndef GW_FEATURES_H
#define GW_FEATURES_H

#include <stddef.h>

#include "worker/worker.h"

int gw_features_init(gw_worker_t *w, char *err, size_t errlen);
void gw_features_shutdown(gw_worker_t *w);

#endif
