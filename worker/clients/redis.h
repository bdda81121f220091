/*
 * The worker's Redis client: one hiredis async connection on the h2o event
 * loop (our own adapter: hiredis ships none for h2o), per-command timeouts
 * (hiredis 0.14 has none), reconnection with backoff, and a clear "down"
 * state that callers turn into their policy (REDIS_FAIL_OPEN for the
 * blacklist, "serve uncached" for the cache).
 *
 * Used by the auth stage (blacklist:<jti>), logout, the response cache and
 * the health probe. Every callback runs on the loop thread. A
 * redis-cluster:// URL hands every call to worker/redis_cluster.c.
 */
#ifndef GW_REDIS_H
#define GW_REDIS_H

#include <hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "worker/worker.h"

#define GW_REDIS_TIMEOUT_MS 250

/* reply is NULL on error/timeout/disconnect; `error` then says why. The
 * reply is owned by hiredis and valid only during the callback. */
typedef void (*gw_redis_cb)(const redisReply *reply, const char *error, void *data);

typedef struct gw_redis_cmd gw_redis_cmd_t;

int gw_redis_init(gw_worker_t *w, char *err, size_t errlen);
void gw_redis_shutdown(gw_worker_t *w);

/* Is Redis configured / currently connected? */
bool gw_redis_enabled(const gw_worker_t *w);
bool gw_redis_up(const gw_worker_t *w);

/* Send a command (argv form; strings are copied). Returns a handle, or NULL
 * when Redis is down or unconfigured — then cb is never called. On a Redis
 * Cluster (worker/redis_cluster.h) the command goes to the master of its
 * key's slot (argv[1]; argv[3] for EVAL/EVALSHA with numkeys >= 1, all keys
 * in one slot): NULL also when that slot has no connected master; a script
 * whose keys span slots gets a CROSSSLOT error through cb, asynchronously. */
gw_redis_cmd_t *gw_redis_command(gw_worker_t *w, gw_redis_cb cb, void *data, int argc, const char **argv,
                                 const size_t *argvlen);

/* Forget a pending command: its callback will not be called. */
void gw_redis_abandon(gw_redis_cmd_t *cmd);

/* The last connection error (for logs and /health), "" when up. */
const char *gw_redis_last_error(const gw_worker_t *w);

#endif
