/*
 * URL pieces for the request path: percent-decoding of path variables and
 * query parameters, and splitting a query string into name/value pairs.
 * Decoded strings are allocated from the request's pool (they live as long
 * as the request). Used by the gRPC upstream and the cache key builder.
 */
#ifndef GW_URLENC_H
#define GW_URLENC_H

#include <stdbool.h>
#include <stddef.h>

#define H2O_USE_LIBUV 0
#include <h2o.h>

typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} gw_param_t;

/* Decode %XX (and '+' as space when `plus_is_space`) into pool memory.
 * Returns false on a malformed escape or a decoded NUL byte. */
bool gw_percent_decode(h2o_mem_pool_t *pool, const char *s, size_t len, bool plus_is_space, const char **out,
                       size_t *out_len);

/* Split "a=1&b=x%20y" into at most `max` decoded pairs. Returns the count,
 * or -1 on a malformed escape (the caller answers 400). */
int gw_query_parse(h2o_mem_pool_t *pool, const char *q, size_t len, gw_param_t *out, size_t max);

/* Whether decoded path bytes hold a control byte (C0 or DEL): never a valid
 * path segment once decoded (`%00` would cut a C string short). Used by the
 * gRPC path variables and the proxy's re-encoding. */
static inline bool gw_has_control_byte(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

#endif
