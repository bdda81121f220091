/*
 * libFuzzer target for the path router (core/router.c). The first byte
 * picks the method and the mode:
 *   even  the rest is a request path, matched against a table that mixes
 *         the bundled API's routes with templates using every feature ("*",
 *         "**", multi-segment and nested variables, verbs);
 *   odd   the rest is "TEMPLATE\nPATH": the template is compiled (a bad one
 *         must fail with one line) and, if it compiles, the path matched.
 * Checks the matcher's promises: variables point inside the path, a
 * single-segment variable holds no '/', and a match's route is the table's.
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

static void check_vars(const gw_match_t *m, const char *path, size_t len, bool multi)
{
    for (size_t i = 0; i < m->nvars; i++) {
        const gw_path_var_t *v = &m->vars[i];
        if (v->value < path || v->value + v->value_len > path + len)
            abort();
        if (!multi && (v->value_len == 0 || memchr(v->value, '/', v->value_len) != NULL))
            abort();
    }
}

/* Mode odd: compile one template from the input, then match a path. */
static void one_template(gw_method_t method, const char *in, size_t len)
{
    const char *nl = memchr(in, '\n', len);
    size_t tlen = nl ? (size_t)(nl - in) : len;
    char *tmpl = strndup(in, tlen); /* a NUL inside ends the template early: fine */
    if (tmpl == NULL)
        return;
    gw_route_t r = {.method = method, .tmpl = tmpl, .kind = GW_ROUTE_GRPC, .method_name = "f.F/M"};
    char err[GW_ROUTER_ERR_MAX] = "";
    gw_router_t *rt = gw_router_build(&r, 1, err, sizeof(err));
    if (rt == NULL) {
        if (err[0] == '\0' || strchr(err, '\n') != NULL)
            abort();
    } else if (nl != NULL) {
        gw_api_t api = {.routes = &r, .nroutes = 1, .router = rt};
        gw_match_t m;
        const char *path = nl + 1;
        size_t plen = len - tlen - 1;
        if (gw_router_match(&api, method, path, plen, &m) == GW_MATCH_OK) {
            if (m.route != &r)
                abort();
            check_vars(&m, path, plen, true);
        }
    }
    gw_router_free(rt);
    free(tmpl);
}

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
    gw_method_t method = (gw_method_t)((data[0] >> 1) % GW_METHOD_COUNT);
    const char *path = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        one_template(method, path, len);
        return 0;
    }
    gw_match_t m;
    if (gw_router_match(&api, method, path, len, &m) != GW_MATCH_OK)
        return 0;
    if (m.route < routes || m.route >= routes + NROUTES)
        abort();
    check_vars(&m, path, len, strchr(m.route->tmpl, '=') != NULL);
    return 0;
}
