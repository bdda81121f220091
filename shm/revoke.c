/*
 * The shared table of recent revocations (see shm/revoke.h for the layout).
 * Entries change only by uatomic_cmpxchg on their one word; the counters in
 * the header by uatomic_inc. No lock, no second word to keep in step.
 */
#include "shm/revoke.h"

#include "core/hash.h"

#include <string.h>
#include <urcu/system.h>
#include <urcu/uatomic.h>

#define REVOKE_MAGIC 0x4b4f564552574741ULL /* "AGWREVOK" */
#define REVOKE_EPOCH 1704067200LL          /* 2024-01-01T00:00:00Z: minute 0 */
#define EXP_BITS     24
#define EXP_MASK     ((1ULL << EXP_BITS) - 1)
#define TAG_MASK     ((1ULL << 40) - 1)
#define MAX_ATTEMPTS 64

typedef struct {
    uint64_t magic;
    uint64_t capacity;
    uint64_t window;
    uint64_t seed;
    uint64_t recorded_total __attribute__((aligned(64)));
    uint64_t refused_total;
    uint64_t evicted_total;
} __attribute__((aligned(128))) revoke_hdr_t;

static uint64_t *entries(const void *region)
{
    return (uint64_t *)((char *)region + sizeof(revoke_hdr_t));
}

size_t gw_revoke_region_size(uint32_t capacity)
{
    return sizeof(revoke_hdr_t) + (size_t)capacity * sizeof(uint64_t);
}

void gw_revoke_init(void *region, uint32_t capacity, uint64_t seed)
{
    revoke_hdr_t *h = region;
    memset(region, 0, gw_revoke_region_size(capacity));
    if (seed == 0)
        seed = gw_hash_seed();
    h->capacity = capacity;
    h->window = capacity < GW_REVOKE_WINDOW ? capacity : GW_REVOKE_WINDOW;
    h->seed = seed | 1;
    cmm_smp_mb();
    CMM_STORE_SHARED(h->magic, REVOKE_MAGIC);
}

/* Seeded 64-bit hash of the jti (core/hash.h, as for the limiter); the seed is random
 * per start, so nobody can choose jtis that crowd one window. */
static uint64_t hash_jti(const revoke_hdr_t *h, const char *jti, size_t len)
{
    return gw_hash(h->seed, jti, len);
}

/* Home slot from the low 24 bits, tag from the high 40: independent bits,
 * so entries sharing a window do not share tag bits. */
static inline uint64_t home_of(const revoke_hdr_t *h, uint64_t hash)
{
    return ((hash & EXP_MASK) * h->capacity) >> EXP_BITS;
}

static inline uint64_t tag_of(uint64_t hash)
{
    return (hash >> EXP_BITS) & TAG_MASK;
}

/* Minute (since REVOKE_EPOCH) after which the entry is free, rounded up. */
static inline uint64_t minute_of(int64_t until_s)
{
    if (until_s <= REVOKE_EPOCH)
        return 1;
    uint64_t m = ((uint64_t)(until_s - REVOKE_EPOCH) + 59) / 60;
    return m < EXP_MASK ? m : EXP_MASK; /* past 2055: kept until evicted */
}

static inline bool live(uint64_t e, int64_t now_s)
{
    return e != 0 && (int64_t)((e & EXP_MASK) * 60) + REVOKE_EPOCH > now_s;
}

static inline bool usable(const revoke_hdr_t *h)
{
    return CMM_LOAD_SHARED(h->magic) == REVOKE_MAGIC && h->capacity > 0;
}

/* One pass over the window: done (true) if the jti is there with an expiry
 * at least `want`'s, else the slot to take and the word expected in it. */
static bool scan_for_add(const revoke_hdr_t *h, uint64_t hash, uint64_t want, int64_t now_s, uint64_t *slot,
                         uint64_t *expect)
{
    uint64_t *tab = entries(h), first = home_of(h, hash), victim = UINT64_MAX, free_j = UINT64_MAX;
    uint64_t victim_word = UINT64_MAX;
    for (uint64_t i = 0; i < h->window; i++) {
        uint64_t j = (first + i) % h->capacity, e = uatomic_read(&tab[j]);
        if (!live(e, now_s)) {
            if (free_j == UINT64_MAX) {
                free_j = j;
                *expect = e;
            }
            continue;
        }
        if ((e >> EXP_BITS) == tag_of(hash)) {
            if ((e & EXP_MASK) >= (want & EXP_MASK))
                return true;
            *slot = j; /* ours, with an earlier expiry: extend it in place */
            *expect = e;
            return false;
        }
        if ((e & EXP_MASK) < (victim_word & EXP_MASK)) {
            victim_word = e;
            victim = j;
        }
    }
    if (free_j != UINT64_MAX) {
        *slot = free_j;
        return false;
    }
    *slot = victim; /* the soonest to expire, as we saw it: the CAS checks it still is */
    *expect = victim_word;
    return false;
}

gw_revoke_result_t gw_revoke_add(void *region, const char *jti, size_t len, int64_t until_s, int64_t now_s)
{
    revoke_hdr_t *h = region;
    if (!usable(h))
        return GW_REVOKE_CONTENDED;
    if (until_s <= now_s)
        return GW_REVOKE_EXPIRED;
    uint64_t hash = hash_jti(h, jti, len);
    uint64_t want = (tag_of(hash) << EXP_BITS) | minute_of(until_s);
    uint64_t *tab = entries(h);
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        uint64_t slot = 0, expect = 0;
        if (scan_for_add(h, hash, want, now_s, &slot, &expect))
            return GW_REVOKE_RECORDED;
        /* The CAS fails if anyone changed the slot since we looked: look again. */
        if (uatomic_cmpxchg(&tab[slot], expect, want) != expect)
            continue;
        uatomic_inc(&h->recorded_total);
        if (live(expect, now_s) && (expect >> EXP_BITS) != tag_of(hash)) {
            uatomic_inc(&h->evicted_total);
            return GW_REVOKE_EVICTED;
        }
        return GW_REVOKE_RECORDED;
    }
    return GW_REVOKE_CONTENDED;
}

bool gw_revoke_check(void *region, const char *jti, size_t len, int64_t now_s)
{
    revoke_hdr_t *h = region;
    if (!usable(h))
        return false;
    uint64_t hash = hash_jti(h, jti, len), tag = tag_of(hash), first = home_of(h, hash);
    const uint64_t *tab = entries(h);
    for (uint64_t i = 0; i < h->window; i++) {
        uint64_t e = uatomic_read(&tab[(first + i) % h->capacity]);
        if (live(e, now_s) && (e >> EXP_BITS) == tag) {
            uatomic_inc(&h->refused_total);
            return true;
        }
    }
    return false;
}

void gw_revoke_stats(const void *region, gw_revoke_stats_t *out)
{
    revoke_hdr_t *h = (revoke_hdr_t *)region;
    *out = (gw_revoke_stats_t){0};
    if (!usable(h))
        return;
    out->capacity = h->capacity;
    out->recorded_total = uatomic_read(&h->recorded_total);
    out->refused_total = uatomic_read(&h->refused_total);
    out->evicted_total = uatomic_read(&h->evicted_total);
}

uint64_t gw_revoke_count_live(const void *region, int64_t now_s)
{
    const revoke_hdr_t *h = region;
    uint64_t n = 0;
    if (!usable(h))
        return 0;
    const uint64_t *tab = entries(h);
    for (uint64_t j = 0; j < h->capacity; j++)
        n += live(CMM_LOAD_SHARED(tab[j]), now_s);
    return n;
}
