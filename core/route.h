/*
 * A route: method + path template -> what serves it (a built-in, named by id
 * and mapped to its handler by worker/builtin.c; a gRPC method from the
 * descriptor set; or the notification HTTP proxy), whether a JWT is needed,
 * which roles, and the metric endpoint (the template, never the raw path).
 * The table itself is built at start and on every SIGHUP by core/api.c from
 * the descriptor set's google.api.http options and the policy keys; the
 * matcher is core/router.c. In core/ because both processes use it: workers
 * match requests, the master prints the table (-t) and names metrics.
 *
 * Matching walks the request path once, compares segment by segment and
 * records path variables as pointers into the path: no allocation.
 */
#ifndef GW_ROUTE_H
#define GW_ROUTE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/method.h"

typedef enum { GW_ROUTE_BUILTIN, GW_ROUTE_GRPC, GW_ROUTE_PROXY } gw_route_kind_t;

/* Built-in endpoints, served by the worker (worker/builtin.c maps each to its
 * handler): the table names them so that core/ does not point into worker/. */
typedef enum {
    GW_BUILTIN_NONE = 0,
    GW_BUILTIN_HEALTH,
    GW_BUILTIN_READY,
    GW_BUILTIN_METRICS,
    GW_BUILTIN_DEBUG_WORKERS,
    GW_BUILTIN_DEBUG_SHM,
    GW_BUILTIN_ADMIN_BREAKERS,
    GW_BUILTIN_ADMIN_BREAKER_RESET,
    GW_BUILTIN_COUNT
} gw_builtin_t;

/* Service slots (shm/names.h) that exist whatever the descriptor set says:
 * the HTTP proxy's upstream keeps slot 3 so its breaker, health and metric
 * rows stay where they were. The bundled gRPC services take slots 0-2 when
 * they are configured (their labels are interned first). */
#define GW_SVC_NOTIFICATION 3
/* Their labels, interned in this order when the segment is made
 * (shm/names.c) and given to the upstreams by core/api*.c. */
#define GW_SVC_LABEL_AUTH         "auth-service"
#define GW_SVC_LABEL_USER         "user-service"
#define GW_SVC_LABEL_TENANT       "tenant-service"
#define GW_SVC_LABEL_NOTIFICATION "notification-service"
#define GW_SVC_MAX                16 /* service slots in the segment: breakers, health, backend metrics */

enum {
    GW_RF_AUTH = 1 << 0,       /* a valid JWT is required */
    GW_RF_ADMIN = 1 << 1,      /* only from ADMIN_ALLOW */
    GW_RF_NO_LIMIT = 1 << 2,   /* not rate limited (/health, /ready, /metrics) */
    GW_RF_CACHE = 1 << 3,      /* GET response may be cached (CACHE_METHODS) */
    GW_RF_INVALIDATE = 1 << 4, /* PUT/POST/PATCH/DELETE drops cached entries of the resource */
    GW_RF_LOGOUT = 1 << 5,     /* blacklist the token's jti after the backend call */
    GW_RF_METRICS = 1 << 6,    /* served only when ENABLE_METRICS=true */
};

#define GW_ROUTE_MAX_VARS  8
#define GW_ROUTE_MAX_ROLES 8

/* Who serves a gRPC service or the HTTP proxy (GRPC_UPSTREAMS and the
 * *_SERVICE_URL shorthands). Owned by the gw_api_t. */
typedef struct gw_upstream {
    const char *service; /* gRPC service full name ("user.UserService"); NULL for the HTTP proxy */
    const char *label;   /* metrics/breaker/health/log label: "user-service", "billing.v1.Billing" */
    const char *target;  /* gRPC host:port, or the proxy's http://host:port */
    unsigned slot;       /* index into the segment's service tables (< GW_SVC_MAX); set by the master */
    bool cache_shared;   /* a cached method of it has no TENANT_FIELD: its data is seen across tenants,
                            so one cache index serves every tenant (worker/cache.c) */
} gw_upstream_t;

typedef struct gw_route {
    gw_method_t method;
    const char *tmpl; /* the path template as written: "/api/v1/users/{user_id}" (metric label) */
    gw_route_kind_t kind;
    unsigned flags;
    unsigned endpoint;                        /* index into the segment's endpoint names; set by the master */
    const gw_upstream_t *upstream;            /* GRPC, PROXY */
    const char *rpc;                          /* GRPC: "/user.UserService/GetUser" (the gRPC :path) */
    const char *method_name;                  /* GRPC: "user.UserService/GetUser" (policy keys, logs, -t) */
    const ProtobufCMessageDescriptor *input;  /* GRPC */
    const ProtobufCMessageDescriptor *output; /* GRPC */
    const char *body;          /* GRPC: NULL (no body), "*" (the whole input), or a field path */
    const char *response_body; /* GRPC: NULL (the whole output) or a field path */
    const ProtobufCFieldDescriptor *tenant_field; /* GRPC: the input's top-level TENANT_FIELD, or NULL */
    const char *roles[GW_ROUTE_MAX_ROLES + 1];    /* any of these (NULL-terminated); none = any */
    gw_builtin_t builtin;                         /* BUILTIN */
} gw_route_t;

typedef struct {
    const char *name; /* the variable's field path ("user_id", "a.b"), length name_len */
    size_t name_len;
    const char *value; /* points into the request path, length value_len; a
                          multi-segment variable keeps its '/' */
    size_t value_len;
} gw_path_var_t;

typedef enum { GW_MATCH_OK, GW_MATCH_NOT_FOUND, GW_MATCH_BAD_METHOD } gw_match_result_t;

typedef struct {
    const gw_route_t *route; /* OK */
    gw_path_var_t vars[GW_ROUTE_MAX_VARS];
    size_t nvars;
    unsigned endpoint; /* OK and BAD_METHOD: the template's endpoint slot; NOT_FOUND: GW_ENDPOINT_UNMATCHED */
    unsigned allowed;  /* BAD_METHOD (and OK): bit set of gw_method_t that the template accepts */
} gw_match_t;

/* Endpoint slot 0 is "unmatched" (404s and requests h2o refused early). */
#define GW_ENDPOINT_UNMATCHED 0

struct gw_api;

/* Match `path` (no query string) for `method` against the api's routes. HEAD
 * matches GET routes. No allocation; the vars point into `path`. */
gw_match_result_t gw_router_match(const struct gw_api *api, gw_method_t method, const char *path, size_t len,
                                  gw_match_t *m);

#endif
