/*
 * Internals shared by core/api.c (the route table) and core/api_policy.c
 * (policy keys and upstreams). Not for use outside core/api*.c.
 */
#ifndef GW_API_INT_H
#define GW_API_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/api.h"
#include "core/config.h"

/* Strings owned by the api (its arena): freed by gw_api_free. NULL when out
 * of memory. */
char *gw_api_strndup(gw_api_t *api, const char *s, size_t n);
char *gw_api_strdup(gw_api_t *api, const char *s);

/* One parsed entry of a policy list: "pkg.Svc/Method" or "pkg.Svc/Method=value". */
typedef struct {
    const char *name;  /* arena-owned */
    const char *value; /* after '=', or NULL */
    bool used;         /* set by the route builder when a method matched it */
} gw_api_entry_t;

typedef struct {
    gw_api_entry_t *v;
    size_t n;
    const char *key; /* "PUBLIC_METHODS" */
    bool strict;     /* set by the operator: entries must name methods of the set */
} gw_api_list_t;

typedef struct {
    gw_api_list_t public_methods, method_roles, cache_methods, upstreams;
} gw_api_policy_t;

/* Parse the policy keys of cfg into p (arena-owned). Returns 0 or -1 (err). */
int gw_api_policy_parse(gw_api_t *api, const gw_config_t *cfg, gw_api_policy_t *p, char *err, size_t errlen);
void gw_api_policy_free(gw_api_policy_t *p);

/* The entry of `list` naming `method` ("pkg.Svc/Method" or, for
 * upstreams, "pkg.Svc"), or NULL. Marks it used. */
gw_api_entry_t *gw_api_policy_find(gw_api_list_t *list, const char *name);

/* After the routes are built: every entry of a strict list must have been
 * used. Returns 0 or -1 with "KEY: no method X in the descriptor set". */
int gw_api_policy_check_used(const gw_api_policy_t *p, char *err, size_t errlen);

/* The upstream of gRPC service `service` (full name), added on first use
 * from GRPC_UPSTREAMS or the *_SERVICE_URL shorthands. NULL with an error
 * when the service has none. */
gw_upstream_t *gw_api_upstream_for(gw_api_t *api, gw_api_policy_t *p, const gw_config_t *cfg,
                                   const char *service, char *err, size_t errlen);

#endif
