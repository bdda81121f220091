/*
 * Redis Cluster key routing (worker/redis_slots.c): CRC16 slots equal to
 * what Redis computes (values from CLUSTER KEYSLOT and the cluster spec),
 * {hash tags} honoured, the key argument of plain commands and of
 * EVAL/EVALSHA, scripts whose keys span slots refused, and the
 * redis-cluster:// URL parsed or refused with a precise message that never
 * echoes the password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/clients/redis_cluster.h"

static unsigned slot(const char *k)
{
    return gw_rc_key_slot(k, strlen(k));
}

static void test_key_slots(void **state)
{
    (void)state;
    assert_int_equal(slot("123456789"), 0x31C3 & 16383); /* the XMODEM check value */
    assert_int_equal(slot("foo"), 12182);
    assert_int_equal(slot("bar"), 5061);
    assert_int_equal(slot("{user1000}.following"), slot("{user1000}.followers"));
    assert_int_equal(slot("{user1000}.following"), slot("user1000"));
    assert_int_equal(slot("foo{}{bar}"), gw_rc_key_slot("foo{}{bar}", 10)); /* empty tag: whole key */
    assert_int_not_equal(slot("foo{}{bar}"), slot("bar"));
    assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));
    assert_int_equal(slot("foo{bar}{zap}"), slot("bar"));
    assert_int_equal(slot("{unclosed"), gw_rc_key_slot("{unclosed", 9));
    assert_int_equal(slot(""), 0);
}

static int cmd_slot(int argc, const char **argv)
{
    size_t len[8];
    for (int i = 0; i < argc; i++)
        len[i] = strlen(argv[i]);
    return gw_rc_command_slot(argc, argv, len);
}

static void test_command_slot(void **state)
{
    (void)state;
    const char *ping[] = {"PING"};
    assert_int_equal(cmd_slot(1, ping), GW_RC_ANY_NODE);
    const char *get[] = {"GET", "foo"};
    assert_int_equal(cmd_slot(2, get), 12182);
    const char *eval[] = {"eval", "return 1", "2", "{t}:a", "{t}:b", "arg"};
    assert_int_equal(cmd_slot(6, eval), (int)slot("t"));
    const char *cross[] = {"EVALSHA", "abc", "2", "a", "b"};
    assert_int_equal(cmd_slot(5, cross), GW_RC_CROSS_SLOT);
    const char *nokeys[] = {"EVAL", "return 1", "0"};
    assert_int_equal(cmd_slot(3, nokeys), GW_RC_ANY_NODE);
    const char *short_keys[] = {"EVAL", "return 1", "3", "a"};
    assert_int_equal(cmd_slot(4, short_keys), GW_RC_CROSS_SLOT);
    const char *bad_numkeys[] = {"EVAL", "return 1", "-1", "a"};
    assert_int_equal(cmd_slot(4, bad_numkeys), GW_RC_CROSS_SLOT);
}

static void test_url(void **state)
{
    (void)state;
    gw_rc_url_t u;
    char err[256];
    assert_int_equal(gw_rc_parse_url("redis-cluster://10.0.0.1:7000,redis-b:7001", &u, err, sizeof(err)), 0);
    assert_int_equal(u.nseeds, 2);
    assert_string_equal(u.seeds[1].host, "redis-b");
    assert_int_equal(u.seeds[1].port, 7001);
    assert_string_equal(u.password, "");
    assert_int_equal(gw_rc_parse_url("redis-cluster://:p@ss:w@h:1", &u, err, sizeof(err)), 0);
    assert_string_equal(u.password, "p@ss:w");
    assert_string_equal(u.seeds[0].host, "h");
    static const struct {
        const char *url, *message;
    } bad[] = {
        {"redis-cluster://", "no seed nodes"},
        {"redis-cluster://:secretpw@", "no seed nodes"},
        {"redis-cluster://h", "every seed node needs host:port"},
        {"redis-cluster://h:0", "seed port must be 1..65535"},
        {"redis-cluster://h:70000", "seed port must be 1..65535"},
        {"redis-cluster://h:1/2", "a cluster has only database 0"},
        {"redis-cluster://h:1,,g:2", "empty seed node in the list"},
        {"redis-cluster://h:1,", "empty seed node in the list"},
        {"redis-cluster://bad host:1", "seed host has characters"},
        {"redis-cluster://user:secretpw@h:1", "the password form is :password@"},
        {"redis-cluster://a:1,a:2,a:3,a:4,a:5,a:6,a:7,a:8,a:9,a:10,a:11,a:12,a:13,a:14,a:15,a:16,a:17",
         "more than 16 seed nodes"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (gw_rc_parse_url(bad[i].url, &u, err, sizeof(err)) != -1 || strstr(err, bad[i].message) == NULL ||
            strstr(err, "secretpw") != NULL)
            fail_msg("%s: got \"%s\"", bad[i].url, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_slots),
        cmocka_unit_test(test_command_slot),
        cmocka_unit_test(test_url),
    };
    return cmocka_run_group_tests_name("redis_slots", tests, NULL, NULL);
}
