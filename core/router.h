/*
 * The route matcher's build side (core/router.c): core/api.c compiles the
 * route table's templates into a gw_router_t once per load; the match side,
 * gw_router_match, is declared in core/route.h for the workers.
 */
#ifndef GW_ROUTER_H
#define GW_ROUTER_H

#include <stddef.h>

#include "core/route.h"

#define GW_ROUTER_ERR_MAX 256

typedef struct gw_router gw_router_t;

/* Compile `routes` (kept by pointer: they must outlive the router). Returns
 * NULL with a one-line error naming the route, e.g.
 *   billing.v1.Billing/Get: bad path template "/v1/{x": unterminated variable
 *   route conflict: GET /v1/items/{id} is bound by a.A/Get and b.B/Get */
gw_router_t *gw_router_build(const gw_route_t *routes, size_t nroutes, char *err, size_t errlen);
void gw_router_free(gw_router_t *rt);

/* The field paths route `route`'s template binds, in template order (into
 * fields, at most max); the strings live as long as the router. */
size_t gw_router_vars(const gw_router_t *rt, size_t route, const char **fields, size_t max);

/* Who a route belongs to, for errors and -t: "user.UserService/GetUser",
 * "built-in", "notification proxy". */
const char *gw_route_owner(const gw_route_t *r);

#endif
