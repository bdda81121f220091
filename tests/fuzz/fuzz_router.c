/*
 * libFuzzer target for the path router (core/router.c): the first byte
 * picks the method, the rest is the request path. The table mixes the
 * bundled API's routes with templates using every feature ("*", "**",
 * multi-segment and nested variables, verbs). Checks the matcher's
 * promises: variables point inside the path, a single-segment variable holds
 * no '/', and a match's route belongs to the table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/api.h"
#include "core/router.h"

#define R(m, t)                                                                                              \
    {                                                                                                        \
        .method = GW_METHOD_##m, .tmpl = t, .kind = GW_ROUTE_BUILTIN                                         \
    }

static const gw_route_t routes[] = {
    R(GET, "/api/v1/users"),
    R(GET, "/api/v1/users/search"),
    R(GET, "/api/v1/users/{user_id}"),
    R(DELETE, "/api/v1/tenants/{tenant_id}/users/{user_id}"),
    R(GET, "/v1/{name=invoices/*}"),
    R(POST, "/v1/{name=invoices/*}:cancel"),
    R(GET, "/files/{path=**}"),
    R(GET, "/v1/shelves/{shelf.id}/books/{book}"),
    R(GET, "/raw/*/x/**"),
    R(PUT, "/v1/{a.b.c=x/*/y/*}:do"),
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gw_api_t api;
    if (api.router == NULL) {
        char err[256];
        api.routes = (gw_route_t *)routes;
        api.nroutes = NROUTES;
        if ((api.router = gw_router_build(routes, NROUTES, err, sizeof(err))) == NULL)
            abort();
    }
    if (size == 0)
        return 0;
    gw_method_t method = (gw_method_t)(data[0] % GW_METHOD_COUNT);
    const char *path = (const char *)data + 1;
    size_t len = size - 1;
    gw_match_t m;
    if (gw_router_match(&api, method, path, len, &m) != GW_MATCH_OK)
        return 0;
    if (m.route < routes || m.route >= routes + NROUTES)
        abort();
    bool multi = strchr(m.route->tmpl, '=') != NULL;
    for (size_t i = 0; i < m.nvars; i++) {
        const gw_path_var_t *v = &m.vars[i];
        if (v->value < path || v->value + v->value_len > path + len)
            abort();
        if (!multi && (v->value_len == 0 || memchr(v->value, '/', v->value_len) != NULL))
            abort();
    }
    return 0;
}
