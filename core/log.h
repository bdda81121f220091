/*
 * JSON-lines logging to stdout, shared by the master and the workers.
 *
 * Every line is one JSON object: {"time","level","pid","role","msg",...}.
 * A line is written with a single write() of at most GW_LOG_LINE_MAX bytes,
 * so lines from several processes never interleave on a pipe or journald.
 * Workers buffer access lines (gw_log_end_buffered) and flush them in chunks of
 * whole lines every 100 ms or when 4 KiB accumulate; other lines go out at
 * once, after whatever is buffered, so order is kept.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/buf.h"

#define GW_LOG_LINE_MAX 4000

void gw_log_init(gw_log_level_t level, const char *role);
void gw_log_set_level(gw_log_level_t level);
bool gw_log_enabled(gw_log_level_t level);

/* A structured line: begin, add fields, end. The line lives in `storage`
 * (caller's stack); fields that do not fit are dropped whole. A line below
 * LOG_LEVEL is off from gw_log_begin on: its fields and end cost nothing. */
typedef struct {
    gw_buf_t b;
    char storage[GW_LOG_LINE_MAX];
    gw_log_level_t level;
    bool off;
} gw_log_line_t;

void gw_log_begin(gw_log_line_t *l, gw_log_level_t level, const char *msg);
void gw_log_str(gw_log_line_t *l, const char *key, const char *value);
void gw_log_strn(gw_log_line_t *l, const char *key, const char *value, size_t len);
void gw_log_int(gw_log_line_t *l, const char *key, int64_t value);
void gw_log_double(gw_log_line_t *l, const char *key, double value);
/* Write the line now (after any buffered access lines). */
void gw_log_end(gw_log_line_t *l);
/* Queue the line in the access buffer (workers). */
void gw_log_end_buffered(gw_log_line_t *l);
/* Write out buffered lines; called from a timer and before exit. */
void gw_log_flush(void);

/* printf-style message-only line. */
void gw_logf(gw_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
