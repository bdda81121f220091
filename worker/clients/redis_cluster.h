/*
 * The Redis Cluster client (REDIS_URL=redis-cluster://h1:p1,h2:p2,...):
 * a slot map from CLUSTER SLOTS, one hiredis async connection per master
 * on the worker's h2o loop, MOVED/ASK redirects, map refreshes on
 * connection loss and periodically. worker/clients/redis.c dispatches to it, so
 * callers keep using gw_redis_command (same callback contract).
 *
 * The pure parts (URL parsing for the config loader, key → slot) live in
 * core/redis_slots.c; the connections and the map here, in
 * worker/clients/redis_cluster.c. Everything runs on the worker's loop thread.
 */
#ifndef GW_REDIS_CLUSTER_H
#define GW_REDIS_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/redis_slots.h"
#include "worker/clients/redis.h"

/* ---- the client ---- */

int gw_rc_init(gw_worker_t *w, const char *url, char *err, size_t errlen);
void gw_rc_shutdown(void);
bool gw_rc_active(void);
bool gw_rc_up(void);
const char *gw_rc_last_error(void);
/* Slots with no master in the map or whose master is not connected. */
unsigned gw_rc_unreachable_slots(void);
gw_redis_cmd_t *gw_rc_command(gw_redis_cb cb, void *data, int argc, const char **argv, const size_t *argvlen);

#endif
