/*
 * The notification proxy's upstream request-target (worker/proxy_path.c):
 * the routed path rebuilt from its segments and re-encoded, the original
 * query kept, dot segments, control bytes and paths outside the prefix
 * refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "worker/proxy_path.h"

#define PREFIX "/api/v1/notifications"

static gw_proxy_path_result_t target(const char *norm, size_t norm_len, const char *query, char *out,
                                     size_t outlen)
{
    gw_buf_t b;
    gw_buf_init(&b, 64);
    gw_proxy_path_result_t res =
        gw_proxy_target(norm, norm_len, query, query ? strlen(query) : 0, PREFIX, &b);
    snprintf(out, outlen, "%.*s", (int)b.len, b.data);
    gw_buf_free(&b);
    return res;
}

static void expect(const char *norm, const char *query, const char *want)
{
    char out[256];
    assert_int_equal(target(norm, strlen(norm), query, out, sizeof(out)), GW_PROXY_PATH_OK);
    assert_string_equal(out, want);
}

static void expect_refused(const char *norm, size_t len, gw_proxy_path_result_t why)
{
    char out[256];
    assert_int_equal(target(norm, len, NULL, out, sizeof(out)), why);
}

static void test_routed_paths(void **state)
{
    (void)state;
    expect("/api/v1/notifications", NULL, "/api/v1/notifications");
    expect("/api/v1/notifications/", NULL, "/api/v1/notifications");
    expect("/api/v1//notifications/abc", NULL, "/api/v1/notifications/abc");
    expect("/api/v1/notifications/email", "to=a%40b&x=1", "/api/v1/notifications/email?to=a%40b&x=1");
    expect("/api/v1/notifications", "", "/api/v1/notifications?");
}

static void test_decoded_bytes_are_reencoded(void **state)
{
    (void)state;
    expect("/api/v1/notifications/a?b", NULL, "/api/v1/notifications/a%3Fb");
    expect("/api/v1/notifications/a#b", NULL, "/api/v1/notifications/a%23b");
    expect("/api/v1/notifications/a b%", NULL, "/api/v1/notifications/a%20b%25");
    expect("/api/v1/notifications/caf\xc3\xa9", NULL, "/api/v1/notifications/caf%C3%A9");
    expect("/api/v1/notifications/...", NULL, "/api/v1/notifications/...");
    expect("/api/v1/notifications/a:b@c;d=e", NULL, "/api/v1/notifications/a:b@c;d=e");
    expect("/api/v1/notifications", "a b#c\x01", "/api/v1/notifications?a%20b%23c%01");
}

static void test_refused(void **state)
{
    (void)state;
    expect_refused("/api/v1/notifications/..", 24, GW_PROXY_PATH_DOT_SEGMENT);
    expect_refused("/api/v1/notifications/./x", 25, GW_PROXY_PATH_DOT_SEGMENT);
    expect_refused("/api/v1/notifications/../../internal", 36, GW_PROXY_PATH_DOT_SEGMENT);
    expect_refused("/api/v1/notifications/a\0b", 25, GW_PROXY_PATH_CONTROL_CHAR);
    expect_refused("/api/v1/notifications/a\nb", 25, GW_PROXY_PATH_CONTROL_CHAR);
    expect_refused("/internal", 9, GW_PROXY_PATH_OUTSIDE_PREFIX);
    expect_refused("/api/v1/notificationsX", 22, GW_PROXY_PATH_OUTSIDE_PREFIX);
    expect_refused("/api/v1", 7, GW_PROXY_PATH_OUTSIDE_PREFIX);
    expect_refused("/", 1, GW_PROXY_PATH_OUTSIDE_PREFIX);
    expect_refused("", 0, GW_PROXY_PATH_OUTSIDE_PREFIX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routed_paths),
        cmocka_unit_test(test_decoded_bytes_are_reencoded),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
