/*
 * Redis Cluster key routing without I/O: the redis-cluster:// URL (the
 * config loader validates with it, the worker's cluster client connects with
 * it), CRC16 key slots with hash tags, and which argument of a command is its
 * key. Used by core/config.c and worker/clients/redis_cluster.c.
 */
#ifndef GW_REDIS_SLOTS_H
#define GW_REDIS_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

bool gw_rc_is_cluster_url(const char *url);
/* redis-cluster://[:password@]host:port[,host:port...]; 0 or -1 with err. */
int gw_rc_parse_url(const char *url, gw_rc_url_t *out, char *err, size_t errlen);
/* CRC16-XMODEM of the key (or of its first non-empty {hash tag}) mod 16384. */
unsigned gw_rc_key_slot(const char *key, size_t len);
/* The slot a command must go to: argv[1], or for EVAL/EVALSHA argv[3]
 * when numkeys >= 1 (every key must be in that slot). */
int gw_rc_command_slot(int argc, const char **argv, const size_t *argvlen);

#endif
