/*
 * CIDR lists (core/cidr.c) for ADMIN_ALLOW and TRUSTED_PROXIES: what the
 * parser accepts and rejects (malformed prefixes, trailing junk, short or
 * long addresses, embedded NUL), what a list matches, and that gw_ip_parse
 * (fed X-Forwarded-For entries by worker/ident.c) reads only `len` bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "core/cidr.h"
#include "tests/unit/table.h"

static void test_list_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int ok;
        size_t n;
        uint8_t family0, prefix0; /* of the first entry when ok and n > 0 */
    } cases[] = {
        {"", 1, 0, 0, 0},
        {" ,\t, ", 1, 0, 0, 0},
        {"10.0.0.0/8", 1, 1, AF_INET, 8},
        {"192.168.1.7", 1, 1, AF_INET, 32},
        {"0.0.0.0/0", 1, 1, AF_INET, 0},
        {"10.0.0.0/32", 1, 1, AF_INET, 32},
        {"10.0.0.0/008", 1, 1, AF_INET, 8},
        {"127.0.0.1/32,::1/128", 1, 2, AF_INET, 32},
        {"  10.0.0.0/8 ,, 192.168.0.0/16\t172.16.0.0/12  ", 1, 3, AF_INET, 8},
        {"::1", 1, 1, AF_INET6, 128},
        {"::/0", 1, 1, AF_INET6, 0},
        {"2001:db8::/32", 1, 1, AF_INET6, 32},
        {"::1/128", 1, 1, AF_INET6, 128},
        /* An IPv4-mapped address is stored as IPv4; its prefix counts the
         * 96 mapping bits, as written in IPv6 notation. */
        {"::ffff:10.0.0.0/104", 1, 1, AF_INET, 8},
        {"::ffff:127.0.0.1/128", 1, 1, AF_INET, 32},
        {"::ffff:127.0.0.1", 1, 1, AF_INET, 32},
        {"::ffff:0.0.0.0/96", 1, 1, AF_INET, 0},
        /* Hostile or malformed. */
        {"::ffff:10.0.0.0/8", 0, 0, 0, 0},  /* would cover non-mapped IPv6 */
        {"::ffff:10.0.0.0/95", 0, 0, 0, 0}, /* likewise */
        {"::ffff:10.0.0.0/129", 0, 0, 0, 0},
        {"10.0.0.0/33", 0, 0, 0, 0},
        {"10.0.0.0/99", 0, 0, 0, 0},
        {"10.0.0.0/256", 0, 0, 0, 0}, /* 256 would wrap a uint8_t to /0 */
        {"10.0.0.0/0032", 0, 0, 0, 0},
        {"::1/129", 0, 0, 0, 0},
        {"::1/1280", 0, 0, 0, 0},
        {"1.2.3/8", 0, 0, 0, 0},
        {"1.2.3", 0, 0, 0, 0},
        {"1.2.3.4.5", 0, 0, 0, 0},
        {"256.0.0.1", 0, 0, 0, 0},
        {"01.2.3.4", 0, 0, 0, 0},
        {"0x7f.0.0.1", 0, 0, 0, 0},
        {"10.0.0.0/8x", 0, 0, 0, 0},
        {"10.0.0.0/x8", 0, 0, 0, 0},
        {"10.0.0.0/", 0, 0, 0, 0},
        {"/8", 0, 0, 0, 0},
        {"/", 0, 0, 0, 0},
        {"10.0.0.0/-1", 0, 0, 0, 0},
        {"10.0.0.0/+8", 0, 0, 0, 0},
        {"10.0.0.0/8/8", 0, 0, 0, 0},
        {"10.0.0.0//8", 0, 0, 0, 0},
        {"10.0.0.0/ 8", 0, 0, 0, 0}, /* splits into "10.0.0.0/" and "8" */
        {"10.0.0.0\n/8", 0, 0, 0, 0},
        {"10.0.0.0;11.0.0.0", 0, 0, 0, 0},
        {"1.2.3.4:80", 0, 0, 0, 0},
        {"[::1]", 0, 0, 0, 0},
        {"fe80::1%eth0", 0, 0, 0, 0},
        {"1:2:3:4:5:6:7:8:9", 0, 0, 0, 0},
        {":::", 0, 0, 0, 0},
        {"localhost", 0, 0, 0, 0},
        {"10.0.0.0/8,bogus", 0, 0, 0, 0}, /* one bad entry fails the list */
        {"\xc3\xa9.0.0.1", 0, 0, 0, 0},
        {"1111111111111111111111111111111111111111111111111111111111111111/8", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        gw_cidr_list_t l;
        char err[256] = "";
        const char *t = cases[i].text;
        int rc = gw_cidr_list_parse(t, &l, err, sizeof(err));
        if (!cases[i].ok) {
            CHECK_IN(rc == -1, i, t);
            CHECK_IN(l.v == NULL && l.n == 0, i, t);
            CHECK_IN(strstr(err, "not an address or CIDR: \"") != NULL, i, t);
            continue;
        }
        CHECK_IN(rc == 0, i, t);
        CHECK_IN(l.n == cases[i].n, i, t);
        if (l.n > 0) {
            CHECK_IN(l.v[0].family == cases[i].family0, i, t);
            CHECK_IN(l.v[0].prefix == cases[i].prefix0, i, t);
        }
        gw_cidr_list_free(&l);
        CHECK_IN(l.v == NULL && l.n == 0, i, t);
    }
}

static void test_list_error_names_entry(void **state)
{
    (void)state;
    gw_cidr_list_t l;
    char err[256];
    assert_int_equal(gw_cidr_list_parse("127.0.0.1/32, 10.0.0.0/33, ::1", &l, err, sizeof(err)), -1);
    assert_string_equal(err, "not an address or CIDR: \"10.0.0.0/33\"");
    /* A small error buffer truncates the message, never overruns. */
    char small[8];
    assert_int_equal(gw_cidr_list_parse("nope", &l, small, sizeof(small)), -1);
    assert_string_equal(small, "not an ");
    /* Many entries grow the array past its first allocation. */
    char text[40 * 32] = "";
    for (int i = 0; i < 40; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "10.0.%d.0/24,", i);
    assert_int_equal(gw_cidr_list_parse(text, &l, err, sizeof(err)), 0);
    assert_int_equal(l.n, 40);
    assert_int_equal(l.v[39].addr[2], 39);
    gw_cidr_list_free(&l);
}

static void test_ip_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len; /* 0: strlen(text) */
        int ok;
        uint8_t family;
        uint8_t addr[4]; /* first bytes of the parsed address when ok */
    } cases[] = {
        {"192.0.2.1", 0, 1, AF_INET, {192, 0, 2, 1}},
        {"255.255.255.255", 0, 1, AF_INET, {255, 255, 255, 255}},
        {"::ffff:192.0.2.1", 0, 1, AF_INET, {192, 0, 2, 1}},
        {"::FFFF:c000:0201", 0, 1, AF_INET, {192, 0, 2, 1}},
        {"2001:db8::1", 0, 1, AF_INET6, {0x20, 0x01, 0x0d, 0xb8}},
        {"::1", 0, 1, AF_INET6, {0, 0, 0, 0}},
        {"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 0, 1, AF_INET6, {0xff, 0xff, 0xff, 0xff}},
        /* Only `len` bytes are read: the rest of an X-Forwarded-For value. */
        {"10.1.2.3, 10.9.9.9", 8, 1, AF_INET, {10, 1, 2, 3}},
        {"10.1.2.34", 8, 1, AF_INET, {10, 1, 2, 3}},
        /* Hostile or malformed. */
        {"10.1.2.3", 6, 0, 0, {0}},
        {"", 0, 0, 0, {0}},
        {" 10.1.2.3", 0, 0, 0, {0}},
        {"10.1.2.3 ", 0, 0, 0, {0}},
        {"10.1.2.3\0evil", 13, 0, 0, {0}}, /* embedded NUL */
        {"\0", 1, 0, 0, {0}},
        {"unknown", 0, 0, 0, {0}},
        {"1.2.3", 0, 0, 0, {0}},
        {"10.0.0.0/8", 0, 0, 0, {0}},
        {"[2001:db8::1]", 0, 0, 0, {0}},
        {"2001:db8::1%25eth0", 0, 0, 0, {0}},
        {"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555", 0, 0, 0, {0}}, /* 46 chars: too long */
        {"1.2.3.4aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0, 0, {0}},
    };
    for (size_t i = 0; i < N(cases); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        char *copy = dup_exact(cases[i].text, len);
        uint8_t fam = 0, addr[16];
        memset(addr, 0xaa, sizeof(addr));
        int rc = gw_ip_parse(copy, len, &fam, addr);
        free(copy);
        const char *t = cases[i].text;
        if (!cases[i].ok) {
            CHECK_IN(rc == -1, i, t);
            continue;
        }
        CHECK_IN(rc == 0, i, t);
        CHECK_IN(fam == cases[i].family, i, t);
        CHECK_IN(memcmp(addr, cases[i].addr, 4) == 0, i, t);
        static const uint8_t zero[12] = {0};
        CHECK_IN(fam != AF_INET || memcmp(addr + 4, zero, 12) == 0, i, t); /* zeroed for matching */
    }
}

/* gw_ip_format writes what inet_ntop writes: every IPv4 digit count at every
 * position, the extremes, IPv6 through inet_ntop itself. */
static void test_ip_format(void **state)
{
    (void)state;
    static const char *const texts[] = {"0.0.0.0",     "255.255.255.255", "10.0.0.1",      "1.20.100.9",
                                        "99.100.9.10", "127.0.0.1",       "192.168.1.255", "::1",
                                        "2001:db8::7", "fe80::1:2:3:4"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        uint8_t fam, addr[16];
        char out[48], want[48];
        assert_int_equal(gw_ip_parse(texts[i], strlen(texts[i]), &fam, addr), 0);
        gw_ip_format(fam, addr, out, sizeof(out));
        assert_non_null(inet_ntop(fam, addr, want, sizeof(want)));
        assert_string_equal(out, want);
        assert_string_equal(out, texts[i]);
    }
    for (unsigned v = 0; v < 256; v++) { /* every octet value, in every position */
        uint8_t addr[16] = {(uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v * 7), (uint8_t)v};
        char out[48], want[48];
        gw_ip_format(AF_INET, addr, out, sizeof(out));
        inet_ntop(AF_INET, addr, want, sizeof(want));
        assert_string_equal(out, want);
    }
}

static void test_match(void **state)
{
    (void)state;
    static const struct {
        const char *list, *ip;
        bool match;
    } cases[] = {
        {"10.0.0.0/8", "10.0.0.0", true},
        {"10.0.0.0/8", "10.255.255.255", true},
        {"10.0.0.0/8", "11.0.0.0", false},
        {"10.0.0.0/8", "9.255.255.255", false},
        {"10.0.0.1/8", "10.200.0.1", true}, /* host bits in the entry are ignored */
        {"192.168.1.7", "192.168.1.7", true},
        {"192.168.1.7", "192.168.1.6", false},
        {"192.168.1.6/31", "192.168.1.7", true},
        {"192.168.1.6/31", "192.168.1.8", false},
        {"254.0.0.0/7", "255.1.1.1", true},
        {"254.0.0.0/7", "253.1.1.1", false},
        {"172.16.0.0/12", "172.31.255.255", true},
        {"172.16.0.0/12", "172.32.0.0", false},
        {"0.0.0.0/0", "203.0.113.9", true},
        {"0.0.0.0/0", "2001:db8::1", false}, /* families never cross */
        {"::/0", "2001:db8::1", true},
        {"::/0", "203.0.113.9", false},
        {"::/0", "::ffff:203.0.113.9", false}, /* a mapped peer is IPv4 */
        {"10.0.0.0/8", "::ffff:10.1.2.3", true},
        {"::ffff:10.0.0.0/104", "10.9.9.9", true},
        {"::ffff:10.0.0.0/104", "11.0.0.0", false},
        {"::1/128", "::1", true},
        {"::1/128", "::2", false},
        {"::1", "0.0.0.1", false},
        {"2001:db8::/32", "2001:db8:ffff::1", true},
        {"2001:db8::/32", "2001:db9::1", false},
        {"2001:db8::/33", "2001:db8:7fff::1", true},
        {"2001:db8::/33", "2001:db8:8000::1", false},
        {"fe80::/10", "febf::1", true},
        {"fe80::/10", "fec0::1", false},
        {"", "127.0.0.1", false},
        {"127.0.0.1/32, ::1/128", "::1", true},
        {"127.0.0.1/32, ::1/128", "127.0.0.2", false},
    };
    for (size_t i = 0; i < N(cases); i++) {
        gw_cidr_list_t l;
        char err[256];
        assert_int_equal(gw_cidr_list_parse(cases[i].list, &l, err, sizeof(err)), 0);
        uint8_t fam, addr[16];
        assert_int_equal(gw_ip_parse(cases[i].ip, strlen(cases[i].ip), &fam, addr), 0);
        CHECK_IN(gw_cidr_list_match_ip(&l, fam, addr) == cases[i].match, i, cases[i].ip);
        gw_cidr_list_free(&l);
    }
}

static void test_match_sockaddr(void **state)
{
    (void)state;
    gw_cidr_list_t l;
    char err[256];
    assert_int_equal(gw_cidr_list_parse("127.0.0.0/8, 2001:db8::/32", &l, err, sizeof(err)), 0);

    struct sockaddr_in v4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.9", &v4.sin_addr);
    assert_true(gw_cidr_list_match_sockaddr(&l, (struct sockaddr *)&v4));
    inet_pton(AF_INET, "128.0.0.1", &v4.sin_addr);
    assert_false(gw_cidr_list_match_sockaddr(&l, (struct sockaddr *)&v4));

    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr); /* dual-stack listener */
    assert_true(gw_cidr_list_match_sockaddr(&l, (struct sockaddr *)&v6));
    inet_pton(AF_INET6, "2001:db8::5", &v6.sin6_addr);
    assert_true(gw_cidr_list_match_sockaddr(&l, (struct sockaddr *)&v6));
    inet_pton(AF_INET6, "::1", &v6.sin6_addr);
    assert_false(gw_cidr_list_match_sockaddr(&l, (struct sockaddr *)&v6));

    struct sockaddr_un un = {.sun_family = AF_UNIX};
    assert_false(gw_cidr_list_match_sockaddr(&l, (struct sockaddr *)&un));
    gw_cidr_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_parse),     cmocka_unit_test(test_list_error_names_entry),
        cmocka_unit_test(test_ip_parse),       cmocka_unit_test(test_match),
        cmocka_unit_test(test_match_sockaddr), cmocka_unit_test(test_ip_format),
    };
    return cmocka_run_group_tests_name("cidr", tests, NULL, NULL);
}
