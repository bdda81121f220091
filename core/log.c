/*
 * JSON-lines logger (see core/log.h). Per-process state: the level, the
 * role string and the access-line buffer. Nothing here is shared between
 * processes except the stdout file descriptor.
 */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "core/clock.h"

#define ACCESS_BUF_SIZE 4096

static gw_log_level_t log_level = GW_LOG_INFO;
static const char *log_role = "master";
static char access_buf[ACCESS_BUF_SIZE];
static size_t access_len;

void gw_log_init(gw_log_level_t level, const char *role)
{
    log_level = level;
    log_role = role;
    access_len = 0;
}

void gw_log_set_level(gw_log_level_t level)
{
    log_level = level;
}

bool gw_log_enabled(gw_log_level_t level)
{
    return level >= log_level;
}

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* stdout gone: nothing sensible left to do */
        }
        p += w;
        n -= (size_t)w;
    }
}

void gw_log_flush(void)
{
    if (access_len > 0)
        write_all(access_buf, access_len);
    access_len = 0;
}

/* getpid() once per process: it is a system call on every access line. */
static pid_t cached_pid;

static void forget_pid(void)
{
    cached_pid = 0;
}

static pid_t log_pid(void)
{
    static bool atfork;
    if (cached_pid == 0) {
        cached_pid = getpid();
        if (!atfork)
            atfork = pthread_atfork(NULL, NULL, forget_pid) == 0;
    }
    return cached_pid;
}

void gw_log_begin(gw_log_line_t *l, gw_log_level_t level, const char *msg)
{
    l->level = level;
    l->off = !gw_log_enabled(level);
    if (l->off)
        return;
    gw_buf_init_fixed(&l->b, l->storage, sizeof(l->storage) - 2); /* room for "}\n" */
    gw_buf_puts(&l->b, "{\"time\":\"");
    gw_buf_time_ms(&l->b, gw_wall_ms());
    gw_buf_puts(&l->b, "\",\"level\":\"");
    gw_buf_puts(&l->b, gw_log_level_name(level));
    gw_buf_puts(&l->b, "\",\"pid\":");
    gw_buf_i64(&l->b, log_pid());
    gw_buf_puts(&l->b, ",\"role\":\"");
    gw_buf_puts(&l->b, log_role);
    gw_buf_puts(&l->b, "\",\"msg\":");
    gw_buf_json_cstr(&l->b, msg);
}

/* Append a field, or nothing at all if it does not fit. */
#define FIELD(l, body)                                                                                       \
    do {                                                                                                     \
        if ((l)->off)                                                                                        \
            break;                                                                                           \
        size_t mark_ = (l)->b.len;                                                                           \
        body;                                                                                                \
        if ((l)->b.truncated) {                                                                              \
            (l)->b.len = mark_;                                                                              \
            (l)->b.truncated = false;                                                                        \
        }                                                                                                    \
    } while (0)

void gw_log_strn(gw_log_line_t *l, const char *key, const char *value, size_t len)
{
    FIELD(l, {
        gw_buf_putc(&l->b, ',');
        gw_buf_json_key(&l->b, key);
        if (value == NULL)
            gw_buf_puts(&l->b, "null");
        else
            gw_buf_json_str(&l->b, value, len);
    });
}

void gw_log_str(gw_log_line_t *l, const char *key, const char *value)
{
    gw_log_strn(l, key, value, value ? strlen(value) : 0);
}

void gw_log_int(gw_log_line_t *l, const char *key, int64_t value)
{
    FIELD(l, {
        gw_buf_putc(&l->b, ',');
        gw_buf_json_key(&l->b, key);
        gw_buf_i64(&l->b, value);
    });
}

/* "%.3f" without printf for the common case (latencies on every line). */
static void put_fixed3(gw_buf_t *b, double value)
{
    if (!(value >= 0 && value < 1e12)) {
        gw_buf_printf(b, "%.3f", value);
        return;
    }
    uint64_t m = (uint64_t)(value * 1000 + 0.5);
    char frac[4] = {'.', (char)('0' + m / 100 % 10), (char)('0' + m / 10 % 10), (char)('0' + m % 10)};
    gw_buf_i64(b, (int64_t)(m / 1000));
    gw_buf_add(b, frac, 4);
}

void gw_log_double(gw_log_line_t *l, const char *key, double value)
{
    FIELD(l, {
        gw_buf_putc(&l->b, ',');
        gw_buf_json_key(&l->b, key);
        put_fixed3(&l->b, value);
    });
}

static size_t finish(gw_log_line_t *l)
{
    /* The two bytes reserved in gw_log_begin always fit. */
    l->storage[l->b.len] = '}';
    l->storage[l->b.len + 1] = '\n';
    return l->b.len + 2;
}

void gw_log_end(gw_log_line_t *l)
{
    if (l->off)
        return;
    size_t n = finish(l);
    gw_log_flush();
    write_all(l->storage, n);
}

void gw_log_end_buffered(gw_log_line_t *l)
{
    if (l->off)
        return;
    size_t n = finish(l);
    if (access_len + n > ACCESS_BUF_SIZE)
        gw_log_flush();
    memcpy(access_buf + access_len, l->storage, n);
    access_len += n;
}

void gw_logf(gw_log_level_t level, const char *fmt, ...)
{
    if (!gw_log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_log_line_t l;
    gw_log_begin(&l, level, msg);
    gw_log_end(&l);
}
