/*
 * The API a generation serves: the descriptor set (core/descset.h), the
 * upstreams (GRPC_UPSTREAMS and the *_SERVICE_URL shorthands, plus the HTTP
 * proxy), and the route table built from every method's google.api.http
 * bindings, the built-in endpoints and the proxy routes, with the policy keys
 * applied (PUBLIC_METHODS, METHOD_ROLES, CACHE_METHODS; the logout hook on
 * auth.AuthService/Logout).
 *
 * Built by gw_config_load (core/config.c) in the master at start and on every
 * SIGHUP, so a bad descriptor set or a route conflict fails the load and the
 * running generation keeps its API. The master then binds it to the segment
 * (master/api_bind.c: service and endpoint slots) before forking workers,
 * which inherit it and only read it. Everything it points to lives until
 * gw_api_free.
 */
#ifndef GW_API_H
#define GW_API_H

#include <stdio.h>

#include "core/descset.h"
#include "core/route.h"

struct gw_config;
struct gw_router;

typedef struct gw_api {
    gw_descset_t *descs;
    gw_route_t *routes; /* built-ins first, then gRPC routes in descriptor order, then the proxy */
    size_t nroutes;
    gw_upstream_t *upstreams; /* gRPC services that have routes, then the HTTP proxy (last) */
    size_t nupstreams;
    struct gw_router *router; /* compiled templates (core/router.c) */
    void *arena;              /* strings the table owns (core/api.c) */
} gw_api_t;

/* Build the API from cfg's PROTO_DESCRIPTOR_SET (or the bundled set),
 * GRPC_UPSTREAMS, the service URLs and the policy keys. Returns NULL with a
 * one-line error naming the key, file or method, e.g.
 *   PROTO_DESCRIPTOR_SET: /etc/api-gateway/billing.pb: No such file or directory
 *   route conflict: GET /v1/items/{id} is bound by a.A/Get and b.B/Fetch
 *   GRPC_UPSTREAMS: no upstream for billing.v1.Billing (it has routes)
 */
gw_api_t *gw_api_load(const struct gw_config *cfg, char *err, size_t errlen);
void gw_api_free(gw_api_t *api);

/* The upstream serving the HTTP proxy routes (always present). */
const gw_upstream_t *gw_api_proxy_upstream(const gw_api_t *api);

/* The route table as `-t` prints it: one line per route, then "N routes":
 *   route GET /api/v1/users/{user_id} rpc=user.UserService/GetUser
 *     upstream=user-service auth=jwt roles=any cache=on        (one line)
 *   route GET /health builtin=health auth=public
 *   route GET /api/v1/notifications proxy upstream=notification-service auth=jwt
 * auth is public, jwt or admin-allow; roles=any or a|b; body= and
 * response_body= follow only when the binding sets them. */
void gw_api_print(const gw_api_t *api, FILE *out);

#endif
