/*
 * The route table and its matcher. Routes are static data (core/route_table.c):
 * method + path template → what serves it (a built-in, named by id and
 * mapped to its handler by worker/builtin.c; a gRPC method; or the
 * notification HTTP proxy), whether a JWT is needed, which roles, and the
 * metric endpoint label (the template, never the raw path). In core/ because
 * both processes use it: workers match requests, the master names metrics.
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

typedef enum { GW_SVC_AUTH = 0, GW_SVC_USER, GW_SVC_TENANT, GW_SVC_NOTIFICATION, GW_SVC_COUNT } gw_service_t;

extern const char *const gw_service_names[GW_SVC_COUNT]; /* "auth-service", ... */

/* Service slots in the segment (shm/names.h): breakers, health results and
 * backend metrics are sized by this. Slots 0..3 are the four services above
 * (interned in that order when the segment is made). */
#define GW_SVC_MAX 16

/* Endpoint slot 0 is "unmatched" (404s and requests h2o refused early). */
#define GW_ENDPOINT_UNMATCHED 0

enum {
    GW_RF_AUTH = 1 << 0,       /* a valid JWT is required */
    GW_RF_ADMIN = 1 << 1,      /* only from ADMIN_ALLOW */
    GW_RF_NO_LIMIT = 1 << 2,   /* not rate limited (/health, /ready, /metrics) */
    GW_RF_CACHE = 1 << 3,      /* GET response may be cached */
    GW_RF_INVALIDATE = 1 << 4, /* PUT/DELETE drops cached entries of the resource */
    GW_RF_LOGOUT = 1 << 5,     /* blacklist the token's jti after the backend call */
    GW_RF_METRICS = 1 << 6,    /* served only when ENABLE_METRICS=true */
};

#define GW_ROUTE_MAX_VARS  4
#define GW_ROUTE_MAX_ROLES 4

typedef struct gw_route {
    gw_method_t method;
    const char *tmpl; /* "/api/v1/users/{user_id}" */
    gw_route_kind_t kind;
    unsigned flags;
    gw_service_t service;                     /* GRPC, PROXY */
    const char *rpc;                          /* GRPC: "/user.UserService/GetUser" */
    const ProtobufCMessageDescriptor *input;  /* GRPC */
    const ProtobufCMessageDescriptor *output; /* GRPC */
    const char *roles[GW_ROUTE_MAX_ROLES];    /* any of these (NULL-terminated); none = any */
    gw_builtin_t builtin;                     /* BUILTIN */
} gw_route_t;

typedef struct {
    const char *name; /* points into the template, length name_len */
    size_t name_len;
    const char *value; /* points into the request path, length value_len (still %-encoded) */
    size_t value_len;
} gw_path_var_t;

typedef enum { GW_MATCH_OK, GW_MATCH_NOT_FOUND, GW_MATCH_BAD_METHOD } gw_match_result_t;

typedef struct {
    const gw_route_t *route; /* OK */
    gw_path_var_t vars[GW_ROUTE_MAX_VARS];
    size_t nvars;
    unsigned endpoint; /* OK and BAD_METHOD: the template's endpoint slot; NOT_FOUND: unmatched's */
    unsigned allowed;  /* BAD_METHOD: bit set of gw_method_t that the template accepts */
} gw_match_t;

/* Compile the table (split templates, endpoint indices); call once per process. */
void gw_router_init(void);

/* Match `path` (no query string) for `method`. HEAD matches GET routes. */
gw_match_result_t gw_router_match(gw_method_t method, const char *path, size_t len, gw_match_t *m);

/* Endpoint labels: gw_router_endpoint_name(i) for i < count; the last index
 * is "unmatched". The master interns each in the segment's names table and
 * binds the index to that slot (master/api_bind.c) before forking; from then
 * on gw_router_match's m->endpoint and gw_router_unmatched_endpoint() are
 * slots (unbound, in tests: the index itself). */
unsigned gw_router_endpoint_count(void);
const char *gw_router_endpoint_name(unsigned endpoint);
unsigned gw_router_unmatched_endpoint(void);
void gw_router_bind_endpoint(unsigned endpoint, unsigned slot);

extern const gw_route_t gw_routes[];
extern const size_t gw_nroutes;

#endif
