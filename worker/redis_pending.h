/*
 * A Redis command sent on behalf of a request that waits for it: the one
 * place that parks the request (r->pending), abandons the command when the
 * request goes away first, and hands the reply back with r->pending
 * cleared. Used by the blacklist check and logout (worker/auth.c) and the
 * cache lookup and invalidation (worker/cache.c).
 *
 * Ownership of `data`: the caller's until gw_redis_pending_start returns
 * true; then the helper's until either the callback runs (the callback owns
 * it again and must free it) or the request goes away first (the helper
 * calls `dispose(data)`; the callback never runs).
 */
#ifndef GW_REDIS_PENDING_H
#define GW_REDIS_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/clients/redis.h"
#include "worker/request.h"

/* The reply (NULL on error/timeout/disconnect, `error` then says why; owned
 * by hiredis, valid during the call) after `waited_us` microseconds.
 * r->pending is already NULL. */
typedef void (*gw_redis_pending_cb)(gw_request_t *r, const redisReply *reply, const char *error, void *data,
                                    uint64_t waited_us);

/* Send argv (copied) and park r: true. false when nothing was sent (Redis
 * down or unconfigured, out of memory): r is not parked, `data` is still the
 * caller's, and the callback never runs. `dispose` may be NULL. */
bool gw_redis_pending_start(gw_request_t *r, gw_redis_pending_cb cb, void *data, void (*dispose)(void *data),
                            int argc, const char **argv, const size_t *argvlen);

/* The backend's reply to a mutation, held (malloc'd, free() it) while a
 * Redis command that must finish first is out: logout's SET, the cache's
 * invalidation. NULL when out of memory. */
typedef struct {
    size_t len;
    char body[];
} gw_held_reply_t;

gw_held_reply_t *gw_held_reply_new(const char *body, size_t len);

#endif
