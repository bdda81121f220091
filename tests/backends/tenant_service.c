/*
 * demo-backend: tenant.TenantService handlers for tenants and their
 * members (CRUD with unique name and domain, paginated list, add/remove
 * user), and the service definition that also routes the configuration
 * RPCs of tenant_config.c.
 */
#include <string.h>

#include "tests/backends/backend.h"
#include "tests/backends/tenant_config.h"
#include "tests/backends/tenant_store.h"
#include "tests/backends/util.h"

struct tenant_rec *require_tenant(call_t *c, const char *tenant_id)
{
    struct tenant_rec *t;
    if (str_empty(tenant_id)) {
        call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "tenant_id is required");
        return NULL;
    }
    if ((t = tenant_store_get(tenant_id)) == NULL)
        call_error(c, GRPC_STATUS_NOT_FOUND, "tenant not found");
    return t;
}

static grpc_status_code do_create(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__CreateTenantRequest *req = (const void *)m;
    Tenant__CreateTenantResponse *resp = call_new_msg(c, &tenant__create_tenant_response__descriptor);
    grpc_status_code st = GRPC_STATUS_OK;
    if (str_empty(req->name))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "name is required");
    tenant_store_lock();
    if (tenant_store_by_name(req->name) != NULL)
        st = call_error(c, GRPC_STATUS_ALREADY_EXISTS, "tenant with this name already exists");
    else if (tenant_store_by_domain(req->domain) != NULL)
        st = call_error(c, GRPC_STATUS_ALREADY_EXISTS, "tenant with this domain already exists");
    else
        resp->tenant = tenant_to_pb(c, tenant_store_create(req->name, req->domain, req->subscription_tier));
    tenant_store_unlock();
    *out = &resp->base;
    return st;
}

static grpc_status_code do_get(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__GetTenantRequest *req = (const void *)m;
    Tenant__GetTenantResponse *resp = call_new_msg(c, &tenant__get_tenant_response__descriptor);
    struct tenant_rec *t;
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL)
        resp->tenant = tenant_to_pb(c, t);
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

static grpc_status_code do_list(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__ListTenantsRequest *req = (const void *)m;
    Tenant__ListTenantsResponse *resp = call_new_msg(c, &tenant__list_tenants_response__descriptor);
    int32_t page = req->page, page_size = req->page_size;
    const ptrvec_t *all;
    size_t from, to;
    page_normalize(&page, &page_size);
    tenant_store_lock();
    all = tenant_store_all();
    page_range(page, page_size, all->n, &from, &to);
    resp->tenants = call_ptrs(c, to - from);
    for (size_t i = from; i < to; i++)
        resp->tenants[resp->n_tenants++] = tenant_to_pb(c, all->v[i]);
    resp->total = (int32_t)all->n;
    tenant_store_unlock();
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

/* Name/domain conflicts with another tenant. */
static grpc_status_code check_unique(call_t *c, const struct tenant_rec *t, const char *name,
                                     const char *domain)
{
    const struct tenant_rec *other = str_empty(name) ? NULL : tenant_store_by_name(name);
    if (other != NULL && other != t)
        return call_error(c, GRPC_STATUS_ALREADY_EXISTS, "tenant with this name already exists");
    other = tenant_store_by_domain(domain);
    if (other != NULL && other != t)
        return call_error(c, GRPC_STATUS_ALREADY_EXISTS, "tenant with this domain already exists");
    return GRPC_STATUS_OK;
}

static grpc_status_code do_update(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__UpdateTenantRequest *req = (const void *)m;
    Tenant__UpdateTenantResponse *resp = call_new_msg(c, &tenant__update_tenant_response__descriptor);
    struct tenant_rec *t;
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL &&
        check_unique(c, t, req->name, req->domain) == GRPC_STATUS_OK) {
        if (!str_empty(req->name))
            tenant_store_set_name(t, req->name);
        if (!str_empty(req->domain))
            tenant_store_set_domain(t, req->domain);
        if (!str_empty(req->subscription_tier))
            set_str(&t->tier, req->subscription_tier);
        now_rfc3339(t->updated_at);
        resp->tenant = tenant_to_pb(c, t);
    }
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

static grpc_status_code do_delete(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__DeleteTenantRequest *req = (const void *)m;
    Tenant__DeleteTenantResponse *resp = call_new_msg(c, &tenant__delete_tenant_response__descriptor);
    struct tenant_rec *t;
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL)
        tenant_store_delete(t);
    tenant_store_unlock();
    resp->success = t != NULL;
    *out = &resp->base;
    return call_status(c);
}

static grpc_status_code do_add_user(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__AddUserToTenantRequest *req = (const void *)m;
    Tenant__AddUserToTenantResponse *resp = call_new_msg(c, &tenant__add_user_to_tenant_response__descriptor);
    struct tenant_rec *t;
    if (str_empty(req->tenant_id))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "tenant_id is required");
    if (str_empty(req->user_id))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "user_id is required");
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL) {
        if (tenant_member(t, req->user_id) != NULL) {
            call_error(c, GRPC_STATUS_ALREADY_EXISTS, "user is already a member of this tenant");
        } else {
            tenant_add_member(t, req->user_id, req->role);
            resp->success = 1;
        }
    }
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

static grpc_status_code do_remove_user(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const Tenant__RemoveUserFromTenantRequest *req = (const void *)m;
    Tenant__RemoveUserFromTenantResponse *resp =
        call_new_msg(c, &tenant__remove_user_from_tenant_response__descriptor);
    struct tenant_rec *t;
    if (str_empty(req->tenant_id))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "tenant_id is required");
    if (str_empty(req->user_id))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "user_id is required");
    tenant_store_lock();
    if ((t = require_tenant(c, req->tenant_id)) != NULL) {
        if (tenant_remove_member(t, req->user_id))
            resp->success = 1;
        else
            call_error(c, GRPC_STATUS_NOT_FOUND, "user is not a member of this tenant");
    }
    tenant_store_unlock();
    *out = &resp->base;
    return call_status(c);
}

static int tenant_init(void)
{
    tenant_store_init();
    return 0;
}

static const struct rpc_method tenant_methods[] = {
    {"CreateTenant", do_create},
    {"GetTenant", do_get},
    {"ListTenants", do_list},
    {"UpdateTenant", do_update},
    {"DeleteTenant", do_delete},
    {"AddUserToTenant", do_add_user},
    {"RemoveUserFromTenant", do_remove_user},
    {"GetTenantConfig", tenant_get_config},
    {"UpdateTenantConfig", tenant_update_config},
    {"GetDefaultService", tenant_get_default_service},
    {"GetServiceConfig", tenant_get_service_config},
    {"UpdateServiceConfig", tenant_update_service_config},
    {"GetServiceURL", tenant_get_service_url},
    {"ListTenantServices", tenant_list_services},
    {"GetServiceHealth", tenant_get_service_health},
    {NULL, NULL},
};

const struct service_def tenant_service_def = {
    .desc = &tenant__tenant_service__descriptor,
    .methods = tenant_methods,
    .init = tenant_init,
    .fini = tenant_store_fini,
};
