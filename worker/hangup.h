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
 * contract of worker/request.h), it is on the worker's watch list; every
 * ~100 ms one poll(2) over the watched sockets looks for POLLRDHUP / POLLHUP
 * / POLLERR — the peer's FIN or RST. Pipelined bytes are not a hang-up
 * (data alone never sets those flags). A request found gone has its pending
 * work cancelled and is answered 499 with Connection: close, which records
 * the 499 (metrics, access line) and lets h2o close the connection.
 *
 * Called by worker/pipeline.c (watch when a stage goes asynchronous, unwatch
 * when the request finishes). Loop thread only.
 */
#ifndef GW_HANGUP_H
#define GW_HANGUP_H

#include "worker/request.h"

void gw_hangup_watch(gw_request_t *r);
void gw_hangup_unwatch(gw_request_t *r);

#endif
