/*
 * Configuration loader: one table of keys (name, type, default, bounds) drives
 * defaults, the KEY=VALUE file, environment overrides, validation and the
 * -t -v dump. Called by the master at start-up and on SIGHUP; never by workers.
 *
 * Errors are one line naming the key and the problem, e.g.
 *   RATE_LIMIT_RPS: not a number: "abc"
 * so `api-gateway -t` and the reload log say exactly what to fix.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/api.h"
#include "core/jwt_claims.h"
#include "core/redis_slots.h"

typedef enum { T_STR, T_LONG, T_DOUBLE, T_BOOL, T_CIDRS, T_LOGLEVEL, T_WORKERS } key_type_t;

typedef struct {
    const char *name;
    key_type_t type;
    size_t offset;
    const char *def;
    double min, max; /* numeric bounds, inclusive */
    bool secret;     /* masked in the dump */
} key_def_t;

#define F(field) offsetof(gw_config_t, field)
#define NOLIM    -1e300, 1e300

static const key_def_t keys[] = {
    {"API_GATEWAY_HOST", T_STR, F(host), "0.0.0.0", NOLIM, false},
    {"API_GATEWAY_PORT", T_LONG, F(port), "8080", 1, 65535, false},
    {"WORKERS", T_WORKERS, F(workers), "auto", 1, 256, false},
    {"AUTH_SERVICE_URL", T_STR, F(auth_service_url), "auth-service:50051", NOLIM, false},
    {"USER_SERVICE_URL", T_STR, F(user_service_url), "user-service:50052", NOLIM, false},
    {"TENANT_SERVICE_URL", T_STR, F(tenant_service_url), "tenant-service:50053", NOLIM, false},
    {"GRPC_TLS", T_BOOL, F(grpc_tls), "false", NOLIM, false},
    {"GRPC_TLS_CA_FILE", T_STR, F(grpc_tls_ca_file), "", NOLIM, false},
    {"PROTO_DESCRIPTOR_SET", T_STR, F(proto_descriptor_set), "", NOLIM, false},
    {"GRPC_UPSTREAMS", T_STR, F(grpc_upstreams), "", NOLIM, false},
    {"PUBLIC_METHODS", T_STR, F(public_methods), GW_DEFAULT_PUBLIC_METHODS, NOLIM, false},
    {"METHOD_ROLES", T_STR, F(method_roles), GW_DEFAULT_METHOD_ROLES, NOLIM, false},
    {"CACHE_METHODS", T_STR, F(cache_methods), GW_DEFAULT_CACHE_METHODS, NOLIM, false},
    {"TENANT_FIELD", T_STR, F(tenant_field), "tenant_id", NOLIM, false},
    {"NOTIFICATION_SERVICE_URL", T_STR, F(notification_service_url), "http://notification-service:8084",
     NOLIM, false},
    {"NOTIFICATION_HEALTH_PATH", T_STR, F(notification_health_path), "/health", NOLIM, false},
    {"JWT_SECRET", T_STR, F(jwt_secret), "", NOLIM, true},
    {"JWT_SECRET_PREVIOUS", T_STR, F(jwt_secret_previous), "", NOLIM, true},
    {"JWT_ALGORITHM", T_STR, F(jwt_algorithm), "HS256", NOLIM, false},
    {"JWT_PUBLIC_KEY_FILE", T_STR, F(jwt_public_key_file), "", NOLIM, false},
    {"JWT_LEEWAY", T_LONG, F(jwt_leeway), "0", 0, 86400, false},
    {"JWT_REQUIRED_CLAIMS", T_STR, F(jwt_required_claims), "exp", NOLIM, false},
    {"RESPONSE_REDACT_FIELDS", T_STR, F(response_redact_fields), "password_hash", NOLIM, false},
    {"RATE_LIMIT_ENABLED", T_BOOL, F(rate_limit_enabled), "true", NOLIM, false},
    {"RATE_LIMIT_RPS", T_DOUBLE, F(rate_limit_rps), "100", 0.001, 1e6, false},
    {"RATE_LIMIT_BURST", T_LONG, F(rate_limit_burst), "200", 1, 1000000, false},
    {"RATE_LIMIT_TENANT_RPS", T_DOUBLE, F(rate_limit_tenant_rps), "0", 0, 1e6, false},
    {"RATE_LIMIT_TENANT_BURST", T_LONG, F(rate_limit_tenant_burst), "0", 0, 1000000, false},
    {"RATE_LIMIT_TABLE_SIZE", T_LONG, F(rate_limit_table_size), "262144", 1024, 1 << 26, false},
    {"RATE_LIMIT_CLEANUP_INTERVAL", T_LONG, F(rate_limit_cleanup_interval), "600", 1, 86400, false},
    {"RATE_LIMIT_IDLE_TIMEOUT", T_LONG, F(rate_limit_idle_timeout), "600", 1, 86400 * 7, false},
    {"RATE_LIMIT_TENANTS_FILE", T_STR, F(rate_limit_tenants_file), "", NOLIM, false},
    {"RATE_LIMIT_SCOPE", T_STR, F(rate_limit_scope), "local", NOLIM, false},
    {"RATE_LIMIT_GLOBAL_LEASE", T_LONG, F(rate_limit_global_lease), "0", 0, 100000, false},
    {"TRUSTED_PROXIES", T_CIDRS, F(trusted_proxies), "", NOLIM, false},
    {"ADMIN_ALLOW", T_CIDRS, F(admin_allow), "127.0.0.1/32,::1/128", NOLIM, false},
    {"MAX_REQUEST_SIZE", T_LONG, F(max_request_size), "10485760", 1, 1L << 30, false},
    {"MAX_RESPONSE_SIZE", T_LONG, F(max_response_size), "16777216", 1024, 1L << 30, false},
    {"MAX_URI_SIZE", T_LONG, F(max_uri_size), "8192", 256, 65536, false},
    {"REVOCATION_TABLE_SIZE", T_LONG, F(revocation_table_size), "16384", 256, 1 << 22, false},
    {"REQUEST_TIMEOUT", T_DOUBLE, F(request_timeout), "30", 0.001, 3600, false},
    {"REDIS_URL", T_STR, F(redis_url), "", NOLIM, true},
    {"REDIS_FAIL_OPEN", T_BOOL, F(redis_fail_open), "true", NOLIM, false},
    {"CACHE_TTL", T_LONG, F(cache_ttl), "60", 1, 86400 * 30, false},
    {"CACHE_MAX_BODY", T_LONG, F(cache_max_body), "1048576", 0, 512L << 20, false},
    {"ENABLE_METRICS", T_BOOL, F(enable_metrics), "true", NOLIM, false},
    {"ENABLE_TRACING", T_BOOL, F(enable_tracing), "false", NOLIM, false},
    {"JAEGER_URL", T_STR, F(jaeger_url), "", NOLIM, false},
    {"TRACE_SAMPLE_RATIO", T_DOUBLE, F(trace_sample_ratio), "1.0", 0, 1, false},
    {"CIRCUIT_BREAKER_ENABLED", T_BOOL, F(circuit_breaker_enabled), "true", NOLIM, false},
    {"CB_FAILURE_RATIO", T_DOUBLE, F(cb_failure_ratio), "0.6", 0.01, 1, false},
    {"CB_MIN_REQUESTS", T_LONG, F(cb_min_requests), "3", 1, 1000000, false},
    {"CB_INTERVAL", T_LONG, F(cb_interval), "60", 1, 86400, false},
    {"CB_OPEN_TIMEOUT", T_LONG, F(cb_open_timeout), "30", 1, 86400, false},
    {"CB_HALF_OPEN_MAX_REQUESTS", T_LONG, F(cb_half_open_max_requests), "3", 1, 1000, false},
    {"TLS_CERT_FILE", T_STR, F(tls_cert_file), "", NOLIM, false},
    {"TLS_KEY_FILE", T_STR, F(tls_key_file), "", NOLIM, false},
    {"CORS_ALLOWED_ORIGINS", T_STR, F(cors_allowed_origins), "", NOLIM, false},
    {"SHUTDOWN_TIMEOUT", T_LONG, F(shutdown_timeout), "30", 0, 3600, false},
    {"LOG_LEVEL", T_LOGLEVEL, F(log_level), "info", NOLIM, false},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *level_names[] = {"debug", "info", "warn", "error"};

const char *gw_log_level_name(gw_log_level_t level)
{
    return level_names[level];
}

static void *field_ptr(gw_config_t *cfg, const key_def_t *k)
{
    return (char *)cfg + k->offset;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_long(const char *v, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno != 0)
        return -1;
    *out = n;
    return 0;
}

static int parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

static int check_range(const key_def_t *k, double v, const char *text, char *err, size_t errlen)
{
    if (v < k->min || v > k->max)
        return fail(err, errlen, "%s: must be between %g and %g, got %s", k->name, k->min, k->max, text);
    return 0;
}

/* Store one textual value into its field, replacing (and freeing) the old one. */
static int set_value(gw_config_t *cfg, const key_def_t *k, const char *v, char *err, size_t errlen)
{
    void *p = field_ptr(cfg, k);
    long l;
    double d;
    switch (k->type) {
    case T_STR: {
        char *copy = strdup(v);
        if (copy == NULL)
            return fail(err, errlen, "out of memory");
        free(*(char **)p);
        *(char **)p = copy;
        return 0;
    }
    case T_WORKERS:
        if (strcmp(v, "auto") == 0 || strcmp(v, "0") == 0) {
            *(long *)p = 0;
            return 0;
        }
        /* a number */
        __attribute__((fallthrough));
    case T_LONG:
        if (parse_long(v, &l) != 0)
            return fail(err, errlen, "%s: not a number: \"%s\"", k->name, v);
        if (check_range(k, (double)l, v, err, errlen) != 0)
            return -1;
        *(long *)p = l;
        return 0;
    case T_DOUBLE:
        if (parse_double(v, &d) != 0)
            return fail(err, errlen, "%s: not a number: \"%s\"", k->name, v);
        if (check_range(k, d, v, err, errlen) != 0)
            return -1;
        *(double *)p = d;
        return 0;
    case T_BOOL:
        if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 ||
            strcasecmp(v, "on") == 0)
            *(bool *)p = true;
        else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 ||
                 strcasecmp(v, "off") == 0)
            *(bool *)p = false;
        else
            return fail(err, errlen, "%s: not a boolean: \"%s\" (use true or false)", k->name, v);
        return 0;
    case T_CIDRS: {
        gw_cidr_list_t list;
        char why[256];
        if (gw_cidr_list_parse(v, &list, why, sizeof(why)) != 0)
            return fail(err, errlen, "%s: %s", k->name, why);
        gw_cidr_list_free((gw_cidr_list_t *)p);
        *(gw_cidr_list_t *)p = list;
        return 0;
    }
    case T_LOGLEVEL:
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(v, level_names[i]) == 0) {
                *(gw_log_level_t *)p = (gw_log_level_t)i;
                return 0;
            }
        }
        if (strcasecmp(v, "warning") == 0) {
            *(gw_log_level_t *)p = GW_LOG_WARN;
            return 0;
        }
        return fail(err, errlen, "%s: must be one of debug, info, warn, error, got \"%s\"", k->name, v);
    }
    return fail(err, errlen, "%s: internal error", k->name);
}

static const key_def_t *find_key(const char *name, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
            return &keys[i];
    return NULL;
}

static int load_defaults(gw_config_t *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYS; i++)
        if (set_value(cfg, &keys[i], keys[i].def, err, errlen) != 0)
            return -1;
    return 0;
}

/* Strip one level of matching quotes, as systemd's EnvironmentFile= does. */
static void unquote(char **v, size_t *len)
{
    if (*len >= 2 && ((*v)[0] == '"' || (*v)[0] == '\'') && (*v)[*len - 1] == (*v)[0]) {
        (*v)++;
        *len -= 2;
    }
}

/* One KEY=VALUE line. With `env_overrides`, a key also set in the
 * environment is skipped: its file value is never used, so a bad one must not
 * stop the start (only the merged value is validated, by load_env). */
static int parse_line(gw_config_t *cfg, const char *where, unsigned lineno, char *line, bool env_overrides,
                      char *err, size_t errlen)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#' || *p == ';')
        return 0;
    if (strncmp(p, "export ", 7) == 0)
        p += 7;
    char *eq = strchr(p, '=');
    if (eq == NULL)
        return fail(err, errlen, "%s:%u: expected KEY=VALUE", where, lineno);
    size_t name_len = (size_t)(eq - p);
    while (name_len > 0 && (p[name_len - 1] == ' ' || p[name_len - 1] == '\t'))
        name_len--;
    const key_def_t *k = find_key(p, name_len);
    if (k == NULL)
        return fail(err, errlen, "%s:%u: unknown key \"%.*s\"", where, lineno, (int)name_len, p);
    if (env_overrides && getenv(k->name) != NULL)
        return 0;
    char *v = eq + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t vlen = strlen(v);
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' || v[vlen - 1] == '\r'))
        vlen--;
    unquote(&v, &vlen);
    v[vlen] = '\0';
    return set_value(cfg, k, v, err, errlen);
}

/* Parse KEY=VALUE text; `where` names the source in messages. */
static int parse_text(gw_config_t *cfg, const char *where, const char *text, size_t len, bool env_overrides,
                      char *err, size_t errlen)
{
    unsigned lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (memchr(text + pos, '\0', llen) != NULL)
            return fail(err, errlen, "%s:%u: NUL byte in line", where, lineno);
        char *line = strndup(text + pos, llen);
        if (line == NULL)
            return fail(err, errlen, "out of memory");
        int rc = parse_line(cfg, where, lineno, line, env_overrides, err, errlen);
        free(line);
        if (rc != 0)
            return -1;
        pos += llen + 1;
    }
    return 0;
}

static int load_file(gw_config_t *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (cap - len < 4096) {
            if (cap >= (1u << 20)) {
                free(buf);
                fclose(f);
                return fail(err, errlen, "%s: larger than 1 MiB", path);
            }
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return fail(err, errlen, "out of memory");
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int rerr = ferror(f);
    fclose(f);
    int rc =
        rerr ? fail(err, errlen, "%s: read error", path) : parse_text(cfg, path, buf, len, true, err, errlen);
    free(buf);
    return rc;
}

static int load_env(gw_config_t *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const char *v = getenv(keys[i].name);
        if (v != NULL && set_value(cfg, &keys[i], v, err, errlen) != 0)
            return -1;
    }
    return 0;
}

bool gw_config_is_host_port(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || colon[1] == '\0')
        return false;
    long port;
    return parse_long(colon + 1, &port) == 0 && port > 0 && port < 65536;
}

/* An IP literal or a DNS name (letters, digits, '-', '.'; labels of 1..63). */
static bool is_listen_host(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
        return true;
    size_t label = 0, len = strlen(s);
    if (len == 0 || len > 253)
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if ((isalnum((unsigned char)*p) || *p == '-') && ++label <= 63) {
            continue;
        } else {
            return false;
        }
    }
    return label > 0;
}

/* Cross-key checks, after every source has been applied. */
static int validate(gw_config_t *cfg, char *err, size_t errlen)
{
    static const char *alg_names[] = {"HS256", "HS384", "HS512", "RS256", "ES256"};
    bool alg_ok = false, alg_hs = false;
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(cfg->jwt_algorithm, alg_names[i]) == 0) {
            alg_ok = true;
            alg_hs = i < 3;
        }
    }
    if (!alg_ok)
        return fail(err, errlen,
                    "JWT_ALGORITHM: must be one of HS256, HS384, HS512, RS256, ES256, got \"%s\"",
                    cfg->jwt_algorithm);
    if (alg_hs && cfg->jwt_secret[0] == '\0')
        return fail(err, errlen,
                    "JWT_SECRET: required (or set JWT_PUBLIC_KEY_FILE with JWT_ALGORITHM=RS256 or ES256)");
    if (!alg_hs && cfg->jwt_public_key_file[0] == '\0')
        return fail(err, errlen, "JWT_PUBLIC_KEY_FILE: required with JWT_ALGORITHM=%s", cfg->jwt_algorithm);
    if (!alg_hs && access(cfg->jwt_public_key_file, R_OK) != 0)
        return fail(err, errlen, "JWT_PUBLIC_KEY_FILE: cannot read %s: %s", cfg->jwt_public_key_file,
                    strerror(errno));
    if (!is_listen_host(cfg->host))
        return fail(err, errlen, "API_GATEWAY_HOST: expected an IP address or a host name, got \"%s\"",
                    cfg->host);
    const char *grpc_keys[] = {"AUTH_SERVICE_URL", "USER_SERVICE_URL", "TENANT_SERVICE_URL"};
    const char *grpc_vals[] = {cfg->auth_service_url, cfg->user_service_url, cfg->tenant_service_url};
    for (size_t i = 0; i < 3; i++)
        if (!gw_config_is_host_port(grpc_vals[i]))
            return fail(err, errlen, "%s: expected host:port, got \"%s\"", grpc_keys[i], grpc_vals[i]);
    if (strncmp(cfg->notification_service_url, "http://", 7) != 0)
        return fail(err, errlen, "NOTIFICATION_SERVICE_URL: expected http://host:port, got \"%s\"",
                    cfg->notification_service_url);
    gw_rc_url_t cluster;
    if (gw_rc_is_cluster_url(cfg->redis_url) && gw_rc_parse_url(cfg->redis_url, &cluster, err, errlen) != 0)
        return -1;
    if (cfg->redis_url[0] != '\0' && strncmp(cfg->redis_url, "redis://", 8) != 0 &&
        strncmp(cfg->redis_url, "unix://", 7) != 0 && !gw_rc_is_cluster_url(cfg->redis_url))
        return fail(err, errlen,
                    "REDIS_URL: expected redis://[:password@]host[:port][/db], unix:///path or "
                    "redis-cluster://[:password@]host:port[,host:port...]");
    if ((cfg->tls_cert_file[0] == '\0') != (cfg->tls_key_file[0] == '\0'))
        return fail(err, errlen, "%s: required when %s is set",
                    cfg->tls_cert_file[0] == '\0' ? "TLS_CERT_FILE" : "TLS_KEY_FILE",
                    cfg->tls_cert_file[0] == '\0' ? "TLS_KEY_FILE" : "TLS_CERT_FILE");
    const char *files[][2] = {{"TLS_CERT_FILE", cfg->tls_cert_file},
                              {"TLS_KEY_FILE", cfg->tls_key_file},
                              {"GRPC_TLS_CA_FILE", cfg->grpc_tls_ca_file},
                              {"RATE_LIMIT_TENANTS_FILE", cfg->rate_limit_tenants_file}};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (files[i][1][0] != '\0' && access(files[i][1], R_OK) != 0)
            return fail(err, errlen, "%s: cannot read %s: %s", files[i][0], files[i][1], strerror(errno));
    if (gw_jwt_required_claims_check(cfg->jwt_required_claims, err, errlen) != 0)
        return -1;
    if (cfg->enable_tracing && cfg->jaeger_url[0] == '\0')
        return fail(err, errlen, "JAEGER_URL: required when ENABLE_TRACING=true");
    if (cfg->rate_limit_tenant_rps > 0 && cfg->rate_limit_tenant_burst == 0)
        cfg->rate_limit_tenant_burst = (long)ceil(cfg->rate_limit_tenant_rps);
    if (strcmp(cfg->rate_limit_scope, "local") != 0 && strcmp(cfg->rate_limit_scope, "global") != 0)
        return fail(err, errlen, "RATE_LIMIT_SCOPE: expected local or global, got \"%s\"",
                    cfg->rate_limit_scope);
    cfg->rate_limit_global = strcmp(cfg->rate_limit_scope, "global") == 0;
    if (cfg->rate_limit_global && cfg->redis_url[0] == '\0')
        return fail(err, errlen, "RATE_LIMIT_SCOPE: global needs REDIS_URL");
    if (cfg->rate_limit_tenants_file[0] != '\0' &&
        gw_tenant_limits_load(cfg->rate_limit_tenants_file, &cfg->tenant_limits, err, errlen) != 0)
        return -1;
    return 0;
}

static int finish(gw_config_t *cfg, int rc)
{
    if (rc != 0)
        gw_config_free(cfg);
    return rc;
}

int gw_config_load(gw_config_t *cfg, const char *file, char *err, size_t errlen)
{
    if (load_defaults(cfg, err, errlen) != 0)
        return finish(cfg, -1);
    if (file != NULL) {
        cfg->file = strdup(file);
        if (cfg->file == NULL || load_file(cfg, file, err, errlen) != 0)
            return finish(cfg, -1);
    }
    if (load_env(cfg, err, errlen) != 0)
        return finish(cfg, -1);
    if (validate(cfg, err, errlen) != 0)
        return finish(cfg, -1);
    cfg->api = gw_api_load(cfg, err, errlen);
    return finish(cfg, cfg->api != NULL ? 0 : -1);
}

int gw_config_load_text(gw_config_t *cfg, const char *text, size_t len, char *err, size_t errlen)
{
    if (load_defaults(cfg, err, errlen) != 0 || parse_text(cfg, "config", text, len, false, err, errlen) != 0)
        return finish(cfg, -1);
    return finish(cfg, validate(cfg, err, errlen));
}

void gw_config_free(gw_config_t *cfg)
{
    for (size_t i = 0; i < NKEYS; i++) {
        void *p = field_ptr(cfg, &keys[i]);
        if (keys[i].type == T_STR) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (keys[i].type == T_CIDRS) {
            gw_cidr_list_free((gw_cidr_list_t *)p);
        }
    }
    gw_tenant_limits_free(&cfg->tenant_limits);
    gw_api_free(cfg->api);
    cfg->api = NULL;
    free(cfg->file);
    cfg->file = NULL;
}

long gw_config_worker_count(const gw_config_t *cfg)
{
    if (cfg->workers > 0)
        return cfg->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static void dump_cidrs(const gw_cidr_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        char buf[64];
        inet_ntop(l->v[i].family, l->v[i].addr, buf, sizeof(buf));
        printf("%s%s/%u", i ? "," : "", buf, l->v[i].prefix);
    }
}

void gw_config_dump(const gw_config_t *cfg)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def_t *k = &keys[i];
        const void *p = (const char *)cfg + k->offset;
        printf("%s=", k->name);
        switch (k->type) {
        case T_STR:
            printf("%s", k->secret && **(char *const *)p ? "<set>" : *(char *const *)p);
            break;
        case T_WORKERS:
            if (*(const long *)p == 0) {
                printf("auto");
                break;
            }
            __attribute__((fallthrough));
        case T_LONG:
            printf("%ld", *(const long *)p);
            break;
        case T_DOUBLE:
            printf("%g", *(const double *)p);
            break;
        case T_BOOL:
            printf("%s", *(const bool *)p ? "true" : "false");
            break;
        case T_CIDRS:
            dump_cidrs((const gw_cidr_list_t *)p);
            break;
        case T_LOGLEVEL:
            printf("%s", gw_log_level_name(*(const gw_log_level_t *)p));
            break;
        }
        putchar('\n');
    }
}
