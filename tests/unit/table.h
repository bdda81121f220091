/*
 * Helpers for the table-driven unit tests (cmocka): a row count, checks that
 * name the failing row, and exact-length copies for ASan. Include after
 * <cmocka.h>.
 */
#ifndef GW_TEST_TABLE_H
#define GW_TEST_TABLE_H

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Fail naming the table row, so a red run says which input broke. */
#define CHECK(cond, i)                                                                                       \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            fail_msg("case %zu: %s", (size_t)(i), #cond);                                                    \
    } while (0)

/* The same, with the row's input text. */
#define CHECK_IN(cond, i, text)                                                                              \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            fail_msg("case %zu \"%s\": %s", (size_t)(i), (text), #cond);                                     \
    } while (0)

/* A copy of exactly `len` bytes with no terminator, so that ASan reports a
 * read past what the caller handed over. Owned by the caller (free()). */
static inline char *dup_exact(const char *s, size_t len)
{
    char *d = malloc(len ? len : 1);
    assert_non_null(d);
    memcpy(d, s, len);
    return d;
}

#endif
