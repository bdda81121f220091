/*
 * JWT verification (see worker/jwt.h). Order of checks, each before the next
 * may trust anything from the token:
 *   1. shape: three base64url segments (strict alphabet, no padding), ≤ 8 KiB
 *   2. header: a JSON object whose alg is exactly the configured one
 *   3. signature: libjwt (HS*, secret then previous secret) or OpenSSL EVP
 *      (RS256/ES256, the key parsed once in gw_jwt_verifier_new)
 *   4. claims: types of user_id|sub, tenant_id, roles, jti, exp, nbf, iat;
 *      then the JWT_REQUIRED_CLAIMS, exp (always required), exp/nbf with
 *      leeway
 * Used by the auth stage on the worker's loop; not thread-safe by design
 * (one verifier per worker process).
 */
#include "worker/jwt.h"

#include "core/digits.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct gw_jwt_verifier {
    gw_jwt_alg_t alg;
    char *secret;   /* HS*: heap copy */
    char *previous; /* HS*: heap copy or NULL */
    EVP_PKEY *key;  /* RS256/ES256 */
    long leeway;
    char required[GW_JWT_MAX_REQUIRED][GW_JWT_MAX_CLAIM_NAME]; /* JWT_REQUIRED_CLAIMS */
    size_t nrequired;
};

static const char *const alg_names[] = {"HS256", "HS384", "HS512", "RS256", "ES256"};

int gw_jwt_alg_parse(const char *name, gw_jwt_alg_t *out)
{
    for (int i = 0; i < 5; i++) {
        if (strcmp(name, alg_names[i]) == 0) {
            *out = (gw_jwt_alg_t)i;
            return 0;
        }
    }
    return -1;
}

const char *gw_jwt_alg_name(gw_jwt_alg_t alg)
{
    return alg_names[alg];
}

const char *gw_jwt_strerror(gw_jwt_result_t r)
{
    switch (r) {
    case GW_JWT_OK:
        return "ok";
    case GW_JWT_ERR_MALFORMED:
        return "malformed token";
    case GW_JWT_ERR_ALG:
        return "algorithm not accepted (the gateway pins JWT_ALGORITHM)";
    case GW_JWT_ERR_SIGNATURE:
        return "signature mismatch";
    case GW_JWT_ERR_EXPIRED:
        return "token expired";
    case GW_JWT_ERR_NOT_YET_VALID:
        return "token not yet valid (nbf)";
    case GW_JWT_ERR_CLAIMS:
        return "missing or invalid claims";
    case GW_JWT_ERR_MISSING_CLAIM:
        return "missing required claim";
    }
    return "unknown";
}

/* ---- key material ----------------------------------------------------- */

static EVP_PKEY *load_public_key(gw_jwt_alg_t alg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "JWT_PUBLIC_KEY_FILE: cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL) {
        snprintf(err, errlen, "JWT_PUBLIC_KEY_FILE: %s is not a PEM public key", path);
        return NULL;
    }
    int type = EVP_PKEY_get_base_id(key);
    char group[64] = "";
    size_t glen = 0;
    if (alg == GW_JWT_RS256 && (type != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048)) {
        snprintf(err, errlen,
                 "JWT_PUBLIC_KEY_FILE: %s is not an RSA public key of at least 2048 bits "
                 "(JWT_ALGORITHM=RS256)",
                 path);
        EVP_PKEY_free(key);
        return NULL;
    }
    if (alg == GW_JWT_ES256 &&
        (type != EVP_PKEY_EC || !EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) ||
         strcmp(group, "prime256v1") != 0)) {
        snprintf(err, errlen, "JWT_PUBLIC_KEY_FILE: %s is not a P-256 EC public key (JWT_ALGORITHM=ES256)",
                 path);
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

gw_jwt_verifier_t *gw_jwt_verifier_new(gw_jwt_alg_t alg, const char *secret, const char *previous_secret,
                                       const char *public_key_pem_path, long leeway_s, char *err,
                                       size_t errlen)
{
    gw_jwt_verifier_t *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->alg = alg;
    v->leeway = leeway_s;
    if (alg <= GW_JWT_HS512) {
        if (secret == NULL || secret[0] == '\0') {
            snprintf(err, errlen, "JWT_SECRET: required with JWT_ALGORITHM=%s", alg_names[alg]);
            free(v);
            return NULL;
        }
        v->secret = strdup(secret);
        if (previous_secret != NULL && previous_secret[0] != '\0')
            v->previous = strdup(previous_secret);
        return v;
    }
    if (public_key_pem_path == NULL ||
        (v->key = load_public_key(alg, public_key_pem_path, err, errlen)) == NULL) {
        if (public_key_pem_path == NULL)
            snprintf(err, errlen, "JWT_PUBLIC_KEY_FILE: required with JWT_ALGORITHM=%s", alg_names[alg]);
        free(v);
        return NULL;
    }
    return v;
}

void gw_jwt_verifier_free(gw_jwt_verifier_t *v)
{
    if (v == NULL)
        return;
    if (v->secret != NULL) {
        OPENSSL_cleanse(v->secret, strlen(v->secret));
        free(v->secret);
    }
    if (v->previous != NULL) {
        OPENSSL_cleanse(v->previous, strlen(v->previous));
        free(v->previous);
    }
    EVP_PKEY_free(v->key);
    free(v);
}

/* ---- JWT_REQUIRED_CLAIMS ------------------------------------------------ */

int gw_jwt_verifier_require(gw_jwt_verifier_t *v, const char *list, char *err, size_t errlen)
{
    int n = gw_jwt_required_claims_parse(list, v->required, err, errlen);
    if (n < 0)
        return -1;
    v->nrequired = (size_t)n;
    return 0;
}

/* A claim is missing when absent, null, "" or []. */
static const char *first_missing(json_t *payload, const gw_jwt_verifier_t *v)
{
    for (size_t i = 0; i < v->nrequired; i++) {
        json_t *val = json_object_get(payload, v->required[i]);
        if (val == NULL || json_is_null(val) || (json_is_string(val) && json_string_length(val) == 0) ||
            (json_is_array(val) && json_array_size(val) == 0))
            return v->required[i];
    }
    return NULL;
}

/* ---- base64url ---------------------------------------------------------- */

/* Strict: JWS alphabet only, no padding, no non-zero leftover bits.
 * Returns the decoded length or -1. */
static long b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    if (len % 4 == 1 || len / 4 * 3 + 3 > cap)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = gw_b64_value((unsigned char)in[i], true);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}

/* ---- signature ------------------------------------------------------------ */

static bool libjwt_hs_verify(const gw_jwt_verifier_t *v, const char *token, const char *secret)
{
    jwt_t *jwt = NULL;
    /* libjwt takes the alg from the token header; step 2 already made it the
     * configured one, and the result is re-checked against it. */
    int rc = jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret));
    bool ok = rc == 0 && jwt != NULL && strcmp(jwt_alg_str(jwt_get_alg(jwt)), alg_names[v->alg]) == 0;
    jwt_free(jwt);
    return ok;
}

static bool evp_verify(const gw_jwt_verifier_t *v, const char *input, size_t ilen, const unsigned char *sig,
                       size_t slen)
{
    unsigned char der[80];
    if (v->alg == GW_JWT_ES256) {
        /* JWS carries R||S; OpenSSL wants a DER ECDSA-Sig-Value. */
        if (slen != 64)
            return false;
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
        if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
            BN_free(r);
            BN_free(s);
            ECDSA_SIG_free(es);
            return false;
        }
        unsigned char *p = der;
        int dlen = i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);
        if (dlen <= 0)
            return false;
        sig = der;
        slen = (size_t)dlen;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, v->key) == 1 &&
              EVP_DigestVerify(ctx, sig, slen, (const unsigned char *)input, ilen) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* ---- claims ------------------------------------------------------------- */

static int copy_string(json_t *obj, const char *name, char *out, size_t cap, bool *present)
{
    json_t *val = json_object_get(obj, name);
    *present = val != NULL && !json_is_null(val);
    out[0] = '\0';
    if (!*present)
        return 0;
    if (!json_is_string(val) || json_string_length(val) >= cap ||
        strlen(json_string_value(val)) != json_string_length(val))
        return -1;
    memcpy(out, json_string_value(val), json_string_length(val) + 1);
    return 0;
}

static int number_claim(json_t *obj, const char *name, long long *out)
{
    json_t *val = json_object_get(obj, name);
    *out = 0;
    if (val == NULL)
        return 0;
    if (!json_is_number(val))
        return -1;
    double d = json_number_value(val);
    if (d < 0 || d > 1e13)
        return -1;
    *out = (long long)d;
    return 0;
}

static int add_role(gw_jwt_claims_t *c, const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (c->nroles == GW_JWT_MAX_ROLES || n >= sizeof(c->roles[0]))
        return -1;
    memcpy(c->roles[c->nroles], s, n);
    c->roles[c->nroles++][n] = '\0';
    return 0;
}

/* roles: an array of strings, or one string of names separated by spaces or commas. */
static int roles_claim(json_t *obj, gw_jwt_claims_t *c)
{
    json_t *val = json_object_get(obj, "roles");
    if (val == NULL || json_is_null(val))
        return 0;
    if (json_is_string(val)) {
        const char *s = json_string_value(val);
        while (*s != '\0') {
            size_t n = strcspn(s, " ,");
            if (add_role(c, s, n) != 0)
                return -1;
            s += n;
            s += strspn(s, " ,");
        }
        return 0;
    }
    if (!json_is_array(val))
        return -1;
    size_t i;
    json_t *item;
    json_array_foreach(val, i, item)
    {
        if (!json_is_string(item) || add_role(c, json_string_value(item), json_string_length(item)) != 0)
            return -1;
    }
    return 0;
}

static gw_jwt_result_t read_claims(json_t *payload, const gw_jwt_verifier_t *v, time_t now,
                                   gw_jwt_claims_t *c)
{
    memset(c, 0, sizeof(*c));
    bool has_uid, has_sub, has;
    if (copy_string(payload, "user_id", c->user_id, sizeof(c->user_id), &has_uid) != 0 ||
        copy_string(payload, "tenant_id", c->tenant_id, sizeof(c->tenant_id), &has) != 0 ||
        copy_string(payload, "jti", c->jti, sizeof(c->jti), &has) != 0 || roles_claim(payload, c) != 0 ||
        number_claim(payload, "exp", &c->exp) != 0 || number_claim(payload, "nbf", &c->nbf) != 0 ||
        number_claim(payload, "iat", &c->iat) != 0)
        return GW_JWT_ERR_CLAIMS;
    if (!has_uid && copy_string(payload, "sub", c->user_id, sizeof(c->user_id), &has_sub) != 0)
        return GW_JWT_ERR_CLAIMS;
    if ((c->missing = first_missing(payload, v)) != NULL)
        return GW_JWT_ERR_MISSING_CLAIM;
    if (c->user_id[0] == '\0' || json_object_get(payload, "exp") == NULL)
        return GW_JWT_ERR_CLAIMS;
    if ((long long)now >= c->exp + v->leeway)
        return GW_JWT_ERR_EXPIRED;
    if (c->nbf != 0 && c->nbf > (long long)now + v->leeway)
        return GW_JWT_ERR_NOT_YET_VALID;
    return GW_JWT_OK;
}

void gw_jwt_window(const gw_jwt_verifier_t *v, const gw_jwt_claims_t *c, long long *from, long long *until)
{
    /* read_claims refuses now >= exp + leeway and nbf > now + leeway. */
    *until = c->exp + v->leeway;
    *from = c->nbf != 0 ? c->nbf - v->leeway : LLONG_MIN;
}

/* ---- verification --------------------------------------------------------- */

static json_t *decode_json(const char *seg, size_t len)
{
    unsigned char buf[GW_JWT_MAX_TOKEN];
    long n = b64url_decode(seg, len, buf, sizeof(buf));
    if (n <= 0)
        return NULL;
    json_t *j = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static gw_jwt_result_t check_header(const gw_jwt_verifier_t *v, const char *seg, size_t len)
{
    json_t *h = decode_json(seg, len);
    if (h == NULL)
        return GW_JWT_ERR_MALFORMED;
    json_t *alg = json_object_get(h, "alg"), *typ = json_object_get(h, "typ");
    gw_jwt_result_t r = GW_JWT_OK;
    if (!json_is_string(alg) || strcmp(json_string_value(alg), alg_names[v->alg]) != 0)
        r = GW_JWT_ERR_ALG;
    else if (typ != NULL && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
        r = GW_JWT_ERR_MALFORMED;
    else if (json_object_get(h, "crit") != NULL)
        r = GW_JWT_ERR_MALFORMED; /* no extension is understood, so none may be critical */
    json_decref(h);
    return r;
}

static gw_jwt_result_t check_signature(const gw_jwt_verifier_t *v, const char *token, size_t len,
                                       size_t signed_len)
{
    if (v->alg <= GW_JWT_HS512) {
        char copy[GW_JWT_MAX_TOKEN + 1]; /* libjwt wants a C string */
        memcpy(copy, token, len);
        copy[len] = '\0';
        if (libjwt_hs_verify(v, copy, v->secret) ||
            (v->previous != NULL && libjwt_hs_verify(v, copy, v->previous)))
            return GW_JWT_OK;
        return GW_JWT_ERR_SIGNATURE;
    }
    unsigned char sig[1024];
    long slen = b64url_decode(token + signed_len + 1, len - signed_len - 1, sig, sizeof(sig));
    if (slen <= 0)
        return GW_JWT_ERR_MALFORMED;
    return evp_verify(v, token, signed_len, sig, (size_t)slen) ? GW_JWT_OK : GW_JWT_ERR_SIGNATURE;
}

gw_jwt_result_t gw_jwt_verify(gw_jwt_verifier_t *v, const char *token, size_t len, time_t now,
                              gw_jwt_claims_t *claims)
{
    if (len == 0 || len > GW_JWT_MAX_TOKEN || memchr(token, '\0', len) != NULL)
        return GW_JWT_ERR_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL ||
        dot2 + 1 == token + len)
        return GW_JWT_ERR_MALFORMED;
    gw_jwt_result_t r = check_header(v, token, (size_t)(dot1 - token));
    if (r != GW_JWT_OK)
        return r;
    size_t signed_len = (size_t)(dot2 - token);
    if ((r = check_signature(v, token, len, signed_len)) != GW_JWT_OK)
        return r;
    json_t *payload = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (payload == NULL)
        return GW_JWT_ERR_MALFORMED;
    r = read_claims(payload, v, now, claims);
    json_decref(payload);
    return r;
}
