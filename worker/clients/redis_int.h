/*
 * Internals shared by the single-node client (worker/redis.c) and the Redis
 * Cluster client (worker/redis_cluster.c): the command record that
 * gw_redis_abandon understands, and the hiredis <-> h2o loop adapter.
 * Nothing outside these two files includes this header.
 */
#ifndef GW_REDIS_INT_H
#define GW_REDIS_INT_H

#include <async.h>

#include "worker/clients/redis.h"

struct gw_redis;

/* One command. The cluster client embeds this as the first member of its
 * own record; gw_redis_abandon only clears cb and unlinks timer, which is
 * right for both (each frees its record when hiredis lets go of it). */
struct gw_redis_cmd {
    struct gw_redis *redis; /* single-node client; NULL for cluster commands */
    gw_redis_cb cb;         /* NULL once answered or abandoned */
    void *data;
    h2o_timeout_entry_t timer;
};

/* Wrap the context's fd in an h2o socket on `loop` (hiredis does the I/O). */
int gw_redis_attach(redisAsyncContext *ac, h2o_loop_t *loop);

#endif
