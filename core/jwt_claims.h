/*
 * JWT_REQUIRED_CLAIMS: the list of claim names a token must carry. Parsed
 * and validated here (core/jwt_claims.c) because it is configuration:
 * core/config.c rejects a bad value at load time, and worker/jwt.c fills its
 * verifier from the same parser.
 */
#ifndef GW_JWT_CLAIMS_H
#define GW_JWT_CLAIMS_H

#include <stddef.h>

#define GW_JWT_MAX_REQUIRED   16 /* names in JWT_REQUIRED_CLAIMS */
#define GW_JWT_MAX_CLAIM_NAME 64

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
