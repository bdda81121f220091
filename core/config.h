/*
 * Gateway configuration: the KEY=VALUE file given with -c, overridden by the
 * environment, validated once into a gw_config_t.
 *
 * Owned by the master: it parses at start-up and on every SIGHUP (a failed
 * parse leaves the running config untouched). Workers receive the struct by
 * fork() and only read it. Every string is heap-owned by the struct and freed
 * by gw_config_free().
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cidr.h"
#include "core/tenant_limits.h"

#define GW_CONFIG_ERR_MAX 512

/* Policy defaults: the bundled services as they were served before
 * descriptor sets (docs/API.md, Routes). Entries naming methods the loaded
 * set lacks are ignored while a key keeps its default, errors otherwise. */
#define GW_DEFAULT_PUBLIC_METHODS                                                                            \
    "auth.AuthService/Register,auth.AuthService/Login,auth.AuthService/RefreshToken"
#define GW_DEFAULT_METHOD_ROLES                                                                              \
    "user.UserService/DeleteUser=admin|super_admin,tenant.TenantService/CreateTenant=admin|super_admin,"     \
    "tenant.TenantService/ListTenants=admin|super_admin,"                                                    \
    "tenant.TenantService/UpdateTenant=admin|super_admin,"                                                   \
    "tenant.TenantService/DeleteTenant=admin|super_admin,"                                                   \
    "tenant.TenantService/AddUserToTenant=admin|super_admin,"                                                \
    "tenant.TenantService/RemoveUserFromTenant=admin|super_admin"
#define GW_DEFAULT_CACHE_METHODS                                                                             \
    "user.UserService/ListUsers,user.UserService/SearchUsers,user.UserService/GetUser,"                      \
    "tenant.TenantService/ListTenants,tenant.TenantService/GetTenant"

typedef enum { GW_LOG_DEBUG = 0, GW_LOG_INFO, GW_LOG_WARN, GW_LOG_ERROR } gw_log_level_t;

struct gw_api;

typedef struct gw_config {
    char *file; /* the -c path, NULL when none */

    char *host;
    long port;
    long workers; /* 0 = auto (one per CPU) */

    char *auth_service_url; /* gRPC host:port */
    char *user_service_url;
    char *tenant_service_url;
    bool grpc_tls;
    char *grpc_tls_ca_file;
    char *notification_service_url; /* http://host:port */

    /* The API (core/api.h): descriptor sets, upstreams and per-method policy. */
    char *proto_descriptor_set;     /* FILE[,FILE...]; "" = the bundled set */
    char *grpc_upstreams;           /* package.Service=host:port,... */
    char *public_methods;           /* pkg.Service/Method,... served without a JWT */
    char *method_roles;             /* pkg.Service/Method=role|role,... */
    char *cache_methods;            /* pkg.Service/Method,... whose GET bindings are cached */
    char *tenant_field;             /* the request field scoped by the token's tenant */
    struct gw_api *api;             /* built by gw_config_load from the keys above; owned */
    char *notification_health_path; /* GET by the health probe; 2xx = healthy */

    char *jwt_secret;
    char *jwt_secret_previous;
    char *jwt_algorithm;
    char *jwt_public_key_file;
    long jwt_leeway;
    char *jwt_required_claims;    /* comma-separated claims a token must carry */
    char *response_redact_fields; /* comma-separated response fields never sent */

    bool rate_limit_enabled;
    double rate_limit_rps;
    long rate_limit_burst;
    double rate_limit_tenant_rps; /* 0 = per-tenant limit off */
    long rate_limit_tenant_burst;
    long rate_limit_table_size;
    long rate_limit_cleanup_interval;
    long rate_limit_idle_timeout;
    char *rate_limit_tenants_file;
    char *rate_limit_scope;           /* "local" or "global" (worker/limit_global.c) */
    bool rate_limit_global;           /* derived: RATE_LIMIT_SCOPE=global */
    long rate_limit_global_lease;     /* tokens of credit per host and key; 0 = 10% of the burst */
    gw_tenant_limits_t tenant_limits; /* parsed RATE_LIMIT_TENANTS_FILE */
    gw_cidr_list_t trusted_proxies;
    gw_cidr_list_t admin_allow;

    long max_request_size;
    long max_response_size;     /* largest backend reply we accept (gRPC receive limit) */
    long max_uri_size;          /* request-target bytes past which we answer 414 */
    long revocation_table_size; /* segment record of recent logouts (Redis-loss safety) */
    double request_timeout;     /* seconds */

    char *redis_url;
    bool redis_fail_open;
    long cache_ttl;
    long cache_max_body;

    bool enable_metrics;
    bool enable_tracing;
    char *jaeger_url;
    double trace_sample_ratio;

    bool circuit_breaker_enabled;
    double cb_failure_ratio;
    long cb_min_requests;
    long cb_interval;
    long cb_open_timeout;
    long cb_half_open_max_requests;

    char *tls_cert_file;
    char *tls_key_file;
    char *cors_allowed_origins;
    long shutdown_timeout;
    gw_log_level_t log_level;
} gw_config_t;

/* Load defaults, then `file` (may be NULL), then the environment; validate,
 * then build the API (cfg->api: descriptor sets, routes, upstreams).
 * Returns 0, or -1 with one line naming the key and the problem in err. */
int gw_config_load(gw_config_t *cfg, const char *file, char *err, size_t errlen);

/* Like gw_config_load but reads KEY=VALUE text from memory (fuzzing, tests);
 * the environment is not consulted and no API is built (cfg->api stays NULL). */
int gw_config_load_text(gw_config_t *cfg, const char *text, size_t len, char *err, size_t errlen);

void gw_config_free(gw_config_t *cfg);

/* Number of workers to start: WORKERS, or the CPU count for auto. */
/* "host:port" with a port in 1..65535 (the gRPC upstream form). */
bool gw_config_is_host_port(const char *s);

long gw_config_worker_count(const gw_config_t *cfg);

/* Print every key with its effective value (secrets masked) to stdout, for -t -v. */
void gw_config_dump(const gw_config_t *cfg);

const char *gw_log_level_name(gw_log_level_t level);

#endif
