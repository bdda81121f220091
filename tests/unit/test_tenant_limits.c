/*
 * RATE_LIMIT_TENANTS_FILE (core/tenant_limits.c): "tenant rps burst"
 * lines with comments, blanks and CRLF are read; malformed, out-of-range,
 * duplicated, over-long or NUL-carrying lines fail with the file and line
 * number; a file that is missing, a directory or too big fails; the sorted
 * result is found by binary search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/tenant_limits.h"
#include "tests/unit/table.h"

#define SYNTAX(line) "RATE_LIMIT_TENANTS_FILE: t.conf:" #line ": expected \"tenant rps burst\""
#define RANGE(line)                                                                                          \
    "RATE_LIMIT_TENANTS_FILE: t.conf:" #line ": rps must be in (0, 1e6] and burst in [1, 1000000]"

/* Parses exactly `len` bytes from an unterminated heap copy (ASan sees an
 * over-read). Returns the parser's result. */
static int parse(const char *text, size_t len, gw_tenant_limits_t *out, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    int rc = gw_tenant_limits_parse("t.conf", copy, len, out, err, errlen);
    free(copy);
    return rc;
}

/* "x" repeated n times, in a static buffer. */
static const char *rep(char c, size_t n)
{
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ % 4];
    memset(b, c, n);
    b[n] = '\0';
    return b;
}

static void test_parse(void **state)
{
    (void)state;
    char long_name[256], name127[256], name128[256], pad_ok[1024], pad_cut[1024], pad_junk[1024];
    snprintf(name127, sizeof(name127), "%s 10 20\n", rep('n', 127));
    snprintf(name128, sizeof(name128), "%s 10 20\n", rep('n', 128));
    snprintf(long_name, sizeof(long_name), "%s 10 20\n", rep('n', 200));
    /* 511 bytes fit the line buffer; past that a line used to be cut
     * silently: "a 10 1000000" became burst 100000, "a 10 20 junk" lost its
     * junk. Both are refused now. */
    snprintf(pad_ok, sizeof(pad_ok), "a 10%s20\n", rep(' ', 511 - 6));
    snprintf(pad_cut, sizeof(pad_cut), "a 10%s1000000\n", rep(' ', 501));
    snprintf(pad_junk, sizeof(pad_junk), "a 10 20%sjunk\n", rep(' ', 510));
    char long_comment[1024], long_blank[1024];
    snprintf(long_comment, sizeof(long_comment), "# %s\na 1 1\n", rep('c', 900));
    snprintf(long_blank, sizeof(long_blank), "%s\r\na 1 1\n", rep(' ', 900));
    static const char nul_comment[] = "# a\0b\na 1 1\n";
    static const char nul_line[] = "a 10 20\0junk\nb 1 1\n";
    static const char nul_tail[] = "a 10 20\n\0";

    const struct {
        const char *text;
        size_t len; /* 0: strlen(text) */
        int ok;
        size_t n;
        const char *err; /* the exact message when !ok */
    } cases[] = {
        {"", 0, 1, 0, NULL},
        {"\n\n\n", 0, 1, 0, NULL},
        {"# only a comment\n   # indented comment\n\t\n  \n", 0, 1, 0, NULL},
        {"acme 10 20\n", 0, 1, 1, NULL},
        {"acme 10 20", 0, 1, 1, NULL}, /* no final newline */
        {"acme 10 20\r\nbeta 5 5\r\n", 0, 1, 2, NULL},
        {"acme 10 20\r\n\r\n# c\r\n", 0, 1, 1, NULL},
        {"  acme\t10\t 20  \n", 0, 1, 1, NULL},
        {"acme 0.5 1\n", 0, 1, 1, NULL},
        {"acme 1e6 1000000\n", 0, 1, 1, NULL},
        {"acme 1e-3 1\n", 0, 1, 1, NULL},
        {"b 1 1\na 2 2\nc 3 3\n", 0, 1, 3, NULL},
        {"a#b 1 1\n", 0, 1, 1, NULL}, /* '#' starts a comment only at the line start */
        {name127, 0, 1, 1, NULL},
        {pad_ok, 0, 1, 1, NULL},
        {long_comment, 0, 1, 1, NULL}, /* comments and blanks may be any length */
        {long_blank, 0, 1, 1, NULL},
        {nul_comment, sizeof(nul_comment) - 1, 1, 1, NULL},
        /* Missing or extra fields, bad numbers. */
        {"acme\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10 20 30\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10 20 # trailing comment\n", 0, 0, 0, SYNTAX(1)},
        {"acme x 20\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10 y\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10x 20\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10 20x\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10 2.5\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10 0x10\n", 0, 0, 0, SYNTAX(1)},
        {"acme , 20\n", 0, 0, 0, SYNTAX(1)},
        {"acme nan 20\n", 0, 0, 0, SYNTAX(1)},
        {"acme inf 20\n", 0, 0, 0, SYNTAX(1)},
        {"acme -inf 20\n", 0, 0, 0, SYNTAX(1)},
        {"acme 1e400 20\n", 0, 0, 0, SYNTAX(1)},
        {"acme 1e-400 20\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10 99999999999999999999\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10 -99999999999999999999\n", 0, 0, 0, SYNTAX(1)},
        {"acme 10 20\nbeta 10\n", 0, 0, 0, SYNTAX(2)},
        {"# c\n\nacme 10 20\r\n\r\nbad\r\n", 0, 0, 0, SYNTAX(5)},
        /* Out of range. */
        {"acme 0 20\n", 0, 0, 0, RANGE(1)},
        {"acme -1 20\n", 0, 0, 0, RANGE(1)},
        {"acme 1000001 20\n", 0, 0, 0, RANGE(1)},
        {"acme 10 0\n", 0, 0, 0, RANGE(1)},
        {"acme 10 -5\n", 0, 0, 0, RANGE(1)},
        {"acme 10 1000001\n", 0, 0, 0, RANGE(1)},
        {"acme 10 9223372036854775807\n", 0, 0, 0, RANGE(1)},
        /* Names and lines too long, NUL bytes, duplicates. */
        {name128, 0, 0, 0, "RATE_LIMIT_TENANTS_FILE: t.conf:1: tenant name longer than 127 bytes"},
        {long_name, 0, 0, 0, "RATE_LIMIT_TENANTS_FILE: t.conf:1: tenant name longer than 127 bytes"},
        {pad_cut, 0, 0, 0, "RATE_LIMIT_TENANTS_FILE: t.conf:1: line longer than 511 bytes"},
        {pad_junk, 0, 0, 0, "RATE_LIMIT_TENANTS_FILE: t.conf:1: line longer than 511 bytes"},
        {nul_line, sizeof(nul_line) - 1, 0, 0, "RATE_LIMIT_TENANTS_FILE: t.conf:1: NUL byte in line"},
        {nul_tail, sizeof(nul_tail) - 1, 0, 0, "RATE_LIMIT_TENANTS_FILE: t.conf:2: NUL byte in line"},
        {"a 1 1\nb 1 1\na 2 2\n", 0, 0, 0, "RATE_LIMIT_TENANTS_FILE: t.conf: tenant \"a\" listed twice"},
        {"a 1 1\r\na 1 1\n", 0, 0, 0, "RATE_LIMIT_TENANTS_FILE: t.conf: tenant \"a\" listed twice"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        gw_tenant_limits_t l = {(gw_tenant_limit_t *)1, 99}; /* the parser must reset it */
        char err[256] = "";
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        int rc = parse(cases[i].text, len, &l, err, sizeof(err));
        if (!cases[i].ok) {
            CHECK(rc == -1, i);
            CHECK(l.v == NULL && l.n == 0, i);
            if (strcmp(err, cases[i].err) != 0)
                fail_msg("case %zu: error \"%s\", expected \"%s\"", i, err, cases[i].err);
            continue;
        }
        CHECK(rc == 0, i);
        CHECK(l.n == cases[i].n, i);
        for (size_t k = 1; k < l.n; k++)
            CHECK(strcmp(l.v[k - 1].tenant, l.v[k].tenant) < 0, i); /* sorted, unique */
        gw_tenant_limits_free(&l);
        CHECK(l.v == NULL && l.n == 0, i);
    }
}

static void test_values_and_find(void **state)
{
    (void)state;
    static const char text[] = "# overrides\n"
                               "zeta 0.5 1\r\n"
                               "acme 1e6 1000000\n"
                               "\n"
                               "  mid\t250\t300\n"
                               "a#b 7 8\n";
    gw_tenant_limits_t l;
    char err[256];
    assert_int_equal(parse(text, strlen(text), &l, err, sizeof(err)), 0);
    assert_int_equal(l.n, 4);
    static const struct {
        const char *tenant;
        double rps;
        long burst; /* 0: not found */
    } cases[] = {
        {"acme", 1e6, 1000000}, {"zeta", 0.5, 1}, {"mid", 250, 300}, {"a#b", 7, 8},    {"", 0, 0},
        {"acm", 0, 0},          {"acmee", 0, 0},  {"ACME", 0, 0},    {"zeta\r", 0, 0}, {"a", 0, 0},
        {"zz", 0, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        const gw_tenant_limit_t *t = gw_tenant_limits_find(&l, cases[i].tenant);
        if (cases[i].burst == 0) {
            CHECK(t == NULL, i);
            continue;
        }
        CHECK(t != NULL, i);
        CHECK(strcmp(t->tenant, cases[i].tenant) == 0, i);
        CHECK(t->rps == cases[i].rps, i);
        CHECK(t->burst == cases[i].burst, i);
    }
    gw_tenant_limits_free(&l);
    assert_null(gw_tenant_limits_find(&l, "acme")); /* empty after free */
}

/* Many tenants: the array grows past its first allocation and every one is
 * found. */
static void test_many(void **state)
{
    (void)state;
    const size_t n = 5000;
    char *text = malloc(n * 32);
    assert_non_null(text);
    size_t len = 0;
    for (size_t i = n; i-- > 0;)
        len += (size_t)snprintf(text + len, n * 32 - len, "tenant-%05zu %zu %zu\n", i, i + 1, i + 2);
    gw_tenant_limits_t l;
    char err[256];
    assert_int_equal(parse(text, len, &l, err, sizeof(err)), 0);
    free(text);
    assert_int_equal(l.n, n);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "tenant-%05zu", i);
        const gw_tenant_limit_t *t = gw_tenant_limits_find(&l, name);
        CHECK(t != NULL && t->rps == (double)(i + 1) && t->burst == (long)(i + 2), i);
    }
    gw_tenant_limits_free(&l);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* The files test_load writes, removed by its teardown even when it fails. */
static char load_dir[] = "/tmp/gw-tenant-limits-XXXXXX";
static const char *const load_files[] = {"good.conf", "bad.conf", "empty.conf", "big.conf"};

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", load_dir, name);
}

static int load_setup(void **state)
{
    (void)state;
    return mkdtemp(load_dir) != NULL ? 0 : -1;
}

static int load_teardown(void **state)
{
    (void)state;
    char p[128];
    for (size_t i = 0; i < N(load_files); i++) {
        path_in(p, sizeof(p), load_files[i]);
        unlink(p);
    }
    return rmdir(load_dir);
}

static void test_load(void **state)
{
    (void)state;
    char good[128], bad[128], empty[128], big[128], missing[128];
    path_in(good, sizeof(good), "good.conf");
    path_in(bad, sizeof(bad), "bad.conf");
    path_in(empty, sizeof(empty), "empty.conf");
    path_in(big, sizeof(big), "big.conf");
    path_in(missing, sizeof(missing), "missing.conf");
    static const char good_text[] = "# t\nacme 10 20\r\nbeta 1 1\n", bad_text[] = "acme 10 20\nbeta ten 1\n";
    write_file(good, good_text, sizeof(good_text) - 1);
    write_file(bad, bad_text, sizeof(bad_text) - 1);
    write_file(empty, "", 0);
    char *mib = malloc(1 << 20);
    assert_non_null(mib);
    memset(mib, '\n', 1 << 20);
    write_file(big, mib, 1 << 20);
    free(mib);

    char e_missing[256], e_dir[256], e_bad[256], e_big[256];
    snprintf(e_missing, sizeof(e_missing),
             "RATE_LIMIT_TENANTS_FILE: cannot read %s: No such file or directory", missing);
    snprintf(e_dir, sizeof(e_dir), "RATE_LIMIT_TENANTS_FILE: cannot read %s: Is a directory", load_dir);
    snprintf(e_bad, sizeof(e_bad), "RATE_LIMIT_TENANTS_FILE: %s:2: expected \"tenant rps burst\"", bad);
    snprintf(e_big, sizeof(e_big), "RATE_LIMIT_TENANTS_FILE: %s: larger than 1 MiB", big);
    const struct {
        const char *path;
        int ok;
        size_t n;
        const char *err;
    } cases[] = {
        {good, 1, 2, NULL},      {empty, 1, 0, NULL}, {missing, 0, 0, e_missing},
        {load_dir, 0, 0, e_dir}, {bad, 0, 0, e_bad},  {big, 0, 0, e_big},
    };
    for (size_t i = 0; i < N(cases); i++) {
        gw_tenant_limits_t l;
        char err[256] = "";
        int rc = gw_tenant_limits_load(cases[i].path, &l, err, sizeof(err));
        if (!cases[i].ok) {
            CHECK(rc == -1 && l.v == NULL && l.n == 0, i);
            if (strcmp(err, cases[i].err) != 0)
                fail_msg("case %zu: error \"%s\", expected \"%s\"", i, err, cases[i].err);
            continue;
        }
        CHECK(rc == 0 && l.n == cases[i].n, i);
        gw_tenant_limits_free(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_values_and_find),
        cmocka_unit_test(test_many),
        cmocka_unit_test_setup_teardown(test_load, load_setup, load_teardown),
    };
    return cmocka_run_group_tests_name("tenant_limits", tests, NULL, NULL);
}
