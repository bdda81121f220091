/*
 * demo-backend: HS256 JWT signing and verification (see jwt_tokens.h).
 * libjwt 1.10 checks only the signature: the algorithm is pinned here and
 * exp/nbf are checked here.
 */
#include "tests/backends/jwt_tokens.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jwt.h>

char *jwt_sign_hs256(const json_t *claims, const char *secret)
{
    jwt_t *jwt = NULL;
    char *json = json_dumps(claims, JSON_COMPACT);
    char *token = NULL;
    if (json != NULL && jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, json) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) == 0)
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    free(json);
    return token;
}

static json_t *decoded_claims(jwt_t *jwt)
{
    char *json = jwt_get_grants_json(jwt, NULL);
    json_t *claims = json ? json_loads(json, 0, NULL) : NULL;
    free(json);
    if (claims != NULL && !json_is_object(claims)) {
        json_decref(claims);
        claims = NULL;
    }
    return claims;
}

static const char *check_times(const json_t *claims)
{
    json_int_t now = (json_int_t)time(NULL);
    const json_t *exp = json_object_get(claims, "exp");
    const json_t *nbf = json_object_get(claims, "nbf");
    if (exp != NULL && (!json_is_integer(exp) || json_integer_value(exp) <= now))
        return "token has expired";
    if (nbf != NULL && (!json_is_integer(nbf) || json_integer_value(nbf) > now))
        return "token is not valid yet";
    return NULL;
}

json_t *jwt_verify_hs256(const char *token, const char *secret, const char **err)
{
    jwt_t *jwt = NULL;
    json_t *claims = NULL;
    *err = "invalid token";
    if (token == NULL || *token == '\0') {
        *err = "token is required";
        return NULL;
    }
    if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0)
        return NULL;
    if (jwt_get_alg(jwt) == JWT_ALG_HS256 && (claims = decoded_claims(jwt)) != NULL &&
        (*err = check_times(claims)) != NULL) {
        json_decref(claims);
        claims = NULL;
    }
    jwt_free(jwt);
    return claims;
}

const char *bearer_token(const char *authorization)
{
    const char *t = authorization;
    if (t == NULL)
        return NULL;
    if (strncasecmp(t, "Bearer ", 7) == 0)
        t += 7;
    while (*t == ' ')
        t++;
    return *t ? t : NULL;
}

const char *claim_str(const json_t *claims, const char *name)
{
    const char *s = json_string_value(json_object_get(claims, name));
    return s ? s : "";
}
