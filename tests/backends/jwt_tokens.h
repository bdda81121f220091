/*
 * demo-backend: HS256 JSON Web Tokens (libjwt) as issued by the demo auth
 * service and checked by its ValidateToken/VerifyToken and the user
 * service's VerifyToken: signing a claims object, verifying signature,
 * algorithm and expiry.
 */
#ifndef DEMO_JWT_TOKENS_H
#define DEMO_JWT_TOKENS_H

#include <jansson.h>

/* HS256 token for the claims object; malloc'd (free()), or NULL. */
char *jwt_sign_hs256(const json_t *claims, const char *secret);
/* The claims of a valid, unexpired HS256 token (caller decrefs), or NULL
 * with *err set to a static reason ("invalid token", "token has expired"). */
json_t *jwt_verify_hs256(const char *token, const char *secret, const char **err);
/* The token in "Bearer <token>" (or the value itself), or NULL if empty. */
const char *bearer_token(const char *authorization);
/* String value of claim `name` or "" when absent or not a string. */
const char *claim_str(const json_t *claims, const char *name);

#endif
