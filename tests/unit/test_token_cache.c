/*
 * The verified-token cache (worker/token_cache.c): a hit returns the claims
 * stored for exactly that token, never another token's (same payload with
 * another signature, a prefix, a same-length near twin); a hit outside the
 * token's exp/nbf window is dropped; a full set evicts its least recently
 * used entry and the cache never holds more than its bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "worker/token_cache.h"

#define NOW 1800000000LL

static gw_jwt_claims_t claims_for(const char *user, long long exp)
{
    gw_jwt_claims_t c;
    memset(&c, 0, sizeof(c));
    snprintf(c.user_id, sizeof(c.user_id), "%s", user);
    snprintf(c.jti, sizeof(c.jti), "jti-%s", user);
    c.exp = exp;
    return c;
}

static void put(gw_token_cache_t *c, const char *tok, const char *user, long long from, long long until)
{
    gw_jwt_claims_t cl = claims_for(user, until);
    gw_token_cache_put(c, tok, strlen(tok), &cl, from, until);
}

static const char *user_of(gw_token_cache_t *c, const char *tok, long long now)
{
    const gw_jwt_claims_t *cl = gw_token_cache_get(c, tok, strlen(tok), now);
    return cl != NULL ? cl->user_id : NULL;
}

static void test_hit_is_exact_token_only(void **state)
{
    (void)state;
    gw_token_cache_t *c = gw_token_cache_new(64);
    put(c, "aaa.bbb.sig1", "alice", NOW - 10, NOW + 600);
    assert_string_equal(user_of(c, "aaa.bbb.sig1", NOW), "alice");
    assert_null(user_of(c, "aaa.bbb.sig2", NOW)); /* same payload, other signature */
    assert_null(user_of(c, "aaa.bbb.sig", NOW));  /* a prefix */
    assert_null(user_of(c, "aaa.bbb.sig12", NOW));
    assert_null(user_of(c, "", NOW));
    put(c, "aaa.bbb.sig2", "mallory", NOW - 10, NOW + 600);
    assert_string_equal(user_of(c, "aaa.bbb.sig1", NOW), "alice");
    assert_string_equal(user_of(c, "aaa.bbb.sig2", NOW), "mallory");
    gw_token_cache_free(c);
}

static void test_window_is_rechecked_on_every_hit(void **state)
{
    (void)state;
    gw_token_cache_t *c = gw_token_cache_new(64);
    put(c, "t.exp", "bob", NOW - 5, NOW + 2);
    assert_string_equal(user_of(c, "t.exp", NOW + 1), "bob");
    assert_null(user_of(c, "t.exp", NOW + 2));    /* until is exclusive */
    assert_int_equal(gw_token_cache_count(c), 0); /* dropped, not kept */
    assert_null(user_of(c, "t.exp", NOW + 1));    /* and stays a miss */
    put(c, "t.nbf", "carol", NOW + 100, NOW + 600);
    assert_null(user_of(c, "t.nbf", NOW));
    put(c, "t.empty", "dave", NOW, NOW); /* an empty window is not stored */
    assert_int_equal(gw_token_cache_count(c), 0);
    gw_token_cache_free(c);
}

static void test_bounded_with_lru_eviction(void **state)
{
    (void)state;
    gw_token_cache_t *c = gw_token_cache_new(GW_TOKEN_CACHE_WAYS); /* one set */
    char tok[32];
    for (int i = 0; i < GW_TOKEN_CACHE_WAYS; i++) {
        snprintf(tok, sizeof(tok), "tok-%d", i);
        put(c, tok, tok, NOW - 1, NOW + 600);
    }
    assert_non_null(user_of(c, "tok-0", NOW)); /* tok-1 is now the least recently used */
    put(c, "tok-new", "new", NOW - 1, NOW + 600);
    assert_int_equal(gw_token_cache_count(c), GW_TOKEN_CACHE_WAYS);
    assert_null(user_of(c, "tok-1", NOW));
    assert_non_null(user_of(c, "tok-0", NOW));
    assert_string_equal(user_of(c, "tok-new", NOW), "new");
    gw_token_cache_free(c);

    c = gw_token_cache_new(256);
    for (int i = 0; i < 10000; i++) {
        snprintf(tok, sizeof(tok), "many-%d", i);
        put(c, tok, tok, NOW - 1, NOW + 600);
        assert_true(gw_token_cache_count(c) <= 256);
    }
    snprintf(tok, sizeof(tok), "many-%d", 9999);
    assert_string_equal(user_of(c, tok, NOW), tok);
    gw_token_cache_free(c);
}

static void test_many_distinct_tokens_never_collide(void **state)
{
    (void)state;
    gw_token_cache_t *c = gw_token_cache_new(4096);
    char tok[64];
    for (int i = 0; i < 3000; i++) {
        snprintf(tok, sizeof(tok), "h.p%d.s", i);
        put(c, tok, tok, NOW - 1, NOW + 600);
    }
    size_t hits = 0;
    for (int i = 0; i < 3000; i++) {
        snprintf(tok, sizeof(tok), "h.p%d.s", i);
        const char *u = user_of(c, tok, NOW);
        if (u != NULL) {
            assert_string_equal(u, tok); /* whatever is found is that token's */
            hits++;
        }
    }
    assert_true(hits > 2500);                    /* sets spread tokens: few evictions below the bound */
    put(c, "same", "first", NOW - 1, NOW + 600); /* a re-put replaces, never duplicates */
    size_t n = gw_token_cache_count(c);
    put(c, "same", "second", NOW - 1, NOW + 600);
    assert_int_equal(gw_token_cache_count(c), n);
    assert_string_equal(user_of(c, "same", NOW), "second");
    gw_token_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_is_exact_token_only),
        cmocka_unit_test(test_window_is_rechecked_on_every_hit),
        cmocka_unit_test(test_bounded_with_lru_eviction),
        cmocka_unit_test(test_many_distinct_tokens_never_collide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
