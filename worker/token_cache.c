/*
 * Verified-token cache (see worker/token_cache.h). A set-associative table:
 * the keyed hash of core/hash.h over the token, seeded at random per cache
 * so a client cannot aim tokens at one set, picks the set; each way holds the token's
 * full hash, its length and a heap block with the claims and the token's
 * bytes, compared in full on every hit.
 */
#include "worker/token_cache.h"

#include "core/hash.h"

#include <stdlib.h>
#include <string.h>

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
    uint64_t seed; /* core/hash.h key, random per worker */
    size_t nsets;
    uint64_t tick;
    size_t count;
    way_t ways[]; /* nsets * GW_TOKEN_CACHE_WAYS */
};

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
    c->seed = gw_hash_seed(); /* only spreads sets: a hit also compares the whole token */
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
    uint64_t hash = gw_hash(c->seed, token, len);
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
    uint64_t hash = gw_hash(c->seed, token, len);
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
