/*
 * JWT verifier: valid tokens of every algorithm, and every way a token must
 * be refused — wrong key, tampering, alg none, algorithm confusion (an RS256
 * public key used as an HS256 secret), expiry and nbf with and without
 * leeway, missing claims, malformed encodings — plus secret rotation. Keys
 * are generated at run time; tokens are minted with libjwt and OpenSSL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "worker/jwt.h"

#define SECRET "unit-test-secret"

static EVP_PKEY *rsa, *ec;
static char rsa_pub[64] = "/tmp/gw-jwt-rsa-XXXXXX", ec_pub[64] = "/tmp/gw-jwt-ec-XXXXXX";
static char *rsa_pem; /* the RSA public key PEM text, for the confusion attack */

static void b64url(const unsigned char *in, size_t n, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (n - i == 1) {
        out[o++] = tbl[in[i] >> 2];
        out[o++] = tbl[(in[i] & 3) << 4];
    } else if (n - i == 2) {
        out[o++] = tbl[in[i] >> 2];
        out[o++] = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        out[o++] = tbl[(in[i + 1] & 15) << 2];
    }
    out[o] = '\0';
}

/* header.payload from JSON texts. */
static void signing_input(const char *header, const char *payload, char *out)
{
    char h[512], p[2048];
    b64url((const unsigned char *)header, strlen(header), h);
    b64url((const unsigned char *)payload, strlen(payload), p);
    sprintf(out, "%s.%s", h, p);
}

static void sign_hmac(const char *header, const char *payload, const char *key, size_t keylen,
                      const EVP_MD *md, char *out)
{
    signing_input(header, payload, out);
    unsigned char mac[64];
    unsigned maclen = 0;
    HMAC(md, key, (int)keylen, (const unsigned char *)out, strlen(out), mac, &maclen);
    strcat(out, ".");
    b64url(mac, maclen, out + strlen(out));
}

static void sign_pkey(const char *header, const char *payload, EVP_PKEY *key, char *out)
{
    signing_input(header, payload, out);
    unsigned char sig[512];
    size_t slen = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &slen, (unsigned char *)out, strlen(out)), 1);
    EVP_MD_CTX_free(ctx);
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) { /* DER → R||S */
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
        unsigned char rs[64] = {0};
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
        ECDSA_SIG_free(es);
        memcpy(sig, rs, 64);
        slen = 64;
    }
    strcat(out, ".");
    b64url(sig, slen, out + strlen(out));
}

static char *payload_json(long exp_in, const char *extra)
{
    static char buf[1024];
    long now = (long)time(NULL);
    snprintf(buf, sizeof(buf),
             "{\"user_id\":\"u1\",\"tenant_id\":\"t1\",\"roles\":[\"user\",\"admin\"],"
             "\"jti\":\"j-1\",\"iat\":%ld,\"exp\":%ld%s%s}",
             now, now + exp_in, extra ? "," : "", extra ? extra : "");
    return buf;
}

static gw_jwt_result_t verify_with(gw_jwt_verifier_t *v, const char *tok, gw_jwt_claims_t *c)
{
    return gw_jwt_verify(v, tok, strlen(tok), time(NULL), c);
}

static gw_jwt_verifier_t *hs(const char *secret, const char *prev, long leeway)
{
    char err[256];
    gw_jwt_verifier_t *v = gw_jwt_verifier_new(GW_JWT_HS256, secret, prev, NULL, leeway, err, sizeof(err));
    assert_non_null(v);
    return v;
}

static const char *HS256 = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void test_hs_valid_all_sizes(void **state)
{
    (void)state;
    const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512()};
    const char *names[] = {"HS256", "HS384", "HS512"};
    for (int i = 0; i < 3; i++) {
        char err[256], hdr[64], tok[4096];
        gw_jwt_alg_t alg;
        assert_int_equal(gw_jwt_alg_parse(names[i], &alg), 0);
        gw_jwt_verifier_t *v = gw_jwt_verifier_new(alg, SECRET, NULL, NULL, 0, err, sizeof(err));
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", names[i]);
        sign_hmac(hdr, payload_json(60, NULL), SECRET, strlen(SECRET), mds[i], tok);
        gw_jwt_claims_t c;
        assert_int_equal(verify_with(v, tok, &c), GW_JWT_OK);
        assert_string_equal(c.user_id, "u1");
        assert_string_equal(c.tenant_id, "t1");
        assert_string_equal(c.jti, "j-1");
        assert_int_equal(c.nroles, 2);
        assert_string_equal(c.roles[1], "admin");
        gw_jwt_verifier_free(v);
    }
}

static void test_libjwt_minted_token(void **state)
{
    (void)state;
    jwt_t *jwt;
    jwt_new(&jwt);
    jwt_add_grant(jwt, "sub", "from-sub");
    jwt_add_grant_int(jwt, "exp", (long)time(NULL) + 60);
    jwt_add_grants_json(jwt, "{\"roles\":\"admin, editor\"}");
    jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)SECRET, (int)strlen(SECRET));
    char *tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    gw_jwt_verifier_t *v = hs(SECRET, NULL, 0);
    gw_jwt_claims_t c;
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_OK);
    assert_string_equal(c.user_id, "from-sub"); /* sub fallback */
    assert_int_equal(c.nroles, 2);
    assert_string_equal(c.roles[0], "admin");
    assert_string_equal(c.roles[1], "editor");
    free(tok);
    gw_jwt_verifier_free(v);
}

static void test_hs_refusals(void **state)
{
    (void)state;
    gw_jwt_verifier_t *v = hs(SECRET, NULL, 0);
    gw_jwt_claims_t c;
    char tok[4096];
    sign_hmac(HS256, payload_json(60, NULL), "wrong", 5, EVP_sha256(), tok);
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_SIGNATURE);
    /* tampered payload, original signature */
    char good[4096], evil[4096];
    sign_hmac(HS256, payload_json(60, NULL), SECRET, strlen(SECRET), EVP_sha256(), good);
    sign_hmac(HS256, payload_json(60, "\"x\":1"), SECRET, strlen(SECRET), EVP_sha256(), evil);
    char *sig = strrchr(good, '.');
    strcpy(strrchr(evil, '.'), sig);
    assert_int_equal(verify_with(v, evil, &c), GW_JWT_ERR_SIGNATURE);
    /* alg none, with and without a signature */
    signing_input("{\"alg\":\"none\"}", payload_json(60, NULL), tok);
    strcat(tok, ".");
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_MALFORMED); /* empty signature segment */
    strcat(tok, "c2ln");
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_ALG);
    signing_input("{\"alg\":\"None\"}", payload_json(60, NULL), tok);
    strcat(tok, ".c2ln");
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_ALG);
    /* an RS256 token against an HS256 gateway */
    sign_pkey("{\"alg\":\"RS256\"}", payload_json(60, NULL), rsa, tok);
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_ALG);
    gw_jwt_verifier_free(v);
}

static void test_algorithm_confusion(void **state)
{
    (void)state;
    /* The classic attack: an HS256 token HMAC'd with the RSA public key PEM
     * (which the attacker knows), sent to a gateway configured for RS256. */
    char err[256], tok[4096];
    gw_jwt_verifier_t *v = gw_jwt_verifier_new(GW_JWT_RS256, NULL, NULL, rsa_pub, 0, err, sizeof(err));
    assert_non_null(v);
    sign_hmac(HS256, payload_json(60, NULL), rsa_pem, strlen(rsa_pem), EVP_sha256(), tok);
    gw_jwt_claims_t c;
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_ALG);
    sign_pkey("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload_json(60, NULL), rsa, tok);
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_OK);
    /* tamper with an RS256 signature */
    tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_SIGNATURE);
    gw_jwt_verifier_free(v);
}

static void test_es256(void **state)
{
    (void)state;
    char err[256], tok[4096];
    gw_jwt_verifier_t *v = gw_jwt_verifier_new(GW_JWT_ES256, NULL, NULL, ec_pub, 0, err, sizeof(err));
    assert_non_null(v);
    sign_pkey("{\"alg\":\"ES256\"}", payload_json(60, NULL), ec, tok);
    gw_jwt_claims_t c;
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_OK);
    assert_string_equal(c.user_id, "u1");
    sign_pkey("{\"alg\":\"ES256\"}", payload_json(60, NULL), rsa, tok); /* wrong key */
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_SIGNATURE);
    gw_jwt_verifier_free(v);
    /* key type must match the algorithm */
    assert_null(gw_jwt_verifier_new(GW_JWT_ES256, NULL, NULL, rsa_pub, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "not a P-256 EC public key"));
    assert_null(gw_jwt_verifier_new(GW_JWT_RS256, NULL, NULL, ec_pub, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "not an RSA public key"));
    assert_null(gw_jwt_verifier_new(GW_JWT_RS256, NULL, NULL, "/nonexistent.pem", 0, err, sizeof(err)));
    assert_string_equal(err, "JWT_PUBLIC_KEY_FILE: cannot read /nonexistent.pem: No such file or directory");
}

static void test_time_claims(void **state)
{
    (void)state;
    gw_jwt_verifier_t *strict = hs(SECRET, NULL, 0), *lenient = hs(SECRET, NULL, 30);
    gw_jwt_claims_t c;
    char tok[4096], extra[64];
    sign_hmac(HS256, payload_json(-10, NULL), SECRET, strlen(SECRET), EVP_sha256(),
              tok); /* expired 10 s ago */
    assert_int_equal(verify_with(strict, tok, &c), GW_JWT_ERR_EXPIRED);
    assert_int_equal(verify_with(lenient, tok, &c), GW_JWT_OK);
    sign_hmac(HS256, payload_json(-40, NULL), SECRET, strlen(SECRET), EVP_sha256(), tok);
    assert_int_equal(verify_with(lenient, tok, &c), GW_JWT_ERR_EXPIRED);
    snprintf(extra, sizeof(extra), "\"nbf\":%ld", (long)time(NULL) + 20);
    sign_hmac(HS256, payload_json(600, extra), SECRET, strlen(SECRET), EVP_sha256(), tok);
    assert_int_equal(verify_with(strict, tok, &c), GW_JWT_ERR_NOT_YET_VALID);
    assert_int_equal(verify_with(lenient, tok, &c), GW_JWT_OK);
    /* no exp at all */
    sign_hmac(HS256, "{\"user_id\":\"u\"}", SECRET, strlen(SECRET), EVP_sha256(), tok);
    assert_int_equal(verify_with(strict, tok, &c), GW_JWT_ERR_CLAIMS);
    /* exp of the wrong type */
    sign_hmac(HS256, "{\"user_id\":\"u\",\"exp\":\"tomorrow\"}", SECRET, strlen(SECRET), EVP_sha256(), tok);
    assert_int_equal(verify_with(strict, tok, &c), GW_JWT_ERR_CLAIMS);
    gw_jwt_verifier_free(strict);
    gw_jwt_verifier_free(lenient);
}

static void test_claims_shape(void **state)
{
    (void)state;
    gw_jwt_verifier_t *v = hs(SECRET, NULL, 0);
    gw_jwt_claims_t c;
    char tok[8192], payload[4096];
    long exp = (long)time(NULL) + 60;
    snprintf(payload, sizeof(payload), "{\"exp\":%ld}", exp); /* neither user_id nor sub */
    sign_hmac(HS256, payload, SECRET, strlen(SECRET), EVP_sha256(), tok);
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_CLAIMS);
    snprintf(payload, sizeof(payload), "{\"sub\":\"s\",\"exp\":%ld,\"roles\":[1]}", exp);
    sign_hmac(HS256, payload, SECRET, strlen(SECRET), EVP_sha256(), tok);
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_CLAIMS);
    char longid[300];
    memset(longid, 'x', 200);
    longid[200] = '\0';
    snprintf(payload, sizeof(payload), "{\"user_id\":\"%s\",\"exp\":%ld}", longid, exp); /* not truncated */
    sign_hmac(HS256, payload, SECRET, strlen(SECRET), EVP_sha256(), tok);
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_CLAIMS);
    gw_jwt_verifier_free(v);
}

static void test_malformed(void **state)
{
    (void)state;
    gw_jwt_verifier_t *v = hs(SECRET, NULL, 0);
    gw_jwt_claims_t c;
    char good[4096];
    sign_hmac(HS256, payload_json(60, NULL), SECRET, strlen(SECRET), EVP_sha256(), good);
    const char *bad[] = {"", "abc", "a.b", "a.b.c.d", "..", "!!!.e30.e30", "e30=.e30.c2ln"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(verify_with(v, bad[i], &c), GW_JWT_OK);
    char four[4200];
    snprintf(four, sizeof(four), "%s.extra", good);
    assert_int_equal(verify_with(v, four, &c), GW_JWT_ERR_MALFORMED);
    static char huge[GW_JWT_MAX_TOKEN + 100];
    memset(huge, 'A', sizeof(huge) - 1);
    huge[10] = '.';
    huge[20] = '.';
    assert_int_equal(gw_jwt_verify(v, huge, sizeof(huge) - 1, time(NULL), &c), GW_JWT_ERR_MALFORMED);
    /* a padded signature segment is not base64url */
    char padded[4200];
    snprintf(padded, sizeof(padded), "%s=", good);
    assert_int_not_equal(verify_with(v, padded, &c), GW_JWT_OK);
    gw_jwt_verifier_free(v);
}

static void test_secret_rotation(void **state)
{
    (void)state;
    char old_tok[4096], new_tok[4096];
    sign_hmac(HS256, payload_json(60, NULL), "old-secret", 10, EVP_sha256(), old_tok);
    sign_hmac(HS256, payload_json(60, NULL), "new-secret", 10, EVP_sha256(), new_tok);
    gw_jwt_claims_t c;
    gw_jwt_verifier_t *during = hs("new-secret", "old-secret", 0);
    assert_int_equal(verify_with(during, old_tok, &c), GW_JWT_OK);
    assert_int_equal(verify_with(during, new_tok, &c), GW_JWT_OK);
    gw_jwt_verifier_t *after = hs("new-secret", NULL, 0);
    assert_int_equal(verify_with(after, old_tok, &c), GW_JWT_ERR_SIGNATURE);
    assert_int_equal(verify_with(after, new_tok, &c), GW_JWT_OK);
    gw_jwt_verifier_free(during);
    gw_jwt_verifier_free(after);
}

static char *write_pubkey(EVP_PKEY *key, char *path)
{
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    PEM_write_PUBKEY(f, key);
    fclose(f);
    FILE *r = fopen(path, "r");
    char *text = calloc(1, 8192);
    size_t n = fread(text, 1, 8191, r);
    fclose(r);
    text[n] = '\0';
    return text;
}

static int setup(void **state)
{
    (void)state;
    rsa = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    if (rsa == NULL || ec == NULL)
        return -1;
    rsa_pem = write_pubkey(rsa, rsa_pub);
    free(write_pubkey(ec, ec_pub));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(rsa_pub);
    unlink(ec_pub);
    free(rsa_pem);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    return 0;
}

/* JWT_REQUIRED_CLAIMS: every listed claim must be present and non-empty;
 * the missing one is named; exp stays required with an empty list; a bad
 * list is refused with a message. */
static void test_required_claims(void **state)
{
    (void)state;
    char err[256], tok[4096], payload[1024];
    gw_jwt_verifier_t *v = hs(SECRET, NULL, 0);
    assert_int_equal(gw_jwt_verifier_require(v, " exp , jti,tenant_id ", err, sizeof(err)), 0);
    gw_jwt_claims_t c;
    sign_hmac(HS256, payload_json(600, NULL), SECRET, strlen(SECRET), EVP_sha256(), tok);
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_OK);
    long exp = (long)time(NULL) + 600;
    const char *missing[][2] = {
        {"{\"user_id\":\"u\",\"tenant_id\":\"t\",\"exp\":%ld}", "jti"},
        {"{\"user_id\":\"u\",\"tenant_id\":\"t\",\"jti\":null,\"exp\":%ld}", "jti"},
        {"{\"user_id\":\"u\",\"tenant_id\":\"\",\"jti\":\"j\",\"exp\":%ld}", "tenant_id"},
    };
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        snprintf(payload, sizeof(payload), missing[i][0], exp);
        sign_hmac(HS256, payload, SECRET, strlen(SECRET), EVP_sha256(), tok);
        assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_MISSING_CLAIM);
        assert_string_equal(c.missing, missing[i][1]);
    }
    sign_hmac(HS256, "{\"user_id\":\"u\",\"tenant_id\":\"t\",\"jti\":\"j\"}", SECRET, strlen(SECRET),
              EVP_sha256(), tok);
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_MISSING_CLAIM);
    assert_string_equal(c.missing, "exp");
    assert_int_equal(gw_jwt_verifier_require(v, "", err, sizeof(err)), 0); /* exp is still required */
    assert_int_equal(verify_with(v, tok, &c), GW_JWT_ERR_CLAIMS);
    gw_jwt_verifier_free(v);

    const char *bad[] = {"exp,,jti",
                         "exp,",
                         "exp, has space",
                         "a\"b",
                         "x123456789012345678901234567890123456789012345678901234567890123",
                         "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(gw_jwt_required_claims_check(bad[i], err, sizeof(err)), -1);
        assert_non_null(strstr(err, "JWT_REQUIRED_CLAIMS"));
    }
    assert_int_equal(gw_jwt_required_claims_check("exp,jti,https://example.com/org", err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hs_valid_all_sizes),
        cmocka_unit_test(test_libjwt_minted_token),
        cmocka_unit_test(test_hs_refusals),
        cmocka_unit_test(test_algorithm_confusion),
        cmocka_unit_test(test_es256),
        cmocka_unit_test(test_time_claims),
        cmocka_unit_test(test_claims_shape),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_secret_rotation),
        cmocka_unit_test(test_required_claims),
    };
    return cmocka_run_group_tests_name("jwt", tests, setup, teardown);
}
