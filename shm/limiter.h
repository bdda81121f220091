/*
 * Rate-limit buckets in the shared segment: a fixed-capacity open-addressing
 * table of GCRA buckets (a token bucket stored as one "theoretical arrival
 * time"), updated by CAS from every worker and swept by the master.
 *
 * Entry = two 64-bit words:
 *   key    0 = free; else a 63-bit keyed hash of (kind, bytes), with the top
 *          bit set while the sweep has retired it (a worker that finds its
 *          key retired resurrects it by CAS; the sweep frees it only after a
 *          QSBR grace period, shm/qsbr.h).
 *   state  [tag:16][tat_us:48]: the tag is 16 bits of the key, so a state
 *          left behind by a previous occupant is recognised as stale and
 *          read as "full bucket"; tat is microseconds since the table's base.
 *
 * GCRA with emission interval T = 1/rate and burst B: a request at `now` is
 * admitted iff max(tat, now) + T - now <= B*T, and then tat advances by T.
 * A bucket whose tat is in the past is full, so freeing or evicting it loses
 * nothing; the longest-idle entry is the one with the smallest tat.
 *
 * Lookups probe GW_LIMITER_WINDOW consecutive slots. A key that is not there
 * takes the first free slot, or else evicts the smallest-tat entry of the
 * window: the table never grows and never refuses a request. Callers: the
 * worker's limit stages (worker/limit.c) and the master's sweep
 * (master/sweep.c); tests/unit/test_limiter.c.
 */
#ifndef GW_SHM_LIMITER_H
#define GW_SHM_LIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_LIMITER_WINDOW 16

typedef struct {
    bool allowed;
    bool evicted;           /* this call evicted another key's entry */
    uint32_t limit;         /* X-RateLimit-Limit: the burst */
    uint32_t remaining;     /* X-RateLimit-Remaining after this call */
    uint32_t reset_s;       /* X-RateLimit-Reset: seconds until the bucket is full */
    uint32_t retry_after_s; /* Retry-After when refused (>= 1) */
} gw_limit_result_t;

typedef struct {
    uint64_t capacity; /* entries */
    uint64_t used;     /* entries holding a key (retired ones included) */
    uint64_t retired;  /* entries retired by a sweep, not yet freed */
} gw_limiter_stats_t;

/* Bytes the region needs for `capacity` entries. */
size_t gw_limiter_region_size(uint32_t capacity);

/* Master, before forking: initialise a zeroed region. `seed` keys the hash
 * so clients cannot aim at one probe window. */
void gw_limiter_init(void *region, uint32_t capacity, uint64_t seed);

/* The table key of `len` bytes of kind `kind` (IP address, tenant id...). */
uint64_t gw_limiter_key(const void *region, const void *bytes, size_t len, uint8_t kind);

/* Take one token from key's bucket (rate tokens/s, burst tokens). `now_us`
 * is CLOCK_MONOTONIC microseconds (gw_now_us()). */
gw_limit_result_t gw_limiter_take(void *region, uint64_t key, double rate, uint32_t burst, uint64_t now_us);

/* Give back the token a gw_limiter_take just took (the global limit then
 * refused the request: a refused request must not drain the host bucket). */
void gw_limiter_untake(void *region, uint64_t key, double rate, uint64_t now_us);

/* Sweep, step 1 (master): retire entries idle for at least idle_us; returns
 * how many it retired. Workers may still resurrect them. */
size_t gw_limiter_sweep_retire(void *region, uint64_t now_us, uint64_t idle_us);

/* Sweep, step 2 (master), after a grace period that began after step 1:
 * free the entries still retired; returns how many. */
size_t gw_limiter_sweep_free(void *region);

void gw_limiter_stats(const void *region, gw_limiter_stats_t *out);

/* ---- RATE_LIMIT_SCOPE=global: this host's credit per key ----------------
 * A second, smaller table in the same region (capacity/4 entries, probed
 * like the buckets, evicting the least recently used) holds, per key, the
 * host's unsettled "debt": requests admitted on credit that Redis has not
 * yet been charged for (worker/limit_global.c). All workers of the host
 * share it, so the host as a whole never owes more than `lease` tokens.
 * Entry words: key; [last_ms:32][debt:32]; settle-not-before (ms). */

/* Admit one request on credit: debt += 1 unless debt >= lease. *debt gets
 * the debt after the call. Never fails for contention (admits). */
bool gw_limiter_credit_take(void *region, uint64_t key, uint32_t lease, uint64_t now_us, uint32_t *debt);

/* Claim the right to settle key's debt with Redis (one settler per host at
 * a time): succeeds when debt >= min_debt and no settle is running or
 * backing off; *debt gets the amount to charge. The claim lapses after
 * hold_ms if gw_limiter_settle_done never comes (a worker died). */
bool gw_limiter_settle_claim(void *region, uint64_t key, uint32_t min_debt, uint32_t hold_ms, uint64_t now_us,
                             uint32_t *debt);

/* Redis charged `granted` tokens: debt -= granted; the next settle may
 * start after retry_ms (0: at once). */
void gw_limiter_settle_done(void *region, uint64_t key, uint32_t granted, uint32_t retry_ms, uint64_t now_us);

/* Which workers of this host see Redis as unavailable for global limits
 * (bit = worker slot, up to 64): the host is in fallback while any is set.
 * Returns the mask before the change. */
uint64_t gw_limiter_global_mark(void *region, unsigned slot, bool down);
uint64_t gw_limiter_global_down(const void *region);

#endif
