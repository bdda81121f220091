/*
 * CIDR parsing and matching for ADMIN_ALLOW and TRUSTED_PROXIES.
 * Called by the config loader (parse) and by workers on the request path
 * (match: no allocation, a linear scan over a handful of entries).
 */
#include "core/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int gw_ip_parse(const char *text, size_t len, uint8_t *family, uint8_t addr[16])
{
    char buf[INET6_ADDRSTRLEN + 1];
    /* inet_pton stops at a NUL: "10.1.2.3\0junk" must not pass as 10.1.2.3. */
    if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len) != NULL)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        if (memcmp(addr, v4_mapped_prefix, 12) == 0) {
            memmove(addr, addr + 12, 4);
            memset(addr + 4, 0, 12);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return 0;
    }
    return -1;
}

static int parse_one(const char *s, size_t len, gw_cidr_t *out)
{
    const char *slash = memchr(s, '/', len);
    size_t addr_len = slash ? (size_t)(slash - s) : len;
    if (gw_ip_parse(s, addr_len, &out->family, out->addr) != 0)
        return -1;
    /* "::ffff:a.b.c.d/N" is stored as IPv4, but N counts IPv6 bits. */
    bool mapped = out->family == AF_INET && memchr(s, ':', addr_len) != NULL;
    int max = out->family == AF_INET && !mapped ? 32 : 128;
    out->prefix = out->family == AF_INET ? 32 : 128;
    if (slash != NULL) {
        size_t plen = len - addr_len - 1;
        if (plen == 0 || plen > 3)
            return -1;
        int p = 0;
        for (size_t i = 0; i < plen; i++) {
            char c = slash[1 + i];
            if (c < '0' || c > '9')
                return -1;
            p = p * 10 + (c - '0');
        }
        if (p > max || (mapped && p < 96)) /* below /96 it covers non-mapped IPv6 too */
            return -1;
        out->prefix = (uint8_t)(mapped ? p - 96 : p);
    }
    return 0;
}

int gw_cidr_list_parse(const char *text, gw_cidr_list_t *out, char *err, size_t errlen)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0;
    const char *p = text;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if (p == start)
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 4;
            gw_cidr_t *nv = realloc(out->v, cap * sizeof(*nv));
            if (nv == NULL) {
                snprintf(err, errlen, "out of memory");
                gw_cidr_list_free(out);
                return -1;
            }
            out->v = nv;
        }
        if (parse_one(start, (size_t)(p - start), &out->v[out->n]) != 0) {
            snprintf(err, errlen, "not an address or CIDR: \"%.*s\"", (int)(p - start), start);
            gw_cidr_list_free(out);
            return -1;
        }
        out->n++;
    }
    return 0;
}

void gw_cidr_list_free(gw_cidr_list_t *list)
{
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

bool gw_cidr_list_match_ip(const gw_cidr_list_t *list, uint8_t family, const uint8_t addr[16])
{
    for (size_t i = 0; i < list->n; i++) {
        const gw_cidr_t *c = &list->v[i];
        if (c->family == family && prefix_equal(c->addr, addr, c->prefix))
            return true;
    }
    return false;
}

bool gw_cidr_list_match_sockaddr(const gw_cidr_list_t *list, const struct sockaddr *sa)
{
    uint8_t addr[16] = {0};
    uint8_t family;
    if (sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        const uint8_t *a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        if (memcmp(a6, v4_mapped_prefix, 12) == 0) {
            memcpy(addr, a6 + 12, 4);
            family = AF_INET;
        } else {
            memcpy(addr, a6, 16);
            family = AF_INET6;
        }
    } else {
        return false;
    }
    return gw_cidr_list_match_ip(list, family, addr);
}

void gw_ip_format(uint8_t family, const uint8_t addr[16], char *out, size_t cap)
{
    if (family != AF_INET || cap < 16) {
        if (inet_ntop(family, addr, out, (socklen_t)cap) == NULL && cap > 0)
            out[0] = '\0';
        return;
    }
    char *p = out;
    for (int i = 0; i < 4; i++) {
        unsigned v = addr[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = i < 3 ? '.' : '\0';
    }
}
