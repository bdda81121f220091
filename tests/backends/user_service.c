/*
 * demo-backend: user.UserService handlers over the in-memory user store:
 * CRUD, paginated list and search, tenant memberships, lookup by identifier
 * and token verification.
 *
 * Tenant isolation (the model a real backend copies): every call acts on
 * one tenant, the request's tenant_id or else the x-tenant-id metadata; a
 * call with neither is INVALID_ARGUMENT "tenant_id is required". A user who
 * is not a member of that tenant does not exist for the call (NOT_FOUND
 * "user not found"), list and search return only its members, and update
 * and delete act only within it (delete drops the membership; the record
 * goes with the last one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/backends/backend.h"
#include "tests/backends/jwt_tokens.h"
#include "tests/backends/user_store.h"
#include "tests/backends/util.h"

/* The tenant the call acts on: the request's tenant_id (`field`, NULL for
 * messages without one), else the x-tenant-id metadata; NULL with the
 * call's status set when there is neither. */
static const char *call_tenant(call_t *c, const char *field)
{
    const char *md;
    if (!str_empty(field))
        return field;
    md = call_metadata(c, "x-tenant-id");
    if (!str_empty(md))
        return md;
    call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "tenant_id is required");
    return NULL;
}

/* The user, if a member of `tenant` (store locked by the caller); NULL with
 * the call's status set if none. */
static struct user_rec *require_user(call_t *c, const char *tenant, const char *user_id)
{
    struct user_rec *u;
    if (str_empty(user_id)) {
        call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "user_id is required");
        return NULL;
    }
    if ((u = user_store_get(user_id)) == NULL || !user_in_tenant(u, tenant)) {
        call_error(c, GRPC_STATUS_NOT_FOUND, "user not found");
        return NULL;
    }
    return u;
}

static grpc_status_code do_create(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__CreateUserRequest *req = (const void *)m;
    User__CreateUserResponse *resp = call_new_msg(c, &user__create_user_response__descriptor);
    User__CreateUserRequest scoped = *req;
    struct user_rec *u;
    if ((scoped.tenant_id = (char *)call_tenant(c, req->tenant_id)) == NULL)
        return call_status(c);
    if (str_empty(req->email))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "email is required");
    if (!valid_email(req->email))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "invalid email");
    user_store_lock();
    u = user_store_create(&scoped);
    if (u != NULL)
        resp->user = user_to_pb(c, u);
    user_store_unlock();
    if (u == NULL)
        return call_error(c, GRPC_STATUS_ALREADY_EXISTS, "user with this email already exists");
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

static grpc_status_code do_get(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__GetUserRequest *req = (const void *)m;
    User__GetUserResponse *resp = call_new_msg(c, &user__get_user_response__descriptor);
    const char *tenant = call_tenant(c, req->tenant_id);
    struct user_rec *u;
    if (tenant == NULL)
        return call_status(c);
    user_store_lock();
    if ((u = require_user(c, tenant, req->user_id)) != NULL)
        resp->user = user_to_pb(c, u);
    user_store_unlock();
    *out = &resp->base;
    return u ? GRPC_STATUS_OK : call_status(c);
}

static bool matches_query(const struct user_rec *u, const char *q)
{
    return str_empty(q) || contains_ci(u->email, q) || contains_ci(u->username, q) ||
           contains_ci(u->first_name, q) || contains_ci(u->last_name, q);
}

/* Members of tenant matching q, page [page, page_size]. */
static User__User **select_users(call_t *c, const char *tenant, const char *q, int32_t page,
                                 int32_t page_size, size_t *n_out, int32_t *total)
{
    User__User **v = call_ptrs(c, (size_t)page_size);
    const ptrvec_t *all;
    size_t from = (size_t)(page - 1) * (size_t)page_size, matched = 0, n = 0;
    user_store_lock();
    all = user_store_all();
    for (size_t i = 0; i < all->n; i++) {
        const struct user_rec *u = all->v[i];
        if (!user_in_tenant(u, tenant) || !matches_query(u, q))
            continue;
        if (matched >= from && n < (size_t)page_size)
            v[n++] = user_to_pb(c, u);
        matched++;
    }
    user_store_unlock();
    *n_out = n;
    *total = (int32_t)matched;
    return v;
}

static grpc_status_code do_list(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__ListUsersRequest *req = (const void *)m;
    User__ListUsersResponse *resp = call_new_msg(c, &user__list_users_response__descriptor);
    const char *tenant = call_tenant(c, req->tenant_id);
    if (tenant == NULL)
        return call_status(c);
    resp->page = req->page;
    resp->page_size = req->page_size;
    page_normalize(&resp->page, &resp->page_size);
    resp->users = select_users(c, tenant, "", resp->page, resp->page_size, &resp->n_users, &resp->total);
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

static grpc_status_code do_search(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__SearchUsersRequest *req = (const void *)m;
    User__SearchUsersResponse *resp = call_new_msg(c, &user__search_users_response__descriptor);
    const char *tenant = call_tenant(c, req->tenant_id);
    int32_t page = req->page, page_size = req->page_size;
    if (tenant == NULL)
        return call_status(c);
    page_normalize(&page, &page_size);
    resp->users = select_users(c, tenant, req->query, page, page_size, &resp->n_users, &resp->total);
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

static grpc_status_code do_update(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__UpdateUserRequest *req = (const void *)m;
    User__UpdateUserResponse *resp = call_new_msg(c, &user__update_user_response__descriptor);
    const char *tenant = call_tenant(c, req->tenant_id);
    struct user_rec *u;
    if (tenant == NULL)
        return call_status(c);
    user_store_lock();
    if ((u = require_user(c, tenant, req->user_id)) != NULL) {
        if (!str_empty(req->first_name))
            set_str(&u->first_name, req->first_name);
        if (!str_empty(req->last_name))
            set_str(&u->last_name, req->last_name);
        if (!str_empty(req->phone))
            set_str(&u->phone, req->phone);
        if (!str_empty(req->avatar_url))
            set_str(&u->avatar_url, req->avatar_url);
        now_rfc3339(u->updated_at);
        resp->user = user_to_pb(c, u);
    }
    user_store_unlock();
    *out = &resp->base;
    return u ? GRPC_STATUS_OK : call_status(c);
}

static grpc_status_code do_delete(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__DeleteUserRequest *req = (const void *)m;
    User__DeleteUserResponse *resp = call_new_msg(c, &user__delete_user_response__descriptor);
    const char *tenant = call_tenant(c, req->tenant_id);
    struct user_rec *u;
    if (tenant == NULL)
        return call_status(c);
    user_store_lock();
    if ((u = require_user(c, tenant, req->user_id)) != NULL) {
        user_remove_membership(u, tenant); /* other tenants keep their member */
        if (u->n_tenants == 0)
            user_store_delete(u);
    }
    user_store_unlock();
    resp->success = u != NULL;
    *out = &resp->base;
    return u ? GRPC_STATUS_OK : call_status(c);
}

static grpc_status_code do_get_tenants(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__GetUserTenantsRequest *req = (const void *)m;
    User__GetUserTenantsResponse *resp = call_new_msg(c, &user__get_user_tenants_response__descriptor);
    const char *tenant = call_tenant(c, NULL);
    struct user_rec *u;
    if (tenant == NULL)
        return call_status(c);
    user_store_lock();
    if ((u = require_user(c, tenant, req->user_id)) != NULL) {
        /* only the caller's own membership: the others name other tenants */
        resp->tenants = call_ptrs(c, 1);
        resp->tenants[resp->n_tenants++] = membership_to_pb(c, u, user_membership(u, tenant));
    }
    user_store_unlock();
    *out = &resp->base;
    return u ? GRPC_STATUS_OK : call_status(c);
}

static grpc_status_code do_add_tenant(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__AddUserToTenantRequest *req = (const void *)m;
    User__AddUserToTenantResponse *resp = call_new_msg(c, &user__add_user_to_tenant_response__descriptor);
    static char *const default_roles[] = {"user"};
    const char *caller = call_metadata(c, "x-tenant-id");
    struct user_rec *u;
    grpc_status_code st = GRPC_STATUS_OK;
    if (str_empty(req->tenant_id))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "tenant_id is required");
    /* the user must be visible to the caller's tenant (x-tenant-id), or the
     * call would pull another tenant's user in; no metadata: the target */
    user_store_lock();
    if ((u = require_user(c, str_empty(caller) ? req->tenant_id : caller, req->user_id)) == NULL) {
        st = call_status(c);
    } else if (user_membership(u, req->tenant_id) != NULL) {
        st = call_error(c, GRPC_STATUS_ALREADY_EXISTS, "user is already a member of this tenant");
    } else {
        struct membership *mb = user_add_membership(
            u, req->tenant_id, req->n_roles ? req->roles : default_roles, req->n_roles ? req->n_roles : 1);
        resp->user_tenant = membership_to_pb(c, u, mb);
        resp->success = 1;
    }
    user_store_unlock();
    *out = &resp->base;
    return st;
}

static grpc_status_code do_remove_tenant(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__RemoveUserFromTenantRequest *req = (const void *)m;
    User__RemoveUserFromTenantResponse *resp =
        call_new_msg(c, &user__remove_user_from_tenant_response__descriptor);
    struct user_rec *u;
    grpc_status_code st = GRPC_STATUS_OK;
    if (str_empty(req->tenant_id))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "tenant_id is required");
    user_store_lock();
    if ((u = require_user(c, req->tenant_id, req->user_id)) == NULL)
        st = call_status(c);
    else if (!user_remove_membership(u, req->tenant_id))
        st = call_error(c, GRPC_STATUS_NOT_FOUND, "user is not a member of this tenant");
    user_store_unlock();
    resp->success = st == GRPC_STATUS_OK;
    *out = &resp->base;
    return st;
}

static bool known_identifier_type(const char *t)
{
    static const char *const types[] = {"", "email", "username", "phone", "document_number", "id"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return false;
}

static grpc_status_code do_by_identifier(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__GetUserByIdentifierRequest *req = (const void *)m;
    User__GetUserByIdentifierResponse *resp =
        call_new_msg(c, &user__get_user_by_identifier_response__descriptor);
    const char *tenant = call_tenant(c, req->tenant_id);
    struct user_rec *u;
    if (tenant == NULL)
        return call_status(c);
    if (str_empty(req->identifier))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "identifier is required");
    if (!known_identifier_type(req->identifier_type))
        return call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "invalid identifier_type");
    user_store_lock();
    u = user_store_find(tenant, req->identifier, req->identifier_type);
    if (u != NULL) {
        resp->user = user_to_pb(c, u);
        resp->tenants = call_ptrs(c, 1);
        resp->tenants[resp->n_tenants++] = membership_to_pb(c, u, user_membership(u, tenant));
    }
    user_store_unlock();
    if (u == NULL)
        return call_error(c, GRPC_STATUS_NOT_FOUND, "user not found");
    *out = &resp->base;
    return GRPC_STATUS_OK;
}

/* Tenant ids of the token's tenant_id claim and the user's memberships. */
static char **token_tenants(call_t *c, const json_t *claims, const char *user_id, size_t *n)
{
    const char *claim_tenant = claim_str(claims, "tenant_id");
    struct user_rec *u;
    char **v;
    user_store_lock();
    u = user_store_get(user_id);
    v = call_ptrs(c, 1 + (u ? u->n_tenants : 0));
    *n = 0;
    if (*claim_tenant)
        v[(*n)++] = call_strdup(c, claim_tenant);
    for (size_t i = 0; u != NULL && i < u->n_tenants; i++)
        if (strcmp(u->tenants[i].tenant_id, claim_tenant) != 0)
            v[(*n)++] = call_strdup(c, u->tenants[i].tenant_id);
    user_store_unlock();
    return v;
}

static const char *token_role(const json_t *claims)
{
    const json_t *roles = json_object_get(claims, "roles");
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        if (json_is_string(r) && strcmp(json_string_value(r), "admin") == 0)
            return "admin";
    }
    return json_is_string(json_array_get(roles, 0)) ? json_string_value(json_array_get(roles, 0)) : "user";
}

static User__VerifyTokenResponse__ClaimsEntry **claims_entries(call_t *c, const json_t *claims, size_t *n)
{
    User__VerifyTokenResponse__ClaimsEntry **v = call_ptrs(c, json_object_size(claims));
    const ProtobufCMessageDescriptor *d = &user__verify_token_response__claims_entry__descriptor;
    const char *key;
    json_t *val;
    *n = 0;
    json_object_foreach((json_t *)claims, key, val)
    {
        char *text = json_is_string(val) ? NULL : json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
        v[(*n)++] = call_map_entry(c, d, key, text ? text : json_string_value(val));
        free(text);
    }
    return v;
}

static grpc_status_code do_verify_token(call_t *c, const ProtobufCMessage *m, ProtobufCMessage **out)
{
    const User__VerifyTokenRequest *req = (const void *)m;
    User__VerifyTokenResponse *resp = call_new_msg(c, &user__verify_token_response__descriptor);
    const char *err, *uid;
    json_t *claims = jwt_verify_hs256(req->token, g_opts.jwt_secret, &err);
    *out = &resp->base;
    if (claims == NULL)
        return GRPC_STATUS_OK;
    uid = claim_str(claims, "user_id");
    if (*uid == '\0')
        uid = claim_str(claims, "sub");
    resp->user_id = call_strdup(c, uid);
    resp->tenant_ids = token_tenants(c, claims, uid, &resp->n_tenant_ids);
    resp->role = call_strdup(c, token_role(claims));
    resp->claims = claims_entries(c, claims, &resp->n_claims);
    resp->valid = 1;
    if (!str_empty(req->tenant_id) && strcmp(resp->role, "admin") != 0) {
        resp->valid = 0;
        for (size_t i = 0; i < resp->n_tenant_ids; i++)
            resp->valid |= strcmp(resp->tenant_ids[i], req->tenant_id) == 0;
    }
    json_decref(claims);
    return GRPC_STATUS_OK;
}

static int user_init(void)
{
    user_store_init();
    return 0;
}

static const struct rpc_method user_methods[] = {
    {"CreateUser", do_create},
    {"GetUser", do_get},
    {"ListUsers", do_list},
    {"UpdateUser", do_update},
    {"DeleteUser", do_delete},
    {"SearchUsers", do_search},
    {"GetUserTenants", do_get_tenants},
    {"AddUserToTenant", do_add_tenant},
    {"RemoveUserFromTenant", do_remove_tenant},
    {"GetUserByIdentifier", do_by_identifier},
    {"VerifyToken", do_verify_token},
    {NULL, NULL},
};

const struct service_def user_service_def = {
    .desc = &user__user_service__descriptor,
    .methods = user_methods,
    .init = user_init,
    .fini = user_store_fini,
};
