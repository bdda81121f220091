/*
 * Client hang-up watch for HTTP/1 requests with pending asynchronous work.
 *
 * h2o 2.2.5 stops reading an HTTP/1 connection while its request is being
 * processed, so a client that closes the connection is only noticed when we
 * write the response: a backend call would run to its end for nobody. HTTP/2
 * needs no watch (h2o keeps reading; a reset disposes the request, whose
 * dispose callback in worker/request.c cancels the work).
 *
 * While a request has pending work (r->pending set, the gw_pending_t
 * contract of worker/request.h), it is on the worker's pending list; every
 * ~100 ms one poll(2) over the HTTP/1 sockets of that list looks for POLLRDHUP / POLLHUP
 * / POLLERR — the peer's FIN or RST. Pipelined bytes are not a hang-up
 * (data alone never sets those flags). A request found gone has its pending
 * work cancelled and is answered 499 with Connection: close, which records
 * the 499 (metrics, access line) and lets h2o close the connection.
 *
 * Called by worker/pipeline.c: arm after a stage went asynchronous (the
 * request is then on the pending list), disarm-if-idle when a request
 * finishes. Loop thread only.
 */
#ifndef GW_HANGUP_H
#define GW_HANGUP_H

#include "worker/request.h"

/* Link the 100 ms check if requests are pending and it is not linked. */
void gw_hangup_arm(void);
/* Unlink it when nothing is pending any more. */
void gw_hangup_disarm_if_idle(void);

#endif
