/*
 * A worker process: one h2o event loop accepting on the listening socket it
 * inherited from the master, serving the request pipeline, writing its
 * counters into its slot of the shared segment.
 *
 * gw_worker_main() (declared in core/worker_entry.h, so the master needs
 * nothing from worker/) is called by the master right after fork() and never
 * returns. The process has exactly one gw_worker_t (gw_worker_self()); it is
 * written only by this process.
 */
#ifndef GW_WORKER_H
#define GW_WORKER_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/worker_entry.h"
#include "shm/metrics.h"
#include "shm/segment.h"

typedef struct gw_worker {
    const gw_config_t *cfg;
    gw_shm_t *shm;
    unsigned slot;
    gw_shm_worker_t *rec;
    gw_metrics_slot_t *met;
    uint64_t generation;

    h2o_globalconf_t h2o_config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    SSL_CTX *ssl_ctx;

    uint64_t inflight;    /* requests started and not yet finished */
    uint64_t connections; /* accepted client connections still open */
    bool draining;
    bool drain_cut; /* SHUTDOWN_TIMEOUT passed: in-flight requests answered 503 */
    uint64_t drain_deadline_ms;
    uint64_t started_ms;

    /* Feature state, each owned by its module (NULL when the feature is off). */
    struct gw_grpc_client *grpc;   /* worker/clients/grpc_client.c: channels, CQ thread */
    struct gw_http_upstream *http; /* worker/upstream_http.c: notification proxy */
    struct gw_redis *redis;        /* worker/clients/redis.c */
    struct gw_jwt_verifier *jwt;   /* worker/jwt.c */
    struct gw_tracer *tracer;      /* worker/trace_export.c (ENABLE_TRACING) */
} gw_worker_t;

gw_worker_t *gw_worker_self(void);

#endif
