/*
 * Per-tenant rate-limit overrides (RATE_LIMIT_TENANTS_FILE): lines of
 * "tenant rps burst", '#' comments. Parsed by the config loader (so a bad
 * file fails `-t` and a reload with a precise line number) into a sorted
 * array that workers search per request; applied by HUP like any setting.
 */
#ifndef GW_TENANT_LIMITS_H
#define GW_TENANT_LIMITS_H

#include <stddef.h>

typedef struct {
    char tenant[128];
    double rps;
    long burst;
} gw_tenant_limit_t;

typedef struct {
    gw_tenant_limit_t *v; /* sorted by tenant; heap-owned */
    size_t n;
} gw_tenant_limits_t;

int gw_tenant_limits_load(const char *path, gw_tenant_limits_t *out, char *err, size_t errlen);
int gw_tenant_limits_parse(const char *where, const char *text, size_t len, gw_tenant_limits_t *out,
                           char *err, size_t errlen);
void gw_tenant_limits_free(gw_tenant_limits_t *l);
const gw_tenant_limit_t *gw_tenant_limits_find(const gw_tenant_limits_t *l, const char *tenant);

#endif
