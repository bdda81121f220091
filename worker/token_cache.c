/*
 * Verified-token cache (see worker/token_cache.h). A set-associative table:
 * SipHash-2-4 of the token, keyed with random bytes per cache so a client
 * cannot aim tokens at one set, picks the set; each way holds the token's
 * full hash, its length and a heap block with the claims and the token's
 * bytes, compared in full on every hit.
 */
#include "worker/token_cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

typedef struct {
    gw_jwt_claims_t claims;
    long long from, until; /* accepted while from <= now < until */
    size_t len;
    char token[]; /* the exact token bytes */
} entry_t;

typedef struct {
    uint64_t hash;
    uint64_t used; /* the cache's tick at the last hit or put; 0 = empty */
    entry_t *e;
} way_t;

struct gw_token_cache {
    uint64_t k0, k1; /* SipHash key */
    size_t nsets;
    uint64_t tick;
    size_t count;
    way_t ways[]; /* nsets * GW_TOKEN_CACHE_WAYS */
};

/* ---- SipHash-2-4 (Aumasson & Bernstein), 64-bit output ------------------ */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                             \
    do {                                                                                                     \
        v0 += v1;                                                                                            \
        v1 = ROTL(v1, 13);                                                                                   \
        v1 ^= v0;                                                                                            \
        v0 = ROTL(v0, 32);                                                                                   \
        v2 += v3;                                                                                            \
        v3 = ROTL(v3, 16);                                                                                   \
        v3 ^= v2;                                                                                            \
        v0 += v3;                                                                                            \
        v3 = ROTL(v3, 21);                                                                                   \
        v3 ^= v0;                                                                                            \
        v2 += v1;                                                                                            \
        v1 = ROTL(v1, 17);                                                                                   \
        v1 ^= v2;                                                                                            \
        v2 = ROTL(v2, 32);                                                                                   \
    } while (0)

static uint64_t siphash(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m;
        memcpy(&m, in + i, 8); /* little-endian hosts only, as the rest of the gateway */
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)in[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the table ------------------------------------------------------------ */

gw_token_cache_t *gw_token_cache_new(size_t entries)
{
    if (entries == 0)
        entries = GW_TOKEN_CACHE_ENTRIES;
    size_t nsets = (entries + GW_TOKEN_CACHE_WAYS - 1) / GW_TOKEN_CACHE_WAYS;
    gw_token_cache_t *c = calloc(1, sizeof(*c) + nsets * GW_TOKEN_CACHE_WAYS * sizeof(way_t));
    if (c == NULL)
        return NULL;
    c->nsets = nsets;
    uint64_t key[2];
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
        /* No entropy: the key only spreads sets; correctness never rests on it. */
        key[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
        key[1] = (uint64_t)(uintptr_t)c;
    }
    c->k0 = key[0];
    c->k1 = key[1];
    return c;
}

static void drop(gw_token_cache_t *c, way_t *w)
{
    free(w->e);
    w->e = NULL;
    w->used = 0;
    c->count--;
}

void gw_token_cache_free(gw_token_cache_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nsets * GW_TOKEN_CACHE_WAYS; i++)
        free(c->ways[i].e);
    free(c);
}

static way_t *set_of(gw_token_cache_t *c, uint64_t hash)
{
    return &c->ways[(hash % c->nsets) * GW_TOKEN_CACHE_WAYS];
}

static way_t *find(gw_token_cache_t *c, uint64_t hash, const char *token, size_t len)
{
    way_t *set = set_of(c, hash);
    for (int i = 0; i < GW_TOKEN_CACHE_WAYS; i++) {
        way_t *w = &set[i];
        if (w->e != NULL && w->hash == hash && w->e->len == len && memcmp(w->e->token, token, len) == 0)
            return w;
    }
    return NULL;
}

const gw_jwt_claims_t *gw_token_cache_get(gw_token_cache_t *c, const char *token, size_t len, long long now)
{
    if (c == NULL)
        return NULL;
    uint64_t hash = siphash(c->k0, c->k1, (const unsigned char *)token, len);
    way_t *w = find(c, hash, token, len);
    if (w == NULL)
        return NULL;
    if (now < w->e->from || now >= w->e->until) {
        drop(c, w); /* the verifier refuses it with its own reason */
        return NULL;
    }
    w->used = ++c->tick;
    return &w->e->claims;
}

void gw_token_cache_put(gw_token_cache_t *c, const char *token, size_t len, const gw_jwt_claims_t *claims,
                        long long from, long long until)
{
    if (c == NULL || from >= until)
        return;
    uint64_t hash = siphash(c->k0, c->k1, (const unsigned char *)token, len);
    way_t *w = find(c, hash, token, len);
    if (w == NULL) {
        way_t *set = set_of(c, hash);
        w = &set[0];
        for (int i = 1; i < GW_TOKEN_CACHE_WAYS && w->e != NULL; i++)
            if (set[i].e == NULL || set[i].used < w->used)
                w = &set[i];
    }
    if (w->e != NULL)
        drop(c, w);
    entry_t *e = malloc(sizeof(*e) + len);
    if (e == NULL)
        return;
    e->claims = *claims;
    e->claims.missing = NULL;
    e->from = from;
    e->until = until;
    e->len = len;
    memcpy(e->token, token, len);
    w->e = e;
    w->hash = hash;
    w->used = ++c->tick;
    c->count++;
}

size_t gw_token_cache_count(const gw_token_cache_t *c)
{
    return c != NULL ? c->count : 0;
}
