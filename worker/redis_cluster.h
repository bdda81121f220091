/*
 * The Redis Cluster client (REDIS_URL=redis-cluster://h1:p1,h2:p2,...):
 * a slot map from CLUSTER SLOTS, one hiredis async connection per master
 * on the worker's h2o loop, MOVED/ASK redirects, map refreshes on
 * connection loss and periodically. worker/redis.c dispatches to it, so
 * callers keep using gw_redis_command (same callback contract).
 *
 * The pure parts (URL parsing for the config loader, key → slot) live in
 * worker/redis_slots.c; the connections and the map in
 * worker/redis_cluster.c. Everything runs on the worker's loop thread.
 */
#ifndef GW_REDIS_CLUSTER_H
#define GW_REDIS_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/redis.h"

#define GW_RC_SLOTS     16384
#define GW_RC_MAX_SEEDS 16
#define GW_RC_HOST_MAX  64

/* gw_rc_command_slot results besides a slot number */
#define GW_RC_ANY_NODE   (-1) /* no key (PING, EVAL with 0 keys): any node */
#define GW_RC_CROSS_SLOT (-2) /* script keys in different slots, or a bad numkeys */

typedef struct {
    char host[GW_RC_HOST_MAX];
    int port;
} gw_rc_addr_t;

typedef struct {
    gw_rc_addr_t seeds[GW_RC_MAX_SEEDS];
    unsigned nseeds;
    char password[128];
} gw_rc_url_t;

/* ---- pure (worker/redis_slots.c; also used by master/config.c) ---- */

bool gw_rc_is_cluster_url(const char *url);
/* redis-cluster://[:password@]host:port[,host:port...]; 0 or -1 with err. */
int gw_rc_parse_url(const char *url, gw_rc_url_t *out, char *err, size_t errlen);
/* CRC16-XMODEM of the key (or of its first non-empty {hash tag}) mod 16384. */
unsigned gw_rc_key_slot(const char *key, size_t len);
/* The slot a command must go to: argv[1], or for EVAL/EVALSHA argv[3]
 * when numkeys >= 1 (every key must be in that slot). */
int gw_rc_command_slot(int argc, const char **argv, const size_t *argvlen);

/* ---- the client (worker/redis_cluster.c) ---- */

int gw_rc_init(gw_worker_t *w, const char *url, char *err, size_t errlen);
void gw_rc_shutdown(void);
bool gw_rc_active(void);
bool gw_rc_up(void);
const char *gw_rc_last_error(void);
/* Slots with no master in the map or whose master is not connected. */
unsigned gw_rc_unreachable_slots(void);
gw_redis_cmd_t *gw_rc_command(gw_redis_cb cb, void *data, int argc, const char **argv, const size_t *argvlen);

#endif
