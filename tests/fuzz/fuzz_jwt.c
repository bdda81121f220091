/*
 * libFuzzer target for token parsing (worker/jwt.c): the input is tried as a
 * whole token against HS256 and RS256 verifiers, and also split at the first
 * two 0x00 bytes into header JSON, payload JSON and signature, each
 * base64url-encoded here, so the JSON and claim checks behind a valid shape
 * are reached too.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker/jwt.h"

static gw_jwt_verifier_t *hs, *rs;

static void init(void)
{
    char err[256];
    hs = gw_jwt_verifier_new(GW_JWT_HS256, "fuzz-secret", "previous", NULL, 5, err, sizeof(err));
    EVP_PKEY *key = EVP_RSA_gen(2048);
    char path[] = "/tmp/fuzz-jwt-XXXXXX";
    FILE *f = fdopen(mkstemp(path), "w");
    PEM_write_PUBKEY(f, key);
    fclose(f);
    rs = gw_jwt_verifier_new(GW_JWT_RS256, NULL, NULL, path, 0, err, sizeof(err));
    unlink(path);
    EVP_PKEY_free(key);
    if (hs == NULL || rs == NULL)
        abort();
}

static size_t b64url(const uint8_t *in, size_t n, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v =
            (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = tbl[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = tbl[v & 63];
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (hs == NULL)
        init();
    gw_jwt_claims_t c;
    gw_jwt_verify(hs, (const char *)data, size, 1700000000, &c);
    gw_jwt_verify(rs, (const char *)data, size, 1700000000, &c);
    const uint8_t *z1 = memchr(data, 0, size);
    const uint8_t *z2 = z1 ? memchr(z1 + 1, 0, size - (size_t)(z1 + 1 - data)) : NULL;
    if (z2 == NULL || size > 4000)
        return 0;
    static char tok[3 * 4000];
    size_t o = b64url(data, (size_t)(z1 - data), tok);
    tok[o++] = '.';
    o += b64url(z1 + 1, (size_t)(z2 - z1 - 1), tok + o);
    tok[o++] = '.';
    o += b64url(z2 + 1, size - (size_t)(z2 + 1 - data), tok + o);
    gw_jwt_verify(hs, tok, o, 1700000000, &c);
    gw_jwt_verify(rs, tok, o, 1700000000, &c);
    return 0;
}
