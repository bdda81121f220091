/*
 * Requests still in flight when a draining worker reaches SHUTDOWN_TIMEOUT.
 *
 * A request whose stage went asynchronous (r->pending set: a backend call,
 * a Redis lookup) is on the worker's pending list (worker/request.h) from
 * then until it finishes. When the drain
 * deadline passes, worker/worker.c calls gw_drain_cut(): every tracked
 * request has its pending work cancelled and is answered 503 in the error
 * envelope with Connection: close, one warn line each and
 * api_gateway_shutdown_cut_requests_total, so nothing vanishes without a
 * response or an access line. Requests that finish before the deadline are
 * untouched: a reload keeps every request shorter than SHUTDOWN_TIMEOUT.
 *
 * Called by worker/worker.c. Loop thread only.
 */
#ifndef GW_DRAIN_H
#define GW_DRAIN_H

#include "worker/request.h"

/* Answer every tracked request 503; returns how many were cut. */
size_t gw_drain_cut(void);

#endif
