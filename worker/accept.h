/*
 * The worker's accept path (worker/accept.c): takes connections off the
 * listening socket inherited from the master, counts them in the worker's
 * segment record, leaves the queue to the other workers while it holds more
 * than its share (balance), and backs off when descriptors or kernel memory
 * run out. Called by worker/worker.c.
 */
#ifndef GW_ACCEPT_H
#define GW_ACCEPT_H

#include "worker/worker.h"

/* Start accepting on `listen_fd` (the master's socket; this process's copy). */
void gw_accept_start(gw_worker_t *w, int listen_fd);

/* Stop accepting for good (drain): close this process's copy of the
 * listening socket; queued connections stay for the other workers. */
void gw_accept_stop(gw_worker_t *w);

#endif
