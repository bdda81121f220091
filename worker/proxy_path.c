/*
 * The notification proxy's upstream request-target (see worker/proxy_path.h).
 * Pure string work; called by worker/upstream_http.c and the unit tests.
 */
#include "worker/proxy_path.h"

#include "core/urlenc.h"

#include <stdbool.h>
#include <string.h>

static const char hex[] = "0123456789ABCDEF";

/* RFC 3986 pchar minus pct-encoded: unreserved / sub-delims / ":" / "@". */
static bool is_pchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

static void put_escaped(gw_buf_t *out, unsigned char c)
{
    char e[3] = {'%', hex[c >> 4], hex[c & 15]};
    gw_buf_add(out, e, 3);
}

static bool is_dot_segment(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* One decoded segment, re-encoded. */
static gw_proxy_path_result_t put_segment(gw_buf_t *out, const char *s, size_t n)
{
    if (is_dot_segment(s, n))
        return GW_PROXY_PATH_DOT_SEGMENT;
    if (gw_has_control_byte(s, n))
        return GW_PROXY_PATH_CONTROL_CHAR;
    gw_buf_putc(out, '/');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_pchar(c))
            gw_buf_putc(out, (char)c);
        else
            put_escaped(out, c);
    }
    return GW_PROXY_PATH_OK;
}

static bool under_prefix(const char *path, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);
    return len >= plen && memcmp(path, prefix, plen) == 0 && (len == plen || path[plen] == '/');
}

gw_proxy_path_result_t gw_proxy_target(const char *norm, size_t norm_len, const char *query, size_t query_len,
                                       const char *prefix, gw_buf_t *out)
{
    size_t start = out->len, i = 0;
    while (i < norm_len) {
        if (norm[i] == '/') {
            i++;
            continue;
        }
        size_t s = i;
        while (i < norm_len && norm[i] != '/')
            i++;
        gw_proxy_path_result_t res = put_segment(out, norm + s, i - s);
        if (res != GW_PROXY_PATH_OK)
            return res;
    }
    if (out->len == start)
        gw_buf_putc(out, '/');
    if (!under_prefix(out->data + start, out->len - start, prefix))
        return GW_PROXY_PATH_OUTSIDE_PREFIX;
    if (query != NULL) {
        /* Forwarded as the client wrote it; only bytes that would end or
         * break the request line (controls, space, '#', non-ASCII) are
         * escaped, which does not change what the backend decodes. */
        gw_buf_putc(out, '?');
        for (size_t k = 0; k < query_len; k++) {
            unsigned char c = (unsigned char)query[k];
            if (c <= 0x20 || c >= 0x7f || c == '#')
                put_escaped(out, c);
            else
                gw_buf_putc(out, (char)c);
        }
    }
    return GW_PROXY_PATH_OK;
}

const char *gw_proxy_path_error(gw_proxy_path_result_t res)
{
    switch (res) {
    case GW_PROXY_PATH_DOT_SEGMENT:
        return "dot segment";
    case GW_PROXY_PATH_CONTROL_CHAR:
        return "control character";
    case GW_PROXY_PATH_OUTSIDE_PREFIX:
        return "outside the route's prefix";
    default:
        return "ok";
    }
}
