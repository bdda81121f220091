/*
 * JWT_REQUIRED_CLAIMS: the list of claim names a token must carry. Parsed
 * and validated here (core/jwt_claims.c) because it is configuration:
 * core/config.c rejects a bad value at load time, and worker/jwt.c fills its
 * verifier from the same parser.
 *
 * gw_jwt_claims_t, the claims a verified token carries, lives here too: the
 * verifier (worker/jwt.c) fills it, the token cache (worker/token_cache.c)
 * keeps it per token, and each request holds its own copy in its identity
 * (worker/request.h), which may not include worker/jwt.h.
 */
#ifndef GW_JWT_CLAIMS_H
#define GW_JWT_CLAIMS_H

#include <stddef.h>

#define GW_JWT_MAX_REQUIRED   16 /* names in JWT_REQUIRED_CLAIMS */
#define GW_JWT_MAX_CLAIM_NAME 64
#define GW_JWT_MAX_ROLES      16

typedef struct {
    char user_id[128]; /* user_id, else sub */
    char tenant_id[128];
    char jti[128];
    char roles[GW_JWT_MAX_ROLES][64];
    size_t nroles;
    long long exp, nbf, iat; /* 0 when absent (exp never is) */
    const char *missing;     /* GW_JWT_ERR_MISSING_CLAIM: the claim's name (the verifier's copy) */
} gw_jwt_claims_t;

/* Split `list` into names; fills out[] when non-NULL. Returns the count or
 * -1 with a message naming the problem (the names come from the operator's
 * config, never from a token, so echoing them is safe). */
int gw_jwt_required_claims_parse(const char *list, char out[][GW_JWT_MAX_CLAIM_NAME], char *err,
                                 size_t errlen);

/* Check a JWT_REQUIRED_CLAIMS value: comma-separated names (spaces around
 * them ignored), each 1..63 printable ASCII characters without spaces or
 * quotes, at most GW_JWT_MAX_REQUIRED; "" is allowed. -1 + err otherwise.
 * Used by the config loader (core/config.c) and by gw_jwt_verifier_require. */
int gw_jwt_required_claims_check(const char *list, char *err, size_t errlen);

#endif
