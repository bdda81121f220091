/*
 * The Redis response cache (worker/cache.c): a lookup stage for cacheable
 * GETs, the store after a backend's 200, and invalidation on mutations.
 */
#ifndef GW_CACHE_H
#define GW_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/request.h"

gw_stage_result_t gw_stage_cache_lookup(gw_request_t *r);

/* After a backend 200 on a cacheable GET that missed: keep the body. */
void gw_cache_store(gw_request_t *r, const char *body, size_t len);

/* After a successful mutation: drop the collection's cached keys, then send
 * `body`. Returns false (caller responds) when there is nothing to do. */
bool gw_cache_invalidate_reply(gw_request_t *r, const char *body, size_t len);

#endif
