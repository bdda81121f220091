/*
 * Byte buffer and JSON writing helpers (see core/buf.h). Shared by the
 * worker's request path and the master's renderers.
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void gw_buf_init(gw_buf_t *b, size_t initial)
{
    memset(b, 0, sizeof(*b));
    if (initial > 0) {
        b->data = malloc(initial);
        if (b->data != NULL)
            b->cap = initial;
    }
}

void gw_buf_init_fixed(gw_buf_t *b, char *storage, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->data = storage;
    b->cap = cap;
    b->fixed = true;
}

void gw_buf_free(gw_buf_t *b)
{
    if (!b->fixed)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *gw_buf_steal(gw_buf_t *b, size_t *len)
{
    char *d = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

bool gw_buf_reserve(gw_buf_t *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return true;
    /* Beyond half the address space the doubling below would wrap to 0 and
     * spin; no allocation of that size can succeed anyway. */
    if (b->fixed || extra > SIZE_MAX / 2 - b->len) {
        b->truncated = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    char *nd = realloc(b->data, cap);
    if (nd == NULL) {
        b->truncated = true;
        return false;
    }
    b->data = nd;
    b->cap = cap;
    return true;
}

void gw_buf_add(gw_buf_t *b, const void *p, size_t n)
{
    if (n == 0 || !gw_buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void gw_buf_puts(gw_buf_t *b, const char *s)
{
    gw_buf_add(b, s, strlen(s));
}

void gw_buf_putc(gw_buf_t *b, char c)
{
    if (gw_buf_reserve(b, 1))
        b->data[b->len++] = c;
}

void gw_buf_printf(gw_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0 || !gw_buf_reserve(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void gw_buf_u64(gw_buf_t *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    gw_buf_add(b, tmp + i, sizeof(tmp) - i);
}

void gw_buf_i64(gw_buf_t *b, int64_t v)
{
    if (v < 0) {
        gw_buf_putc(b, '-');
        gw_buf_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        gw_buf_u64(b, (uint64_t)v);
    }
}

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    uint32_t cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void gw_buf_json_str(gw_buf_t *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    if (!gw_buf_reserve(b, n + 2))
        return;
    gw_buf_putc(b, '"');
    size_t run = 0; /* start of the current run of bytes copied verbatim */
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t ulen = c >= 0x80 ? utf8_seq_len(s + i, n - i) : 0;
        if (ulen > 0) {
            i += ulen;
            continue;
        }
        gw_buf_add(b, s + run, i - run);
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            gw_buf_add(b, esc, 2);
        } else if (c == '\n') {
            gw_buf_add(b, "\\n", 2);
        } else if (c == '\r') {
            gw_buf_add(b, "\\r", 2);
        } else if (c == '\t') {
            gw_buf_add(b, "\\t", 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            gw_buf_add(b, esc, 6);
        } else {
            gw_buf_add(b, "\xef\xbf\xbd", 3); /* U+FFFD for an invalid byte */
        }
        i++;
        run = i;
    }
    gw_buf_add(b, s + run, n - run);
    gw_buf_putc(b, '"');
}

void gw_buf_json_key(gw_buf_t *b, const char *key)
{
    gw_buf_json_cstr(b, key);
    gw_buf_putc(b, ':');
}

/* Formatting a date costs a gmtime_r; log lines come many per second, so
 * the formatted second is cached (per process: each process has its own). */
static void format_second(uint64_t sec, char out[20])
{
    static uint64_t cached_sec = UINT64_MAX;
    static char cached[20];
    if (sec != cached_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        /* Past year 9999 the text would not fit (or gmtime fails): clamp
         * rather than copy indeterminate bytes into a log line. */
        if (gmtime_r(&t, &tm) == NULL || strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm) != 19)
            memcpy(cached, "9999-12-31T23:59:59", 20);
        cached_sec = sec;
    }
    memcpy(out, cached, 20);
}

void gw_buf_time_ms(gw_buf_t *b, uint64_t wall_ms)
{
    char s[20];
    format_second(wall_ms / 1000, s);
    gw_buf_add(b, s, 19);
    unsigned ms = (unsigned)(wall_ms % 1000);
    char frac[6] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z'};
    gw_buf_add(b, frac, 5);
}

void gw_buf_time_s(gw_buf_t *b, uint64_t wall_ms)
{
    char s[20];
    format_second(wall_ms / 1000, s);
    gw_buf_add(b, s, 19);
    gw_buf_putc(b, 'Z');
}
