/*
 * The shared rate-limit table (see shm/limiter.h for the layout and the
 * algorithm). Every word is changed by uatomic_cmpxchg only: no locks, so a
 * worker killed at any instruction leaves at most one token unaccounted.
 */
#include "shm/limiter.h"

#include "core/hash.h"

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
    uint64_t base_us;     /* CLOCK_MONOTONIC at init, minus one: tat 0 is "long ago" */
    uint64_t credit_cap;  /* entries of the credit table (global scope) */
    uint64_t global_down; /* bit per worker slot that sees Redis unavailable */
} __attribute__((aligned(128))) limiter_hdr_t;

typedef struct {
    uint64_t key;
    uint64_t debt;       /* [last_ms:32][debt:32] */
    uint64_t not_before; /* ms since base: no settle may start before */
    uint64_t pad;
} credit_entry_t;

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

static uint64_t credit_capacity(uint64_t capacity)
{
    return capacity / 4 > 0 ? capacity / 4 : 1;
}

static credit_entry_t *credits(void *region)
{
    limiter_hdr_t *h = region;
    return (credit_entry_t *)((char *)region + sizeof(limiter_hdr_t) + h->capacity * sizeof(limiter_entry_t));
}

size_t gw_limiter_region_size(uint32_t capacity)
{
    return sizeof(limiter_hdr_t) + (size_t)capacity * sizeof(limiter_entry_t) +
           credit_capacity(capacity) * sizeof(credit_entry_t);
}

void gw_limiter_init(void *region, uint32_t capacity, uint64_t seed)
{
    limiter_hdr_t *h = hdr(region);
    memset(region, 0, gw_limiter_region_size(capacity));
    h->capacity = capacity;
    h->window = capacity < GW_LIMITER_WINDOW ? capacity : GW_LIMITER_WINDOW;
    h->seed = seed;
    h->credit_cap = credit_capacity(capacity);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    h->base_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 - 1;
    cmm_smp_mb();
    CMM_STORE_SHARED(h->magic, LIMITER_MAGIC);
}

/* The key word of an address or tenant: the segment's seeded hash
 * (core/hash.h), the kind in the seed so an IP and a tenant never share one. */
uint64_t gw_limiter_key(const void *region, const void *bytes, size_t len, uint8_t kind)
{
    const limiter_hdr_t *h = region;
    uint64_t acc = gw_hash(h->seed ^ ((uint64_t)kind << 56), bytes, len);
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

void gw_limiter_untake(void *region, uint64_t key, double rate, uint64_t now_us)
{
    limiter_hdr_t *h = hdr(region);
    if (rate <= 0 || h->capacity == 0)
        return;
    double t = ceil(1e6 / rate);
    uint64_t interval = t < 1 ? 1 : (uint64_t)t;
    bool evicted = false;
    limiter_entry_t *e = find_or_insert(h, key, now_us - h->base_us, &evicted);
    for (int i = 0; e != NULL && i < MAX_ATTEMPTS; i++) {
        uint64_t s = uatomic_read(&e->state);
        uint64_t tat = state_tat(s, key);
        if (tat < interval || uatomic_cmpxchg(&e->state, s, make_state(key, tat - interval)) == s)
            return;
    }
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

/* ---- credit table (RATE_LIMIT_SCOPE=global) ------------------------------ */

#define CREDIT_WINDOW 8
#define DEBT_MASK     0xffffffffULL

static uint64_t ms_since_base(const limiter_hdr_t *h, uint64_t now_us)
{
    return (now_us - h->base_us) / 1000;
}

/* Find key's credit entry or claim one (a free slot, else the least
 * recently used of the window, whose debt is then forgotten). NULL only
 * when every attempt lost a race. */
static credit_entry_t *credit_find(limiter_hdr_t *h, uint64_t key, bool insert, uint64_t now_ms)
{
    credit_entry_t *tab = credits(h);
    uint64_t cap = h->credit_cap;
    uint64_t first = (uint64_t)(((unsigned __int128)(key << 1) * cap) >> 64);
    uint64_t win = cap < CREDIT_WINDOW ? cap : CREDIT_WINDOW;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        uint64_t pick = UINT64_MAX, pick_key = 0, oldest = UINT64_MAX;
        for (uint64_t i = 0; i < win; i++) {
            uint64_t j = (first + i) % cap;
            uint64_t k = uatomic_read(&tab[j].key);
            if (k == key)
                return &tab[j];
            uint64_t last = k == 0 ? 0 : uatomic_read(&tab[j].debt) >> 32;
            if (pick == UINT64_MAX || (k == 0 && pick_key != 0) || (pick_key != 0 && last < oldest)) {
                pick = j;
                pick_key = k;
                oldest = last;
            }
        }
        if (!insert)
            return NULL;
        if (uatomic_cmpxchg(&tab[pick].key, pick_key, key) != pick_key)
            continue;
        uatomic_set(&tab[pick].debt, (now_ms & DEBT_MASK) << 32);
        uatomic_set(&tab[pick].not_before, 0);
        /* Two workers inserting the key at once: keep the first slot. */
        for (uint64_t i = 0; i < win; i++) {
            uint64_t j = (first + i) % cap;
            if (j == pick)
                break;
            if (uatomic_read(&tab[j].key) == key) {
                uatomic_cmpxchg(&tab[pick].key, key, 0);
                return &tab[j];
            }
        }
        return &tab[pick];
    }
    return NULL;
}

bool gw_limiter_credit_take(void *region, uint64_t key, uint32_t lease, uint64_t now_us, uint32_t *debt)
{
    limiter_hdr_t *h = hdr(region);
    uint64_t now_ms = ms_since_base(h, now_us);
    *debt = 0;
    credit_entry_t *e = credit_find(h, key, true, now_ms);
    if (e == NULL)
        return true; /* pathological contention: never refuse service for it */
    for (;;) {
        uint64_t s = uatomic_read(&e->debt);
        uint32_t d = (uint32_t)(s & DEBT_MASK);
        *debt = d;
        if (d >= lease)
            return false;
        if (uatomic_cmpxchg(&e->debt, s, ((now_ms & DEBT_MASK) << 32) | (d + 1)) == s) {
            *debt = d + 1;
            return true;
        }
    }
}

bool gw_limiter_settle_claim(void *region, uint64_t key, uint32_t min_debt, uint32_t hold_ms, uint64_t now_us,
                             uint32_t *debt)
{
    limiter_hdr_t *h = hdr(region);
    uint64_t now_ms = ms_since_base(h, now_us);
    credit_entry_t *e = credit_find(h, key, false, now_ms);
    *debt = 0;
    if (e == NULL)
        return false;
    uint64_t nb = uatomic_read(&e->not_before);
    uint32_t d = (uint32_t)(uatomic_read(&e->debt) & DEBT_MASK);
    if (nb > now_ms || d < min_debt)
        return false;
    if (uatomic_cmpxchg(&e->not_before, nb, now_ms + hold_ms) != nb)
        return false;
    *debt = d;
    return true;
}

void gw_limiter_settle_done(void *region, uint64_t key, uint32_t granted, uint32_t retry_ms, uint64_t now_us)
{
    limiter_hdr_t *h = hdr(region);
    uint64_t now_ms = ms_since_base(h, now_us);
    credit_entry_t *e = credit_find(h, key, false, now_ms);
    if (e == NULL)
        return; /* evicted meanwhile: its debt is gone anyway */
    for (;;) {
        uint64_t s = uatomic_read(&e->debt);
        uint32_t d = (uint32_t)(s & DEBT_MASK);
        uint32_t nd = granted >= d ? 0 : d - granted;
        if (uatomic_cmpxchg(&e->debt, s, (s & ~DEBT_MASK) | nd) == s)
            break;
    }
    uatomic_set(&e->not_before, now_ms + retry_ms);
}

uint64_t gw_limiter_global_mark(void *region, unsigned slot, bool down)
{
    limiter_hdr_t *h = hdr(region);
    uint64_t bit = 1ULL << (slot % 64);
    for (;;) {
        uint64_t m = uatomic_read(&h->global_down);
        uint64_t n = down ? (m | bit) : (m & ~bit);
        if (m == n || uatomic_cmpxchg(&h->global_down, m, n) == m)
            return m;
    }
}

uint64_t gw_limiter_global_down(const void *region)
{
    const limiter_hdr_t *h = region;
    return CMM_LOAD_SHARED(h->global_down);
}
