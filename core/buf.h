/*
 * gw_buf_t: an append-only byte buffer with JSON helpers, used wherever we
 * write JSON or text ourselves (log lines, error envelopes, built-in
 * endpoints, the master's views).
 *
 * Ownership: a buffer either owns heap memory (gw_buf_init, grows on demand,
 * released with gw_buf_free) or wraps caller storage (gw_buf_init_fixed,
 * never grows: appends that do not fit set `truncated` and are dropped).
 */
#ifndef GW_BUF_H
#define GW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool fixed;
    bool truncated; /* an append did not fit (fixed) or allocation failed */
} gw_buf_t;

void gw_buf_init(gw_buf_t *b, size_t initial);
void gw_buf_init_fixed(gw_buf_t *b, char *storage, size_t cap);
void gw_buf_free(gw_buf_t *b);
/* Give the heap memory to the caller (free() it); the buffer becomes empty. */
char *gw_buf_steal(gw_buf_t *b, size_t *len);

bool gw_buf_reserve(gw_buf_t *b, size_t extra);
void gw_buf_add(gw_buf_t *b, const void *p, size_t n);
void gw_buf_puts(gw_buf_t *b, const char *s);
void gw_buf_putc(gw_buf_t *b, char c);
void gw_buf_printf(gw_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gw_buf_u64(gw_buf_t *b, uint64_t v);
void gw_buf_i64(gw_buf_t *b, int64_t v);

/* A JSON string literal with quotes; control characters and invalid UTF-8
 * are escaped / replaced so the output is always valid JSON. */
void gw_buf_json_str(gw_buf_t *b, const char *s, size_t n);
static inline void gw_buf_json_cstr(gw_buf_t *b, const char *s)
{
    extern size_t strlen(const char *);
    gw_buf_json_str(b, s, strlen(s));
}
/* `"key":` */
void gw_buf_json_key(gw_buf_t *b, const char *key);

/* RFC 3339 UTC with milliseconds ("2026-01-15T10:30:00.123Z") or seconds. */
void gw_buf_time_ms(gw_buf_t *b, uint64_t wall_ms);
void gw_buf_time_s(gw_buf_t *b, uint64_t wall_ms);

#endif
