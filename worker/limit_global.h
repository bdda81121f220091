/*
 * RATE_LIMIT_SCOPE=global: the per-IP and per-tenant limits held across all
 * gateway hosts that share one Redis (single node or cluster), without
 * waiting for Redis on the request path. Called by the limit stages
 * (worker/limit.c) after the host's own bucket admitted a request; the
 * protocol, its accuracy bound and its cost are in docs/SCALING.md.
 */
#ifndef GW_LIMIT_GLOBAL_H
#define GW_LIMIT_GLOBAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/request.h"

#define GW_LIMIT_KIND_IP     1
#define GW_LIMIT_KIND_TENANT 2

/* Tokens a host may admit on credit for one key before Redis has been
 * charged: RATE_LIMIT_GLOBAL_LEASE, or 10% of the burst when 0; at least
 * 1, at most the burst. */
uint32_t gw_limit_global_lease(const gw_config_t *cfg, long burst);

/* The Redis key of a limit: rl:{<kind>:<16 hex digits>}, the digits an
 * unseeded FNV-1a of the bytes so that every host names the key alike and
 * the whole key is one hash tag (one cluster slot). buf >= 40 bytes;
 * returns the length. */
size_t gw_limit_global_key(char *buf, size_t buflen, int kind, const void *bytes, size_t len);

/* May this request (already admitted by the host's bucket `seg_key`) pass
 * the global limit? Never waits: admits on the host's credit and settles
 * with Redis asynchronously; admits on local limits alone while Redis is
 * unavailable (fallback, logged and counted once per host). */
bool gw_limit_global_admit(gw_request_t *r, int kind, const void *bytes, size_t len, uint64_t seg_key,
                           double rps, long burst);

#endif
