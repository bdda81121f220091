/*
 * Why a backend call failed below the protocol: the transport failure
 * classes of the `reason` label on api_gateway_backend_requests_total
 * (shm/metrics.h) and the message a client gets for each.
 *
 * gRPC core 1.51 reports connection failures as UNAVAILABLE with the
 * subchannel's error text in the status details; h2o's HTTP/1.1 client
 * reports them as an error string. Both are classified here from the texts
 * those libraries really produce (see docs/TROUBLESHOOTING.md, "502 Bad
 * Gateway: upstream transport errors"). Called by worker/clients/grpc_client.c,
 * worker/upstream_http.c and worker/health_probe.c; pure functions.
 */
#ifndef GW_UPSTREAM_REASON_H
#define GW_UPSTREAM_REASON_H

#include <stddef.h>

#include "shm/metrics.h"

/* A gRPC status + details → a reason; GW_REASON_NONE when the call reached
 * the backend and the status is its own (an UNAVAILABLE the backend sent
 * included). An UNAVAILABLE worded like gRPC's connection failures but
 * with an unknown cause is GW_REASON_OTHER. */
gw_backend_reason_t gw_reason_from_grpc(int status, const char *details);

/* An h2o HTTP client error string → a reason (never NONE); `connected`
 * says whether the connection had been established (a timeout after that
 * is the request's deadline, not a connect timeout: see
 * gw_reason_http_is_deadline). */
gw_backend_reason_t gw_reason_from_http(const char *errstr, int connected);

/* True when an h2o error is the I/O timeout of an established connection:
 * the request ran out of time (504 "context deadline exceeded"). */
int gw_reason_http_is_deadline(const char *errstr, int connected);

/* The client-facing message of a transport failure: the operators' guide's
 * exact words for refused and DNS (`host` names the unresolved host). */
void gw_reason_message(gw_backend_reason_t reason, const char *host, size_t host_len, char *out, size_t len);

#endif
