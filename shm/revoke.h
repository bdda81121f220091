/*
 * Recent revocations in the shared segment: the jti of every token logged out
 * through this gateway, kept until the token would have expired, so that a
 * revoked token stays refused while Redis (the blacklist of record) is down
 * or has lost the key. All workers of all generations see an entry as soon
 * as the CAS that wrote it returns; the table outlives reloads, not a
 * restart of the master (Redis covers that).
 *
 * A fixed-capacity open-addressing table of REVOCATION_TABLE_SIZE one-word
 * entries after a 128-byte header (magic, capacity, window, seed, counters):
 *   entry  0 = never used; else [tag:40][expires:24], the tag being 40 bits
 *          of a keyed 64-bit hash of the jti (the other 24 bits choose the
 *          home slot) and `expires` the minute (since 2024-01-01 UTC,
 *          rounded up) after which the token is dead anyway: its exp plus
 *          JWT_LEEWAY. An entry whose minute has passed is free.
 * Every change is one CAS on one word, so there is nothing to lock and a
 * process killed at any instruction leaves each entry either as it was or
 * as written: a revocation is either recorded or not, never half.
 *
 * Lookups probe GW_REVOKE_WINDOW consecutive slots from the home. Recording
 * a jti that is not there takes the first free slot of the window or else
 * evicts the entry of the window expiring soonest
 * (api_gateway_revocation_evictions_total): memory never grows. Windows
 * start to fill at about 60% of the table, so size it for twice the logouts
 * of one token lifetime. A false match needs two live jtis with the same
 * 40-bit tag in one window (about 2^-34 per lookup at a full table), and
 * the seed is random per start.
 * Callers: worker/auth.c (logout records, authenticate checks),
 * master/main.c (sizing, init), master/views_metrics.c (stats);
 * tests/unit/test_revoke.c.
 */
#ifndef GW_SHM_REVOKE_H
#define GW_SHM_REVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_REVOKE_WINDOW 64

typedef enum {
    GW_REVOKE_RECORDED = 0, /* written, or already there with a later expiry */
    GW_REVOKE_EVICTED,      /* written over the window's soonest-expiring entry */
    GW_REVOKE_EXPIRED,      /* until_s already passed: nothing to record */
    GW_REVOKE_CONTENDED,    /* every attempt lost a CAS race (not seen in practice) */
} gw_revoke_result_t;

typedef struct {
    uint64_t capacity;       /* entries */
    uint64_t recorded_total; /* revocations recorded */
    uint64_t refused_total;  /* lookups that found a revocation */
    uint64_t evicted_total;  /* live entries overwritten by a full window */
} gw_revoke_stats_t;

/* Bytes the region needs for `capacity` entries. */
size_t gw_revoke_region_size(uint32_t capacity);

/* Master, before forking: initialise a zeroed region. `seed` keys the hash
 * (0: a random one from getrandom). */
void gw_revoke_init(void *region, uint32_t capacity, uint64_t seed);

/* Record that the token with this jti is revoked until until_s (Unix
 * seconds: the token's exp plus the leeway). now_s is the wall clock. */
gw_revoke_result_t gw_revoke_add(void *region, const char *jti, size_t len, int64_t until_s, int64_t now_s);

/* True if the jti was revoked and has not expired; counts refused_total. */
bool gw_revoke_check(void *region, const char *jti, size_t len, int64_t now_s);

/* The header's counters (cheap). */
void gw_revoke_stats(const void *region, gw_revoke_stats_t *out);

/* Entries not yet expired: a scan of the whole table. */
uint64_t gw_revoke_count_live(const void *region, int64_t now_s);

#endif
