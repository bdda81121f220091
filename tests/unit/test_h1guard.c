/*
 * The HTTP/1 head guard (worker/h1guard.c) called the way libh2o calls
 * phr_parse_request: in a binary linked with libgw.a and libh2o-evloop, our
 * definition is the one bound and it reaches the real parser through
 * dlsym(RTLD_NEXT). Well-formed heads come back untouched; refused ones as
 * the substitute head (marker field first, connection: close, no body
 * framing); Transfer-Encoding with Content-Length loses the Content-Length
 * and gains connection: close; the HTTP/2 preface stays h2o's error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "worker/h1guard.h"

typedef struct {
    int ret;
    const char *method, *path;
    size_t method_len, path_len, n;
    int minor;
    struct phr_header h[100];
} parsed_t;

static parsed_t parse(const char *buf, size_t len)
{
    parsed_t p;
    memset(&p, 0, sizeof(p));
    p.n = 100;
    p.ret =
        phr_parse_request(buf, len, &p.method, &p.method_len, &p.path, &p.path_len, &p.minor, p.h, &p.n, 0);
    return p;
}

static bool has(const parsed_t *p, const char *name, const char *value)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->h[i].name_len == strlen(name) && strncmp(p->h[i].name, name, p->h[i].name_len) == 0 &&
            (value == NULL ||
             (p->h[i].value_len == strlen(value) && memcmp(p->h[i].value, value, strlen(value)) == 0)))
            return true;
    return false;
}

static void assert_refused(const parsed_t *p, int consumed)
{
    assert_int_equal(p->ret, consumed);
    assert_true(p->n >= 2);
    assert_int_equal(p->h[0].name_len, strlen("x-gw-h1guard"));
    assert_memory_equal(p->h[0].name, "x-gw-h1guard", p->h[0].name_len);
    assert_true(has(p, "connection", "close"));
    assert_false(has(p, "content-length", NULL) || has(p, "transfer-encoding", NULL) ||
                 has(p, "Content-Length", NULL));
}

static void test_well_formed_head_untouched(void **state)
{
    (void)state;
    static const char req[] = "GET /ready?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    parsed_t p = parse(req, sizeof(req) - 1);
    assert_int_equal(p.ret, (int)(sizeof(req) - 1 - 3)); /* the real parser ran */
    assert_int_equal(p.n, 2);
    assert_int_equal(p.method_len, 3);
    assert_memory_equal(p.path, "/ready?x=1", p.path_len);
    static const char http10[] = "GET / HTTP/1.0\r\n\r\n";
    assert_int_equal(parse(http10, sizeof(http10) - 1).ret, (int)(sizeof(http10) - 1));
}

static void test_refusals_become_substitute_heads(void **state)
{
    (void)state;
    static const char *const heads[] = {
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        char buf[256];
        size_t len = strlen(heads[i]);
        memcpy(buf, heads[i], len);
        memcpy(buf + len, "GET /smuggled HTTP/1.1\r\n\r\n", 26);
        parsed_t p = parse(buf, len + 26);
        assert_refused(&p, (int)len); /* the smuggled bytes are not consumed as a head */
    }
}

static void test_bad_bytes_and_limits(void **state)
{
    (void)state;
    static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
    parsed_t p = parse(nul, sizeof(nul) - 1);
    assert_refused(&p, (int)(sizeof(nul) - 1));
    assert_memory_equal(p.method, "GET", 3);
    static char big[20000];
    size_t n = (size_t)snprintf(big, sizeof(big), "GET /%0*d", 9000, 0); /* incomplete, target > 8192 */
    p = parse(big, n);
    assert_refused(&p, (int)n);
    assert_int_equal(p.path_len, 256); /* the access line gets a bounded target */
    static const char garbage[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    p = parse(garbage, sizeof(garbage) - 1);
    assert_refused(&p, (int)(sizeof(garbage) - 1));
    assert_memory_equal(p.method, "-", p.method_len);
}

static void test_transfer_encoding_wins_and_closes(void **state)
{
    (void)state;
    static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\nConnection: keep-alive\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    parsed_t p = parse(req, sizeof(req) - 1);
    assert_int_equal(p.ret, (int)(sizeof(req) - 1 - 5));
    assert_false(has(&p, "Content-Length", NULL));
    assert_true(has(&p, "Transfer-Encoding", "chunked"));
    assert_memory_equal(p.h[p.n - 1].name, "connection", 10); /* last Connection line wins in h2o */
    assert_memory_equal(p.h[p.n - 1].value, "close", 5);
}

static void test_h2o_keeps_its_own_cases(void **state)
{
    (void)state;
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    assert_int_equal(parse(preface, sizeof(preface) - 1).ret, -1); /* h2o switches to HTTP/2 */
    assert_int_equal(parse("\r\n", 2).ret, -2);
    assert_int_equal(parse("GET /ready HTTP/1.1\r\nHost", 25).ret, -2); /* still arriving */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed_head_untouched),
        cmocka_unit_test(test_refusals_become_substitute_heads),
        cmocka_unit_test(test_bad_bytes_and_limits),
        cmocka_unit_test(test_transfer_encoding_wins_and_closes),
        cmocka_unit_test(test_h2o_keeps_its_own_cases),
    };
    return cmocka_run_group_tests_name("h1guard", tests, NULL, NULL);
}
