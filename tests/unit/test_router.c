/*
 * Route table and matcher: every route of docs/API.md, Routes resolves to the right template
 * and method, variables are captured without allocation, literals win over
 * variables, 404 and 405 carry the right endpoint and Allow set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/route.h"

static const gw_route_t *match(gw_method_t m, const char *path, gw_match_t *out)
{
    gw_match_t local;
    gw_match_t *mm = out ? out : &local;
    return gw_router_match(m, path, strlen(path), mm) == GW_MATCH_OK ? mm->route : NULL;
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
        assert_string_equal(gw_router_endpoint_name(m.endpoint), cases[i].tmpl);
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
    assert_int_equal(gw_router_match(GW_METHOD_GET, "/nope", 5, &m), GW_MATCH_NOT_FOUND);
    assert_string_equal(gw_router_endpoint_name(m.endpoint), "unmatched");
    assert_int_equal(gw_router_match(GW_METHOD_GET, "/api/v1/users/a/b/c", 19, &m), GW_MATCH_NOT_FOUND);
    const char *p = "/api/v1/users/u1";
    assert_int_equal(gw_router_match(GW_METHOD_PATCH, p, strlen(p), &m), GW_MATCH_BAD_METHOD);
    assert_string_equal(gw_router_endpoint_name(m.endpoint), "/api/v1/users/{user_id}");
    assert_int_equal(m.allowed, (1u << GW_METHOD_GET) | (1u << GW_METHOD_PUT) | (1u << GW_METHOD_DELETE));
    /* Trailing and doubled slashes do not make a different route. */
    assert_non_null(match(GW_METHOD_GET, "/api/v1/users/", NULL));
    assert_non_null(match(GW_METHOD_GET, "//health", NULL));
    /* Deep paths do not overflow the segment array. */
    assert_int_equal(gw_router_match(GW_METHOD_GET, "/a/b/c/d/e/f/g/h/i/j/k", 22, &m), GW_MATCH_NOT_FOUND);
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
}

static int setup(void **state)
{
    (void)state;
    gw_router_init();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_spec_route),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_not_found_and_bad_method),
        cmocka_unit_test(test_route_flags),
    };
    return cmocka_run_group_tests_name("router", tests, setup, NULL);
}
