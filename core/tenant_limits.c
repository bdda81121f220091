/*
 * Parsing and lookup of per-tenant rate-limit overrides (see
 * core/tenant_limits.h). Parsed once per config load by the master;
 * looked up by workers (binary search, no allocation).
 */
#include "core/tenant_limits.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    return strcmp(((const gw_tenant_limit_t *)a)->tenant, ((const gw_tenant_limit_t *)b)->tenant);
}

static int parse_line(const char *where, unsigned lineno, char *line, gw_tenant_limit_t *out, char *err,
                      size_t errlen)
{
    char *save = NULL, *tenant = strtok_r(line, " \t\r", &save), *rps = strtok_r(NULL, " \t\r", &save),
         *burst = strtok_r(NULL, " \t\r", &save), *extra = strtok_r(NULL, " \t\r", &save);
    char *end1 = NULL, *end2 = NULL;
    errno = 0;
    double r = rps ? strtod(rps, &end1) : 0;
    long b = burst ? strtol(burst, &end2, 10) : 0;
    if (tenant == NULL || rps == NULL || burst == NULL || extra != NULL || *end1 != '\0' || *end2 != '\0' ||
        errno != 0 || !isfinite(r)) {
        snprintf(err, errlen, "RATE_LIMIT_TENANTS_FILE: %s:%u: expected \"tenant rps burst\"", where, lineno);
        return -1;
    }
    if (strlen(tenant) >= sizeof(out->tenant)) {
        snprintf(err, errlen, "RATE_LIMIT_TENANTS_FILE: %s:%u: tenant name longer than %zu bytes", where,
                 lineno, sizeof(out->tenant) - 1);
        return -1;
    }
    if (r <= 0 || r > 1e6 || b < 1 || b > 1000000) {
        snprintf(err, errlen,
                 "RATE_LIMIT_TENANTS_FILE: %s:%u: rps must be in (0, 1e6] and burst in [1, 1000000]", where,
                 lineno);
        return -1;
    }
    snprintf(out->tenant, sizeof(out->tenant), "%s", tenant);
    out->rps = r;
    out->burst = b;
    return 0;
}

int gw_tenant_limits_parse(const char *where, const char *text, size_t len, gw_tenant_limits_t *out,
                           char *err, size_t errlen)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0, pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - text - pos) : len - pos;
        const char *raw = text + pos;
        char line[512];
        lineno++;
        pos += llen + 1;
        size_t skip = 0;
        while (skip < llen && (raw[skip] == ' ' || raw[skip] == '\t' || raw[skip] == '\r'))
            skip++;
        if (skip == llen || raw[skip] == '#')
            continue; /* blank or comment, whatever its length */
        /* Cutting a line (at the buffer's end or at a NUL) could leave a
         * different valid line ("a 10 1000000" -> "a 10 100000"): refuse. */
        const char *why = llen >= sizeof(line)              ? "line longer than 511 bytes"
                          : memchr(raw, '\0', llen) != NULL ? "NUL byte in line"
                                                            : NULL;
        if (why != NULL) {
            snprintf(err, errlen, "RATE_LIMIT_TENANTS_FILE: %s:%u: %s", where, lineno, why);
            gw_tenant_limits_free(out);
            return -1;
        }
        memcpy(line, raw, llen);
        line[llen] = '\0';
        char *p = line + skip;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            gw_tenant_limit_t *nv = realloc(out->v, cap * sizeof(*nv));
            if (nv == NULL) {
                gw_tenant_limits_free(out);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            out->v = nv;
        }
        if (parse_line(where, lineno, p, &out->v[out->n], err, errlen) != 0) {
            gw_tenant_limits_free(out);
            return -1;
        }
        out->n++;
    }
    if (out->n > 1) /* qsort's base must not be NULL, even for 0 elements */
        qsort(out->v, out->n, sizeof(*out->v), cmp);
    for (size_t i = 1; i < out->n; i++) {
        if (strcmp(out->v[i - 1].tenant, out->v[i].tenant) == 0) {
            snprintf(err, errlen, "RATE_LIMIT_TENANTS_FILE: %s: tenant \"%s\" listed twice", where,
                     out->v[i].tenant);
            gw_tenant_limits_free(out);
            return -1;
        }
    }
    return 0;
}

int gw_tenant_limits_load(const char *path, gw_tenant_limits_t *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "RATE_LIMIT_TENANTS_FILE: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    bool too_big = buf && n == (1 << 20);
    int read_errno = ferror(f) ? errno : 0; /* e.g. EISDIR: fopen() opens a directory */
    fclose(f);
    if (read_errno != 0) {
        free(buf);
        snprintf(err, errlen, "RATE_LIMIT_TENANTS_FILE: cannot read %s: %s", path, strerror(read_errno));
        return -1;
    }
    if (buf == NULL || too_big) {
        free(buf);
        snprintf(err, errlen, "RATE_LIMIT_TENANTS_FILE: %s: larger than 1 MiB", path);
        return -1;
    }
    int rc = gw_tenant_limits_parse(path, buf, n, out, err, errlen);
    free(buf);
    return rc;
}

void gw_tenant_limits_free(gw_tenant_limits_t *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

const gw_tenant_limit_t *gw_tenant_limits_find(const gw_tenant_limits_t *l, const char *tenant)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(l->v[mid].tenant, tenant);
        if (c == 0)
            return &l->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
