/*
 * JWT verification for the auth stage, one verifier per worker.
 *
 * The algorithm is pinned by JWT_ALGORITHM: a token whose header says
 * anything else (including "none", or HS256 against an RS256 gateway) is
 * refused before any key is used. HS256/384/512 signatures are checked with
 * libjwt against JWT_SECRET (and JWT_SECRET_PREVIOUS during a rotation);
 * RS256/ES256 with OpenSSL against JWT_PUBLIC_KEY_FILE, parsed once at
 * start-up. exp (required) and nbf are checked here with JWT_LEEWAY — libjwt
 * 1.10 checks neither. Claims: user_id (else sub), tenant_id, roles, jti.
 * JWT_REQUIRED_CLAIMS names claims a token must also carry (present, not
 * null, not "" or []); exp is required whatever the list says.
 */
#ifndef GW_JWT_H
#define GW_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/jwt_claims.h"

#define GW_JWT_MAX_TOKEN 8192

typedef enum { GW_JWT_HS256, GW_JWT_HS384, GW_JWT_HS512, GW_JWT_RS256, GW_JWT_ES256 } gw_jwt_alg_t;

typedef struct gw_jwt_verifier gw_jwt_verifier_t;

typedef enum {
    GW_JWT_OK = 0,
    GW_JWT_ERR_MALFORMED,
    GW_JWT_ERR_ALG,
    GW_JWT_ERR_SIGNATURE,
    GW_JWT_ERR_EXPIRED,
    GW_JWT_ERR_NOT_YET_VALID,
    GW_JWT_ERR_CLAIMS,
    GW_JWT_ERR_MISSING_CLAIM, /* a JWT_REQUIRED_CLAIMS name is absent: claims->missing */
} gw_jwt_result_t;

/* "HS256" etc. → alg; -1 if unknown. */
int gw_jwt_alg_parse(const char *name, gw_jwt_alg_t *out);
const char *gw_jwt_alg_name(gw_jwt_alg_t alg);

/* secret / previous_secret for HS*; public_key_pem_path for RS256/ES256
 * (the key type must match the algorithm). NULL + one line in err on error. */
gw_jwt_verifier_t *gw_jwt_verifier_new(gw_jwt_alg_t alg, const char *secret, const char *previous_secret,
                                       const char *public_key_pem_path, long leeway_s, char *err,
                                       size_t errlen);
void gw_jwt_verifier_free(gw_jwt_verifier_t *v);

/* Make tokens carry every claim named in `list` (syntax checked by
 * gw_jwt_required_claims_check, core/jwt_claims.h). */
int gw_jwt_verifier_require(gw_jwt_verifier_t *v, const char *list, char *err, size_t errlen);

/* Verify a compact JWS (not NUL-terminated) at `now`; fills *claims on OK. */
gw_jwt_result_t gw_jwt_verify(gw_jwt_verifier_t *v, const char *token, size_t len, time_t now,
                              gw_jwt_claims_t *claims);

/* The seconds in which gw_jwt_verify accepts `claims` as far as time goes:
 * from <= now < until (exp and nbf with JWT_LEEWAY, the same rule as the
 * verification). For the verified-token cache (worker/token_cache.h). */
void gw_jwt_window(const gw_jwt_verifier_t *v, const gw_jwt_claims_t *claims, long long *from,
                   long long *until);

/* A short reason for logs; never contains the token. */
const char *gw_jwt_strerror(gw_jwt_result_t r);

#endif
