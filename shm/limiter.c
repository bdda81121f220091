/*
 * The shared rate-limit table (see shm/limiter.h for the layout and the
 * algorithm). Every word is changed by uatomic_cmpxchg only: no locks, so a
 * worker killed at any instruction leaves at most one token unaccounted.
 */
#include "shm/limiter.h"

#include "shm/hash.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <urcu/system.h>
#include <urcu/uatomic.h>

#define LIMITER_MAGIC 0x4c494d4954455231ULL /* "LIMITER1" */
#define RETIRED       (1ULL << 63)
#define TAT_BITS      48
#define TAT_MASK      ((1ULL << TAT_BITS) - 1)
#define MAX_ATTEMPTS  8

typedef struct {
    uint64_t magic;
    uint64_t capacity;
    uint64_t window;
    uint64_t seed;
    uint64_t base_us; /* CLOCK_MONOTONIC at init, minus one: tat 0 is "long ago" */
} __attribute__((aligned(128))) limiter_hdr_t;

typedef struct {
    uint64_t key;
    uint64_t state;
} limiter_entry_t;

static limiter_hdr_t *hdr(void *region)
{
    return region;
}

static limiter_entry_t *entries(void *region)
{
    return (limiter_entry_t *)((char *)region + sizeof(limiter_hdr_t));
}

size_t gw_limiter_region_size(uint32_t capacity)
{
    return sizeof(limiter_hdr_t) + (size_t)capacity * sizeof(limiter_entry_t);
}

void gw_limiter_init(void *region, uint32_t capacity, uint64_t seed)
{
    limiter_hdr_t *h = hdr(region);
    memset(region, 0, gw_limiter_region_size(capacity));
    h->capacity = capacity;
    h->window = capacity < GW_LIMITER_WINDOW ? capacity : GW_LIMITER_WINDOW;
    h->seed = seed;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    h->base_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 - 1;
    cmm_smp_mb();
    CMM_STORE_SHARED(h->magic, LIMITER_MAGIC);
}

/* The key word of an address or tenant: the segment's seeded hash
 * (shm/hash.h), the kind in the seed so an IP and a tenant never share one. */
uint64_t gw_limiter_key(const void *region, const void *bytes, size_t len, uint8_t kind)
{
    const limiter_hdr_t *h = region;
    uint64_t acc = gw_shm_hash(h->seed ^ ((uint64_t)kind << 56), bytes, len);
    acc &= ~RETIRED;
    return acc ? acc : 1;
}

static inline uint64_t tag_of(uint64_t key)
{
    return (key >> 20) & 0xffff;
}

static inline uint64_t make_state(uint64_t key, uint64_t tat)
{
    return (tag_of(key) << TAT_BITS) | (tat & TAT_MASK);
}

/* tat of a state word as seen by `key`: a foreign tag means a fresh bucket. */
static inline uint64_t state_tat(uint64_t state, uint64_t key)
{
    return (state >> TAT_BITS) == tag_of(key) ? (state & TAT_MASK) : 0;
}

static inline uint64_t home(const limiter_hdr_t *h, uint64_t key)
{
    return (uint64_t)(((unsigned __int128)(key << 1) * h->capacity) >> 64);
}

/* GCRA step on entry e for key; fills res. */
static void gcra(limiter_entry_t *e, uint64_t key, uint64_t interval, uint32_t burst, uint64_t now,
                 gw_limit_result_t *res)
{
    uint64_t span = interval * burst; /* B*T: the time a full bucket lasts */
    for (;;) {
        uint64_t s = uatomic_read(&e->state);
        uint64_t tat = state_tat(s, key);
        uint64_t start = tat > now ? tat : now;
        if (start - now >
            span) { /* limits changed by a HUP: an empty bucket under the new ones, not a debt */
            uatomic_cmpxchg(&e->state, s, make_state(key, now + span));
            continue;
        }
        uint64_t next = start + interval;
        if (next - now > span) {
            uint64_t wait_us = next - now - span;
            res->allowed = false;
            res->remaining = 0;
            res->retry_after_s = (uint32_t)((wait_us + 999999) / 1000000);
            res->reset_s = (uint32_t)((start - now + 999999) / 1000000);
            return;
        }
        if (uatomic_cmpxchg(&e->state, s, make_state(key, next)) == s) {
            res->allowed = true;
            res->remaining = (uint32_t)((now + span - next) / interval);
            res->reset_s = (uint32_t)((next - now + 999999) / 1000000);
            res->retry_after_s = 0;
            return;
        }
    }
}

/* After inserting at `mine`, make sure no earlier slot of the window holds
 * the same key (two workers inserting it at once, each into a different free
 * slot); if one does, give ours back and use that one. */
static limiter_entry_t *dedupe(limiter_hdr_t *h, limiter_entry_t *tab, uint64_t key, uint64_t first,
                               uint64_t mine)
{
    for (uint64_t i = 0; i < h->window; i++) {
        uint64_t j = (first + i) % h->capacity;
        if (j == mine)
            return &tab[mine];
        if ((uatomic_read(&tab[j].key) & ~RETIRED) == key) {
            uatomic_cmpxchg(&tab[mine].key, key, 0);
            return &tab[j];
        }
    }
    return &tab[mine];
}

/* Find key's entry or make one; NULL only if every attempt lost a race. */
static limiter_entry_t *find_or_insert(limiter_hdr_t *h, uint64_t key, uint64_t now, bool *evicted)
{
    limiter_entry_t *tab = entries(h);
    uint64_t first = home(h, key);
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        uint64_t free_j = UINT64_MAX, victim = UINT64_MAX, victim_key = 0, victim_tat = UINT64_MAX;
        bool lost = false;
        for (uint64_t i = 0; i < h->window; i++) {
            uint64_t j = (first + i) % h->capacity;
            uint64_t k = uatomic_read(&tab[j].key);
            if (k == 0) {
                if (free_j == UINT64_MAX)
                    free_j = j;
                continue;
            }
            if ((k & ~RETIRED) == key) {
                /* Resurrect a retired entry: the sweep frees only what is still
                 * retired. If the sweep freed it first, probe again. */
                if ((k & RETIRED) && uatomic_cmpxchg(&tab[j].key, k, key) != k &&
                    uatomic_read(&tab[j].key) != key) {
                    lost = true;
                    break;
                }
                return &tab[j];
            }
            uint64_t tat = uatomic_read(&tab[j].state) & TAT_MASK;
            if (tat < victim_tat) {
                victim_tat = tat;
                victim = j;
                victim_key = k;
            }
        }
        if (lost || (free_j == UINT64_MAX && victim == UINT64_MAX))
            continue; /* a resurrection lost to the sweep: probe again */
        uint64_t j = free_j != UINT64_MAX ? free_j : victim;
        uint64_t expect = free_j != UINT64_MAX ? 0 : victim_key;
        /* Read the state before claiming: if a previous occupant happened to
         * share our tag and left a debt, clear it, unless someone who found
         * our key meanwhile has already used the bucket (the CAS then fails). */
        uint64_t s = uatomic_read(&tab[j].state);
        if (uatomic_cmpxchg(&tab[j].key, expect, key) != expect)
            continue;
        if ((s >> TAT_BITS) == tag_of(key) && (s & TAT_MASK) > now)
            uatomic_cmpxchg(&tab[j].state, s, make_state(key, 0));
        *evicted = expect != 0;
        return dedupe(h, tab, key, first, j);
    }
    return NULL;
}

gw_limit_result_t gw_limiter_take(void *region, uint64_t key, double rate, uint32_t burst, uint64_t now_us)
{
    limiter_hdr_t *h = hdr(region);
    gw_limit_result_t res = {.allowed = true, .limit = burst, .remaining = burst};
    if (rate <= 0 || burst == 0 || h->capacity == 0)
        return res;
    uint64_t now = now_us - h->base_us;
    double t = ceil(1e6 / rate);
    uint64_t interval = t < 1 ? 1 : (uint64_t)t;
    limiter_entry_t *e = find_or_insert(h, key, now, &res.evicted);
    if (e == NULL) /* pathological contention: never refuse service for it */
        return res;
    gcra(e, key, interval, burst, now, &res);
    return res;
}

size_t gw_limiter_sweep_retire(void *region, uint64_t now_us, uint64_t idle_us)
{
    limiter_hdr_t *h = hdr(region);
    limiter_entry_t *tab = entries(h);
    uint64_t now = now_us - h->base_us;
    size_t n = 0;
    for (uint64_t j = 0; j < h->capacity; j++) {
        uint64_t k = uatomic_read(&tab[j].key);
        if (k == 0 || (k & RETIRED))
            continue;
        uint64_t tat = state_tat(uatomic_read(&tab[j].state), k);
        if (tat + idle_us > now)
            continue;
        if (uatomic_cmpxchg(&tab[j].key, k, k | RETIRED) == k)
            n++;
    }
    return n;
}

size_t gw_limiter_sweep_free(void *region)
{
    limiter_hdr_t *h = hdr(region);
    limiter_entry_t *tab = entries(h);
    size_t n = 0;
    for (uint64_t j = 0; j < h->capacity; j++) {
        uint64_t k = uatomic_read(&tab[j].key);
        if ((k & RETIRED) && uatomic_cmpxchg(&tab[j].key, k, 0) == k)
            n++;
    }
    return n;
}

void gw_limiter_stats(const void *region, gw_limiter_stats_t *out)
{
    const limiter_hdr_t *h = region;
    const limiter_entry_t *tab = (const limiter_entry_t *)((const char *)region + sizeof(limiter_hdr_t));
    *out = (gw_limiter_stats_t){.capacity = h->capacity};
    for (uint64_t j = 0; j < h->capacity; j++) {
        uint64_t k = CMM_LOAD_SHARED(tab[j].key);
        out->used += k != 0;
        out->retired += (k & RETIRED) != 0;
    }
}
