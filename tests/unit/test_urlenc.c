/*
 * Percent-decoding and query splitting (core/urlenc.c), fed path
 * variables and query strings straight from the request line: %00 and bad
 * or truncated escapes are refused, '+' is a space only where asked, nothing
 * is decoded twice, no byte past `len` is read (inputs are exact-size heap
 * copies, so ASan sees an over-read) and the output never outgrows the input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/urlenc.h"
#include "tests/unit/table.h"

static void test_percent_decode(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len; /* 0: strlen(in) */
        bool plus;  /* plus_is_space */
        bool ok;
        const char *out;
        size_t out_len; /* 0: strlen(out) */
    } cases[] = {
        {"abc", 0, false, true, "abc", 0},
        {"a%20b", 0, false, true, "a b", 0},
        {"%41%42", 0, false, true, "AB", 0},
        {"%4a%4A", 0, false, true, "JJ", 0},
        {"%2F..%2f", 0, false, true, "/../", 0},
        {"%25", 0, false, true, "%", 0},
        {"%2541", 0, false, true, "%41", 0}, /* decoded once, not twice */
        {"%252541", 0, false, true, "%2541", 0},
        {"%C3%A9", 0, false, true, "\xc3\xa9", 0},
        {"%ff%FE", 0, false, true, "\xff\xfe", 0}, /* bytes, not text: callers check UTF-8 */
        {"%01%1f%7F", 0, false, true, "\x01\x1f\x7f", 0},
        {"+", 0, false, true, "+", 0},
        {"+", 0, true, true, " ", 0},
        {"a+b+", 0, true, true, "a b ", 0},
        {"%2B", 0, true, true, "+", 0}, /* an escaped '+' stays a '+' */
        {"%2b+%20", 0, true, true, "+  ", 0},
        {"%41bc", 3, false, true, "A", 0}, /* only `len` bytes */
        {"", 0, false, true, "", 0},
        /* Hostile or malformed. */
        {"%00", 0, false, false, NULL, 0},
        {"a%00b", 0, true, false, NULL, 0},
        {"%zz", 0, false, false, NULL, 0},
        {"%g1", 0, false, false, NULL, 0},
        {"%1g", 0, false, false, NULL, 0},
        {"%-1", 0, false, false, NULL, 0},
        {"% 1", 0, false, false, NULL, 0},
        {"%+1", 0, true, false, NULL, 0},
        {"%4", 0, false, false, NULL, 0},
        {"%", 0, false, false, NULL, 0},
        {"abc%", 0, false, false, NULL, 0},
        {"abc%4", 0, false, false, NULL, 0},
        {"%%41", 0, false, false, NULL, 0},
        {"%41", 2, false, false, NULL, 0}, /* the escape is cut by `len` */
        {"%41", 1, false, false, NULL, 0},
        {"%\xc3\xa9", 0, false, false, NULL, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        h2o_mem_pool_t pool;
        h2o_mem_init_pool(&pool);
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        char *in = dup_exact(cases[i].in, len);
        const char *out = NULL;
        size_t out_len = 12345;
        bool ok = gw_percent_decode(&pool, in, len, cases[i].plus, &out, &out_len);
        const char *t = cases[i].in;
        CHECK_IN(ok == cases[i].ok, i, t);
        if (ok) {
            size_t want = cases[i].out_len ? cases[i].out_len : strlen(cases[i].out);
            CHECK_IN(out_len == want, i, t);
            CHECK_IN(out_len <= len, i, t);
            CHECK_IN(memcmp(out, cases[i].out, want) == 0, i, t);
            /* A decoded copy is NUL-terminated; an untouched input is shared. */
            CHECK_IN(out == in || out[out_len] == '\0', i, t);
            CHECK_IN((out == in) == (memchr(t, '%', len) == NULL && (!cases[i].plus || !memchr(t, '+', len))),
                     i, t);
        }
        free(in);
        h2o_mem_clear_pool(&pool);
    }
}

/* Long inputs: every byte an escape, escapes cut at the very end, and every
 * two-character suffix after '%', including bytes above 0x7f. */
static void test_percent_decode_long_and_every_escape(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    const size_t reps = 1 << 18;
    char *in = malloc(reps * 3);
    assert_non_null(in);
    for (size_t i = 0; i < reps; i++)
        memcpy(in + i * 3, "%41", 3);
    const char *out;
    size_t out_len;
    assert_true(gw_percent_decode(&pool, in, reps * 3, false, &out, &out_len));
    assert_int_equal(out_len, reps);
    assert_int_equal(out[0], 'A');
    assert_int_equal(out[reps - 1], 'A');
    assert_int_equal(out[reps], '\0');
    assert_false(gw_percent_decode(&pool, in, reps * 3 - 1, false, &out, &out_len));
    assert_false(gw_percent_decode(&pool, in, reps * 3 - 2, false, &out, &out_len));
    free(in);

    static const char hex[] = "0123456789abcdefABCDEF";
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            char esc[3] = {'%', (char)a, (char)b};
            char *copy = dup_exact(esc, 3);
            bool is_hex = a != 0 && b != 0 && strchr(hex, (int)a) && strchr(hex, (int)b);
            bool ok = gw_percent_decode(&pool, copy, 3, true, &out, &out_len);
            free(copy);
            if (ok != (is_hex && !(a == '0' && b == '0')))
                fail_msg("%%%02x%02x: %d", a, b, ok);
            if (ok &&
                (out_len != 1 || (unsigned char)out[0] != strtoul((char[]){(char)a, (char)b, 0}, NULL, 16)))
                fail_msg("%%%c%c decoded wrong", a, b);
        }
    }
    h2o_mem_clear_pool(&pool);
}

static void test_query_parse(void **state)
{
    (void)state;
    static const struct {
        const char *q;
        size_t max;
        int rc;
        const char *pairs; /* decoded "name=value;" for each pair returned */
    } cases[] = {
        {"a=1&b=x%20y", 8, 2, "a=1;b=x y;"},
        {"", 8, 0, ""},
        {"&&&", 8, 0, ""},
        {"a", 8, 1, "a=;"},
        {"a=", 8, 1, "a=;"},
        {"=x", 8, 0, ""}, /* no name: dropped */
        {"a=1&a=2", 8, 2, "a=1;a=2;"},
        {"a=b=c", 8, 1, "a=b=c;"},
        {"a+b=c+d", 8, 1, "a b=c d;"},
        {"a%3Db=c%26d", 8, 1, "a=b=c&d;"},
        {"a=1&", 8, 1, "a=1;"},
        {"&a=1", 8, 1, "a=1;"},
        {"q=%E2%82%AC", 8, 1, "q=\xe2\x82\xac;"},
        {"a=1&b=2&c=3", 2, 2, "a=1;b=2;"}, /* at most `max` pairs */
        {"a=1&b=2&c=3", 0, 0, ""},
        /* Hostile or malformed. */
        {"a=%zz", 8, -1, ""},
        {"%zz=1", 8, -1, ""},
        {"a=1&b=%", 8, -1, ""},
        {"a=%4", 8, -1, ""},
        {"a=%00", 8, -1, ""},
        {"%00=a", 8, -1, ""},
        {"a=1&%=", 8, -1, ""},
    };
    for (size_t i = 0; i < N(cases); i++) {
        h2o_mem_pool_t pool;
        h2o_mem_init_pool(&pool);
        size_t len = strlen(cases[i].q);
        char *q = dup_exact(cases[i].q, len);
        gw_param_t out[8];
        int rc = gw_query_parse(&pool, q, len, out, cases[i].max);
        const char *t = cases[i].q;
        CHECK_IN(rc == cases[i].rc, i, t);
        char got[256] = "";
        size_t gl = 0;
        for (int k = 0; k < rc; k++) {
            CHECK_IN(out[k].name_len > 0, i, t);
            CHECK_IN(gl + out[k].name_len + out[k].value_len + 2 < sizeof(got), i, t);
            memcpy(got + gl, out[k].name, out[k].name_len);
            gl += out[k].name_len;
            got[gl++] = '=';
            memcpy(got + gl, out[k].value, out[k].value_len);
            gl += out[k].value_len;
            got[gl++] = ';';
        }
        got[gl] = '\0';
        if (rc >= 0)
            CHECK_IN(strcmp(got, cases[i].pairs) == 0, i, t);
        free(q);
        h2o_mem_clear_pool(&pool);
    }
}

/* A very long query: many pairs, only `max` returned, no overrun of `out`. */
static void test_query_parse_long(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    const size_t pairs = 20000;
    char *q = malloc(pairs * 12);
    assert_non_null(q);
    size_t len = 0;
    for (size_t i = 0; i < pairs; i++)
        len += (size_t)snprintf(q + len, pairs * 12 - len, "k%zu=%%41&", i % 1000);
    gw_param_t out[17];
    out[16].name = "canary";
    assert_int_equal(gw_query_parse(&pool, q, len, out, 16), 16);
    assert_string_equal(out[16].name, "canary");
    assert_int_equal(out[15].name_len, 3);
    assert_memory_equal(out[15].name, "k15", 3);
    assert_int_equal(out[15].value_len, 1);
    assert_int_equal(out[15].value[0], 'A');
    free(q);
    h2o_mem_clear_pool(&pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_decode),
        cmocka_unit_test(test_percent_decode_long_and_every_escape),
        cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_query_parse_long),
    };
    return cmocka_run_group_tests_name("urlenc", tests, NULL, NULL);
}
