/*
 * Request identity helpers: the correlation id (kept from X-Correlation-ID /
 * X-Request-ID when well-formed, else a fresh UUIDv4) and the client address
 * (the peer, or the X-Forwarded-For entry added by the last trusted proxy
 * when the peer is in TRUSTED_PROXIES; repeated X-Forwarded-For lines are
 * read as one list). Called once per request by worker/pipeline.c (gw_pipeline_begin).
 */
#ifndef GW_IDENT_H
#define GW_IDENT_H

#include <stdint.h>

#include "worker/request.h"

void gw_ident_correlation(gw_request_t *r);
void gw_ident_client_ip(gw_request_t *r);

/* A UUIDv4 as 36 characters (no NUL) from the process's PRNG. */
void gw_uuid4(char out[36]);
/* 64 random bits from the process's PRNG (xoshiro256**, seeded per process). */
uint64_t gw_random64(void);

#endif
