/*
 * The gateway's routes (docs/API.md, Routes). Order matters only for readability: the
 * matcher picks the template that matches segment by segment, literals
 * before variables ("/users/search" before "/users/{user_id}").
 *
 * Roles: mutations of tenants and user deletion need an admin role; the
 * list of all tenants too. Everything under /api/v1 except register, login
 * and refresh needs a valid token.
 */
#include "core/route.h"

#include "proto/pb.h"

const char *const gw_service_names[GW_SVC_COUNT] = {"auth-service", "user-service", "tenant-service",
                                                    "notification-service"};

#define ADMIN_ROLES                                                                                          \
    {                                                                                                        \
        "admin", "super_admin", NULL                                                                         \
    }

#define GRPC(m, t, f, svc, rpcname, in, out, ...)                                                            \
    {                                                                                                        \
        .method = GW_METHOD_##m, .tmpl = t, .kind = GW_ROUTE_GRPC, .flags = f, .service = svc,               \
        .rpc = rpcname, .input = &in##__descriptor, .output = &out##__descriptor, ##__VA_ARGS__              \
    }
#define PROXY(m, t)                                                                                          \
    {                                                                                                        \
        .method = GW_METHOD_##m, .tmpl = t, .kind = GW_ROUTE_PROXY, .flags = GW_RF_AUTH,                     \
        .service = GW_SVC_NOTIFICATION                                                                       \
    }
#define BUILTIN(m, t, f, fn)                                                                                 \
    {                                                                                                        \
        .method = GW_METHOD_##m, .tmpl = t, .kind = GW_ROUTE_BUILTIN, .flags = f, .builtin = fn              \
    }

const gw_route_t gw_routes[] = {
    BUILTIN(GET, "/health", GW_RF_NO_LIMIT, GW_BUILTIN_HEALTH),
    BUILTIN(GET, "/ready", GW_RF_NO_LIMIT, GW_BUILTIN_READY),
    BUILTIN(GET, "/metrics", GW_RF_NO_LIMIT | GW_RF_METRICS, GW_BUILTIN_METRICS),
    BUILTIN(GET, "/debug/workers", GW_RF_ADMIN | GW_RF_NO_LIMIT, GW_BUILTIN_DEBUG_WORKERS),
    BUILTIN(GET, "/debug/shm", GW_RF_ADMIN | GW_RF_NO_LIMIT, GW_BUILTIN_DEBUG_SHM),
    BUILTIN(GET, "/admin/breakers", GW_RF_ADMIN | GW_RF_NO_LIMIT, GW_BUILTIN_ADMIN_BREAKERS),
    BUILTIN(POST, "/admin/breakers/{service}/reset", GW_RF_ADMIN | GW_RF_NO_LIMIT,
            GW_BUILTIN_ADMIN_BREAKER_RESET),

    GRPC(POST, "/api/v1/auth/register", 0, GW_SVC_AUTH, "/auth.AuthService/Register", auth__register_request,
         auth__register_response),
    GRPC(POST, "/api/v1/auth/login", 0, GW_SVC_AUTH, "/auth.AuthService/Login", auth__login_request,
         auth__login_response),
    GRPC(POST, "/api/v1/auth/refresh", 0, GW_SVC_AUTH, "/auth.AuthService/RefreshToken",
         auth__refresh_token_request, auth__refresh_token_response),
    GRPC(POST, "/api/v1/auth/logout", GW_RF_AUTH | GW_RF_LOGOUT, GW_SVC_AUTH, "/auth.AuthService/Logout",
         auth__logout_request, auth__logout_response),

    GRPC(POST, "/api/v1/users", GW_RF_AUTH | GW_RF_INVALIDATE, GW_SVC_USER, "/user.UserService/CreateUser",
         user__create_user_request, user__create_user_response),
    GRPC(GET, "/api/v1/users", GW_RF_AUTH | GW_RF_CACHE, GW_SVC_USER, "/user.UserService/ListUsers",
         user__list_users_request, user__list_users_response),
    GRPC(GET, "/api/v1/users/search", GW_RF_AUTH | GW_RF_CACHE, GW_SVC_USER, "/user.UserService/SearchUsers",
         user__search_users_request, user__search_users_response),
    GRPC(GET, "/api/v1/users/{user_id}", GW_RF_AUTH | GW_RF_CACHE, GW_SVC_USER, "/user.UserService/GetUser",
         user__get_user_request, user__get_user_response),
    GRPC(PUT, "/api/v1/users/{user_id}", GW_RF_AUTH | GW_RF_INVALIDATE, GW_SVC_USER,
         "/user.UserService/UpdateUser", user__update_user_request, user__update_user_response),
    GRPC(DELETE, "/api/v1/users/{user_id}", GW_RF_AUTH | GW_RF_INVALIDATE, GW_SVC_USER,
         "/user.UserService/DeleteUser", user__delete_user_request, user__delete_user_response,
         .roles = ADMIN_ROLES),

    GRPC(POST, "/api/v1/tenants", GW_RF_AUTH | GW_RF_INVALIDATE, GW_SVC_TENANT,
         "/tenant.TenantService/CreateTenant", tenant__create_tenant_request, tenant__create_tenant_response,
         .roles = ADMIN_ROLES),
    GRPC(GET, "/api/v1/tenants", GW_RF_AUTH | GW_RF_CACHE, GW_SVC_TENANT, "/tenant.TenantService/ListTenants",
         tenant__list_tenants_request, tenant__list_tenants_response, .roles = ADMIN_ROLES),
    GRPC(GET, "/api/v1/tenants/{tenant_id}", GW_RF_AUTH | GW_RF_CACHE, GW_SVC_TENANT,
         "/tenant.TenantService/GetTenant", tenant__get_tenant_request, tenant__get_tenant_response),
    GRPC(PUT, "/api/v1/tenants/{tenant_id}", GW_RF_AUTH | GW_RF_INVALIDATE, GW_SVC_TENANT,
         "/tenant.TenantService/UpdateTenant", tenant__update_tenant_request, tenant__update_tenant_response,
         .roles = ADMIN_ROLES),
    GRPC(DELETE, "/api/v1/tenants/{tenant_id}", GW_RF_AUTH | GW_RF_INVALIDATE, GW_SVC_TENANT,
         "/tenant.TenantService/DeleteTenant", tenant__delete_tenant_request, tenant__delete_tenant_response,
         .roles = ADMIN_ROLES),
    GRPC(POST, "/api/v1/tenants/{tenant_id}/users", GW_RF_AUTH | GW_RF_INVALIDATE, GW_SVC_TENANT,
         "/tenant.TenantService/AddUserToTenant", tenant__add_user_to_tenant_request,
         tenant__add_user_to_tenant_response, .roles = ADMIN_ROLES),
    GRPC(DELETE, "/api/v1/tenants/{tenant_id}/users/{user_id}", GW_RF_AUTH | GW_RF_INVALIDATE, GW_SVC_TENANT,
         "/tenant.TenantService/RemoveUserFromTenant", tenant__remove_user_from_tenant_request,
         tenant__remove_user_from_tenant_response, .roles = ADMIN_ROLES),

    PROXY(POST, "/api/v1/notifications/email"),
    PROXY(POST, "/api/v1/notifications/webhook"),
    PROXY(GET, "/api/v1/notifications"),
    PROXY(GET, "/api/v1/notifications/{id}"),
};

const size_t gw_nroutes = sizeof(gw_routes) / sizeof(gw_routes[0]);
