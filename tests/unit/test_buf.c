/*
 * gw_buf_t (core/buf.c): JSON string escaping of hostile bytes (control
 * characters, quotes, backslashes, invalid UTF-8, embedded NUL, very long
 * strings) always gives valid JSON (checked with jansson); a growable buffer
 * grows and refuses absurd sizes; a fixed buffer never writes past its
 * storage and says so in `truncated`; numbers and timestamps format exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "core/buf.h"
#include "tests/unit/table.h"

#define R "\xef\xbf\xbd" /* U+FFFD, what an invalid byte becomes */

/* The bytes jansson decodes from `json` (a JSON string literal), or -1 if it
 * is not valid JSON. */
static long json_decoded(const char *json, size_t len, char *out, size_t outcap)
{
    json_error_t e;
    json_t *v = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (v == NULL || !json_is_string(v)) {
        json_decref(v);
        return -1;
    }
    size_t n = json_string_length(v);
    if (n <= outcap)
        memcpy(out, json_string_value(v), n);
    json_decref(v);
    return (long)n;
}

static void test_json_str(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *out;
        const char *decoded; /* what a JSON parser reads back; NULL: `in` itself */
    } cases[] = {
        {"", 0, "\"\"", NULL},
        {"abc", 3, "\"abc\"", NULL},
        {"abcdef", 3, "\"abc\"", "abc"}, /* only `len` bytes */
        {"a\"b", 3, "\"a\\\"b\"", NULL},
        {"a\\b", 3, "\"a\\\\b\"", NULL},
        {"\\\"", 2, "\"\\\\\\\"\"", NULL},
        {"\"\"\"", 3, "\"\\\"\\\"\\\"\"", NULL},
        {"\n\r\t", 3, "\"\\n\\r\\t\"", NULL},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\"", NULL},
        {"\b\f\v\x1b", 4, "\"\\u0008\\u000c\\u000b\\u001b\"", NULL},
        {"a\0b", 3, "\"a\\u0000b\"", NULL},
        {"\0", 1, "\"\\u0000\"", NULL},
        {"\x7f", 1, "\"\x7f\"", NULL},
        {"</script>", 9, "\"</script>\"", NULL},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\"", NULL},
        {"\xe2\x82\xac", 3, "\"\xe2\x82\xac\"", NULL},
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"", NULL},
        {"\xc2\x80", 2, "\"\xc2\x80\"", NULL},                 /* U+0080, smallest 2-byte */
        {"\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"", NULL},         /* U+D7FF */
        {"\xee\x80\x80", 3, "\"\xee\x80\x80\"", NULL},         /* U+E000 */
        {"\xef\xbf\xbf", 3, "\"\xef\xbf\xbf\"", NULL},         /* U+FFFF */
        {"\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"", NULL}, /* U+10FFFF */
        /* Invalid UTF-8: every byte not in a valid sequence becomes U+FFFD. */
        {"\xff", 1, "\"" R "\"", R},
        {"\xfe", 1, "\"" R "\"", R},
        {"\x80", 1, "\"" R "\"", R},
        {"\xbf\xbf", 2, "\"" R R "\"", R R},
        {"\xc3", 1, "\"" R "\"", R},
        {"\xc3(", 2, "\"" R "(\"", R "("},
        {"\xc3\"", 2, "\"" R "\\\"\"", R "\""},
        {"\xc0\xaf", 2, "\"" R R "\"", R R},
        {"\xc1\xbf", 2, "\"" R R "\"", R R},
        {"\xe0\x80\xaf", 3, "\"" R R R "\"", R R R},
        {"\xe0\x9f\xbf", 3, "\"" R R R "\"", R R R},
        {"\xf0\x80\x80\xaf", 4, "\"" R R R R "\"", R R R R},
        {"\xf0\x8f\xbf\xbf", 4, "\"" R R R R "\"", R R R R},
        {"\xed\xa0\x80", 3, "\"" R R R "\"", R R R}, /* UTF-16 surrogates */
        {"\xed\xbf\xbf", 3, "\"" R R R "\"", R R R},
        {"\xf4\x90\x80\x80", 4, "\"" R R R R "\"", R R R R}, /* > U+10FFFF */
        {"\xf5\x80\x80\x80", 4, "\"" R R R R "\"", R R R R},
        {"\xf7\xbf\xbf\xbf", 4, "\"" R R R R "\"", R R R R},
        {"\xf8\x88\x80\x80\x80", 5, "\"" R R R R R "\"", R R R R R},
        {"\xfc\x84\x80\x80\x80\x80", 6, "\"" R R R R R R "\"", R R R R R R},
        {"\xe2\x82", 2, "\"" R R "\"", R R},
        {"\xe2\x82\"", 3, "\"" R R "\\\"\"", R R "\""},
        {"\xf0\x9f\x98", 3, "\"" R R R "\"", R R R},
        {"\xf0\x9f\x98\n", 4, "\"" R R R "\\n\"", R R R "\n"},
        {"a\xff"
         "b\n",
         4, "\"a" R "b\\n\"", "a" R "b\n"},
        {"\xc3\xa9\xc3", 3, "\"\xc3\xa9" R "\"", "\xc3\xa9" R},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char *in = dup_exact(cases[i].in, cases[i].len);
        gw_buf_t b;
        gw_buf_init(&b, 0);
        gw_buf_json_str(&b, in, cases[i].len);
        free(in);
        CHECK(!b.truncated, i);
        CHECK(b.len == strlen(cases[i].out), i);
        CHECK(memcmp(b.data, cases[i].out, b.len) == 0, i);
        const char *want = cases[i].decoded ? cases[i].decoded : cases[i].in;
        size_t want_len = cases[i].decoded ? strlen(want) : cases[i].len;
        char got[64];
        CHECK(json_decoded(b.data, b.len, got, sizeof(got)) == (long)want_len, i);
        CHECK(memcmp(got, want, want_len) == 0, i);
        gw_buf_free(&b);
    }
}

/* Every input of one and two bytes, and pseudo-random ones of up to eight
 * (biased to the bytes that matter), come out as a valid JSON string. */
static void test_json_str_always_valid(void **state)
{
    (void)state;
    gw_buf_t b;
    gw_buf_init(&b, 64);
    char tmp[64];
    for (unsigned v = 0; v < 65536 + 256; v++) {
        unsigned char in[2] = {(unsigned char)(v & 0xff), (unsigned char)(v >> 8)};
        size_t len = v < 65536 ? 2 : 1;
        b.len = 0;
        gw_buf_json_str(&b, (const char *)in, len);
        CHECK(json_decoded(b.data, b.len, tmp, sizeof(tmp)) >= 0, v);
    }
    static const unsigned char pick[] = {0x00, 0x01, 0x0a, 0x1f, '"',  '\\', 'a',  0x7f, 0x80, 0x8f, 0x90,
                                         0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
    uint32_t seed = 12345;
    for (size_t i = 0; i < 200000; i++) {
        unsigned char in[8];
        seed = seed * 1664525u + 1013904223u;
        size_t len = 1 + (seed >> 8) % 8;
        for (size_t k = 0; k < len; k++) {
            seed = seed * 1664525u + 1013904223u;
            in[k] = (seed >> 16) & 1 ? pick[(seed >> 8) % sizeof(pick)] : (unsigned char)(seed >> 24);
        }
        b.len = 0;
        gw_buf_json_str(&b, (const char *)in, len);
        CHECK(json_decoded(b.data, b.len, tmp, sizeof(tmp)) >= 0, i);
    }
    gw_buf_free(&b);
}

static void test_json_str_long(void **state)
{
    (void)state;
    /* 9 input bytes -> 19 output bytes: a b \" \\ \n \u0001 é U+FFFD */
    static const char unit[] = "ab\"\\\n\x01\xc3\xa9\xff";
    const size_t reps = 1 << 18, ulen = sizeof(unit) - 1;
    char *in = malloc(reps * ulen);
    assert_non_null(in);
    for (size_t i = 0; i < reps; i++)
        memcpy(in + i * ulen, unit, ulen);
    gw_buf_t b;
    gw_buf_init(&b, 16);
    gw_buf_json_str(&b, in, reps * ulen);
    free(in);
    assert_false(b.truncated);
    assert_int_equal(b.len, 2 + reps * 19);
    assert_true(b.cap >= b.len);
    assert_memory_equal(b.data, "\"ab\\\"\\\\\\n\\u0001\xc3\xa9" R "ab", 22);
    json_error_t e;
    json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY, &e);
    assert_non_null(v);
    assert_int_equal(json_string_length(v), reps * 11); /* U+FFFD is 3 bytes for 1 */
    json_decref(v);
    gw_buf_free(&b);
}

static void test_json_key(void **state)
{
    (void)state;
    static const struct {
        const char *key, *out;
    } cases[] = {
        {"code", "\"code\":"},
        {"", "\"\":"},
        {"a\"b", "\"a\\\"b\":"},
        {"\x01\xff", "\"\\u0001" R "\":"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        gw_buf_t b;
        gw_buf_init(&b, 0);
        gw_buf_json_key(&b, cases[i].key);
        CHECK(b.len == strlen(cases[i].out) && memcmp(b.data, cases[i].out, b.len) == 0, i);
        gw_buf_free(&b);
    }
}

static void test_growable(void **state)
{
    (void)state;
    gw_buf_t b;
    gw_buf_init(&b, 0);
    assert_null(b.data);
    for (int i = 0; i < 10000; i++)
        gw_buf_putc(&b, (char)('a' + i % 26));
    assert_int_equal(b.len, 10000);
    assert_true(b.cap >= 10000);
    assert_int_equal(b.data[9999], 'a' + 9999 % 26);
    gw_buf_add(&b, "xyz", 0); /* nothing */
    gw_buf_puts(&b, "");
    assert_int_equal(b.len, 10000);
    char big[5000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    gw_buf_printf(&b, "<%s|%d>", big, -7);
    assert_int_equal(b.len, 10000 + 4999 + 5);
    assert_memory_equal(b.data + b.len - 4, "|-7>", 4);
    assert_false(b.truncated);

    size_t len = 0;
    char *d = gw_buf_steal(&b, &len);
    assert_int_equal(len, 15004);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(d);
    gw_buf_puts(&b, "again"); /* a stolen buffer is an empty one */
    assert_int_equal(b.len, 5);
    gw_buf_free(&b);
    gw_buf_free(&b); /* twice is harmless */
}

/* A size no allocation can satisfy is refused (the doubling loop must not
 * wrap around to zero and spin), and the buffer stays usable. */
static void test_reserve_absurd(void **state)
{
    (void)state;
    static const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2 + 1, SIZE_MAX / 2};
    for (size_t i = 0; i < N(sizes); i++) {
        gw_buf_t b;
        gw_buf_init(&b, 16);
        gw_buf_puts(&b, "abc");
        CHECK(!gw_buf_reserve(&b, sizes[i]), i);
        CHECK(b.truncated, i);
        CHECK(b.len == 3 && memcmp(b.data, "abc", 3) == 0, i);
        gw_buf_puts(&b, "def");
        CHECK(b.len == 6, i);
        gw_buf_free(&b);
    }
}

/* A fixed buffer never writes past its storage; what did not fit sets
 * `truncated`. Writes that fit come out exactly. */
static void test_fixed(void **state)
{
    (void)state;
    static const struct {
        size_t cap;
        const char *in; /* written with gw_buf_json_cstr */
        const char *out;
        bool truncated;
    } cases[] = {
        {0, "", "", true},
        {1, "", "", true},
        {2, "", "\"\"", false},
        {5, "abc", "\"abc\"", false},
        {4, "abc", "", true},
        {8, "\x01", "\"\\u0001\"", false},
        {7, "\x01", NULL, true},
        {6, "a\"b", "\"a\\\"b\"", false},
        {5, "a\"b", NULL, true},
        {5, "\xff", "\"" R "\"", false},
        {4, "\xff", NULL, true},
        {64, "0123456789012345678901234567890123456789012345678901234567890123456789", "", true},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char storage[80];
        memset(storage, 0x5a, sizeof(storage));
        gw_buf_t b;
        gw_buf_init_fixed(&b, storage, cases[i].cap);
        gw_buf_json_cstr(&b, cases[i].in);
        CHECK(b.truncated == cases[i].truncated, i);
        CHECK(b.len <= cases[i].cap && b.cap == cases[i].cap && b.data == storage, i);
        for (size_t k = cases[i].cap; k < sizeof(storage); k++)
            CHECK(storage[k] == 0x5a, i);
        if (cases[i].out != NULL)
            CHECK(b.len == strlen(cases[i].out) && memcmp(storage, cases[i].out, b.len) == 0, i);
        gw_buf_free(&b); /* does not free caller storage */
        CHECK(b.data == NULL, i);
    }

    char s[8];
    gw_buf_t b;
    gw_buf_init_fixed(&b, s, 4);
    gw_buf_puts(&b, "abcd");
    assert_false(b.truncated);
    gw_buf_putc(&b, 'e');
    assert_true(b.truncated);
    assert_int_equal(b.len, 4);
    b.len = 0;
    b.truncated = false;
    gw_buf_printf(&b, "%d", 123); /* needs room for vsnprintf's NUL too */
    assert_false(b.truncated);
    assert_memory_equal(s, "123", 3);
    gw_buf_printf(&b, "%d", 4);
    assert_true(b.truncated);
    assert_int_equal(b.len, 3);
    assert_false(gw_buf_reserve(&b, SIZE_MAX));
    gw_buf_u64(&b, 12345);
    assert_int_equal(b.len, 3);
}

static void test_numbers(void **state)
{
    (void)state;
    static const struct {
        uint64_t u;
        const char *out;
    } u[] = {
        {0, "0"}, {9, "9"}, {10, "10"}, {1000000, "1000000"}, {UINT64_MAX, "18446744073709551615"},
    };
    static const struct {
        int64_t v;
        const char *out;
    } s[] = {
        {0, "0"},
        {-1, "-1"},
        {42, "42"},
        {INT64_MAX, "9223372036854775807"},
        {INT64_MIN, "-9223372036854775808"},
    };
    for (size_t i = 0; i < N(u); i++) {
        gw_buf_t b;
        gw_buf_init(&b, 0);
        gw_buf_u64(&b, u[i].u);
        CHECK(b.len == strlen(u[i].out) && memcmp(b.data, u[i].out, b.len) == 0, i);
        gw_buf_free(&b);
    }
    for (size_t i = 0; i < N(s); i++) {
        gw_buf_t b;
        gw_buf_init(&b, 0);
        gw_buf_i64(&b, s[i].v);
        CHECK(b.len == strlen(s[i].out) && memcmp(b.data, s[i].out, b.len) == 0, i);
        gw_buf_free(&b);
    }
}

static void test_time(void **state)
{
    (void)state;
    static const struct {
        uint64_t ms;
        const char *with_ms, *with_s;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00Z"},
        {1768473000123, "2026-01-15T10:30:00.123Z", "2026-01-15T10:30:00Z"},
        {1768473000999, "2026-01-15T10:30:00.999Z", "2026-01-15T10:30:00Z"},
        {1768473001000, "2026-01-15T10:30:01.000Z", "2026-01-15T10:30:01Z"},
        {951868799999, "2000-02-29T23:59:59.999Z", "2000-02-29T23:59:59Z"},
        {1768473000123, "2026-01-15T10:30:00.123Z", "2026-01-15T10:30:00Z"}, /* cache refreshed */
        {253402300799999, "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59Z"},
        /* Past year 9999 the text would not fit: clamped, never garbage. */
        {253402300800000, "9999-12-31T23:59:59.000Z", "9999-12-31T23:59:59Z"},
        {UINT64_MAX, "9999-12-31T23:59:59.615Z", "9999-12-31T23:59:59Z"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        gw_buf_t b;
        gw_buf_init(&b, 0);
        gw_buf_time_ms(&b, cases[i].ms);
        CHECK(b.len == 24 && memcmp(b.data, cases[i].with_ms, 24) == 0, i);
        b.len = 0;
        gw_buf_time_s(&b, cases[i].ms);
        CHECK(b.len == 20 && memcmp(b.data, cases[i].with_s, 20) == 0, i);
        gw_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_str),      cmocka_unit_test(test_json_str_always_valid),
        cmocka_unit_test(test_json_str_long), cmocka_unit_test(test_json_key),
        cmocka_unit_test(test_growable),      cmocka_unit_test(test_reserve_absurd),
        cmocka_unit_test(test_fixed),         cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_time),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
