/*
 * A per-worker cache of verified JWTs, so the signature check and the JSON
 * parsing of header and claims (libjwt, jansson) run once per token rather
 * than once per request (Envoy's jwt_authn does the same).
 *
 * Only tokens that passed gw_jwt_verify are stored, with the claims the
 * request needs and the window [from, until) in which exp and nbf (with
 * JWT_LEEWAY) accept them. A lookup compares the whole token byte for
 * byte (the keyed hash only picks the set), so two different tokens never
 * share an entry: a token with the same payload and another signature is
 * a miss and goes through full verification. A hit outside its window is
 * dropped and reported as a miss, so the verifier refuses it with its own
 * reason. The revocation checks (segment record, Redis blacklist) are not
 * the cache's business: the auth stage runs them on every request, hit or
 * miss.
 *
 * Lifetime: one cache per worker process, created with the verifier by
 * gw_auth_init and freed with it. A reload (HUP) starts new worker
 * processes, so a changed JWT_SECRET or key never meets an entry verified
 * with the old one. Not thread-safe (the loop thread only).
 *
 * Bounds: GW_TOKEN_CACHE_ENTRIES entries in sets of GW_TOKEN_CACHE_WAYS;
 * a full set evicts its least recently used entry. Each entry owns one
 * heap block (claims + a copy of the token) freed on eviction.
 */
#ifndef GW_TOKEN_CACHE_H
#define GW_TOKEN_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "worker/jwt.h"

#define GW_TOKEN_CACHE_ENTRIES 4096
#define GW_TOKEN_CACHE_WAYS    4

typedef struct gw_token_cache gw_token_cache_t;

/* `entries` is rounded up to a multiple of the ways (0 → the default).
 * The hash key is random per cache. NULL if out of memory. */
gw_token_cache_t *gw_token_cache_new(size_t entries);
void gw_token_cache_free(gw_token_cache_t *c);

/* The claims verified for exactly this token if cached and `now` is in
 * its window, else NULL. The pointer is valid until the next put (which may
 * evict it): a request copies the claims into its identity (worker/auth.c),
 * never keeps this pointer. */
const gw_jwt_claims_t *gw_token_cache_get(gw_token_cache_t *c, const char *token, size_t len, long long now);

/* Store a verified token's claims, accepted while from <= now < until
 * (see gw_jwt_window). Silently does nothing if out of memory. */
void gw_token_cache_put(gw_token_cache_t *c, const char *token, size_t len, const gw_jwt_claims_t *claims,
                        long long from, long long until);

/* Entries held now (for tests). */
size_t gw_token_cache_count(const gw_token_cache_t *c);

#endif
