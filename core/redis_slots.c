/*
 * Redis Cluster key routing without I/O (see core/redis_slots.h):
 * the redis-cluster:// URL (the config loader validates with it, the
 * worker connects with it), CRC16 key slots with hash tags, and which
 * argument of a command is its key.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/redis_slots.h"

#define PREFIX     "redis-cluster://"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

bool gw_rc_is_cluster_url(const char *url)
{
    return strncmp(url, PREFIX, PREFIX_LEN) == 0;
}

static int fail(char *err, size_t errlen, const char *url, const char *what)
{
    (void)url; /* may carry a password: never echoed */
    snprintf(err, errlen, "REDIS_URL: %s (expected redis-cluster://[:password@]host:port[,host:port...])",
             what);
    return -1;
}

/* One "host:port" of length len. */
static int parse_addr(const char *p, size_t len, gw_rc_addr_t *a, char *err, size_t errlen, const char *url)
{
    const char *colon = memrchr(p, ':', len);
    if (colon == NULL || colon == p)
        return fail(err, errlen, url, "every seed node needs host:port");
    size_t hlen = (size_t)(colon - p);
    if (hlen >= sizeof(a->host))
        return fail(err, errlen, url, "seed host name too long");
    for (size_t i = 0; i < hlen; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '.' && p[i] != '-' && p[i] != '_')
            return fail(err, errlen, url, "seed host has characters outside [A-Za-z0-9.-_]");
    const char *digits = colon + 1;
    size_t dlen = len - hlen - 1;
    long port = 0;
    for (size_t i = 0; i < dlen; i++) {
        if (!isdigit((unsigned char)digits[i]) || (port = port * 10 + (digits[i] - '0')) > 65535)
            return fail(err, errlen, url,
                        dlen && digits[i] == '/' ? "a cluster has only database 0: drop /db"
                                                 : "seed port must be 1..65535");
    }
    if (dlen == 0 || port == 0)
        return fail(err, errlen, url, "seed port must be 1..65535");
    memcpy(a->host, p, hlen);
    a->host[hlen] = '\0';
    a->port = (int)port;
    return 0;
}

int gw_rc_parse_url(const char *url, gw_rc_url_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!gw_rc_is_cluster_url(url))
        return fail(err, errlen, url, "not a redis-cluster:// URL");
    const char *p = url + PREFIX_LEN;
    const char *at = strrchr(p, '@');
    if (at != NULL) {
        if (*p != ':')
            return fail(err, errlen, url, "the password form is :password@ (no user name)");
        size_t pwlen = (size_t)(at - p - 1);
        if (pwlen == 0 || pwlen >= sizeof(out->password))
            return fail(err, errlen, url, "empty or too long password");
        memcpy(out->password, p + 1, pwlen);
        p = at + 1;
    }
    if (*p == '\0')
        return fail(err, errlen, url, "no seed nodes");
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (out->nseeds == GW_RC_MAX_SEEDS)
            return fail(err, errlen, url, "more than 16 seed nodes");
        if (len == 0 || parse_addr(p, len, &out->seeds[out->nseeds], err, errlen, url) != 0)
            return len == 0 ? fail(err, errlen, url, "empty seed node in the list") : -1;
        out->nseeds++;
        p += len;
        if (*p == ',' && *++p == '\0')
            return fail(err, errlen, url, "empty seed node in the list");
    }
    return 0;
}

/* CRC16-CCITT (XMODEM): polynomial 0x1021, initial 0, as Redis Cluster. */
static uint16_t crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)buf[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

unsigned gw_rc_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open != NULL) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close != NULL && close > open + 1) /* "{}" is not a tag: hash the whole key */
            return crc16(open + 1, (size_t)(close - open - 1)) & (GW_RC_SLOTS - 1);
    }
    return crc16(key, len) & (GW_RC_SLOTS - 1);
}

static bool is_word(const char *a, size_t alen, const char *word)
{
    return alen == strlen(word) && strncasecmp(a, word, alen) == 0;
}

int gw_rc_command_slot(int argc, const char **argv, const size_t *argvlen)
{
    if (argc < 2)
        return GW_RC_ANY_NODE;
    if (!is_word(argv[0], argvlen[0], "EVAL") && !is_word(argv[0], argvlen[0], "EVALSHA"))
        return (int)gw_rc_key_slot(argv[1], argvlen[1]);
    if (argc < 3 || argvlen[2] == 0 || argvlen[2] > 9)
        return GW_RC_CROSS_SLOT;
    long numkeys = 0;
    for (size_t i = 0; i < argvlen[2]; i++) {
        if (!isdigit((unsigned char)argv[2][i]))
            return GW_RC_CROSS_SLOT;
        numkeys = numkeys * 10 + (argv[2][i] - '0');
    }
    if (numkeys == 0)
        return GW_RC_ANY_NODE;
    if (3 + numkeys > argc)
        return GW_RC_CROSS_SLOT;
    unsigned slot = gw_rc_key_slot(argv[3], argvlen[3]);
    for (long k = 1; k < numkeys; k++)
        if (gw_rc_key_slot(argv[3 + k], argvlen[3 + k]) != slot)
            return GW_RC_CROSS_SLOT;
    return (int)slot;
}
