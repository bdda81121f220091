/*
 * Route table and matcher. The bundled API (the bundled descriptor set and
 * the default policy keys, core/api.c): every route of docs/API.md, Routes
 * resolves to the right template, method and RPC with today's flags and
 * roles. Templates (core/router.c): variables are captured without
 * allocation, literals win over variables, "*", "**", multi-segment and
 * nested variables, verbs, 404 and 405 with the right Allow set, and the
 * precise errors for bad templates and conflicts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/api.h"
#include "core/config.h"
#include "core/router.h"

static gw_config_t cfg;

static const gw_route_t *match(gw_method_t m, const char *path, gw_match_t *out)
{
    gw_match_t local;
    gw_match_t *mm = out ? out : &local;
    return gw_router_match(cfg.api, m, path, strlen(path), mm) == GW_MATCH_OK ? mm->route : NULL;
}

static void test_every_spec_route(void **state)
{
    (void)state;
    static const struct {
        gw_method_t m;
        const char *path, *tmpl, *rpc;
    } cases[] = {
        {GW_METHOD_POST, "/api/v1/auth/register", "/api/v1/auth/register", "/auth.AuthService/Register"},
        {GW_METHOD_POST, "/api/v1/auth/login", "/api/v1/auth/login", "/auth.AuthService/Login"},
        {GW_METHOD_POST, "/api/v1/auth/refresh", "/api/v1/auth/refresh", "/auth.AuthService/RefreshToken"},
        {GW_METHOD_POST, "/api/v1/auth/logout", "/api/v1/auth/logout", "/auth.AuthService/Logout"},
        {GW_METHOD_POST, "/api/v1/users", "/api/v1/users", "/user.UserService/CreateUser"},
        {GW_METHOD_GET, "/api/v1/users", "/api/v1/users", "/user.UserService/ListUsers"},
        {GW_METHOD_GET, "/api/v1/users/search", "/api/v1/users/search", "/user.UserService/SearchUsers"},
        {GW_METHOD_GET, "/api/v1/users/u1", "/api/v1/users/{user_id}", "/user.UserService/GetUser"},
        {GW_METHOD_PUT, "/api/v1/users/u1", "/api/v1/users/{user_id}", "/user.UserService/UpdateUser"},
        {GW_METHOD_DELETE, "/api/v1/users/u1", "/api/v1/users/{user_id}", "/user.UserService/DeleteUser"},
        {GW_METHOD_POST, "/api/v1/tenants", "/api/v1/tenants", "/tenant.TenantService/CreateTenant"},
        {GW_METHOD_GET, "/api/v1/tenants", "/api/v1/tenants", "/tenant.TenantService/ListTenants"},
        {GW_METHOD_GET, "/api/v1/tenants/t1", "/api/v1/tenants/{tenant_id}",
         "/tenant.TenantService/GetTenant"},
        {GW_METHOD_PUT, "/api/v1/tenants/t1", "/api/v1/tenants/{tenant_id}",
         "/tenant.TenantService/UpdateTenant"},
        {GW_METHOD_DELETE, "/api/v1/tenants/t1", "/api/v1/tenants/{tenant_id}",
         "/tenant.TenantService/DeleteTenant"},
        {GW_METHOD_POST, "/api/v1/tenants/t1/users", "/api/v1/tenants/{tenant_id}/users",
         "/tenant.TenantService/AddUserToTenant"},
        {GW_METHOD_DELETE, "/api/v1/tenants/t1/users/u1", "/api/v1/tenants/{tenant_id}/users/{user_id}",
         "/tenant.TenantService/RemoveUserFromTenant"},
        {GW_METHOD_POST, "/api/v1/notifications/email", "/api/v1/notifications/email", NULL},
        {GW_METHOD_POST, "/api/v1/notifications/webhook", "/api/v1/notifications/webhook", NULL},
        {GW_METHOD_GET, "/api/v1/notifications", "/api/v1/notifications", NULL},
        {GW_METHOD_GET, "/api/v1/notifications/n1", "/api/v1/notifications/{id}", NULL},
        {GW_METHOD_GET, "/health", "/health", NULL},
        {GW_METHOD_HEAD, "/ready", "/ready", NULL},
        {GW_METHOD_POST, "/admin/breakers/user-service/reset", "/admin/breakers/{service}/reset", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_match_t m;
        const gw_route_t *r = match(cases[i].m, cases[i].path, &m);
        assert_non_null(r);
        assert_string_equal(r->tmpl, cases[i].tmpl);
        if (cases[i].rpc != NULL)
            assert_string_equal(r->rpc, cases[i].rpc);
    }
}

static void test_variables(void **state)
{
    (void)state;
    gw_match_t m;
    const gw_route_t *r = match(GW_METHOD_DELETE, "/api/v1/tenants/acme/users/42", &m);
    assert_non_null(r);
    assert_int_equal(m.nvars, 2);
    assert_int_equal(m.vars[0].name_len, strlen("tenant_id"));
    assert_memory_equal(m.vars[0].name, "tenant_id", 9);
    assert_memory_equal(m.vars[0].value, "acme", 4);
    assert_memory_equal(m.vars[1].name, "user_id", 7);
    assert_memory_equal(m.vars[1].value, "42", 2);
}

static void test_not_found_and_bad_method(void **state)
{
    (void)state;
    gw_match_t m;
    assert_int_equal(gw_router_match(cfg.api, GW_METHOD_GET, "/nope", 5, &m), GW_MATCH_NOT_FOUND);
    assert_int_equal(m.endpoint, GW_ENDPOINT_UNMATCHED);
    assert_int_equal(gw_router_match(cfg.api, GW_METHOD_GET, "/api/v1/users/a/b/c", 19, &m),
                     GW_MATCH_NOT_FOUND);
    const char *p = "/api/v1/users/u1";
    assert_int_equal(gw_router_match(cfg.api, GW_METHOD_PATCH, p, strlen(p), &m), GW_MATCH_BAD_METHOD);
    assert_int_equal(m.allowed, (1u << GW_METHOD_GET) | (1u << GW_METHOD_PUT) | (1u << GW_METHOD_DELETE));
    /* Trailing and doubled slashes do not make a different route. */
    assert_non_null(match(GW_METHOD_GET, "/api/v1/users/", NULL));
    assert_non_null(match(GW_METHOD_GET, "//health", NULL));
    /* Deep paths do not overflow the segment array. */
    assert_int_equal(gw_router_match(cfg.api, GW_METHOD_GET, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", 36, &m),
                     GW_MATCH_NOT_FOUND);
}

static void test_route_flags(void **state)
{
    (void)state;
    assert_false(match(GW_METHOD_POST, "/api/v1/auth/login", NULL)->flags & GW_RF_AUTH);
    assert_true(match(GW_METHOD_POST, "/api/v1/auth/logout", NULL)->flags & GW_RF_AUTH);
    assert_true(match(GW_METHOD_GET, "/api/v1/users", NULL)->flags & GW_RF_AUTH);
    assert_true(match(GW_METHOD_GET, "/debug/shm", NULL)->flags & GW_RF_ADMIN);
    assert_true(match(GW_METHOD_GET, "/metrics", NULL)->flags & GW_RF_NO_LIMIT);
    assert_string_equal(match(GW_METHOD_DELETE, "/api/v1/users/x", NULL)->roles[0], "admin");
    assert_null(match(GW_METHOD_GET, "/api/v1/users/x", NULL)->roles[0]);
    assert_true(match(GW_METHOD_GET, "/api/v1/users/x", NULL)->flags & GW_RF_CACHE);
    assert_true(match(GW_METHOD_PUT, "/api/v1/users/x", NULL)->flags & GW_RF_INVALIDATE);
    assert_false(match(GW_METHOD_POST, "/api/v1/auth/login", NULL)->flags & (GW_RF_CACHE | GW_RF_INVALIDATE));
    assert_true(match(GW_METHOD_POST, "/api/v1/auth/logout", NULL)->flags & GW_RF_LOGOUT);
    assert_string_equal(match(GW_METHOD_POST, "/api/v1/users", NULL)->body, "*");
    assert_null(match(GW_METHOD_GET, "/api/v1/users", NULL)->body);
    assert_string_equal(match(GW_METHOD_GET, "/api/v1/users", NULL)->upstream->label, "user-service");
    /* ListTenants is cached and has no tenant_id: the tenant service's cache
     * index is shared by all tenants; every cached user method is scoped */
    assert_true(match(GW_METHOD_GET, "/api/v1/tenants", NULL)->upstream->cache_shared);
    assert_false(match(GW_METHOD_GET, "/api/v1/users", NULL)->upstream->cache_shared);
    assert_string_equal(match(GW_METHOD_GET, "/api/v1/notifications", NULL)->upstream->label,
                        "notification-service");
}

/* ---- templates, on hand-made route tables --------------------------------- */

#define R(m, t)                                                                                              \
    {                                                                                                        \
        .method = GW_METHOD_##m, .tmpl = t, .kind = GW_ROUTE_BUILTIN                                         \
    }

static gw_api_t *table(const gw_route_t *routes, size_t n, char *err, size_t errlen)
{
    gw_api_t *api = calloc(1, sizeof(*api));
    api->routes = (gw_route_t *)routes;
    api->nroutes = n;
    api->router = gw_router_build(routes, n, err, errlen);
    if (api->router == NULL) {
        free(api);
        return NULL;
    }
    return api;
}

static void drop(gw_api_t *api)
{
    gw_router_free(api->router);
    free(api);
}

static void expect_var(const gw_match_t *m, size_t i, const char *name, const char *value)
{
    assert_true(i < m->nvars);
    assert_int_equal(m->vars[i].name_len, strlen(name));
    assert_memory_equal(m->vars[i].name, name, strlen(name));
    assert_int_equal(m->vars[i].value_len, strlen(value));
    assert_memory_equal(m->vars[i].value, value, strlen(value));
}

static const gw_route_t *tmatch(gw_api_t *api, gw_method_t method, const char *path, gw_match_t *m)
{
    return gw_router_match(api, method, path, strlen(path), m) == GW_MATCH_OK ? m->route : NULL;
}

static void test_template_wildcards_and_verbs(void **state)
{
    (void)state;
    static const gw_route_t routes[] = {
        R(GET, "/v1/{name=invoices/*}"),     R(POST, "/v1/{name=invoices/*}:cancel"),
        R(GET, "/files/{path=**}"),          R(GET, "/v1/shelves/{shelf.id}/books/{book}"),
        R(GET, "/v1/invoices/latest"),       R(GET, "/raw/*/x"),
        R(PATCH, "/v1/{item.name=items/*}"),
    };
    char err[256];
    gw_api_t *api = table(routes, sizeof(routes) / sizeof(routes[0]), err, sizeof(err));
    assert_non_null(api);
    gw_match_t m;
    assert_ptr_equal(tmatch(api, GW_METHOD_GET, "/v1/invoices/7", &m), &routes[0]);
    expect_var(&m, 0, "name", "invoices/7");
    assert_ptr_equal(tmatch(api, GW_METHOD_POST, "/v1/invoices/7:cancel", &m), &routes[1]);
    expect_var(&m, 0, "name", "invoices/7");
    /* The verb is not part of the variable, and a different verb is no match. */
    assert_null(tmatch(api, GW_METHOD_POST, "/v1/invoices/7:refund", &m));
    assert_ptr_equal(tmatch(api, GW_METHOD_GET, "/files/a/b/c.txt", &m), &routes[2]);
    expect_var(&m, 0, "path", "a/b/c.txt");
    assert_ptr_equal(tmatch(api, GW_METHOD_GET, "/files", &m), &routes[2]);
    expect_var(&m, 0, "path", "");
    assert_ptr_equal(tmatch(api, GW_METHOD_GET, "/v1/shelves/s1/books/b2", &m), &routes[3]);
    expect_var(&m, 0, "shelf.id", "s1");
    expect_var(&m, 1, "book", "b2");
    /* Literals win over a wildcard of the same length. */
    assert_ptr_equal(tmatch(api, GW_METHOD_GET, "/v1/invoices/latest", &m), &routes[4]);
    assert_ptr_equal(tmatch(api, GW_METHOD_GET, "/raw/anything/x", &m), &routes[5]);
    assert_int_equal(m.nvars, 0);
    assert_null(tmatch(api, GW_METHOD_GET, "/v1/orders/7", &m));
    assert_ptr_equal(tmatch(api, GW_METHOD_PATCH, "/v1/items/9", &m), &routes[6]);
    expect_var(&m, 0, "item.name", "items/9");
    /* 405 lists the shape's methods. */
    assert_int_equal(gw_router_match(api, GW_METHOD_DELETE, "/v1/invoices/7", 14, &m), GW_MATCH_BAD_METHOD);
    assert_int_equal(m.allowed, 1u << GW_METHOD_GET);
    drop(api);
}

static void test_template_errors(void **state)
{
    (void)state;
    static const struct {
        const char *tmpl, *why;
    } cases[] = {
        {"v1/x", "must start with '/'"},
        {"/v1/{x", "unterminated variable"},
        {"/v1/{x=a/{y}}", "variables cannot nest"},
        {"/v1/**/x", "\"**\" must be the last segment"},
        {"/v1/{1x}", "bad variable name"},
        {"/v1//x", "empty segment"},
        {"/v1/x/", "trailing '/'"},
        {"/v1/{a}/{a}", "a field is bound twice"},
        {"/v1/a b", "bad literal segment"},
        /* 16 segments, then a variable: refused before it is stored (the
         * fuzzer found it written one past the array) */
        {"/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/{x}", "too many segments"},
        {"/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", "too many segments"},
        {"/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "too many variables"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_route_t r = {.method = GW_METHOD_GET,
                        .tmpl = cases[i].tmpl,
                        .kind = GW_ROUTE_GRPC,
                        .method_name = "billing.v1.Billing/Get"};
        char err[256] = "", want[256];
        assert_null(gw_router_build(&r, 1, err, sizeof(err)));
        snprintf(want, sizeof(want), "billing.v1.Billing/Get: bad path template \"%s\": %s", cases[i].tmpl,
                 cases[i].why);
        assert_string_equal(err, want);
    }
}

static void test_conflicts(void **state)
{
    (void)state;
    gw_route_t routes[] = {
        {.method = GW_METHOD_GET, .tmpl = "/v1/items/{id}", .kind = GW_ROUTE_GRPC, .method_name = "a.A/Get"},
        {.method = GW_METHOD_GET,
         .tmpl = "/v1/items/{name}",
         .kind = GW_ROUTE_GRPC,
         .method_name = "b.B/Fetch"},
    };
    char err[256];
    assert_null(gw_router_build(routes, 2, err, sizeof(err)));
    assert_string_equal(err, "route conflict: GET /v1/items/{name} is bound by a.A/Get and b.B/Fetch");
    /* Same shape, other method: one group, no conflict; a built-in is a route too. */
    routes[1].method = GW_METHOD_DELETE;
    gw_router_t *rt = gw_router_build(routes, 2, err, sizeof(err));
    assert_non_null(rt);
    gw_router_free(rt);
    gw_route_t health[] = {
        R(GET, "/health"),
        {.method = GW_METHOD_GET, .tmpl = "/health", .kind = GW_ROUTE_GRPC, .method_name = "x.X/Health"}};
    assert_null(gw_router_build(health, 2, err, sizeof(err)));
    assert_string_equal(err, "route conflict: GET /health is bound by built-in and x.X/Health");
}

static int setup(void **state)
{
    (void)state;
    char err[GW_CONFIG_ERR_MAX];
    setenv("JWT_SECRET", "unit-test-secret-unit-test-secret", 1);
    if (gw_config_load(&cfg, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "config: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_config_free(&cfg);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_spec_route),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_not_found_and_bad_method),
        cmocka_unit_test(test_route_flags),
        cmocka_unit_test(test_template_wildcards_and_verbs),
        cmocka_unit_test(test_template_errors),
        cmocka_unit_test(test_conflicts),
    };
    return cmocka_run_group_tests_name("router", tests, setup, teardown);
}
