/*
 * Percent-decoding and query splitting (see core/urlenc.h).
 */
#include "core/urlenc.h"

#include "core/digits.h"

#include <string.h>

bool gw_percent_decode(h2o_mem_pool_t *pool, const char *s, size_t len, bool plus_is_space, const char **out,
                       size_t *out_len)
{
    if (memchr(s, '%', len) == NULL && (!plus_is_space || memchr(s, '+', len) == NULL)) {
        *out = s; /* nothing to decode: point at the original */
        *out_len = len;
        return true;
    }
    char *d = h2o_mem_alloc_pool(pool, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < len ? gw_hex_value(s[i + 1]) : -1,
                lo = i + 2 < len ? gw_hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return false;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        d[n++] = c;
    }
    d[n] = '\0';
    *out = d;
    *out_len = n;
    return true;
}

int gw_query_parse(h2o_mem_pool_t *pool, const char *q, size_t len, gw_param_t *out, size_t max)
{
    size_t n = 0, pos = 0;
    while (pos < len && n < max) {
        const char *amp = memchr(q + pos, '&', len - pos);
        size_t end = amp ? (size_t)(amp - q) : len;
        if (end > pos) {
            const char *eq = memchr(q + pos, '=', end - pos);
            size_t name_end = eq ? (size_t)(eq - q) : end;
            gw_param_t *p = &out[n];
            if (!gw_percent_decode(pool, q + pos, name_end - pos, true, &p->name, &p->name_len))
                return -1;
            if (eq != NULL) {
                if (!gw_percent_decode(pool, eq + 1, end - name_end - 1, true, &p->value, &p->value_len))
                    return -1;
            } else {
                p->value = "";
                p->value_len = 0;
            }
            if (p->name_len > 0)
                n++;
        }
        pos = end + 1;
    }
    return (int)n;
}
